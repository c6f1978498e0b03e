"""Named experiments, their three profiles, and the cached ``load_or_run``.

Every training a page shows is an :class:`Experiment`: a function of a frozen
parameter dataclass and a seed that returns plain JSON-ready data. Each has
three profiles:

``ci``
    tiny, so the whole test suite stays fast;
``default``
    what the README's build uses: the book's settings where they fit the
    build budget, clearly labelled reductions where they do not;
``full``
    the book's exact settings.

The profile comes from the ``NNDL_PROFILE`` environment variable (the tox
envs set it). Results are cached on disk by name, parameters, profile, seed
and a hash of the library sources the experiment's module imports (see
``nndl_core.experiments._cache``), so editing one chapter's code keeps the
other chapters' results.
"""

import dataclasses
import datetime
import importlib
import json
import os
import time
from dataclasses import dataclass, field
from typing import NamedTuple

from ._cache import (
    cache_key,
    prepare_results_dir,
    read_result,
    read_results,
    results_hash,
    write_result,
)

__all__ = [
    "PROFILES",
    "BookFigure",
    "Experiment",
    "Profile",
    "Result",
    "cached",
    "current_profile",
    "experiment",
    "get",
    "latest",
    "load_or_run",
    "load_or_run_seeds",
    "registry",
    "select",
]

PROFILES = ("ci", "default", "full")
PROFILE_ENV_VAR = "NNDL_PROFILE"
_CHAPTER_MODULES = ("ch1", "ch2", "ch3", "ch4", "ch5", "ch6")
_REGISTRY = {}


@dataclass(frozen=True)
class BookFigure:
    """A number the book reports, with where it says so.

    ``value`` is a fraction for accuracies (0.9542 for 95.42 %); ``tolerance``
    is the acceptance band used when comparing a reproduction with it; ``key``
    names the entry of a run's result that corresponds to the book's number
    (by default the ledger looks for ``headline``, ``test_at_best``, ``best``,
    ``accuracy``, in that order).
    """

    value: float | None
    text: str
    scored_on: str
    source: str
    tolerance: float | None = None
    key: str | None = None
    unit: str = "%"  # "%": a fraction shown as a percentage; "x": a ratio; "": plain


@dataclass(frozen=True)
class Profile:
    """Parameters for one profile, the seeds to run, and a note for the page."""

    params: object
    note: str
    seeds: tuple = (0,)


@dataclass(frozen=True)
class Experiment:
    """A registered experiment; ``run(params, seed, progress)`` returns a dict."""

    name: str
    title: str
    run: object
    profiles: dict
    book: BookFigure | None = None

    def profile(self, profile):
        """The :class:`Profile` called ``profile``; ValueError if unknown."""
        if profile not in self.profiles:
            raise ValueError(
                f"experiment {self.name!r} has no profile {profile!r}; "
                f"choose one of {sorted(self.profiles)}"
            )
        return self.profiles[profile]

    def is_book_settings(self, profile):
        """True when ``profile`` runs exactly the ``full`` (book) parameters."""
        return self.profile(profile).params == self.profiles["full"].params


@dataclass
class Result:
    """One cached run: its identity, its output ``value`` and bookkeeping."""

    name: str
    profile: str
    params: dict
    seed: int
    value: dict
    code_hash: str
    seconds: float
    created: str
    cached: bool = field(default=False, compare=False)
    stale: bool = field(default=False, compare=False)  # made by earlier code


def experiment(name, *, title, profiles, book=None):
    """Decorator that registers ``run(params, seed, progress)`` as ``name``."""
    missing = set(PROFILES) - set(profiles)
    if missing:
        raise ValueError(f"experiment {name!r} lacks profiles {sorted(missing)}")

    def register(run):
        _REGISTRY[name] = Experiment(name, title, run, dict(profiles), book)
        return run

    return register


def registry():
    """All experiments, by name (imports the chapter modules on first use)."""
    for module in _CHAPTER_MODULES:
        importlib.import_module(f"{__name__}.{module}")
    return dict(sorted(_REGISTRY.items()))


def get(name):
    """The experiment called ``name``; KeyError lists the known names."""
    experiments = registry()
    if name not in experiments:
        raise KeyError(f"no experiment {name!r}; known: {', '.join(experiments)}")
    return experiments[name]


def select(chapter=None, only=None):
    """The registered experiments of ``chapter`` (an int) or named ``only``.

    Both filters ``None`` select every experiment. A filter that matches
    nothing raises ValueError naming what exists, so that a mistyped
    command fails instead of doing nothing.

    Examples
    --------
    >>> list(select(chapter=4))
    ['ch4.error_vs_n']
    >>> select(chapter=99)
    Traceback (most recent call last):
    ...
    ValueError: no experiment of chapter 99; chapters with experiments: 1, 2, 3, 4, 5, 6
    """
    experiments = registry()
    if only is not None:
        if chapter is not None and not only.startswith(f"ch{chapter}."):
            raise ValueError(f"{only} is not an experiment of chapter {chapter}")
        return {only: get(only)}
    if chapter is None:
        return experiments
    chosen = {n: e for n, e in experiments.items() if n.startswith(f"ch{chapter}.")}
    if not chosen:
        chapters = sorted({int(n[2]) for n in experiments if n[:2] == "ch"})
        raise ValueError(
            f"no experiment of chapter {chapter}; chapters with experiments: "
            + ", ".join(map(str, chapters))
        )
    return chosen


def current_profile():
    """The profile named by ``$NNDL_PROFILE`` (``default`` when unset)."""
    profile = os.environ.get(PROFILE_ENV_VAR, "default")
    if profile not in PROFILES:
        raise ValueError(f"{PROFILE_ENV_VAR}={profile!r}; choose one of {PROFILES}")
    return profile


class _Run(NamedTuple):
    """Everything that identifies one run; ``code`` is the hash in its ``key``."""

    exp: Experiment
    profile: str
    seed: int
    params: dict
    code: str
    key: str


def _identity(name, profile, seed):
    """The :class:`_Run` of ``name`` (sources hashed once, here)."""
    exp = get(name)
    profile = profile or current_profile()
    prof = exp.profile(profile)
    seed = prof.seeds[0] if seed is None else int(seed)
    params = dataclasses.asdict(prof.params)
    code = results_hash(module=exp.run.__module__)  # its own imports only
    return _Run(
        exp, profile, seed, params, code, cache_key(name, params, profile, seed, code)
    )


def cached(name, profile=None, seed=None, root=None):
    """The cached :class:`Result` of one run, or None; never trains.

    Pages use it to show a ``full`` result beside a ``default`` one when
    someone has made it (``nndl run NAME --profile full``).
    """
    record = read_result(name, _identity(name, profile, seed).key, root)
    return None if record is None else Result(**record, cached=True)


def latest(name, profile=None, seed=None, root=None):
    """The newest cached run of ``name`` with today's parameters, or None.

    Like :func:`cached`, but when the library has changed since the run was
    made it still returns that run, with ``stale=True``: a full-profile run
    that took hours stays on show (labelled with the code hash that made it)
    until someone reruns it. ``load_or_run`` never reuses a stale run.
    """
    run = _identity(name, profile, seed)
    record = read_result(name, run.key, root)
    if record is not None:
        return Result(**record, cached=True)
    params = json.loads(json.dumps(run.params))  # as stored: tuples become lists
    matches = [
        r
        for r in read_results(name, root)
        if (r.get("profile"), r.get("seed"), r.get("params"))
        == (run.profile, run.seed, params)
    ]
    if not matches:
        return None
    record = max(matches, key=lambda r: r.get("created", ""))
    return Result(**record, cached=True, stale=True)


def load_or_run(name, profile=None, seed=None, progress=None, rerun=False, root=None):
    """Return the cached result of ``name``, running it first if needed.

    A results folder that cannot be written (``NNDL_RESULTS_DIR`` naming a
    file, say) raises an OSError naming it before anything trains; a bad
    cached record is set aside and run again (see
    ``nndl_core.experiments._cache``).

    Parameters
    ----------
    name : str
        A registered experiment, e.g. ``"ch1.net30"``.
    profile : str, optional
        ``"ci"``, ``"default"`` or ``"full"``; defaults to :func:`current_profile`.
    seed : int, optional
        Defaults to the profile's first seed.
    progress : callable, optional
        Passed to the experiment, which calls ``progress(done, total)``.
    rerun : bool
        Ignore (and overwrite) a cached result.

    Returns
    -------
    Result
    """
    run = _identity(name, profile, seed)
    record = None if rerun else read_result(name, run.key, root)
    if record is not None:
        return Result(**record, cached=True)
    prepare_results_dir(name, root)  # an unusable folder fails now, not after training
    start = time.perf_counter()
    value = run.exp.run(run.exp.profile(run.profile).params, run.seed, progress)
    record = dict(
        name=name,
        profile=run.profile,
        params=run.params,
        seed=run.seed,
        value=value,
        code_hash=run.code,  # the hash the key was made from, not one taken after
        seconds=time.perf_counter() - start,
        created=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    )
    write_result(name, run.key, record, root)
    return Result(**record)


def load_or_run_seeds(name, profile=None, progress=None, root=None):
    """:func:`load_or_run` for every seed of the profile; a list of Results."""
    profile = profile or current_profile()
    seeds = get(name).profile(profile).seeds
    return [load_or_run(name, profile, s, progress, root=root) for s in seeds]
