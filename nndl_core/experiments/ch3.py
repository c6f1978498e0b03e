"""Chapter 3's experiments: cross-entropy, overfitting, regularization and friends.

The catalogue of the chapter: most experiments are one
:func:`~nndl_core.experiments.runs.train_run` registered with its profiles
and the book's figure; the few runs unique to the chapter (one neuron,
weight initialisation, λ, mini-batch size, data size) are here too.

The book's numbers and settings come from the text of chapter 3 of the
original (http://neuralnetworksanddeeplearning.com/chap3.html); a number that
only the author's published result files hold says so where it is used.
The book ran no MNIST experiment for softmax, L1, dropout, momentum or
tanh/ReLU; ours are our own settings, said in each profile's note.

This module is longer than the library's usual 400 lines: it is the
catalogue of some forty experiments, each registered with the book's figure
and the reasoning behind its tolerance, and the chapter's page and
``nndl list`` look them up by chapter. The run machinery it shares with
chapters 1 and 5 is in :mod:`nndl_core.experiments.runs`.
"""

from dataclasses import dataclass, replace

import numpy as np

from .. import baselines
from ..costs import COSTS
from ..data import load_mnist
from ..network import Network
from ..trainer import train
from . import BookFigure, Profile, experiment
from .runs import (
    RunParams,
    ci_params,
    one_blas_thread,
    register,
    summary,
    take,
    train_run,
)

SECTION = "http://neuralnetworksanddeeplearning.com/chap3.html"
SECTION_XENT = SECTION + "#the_cross-entropy_cost_function"
SECTION_98 = SECTION + "#chap3_98_04_percent"
SECTION_INIT = SECTION + "#weight_initialization"
SECTION_HYPER = SECTION + "#how_to_choose_a_neural_network's_hyper-parameters"
ALL_MONITORS = (
    "evaluation_cost",
    "evaluation_accuracy",
    "training_cost",
    "training_accuracy",
)


def single_neuron(w, b, eta, steps=300, rule="quadratic"):
    """Gradient descent on one sigmoid neuron with input 1 and target 0.

    ``rule`` picks the step: ``"quadratic"`` uses dC/dz = a σ'(z) (eqs.
    55-56), ``"cross_entropy"`` the true dC/dz = a - y = a (eqs. 61-62), and
    ``"widget"`` the 1/(1 - a) of the original's animation script. Both w
    and b move by the same amount because the input is 1.

    Returns
    -------
    dict with lists ``output`` and ``cost`` (steps + 1 entries each).
    """
    outputs, costs = [], []
    for _ in range(steps + 1):
        a = 1.0 / (1.0 + np.exp(-(w + b)))
        outputs.append(a)
        costs.append(0.5 * a * a if rule == "quadratic" else -np.log(1.0 - a))
        grad = {"quadratic": a * a * (1 - a), "cross_entropy": a, "widget": 1 / (1 - a)}
        w, b = w - eta * grad[rule], b - eta * grad[rule]
    return {"output": outputs, "cost": costs}


@dataclass(frozen=True)
class NeuronParams:
    """The four widgets of the learning-slowdown section, plus correct CE runs."""

    steps: int = 300
    eta_quadratic: float = 0.15
    eta_cross_entropy: float = 0.005


@experiment(
    "ch3.neuron",
    title="One sigmoid neuron, input 1, target 0: quadratic vs cross-entropy",
    profiles={
        k: Profile(NeuronParams(), "the book's settings")
        for k in ("ci", "default", "full")
    },
    book=BookFigure(
        0.09,
        "quadratic from w=0.6, b=0.9: output about 0.09 after 300 epochs",
        "-",
        SECTION,
    ),
)
def neuron_runs(params, seed, progress=None):
    runs = {}
    for start in ((0.6, 0.9), (2.0, 2.0)):
        key = f"{start[0]}_{start[1]}"
        runs[f"quadratic_{key}"] = single_neuron(
            *start, params.eta_quadratic, params.steps
        )
        for rule, eta in (
            ("widget", params.eta_cross_entropy),
            ("cross_entropy", params.eta_cross_entropy),
            ("cross_entropy_fast", params.eta_quadratic),
        ):
            runs[f"{rule}_{key}"] = single_neuron(
                *start, eta, params.steps, rule.replace("_fast", "")
            )
    return runs


TWO_MONITORS = ("evaluation_accuracy", "training_accuracy")
OVERFIT = RunParams(epochs=400, n_train=1_000, monitor=ALL_MONITORS)
register(
    "ch3.overfit1000",
    "[784, 30, 10] cross-entropy on 1,000 images, eta = 0.5, 400 epochs",
    OVERFIT,
    book=BookFigure(
        0.8227, "82.27 % test peak; training accuracy 100 %", "test", SECTION, 0.02
    ),
)
register(
    "ch3.l2_1000",
    "The same with L2 regularization, lambda = 0.1",
    # the page draws the book's two figures of this run: training cost and
    # test accuracy (the test cost and training accuracy are never shown)
    replace(OVERFIT, lmbda=0.1, monitor=("evaluation_accuracy", "training_cost")),
    book=BookFigure(0.871, "87.1 % test peak", "test", SECTION, 0.02),
)
register(
    "ch3.xent30",
    "[784, 30, 10] cross-entropy on 50,000 images, eta = 0.5, 30 epochs",
    RunParams(monitor=TWO_MONITORS),
    book=BookFigure(
        0.9549,
        "95.49 % (95.33 % test vs 97.86 % training in a second run)",
        "test",
        SECTION,
        0.005,
    ),
)
register(
    "ch3.xent100",
    "[784, 100, 10] cross-entropy on 50,000 images, eta = 0.5, 30 epochs",
    RunParams(sizes=(784, 100, 10)),
    # 0.5 pp: the book's own two runs of the 30-hidden configuration differ
    # by 0.16 pp (95.49 vs 95.33 %), and a peak over 30 epochs moves by a few
    # tenths of a point with the seed (0.3 pp would cover one run with the
    # book's own draws); our generator draws other initial weights and shuffles than the
    # book's, so we allow a little more.
    book=BookFigure(
        0.9682,
        "96.82 % (chapter 1's quadratic-cost network: 96.59 %)",
        "test",
        SECTION_XENT,
        0.005,
    ),
)
register(
    "ch3.l2_full30",
    "The same with lambda = 5.0",
    RunParams(lmbda=5.0, monitor=TWO_MONITORS),
    book=BookFigure(
        0.9649,
        "96.49 % test (training 97.12 %: the author's results file, not the text)",
        "test",
        SECTION,
        0.005,
    ),
)
L2_100 = RunParams(sizes=(784, 100, 10), lmbda=5.0, evaluate_on="validation")
register(
    "ch3.l2_100",
    "[784, 100, 10] cross-entropy, lambda = 5.0, eta = 0.5, 30 epochs",
    L2_100,
    book=BookFigure(0.9792, "97.92 %", "validation", SECTION, 0.005),
)
# The book's best [784, 100, 10] run. Its first 30 epochs are also the N(0, 1)
# half of ch3.init100 (same network, settings and seeds; see runs._FINISHED).
L2_100_60 = replace(L2_100, epochs=60, eta=0.1)
register(
    "ch3.l2_100_60ep",
    "[784, 100, 10] cross-entropy, lambda = 5.0, eta = 0.1, 60 epochs",
    L2_100_60,
    # 0.5 pp, as for ch3.xent100: one run's peak over many epochs, with other
    # random draws than the book's (0.3 pp would do for the book's draws).
    book=BookFigure(
        0.9804,
        '98.04 % ("breaks the 98 percent barrier")',
        "validation",
        SECTION_98,
        0.005,
    ),
)
INIT = RunParams(lmbda=5.0, eta=0.1, evaluate_on="validation")
for init, book in (
    (
        "large",
        BookFigure(
            0.8643,
            "below 87 % after epoch 1 (86.43 %), 96.37 % after 30",
            "validation",
            SECTION,
            key="first",
        ),
    ),
    (
        "default",
        BookFigure(
            0.9270,
            "almost 93 % after epoch 1 (92.70 %), 96.50 % after 30",
            "validation",
            SECTION,
            key="first",
        ),
    ),
):
    register(
        f"ch3.init30.{init}",
        f"[784, 30, 10], lambda = 5.0, eta = 0.1, {init} weight initialization",
        replace(INIT, initializer=init),
        book=book,
    )


@dataclass(frozen=True)
class InitParams:
    """One network trained from each weight initializer (the book's comparison)."""

    run: RunParams
    initializers: tuple = ("large", "default")


#: The book's ch3.init100 curves (fig/weight_initialization_100.json),
#: validation accuracy: {initializer: (after epoch 1, after epoch 30)}.
BOOK_INIT100 = {"large": (0.8994, 0.9742), "default": (0.9295, 0.9781)}
INIT100 = replace(L2_100_60, epochs=30)


@experiment(
    "ch3.init100",
    title="[784, 100, 10], lambda = 5.0, eta = 0.1: N(0, 1) against N(0, 1/n_in) "
    "weights",
    profiles={
        "ci": Profile(
            InitParams(ci_params(INIT100)),
            "tiny: at most 1,000 training and 1,000 evaluation images",
        ),
        "default": Profile(InitParams(INIT100), "the book's settings"),
        "full": Profile(InitParams(INIT100), "the book's settings"),
    },
    # The headline is the new initializer's accuracy after the last epoch:
    # one epoch's accuracy (not a peak), so 0.5 pp as for ch3.xent100.
    book=BookFigure(
        0.9781,
        "N(0, 1/n_in): 92.95 % after epoch 1, 97.81 % after 30; "
        "N(0, 1): 89.94 % and 97.42 %",
        "validation",
        SECTION_INIT,
        0.005,
    ),
)
def init_comparison(params, seed, progress=None):
    """Train ``params.run`` once per initializer; ``headline``: the last one's final."""
    out = {}
    for done, initializer in enumerate(params.initializers):
        out[initializer] = train_run(
            replace(params.run, initializer=initializer),
            seed,
            None if progress is None else _offset(progress, done, params),
        )
    out["headline"] = out[params.initializers[-1]]["final"]
    return out


def _offset(progress, done, params):
    """``progress`` for the run number ``done`` of a multi-run experiment."""
    epochs = params.run.epochs
    total = epochs * len(params.initializers)
    return lambda epoch, _: progress(done * epochs + epoch, total)


ETA = RunParams(
    lmbda=5.0,
    initializer="default",
    evaluate_on="validation",
    monitor=("training_cost",),
)
BOOK_ETA_COST = {0.025: (0.878, 0.339), 0.25: (0.495, 0.339), 2.5: (0.925, 0.861)}
for eta, (first, last) in BOOK_ETA_COST.items():
    register(
        f"ch3.eta.{eta}",
        f"[784, 30, 10], lambda = 5.0, eta = {eta}: training cost per epoch",
        replace(ETA, eta=eta),
        book=BookFigure(
            last,
            f"training cost {first} after epoch 1, {last} after 30",
            "training cost",
            SECTION,
            key="last_training_cost",
            unit="",
        ),
    )
# "Broad strategy" (the original's hyper-parameter section, ch3.hyper.*):
# network2 defaults (cross-
# entropy, N(0, 1/n_in) weights). The book printed the first epochs' counts;
# we keep its transcripts to show them beside ours.
HYPER_BAD = RunParams(
    eta=10.0,
    lmbda=1000.0,
    initializer="default",
    evaluate_on="validation",
    allow_divergence=True,
)
STRIP = replace(HYPER_BAD, sizes=(784, 10), n_train=1_000, n_eval=100)
#: ``{experiment: {epoch (0-based): correct}}`` and the number scored.
BOOK_TRANSCRIPTS = {
    "ch3.hyper.bad": ({0: 1030, 1: 990, 2: 1009, 27: 1009, 28: 983, 29: 967}, 10_000),
    "ch3.hyper.strip1": ({0: 10, 1: 10, 2: 10}, 100),
    "ch3.hyper.strip2": ({0: 12, 1: 14, 2: 25, 3: 18}, 100),
    "ch3.hyper.strip3": ({0: 10, 1: 10, 2: 10, 3: 10}, 100),
    "ch3.hyper.strip4": ({0: 62, 1: 42, 2: 43, 3: 61}, 100),
}
register(
    "ch3.hyper.bad",
    "[784, 30, 10], eta = 10.0, lambda = 1000.0, 30 epochs: no learning at all",
    HYPER_BAD,
    # Chance level: a network that answers one digit for every image scores
    # that digit's share of the validation set, 9.15 % (5s) to 10.90 % (7s);
    # 2 pp covers any of them.
    book=BookFigure(
        0.1030,
        "1,030 / 10,000 after epoch 1, and chance level to the end",
        "validation",
        SECTION_HYPER,
        0.02,
        key="first",
    ),
)
# Tolerances, on the accuracy after the first epoch. These runs score 100
# images, so one image is 1 pp, and their first epochs jump about:
# * strip1, strip3 (stuck on one digit): 4 pp, enough for any digit's share of
#   the first 100 validation images (6 to 14 images);
# * strip2: 11 pp, the largest change between two consecutive epochs of the
#   book's own transcript (14 -> 25);
# * strip4: 20 pp, likewise (62 -> 42).
STRIPS = {
    "strip1": (
        "[784, 10] on 1,000 images, 100 validation images, eta = 10.0, lambda = 1000.0",
        STRIP,
        0.04,
    ),
    "strip2": (
        "the same with lambda = 20.0 (rescaled for 1,000 images)",
        replace(STRIP, lmbda=20.0),
        0.11,
    ),
    "strip3": (
        "the same with eta = 100.0",
        replace(STRIP, lmbda=20.0, eta=100.0),
        0.04,
    ),
    "strip4": (
        "the same with eta = 1.0",
        replace(STRIP, lmbda=20.0, eta=1.0),
        0.20,
    ),
}
for name, (title, params, tolerance) in STRIPS.items():
    counts, scored = BOOK_TRANSCRIPTS[f"ch3.hyper.{name}"]
    register(
        f"ch3.hyper.{name}",
        title,
        params,
        ci=params,  # 30 epochs of 1,000 images: tiny already
        book=BookFigure(
            counts[0] / scored,
            f"{counts[0]} / {scored} after epoch 1",
            "validation[:100]",
            SECTION_HYPER,
            tolerance,
            key="first",
        ),
    )
# Our own experiments (the book ran none): 10,000 images and 10 epochs in the
# default build, the book's usual scale (50,000 images, 30 epochs) in full
SMALL = RunParams(
    n_train=10_000, epochs=10, evaluate_on="validation", initializer="default"
)
SMALL_NOTE = "our own experiment, reduced: 10,000 images, 10 epochs"
OWN_NOTE = "our own experiment at the book's scale: 50,000 images, 30 epochs"
NO_BOOK = BookFigure(None, "no run in the book", "validation", SECTION)


def register_own(name, title, params):
    """Register one of our own runs: reduced by default, 50,000 x 30 in full."""
    full = replace(params, n_train=50_000, epochs=30)
    register(name, title, full, params, SMALL_NOTE, NO_BOOK, full_note=OWN_NOTE)


register_own(
    "ch3.softmax",
    "[784, 30, 10] softmax + log-likelihood",
    replace(SMALL, cost="log_likelihood"),
)
register_own(
    "ch3.small.sigmoid", "[784, 30, 10] sigmoid, cross-entropy (baseline)", SMALL
)
for mu in (0.5, 0.9):
    register_own(
        f"ch3.momentum.{mu}", f"momentum mu = {mu}", replace(SMALL, mu=mu, eta=0.1)
    )
register_own("ch3.momentum.0.0", "plain SGD, eta = 0.1", replace(SMALL, eta=0.1))
for act, eta in (("tanh", 0.1), ("relu", 0.1)):
    register_own(
        f"ch3.act.{act}",
        f"{act} hidden neurons, eta = {eta}",
        replace(SMALL, activation=act, eta=eta),
    )
DROP = replace(SMALL, sizes=(784, 100, 10))
register_own("ch3.dropout.0", "[784, 100, 10], no dropout", DROP)
register_own(
    "ch3.dropout.0.5", "[784, 100, 10], dropout p = 0.5", replace(DROP, dropout=0.5)
)
register(
    "ch3.l1_1000",
    "L1 regularization on the 1,000-image run, lambda = 0.1 (problem)",
    replace(OVERFIT, regularization="l1", lmbda=0.1, monitor=("evaluation_accuracy",)),
    note="our own experiment: the book asks for it as a problem",
    book=NO_BOOK,
)
EXPAND = RunParams(n_train=1_000, epochs=100, lmbda=0.1, initializer="default")
for kind in ("", "shifts", "shifts+rotations"):
    register(
        f"ch3.expand.{kind or 'none'}",
        f"1,000 images expanded by {kind or 'nothing'}, lambda = 0.1, 100 epochs",
        replace(
            EXPAND,
            expand=kind,
            epochs=100 if not kind else (20 if kind == "shifts" else 15),
        ),
        note="our own experiment: the same number of SGD steps on each training set",
        book=NO_BOOK,
    )
register(
    "ch3.schedule",
    "[784, 30, 10], 10,000 images, lambda = 1.0: halve eta after a 5-epoch "
    "plateau, stop at eta/128",
    RunParams(
        n_train=10_000,
        epochs=100,
        lmbda=1.0,
        initializer="default",
        evaluate_on="validation",
        schedule_patience=5,
    ),
    note="our own experiment: patience 5 instead of 10 to fit the build",
    book=NO_BOOK,
)
register(
    "ch3.early_stop",
    "[784, 30, 10], 10,000 images, lambda = 1.0: stop after 10 epochs "
    "without improvement",
    RunParams(
        n_train=10_000,
        epochs=100,
        lmbda=1.0,
        initializer="default",
        evaluate_on="validation",
        early_stopping=10,
    ),
    note="our own experiment",
    book=NO_BOOK,
)


@dataclass(frozen=True)
class MoreDataParams:
    """Validation accuracy against training-set size (epochs = budget / size)."""

    train_sizes: tuple = (100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000)
    image_budget: int = 1_500_000
    lmbda_per_image: float = 1e-4
    svm_max: int = 50_000


BOOK_MORE_DATA = [69.09, 76.37, 85.29, 88.85, 91.27, 93.24, 94.89, 95.85, 95.97]
BOOK_MORE_DATA_SVM = [25.07, 48.93, 75.13, 83.87, 88.49, 91.46, 92.45, 93.47, 94.48]


@experiment(
    "ch3.more_data",
    title="[784, 30, 10] and an SVM against training-set size",
    profiles={
        "ci": Profile(
            MoreDataParams((100, 500, 1_000), 5_000, svm_max=1_000),
            "tiny: three sizes, few epochs",
        ),
        "default": Profile(
            MoreDataParams(image_budget=300_000, svm_max=5_000),
            "reduced: a fifth of the book's epochs at every size (6 at 50,000); "
            "SVM up to 5,000 images",
        ),
        "full": Profile(MoreDataParams(), "the book's settings"),
    },
    book=BookFigure(
        0.9324,
        "93.24 % with 5,000 images; SVM 94.48 % with 50,000",
        "validation",
        SECTION,
    ),
)
def more_data(params, seed, progress=None):
    data = load_mnist()
    out = {"sizes": list(params.train_sizes), "network": [], "svm": [], "svm_sizes": []}
    for size in params.train_sizes:
        net = Network(
            (784, 30, 10), seed=seed, cost=COSTS["cross_entropy"], backend="numba"
        )
        training = take(data.training, size)
        epochs = max(1, params.image_budget // size)
        net.SGD(
            training,
            epochs,
            10,
            0.5,
            seed=seed + 1_000,
            lmbda=params.lmbda_per_image * size,
        )
        out["network"].append(
            net.evaluate(data.validation) / len(data.validation.labels)
        )
        if size <= params.svm_max:
            out["svm"].append(baselines.svm_accuracy(training, data.validation))
            out["svm_sizes"].append(size)
    return out


# "The regularization parameter" (our run; the book gives only the heuristic):
# with eta fixed, start at lambda = 1 and move by factors of 10. 10,000 images
# in the default build, the book's 50,000 x 30 epochs in full.
@dataclass(frozen=True)
class LambdaParams:
    """One network trained per value of λ, everything else fixed."""

    run: RunParams
    lmbdas: tuple = (0.01, 0.1, 1.0, 10.0, 100.0)


LAMBDA_RUN = RunParams(
    n_train=10_000, epochs=10, evaluate_on="validation", initializer="default"
)


@experiment(
    "ch3.lambda",
    title="[784, 30, 10], eta = 0.5: lambda from 0.01 to 100 in factors of 10",
    profiles={
        "ci": Profile(
            LambdaParams(ci_params(replace(LAMBDA_RUN, n_train=50_000))),
            "tiny: 1,000 training and 1,000 validation images, 2 epochs",
        ),
        "default": Profile(LambdaParams(LAMBDA_RUN), SMALL_NOTE),
        "full": Profile(
            LambdaParams(replace(LAMBDA_RUN, n_train=50_000, epochs=30)), OWN_NOTE
        ),
    },
    book=BookFigure(
        None,
        "no run in the book: start at lambda = 1.0, then move by factors of 10",
        "validation",
        SECTION_HYPER,
    ),
)
def lambda_sweep(params, seed, progress=None):
    """Train ``params.run`` once per λ; ``headline``: the best λ's best accuracy.

    Returns a dict with one ``train_run`` result per λ (keyed ``f"{λ:g}"``),
    ``best_lmbda`` and ``headline``.
    """
    out = {}
    for done, lmbda in enumerate(params.lmbdas):
        out[f"{lmbda:g}"] = train_run(replace(params.run, lmbda=lmbda), seed)
        if progress is not None:
            progress(done + 1, len(params.lmbdas))
    best = max(params.lmbdas, key=lambda lmbda: out[f"{lmbda:g}"]["best"])
    out["best_lmbda"] = best
    out["headline"] = out[f"{best:g}"]["best"]
    return out


# "Mini-batch size" (our run): validation accuracy against training time for
# mini-batches of 1, 10 and 100, with eta rescaled as the book's eq. (102)
# suggests (eta / m fixed at 0.05), plus a smaller eta for m = 100. On both
# backends: the readable NumPy code, whose matrix products make big
# mini-batches cheap per image, and the Numba kernels, which are not
# matrix-based.
@dataclass(frozen=True)
class MiniBatchParams:
    """Runs of ``(mini-batch size, eta)`` on each backend, timed per epoch."""

    run: RunParams
    settings: tuple = ((1, 0.05), (10, 0.5), (100, 5.0), (100, 1.0))
    backends: tuple = ("numpy", "numba")


MINI_BATCH_RUN = RunParams(
    n_train=3_000, epochs=4, lmbda=0.3, evaluate_on="validation", initializer="default"
)


@experiment(
    "ch3.minibatch",
    title="[784, 30, 10]: mini-batches of 1, 10 and 100 against training time",
    profiles={
        "ci": Profile(
            MiniBatchParams(
                replace(
                    MINI_BATCH_RUN, n_train=1_000, n_eval=1_000, lmbda=0.1, epochs=2
                )
            ),
            "tiny: 1,000 training and 1,000 validation images, 2 epochs",
        ),
        "default": Profile(
            MiniBatchParams(MINI_BATCH_RUN),
            "our own experiment, reduced: 3,000 images (lambda = 0.3), 4 epochs",
        ),
        "full": Profile(
            MiniBatchParams(
                replace(MINI_BATCH_RUN, n_train=50_000, lmbda=5.0, epochs=10)
            ),
            "our own experiment: 50,000 images (lambda = 5.0), 10 epochs",
        ),
    },
    book=BookFigure(
        None,
        "no run in the book: choose the size whose validation accuracy rises "
        "fastest in real time",
        "validation",
        SECTION_HYPER,
    ),
)
def mini_batch_timing(params, seed, progress=None):
    """Train one network per backend and ``(m, eta)``; time every epoch.

    Every run is timed on one core: the kernels with ``threads=1``, NumPy
    with its BLAS limited to one thread.

    Returns
    -------
    dict
        ``runs``: a list of ``{"backend", "m", "eta", "history", "best"}``
        (the history's ``seconds`` are the training time of each epoch,
        scoring excluded); ``headline``: the best accuracy of any run.
    """
    run = params.run
    data = load_mnist()
    training = take(data.training, run.n_train)
    evaluation = take(getattr(data, run.evaluate_on), run.n_eval)
    runs = []
    for backend in params.backends:
        _compile(backend, training)
        for m, eta in params.settings:
            net = Network(
                run.sizes,
                seed=seed,
                cost=COSTS[run.cost],
                backend=backend,
                initializer=run.initializer,
                threads=1 if backend == "numba" else None,
            )
            with one_blas_thread():
                history = train(
                    net,
                    training,
                    run.epochs,
                    m,
                    eta,
                    lmbda=run.lmbda,
                    evaluation_data=evaluation,
                    seed=seed + 1_000,
                )
            runs.append({"backend": backend, "m": m, "eta": eta, **summary(history)})
            if progress is not None:
                total = len(params.backends) * len(params.settings)
                progress(len(runs), total)
    return {"runs": runs, "headline": max(r["best"] for r in runs)}


def _compile(backend, training):
    """Run the kernels once on a few images, so no epoch we time includes compiling."""
    if backend == "numba":
        net = Network(
            (784, 30, 10), seed=0, cost=COSTS["cross_entropy"], backend=backend
        )
        train(net, take(training, 20), 1, 10, 0.1, lmbda=0.1, monitor=())
