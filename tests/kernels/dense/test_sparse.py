"""The nonzero inputs: ``to_sparse`` keeps every value and marks the split."""

import numpy as np
import pytest

from nndl_core._testing import make_inputs
from nndl_core.kernels import dense


def test_to_sparse_keeps_every_nonzero_value(seed):
    images = make_inputs(np.random.default_rng(seed), 7, 12, "zeros").T.copy()
    images[3] = 0.0  # an image with no nonzero pixel at all
    sparse = dense.to_sparse(images)
    assert sparse.shape == images.shape
    assert sparse.indptr[3] == sparse.indptr[4]
    rebuilt = np.zeros_like(images)
    for i in range(len(images)):
        row = slice(sparse.indptr[i], sparse.indptr[i + 1])
        rebuilt[i, sparse.indices[row]] = sparse.values[row]
        assert np.all(np.diff(sparse.indices[row].astype(np.int64)) > 0)
    np.testing.assert_array_equal(rebuilt, images)
    assert len(sparse.values) == np.count_nonzero(images)


def test_to_sparse_marks_where_each_image_crosses_the_split(seed):
    images = make_inputs(np.random.default_rng(seed), 9, 20, "zeros").T.copy()
    images[3] = 0.0
    sparse = dense.to_sparse(images)
    split = sparse.split
    assert split == dense.sparse.balanced_split(np.count_nonzero(images, axis=0))
    for i in range(len(images)):
        start, middle, stop = sparse.indptr[i], sparse.middles[i], sparse.indptr[i + 1]
        assert start <= middle <= stop
        assert np.all(sparse.indices[start:middle] < split)
        assert np.all(sparse.indices[middle:stop] >= split)


@pytest.mark.parametrize(
    "images, expected",
    [
        (np.zeros((3, 6)), 3),  # no nonzero entry: the middle
        (np.zeros((0, 6)), 3),
        (np.eye(4), 2),  # pixels 0 and 1 hold half
        (np.array([[0.0, 0.0, 0.0, 5.0]]), 4),  # everything in the last pixel
        (np.array([[7.0, 0.0, 0.0, 0.0]]), 1),
    ],
)
def test_balanced_split(images, expected):
    nonzero = np.count_nonzero(images, axis=0)
    assert dense.sparse.balanced_split(nonzero) == expected
    assert dense.to_sparse(images).split == expected
    if nonzero.sum():
        assert nonzero[:expected].sum() >= nonzero.sum() / 2
        assert nonzero[: expected - 1].sum() < nonzero.sum() / 2
