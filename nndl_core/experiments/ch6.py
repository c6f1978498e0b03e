"""Chapter 6's experiments: the road from a shallow network to a 99.6 % ensemble.

The book's numbers and settings come from the original's chapter 6,
section "Convolutional neural networks in practice". Every number the book
quotes is the test accuracy at the epoch of best validation accuracy, best
of three runs; ours is one run per seed, scored the same way (ties go to
the later epoch).

Profiles: ``full`` is the book's exact settings (network3's L2 scaling and
initialisation included); ``default`` trains clearly labelled reduced
versions (fewer images and epochs) so the chapter trains in about 15
minutes on 2 cores; ``ci`` is tiny.

The runs themselves (one network, an ensemble, their checkpoints) are in
:mod:`nndl_core.experiments.conv_runs`; this module is the catalogue.
"""

from dataclasses import replace

from . import BookFigure, Profile, experiment, latest
from .conv_runs import ConvParams, train_convnet, train_ensemble

SECTION = "chap6, 'Convolutional neural networks in practice'"
URL = "http://neuralnetworksanddeeplearning.com/chap6.html"


def cached_full(name, seed=None):
    """The newest cached ``full``-profile result of ``name``, or None (never trains).

    It may come from earlier library code (``result.stale``); the page says so.
    """
    return latest(name, "full", seed)


# --- the progression -----------------------------------------------------------

SHALLOW = ConvParams(0, "sigmoid", 100, 1, 0.0, 60, 0.1, 0.0)
CONV1 = replace(SHALLOW, n_conv=1)
CONV2 = replace(SHALLOW, n_conv=2)
RELU = replace(CONV2, activation="relu", eta=0.03, lmbda=0.1)
EXPANDED = replace(RELU, expanded=True)
FC2 = replace(EXPANDED, n_fc=2)
DROPOUT = replace(FC2, n_hidden=1000, p_drop=0.5, epochs=40, lmbda=0.0)
ENSEMBLE = replace(DROPOUT, n_networks=5)


def _profiles(full, default, default_note):
    ci = replace(
        full,
        n_train=400 if not full.expanded else 100,
        epochs=2,
        n_validation=500,
        n_test=500,
        n_hidden=min(full.n_hidden, 100),
        n_networks=min(full.n_networks, 2),
    )
    return {
        "ci": Profile(ci, "tiny: a few hundred images, 2 epochs; numbers mean little"),
        "default": Profile(default, default_note),
        "full": Profile(full, "the book's settings"),
    }


def _reduced(full, n_train, epochs):
    expanded = f" (x5 = {5 * n_train:,} after expansion)" if full.expanded else ""
    return (
        replace(full, n_train=n_train, epochs=epochs),
        f"reduced: {n_train:,} training images{expanded}, {epochs} epochs "
        f"(the book: {full.n_train:,}, {full.epochs} epochs)",
    )


def _register(name, title, full, default, book_value, book_text, run=train_convnet):
    profiles = _profiles(full, *default)
    if full.keep_params:
        profiles = {
            k: Profile(replace(p.params, keep_params=True), p.note)
            for k, p in profiles.items()
        }
    experiment(
        name,
        title=title,
        profiles=profiles,
        book=BookFigure(
            book_value, book_text, "test at best validation", SECTION, 0.003
        ),
    )(run)


_register(
    "ch6.shallow",
    "Shallow baseline: FC 100 sigmoid + softmax, eta = 0.1, 60 epochs",
    SHALLOW,
    _reduced(SHALLOW, 50_000, 20),
    0.9780,
    "97.80 %",
)
_register(
    "ch6.conv1",
    "One conv-pool layer (20 maps, 5x5, pool 2x2) + FC 100 + softmax",
    CONV1,
    _reduced(CONV1, 20_000, 4),
    0.9878,
    "98.78 %",
)
_register(
    "ch6.conv2",
    "Two conv-pool layers (20 then 40 maps) + FC 100 + softmax, sigmoid",
    CONV2,
    _reduced(CONV2, 20_000, 4),
    0.9906,
    "99.06 %",
)
_register(
    "ch6.relu",
    "Two conv-pool layers with ReLU, eta = 0.03, lmbda = 0.1",
    replace(RELU, keep_params=True),
    _reduced(replace(RELU, keep_params=True), 20_000, 4),
    0.9923,
    "99.23 %",
)
_register(
    "ch6.expanded",
    "ReLU network trained on the expanded (one-pixel shifts) data",
    EXPANDED,
    _reduced(EXPANDED, 4_000, 2),
    0.9937,
    "99.37 %",
)
_register(
    "ch6.fc2",
    "An extra fully connected layer: two FC ReLU layers of 100",
    FC2,
    _reduced(FC2, 4_000, 2),
    0.9943,
    "99.43 %",
)
_register(
    "ch6.dropout",
    "Dropout (p = 0.5) on two FC layers of 1,000 neurons, 40 epochs",
    DROPOUT,
    _reduced(DROPOUT, 4_000, 2),
    0.9960,
    "99.60 %",
)
_register(
    "ch6.ensemble",
    "Plurality vote of five dropout networks",
    ENSEMBLE,
    _reduced(ENSEMBLE, 4_000, 2),
    0.9967,
    "99.67 % (33 errors)",
    run=train_ensemble,
)
# Wider fully connected layers (step 6's side trip): not a convincing win
for n_hidden, one, two in ((300, 0.9946, 0.9948), (1000, 0.9943, 0.9947)):
    _register(
        f"ch6.fc{n_hidden}",
        f"The expanded-data network with its FC layer widened to {n_hidden:,}",
        replace(EXPANDED, n_hidden=n_hidden),
        _reduced(replace(EXPANDED, n_hidden=n_hidden), 2_000, 2),
        one,
        f"{one * 100:.2f} %",
    )
    _register(
        f"ch6.2fc{n_hidden}",
        f"Two FC ReLU layers of {n_hidden:,} on the expanded data",
        replace(FC2, n_hidden=n_hidden),
        _reduced(replace(FC2, n_hidden=n_hidden), 2_000, 2),
        two,
        f"{two * 100:.2f} %",
    )
_register(
    "ch6.omit_fc",
    "Exercise: one conv-pool layer straight into the softmax (no FC layer)",
    replace(CONV1, n_fc=0),
    # the same reduction as ch6.conv1, so the page compares like with like
    _reduced(replace(CONV1, n_fc=0), 20_000, 4),
    None,
    "no number in the book (left to the reader)",
)
_register(
    "ch6.tanh",
    "Problem: the two-conv-layer network with tanh instead of sigmoid",
    replace(CONV2, activation="tanh"),
    # ch6.conv2's images; its first 3 epochs are the sigmoid curve to compare with
    _reduced(replace(CONV2, activation="tanh"), 20_000, 3),
    None,
    "no number in the book (tanh 'a little faster', similar accuracy)",
)
