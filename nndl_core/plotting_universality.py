"""Figures for chapter 4, and the Python twin of each interactive widget.

Every interactive figure on the page (``book/_static/widgets/universality.js``)
has a static version drawn here from the same network, for readers without
JavaScript and for print. :func:`widget_values` computes what a widget plots
for given slider values — the static figures draw it, and the browser tests
compare the live widget with it. Matplotlib is imported inside the drawing
functions only. Used in chap4.
"""

import numpy as np

from . import universality as u

__all__ = [
    "DESIGN_INIT",
    "GRID",
    "WIDGETS",
    "XS",
    "design_figure",
    "error_vs_n_figure",
    "fixup_figure",
    "line_figure",
    "network_diagram",
    "surface_figure",
    "widget_figure",
    "widget_values",
]

XS = np.linspace(0.0, 1.0, 201)
"""Where the 1-D widgets sample x (as ``linspace(0, 1, 201)`` in the JS)."""

GRID = np.linspace(0.0, 1.0, 41)
"""Where the 2-D widgets sample x and y."""

TOWER_STEPS = [0.4, 0.6, 0.3, 0.7]
TOWER_AXES = [0, 0, 1, 1]
TWO_TOWERS = [[[0.1, 0.35], [0.15, 0.45]], [[0.55, 0.85], [0.5, 0.8]]]
DESIGN_INIT = {"h1": -0.6, "h2": 1.2, "h3": 0.4, "h4": -1.3, "h5": 0.9}
"""Starting heights of the design challenge (the book draws random ones)."""

C1, C2, MARK = "#0969da", "#bf3989", "#9a6700"

WIDGETS = {
    "ch4-w-neuron": ("neuron", {"w": 8, "b": -4}, {}),
    "ch4-w-steep": ("neuron", {"w": 100, "b": -40}, {}),
    "ch4-w-step": ("step", {"s": 0.4}, {}),
    "ch4-w-pair": ("pair", {"s1": 0.4, "s2": 0.6, "w1": 0.6, "w2": 1.2}, {}),
    "ch4-w-bump": ("bumps", {"s1": 0.4, "t1": 0.6, "h1": 0.6}, {"bumps": 1}),
    "ch4-w-double-bump": (
        "bumps",
        {"s1": 0.4, "t1": 0.6, "h1": -1.2, "s2": 0.7, "t2": 0.9, "h2": 0.3},
        {"bumps": 2},
    ),
    "ch4-w-five-bumps": (
        "bumps",
        {"h1": 1.2, "h2": -0.3, "h3": 0.8, "h4": -1.1, "h5": 0.5},
        {
            "bumps": 5,
            "fixedSteps": [[0, 0.2], [0.2, 0.4], [0.4, 0.6], [0.6, 0.8], [0.8, 1]],
        },
    ),
    "ch4-w-design": ("design", DESIGN_INIT, {}),
    "ch4-w-approx": ("approx", {"n": 5, "logw": 3, "m": 1}, {}),
    "ch4-w-2d-neuron": ("surface", {"w1": 8, "w2": 0, "b": -5}, {"mode": "neuron"}),
    "ch4-w-xstep": ("surface", {"s": 0.5}, {"mode": "xstep"}),
    "ch4-w-ystep": ("surface", {"s": 0.5}, {"mode": "ystep"}),
    "ch4-w-xbump": ("surface", {"s1": 0.3, "s2": 0.7, "h": 0.6}, {"mode": "xbump"}),
    "ch4-w-ybump": ("surface", {"s1": 0.3, "s2": 0.7, "h": 0.6}, {"mode": "ybump"}),
    "ch4-w-xybump": ("surface", {"h": 0.3}, {"mode": "xybump"}),
    "ch4-w-tower": ("surface", {"h": 0.3, "b": -0.5}, {"mode": "tower"}),
    "ch4-w-two-towers": ("surface", {"w1": 0.7, "w2": 0.5}, {"mode": "twotowers"}),
    "ch4-w-towers": ("surface", {"n": 4, "m": 1}, {"mode": "towers"}),
    "ch4-w-ramp": ("neuron", {"w": 6, "b": -3}, {"activation": "sigmoid_like"}),
}
"""Every widget of the chapter: id -> (kind, initial slider values, config).

The page's raw-HTML blocks repeat these (the browser tests check that they
agree); the static figures are drawn from this table.
"""


def _pairs(state, config):
    n = config.get("bumps", 1)
    fixed = config.get("fixedSteps")
    pairs = [
        fixed[k] if fixed else [state[f"s{k + 1}"], state[f"t{k + 1}"]]
        for k in range(n)
    ]
    return pairs, [state[f"h{k + 1}"] for k in range(n)]


def _line_values(kind, s, config):
    """What the 1-D widget ``kind`` plots, for slider values ``s``."""
    if kind == "neuron":
        net = u.single_neuron(s["w"], s["b"], config.get("activation", "sigmoid"))
        return {"x": XS, "y": u.evaluate(net, XS)}
    if kind == "step":
        return {"x": XS, "y": u.evaluate(u.step_net(s["s"]), XS)}
    if kind == "pair":
        net = u.weighted_steps_net([s["s1"], s["s2"]], [s["w1"], s["w2"]])
        return {"x": XS, "y": u.evaluate(net, XS)}
    if kind == "bumps":
        pairs, heights = _pairs(s, config)
        return {"x": XS, "y": u.evaluate(u.bumps_net(pairs, heights), XS)}
    if kind == "design":
        pairs = np.column_stack([u.DESIGN_EDGES[:-1], u.DESIGN_EDGES[1:]])
        h = [s[f"h{k}"] for k in range(1, 6)]
        return {
            "x": XS,
            "hidden": u.evaluate(u.bumps_net(pairs, h), XS),
            "output": u.evaluate(u.bumps_net(pairs, h, output="sigmoid"), XS),
            "error": u.design_error(h),
        }
    if kind == "approx":
        w = 10.0 ** s["logw"]
        net = u.approximate_1d(
            u.goal_function, int(s["n"]), step_weight=w, n_shifts=int(s["m"])
        )
        y = u.evaluate(net, XS)
        return {
            "x": XS,
            "y": y,
            "error": float(np.max(np.abs(y - u.goal_function(XS)))),
        }
    raise ValueError(f"unknown widget {kind!r}")


def _surface_net(mode, s):
    """The network behind the 2-D widget in ``mode`` (slider values ``s``)."""
    if mode == "neuron":
        return u.single_neuron([s["w1"], s["w2"]], s["b"])
    if mode in ("xstep", "ystep"):
        return u.weighted_steps_net([s["s"]], [1.0], axes=[mode == "ystep"], n_in=2)
    if mode in ("xbump", "ybump"):
        axis = int(mode == "ybump")
        pos, w = [s["s1"], s["s2"]], [s["h"], -s["h"]]
        return u.weighted_steps_net(pos, w, axes=[axis, axis], n_in=2)
    h = s.get("h", 0.0)
    if mode == "xybump":
        return u.weighted_steps_net(
            TOWER_STEPS, [h, -h, h, -h], axes=TOWER_AXES, n_in=2
        )
    if mode == "tower":
        return u.weighted_steps_net(
            TOWER_STEPS,
            [h, -h, h, -h],
            axes=TOWER_AXES,
            n_in=2,
            output_bias=s["b"],
            output="sigmoid",
        )
    if mode == "twotowers":
        nets = [
            u.grid_towers_net(c, [[s[f"w{k + 1}"]]]) for k, c in enumerate(TWO_TOWERS)
        ]
        return u.parallel_sum(nets)
    if mode == "towers":
        return u.approximate_2d(u.goal_function_2d, int(s["n"]), n_shifts=int(s["m"]))
    raise ValueError(f"unknown surface mode {mode!r}")


def widget_values(kind, state, config=None):
    """What a widget plots for given slider values (the JS ``data-values``).

    Parameters
    ----------
    kind : str
        The widget's ``data-widget`` (``neuron``, ``step``, ``pair``, ``bumps``,
        ``design``, ``approx`` or ``surface``).
    state : dict
        Slider values by name, as in the widget's ``data-state``.
    config : dict, optional
        The widget's ``data-config`` (activation, number of bumps, 2-D mode...).

    Returns
    -------
    dict of ndarray
        1-D widgets: ``x`` (201,) and ``y`` (or ``hidden``/``output``);
        2-D widgets: ``x``, ``y`` (41,) and ``z`` of shape (41, 41), with
        ``z[i, j]`` the output at ``(x[i], y[j])``.
    """
    config = config or {}
    if kind != "surface":
        return _line_values(kind, state, config)
    net = _surface_net(config["mode"], state)
    gx, gy = np.meshgrid(GRID, GRID, indexing="ij")
    z = u.evaluate(net, np.column_stack([gx.ravel(), gy.ravel()])).reshape(gx.shape)
    out = {"x": GRID, "y": GRID, "z": z}
    if config["mode"] == "towers":
        want = u.goal_function_2d(np.column_stack([gx.ravel(), gy.ravel()]))
        out["error"] = float(np.max(np.abs(z - want.reshape(gx.shape))))
    return out


def line_figure(
    curves, *, y_range=None, markers=(), title=None, xlabel="x", size=(5.2, 3.0)
):
    """A small line plot: ``curves`` is a list of (x, y, label, style) tuples.

    ``style`` is ``"main"`` (solid blue) or ``"target"`` (dashed magenta).
    Returns the matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=size, layout="constrained")
    for x, y, label, style in curves:
        kw = (
            {"color": C2, "ls": "--", "lw": 1.8}
            if style == "target"
            else {"color": C1, "lw": 2.2}
        )
        ax.plot(x, y, label=label, **kw)
    for m in markers:
        ax.axvline(m, color=MARK, ls=":", lw=1.2)
    if y_range:
        ax.set_ylim(*y_range)
    ax.set_xlim(0, 1)
    ax.set_xlabel(xlabel)
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title, fontsize=10)
    if any(c[2] for c in curves):
        ax.legend(fontsize=8, loc="best")
    return fig


def surface_figure(z, *, z_range=(0, 1), title=None, size=(4.8, 3.8), ax=None):
    """A 3-D surface of ``z[i, j]`` over the 41 x 41 :data:`GRID`."""
    import matplotlib.pyplot as plt

    if ax is None:
        fig = plt.figure(figsize=size, layout="constrained")
        ax = fig.add_subplot(projection="3d")
    gx, gy = np.meshgrid(GRID, GRID, indexing="ij")
    ax.plot_surface(
        gx,
        gy,
        np.clip(z, *z_range),
        cmap="viridis",
        vmin=z_range[0],
        vmax=z_range[1],
        rstride=1,
        cstride=1,
        linewidth=0.1,
        edgecolor="k",
        alpha=0.95,
    )
    ax.set_zlim(*z_range)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.view_init(elev=30, azim=-135)
    if title:
        ax.set_title(title, fontsize=10)
    return ax.figure


def _describe_state(state):
    return ", ".join(f"{k} = {v:g}" for k, v in state.items())


def widget_figure(kind, state, config=None):
    """The static version of a widget at ``state``: same network, by matplotlib."""
    config = config or {}
    values = widget_values(kind, state, config)
    title = _describe_state(state)
    if kind == "surface":
        z_range = (
            (-1, 1)
            if config["mode"] in ("xbump", "ybump", "xybump", "twotowers")
            else (0, 1)
        )
        return surface_figure(values["z"], z_range=z_range, title=title)
    if kind == "design":
        return design_figure([state[f"h{k}"] for k in range(1, 6)])
    y_range = config.get("y", (-0.2, 1.2) if kind in ("neuron", "step") else (-3, 3))
    markers = []
    if kind == "neuron" and state["w"] != 0 and 0 <= -state["b"] / state["w"] <= 1:
        markers = [-state["b"] / state["w"]]
    curves = [(values["x"], values["y"], None, "main")]
    if kind == "approx":
        curves.insert(0, (XS, u.goal_function(XS), "goal f(x)", "target"))
        y_range = (0, 1.2)
    return line_figure(curves, y_range=y_range, markers=markers, title=title)


def design_figure(heights):
    """The design challenge: bumps vs logit(f) (left) and the output vs f (right)."""
    import matplotlib.pyplot as plt

    values = widget_values("design", {f"h{k + 1}": h for k, h in enumerate(heights)})
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.1), layout="constrained")
    left.plot(
        XS,
        u.logit(u.goal_function(XS)),
        "--",
        color=C2,
        lw=1.8,
        label=r"$\sigma^{-1}\circ f$",
    )
    left.plot(XS, values["hidden"], color=C1, lw=2.2, label="weighted hidden output")
    left.set_ylim(-3, 3)
    left.set_title(f"average deviation {values['error']:.2f}", fontsize=10)
    right.plot(XS, u.goal_function(XS), "--", color=C2, lw=1.8, label="f")
    right.plot(
        XS, values["output"], color=C1, lw=2.2, label=r"network output $\sigma(\sum)$"
    )
    right.set_ylim(0, 1)
    for ax in (left, right):
        ax.set_xlim(0, 1)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
        ax.set_xlabel("x")
    return fig


def fixup_figure(n_bumps=5, step_weight=300.0):
    """The chapter's fix in four panels: logit(f); bumps; half height; shifted."""
    import matplotlib.pyplot as plt

    g = u.logit(u.goal_function(XS))
    fig, axes = plt.subplots(1, 4, figsize=(12, 2.8), layout="constrained", sharey=True)
    panels = [
        (r"$\sigma^{-1}\circ f$", [], 1.0),
        (f"{n_bumps} bumps", [0.0], 1.0),
        ("half height", [0.0], 0.5),
        ("half height, shifted by half a bump", [0.5], 0.5),
    ]
    for ax, (title, shifts, scale) in zip(axes, panels, strict=True):
        ax.plot(XS, g * scale, "--", color=C2, lw=1.5)
        for shift in shifts:
            ax.plot(
                XS, scale * _logit_bumps(n_bumps, shift, step_weight), color=C1, lw=2
            )
        ax.set_title(title, fontsize=10)
        ax.set_xlim(0, 1)
        ax.grid(alpha=0.3)
    return fig


def _logit_bumps(n_bumps, shift, step_weight):
    """One copy's hidden output: bumps of height logit(f(midpoint)), shifted."""
    edges = u.shifted_edges(0.0, 1.0, n_bumps, shift)
    mids = np.clip((edges[:-1] + edges[1:]) / 2, 0.0, 1.0)
    net = u.bumps_net(
        np.column_stack([edges[:-1], edges[1:]]),
        u.logit(u.goal_function(mids)),
        step_weight=step_weight,
    )
    return u.evaluate(net, XS)


def error_vs_n_figure(rows_1d, rows_2d):
    """Sup-norm error against N (log-log), from the ``ch4.error_vs_n`` experiment."""
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.2), layout="constrained")
    for key, label in [
        ("w1000_m1", "w = 1000, M = 1"),
        ("wN_m1", "w = 100N, M = 1"),
        ("wN_m4", "w = 100N, M = 4"),
    ]:
        left.loglog(
            [r["n"] for r in rows_1d], [r[key] for r in rows_1d], "o-", label=label
        )
    left.set_title("1-D goal f: bumps", fontsize=10)
    for key, label in [("m1", "M = 1"), ("m4", "M = 4"), ("m_half_n", "M = N/2")]:
        right.loglog(
            [r["n"] for r in rows_2d], [r[key] for r in rows_2d], "s-", label=label
        )
    right.set_title("2-D hill: N x N towers", fontsize=10)
    for ax in (left, right):
        ax.set_xlabel("N")
        ax.set_ylabel("sup-norm error")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    return fig


def network_diagram(
    layers, *, labels=None, title=None, size=(3.6, 2.6), edge_labels=None
):
    """A plain network drawing: ``layers`` lists the neurons per layer.

    ``labels`` maps (layer, index) to a text drawn in the neuron;
    ``edge_labels`` maps ((layer, i), (layer + 1, j)) to a text on the edge.
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=size, layout="constrained")
    pos = {}
    for l, n in enumerate(layers):
        for i in range(n):
            pos[l, i] = (l, (n - 1) / 2 - i)
    for l in range(len(layers) - 1):
        for i in range(layers[l]):
            for j in range(layers[l + 1]):
                (x0, y0), (x1, y1) = pos[l, i], pos[l + 1, j]
                ax.plot([x0, x1], [y0, y1], color="#57606a", lw=0.8, zorder=1)
                text = (edge_labels or {}).get(((l, i), (l + 1, j)))
                if text:
                    ax.text(
                        x0 + 0.62 * (x1 - x0),
                        y0 + 0.62 * (y1 - y0),
                        text,
                        fontsize=8,
                        ha="center",
                        va="center",
                        bbox={"fc": "white", "ec": "none", "pad": 0.5},
                    )
    for (l, i), (x, y) in pos.items():
        ax.scatter(
            [x], [y], s=520, color="white", edgecolor="#24292f", zorder=2, lw=1.2
        )
        text = (labels or {}).get((l, i))
        if text:
            ax.text(x, y, text, ha="center", va="center", fontsize=8, zorder=3)
    ax.set_xlim(-0.5, len(layers) - 0.5)
    span = max(layers) / 2
    ax.set_ylim(-span - 0.2, span + 0.2)
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)
    return fig
