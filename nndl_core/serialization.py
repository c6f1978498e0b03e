"""Save and load a trained :class:`~nndl_core.network.Network` as JSON.

Used in chap3. The file is plain JSON (never pickle, which can run code when
loaded): a ``format`` name and ``version``, the layer ``sizes``, the
``cost`` and ``activation`` names, and the weights and biases as nested
lists. :func:`save` builds and checks the whole text before it touches the
target, then replaces the file in one step
(``nndl_core.atomic.write_text_atomic``), so a failed save leaves the
previous file as it was. :func:`load` trusts nothing in the file: it checks
every field, and each array's shape against ``sizes``, before it allocates
anything, and raises :class:`NetworkFileError` saying what is wrong.
"""

import json
import math

import numpy as np

from .activations import ACTIVATIONS
from .atomic import write_text_atomic
from .costs import COSTS

__all__ = [
    "FORMAT",
    "MAX_PARAMETERS",
    "VERSION",
    "NetworkFileError",
    "from_dict",
    "load",
    "save",
    "to_dict",
]

FORMAT = "nndl-network"
VERSION = 1
#: The most weights and biases :func:`load` accepts (800 MB of float64),
#: checked from ``sizes`` before anything is allocated.
MAX_PARAMETERS = 100_000_000


class NetworkFileError(ValueError):
    """A saved network is malformed, of an unknown version, or inconsistent."""


def to_dict(net):
    """The JSON-ready description of ``net``.

    Raises ValueError when ``net`` cannot be saved faithfully: a cost or an
    activation that :func:`load` would not know, or a weight or bias that is
    NaN or infinite (a diverged training; lower ``eta`` and train again).
    """
    cost = getattr(net.cost, "name", None)
    if COSTS.get(cost) is not net.cost:
        raise ValueError(
            f"cannot save a network whose cost is {net.cost!r}: only the costs "
            f"in nndl_core.costs.COSTS ({sorted(COSTS)}) can be loaded again"
        )
    if net.activation not in ACTIVATIONS:
        raise ValueError(f"cannot save the unknown activation {net.activation!r}")
    for kind, arrays in (("weights", net.weights), ("biases", net.biases)):
        for l, a in enumerate(arrays):  # noqa: E741
            if not np.isfinite(a).all():
                raise ValueError(
                    f"cannot save: {kind}[{l}] holds NaN or infinite values (the "
                    "training diverged; try a smaller eta); nothing was written"
                )
    return {
        "format": FORMAT,
        "version": VERSION,
        "sizes": [int(s) for s in net.sizes],
        "cost": cost,
        "activation": net.activation,
        "weights": [w.tolist() for w in net.weights],
        "biases": [b.tolist() for b in net.biases],
    }


def save(net, path):
    """Write ``net`` to ``path`` as JSON, replacing the file in one step.

    The text is built (and checked by :func:`to_dict`) before the file is
    opened, so a network that cannot be saved raises ValueError and leaves
    an existing ``path`` untouched.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from nndl_core.network import Network
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "net.json"
    >>> save(Network([2, 3, 1], seed=0), path)
    >>> load(path).sizes
    [2, 3, 1]
    """
    text = json.dumps(to_dict(net), allow_nan=False)
    write_text_atomic(path, text)


def _is_int(value):
    """True for a JSON integer (``bool`` is an ``int`` in Python, but not here)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _is_finite_number(value):
    """True for a finite JSON number (an int too large for float64 is not)."""
    if isinstance(value, float):
        return math.isfinite(value)
    return _is_int(value) and -1e308 < value < 1e308


def _check_matrix(value, n_rows, n_cols, what):
    """``value`` as a float64 array of shape (n_rows, n_cols), or NetworkFileError.

    The nested lists are checked (lengths, then each entry a finite number)
    before an array is made, so nothing is allocated from a false claim.
    """
    if not (
        isinstance(value, list)
        and len(value) == n_rows
        and all(isinstance(row, list) and len(row) == n_cols for row in value)
    ):
        raise NetworkFileError(
            f"{what} does not have the shape ({n_rows}, {n_cols}) that sizes say: "
            f"it must be a list of {n_rows} lists of {n_cols} numbers"
        )
    for row in value:
        if not all(_is_finite_number(x) for x in row):
            raise NetworkFileError(
                f"{what} holds an entry that is not a finite number "
                "(a string, a boolean, NaN or infinity)"
            )
    return np.array(value, dtype=np.float64)


def _check_sizes(sizes):
    if not (
        isinstance(sizes, list)
        and len(sizes) >= 2
        and all(_is_int(s) and s >= 1 for s in sizes)
    ):
        raise NetworkFileError(
            f"sizes must be a list of at least two positive ints, got {sizes!r}"
        )
    n_params = sum(n_out * (n_in + 1) for n_in, n_out in zip(sizes, sizes[1:]))
    if n_params > MAX_PARAMETERS:
        raise NetworkFileError(
            f"sizes {sizes} claim {n_params} parameters; this reader accepts at "
            f"most {MAX_PARAMETERS}"
        )


def _check_header(data):
    """Everything but the arrays: format, version, fields, sizes and names."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise NetworkFileError(f"not a saved network: expected format {FORMAT!r}")
    version = data.get("version")
    if not (_is_int(version) and version == VERSION):
        raise NetworkFileError(
            f"unsupported version {version!r}; this library reads {VERSION}"
        )
    missing = {"sizes", "cost", "activation", "weights", "biases"} - set(data)
    if missing:
        raise NetworkFileError(f"missing fields: {sorted(missing)}")
    _check_sizes(data["sizes"])
    if not (isinstance(data["cost"], str) and data["cost"] in COSTS):
        raise NetworkFileError(f"unknown cost {data['cost']!r}; known: {sorted(COSTS)}")
    activation = data["activation"]
    if not (isinstance(activation, str) and activation in ACTIVATIONS):
        raise NetworkFileError(
            f"unknown activation {activation!r}; known: {sorted(ACTIVATIONS)}"
        )
    layers = len(data["sizes"]) - 1
    for kind in ("weights", "biases"):
        if not (isinstance(data[kind], list) and len(data[kind]) == layers):
            raise NetworkFileError(f"{kind} must be a list of {layers} arrays")


def from_dict(data, backend="numpy"):
    """Rebuild a Network from :func:`to_dict`'s output, checking every field.

    Raises
    ------
    NetworkFileError
        Whatever is wrong with ``data``: a wrong format or version (booleans
        are not numbers here), missing fields, sizes that are not positive
        ints or claim more than :data:`MAX_PARAMETERS` parameters, an unknown
        cost or activation, or an array whose shape disagrees with ``sizes``
        or which holds something other than finite numbers.
    """
    from .network import Network  # here to avoid an import cycle

    _check_header(data)
    sizes = data["sizes"]
    weights = [
        _check_matrix(w, n_out, n_in, f"weights[{l}]")
        for l, (w, n_in, n_out) in enumerate(zip(data["weights"], sizes, sizes[1:]))  # noqa: E741
    ]
    biases = [
        _check_matrix(b, n_out, 1, f"biases[{l}]")
        for l, (b, n_out) in enumerate(zip(data["biases"], sizes[1:]))  # noqa: E741
    ]
    net = Network(
        sizes, cost=COSTS[data["cost"]], backend=backend, activation=data["activation"]
    )
    net.weights, net.biases = weights, biases
    return net


def load(path, backend="numpy"):
    """Read a network written by :func:`save`.

    A file that cannot be opened at all (missing, a folder, no permission)
    raises the usual ``OSError``.

    Raises
    ------
    NetworkFileError
        When the file is not UTF-8 JSON (or is nested too deeply to parse),
        or :func:`from_dict` finds its contents wrong.
    """
    with open(path, "rb") as f:
        raw = f.read()
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise NetworkFileError(f"{path} is not UTF-8 text: {err}") from None
    except RecursionError:
        raise NetworkFileError(f"{path} is nested too deeply to be a network") from None
    except ValueError as err:  # JSONDecodeError, or an integer too long to read
        raise NetworkFileError(f"{path} is not valid JSON: {err}") from None
    return from_dict(data, backend)
