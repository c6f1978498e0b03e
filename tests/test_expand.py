"""The expanded training set: one-pixel shifts, seeded shuffle."""

import numpy as np

from nndl_core.expand import expand_with_shifts, shift_images


def test_shifts_move_a_pixel_and_fill_with_zeros():
    image = np.zeros((1, 784))
    image[0, 28 * 5 + 7] = 1.0  # row 5, column 7
    for (d_row, d_col), (row, col) in {
        (1, 0): (6, 7),
        (-1, 0): (4, 7),
        (0, 1): (5, 8),
        (0, -1): (5, 6),
    }.items():
        moved = shift_images(image, d_row, d_col).reshape(28, 28)
        assert moved[row, col] == 1.0 and moved.sum() == 1.0
    edge = np.zeros((1, 784))
    edge[0, :28] = 1.0  # the top row leaves the frame when moved up
    assert shift_images(edge, -1, 0).sum() == 0.0


def test_expansion_is_five_times_larger_seeded_and_consistent(rng):
    images = rng.random((20, 784))
    labels = np.arange(20)
    x, y = expand_with_shifts(images, labels, seed=3)
    x2, y2 = expand_with_shifts(images, labels, seed=3)
    assert x.shape == (100, 784)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    np.testing.assert_array_equal(np.bincount(y), 5)
    for row, label in zip(x, y, strict=True):  # each row is a shift of its image
        candidates = [images[label]] + [
            shift_images(images[label : label + 1], *s)[0]
            for s in ((1, 0), (-1, 0), (0, 1), (0, -1))
        ]
        assert any(np.array_equal(row, c) for c in candidates)
    ordered, _ = expand_with_shifts(images, labels, shuffle=False)
    np.testing.assert_array_equal(ordered[:20], images)
