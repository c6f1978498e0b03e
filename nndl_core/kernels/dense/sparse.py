"""The nonzero inputs: what the dense kernels read instead of whole rows.

About 80% of MNIST's pixels are exactly 0.0, and a product with an exact zero
adds nothing to a sum. So every layer sees its input as a list of nonzero
entries per example, ``(starts, stops, indices, values)``: example ``e``'s
nonzero inputs are ``indices[starts[e]:stops[e]]`` with values
``values[starts[e]:stops[e]]``. For the input layer these lists point into
:class:`SparseImages`, the compressed sparse rows of the whole data set,
made once (:func:`to_sparse`); for a hidden layer they are listed per
mini-batch from its activations (:func:`list_nonzero`, which also applies
the dropout mask). :class:`SparseImages` also marks, in each image's list,
where the pixels past the data set's ``split`` (:func:`balanced_split`)
begin: the training epoch sums and steps the first layer's rows in those
two halves (:mod:`nndl_core.kernels.dense.threads`).
"""

from collections import namedtuple

import numpy as np
from numba import njit

from .._options import NJIT_INLINE_OPTIONS, NJIT_OPTIONS
from ..simd import prefetch

__all__ = ["SparseImages", "balanced_split", "input_rows", "list_nonzero", "to_sparse"]


SparseImages = namedtuple(
    "SparseImages", ["indptr", "indices", "values", "shape", "split", "middles"]
)
SparseImages.__doc__ = """A data set's images as compressed sparse rows (``to_sparse``).

Image ``i``'s nonzero pixels are ``indices[indptr[i]:indptr[i+1]]``
(increasing; uint32, unsigned so that Numba adds no negative-index checks)
with values ``values[indptr[i]:indptr[i+1]]`` (float64, exactly the images'
values). ``shape`` is the dense shape (n_samples, n_in). ``split`` (int)
divides the pixels into two halves with about as many nonzero entries
each, pixels ``< split`` and pixels ``>= split``; image ``i``'s second
half starts at ``middles[i]`` (int64, between ``indptr[i]`` and
``indptr[i+1]``). The training epoch sums each half separately
(``threads.train_epoch_part``).
"""


@njit(**NJIT_OPTIONS)
def _count_nonzero(images, indptr, columns):
    """``indptr[i + 1] = indptr[i] + (number of nonzero entries of row i)``.

    Also adds to ``columns[k]`` the number of rows whose entry ``k`` is nonzero.
    """
    for i in range(images.shape[0]):
        count = 0
        row = images[i]
        for k in range(row.shape[0]):
            nonzero = row[k] != 0.0  # NaN counts as nonzero
            count += nonzero
            columns[k] += nonzero
        indptr[i + 1] = indptr[i] + count


@njit(**NJIT_OPTIONS)
def _fill_sparse(images, indptr, split, indices, values, middles):
    """Write each row's nonzero entries at ``indptr[i]`` (see :func:`to_sparse`).

    Those at columns ``< split`` first, then ``middles[i]``: where the ones
    at columns ``>= split`` begin.
    """
    for i in range(images.shape[0]):
        row = images[i]
        middles[i] = _fill_columns(row, 0, split, indptr[i], indices, values)
        _fill_columns(row, split, row.shape[0], middles[i], indices, values)


@njit(**NJIT_OPTIONS)
def _fill_columns(row, lo, hi, position, indices, values):
    """Write ``row``'s nonzero entries in columns ``[lo, hi)`` from ``position``.

    Returns the position after the last one written.
    """
    for k in range(lo, hi):
        if row[k] != 0.0:  # NaN counts as nonzero
            indices[position] = k
            values[position] = row[k]
            position += 1
    return position


@njit(**NJIT_OPTIONS)
def list_nonzero(a, mask, n_in, start, indices, values):
    """List the inputs ``k < n_in`` with ``a[k] * mask[k] != 0``; return where it ends.

    Writes from position ``start``: afterwards ``values[i] == a[indices[i]] *
    mask[indices[i]]`` for ``start <= i < stop``. ``mask`` is the dropout mask
    (0 or ``1/(1 - p_drop)``; ones without dropout), so the values are exactly
    the reference's ``activation * mask``. NaN counts as nonzero.
    """
    stop = start
    for k in range(n_in):
        v = a[k] * mask[k]
        indices[stop] = k  # written every time, kept only if v != 0: no branch
        values[stop] = v
        stop += v != 0.0
    return stop


@njit(**NJIT_OPTIONS)
def input_rows(images, rows):
    """The input layer's nonzero entries for images ``rows`` (m,) of ``images``.

    Returns ``(starts, stops, indices, values)``: example ``e``'s nonzero
    pixels lie at ``[starts[e], stops[e])`` of the data set's ``indices`` and
    ``values``. An epoch calls this once for its whole shuffled order and
    slices a mini-batch's rows out of it (:func:`batch_rows`): ``indptr`` is
    then read in sequence, where looking up ten random images per
    mini-batch missed the cache for each.
    """
    indptr, indices, values = images
    starts = np.empty(rows.shape[0], dtype=np.int64)
    stops = np.empty(rows.shape[0], dtype=np.int64)
    for e in range(rows.shape[0]):
        starts[e] = indptr[rows[e]]
        stops[e] = indptr[rows[e] + 1]
    return starts, stops, indices, values


@njit(**NJIT_INLINE_OPTIONS)
def batch_rows(inputs, start, stop):
    """Examples ``start:stop`` of :func:`input_rows`' listing."""
    starts, stops, indices, values = inputs
    return starts[start:stop], stops[start:stop], indices, values


@njit(**NJIT_OPTIONS)
def prefetch_rows(inputs):
    """Ask for the nonzero pixels of the examples in ``inputs`` ahead of their use.

    A shuffled epoch reads each image's list from a random place in memory
    (the whole training set's lists are some 90 MB, far more than the
    caches); asking for the next mini-batch's lists while this one computes
    lets those reads overlap the arithmetic instead of stalling it. The
    epoch asks for half a mini-batch at a time, before the forward pass and
    before the step: all at once, the requests filled the queue of
    outstanding misses and the processor waited on it.
    """
    starts, stops, indices, values = inputs
    for e in range(starts.shape[0]):
        start, stop = starts[e], stops[e]
        for p in range(start, stop, 16):  # 16 uint32 indices per 64-byte line
            prefetch(indices, p)
        for p in range(start, stop, 8):  # 8 float64 values per line
            prefetch(values, p)


def to_sparse(images):
    """The nonzero pixels of every image, as :class:`SparseImages`.

    Made once per training run: each epoch then reads ~20% of the bytes of
    the dense MNIST images, and no pass searches for nonzero pixels.

    Parameters
    ----------
    images : ndarray of shape (n_samples, n_in)

    Examples
    --------
    >>> sparse = to_sparse(np.array([[0.0, 2.0, 0.0], [1.0, 0.0, 3.0]]))
    >>> sparse.indptr.tolist(), sparse.indices.tolist(), sparse.values.tolist()
    ([0, 1, 3], [1, 0, 2], [2.0, 1.0, 3.0])
    """
    images = np.ascontiguousarray(images, dtype=np.float64)
    if images.ndim != 2:
        raise ValueError(
            f"images must have shape (n_samples, n_in), got {images.shape}"
        )
    if images.shape[1] >= 2**32:
        raise ValueError("images with 2**32 or more inputs do not fit uint32 indices")
    indptr = np.zeros(images.shape[0] + 1, dtype=np.int64)
    columns = np.zeros(images.shape[1], dtype=np.int64)
    _count_nonzero(images, indptr, columns)
    split = balanced_split(columns)
    indices = np.empty(indptr[-1], dtype=np.uint32)
    values = np.empty(indptr[-1])
    middles = np.empty(images.shape[0], dtype=np.int64)
    _fill_sparse(images, indptr, split, indices, values, middles)
    return SparseImages(indptr, indices, values, images.shape, split, middles)


def balanced_split(counts):
    """The pixel that divides a data set's nonzero entries into two equal halves.

    ``counts[k]`` is the number of images whose pixel ``k`` is nonzero. The
    smallest ``split`` such that pixels ``< split`` hold at least half of the
    nonzero entries (``len(counts) // 2`` if there are none). For MNIST's
    training images this is 407, a little past the middle (392): the digits
    sit a little low in their boxes.

    >>> balanced_split(np.count_nonzero([[1.0, 0.0, 2.0, 3.0], [0, 0, 5, 0]], axis=0))
    3
    """
    cumulative = np.cumsum(counts)
    if cumulative.size == 0 or cumulative[-1] == 0:
        return len(counts) // 2
    return int(np.searchsorted(cumulative, cumulative[-1] / 2)) + 1
