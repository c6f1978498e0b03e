"""Chapter 4's experiment: how fast the constructed networks approach the goal.

Nothing is trained in chapter 4; the networks are written down by
:mod:`nndl_core.universality`. What we measure is how the sup-norm error
on a fine grid falls as the number of bumps ``N`` (1-D) or towers per side
(2-D) grows, with and without the chapter's shifted copies (``M``).
The book gives no such table; its one number is the design challenge's
target ("average deviation 0.40 or below" with 5 bumps), shown beside our
optimal 5-bump score. Settings from the original's chapter 4 and its widgets
(http://neuralnetworksanddeeplearning.com/chap4.html).
"""

from dataclasses import dataclass

import numpy as np

from .. import universality as u
from . import BookFigure, Profile, experiment


@dataclass(frozen=True)
class ErrorVsNParams:
    """The grid of constructions to measure.

    ``ns_1d``/``ns_2d``: bump counts and towers per side; ``grid_1d``: points
    of the 1-D grid on [0, 1]; ``grid_2d``: points per side on the square;
    ``weight_per_bump``: the growing step weight is ``weight_per_bump * N``.
    """

    ns_1d: tuple
    ns_2d: tuple
    grid_1d: int
    grid_2d: int
    weight_per_bump: float = 100.0
    book_step_weight: float = u.STEP_WEIGHT


def _row_1d(n, params, x):
    def error(step_weight, n_shifts):
        net = u.approximate_1d(
            u.goal_function, n, step_weight=step_weight, n_shifts=n_shifts
        )
        return u.sup_error(net, u.goal_function, x)

    grown = params.weight_per_bump * n
    return {
        "n": n,
        "w1000_m1": error(params.book_step_weight, 1),
        "wN_m1": error(grown, 1),
        "wN_m4": error(grown, 4),
    }


def _row_2d(n, params, points):
    def error(n_shifts):
        net = u.approximate_2d(u.goal_function_2d, n, n_shifts=n_shifts)
        return u.sup_error(net, u.goal_function_2d, points)

    return {"n": n, "m1": error(1), "m4": error(4), "m_half_n": error(max(1, n // 2))}


def error_vs_n(params, seed, progress=None):
    """Sup-norm errors of the 1-D and 2-D constructions; ``seed`` is unused."""
    x = np.linspace(0.0, 1.0, params.grid_1d)
    g = np.linspace(0.0, 1.0, params.grid_2d)
    gx, gy = np.meshgrid(g, g, indexing="ij")
    points = np.column_stack([gx.ravel(), gy.ravel()])
    total = len(params.ns_1d) + len(params.ns_2d)
    rows_1d, rows_2d = [], []
    for n in params.ns_1d:
        rows_1d.append(_row_1d(n, params, x))
        if progress is not None:
            progress(len(rows_1d), total)
    for n in params.ns_2d:
        rows_2d.append(_row_2d(n, params, points))
        if progress is not None:
            progress(len(rows_1d) + len(rows_2d), total)
    best = u.design_solution()
    return {
        "rows_1d": rows_1d,
        "rows_2d": rows_2d,
        "design_heights": best.tolist(),
        "design_error": u.design_error(best),
    }


experiment(
    "ch4.error_vs_n",
    title="Sup-norm error of the bump and tower constructions against N",
    profiles={
        "ci": Profile(
            ErrorVsNParams(
                (5, 10, 20, 40, 80, 160, 320), (2, 4, 8, 16), grid_1d=2_001, grid_2d=51
            ),
            "coarser grids: 2,001 and 51 x 51 points",
        ),
        "default": Profile(
            ErrorVsNParams(
                (5, 10, 20, 40, 80, 160, 320),
                (2, 4, 8, 16),
                grid_1d=10_001,
                grid_2d=101,
            ),
            "N up to 320 (1-D) and 16 (2-D); 10,001 and 101 x 101 grid points",
        ),
        "full": Profile(
            ErrorVsNParams(
                (5, 10, 20, 40, 80, 160, 320, 640),
                (2, 4, 8, 16),
                grid_1d=100_001,
                grid_2d=201,
            ),
            "N up to 640 (1-D) and 16 (2-D); 100,001 and 201 x 201 grid points",
        ),
    },
    book=BookFigure(
        0.40,
        "design challenge: average deviation 0.40 or below with 5 bumps",
        "mean gap between logit f(x) and the bump height, x = 0, 0.01, ..., 0.99",
        "chap4, 'Universality with one input and one output'",
        key="design_error",
        unit="",
    ),
)(error_vs_n)
