"""Command-line interface: ``nndl …`` or ``python -m nndl_core …``.

Subcommands: ``fetch-data``, ``verify-data``, ``list``, ``run``,
``warm-cache``, ``reproduce`` and ``bench``. Progress output lives here,
never in the library.

``run``, ``warm-cache`` and ``reproduce`` print one line per epoch, with an
estimate of the time left and, for chapter 6's networks, the validation
and test accuracy. Chapter 6's trainings save a checkpoint after every epoch (see
``nndl_core.experiments.conv_runs``): interrupted (Ctrl-C, a kill, a crash), the
same command resumes from the last finished epoch and says so.
"""

import argparse
import sys
import time

from . import experiments

__all__ = ["main"]


class _Progress:
    """A tqdm bar when tqdm is installed, plain stderr lines otherwise."""

    def __init__(self, description, unit="step"):
        self.description, self.unit, self.bar = description, unit, None

    def __call__(self, done, total):
        try:
            from tqdm import tqdm
        except ModuleNotFoundError:
            print(f"{self.description}: {done}/{total} {self.unit}", file=sys.stderr)
            return
        if self.bar is None or total != self.bar.total or done < self.bar.n:
            self.close()  # a new file or run: start a new bar
            self.bar = tqdm(
                total=total, desc=self.description, unit=self.unit, file=sys.stderr
            )
        self.bar.update(done - self.bar.n)

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _fetch(args):
    from .download import fetch_mnist

    progress = _Progress("MNIST", unit="B")
    path = fetch_mnist(args.dest, progress=progress)
    progress.close()
    print(f"MNIST is ready in {path}")


def _verify(args):
    from .data import verify_mnist

    for name, status in verify_mnist(args.path).items():
        print(f"{name}: {status}")


def _format_book(exp):
    return exp.book.text if exp.book else "-"


def _list(args):
    profile = args.profile or experiments.current_profile()
    for name, exp in experiments.registry().items():
        prof = exp.profile(profile)
        print(
            f"{name}\n    {exp.title}\n    book: {_format_book(exp)}"
            f"\n    {profile}: {prof.note}; seeds {list(prof.seeds)}"
        )


def _summary(result):
    from .experiments.ledger import headline

    book = experiments.get(result.name).book
    score = headline(result.value, book.key if book else None)
    shown = "see the JSON result" if score is None else f"{score:.2%}"
    source = "cached" if result.cached else f"ran in {result.seconds:.1f} s"
    return f"{result.name} [{result.profile}, seed {result.seed}]: {shown} ({source})"


def _duration(seconds):
    """``'45 s'``, ``'12 min'`` or ``'3 h 05 min'``.

    Examples
    --------
    >>> _duration(45.2), _duration(725), _duration(11_100)
    ('45 s', '12 min', '3 h 05 min')
    """
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"{hours} h {minutes:02d} min"


class _RunProgress:
    """One stderr line per step of a run: ``epoch 3/60, validation …, ETA …``.

    Called as ``progress(done, total)`` by the experiment; chapter 6's
    trainings also report each epoch's accuracies (:meth:`epoch`) and a
    resume (:meth:`resumed`) through
    :func:`nndl_core.convnet_checkpoint.listening`. The time left is the
    mean time per step since the first step of this process (the first one
    also pays for loading data and compiling) times the steps left.
    """

    def __init__(self, description, clock=time.perf_counter):
        self.description, self.clock = description, clock
        self.started, self.first, self.accuracies = clock(), None, None
        self.saved = None  # (epoch, epochs, folder) of the last checkpoint

    def _print(self, text):
        print(f"{self.description}: {text}", file=sys.stderr, flush=True)

    def resumed(self, epoch, epochs, folder):
        self.saved = (epoch, epochs, folder)
        self._print(f"resuming from epoch {epoch} of {epochs} (checkpoint in {folder})")

    def epoch(self, epoch, epochs, history, folder):
        self.accuracies = history.validation_accuracy[-1], history.test_accuracy[-1]
        if folder is not None:
            self.saved = (epoch + 1, epochs, folder)

    def interrupted(self):
        """Say where an interrupted run will resume (if it saved a checkpoint)."""
        if self.saved is None:
            return
        epoch, epochs, folder = self.saved
        self._print(
            f"interrupted; the same command resumes after epoch {epoch} of {epochs} "
            f"(checkpoint in {folder})"
        )

    def __call__(self, done, total):
        now = self.clock()
        if self.first is None or done <= self.first[0]:
            self.first = (done, now)
            per_step = now - self.started
        else:
            per_step = (now - self.first[1]) / (done - self.first[0])
        parts = [f"epoch {done}/{total}"]
        if self.accuracies is not None:
            validation, test = self.accuracies
            parts.append(f"validation {validation:.2%}, test {test:.2%}")
            self.accuracies = None
        parts.append(f"{per_step:.1f} s/epoch")
        parts.append(f"ETA {_duration(per_step * (total - done))}")
        self._print(", ".join(parts))


def _run_one(name, profile, seed, rerun):
    from .convnet_checkpoint import listening

    progress = _RunProgress(f"{name} seed {seed}")
    try:
        with listening(progress.resumed, progress.epoch):
            result = experiments.load_or_run(name, profile, seed, progress, rerun=rerun)
    except KeyboardInterrupt:
        progress.interrupted()
        raise
    print(_summary(result))
    exp = experiments.get(name)
    if exp.book is not None:
        print(f"    book: {exp.book.text} ({exp.book.source})")


def _run(args):
    profile = args.profile or experiments.current_profile()
    seeds = (
        [args.seed]
        if args.seed is not None
        else list(experiments.get(args.name).profile(profile).seeds)
    )
    for seed in seeds:
        _run_one(args.name, profile, seed, args.rerun)


def _warm(args):
    profile = args.profile or experiments.current_profile()
    for name, exp in experiments.select(args.chapter).items():
        for seed in exp.profile(profile).seeds:
            _run_one(name, profile, seed, rerun=False)


def format_ledger(rows):
    """The ledger as a plain-text table (one row per book number)."""
    head = f"{'experiment':<28} {'book':>8} {'ours':>8} {'diff':>10} {'tol':>8}  status"
    lines = [head]
    for row in rows:
        tol = "-" if row.tolerance is None else row.show(row.tolerance)
        lines.append(
            f"{row.name:<28} {row.show(row.book_value):>8} {row.show(row.ours):>8} "
            f"{row.shown_difference:>10} {tol:>8}  {row.status}"
            f" ({row.n_runs}/{len(row.seeds)} runs)"
        )
    return "\n".join(lines)


def _reproduce(args):
    from .experiments import ledger

    profile = args.profile
    if args.list:
        rows = ledger.ledger_rows(profile, args.chapter, args.only)
        for row in rows:
            note = experiments.get(row.name).profile(profile).note
            estimate = ledger.estimate_seconds(row.name, profile)
            cost = "unknown" if estimate is None else f"~{estimate / 60:.1f} min a run"
            print(
                f"{row.name}: {row.n_runs}/{len(row.seeds)} runs cached; "
                f"estimated {cost}; {note}"
            )
        return
    from .convnet_checkpoint import listening

    runs = []  # the _RunProgress of each run, the one running last

    def progress(name, seed):
        runs.append(_RunProgress(f"{name} seed {seed}"))
        return runs[-1]

    try:
        with listening(
            lambda *event: runs[-1].resumed(*event),
            lambda *event: runs[-1].epoch(*event),
        ):
            rows = ledger.reproduce(profile, args.chapter, args.only, progress)
    except KeyboardInterrupt:
        if runs:
            runs[-1].interrupted()
        raise
    print(format_ledger(rows))
    off = [row.name for row in rows if row.status == "off"]
    if off:
        raise _MismatchError(f"outside the book's tolerance: {', '.join(off)}")


class _MismatchError(Exception):
    """A reproduced number misses the book's by more than its tolerance."""


def _bench(args):
    from .data import load_mnist

    training = load_mnist(args.data).training
    if args.network == "conv":
        from .bench.conv import format_conv_table, run_conv_benchmark

        backends = args.backends or "numba,torch"
        results = run_conv_benchmark(
            training,
            n_images=args.images,
            backends=tuple(backends.split(",")),
            torch_threads=1 if args.torch_threads is None else args.torch_threads,
            repeats=args.repeats,
        )
        print(format_conv_table(results))
        return
    from .bench.dense import format_table, run_dense_benchmark

    results = run_dense_benchmark(
        training,
        network="ch3" if args.network == "dense-ch3" else "ch1",
        epochs=args.epochs,
        backends=tuple((args.backends or "numba,numba-1,numpy,torch").split(",")),
        torch_threads=args.torch_threads,
    )
    print(format_table(results))


def _counting(minimum):
    """An argparse type: an integer of at least ``minimum``.

    A bad value makes argparse name the flag: ``argument --seed: must be
    an integer >= 0, got '-5'``.
    """

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(
                f"must be an integer >= {minimum}, got {text!r}"
            )
        return value

    parse.__name__ = f"integer >= {minimum}"
    return parse


_DESCRIPTION = """\
Run the experiments of the executable edition of Neural Networks and Deep
Learning, compare them with the book, and benchmark the kernels.

Every training is a named experiment (see `nndl list`) with three profiles:
ci (tiny), default (the book's settings where they fit a build) and full
(the book's exact settings). Results are cached; a run that is cached is
loaded, not repeated."""

_ENVIRONMENT = """\
environment variables:
  NNDL_PROFILE       the profile when --profile is not given (default: default)
  NNDL_MNIST_DIR     folder of the four MNIST files (default: ~/.cache/nndl/mnist)
  NNDL_RESULTS_DIR   the results cache (default: ~/.cache/nndl/results)
  NNDL_THREADS       threads of a dense epoch (default: 2, or 1 on one core)
  NUMBA_CACHE_DIR    where compiled kernels are cached (default: beside the code)"""


def build_parser():
    """The argparse parser (exposed for tests and the docs)."""
    parser = argparse.ArgumentParser(
        prog="nndl",
        description=_DESCRIPTION,
        epilog=_ENVIRONMENT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    profile_help = "ci, default or full (default: $NNDL_PROFILE, else default)"
    p = sub.add_parser("fetch-data", help="download and verify MNIST (needs internet)")
    p.add_argument("--dest", help="target folder (default: the per-user cache)")
    p.set_defaults(func=_fetch)
    p = sub.add_parser("verify-data", help="check the MNIST files' checksums")
    p.add_argument("--path", help="folder holding the files")
    p.set_defaults(func=_verify)
    p = sub.add_parser("list", help="list the named experiments")
    p.add_argument("--profile", choices=experiments.PROFILES, help=profile_help)
    p.set_defaults(func=_list)
    p = sub.add_parser("run", help="run one experiment (or load it from the cache)")
    p.add_argument("name", help="the experiment, e.g. ch1.net30 (see `nndl list`)")
    p.add_argument("--profile", choices=experiments.PROFILES, help=profile_help)
    p.add_argument(
        "--seed", type=_counting(0), help="one seed (default: the profile's seeds)"
    )
    p.add_argument(
        "--rerun", action="store_true", help="train again even when a result is cached"
    )
    p.set_defaults(func=_run)
    p = sub.add_parser("warm-cache", help="run every experiment of a profile")
    p.add_argument("--profile", choices=experiments.PROFILES, help=profile_help)
    p.add_argument(
        "--chapter", type=_counting(1), help="only this chapter's experiments"
    )
    p.set_defaults(func=_warm)
    p = sub.add_parser("reproduce", help="run what is missing, compare with the book")
    p.add_argument(
        "--profile",
        choices=experiments.PROFILES,
        default="full",
        help="ci, default or full (default: full)",
    )
    p.add_argument(
        "--chapter", type=_counting(1), help="only this chapter's experiments"
    )
    p.add_argument("--only", help="only this experiment, e.g. ch3.l2_100")
    p.add_argument("--list", action="store_true", help="what is cached; run nothing")
    p.set_defaults(func=_reproduce)
    p = sub.add_parser("bench", help="seconds per epoch: Numba vs NumPy (vs PyTorch)")
    p.add_argument(
        "--network",
        choices=("dense", "dense-ch3", "conv"),
        default="dense",
        help="dense: chapter 1's [784, 30, 10]; dense-ch3: chapter 3's "
        "[784, 100, 10] (cross-entropy, L2); conv: chapter 6's book network",
    )
    p.add_argument(
        "--epochs",
        type=_counting(1),
        default=5,
        help="dense: timed epochs (their median is reported)",
    )
    p.add_argument(
        "--images",
        type=_counting(1),
        default=5_000,
        help="conv: images in each timed slice",
    )
    p.add_argument(
        "--repeats", type=_counting(1), default=3, help="conv: timed slices per backend"
    )
    p.add_argument(
        "--backends", help="comma-separated (default: all of the network's backends)"
    )
    p.add_argument(
        "--torch-threads",
        type=_counting(1),
        help="PyTorch's threads (default: dense, as many as the Numba row; conv, 1)",
    )
    p.add_argument("--data", help="MNIST folder (default: the usual search)")
    p.set_defaults(func=_bench)
    return parser


def main(argv=None):
    """Entry point; returns the process exit code."""
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except (FileNotFoundError, ValueError, KeyError, OSError, _MismatchError) as err:
        print(f"nndl: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("nndl: interrupted", file=sys.stderr)
        return 130  # the shell's code for Ctrl-C
    return 0
