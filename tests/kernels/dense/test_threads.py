"""Two threads train the network one thread trains, bit for bit (dense.threads).

Plain SGD's epoch on two threads against the same epoch on one, for every
option but momentum (which runs on one), every neuron and cost, tiny
networks whose halves of the pixels may be empty, and all-zero images; the
tasks each thread runs, a helper that starts late or is benched, a thread
that fails or aborts, and the settings that choose the number of threads.
(That one thread equals the readable references is test_epoch.py's.)
"""

import time
from functools import partial

import numpy as np
import pytest

from nndl_core import Network, costs
from nndl_core._testing import VALUE_RANGES, make_inputs
from nndl_core.data import load_mnist
from nndl_core.kernels import dense, sync
from nndl_core.kernels.sync import STRIDE

COSTS = {
    "quadratic": costs.QuadraticCost,
    "cross_entropy": costs.CrossEntropyCost,
    "log_likelihood": costs.LogLikelihoodCost,
}
OPTIONS = {
    "plain": {},
    "l2": {"lmbda": 5.0},
    "l1": {"lmbda": 5.0, "regularization": "l1"},
    "dropout": {"dropout": 0.5},
}


def _wait_for(flags, i, value):
    """Wait for counter ``i`` to reach ``value``; False if a thread aborted."""
    while sync.peek(flags, i) < value:
        if sync.peek(flags, sync.ABORT) != 0:
            return False
        time.sleep(0)
    return True


@pytest.fixture(scope="module")
def mnist_rows():
    """100 real MNIST training images (rows) and labels."""
    training = load_mnist(subset=True).training
    return training.images[:100], training.labels[:100]


THREAD_RUNS = {  # name: (sizes, n examples, mini-batch size, epochs)
    "784-30-10, mnist": ([784, 30, 10], 100, 10, 2),
    "784-100-10, mnist": ([784, 100, 10], 100, 10, 2),
    "two hidden layers, short last mini-batch": ([784, 40, 17, 4], 100, 7, 2),
    "a mini-batch bigger than the data": ([784, 20, 3], 30, 50, 2),
    "no hidden layer": ([784, 10], 100, 10, 2),
}


def _train_with_threads(threads, make_net, images, labels, orders, size, option):
    net = make_net()
    rng = np.random.default_rng(3)  # dropout masks
    for order in orders:
        dense.train_epoch(
            net,
            images,
            labels,
            order,
            size,
            0.5,
            rng=rng,
            threads=threads,
            **OPTIONS[option],
        )
    return net.weights + net.biases


def _assert_same_bits(args):
    one, two = _train_with_threads(1, *args), _train_with_threads(2, *args)
    for actual, expected in zip(two, one):
        np.testing.assert_array_equal(actual, expected)


@pytest.mark.parametrize("option", ["plain", "l2", "l1", "dropout"])
@pytest.mark.parametrize("run", sorted(THREAD_RUNS))
def test_two_threads_give_the_bits_of_one(seed, mnist_rows, option, run):
    sizes, n, size, epochs = THREAD_RUNS[run]
    rng = np.random.default_rng(seed)
    images, labels = mnist_rows[0][:n], mnist_rows[1][:n] % sizes[-1]
    orders = [rng.permutation(n) for _ in range(epochs)]
    make_net = partial(Network, sizes, seed=seed, cost=costs.CrossEntropyCost)
    _assert_same_bits((make_net, dense.to_sparse(images), labels, orders, size, option))


@pytest.mark.parametrize("cost", sorted(COSTS))
@pytest.mark.parametrize("hidden", ["tanh", "relu"])
def test_two_threads_give_the_bits_of_one_for_every_neuron(
    seed, mnist_rows, cost, hidden
):
    images, labels = mnist_rows
    orders = [np.random.default_rng(seed).permutation(len(labels))]
    make_net = partial(
        Network,
        [784, 30, 10],
        seed=seed,
        cost=COSTS[cost],
        activation=hidden,
        initializer="default",
    )
    _assert_same_bits((make_net, dense.to_sparse(images), labels, orders, 10, "l2"))


@pytest.mark.parametrize("kind", VALUE_RANGES)
@pytest.mark.parametrize("sizes", [[1, 1], [2, 3, 2], [5, 7, 3]])
def test_two_threads_give_the_bits_of_one_on_tiny_networks(seed, kind, sizes):
    # with one or two inputs, one thread's half of the pixels may be empty
    rng = np.random.default_rng(seed)
    images = make_inputs(rng, sizes[0], 9, kind).T.copy()
    labels = rng.integers(0, sizes[-1], 9)
    orders = [rng.permutation(9) for _ in range(3)]
    make_net = partial(Network, sizes, seed=seed)
    _assert_same_bits((make_net, dense.to_sparse(images), labels, orders, 4, "l2"))


def test_two_threads_on_all_zero_images():
    images, labels = np.zeros((6, 4)), np.arange(6) % 3
    make_net = partial(Network, [4, 9, 3], seed=0)
    orders = [np.arange(6)]
    _assert_same_bits((make_net, dense.to_sparse(images), labels, orders, 4, "plain"))


@pytest.mark.parametrize(
    "mu, threads, expected", [(0.0, 2, 2), (0.0, 8, 2), (0.9, 2, 1), (0.0, 1, 1)]
)
def test_parts(mu, threads, expected):
    assert dense.threads.parts(mu, threads) == expected


def test_parts_rejects_no_threads():
    with pytest.raises(ValueError, match="threads must be at least 1"):
        dense.threads.parts(0.0, 0)


@pytest.mark.parametrize(
    "setting, expected", [("", None), ("1", 1), ("3", 3), (" 2 ", 2)]
)
def test_default_threads_follows_nndl_threads(monkeypatch, setting, expected):
    monkeypatch.setenv("NNDL_THREADS", setting)
    threads = dense.threads.default_threads()
    if expected is None:
        assert 1 <= threads <= dense.threads.MAX_THREADS
    else:
        assert threads == expected


@pytest.mark.parametrize("setting", ["0", "-2", "two", "1.5"])
def test_default_threads_rejects_a_bad_setting(monkeypatch, setting):
    monkeypatch.setenv("NNDL_THREADS", setting)
    with pytest.raises(ValueError, match="NNDL_THREADS must be a whole number"):
        dense.threads.default_threads()


def test_a_failing_thread_fails_the_epoch_instead_of_hanging(monkeypatch, mnist_rows):
    waited = []

    def part(*args):
        flags = args[-2]
        if args[-3] == 1:
            raise MemoryError("part 1 could not allocate its workspace")
        waited.append(_wait_for(flags, dense.threads.READY, 1))  # released by abort
        return 0

    monkeypatch.setattr(dense.threads, "train_epoch_part", part)
    images, labels = mnist_rows
    net = Network([784, 30, 10], seed=0)
    with pytest.raises(MemoryError, match="part 1"):
        dense.train_epoch(net, images, labels, np.arange(10), 5, 1.0, threads=2)
    assert waited == [False]


def test_the_two_threads_run_every_task_once(seed, mnist_rows):
    images, labels = mnist_rows
    net = Network([784, 30, 10], seed=seed)
    sparse = dense.to_sparse(images)
    rng = np.random.default_rng(seed)
    for _ in range(5):
        ran = dense.train_epoch(
            net, sparse, labels, rng.permutation(len(labels)), 7, 3.0, threads=2
        )
        assert len(ran) == 2 and min(ran) >= 0
        assert sum(ran) == 4 * 15  # a sum and a step per half and mini-batch
    ran = dense.train_epoch(net, sparse, labels, np.arange(9), 7, 3.0)
    assert len(ran) == dense.threads.parts(0.0) and sum(ran) == 4 * 2
    assert dense.train_epoch(net, sparse, labels, np.arange(9), 7, 3.0, mu=0.5) == []


def _part_arguments(net, images, labels, order, mini_batch_size, eta):
    layout, params = dense.pack(net)
    sparse = dense.to_sparse(images)
    rule = dense.steps.Rule(eta, 0.0, 0, 1.0, 0.0, dense.cost_code(net))
    width = int(layout.widths[1])
    shared = dense.threads.Shared(
        np.zeros((2, mini_batch_size, width)),
        np.zeros((mini_batch_size, width)),
        np.zeros(2),
    )
    head = ((sparse.indptr, sparse.indices, sparse.values), sparse.middles)
    body = (sparse.split, labels, order, mini_batch_size, rule, np.zeros((0, 1)))
    return (
        params,
        layout,
        head + body,
        sync.make_flags(dense.threads.N_COUNTERS),
        shared,
    )


def _one_epoch_by_hand(seed, mnist_rows):
    """The arguments of one epoch's parts, and a checker against one thread."""
    images, labels = mnist_rows
    order = np.random.default_rng(seed).permutation(len(labels))
    net = Network([784, 30, 10], seed=seed)
    params, layout, args, flags, shared = _part_arguments(
        net, images, labels, order, 10, 3.0
    )

    def assert_one_threads_result():
        expected = Network([784, 30, 10], seed=seed)
        dense.train_epoch(expected, images, labels, order, 10, 3.0, threads=1)
        weights, biases = dense.unpack(layout, params)
        for actual, wanted in zip(weights + biases, expected.weights + expected.biases):
            np.testing.assert_array_equal(actual, wanted)

    def part(number):
        return dense.threads.train_epoch_part(
            *args, params, layout, number, flags, shared
        )

    return part, flags, assert_one_threads_result


def test_thread_0_alone_runs_every_task_and_a_late_helper_none(seed, mnist_rows):
    # a helper that never got the core until the epoch was over: thread 0
    # did its half too, and the result is one thread's
    part, _, assert_one_threads_result = _one_epoch_by_hand(seed, mnist_rows)
    assert part(0) == 40
    assert part(1) == 0
    assert_one_threads_result()


def test_a_thread_stops_waiting_when_the_other_aborts(mnist_rows):
    images, labels = mnist_rows
    net = Network([784, 30, 10], seed=0)
    params, layout, args, flags, shared = _part_arguments(
        net, images, labels, np.arange(100), 10, 3.0
    )
    sync.abort(flags)
    # the helper would wait for thread 0's first delta; thread 0 gives up too
    assert dense.threads.train_epoch_part(*args, params, layout, 1, flags, shared) == -1
    assert dense.threads.train_epoch_part(*args, params, layout, 0, flags, shared) == -1


def test_split_rows_divides_each_list_at_the_split(mnist_rows):
    images = mnist_rows[0]
    sparse = dense.to_sparse(images)
    assert sparse.split == dense.sparse.balanced_split(np.count_nonzero(images, axis=0))
    order = np.random.default_rng(0).permutation(len(images))
    listed = dense.sparse.input_rows(
        (sparse.indptr, sparse.indices, sparse.values), order
    )
    first, second = dense.threads.split_rows(listed, sparse.middles, order)
    for e, i in enumerate(order):
        low = sparse.indices[first[0][e] : first[1][e]]
        high = sparse.indices[second[0][e] : second[1][e]]
        assert first[1][e] == second[0][e]
        assert np.all(low < sparse.split) and np.all(high >= sparse.split)
        expected = np.flatnonzero(images[i])
        np.testing.assert_array_equal(np.concatenate([low, high]), expected)


def test_a_benched_helper_claims_nothing_and_changes_nothing(seed, mnist_rows):
    import threading

    part, flags, assert_one_threads_result = _one_epoch_by_hand(seed, mnist_rows)
    flags[dense.threads.BENCHED * STRIDE] = 10**9  # benched for the whole epoch
    ran = []
    helper = threading.Thread(target=lambda: ran.append(part(1)))
    helper.start()
    thread_0 = part(0)
    helper.join(timeout=60)
    assert (thread_0, ran) == (40, [0])
    assert_one_threads_result()


def test_each_benching_lasts_twice_as_long_as_the_one_before():
    flags = sync.make_flags(dense.threads.N_COUNTERS)
    for times, batch in enumerate((10, 500, 520)):
        dense.threads._bench(flags, batch)
        assert sync.peek(flags, dense.threads.BENCHINGS) == times + 1
        expected = batch + 1 + dense.threads.BENCH * 2**times
        assert sync.peek(flags, dense.threads.BENCHED) == expected
