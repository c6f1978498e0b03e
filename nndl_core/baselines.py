"""Baselines that chapter 1 measures the network against.

Used in chap1: guessing at random, the "average darkness" classifier and a
support vector machine (scikit-learn, optional).
"""

import numpy as np

__all__ = ["AverageDarkness", "random_guess_accuracy", "svm_accuracy"]


def random_guess_accuracy(labels, seed=None, n_classes=10):
    """Fraction of ``labels`` matched by uniformly random guesses.

    Examples
    --------
    >>> labels = np.arange(10_000) % 10
    >>> print(f"{random_guess_accuracy(labels, seed=0):.2f}")
    0.10
    """
    guesses = np.random.default_rng(seed).integers(0, n_classes, size=len(labels))
    return float(np.mean(guesses == labels))


class AverageDarkness:
    """Classify a digit by how much ink it has.

    ``fit`` records, for each digit, the mean total intensity of its training
    images; ``predict`` gives each image the digit whose mean is nearest its
    own total intensity.

    Examples
    --------
    >>> images = np.array([[0.1, 0.1], [0.9, 0.8], [0.2, 0.0]])
    >>> model = AverageDarkness().fit(images, np.array([0, 1, 0]))
    >>> model.predict(np.array([[1.0, 0.6], [0.0, 0.1]]))
    array([1, 0])
    """

    def fit(self, images, labels):
        darkness = images.sum(axis=1)  # (n,) total ink per image
        self.digits_ = np.unique(labels)
        self.mean_darkness_ = np.array(
            [darkness[labels == d].mean() for d in self.digits_]
        )
        return self

    def predict(self, images):
        darkness = images.sum(axis=1)[:, None]  # (n, 1) against (n_digits,)
        return self.digits_[np.argmin(np.abs(darkness - self.mean_darkness_), axis=1)]


def svm_accuracy(training, test, gamma="auto"):
    """Test accuracy of scikit-learn's RBF ``SVC`` trained on raw pixels.

    ``gamma="auto"`` (1/784) reproduces the book's 2015 defaults; scikit-learn
    0.22 changed the default to ``"scale"``.

    Raises
    ------
    ModuleNotFoundError
        When scikit-learn is not installed (``pip install nndl-core[svm]``).
    """
    from sklearn.svm import SVC

    model = SVC(gamma=gamma).fit(training.images, training.labels)
    return float(np.mean(model.predict(test.images) == test.labels))
