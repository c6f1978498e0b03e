"""Histories, saving, loading and per-epoch checkpoints for ``Network3``.

Used in chap6 (long runs, and problem pb.8 "save and load networks").
Everything is JSON (architecture, history, the random generator's state)
plus one ``.npz`` of parameters; nothing is pickled, so a checkpoint can be
read by any program and loading one cannot run code.

A checkpoint survives a kill at any moment: the parameters of epoch ``k``
go to a new file ``params-k.npz`` first, then ``state.json`` is replaced in
one step (write, then rename) and names that file; older parameter files
are deleted last. So ``state.json`` always names a complete file.

Loading trusts nothing it reads. Each layer's description is checked (its
type, its fields, positive integer sizes, at most
:data:`~nndl_core.serialization.MAX_PARAMETERS` parameters) before any
parameter is allocated, and each stored array's shape and type against its
layer before it is read. Whatever is wrong raises
:class:`~nndl_core.serialization.NetworkFileError` (a ValueError) saying so.

Inside :func:`listening`, every :meth:`~nndl_core.convnet.Network3.SGD`
call reports its epochs and resumes to callbacks that its caller never
passed: that is how ``nndl run ch6.NAME`` prints each epoch's accuracies
and says "resuming from epoch k of N".
"""

import contextlib
import contextvars
import json
import re
import zipfile
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .atomic import write_atomic, write_text_atomic
from .conv import ConvPoolLayer
from .layers import FullyConnectedLayer, SoftmaxLayer
from .serialization import MAX_PARAMETERS, NetworkFileError

__all__ = [
    "ConvHistory",
    "TrainingListener",
    "active_listener",
    "build_layers",
    "listening",
    "layer_specs",
    "load_checkpoint",
    "load_network",
    "save_checkpoint",
    "save_network",
]

_LAYER_TYPES = {
    "ConvPoolLayer": (
        ConvPoolLayer,
        ("filter_shape", "image_shape", "pool", "activation", "init"),
    ),
    "FullyConnectedLayer": (
        FullyConnectedLayer,
        ("n_in", "n_out", "activation", "p_drop", "init"),
    ),
    "SoftmaxLayer": (SoftmaxLayer, ("n_in", "n_out", "p_drop")),
}


@dataclass
class ConvHistory:
    """Per-epoch accuracies of a :meth:`nndl_core.convnet.Network3.SGD` run.

    Attributes
    ----------
    validation_accuracy, test_accuracy : list of float
        Fractions correct after each epoch.
    seconds : list of float
        Training time of each epoch (scoring excluded).
    """

    validation_accuracy: list = field(default_factory=list)
    test_accuracy: list = field(default_factory=list)
    seconds: list = field(default_factory=list)

    @property
    def epochs(self):
        """Number of epochs recorded."""
        return len(self.validation_accuracy)

    def record(self, validation, test):
        """Append one epoch's accuracies."""
        self.validation_accuracy.append(float(validation))
        self.test_accuracy.append(float(test))

    def best(self):
        """``(epoch, validation, test)`` at the best validation accuracy.

        Ties go to the later epoch, as the ``>=`` comparison in the book's
        ``network3.py`` does; epochs count from 0.

        Examples
        --------
        >>> h = ConvHistory([0.9, 0.95, 0.95], [0.91, 0.94, 0.96], [1, 1, 1])
        >>> h.best()
        (2, 0.95, 0.96)
        """
        if not self.validation_accuracy:
            raise ValueError("this history has no epochs")
        v = np.asarray(self.validation_accuracy)
        epoch = int(np.flatnonzero(v == v.max())[-1])
        return epoch, self.validation_accuracy[epoch], self.test_accuracy[epoch]

    def to_dict(self):
        """Plain-JSON form."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data):
        """Inverse of :meth:`to_dict`."""
        return cls(**data)


def layer_specs(layers):
    """JSON-ready description of each layer: its type and constructor arguments."""
    specs = []
    for layer in layers:
        name = type(layer).__name__
        _, keys = _LAYER_TYPES[name]
        specs.append({"type": name, **{k: _plain(getattr(layer, k)) for k in keys}})
    return specs


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value):
    return isinstance(value, int | float) and not isinstance(value, bool)


def _field_ok(key, value):
    """Whether ``value`` can be the constructor argument ``key`` of a saved layer."""
    if key in ("filter_shape", "image_shape"):
        length = 4 if key == "filter_shape" else 3
        return (
            isinstance(value, list)
            and len(value) == length
            and all(_is_int(s) and s >= 1 for s in value)
        )
    if key in ("pool", "n_in", "n_out"):
        return _is_int(value) and value >= 1
    if key == "p_drop":
        return _is_number(value)
    return isinstance(value, str)  # activation, init: their layer checks the name


def _check_spec(l, spec):
    """NetworkFileError unless ``spec`` describes a layer with sound fields."""
    if not (isinstance(spec, dict) and spec.get("type") in _LAYER_TYPES):
        raise NetworkFileError(
            f"layer {l} must be an object whose type is one of {sorted(_LAYER_TYPES)}"
        )
    keys = _LAYER_TYPES[spec["type"]][1]
    if set(spec) != {"type", *keys}:
        raise NetworkFileError(f"layer {l} ({spec['type']}) needs exactly {keys}")
    for key in keys:
        if not _field_ok(key, spec[key]):
            raise NetworkFileError(
                f"layer {l} ({spec['type']}): bad {key} {spec[key]!r}"
            )


def build_layers(specs):
    """Inverse of :func:`layer_specs`: fresh, uninitialised layers.

    Raises NetworkFileError when ``specs`` is not a list of sound layer
    descriptions or describes more than ``MAX_PARAMETERS`` parameters.
    """
    if not (isinstance(specs, list) and specs):
        raise NetworkFileError("layers must be a non-empty list of layer objects")
    layers = []
    for l, spec in enumerate(specs):  # noqa: E741
        _check_spec(l, spec)
        cls, keys = _LAYER_TYPES[spec["type"]]
        try:
            layers.append(cls(**{k: spec[k] for k in keys}))
        except (TypeError, ValueError) as err:
            raise NetworkFileError(f"layer {l} ({spec['type']}): {err}") from None
    n_params = sum(layer.n_params for layer in layers)
    if n_params > MAX_PARAMETERS:
        raise NetworkFileError(
            f"the layers hold {n_params} parameters; at most {MAX_PARAMETERS} load"
        )
    return layers


def _plain(value):
    return list(value) if isinstance(value, tuple) else value


def _read_json(path, advice):
    """The JSON in ``path``; NetworkFileError (ending with ``advice``) if it is bad."""
    try:
        return json.loads(Path(path).read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, RecursionError, ValueError) as err:
        raise NetworkFileError(
            f"{path} is not readable JSON ({type(err).__name__}); {advice}"
        ) from None


def _save_params(net, path):
    arrays = {}
    for l, layer in enumerate(net.layers):  # noqa: E741
        if not (np.isfinite(layer.w).all() and np.isfinite(layer.b).all()):
            raise ValueError(
                f"cannot save: layer {l} holds NaN or infinite parameters (the "
                "training diverged; try a smaller eta); nothing was written"
            )
        arrays[f"layer{l}_w"], arrays[f"layer{l}_b"] = layer.w, layer.b
    write_atomic(path, lambda out: np.savez(out, **arrays))


def _member_shape(npz, key):
    """``(shape, dtype)`` from the header of ``key`` in ``npz``, reading no data."""
    with npz.zip.open(f"{key}.npy") as member:
        version = np.lib.format.read_magic(member)
        read_header = {
            (1, 0): np.lib.format.read_array_header_1_0,
            (2, 0): np.lib.format.read_array_header_2_0,
        }[version]
        shape, _, dtype = read_header(member)
    return shape, dtype


def _checked_array(npz, key, expected, dtype):
    """``key`` of ``npz`` as ``dtype`` after checking its shape from the header."""
    if key not in npz.files:
        raise NetworkFileError(f"it lacks {key}")
    shape, stored = _member_shape(npz, key)
    if shape != expected or stored.kind != "f":
        raise NetworkFileError(
            f"{key} is {stored} of shape {shape}; its layer needs float {expected}"
        )
    a = npz[key].astype(dtype)
    if not np.isfinite(a).all():
        raise NetworkFileError(f"{key} holds NaN or infinite values")
    return a


def _load_params(net, path, advice):
    """Fill ``net``'s layers from ``path``, checking every array against its layer.

    The arrays are all read and checked before any layer is changed.
    """
    try:
        with open(path, "rb") as f:
            is_zip = f.read(4) == b"PK\x03\x04"  # not np.load's other formats
        if not is_zip:
            raise NetworkFileError("it is not an .npz archive")
        with np.load(path, allow_pickle=False) as npz:
            loaded = [
                (
                    _checked_array(npz, f"layer{l}_w", layer.w.shape, net.dtype),
                    _checked_array(npz, f"layer{l}_b", layer.b.shape, net.dtype),
                )
                for l, layer in enumerate(net.layers)  # noqa: E741
            ]
    except NetworkFileError as err:
        raise NetworkFileError(f"{path}: {err}; {advice}") from None
    except FileNotFoundError:
        raise
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile, zlib.error):
        raise NetworkFileError(
            f"{path} is not a readable .npz file of parameters; {advice}"
        ) from None
    for layer, (w, b) in zip(net.layers, loaded):
        layer.w, layer.b = w, b


def save_network(net, folder):
    """Save ``net`` to ``folder`` (``network.json`` + ``params.npz``).

    Raises ValueError, writing nothing, if a parameter is NaN or infinite.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _save_params(net, folder / "params.npz")
    meta = {"layers": layer_specs(net.layers), "dtype": net.dtype.name}
    write_text_atomic(folder / "network.json", json.dumps(meta))


def _network(specs, backend, dtype, advice):
    """A fresh ``Network3`` of the checked ``specs``; NetworkFileError if unsound."""
    from .convnet import Network3

    try:
        return Network3(build_layers(specs), seed=0, backend=backend, dtype=dtype)
    except NetworkFileError as err:
        raise NetworkFileError(f"{err}; {advice}") from None
    except (TypeError, ValueError) as err:  # layers that do not chain, say
        raise NetworkFileError(
            f"the saved layers are unusable: {err}; {advice}"
        ) from None


def load_network(folder, backend="numpy"):
    """A ``Network3`` rebuilt from the folder :func:`save_network` wrote.

    Raises NetworkFileError when a file is not what :func:`save_network`
    writes (see the module's docstring); OSError when one is missing.
    """
    folder = Path(folder)
    advice = f"save the network to {folder} again"
    meta = _read_json(folder / "network.json", advice)
    if not (isinstance(meta, dict) and {"layers", "dtype"} <= set(meta)):
        raise NetworkFileError(f"{folder / 'network.json'} lacks layers or dtype")
    if meta["dtype"] not in ("float32", "float64"):
        raise NetworkFileError(
            f"dtype must be float32 or float64, not {meta['dtype']!r}"
        )
    dtype = None if backend == "numpy" else meta["dtype"]
    net = _network(meta["layers"], backend, dtype, advice)
    _load_params(net, folder / "params.npz", advice)
    return net


def save_checkpoint(folder, net, config, history, epoch, rng):
    """Save everything needed to resume after ``epoch`` epochs."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    params = f"params-{epoch}.npz"
    _save_params(net, folder / params)
    state = {
        "config": config,
        "layers": layer_specs(net.layers),
        "epoch": epoch,
        "params": params,
        "history": history.to_dict(),
        "rng_state": rng.bit_generator.state,
    }
    write_text_atomic(folder / "state.json", json.dumps(state))
    for old in folder.glob("params-*.npz"):  # only now: state.json names the new one
        if old.name != params:
            old.unlink()


#: The fields of ``state.json`` and their JSON types.
_STATE_FIELDS = {
    "config": dict,
    "layers": list,
    "epoch": int,
    "params": str,
    "history": dict,
    "rng_state": dict,
}


def _history(data, epochs):
    """A ConvHistory of ``epochs`` epochs from ``data``, or None if it is not one."""
    if not (isinstance(data, dict) and set(data) == set(ConvHistory().to_dict())):
        return None
    for values in data.values():
        if not (isinstance(values, list) and all(_is_number(x) for x in values)):
            return None
    history = ConvHistory.from_dict(data)
    return history if len(history.test_accuracy) == history.epochs == epochs else None


def _check_state(state, path, advice):
    """NetworkFileError unless ``state`` is a sound ``state.json``; its history."""
    state.setdefault("params", "params.npz")  # checkpoints written before params-k
    if any(not isinstance(state.get(k), t) for k, t in _STATE_FIELDS.items()) or (
        isinstance(state["epoch"], bool)
    ):
        raise NetworkFileError(
            f"{path} needs the fields {sorted(_STATE_FIELDS)} with their types; "
            + advice
        )
    if not re.fullmatch(r"params(-\d+)?\.npz", state["params"]):
        raise NetworkFileError(
            f"{path} names no parameter file of its folder; {advice}"
        )
    history = _history(state["history"], state["epoch"])
    if history is None:
        raise NetworkFileError(
            f"{path} holds no history of {state['epoch']} epochs; {advice}"
        )
    try:
        np.random.default_rng().bit_generator.state = state["rng_state"]
    except (KeyError, TypeError, ValueError):
        raise NetworkFileError(f"{path} holds no generator state; {advice}") from None
    return history


def load_checkpoint(folder, net, config):
    """Load a checkpoint into ``net``; None when ``folder`` holds none.

    Raises ValueError when the checkpoint belongs to a different run (other
    layers or other training settings), rather than silently mixing them,
    and NetworkFileError (a ValueError) when a file of it is malformed.
    """
    path = Path(folder) / "state.json"
    if not path.exists():
        return None
    advice = f"delete {folder} to train this run again from its first epoch"
    state = _read_json(path, advice)
    if not isinstance(state, dict):
        raise NetworkFileError(f"{path} is not a JSON object; {advice}")
    history = _check_state(state, path, advice)
    if state["config"] != json.loads(json.dumps(config)) or state[
        "layers"
    ] != layer_specs(net.layers):
        raise ValueError(
            f"the checkpoint in {folder} is from a different run; delete it or "
            "choose another folder"
        )
    _load_params(net, Path(folder) / state["params"], advice)
    state["history"] = history
    return state


# --- listening to a training from outside ---------------------------------------

_LISTENER = contextvars.ContextVar("nndl_training_listener", default=None)


@dataclass(frozen=True)
class TrainingListener:
    """Callbacks that hear every :meth:`~nndl_core.convnet.Network3.SGD` call.

    Attributes
    ----------
    on_resume : callable or None
        ``on_resume(epoch, epochs, folder)`` when a call resumes from the
        checkpoint in ``folder`` after ``epoch`` of its ``epochs`` epochs.
    on_epoch : callable or None
        ``on_epoch(epoch, epochs, history, folder)`` after each epoch is
        trained, scored and (if ``folder`` is not None) saved; ``epoch``
        counts from 0, as in ``SGD``'s callback.
    """

    on_resume: object = None
    on_epoch: object = None

    def resumed(self, epoch, epochs, folder):
        """Call ``on_resume``, if any."""
        if self.on_resume is not None:
            self.on_resume(epoch, epochs, folder)

    def epoch_done(self, epoch, epochs, history, folder):
        """Call ``on_epoch``, if any."""
        if self.on_epoch is not None:
            self.on_epoch(epoch, epochs, history, folder)


@contextlib.contextmanager
def listening(on_resume=None, on_epoch=None):
    """Inside this block, every ``Network3.SGD`` call reports to these callbacks.

    The CLI uses it to print each epoch's accuracies of an experiment whose
    code it cannot change, and to say when a run resumes from a checkpoint.
    The listener lives in a context variable, so nested blocks and threads
    do not see each other's.

    Examples
    --------
    >>> with listening(on_epoch=print) as listener:
    ...     active_listener() is listener
    True
    >>> active_listener() is None
    True
    """
    listener = TrainingListener(on_resume, on_epoch)
    token = _LISTENER.set(listener)
    try:
        yield listener
    finally:
        _LISTENER.reset(token)


def active_listener():
    """The :class:`TrainingListener` of the enclosing :func:`listening`, or None."""
    return _LISTENER.get()
