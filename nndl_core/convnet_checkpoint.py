"""Histories, saving, loading and per-epoch checkpoints for ``Network3``.

Used in chap6 (long runs, and problem pb.8 "save and load networks").
Everything is JSON (architecture, history, the random generator's state)
plus one ``.npz`` of parameters; nothing is pickled, so a checkpoint can be
read by any program and loading one cannot run code.

A checkpoint survives a kill at any moment: the parameters of epoch ``k``
go to a new file ``params-k.npz`` first, then ``state.json`` is replaced in
one step (write, then rename) and names that file; older parameter files
are deleted last. So ``state.json`` always names a complete file.

Inside :func:`listening`, every :meth:`~nndl_core.convnet.Network3.SGD`
call reports its epochs and resumes to callbacks that its caller never
passed: that is how ``nndl run ch6.NAME`` prints each epoch's accuracies
and says "resuming from epoch k of N".
"""

import contextlib
import contextvars
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .conv import ConvPoolLayer
from .layers import FullyConnectedLayer, SoftmaxLayer

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

        Ties go to the later epoch, as network3's ``>=`` comparison does
        (BOOK.md section 6 item 10); epochs count from 0.

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


def build_layers(specs):
    """Inverse of :func:`layer_specs`: fresh, uninitialised layers."""
    layers = []
    for spec in specs:
        cls, keys = _LAYER_TYPES[spec["type"]]
        layers.append(cls(**{k: spec[k] for k in keys}))
    return layers


def _plain(value):
    return list(value) if isinstance(value, tuple) else value


def _write_atomic(path, write):
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=path.suffix + ".tmp")
    os.close(fd)
    write(tmp)
    os.replace(tmp, path)


def _save_params(net, path):
    arrays = {}
    for l, layer in enumerate(net.layers):  # noqa: E741
        arrays[f"layer{l}_w"], arrays[f"layer{l}_b"] = layer.w, layer.b

    def write(tmp):
        with open(tmp, "wb") as handle:
            np.savez(handle, **arrays)

    _write_atomic(path, write)


def _load_params(net, path):
    with np.load(path, allow_pickle=False) as arrays:
        for l, layer in enumerate(net.layers):  # noqa: E741
            layer.w = arrays[f"layer{l}_w"].astype(net.dtype)
            layer.b = arrays[f"layer{l}_b"].astype(net.dtype)


def save_network(net, folder):
    """Save ``net`` to ``folder`` (``network.json`` + ``params.npz``)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _save_params(net, folder / "params.npz")
    meta = {"layers": layer_specs(net.layers), "dtype": net.dtype.name}
    _write_atomic(
        folder / "network.json", lambda tmp: Path(tmp).write_text(json.dumps(meta))
    )


def load_network(folder, backend="numpy"):
    """A ``Network3`` rebuilt from the folder :func:`save_network` wrote."""
    from .convnet import Network3

    folder = Path(folder)
    meta = json.loads((folder / "network.json").read_text())
    dtype = None if backend == "numpy" else meta["dtype"]
    net = Network3(build_layers(meta["layers"]), seed=0, backend=backend, dtype=dtype)
    _load_params(net, folder / "params.npz")
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
    _write_atomic(
        folder / "state.json", lambda tmp: Path(tmp).write_text(json.dumps(state))
    )
    for old in folder.glob("params-*.npz"):  # only now: state.json names the new one
        if old.name != params:
            old.unlink()


def load_checkpoint(folder, net, config):
    """Load a checkpoint into ``net``; None when ``folder`` holds none.

    Raises ValueError when the checkpoint belongs to a different run (other
    layers or other training settings), rather than silently mixing them.
    """
    path = Path(folder) / "state.json"
    if not path.exists():
        return None
    state = json.loads(path.read_text())
    if state["config"] != json.loads(json.dumps(config)) or state[
        "layers"
    ] != layer_specs(net.layers):
        raise ValueError(
            f"the checkpoint in {folder} is from a different run; delete it or "
            "choose another folder"
        )
    _load_params(net, Path(folder) / state.get("params", "params.npz"))
    state["history"] = ConvHistory.from_dict(state["history"])
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
