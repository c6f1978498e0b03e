"""When to stop and when to slow down: chapter 3's training rules.

Used in chap3 (through :func:`nndl_core.trainer.train`). Both rules look only
at the list of evaluation accuracies, one per epoch.
"""

import math

__all__ = ["HalvingSchedule", "no_improvement"]


def no_improvement(accuracies, n):
    """True when the best accuracy is more than ``n`` epochs old.

    The book's "no-improvement-in-n" rule: stop once ``n`` epochs have
    passed without beating the best accuracy so far.

    Examples
    --------
    >>> no_improvement([0.90, 0.95, 0.94, 0.93], 2)
    True
    >>> no_improvement([0.90, 0.95, 0.94], 2)
    False
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if not accuracies:
        return False
    best = max(range(len(accuracies)), key=accuracies.__getitem__)  # first best
    return len(accuracies) - 1 - best >= n


class HalvingSchedule:
    """Divide η by ``factor`` whenever accuracy stalls for ``patience`` epochs.

    The learning-rate schedule of the book's exercise: keep η while the
    evaluation accuracy improves; after ``patience`` epochs without a new
    best, halve it and start counting again; stop training once η has come
    down to ``min_fraction`` of its starting value (η₀/128 after seven
    halvings). Call :meth:`start` before training, then :meth:`step` after
    every epoch.

    Examples
    --------
    >>> s = HalvingSchedule(patience=1); s.start(1.0)
    1.0
    >>> [s.step(a) for a in (0.5, 0.4, 0.6, 0.6)]
    [1.0, 0.5, 0.5, 0.25]
    """

    def __init__(self, patience=10, factor=2.0, min_fraction=1 / 128):
        if patience < 1 or factor <= 1 or not 0 < min_fraction < 1:
            raise ValueError("need patience >= 1, factor > 1, 0 < min_fraction < 1")
        self.patience, self.factor, self.min_fraction = patience, factor, min_fraction

    def start(self, eta):
        """Remember the starting learning rate; returns it."""
        self.eta0 = self.eta = eta
        self.best, self.waited = -math.inf, 0
        return eta

    def step(self, accuracy):
        """The learning rate for the next epoch, given this epoch's accuracy."""
        if accuracy > self.best:
            self.best, self.waited = accuracy, 0
        else:
            self.waited += 1
            if self.waited >= self.patience:
                self.eta, self.waited = self.eta / self.factor, 0
        return self.eta

    @property
    def finished(self):
        """True once η has fallen to ``min_fraction`` of where it started."""
        return self.eta <= self.eta0 * self.min_fraction * (1 + 1e-12)
