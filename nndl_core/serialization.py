"""Save and load a trained :class:`~nndl_core.network.Network` as JSON.

Used in chap3. The file is plain JSON (never pickle, which can run code when
loaded): a ``format`` name and ``version``, the layer ``sizes``, the
``cost`` and ``activation`` names, and the weights and biases as nested
lists. :func:`load` checks everything and raises
:class:`NetworkFileError` saying what is wrong.
"""

import json

import numpy as np

from .activations import ACTIVATIONS
from .costs import COSTS

__all__ = [
    "FORMAT",
    "VERSION",
    "NetworkFileError",
    "from_dict",
    "load",
    "save",
    "to_dict",
]

FORMAT = "nndl-network"
VERSION = 1


class NetworkFileError(ValueError):
    """A saved network is malformed, of an unknown version, or inconsistent."""


def to_dict(net):
    """The JSON-ready description of ``net``."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "sizes": list(net.sizes),
        "cost": net.cost.name,
        "activation": net.activation,
        "weights": [w.tolist() for w in net.weights],
        "biases": [b.tolist() for b in net.biases],
    }


def save(net, path):
    """Write ``net`` to ``path`` as JSON.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from nndl_core.network import Network
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "net.json"
    >>> save(Network([2, 3, 1], seed=0), path)
    >>> load(path).sizes
    [2, 3, 1]
    """
    with open(path, "w", encoding="utf-8") as f:
        json.dump(to_dict(net), f)


def _array(value, shape, what):
    try:
        a = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise NetworkFileError(f"{what} is not a nested list of numbers") from None
    if a.shape != shape:
        raise NetworkFileError(f"{what} has shape {a.shape}; sizes say {shape}")
    if not np.isfinite(a).all():
        raise NetworkFileError(f"{what} contains NaN or infinite values")
    return a


def from_dict(data, backend="numpy"):
    """Rebuild a Network from :func:`to_dict`'s output, checking every field."""
    from .network import Network  # here to avoid an import cycle

    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise NetworkFileError(f"not a saved network: expected format {FORMAT!r}")
    if data.get("version") != VERSION:
        raise NetworkFileError(
            f"unsupported version {data.get('version')!r}; this library reads {VERSION}"
        )
    missing = {"sizes", "cost", "activation", "weights", "biases"} - set(data)
    if missing:
        raise NetworkFileError(f"missing fields: {sorted(missing)}")
    sizes = data["sizes"]
    if not (
        isinstance(sizes, list)
        and len(sizes) >= 2
        and all(isinstance(s, int) and s >= 1 for s in sizes)
    ):
        raise NetworkFileError(f"sizes must be a list of positive ints, got {sizes!r}")
    if data["cost"] not in COSTS:
        raise NetworkFileError(f"unknown cost {data['cost']!r}; known: {sorted(COSTS)}")
    if data["activation"] not in ACTIVATIONS:
        raise NetworkFileError(f"unknown activation {data['activation']!r}")
    layers = len(sizes) - 1
    if not (isinstance(data["weights"], list) and len(data["weights"]) == layers):
        raise NetworkFileError(f"weights must be a list of {layers} matrices")
    if not (isinstance(data["biases"], list) and len(data["biases"]) == layers):
        raise NetworkFileError(f"biases must be a list of {layers} vectors")
    net = Network(
        sizes, cost=COSTS[data["cost"]], backend=backend, activation=data["activation"]
    )
    net.weights = [
        _array(w, (n_out, n_in), f"weights[{l}]")
        for l, (w, n_in, n_out) in enumerate(zip(data["weights"], sizes, sizes[1:]))  # noqa: E741
    ]
    net.biases = [
        _array(b, (n_out, 1), f"biases[{l}]")
        for l, (b, n_out) in enumerate(zip(data["biases"], sizes[1:]))  # noqa: E741
    ]
    return net


def load(path, backend="numpy"):
    """Read a network written by :func:`save`; :class:`NetworkFileError` if bad."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except json.JSONDecodeError as err:
        raise NetworkFileError(f"{path} is not valid JSON: {err}") from None
    return from_dict(data, backend)
