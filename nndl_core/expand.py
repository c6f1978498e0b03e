"""Expanded training data: every image plus its four one-pixel shifts.

Used in chap6. The book's ``expand_mnist.py`` turned the 50,000 training
images into 250,000: each original, and copies moved one pixel down, up,
right and left, with the row or column that enters the frame set to zero
(background). It shuffled the result once and saved it; here the shuffle is
seeded and the whole set is built with a few array operations (a fraction
of a second), so nothing needs to be saved.
"""

import numpy as np

__all__ = ["SHIFTS", "expand_with_shifts", "rotate_images", "shift_images"]

#: (rows, columns) moves in the book's order: down, up, right, left.
SHIFTS = ((1, 0), (-1, 0), (0, 1), (0, -1))


def shift_images(images, d_row, d_col, side=28):
    """Move every image by ``(d_row, d_col)`` pixels, filling with zeros.

    Parameters
    ----------
    images : ndarray of shape (n, side * side)
    d_row, d_col : int
        Positive values move the digit down / right.

    Returns
    -------
    ndarray of shape (n, side * side)

    Examples
    --------
    >>> image = np.arange(9.0).reshape(1, 9)
    >>> shift_images(image, 1, 0, side=3).reshape(3, 3)
    array([[0., 0., 0.],
           [0., 1., 2.],
           [3., 4., 5.]])
    """
    square = images.reshape(-1, side, side)
    moved = np.zeros_like(square)
    rows_to = slice(max(d_row, 0), side + min(d_row, 0))
    rows_from = slice(max(-d_row, 0), side + min(-d_row, 0))
    cols_to = slice(max(d_col, 0), side + min(d_col, 0))
    cols_from = slice(max(-d_col, 0), side + min(-d_col, 0))
    moved[:, rows_to, cols_to] = square[:, rows_from, cols_from]
    return moved.reshape(images.shape)


def expand_with_shifts(images, labels, seed=None, shuffle=True, side=28):
    """The originals and their four one-pixel shifts: ``5 * n`` examples.

    Parameters
    ----------
    images : ndarray of shape (n, side * side)
    labels : ndarray of shape (n,)
    seed : int or None
        Seed of the one shuffle (the book shuffled once, too).
    shuffle : bool
        False keeps the order originals, then each shift in :data:`SHIFTS` order.

    Returns
    -------
    images : ndarray of shape (5 * n, side * side)
    labels : ndarray of shape (5 * n,)

    Examples
    --------
    >>> x, y = expand_with_shifts(np.ones((2, 784)), np.array([3, 7]), seed=0)
    >>> x.shape, sorted(y.tolist())
    ((10, 784), [3, 3, 3, 3, 3, 7, 7, 7, 7, 7])
    """
    images = np.asarray(images)
    n = len(images)
    n_parts = 1 + len(SHIFTS)
    order = (
        np.random.default_rng(seed).permutation(n_parts * n)
        if shuffle
        else np.arange(n_parts * n)
    )
    expanded = np.empty((n_parts * n,) + images.shape[1:], dtype=images.dtype)
    where = np.empty(n_parts * n, dtype=np.int64)
    where[order] = np.arange(n_parts * n)  # where each (part, image) lands
    expanded[where[:n]] = images
    for k, (d_row, d_col) in enumerate(SHIFTS, start=1):
        expanded[where[k * n : (k + 1) * n]] = shift_images(images, d_row, d_col, side)
    return expanded, np.tile(np.asarray(labels), n_parts)[order]


def rotate_images(images, degrees, side=28):
    """Rotate every image by ``degrees`` (counter-clockwise) about its centre.

    Used in chap3 (the book's rotated 5 and the expanded training data).
    Bilinear interpolation (``scipy.ndimage.rotate`` with ``order=1``);
    pixels that come from outside the frame are background (0).

    Parameters
    ----------
    images : ndarray of shape (n, side * side)
    degrees : float

    Returns
    -------
    ndarray of shape (n, side * side), values clipped to [0, 1]

    Examples
    --------
    >>> image = np.zeros((1, 9)); image[0, 4] = 1.0  # the centre pixel
    >>> print(rotate_images(image, 90, side=3).reshape(3, 3)[1, 1])
    1.0
    """
    from scipy import ndimage

    square = np.asarray(images, dtype=np.float64).reshape(-1, side, side)
    turned = ndimage.rotate(
        square, degrees, axes=(2, 1), reshape=False, order=1, mode="constant"
    )
    return np.clip(turned, 0.0, 1.0).reshape(np.shape(images))
