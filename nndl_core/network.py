"""A feedforward network of sigmoid neurons trained by mini-batch SGD.

Used in chap1 (the digit classifier) and chap2 (backpropagation). This is
the readable reference: the pages display these methods and the Numba kernels
in ``nndl_core.kernels.dense`` are tested equal to them.

Two deliberate differences from the book's ``network.py``:

* mini-batches are matrices with one example per column (the "fully
  matrix-based" approach of chapter 2's problem), so ``backprop`` handles a
  whole mini-batch at once and returns the *summed* gradient;
* ``SGD`` takes a seed and returns a :class:`~nndl_core.training.History`
  instead of printing.
"""

import time

import numpy as np

from .activations import ACTIVATIONS, DERIVATIVES, softmax
from .costs import QuadraticCost
from .initializers import INITIALIZERS
from .training import History, check_diverged, minibatch_slices, one_hot
from .validation import check_dataset, check_sgd, check_sizes

__all__ = ["Network"]

BACKENDS = ("numpy", "numba")


class Network:
    """A fully connected feedforward network.

    Parameters
    ----------
    sizes : sequence of int
        Neurons per layer, input first: ``[784, 30, 10]``.
    seed : int or None
        Seed for the initial weights and biases.
    cost : class with ``fn`` and ``delta``
        The cost function (chapter 1 uses :class:`~nndl_core.costs.QuadraticCost`).
    backend : {"numpy", "numba"}
        Who runs :meth:`SGD`: this readable code, or the compiled kernels.
    initializer : {"large", "default"}
        ``"large"``: weights and biases from N(0, 1) (chapter 1);
        ``"default"``: weights from N(0, 1/n_in) (chapter 3). See
        :mod:`nndl_core.initializers`.
    activation : {"sigmoid", "tanh", "relu"}
        The hidden neurons (chapter 3). Output neurons are sigmoid, or
        softmax when the cost says so (``cost.output_activation``, as for
        :class:`~nndl_core.costs.LogLikelihoodCost`). The numba backend
        runs all of them, with the costs of :mod:`nndl_core.costs`.
    threads : int, optional
        Numba backend: how many threads an epoch of plain SGD uses (1 or
        2; default ``nndl_core.kernels.dense.threads.default_threads()``,
        which reads ``NNDL_THREADS``). The trained network is the same, bit
        for bit, for any number.

    Attributes
    ----------
    weights : list of ndarray
        ``weights[l]`` has shape (sizes[l+1], sizes[l]); entry ``[j, k]`` is
        :math:`w^{l+2}_{jk}` in the book's numbering (our ``l`` counts weight
        layers from 0, the book counts neuron layers from 1).
    biases : list of ndarray
        ``biases[l]`` has shape (sizes[l+1], 1). The input layer has none.

    Examples
    --------
    >>> net = Network([2, 3, 1], seed=0)
    >>> [w.shape for w in net.weights], [b.shape for b in net.biases]
    ([(3, 2), (1, 3)], [(3, 1), (1, 1)])
    """

    def __init__(
        self,
        sizes,
        seed=None,
        cost=QuadraticCost,
        backend="numpy",
        initializer="large",
        activation="sigmoid",
        threads=None,
    ):
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        rng = np.random.default_rng(seed)
        self.sizes = check_sizes(sizes)  # whole numbers >= 1: 2.7 is an error
        self.num_layers = len(self.sizes)
        self.cost = cost
        self.backend = backend
        if threads is not None and int(threads) < 1:
            raise ValueError(f"threads must be at least 1, got {threads}")
        self.threads = threads
        if initializer not in INITIALIZERS:
            raise ValueError(
                f"initializer must be one of {sorted(INITIALIZERS)}, "
                f"got {initializer!r}"
            )
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}"
            )
        self.activation = activation
        self.output_activation = getattr(cost, "output_activation", "sigmoid")
        self.weights, self.biases = INITIALIZERS[initializer](self.sizes, rng)
        if backend == "numba":
            from .kernels import dense  # fail now, not at the first epoch

            dense.check_supported(self)

    def activate(self, l, z):  # noqa: E741 (book's l)
        """Activation of weight layer ``l`` (hidden neurons, or the output layer)."""
        if l < len(self.weights) - 1:
            return ACTIVATIONS[self.activation](z)
        return (
            softmax(z)
            if self.output_activation == "softmax"
            else ACTIVATIONS["sigmoid"](z)
        )

    def feedforward(self, a):
        """Output of the network for input ``a`` (eq. 25 applied layer by layer).

        Parameters
        ----------
        a : ndarray of shape (n_in,) or (n_in, batch)
            One input, or several as columns.

        Returns
        -------
        ndarray of shape (n_out,) or (n_out, batch)
        """
        a = np.asarray(a, dtype=np.float64)
        if a.ndim not in (1, 2) or a.shape[0] != self.sizes[0]:
            raise ValueError(
                f"input must have shape ({self.sizes[0]},) or "
                f"({self.sizes[0]}, batch), got {a.shape}"
            )
        columns = a.reshape(self.sizes[0], -1)  # a single input becomes one column
        for l, (b, w) in enumerate(zip(self.biases, self.weights)):  # noqa: E741
            columns = self.activate(l, w @ columns + b)
        return columns.reshape((-1,) + a.shape[1:])

    def backprop(self, x, y):
        """Gradient of the cost summed over the columns of ``x`` (BP1-BP4).

        The fully matrix-based form of chapter 2's algorithm: the output error
        by BP1 (see chap2, eq. ch2-bp1), carried back by BP2 (eq. ch2-bp2),
        turned into gradients by BP3 (eq. ch2-bp3) and BP4 (eq. ch2-bp4), for
        all the columns at once.

        Parameters
        ----------
        x : ndarray of shape (n_in, m)
            Inputs, one example per column.
        y : ndarray of shape (n_out, m)
            Desired outputs.

        Returns
        -------
        nabla_b, nabla_w : lists of ndarray
            Shaped like ``biases`` and ``weights``: the sums over the batch
            :math:`\\sum_x \\partial C_x/\\partial b^l` and
            :math:`\\sum_x \\partial C_x/\\partial w^l`.
        """
        activation, activations, zs = x, [x], []
        for l, (b, w) in enumerate(zip(self.biases, self.weights)):  # noqa: E741
            z = w @ activation + b  # forward pass, keeping z and a
            zs.append(z)
            activation = self.activate(l, z)
            activations.append(activation)
        delta = self.cost.delta(zs[-1], activations[-1], y)  # BP1
        act_prime = DERIVATIVES[self.activation]  # sigma' for sigmoid neurons
        nabla_b = [None] * len(self.biases)
        nabla_w = [None] * len(self.weights)
        for l in range(len(self.weights) - 1, -1, -1):  # noqa: E741 (book's l)
            if l < len(self.weights) - 1:
                delta = (self.weights[l + 1].T @ delta) * act_prime(zs[l])  # BP2
            nabla_b[l] = delta.sum(axis=1, keepdims=True)  # BP3, summed over the batch
            nabla_w[l] = delta @ activations[l].T  # BP4, summed over the batch
        return nabla_b, nabla_w

    def update_mini_batch(self, x, y, eta, lmbda=0.0, n=1):
        """One step of gradient descent on a mini-batch (eqs. 20-21).

        ``w -> w - (eta/m) sum_x dC_x/dw`` and the same for ``b``, where
        ``m = x.shape[1]`` is the mini-batch size. With L2 regularization
        (chapter 3) the weights first shrink: ``w -> (1 - eta*lmbda/n) w``,
        ``n`` being the size of the whole training set.
        """
        nabla_b, nabla_w = self.backprop(x, y)
        step = eta / x.shape[1]
        decay = 1.0 - eta * lmbda / n  # 1.0 without regularization
        self.weights = [decay * w - step * nw for w, nw in zip(self.weights, nabla_w)]
        self.biases = [b - step * nb for b, nb in zip(self.biases, nabla_b)]

    def SGD(  # noqa: N802 (the book's name)
        self,
        training_data,
        epochs,
        mini_batch_size,
        eta,
        test_data=None,
        seed=None,
        callback=None,
        lmbda=0.0,
    ):
        """Train with mini-batch stochastic gradient descent.

        Parameters
        ----------
        training_data : Dataset or (images, labels)
            Images of shape (n, n_in), integer labels ``0 .. n_out-1`` of
            shape (n,).
        epochs, mini_batch_size : int
        eta : float
            Learning rate.
        test_data : Dataset or (images, labels), optional
            Evaluated after every epoch (this costs a pass over it).
        seed : int or None
            Seed of the generator that shuffles the data each epoch.
        callback : callable, optional
            Called as ``callback(epoch, history)`` after every epoch (progress bars).
        lmbda : float
            L2 regularization parameter (chapter 3); 0 turns it off.

        Returns
        -------
        History

        Raises
        ------
        TypeError, ValueError
            Before any training, for data or hyper-parameters that do not fit
            (:mod:`nndl_core.validation`).
        TrainingDivergedError
            After an epoch whose weights ran away
            (:func:`~nndl_core.training.check_diverged`).
        """
        n_in, n_out = self.sizes[0], self.sizes[-1]  # pixels, classes
        images, labels = check_dataset(training_data, n_in, n_out, "training_data")
        if test_data is not None:
            test_data = check_dataset(test_data, n_in, n_out, "test_data")
        epochs, mini_batch_size, eta, lmbda = check_sgd(
            epochs, mini_batch_size, eta, len(labels), lmbda
        )
        rng = np.random.default_rng(seed)
        history = History(n_evaluation=0 if test_data is None else len(test_data[1]))
        if self.backend == "numba":
            from .kernels import dense

            images = dense.to_sparse(images)  # once: every image's nonzero pixels
            history.threads = dense.threads.parts(0.0, self.threads)
        for epoch in range(epochs):
            start = time.perf_counter()
            self._train_epoch(images, labels, mini_batch_size, eta, rng, lmbda)
            history.seconds.append(time.perf_counter() - start)
            check_diverged(self.weights + self.biases, epoch, eta)
            if test_data is not None:
                correct = self.count_correct(*test_data)
                history.evaluation_correct.append(correct)
                history.evaluation_accuracy.append(correct / history.n_evaluation)
            if callback is not None:
                callback(epoch, history)
        return history

    def _train_epoch(self, images, labels, mini_batch_size, eta, rng, lmbda=0.0):
        """One pass over the shuffled training data, on the chosen backend.

        On the numba backend ``images`` may also be the sparse form that
        :meth:`SGD` makes once per run (``kernels.dense.to_sparse``).
        """
        n = len(labels)
        order, slices = minibatch_slices(n, mini_batch_size, rng)
        if self.backend == "numba":
            from .kernels import dense  # imported on first use (Numba)

            dense.train_epoch(
                self,
                images,
                labels,
                order,
                mini_batch_size,
                eta,
                lmbda,
                n,
                threads=self.threads,
            )
            return
        n_classes = self.sizes[-1]
        for start, stop in slices:
            idx = order[start:stop]
            y = one_hot(labels[idx], n_classes)
            self.update_mini_batch(images[idx].T, y, eta, lmbda, n)

    def predict(self, images):
        """Predicted digit for each row of ``images`` (shape (n, n_in)) -> (n,)."""
        return np.argmax(
            self.feedforward(np.asarray(images, dtype=np.float64).T), axis=0
        )

    def evaluate(self, test_data):
        """Number of examples in ``(images, labels)`` whose prediction is right."""
        n_in, n_out = self.sizes[0], self.sizes[-1]
        images, labels = check_dataset(test_data, n_in, n_out, "test_data")
        return self.count_correct(images, labels)

    def count_correct(self, images, labels):
        """:meth:`evaluate` for data already checked (once, by :meth:`SGD`)."""
        return int(np.sum(self.predict(images) == labels))

    def cost_derivative(self, output_activations, y):
        """:math:`\\partial C_x / \\partial a^L` for the quadratic cost: ``a - y``."""
        return output_activations - y
