"""The checks every trainer runs on its inputs before it starts."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from nndl_core.validation import (
    check_dataset,
    check_labels,
    check_learning_rate,
    check_sgd,
    check_sizes,
    check_whole,
)


@pytest.mark.parametrize(
    "value, expected", [(3, 3), (np.int32(7), 7), (30.0, 30), (np.float32(2.0), 2)]
)
def test_whole_numbers_come_back_as_int(value, expected):
    actual = check_whole(value, "size")
    assert actual == expected and type(actual) is int


@pytest.mark.parametrize(
    "value, error, message",
    [
        (2.7, ValueError, "size must be a whole number, got 2.7"),
        (float("nan"), ValueError, "whole number"),
        (float("inf"), ValueError, "whole number"),
        (0, ValueError, "size must be at least 1, got 0"),
        ("30", TypeError, "size must be a whole number, got '30'"),
        (True, TypeError, "whole number"),
        (None, TypeError, "whole number"),
    ],
)
def test_other_values_are_not_sizes(value, error, message):
    with pytest.raises(error, match=message):
        check_whole(value, "size")


def test_sizes_name_the_layer_that_is_wrong():
    assert check_sizes((784, 30.0, 10)) == [784, 30, 10]
    with pytest.raises(ValueError, match=r"sizes\[1\] must be a whole number"):
        check_sizes([784, 2.7, 10])
    with pytest.raises(ValueError, match="at least two"):
        check_sizes([784])
    with pytest.raises(TypeError, match=r"such as \[784, 30, 10\]"):
        check_sizes(784)


@pytest.mark.parametrize("eta", [0.0, -1.0, np.inf, np.nan])
def test_learning_rate_must_be_positive_and_finite(eta):
    with pytest.raises(ValueError, match="eta must be a positive, finite number"):
        check_learning_rate(eta)


def test_learning_rate_must_be_a_number():
    with pytest.raises(TypeError, match="eta must be a number"):
        check_learning_rate("3.0")
    assert check_learning_rate(np.float32(0.5)) == 0.5


def test_sgd_hyper_parameters():
    assert check_sgd(0, 10, 3, n=100) == (0, 10, 3.0, 0.0)  # 0 epochs: asked for
    assert check_sgd(1, 500, 3.0, n=100) == (1, 500, 3.0, 0.0)  # one short batch
    with pytest.raises(ValueError, match="epochs must be at least 0"):
        check_sgd(-1, 10, 3.0, n=100)
    with pytest.raises(ValueError, match="mini_batch_size must be at least 1"):
        check_sgd(1, 0, 3.0, n=100)
    with pytest.raises(ValueError, match="mini_batch_size must be a whole number"):
        check_sgd(1, 2.5, 3.0, n=100)
    with pytest.raises(ValueError, match="pass at most 100"):
        check_sgd(1, 101, 3.0, n=100, drop_last=True)
    for lmbda in (-1.0, np.nan, np.inf):
        with pytest.raises(ValueError, match="lmbda must be a finite number >= 0"):
            check_sgd(1, 10, 3.0, n=100, lmbda=lmbda)


@pytest.mark.parametrize(
    "labels, message",
    [
        ([3, 0, 9, -1], "got -1 at index 3"),  # once trained as a 9, silently
        ([10, 0], "got 10 at index 0"),  # once a bare IndexError
        ([0, 1, 2, 99, -5], "got 99 at index 3"),  # the first bad one is named
    ],
)
def test_labels_out_of_range_are_named_with_their_index(labels, message):
    with pytest.raises(ValueError, match=f"labels must be integers 0..9; {message}"):
        check_labels(np.array(labels), 10)


def test_labels_must_be_integers():
    with pytest.raises(TypeError, match=r"labels must be integers 0..9, got float64"):
        check_labels(np.array([1.0, 2.0]), 10)
    with pytest.raises(TypeError, match="got bool"):
        check_labels(np.array([True, False]), 10)
    actual = check_labels(np.array([3, 0], dtype=np.uint8), 10)
    assert actual.dtype == np.int64
    assert_array_equal(actual, [3, 0])


def test_without_a_class_count_labels_need_only_be_non_negative():
    assert_array_equal(check_labels([0, 12345], None), [0, 12345])
    with pytest.raises(ValueError, match="integers >= 0; got -2 at index 1"):
        check_labels([0, -2], None)


def test_a_good_dataset_is_passed_through_without_a_copy(rng):
    images, labels = rng.random((6, 4)), rng.integers(0, 3, 6)
    checked_images, checked_labels = check_dataset((images, labels), 4, 3)
    assert checked_images is images
    assert_array_equal(checked_labels, labels)
    as_float32, _ = check_dataset((images, labels), 4, 3, dtype=np.float32)
    assert as_float32.dtype == np.float32 and as_float32.flags.c_contiguous


@pytest.mark.parametrize(
    "data, error, message",
    [
        ([1, 2, 3], TypeError, "training_data must be a pair"),
        ((np.zeros((0, 4)), np.zeros(0, int)), ValueError, "training_data is empty"),
        ((np.zeros((5, 3)), np.zeros(5, int)), ValueError, r"shape \(n_samples, 4\)"),
        ((np.zeros((5, 2, 2)), np.zeros(5, int)), ValueError, r"got \(5, 2, 2\)"),
        ((np.zeros((5, 4)), np.zeros(4, int)), ValueError, r"shape \(5,\), one per"),
        ((np.array([["a"] * 4]), [0]), TypeError, "array of numbers"),
        ((np.zeros((5, 4)), np.full(5, 3)), ValueError, "0..2; got 3 at index 0"),
    ],
)
def test_bad_datasets_are_explained(data, error, message):
    with pytest.raises(error, match=message):
        check_dataset(data, 4, 3, "training_data")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_pixels_are_found_by_row(bad):
    images = np.zeros((5, 4))
    images[3, 1] = bad
    images[4, 0] = -bad  # inf - inf makes the quick sum NaN: still found
    with pytest.raises(ValueError, match=r"NaN or infinite values \(first in row 3\)"):
        check_dataset((images, np.zeros(5, int)), 4, 3, "test_data")


def test_huge_finite_pixels_are_not_mistaken_for_infinite():
    images = np.full((3, 2), 1e308)  # their sum overflows; each pixel is finite
    checked, _ = check_dataset((images, [0, 1, 2]), 2, 3)
    assert checked is images
