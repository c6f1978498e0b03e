"""A network of layers trained by mini-batch SGD: the heir of network3.

Used in chap6. :class:`Network3` chains :class:`~nndl_core.conv.ConvPoolLayer`,
:class:`~nndl_core.layers.FullyConnectedLayer` and
:class:`~nndl_core.layers.SoftmaxLayer` objects, trains them with SGD and L2
regularization, and reports what the book reports: validation and test
accuracy after every epoch, and the test accuracy at the epoch of best
validation accuracy (ties go to the later epoch, as network3's ``>=`` does).

Two backends, chosen in one place: ``"numpy"`` runs the readable references
in float64 (what the page steps through, and what the tests trust);
``"numba"`` runs every layer on the kernels of ``nndl_core.kernels.conv``
and ``nndl_core.kernels.layers``,
in float32, on one core (the fast path).

network3's quirks, reproduced on purpose and switchable:

* ``l2="network3"``: the L2 term is ``0.5 * lmbda * sum(w**2)`` divided by
  the number of mini-batches, so each step decays weights by
  ``eta * lmbda * m / n``; ``l2="network2"`` uses chapter 3's
  ``eta * lmbda / n``. All weights decay,
  including filters and the softmax layer; biases do not.
* the training data are visited in the same order every epoch
  (``shuffle=False``), as network3 does (item 8).
* the weight initialisation uses ``n_out`` (a layer's ``init`` argument).
"""

import time

import numpy as np

from .training import check_diverged
from .validation import check_dataset, check_sgd

__all__ = ["Network3", "ensemble_predict"]

BACKENDS = ("numpy", "numba")
L2_SCALINGS = ("network3", "network2")
EVAL_CHUNK = 100  # images per forward pass when scoring a data set


class Network3:
    """A stack of layers; the last must be a :class:`~nndl_core.layers.SoftmaxLayer`.

    Parameters
    ----------
    layers : list
        Layer objects; their shapes must chain (a conv layer's output
        ``(f, h, w)`` feeds a dense layer with ``n_in = f * h * w``).
    seed : int or None
        Seed of the initial weights (drawn layer by layer, in order).
    backend : {"numpy", "numba"}
        ``"numpy"``: readable references, float64. ``"numba"``: kernels, float32.
    dtype : numpy dtype, optional
        Overrides the backend's floating-point type (``numba`` with float64
        is what the kernel tests compare with ``numpy``).

    Examples
    --------
    >>> from nndl_core.layers import FullyConnectedLayer, SoftmaxLayer
    >>> net = Network3([FullyConnectedLayer(784, 30), SoftmaxLayer(30, 10)], seed=0)
    >>> net.n_params
    23860
    """

    def __init__(self, layers, seed=None, backend="numpy", dtype=None):
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        if not layers or getattr(layers[-1], "activation", None) != "softmax":
            raise ValueError("the last layer must be a SoftmaxLayer")
        self.layers, self.backend = list(layers), backend
        self.dtype = np.dtype(
            dtype or (np.float32 if backend == "numba" else np.float64)
        )
        _check_chain(self.layers)
        rng = np.random.default_rng(seed)
        for layer in self.layers:
            layer.initialize(rng)
            layer.w, layer.b = layer.w.astype(self.dtype), layer.b.astype(self.dtype)

    @property
    def n_params(self):
        """Total number of weights and biases."""
        return sum(layer.n_params for layer in self.layers)

    @property
    def input_shape(self):
        """Shape of one input: ``(c, h, w)`` for a conv net, ``(n_in,)`` otherwise."""
        first = self.layers[0]
        return first.image_shape if first.kind == "images" else (first.n_in,)

    def _input(self, images):
        """Rows (m, 784) -> what the first layer takes, in this network's dtype."""
        images = np.asarray(images, dtype=self.dtype)
        if self.layers[0].kind == "images":
            return images.reshape((len(images),) + self.input_shape)
        return np.ascontiguousarray(images.T)  # rows -> columns, once

    def feedforward(self, images, masks=None):
        """Class probabilities for ``images`` (m, n_pixels) -> (n_classes, m).

        With ``masks`` (one per layer, None where a layer has no dropout)
        this is the training pass and also returns every layer's cache.
        """
        a, caches = self._input(images), []
        for l, layer in enumerate(self.layers):  # noqa: E741 (the book's l)
            if layer.kind == "columns" and a.ndim == 4:
                a = a.reshape(len(a), -1).T  # feature maps -> columns (a view)
            mask = None if masks is None else masks[l]
            a, cache = layer.forward(a, self.backend, mask)
            caches.append(cache)
        return a if masks is None else (a, caches)

    def backprop(self, images, labels, rng=None, input_grad=False):
        """Gradients of the log-likelihood summed over a mini-batch.

        Draws the dropout masks from ``rng`` (training mode). Returns one
        ``{"w": nabla_w, "b": nabla_b}`` per layer; with ``input_grad`` also
        :math:`\\partial C/\\partial x` for the images, shaped like the
        first layer's input (chap6's adversarial example uses it).
        """
        masks = self.dropout_masks(len(images), rng)
        _, caches = self.feedforward(images, masks)
        grads = [None] * len(self.layers)
        delta = np.asarray(labels)  # the softmax layer starts from the labels
        for l in range(len(self.layers) - 1, -1, -1):  # noqa: E741
            layer = self.layers[l]
            need = l > 0 or input_grad
            delta, grads[l] = layer.backward(delta, caches[l], self.backend, need)
            if l > 0 and self.layers[l - 1].kind == "images" and delta.ndim == 2:
                shape = (len(images),) + self.layers[l - 1].output_shape
                delta = delta.T.reshape(shape)  # columns -> feature maps
        return (grads, delta) if input_grad else grads

    def dropout_masks(self, m, rng):
        """0/1 keep-masks for each layer's input; None where ``p_drop == 0``."""
        masks, n_in = [], None
        for layer in self.layers:
            p_drop = getattr(layer, "p_drop", 0.0)
            n_in = getattr(layer, "n_in", None)
            if p_drop and rng is None:
                raise ValueError("dropout needs an rng to draw its masks")
            masks.append(
                (rng.random((n_in, m)) >= p_drop).astype(self.dtype) if p_drop else None
            )
        return masks

    def update_mini_batch(self, images, labels, eta, decay, rng=None):
        """``w -> decay * w - (eta/m) nabla_w``, ``b -> b - (eta/m) nabla_b``.

        ``decay`` is ``1 - eta * lmbda * m / n`` (network3) or
        ``1 - eta * lmbda / n`` (network2); see :meth:`SGD`.
        """
        grads = self.backprop(images, labels, rng)
        step = eta / len(images)
        for layer, grad in zip(self.layers, grads, strict=True):
            if decay != 1:
                layer.w *= decay
            layer.w -= step * grad["w"]  # in place: the 1000 x 1000 layers are large
            layer.b -= step * grad["b"]

    def predict(self, images):
        """The most probable class of each row of ``images`` -> (m,)."""
        return np.concatenate(
            [
                np.argmax(self.feedforward(images[k : k + EVAL_CHUNK]), axis=0)
                for k in range(0, len(images), EVAL_CHUNK)
            ]
        )

    def accuracy(self, data):
        """Fraction of ``(images, labels)`` classified correctly (problem pb.5)."""
        return self._accuracy(*self._check_data(data, "data"))

    def _accuracy(self, images, labels):
        """:meth:`accuracy` for data already checked (once, by :meth:`SGD`)."""
        return float(np.mean(self.predict(images) == labels))

    def _check_data(self, data, name):
        """``(images, labels)`` as :func:`~nndl_core.validation.check_dataset`
        returns them: rows of this network's dtype, labels in its classes."""
        n_pixels = int(np.prod(self.input_shape))
        n_classes = self.layers[-1].n_out
        return check_dataset(data, n_pixels, n_classes, name, self.dtype)

    def SGD(  # noqa: N802 (the book's name)
        self,
        training_data,
        epochs,
        mini_batch_size,
        eta,
        validation_data,
        test_data,
        lmbda=0.0,
        l2="network3",
        shuffle=False,
        seed=None,
        callback=None,
        checkpoint=None,
    ):
        """Train with mini-batch SGD, scoring validation and test data every epoch.

        Parameters
        ----------
        training_data, validation_data, test_data : (images, labels)
            Images as rows (n, n_pixels), integer labels (n,).
        epochs, mini_batch_size : int
        eta : float
            Learning rate.
        lmbda : float
            L2 regularization parameter (network3's ``lmbda``).
        l2 : {"network3", "network2"}
            How ``lmbda`` is scaled (module docstring).
        shuffle : bool
            Reshuffle every epoch (False: network3's fixed order).
        seed : int or None
            Seed for shuffles and dropout masks.
        callback : callable, optional
            ``callback(epoch, history)`` after each epoch (progress, ETA).
        checkpoint : path, optional
            A folder where the state is saved after every epoch; if it
            already holds a checkpoint of this run, training resumes there.
            See :mod:`nndl_core.convnet_checkpoint` (and its ``listening``,
            which hears every call's epochs and resumes).

        Returns
        -------
        ConvHistory

        Raises
        ------
        TypeError, ValueError
            Before any training, for data or hyper-parameters that do not fit
            (:mod:`nndl_core.validation`); ``mini_batch_size`` may not exceed
            the training set, since a short last mini-batch is dropped.
        TrainingDivergedError
            After an epoch whose parameters ran away
            (:func:`~nndl_core.training.check_diverged`).
        """
        from .convnet_checkpoint import (
            ConvHistory,
            active_listener,
            load_checkpoint,
            save_checkpoint,
        )

        if l2 not in L2_SCALINGS:
            raise ValueError(f"l2 must be one of {L2_SCALINGS}, got {l2!r}")
        images, labels = self._check_data(training_data, "training_data")
        validation_data = self._check_data(validation_data, "validation_data")
        test_data = self._check_data(test_data, "test_data")
        n = len(images)
        epochs, m, eta, lmbda = check_sgd(
            epochs, mini_batch_size, eta, n, lmbda, drop_last=True
        )
        num_batches = n // m  # network3 drops a short last mini-batch
        decay = 1 - eta * lmbda * (m / n if l2 == "network3" else 1 / n)
        rng = np.random.default_rng(seed)
        history, start_epoch = ConvHistory(), 0
        config = dict(
            epochs=epochs,
            m=m,
            eta=eta,
            lmbda=lmbda,
            l2=l2,
            n=n,
            shuffle=shuffle,
            seed=seed,
        )
        listener = active_listener()  # convnet_checkpoint.listening (the CLI)
        if checkpoint is not None:
            state = load_checkpoint(checkpoint, self, config)
            if state is not None:
                history, start_epoch = state["history"], state["epoch"]
                rng.bit_generator.state = state["rng_state"]
                if listener is not None:
                    listener.resumed(start_epoch, epochs, checkpoint)
        for epoch in range(start_epoch, epochs):
            start = time.perf_counter()
            order = rng.permutation(n) if shuffle else np.arange(n)
            for k in range(num_batches):
                idx = order[k * m : (k + 1) * m]
                self.update_mini_batch(images[idx], labels[idx], eta, decay, rng)
            history.seconds.append(time.perf_counter() - start)
            check_diverged(self._parameters(), epoch, eta)
            history.record(self._accuracy(*validation_data), self._accuracy(*test_data))
            if checkpoint is not None:
                save_checkpoint(checkpoint, self, config, history, epoch + 1, rng)
            if listener is not None:
                listener.epoch_done(epoch, epochs, history, checkpoint)
            if callback is not None:
                callback(epoch, history)
        return history

    def _parameters(self):
        """Every layer's weights and biases, in order."""
        return [p for layer in self.layers for p in (layer.w, layer.b)]


def _check_chain(layers):
    """Raise ValueError if one layer's output does not fit the next one's input."""
    for before, after in zip(layers[:-1], layers[1:]):
        size = int(np.prod(before.output_shape))
        if after.kind == "images":
            fits = (
                before.kind == "images"
                and tuple(before.output_shape) == after.image_shape
            )
        else:
            fits = size == after.n_in
        if not fits:
            raise ValueError(
                f"{type(before).__name__} outputs {before.output_shape} but "
                f"{type(after).__name__} expects "
                f"{getattr(after, 'image_shape', None) or after.n_in}"
            )


def ensemble_predict(networks, images):
    """Plurality vote of ``networks`` on each row of ``images`` -> (m,).

    A tie goes to the smallest digit among those with the most votes.
    """
    votes = np.stack([net.predict(images) for net in networks])  # (k, m)
    n_classes = int(votes.max()) + 1
    counts = np.stack([(votes == c).sum(axis=0) for c in range(n_classes)])
    return np.argmax(counts, axis=0)
