"""Small pieces every chapter's experiments share."""

from ..data import Dataset

__all__ = ["epoch_reporter", "summary", "take"]


def take(dataset, n):
    """The first ``n`` examples of ``dataset`` as a :class:`~nndl_core.data.Dataset`."""
    return Dataset(*(part[:n] for part in dataset))


def epoch_reporter(progress, epochs, done=0):
    """An SGD ``callback(epoch, history)`` calling ``progress(done, total)``."""

    def report(epoch, history):
        if progress is not None:
            progress(done + epoch + 1, epochs)

    return report


def summary(history):
    """A run's result: its history and the best and final evaluation accuracy."""
    best_epoch, best = history.best()[:2]
    return {
        "history": history.to_dict(),
        "best_epoch": best_epoch,
        "best": best,
        "final": history.evaluation_accuracy[-1],
    }
