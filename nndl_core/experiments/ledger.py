"""The reproduction ledger: every book number beside ours, from the results cache.

Used by the ledger page (book/ledger.md) and ``nndl reproduce``. Nothing here
trains; :func:`reproduce` runs what is missing through ``load_or_run``.
"""

from dataclasses import dataclass

from . import cached, latest, load_or_run, registry, select

__all__ = [
    "LedgerRow",
    "estimate_seconds",
    "format_value",
    "headline",
    "ledger_rows",
    "reproduce",
    "seed_spread",
]

#: Result keys that hold an experiment's headline number, in order of preference
#: (an experiment's ``BookFigure.key`` overrides them).
HEADLINE_KEYS = ("headline", "test_at_best", "best", "accuracy", "final")


def format_value(value, unit="%"):
    """``value`` as the ledger shows it: ``95.42%``, ``2x``, ``0.372`` or ``-``."""
    if value is None:
        return "-"
    if unit == "%":
        return f"{value:.2%}"
    return f"{value:.3g}{unit}"


def _more_data_at_5000(value):
    sizes = value.get("sizes", [])
    return value["network"][sizes.index(5_000)] if 5_000 in sizes else None


#: How to read the book's number out of results that hold whole curves.
DERIVED_HEADLINES = {
    # the book's prose quotes the network trained on 5,000 images
    "ch3.more_data": _more_data_at_5000,
    # the quadratic-cost neuron started at w = 0.6, b = 0.9, after its last step
    "ch3.neuron": lambda value: value["quadratic_0.6_0.9"]["output"][-1],
}


def headline(value, key=None, name=None):
    """The headline number of one run's ``value`` dict, or None.

    ``name`` (the experiment's) picks a rule of :data:`DERIVED_HEADLINES`
    for results that hold curves rather than one number.
    """
    if name in DERIVED_HEADLINES:
        try:
            number = DERIVED_HEADLINES[name](value)
        except (KeyError, IndexError, TypeError):
            return None
        return None if number is None else float(number)
    for name in (key,) if key else HEADLINE_KEYS:
        if isinstance(value.get(name), int | float):
            return float(value[name])
    return None


@dataclass
class LedgerRow:
    """One book number and what our cached runs of it say."""

    name: str
    title: str
    book_text: str
    book_value: float | None
    tolerance: float | None
    source: str
    profile: str
    seeds: tuple
    ours: float | None  # best over the seeds that have run, as the book reports
    n_runs: int
    seconds: float
    code_hash: str
    created: str
    book_settings: bool = True  # does the profile run the book's exact settings?
    unit: str = "%"
    stale: bool = False  # some run was made by earlier library code
    scores: tuple = ()  # the headline number of each seed that has run

    @property
    def code(self):
        """The code hash of the runs, marked ``(earlier code)`` when stale."""
        if not self.code_hash:
            return "-"
        return f"{self.code_hash[:8]}" + (" (earlier code)" if self.stale else "")

    def show(self, value):
        """``value`` formatted in this row's unit."""
        return format_value(value, self.unit)

    @property
    def shown_difference(self):
        """Ours minus the book's: percentage points for accuracies, else plain."""
        if self.difference is None:
            return "-"
        if self.unit == "%":
            return f"{self.difference * 100:+.2f} pp"
        return f"{self.difference:+.3g}{self.unit}"

    @property
    def difference(self):
        if self.ours is None or self.book_value is None:
            return None
        return self.ours - self.book_value

    @property
    def status(self):
        """``missing``, ``ours only``, ``reduced``, ``ran``, ``ok`` or ``off``.

        ``ran``: no tolerance applies (or the run has no single headline
        number, like chapter 5's per-layer speeds, which its page compares).

        ``reduced``: the profile does not run the book's settings, so the
        tolerance does not apply.
        """
        if self.ours is None:
            return "ran" if self.n_runs else "missing"  # ran: no single number
        if self.book_value is None:
            return "ours only"
        if not self.book_settings:
            return "reduced"
        if self.tolerance is None:
            return "ran"
        return "ok" if abs(self.difference) <= self.tolerance + 1e-12 else "off"


def _row(exp, profile, root):
    prof = exp.profile(profile)
    runs = [latest(exp.name, profile, s, root) for s in prof.seeds]
    runs = [r for r in runs if r is not None]
    key = exp.book.key if exp.book else None
    scores = [headline(r.value, key, exp.name) for r in runs]
    scores = [s for s in scores if s is not None]
    book = exp.book
    return LedgerRow(
        name=exp.name,
        title=exp.title,
        book_text=book.text if book else "",
        book_value=book.value if book else None,
        tolerance=book.tolerance if book else None,
        source=book.source if book else "",
        profile=profile,
        seeds=prof.seeds,
        ours=max(scores) if scores else None,
        n_runs=len(runs),
        seconds=sum(r.seconds for r in runs),
        code_hash=runs[0].code_hash if runs else "",
        created=max((r.created for r in runs), default=""),
        book_settings=exp.is_book_settings(profile),
        unit=book.unit if book else "%",
        stale=any(r.stale for r in runs),
        scores=tuple(scores),
    )


def ledger_rows(profile="full", chapter=None, only=None, root=None):
    """One :class:`LedgerRow` per experiment that :func:`select` picks, from the cache.

    A row shows the runs of today's code where they exist, otherwise the
    newest runs of the same parameters made by earlier code (``row.stale``).
    """
    return [_row(exp, profile, root) for exp in select(chapter, only).values()]


def seed_spread(rows):
    """The rows of ``rows`` with two or more seeds run, with each seed's number.

    The evidence behind the tolerances: how far apart runs of one setting
    land when only the seed changes. Returns ``(row, scores)`` pairs, where
    ``scores`` lists each seed's headline number (same unit as the row).
    """
    return [(row, list(row.scores)) for row in rows if len(row.scores) >= 2]


def reproduce(profile="full", chapter=None, only=None, progress=None, root=None):
    """Run every selected experiment's missing seeds, then return the ledger rows.

    ``progress(name, seed)`` returns a per-run progress callable (or None).
    Interrupted work resumes: finished runs are cached and are not rerun.
    """
    for row in ledger_rows(profile, chapter, only, root):
        for seed in row.seeds:
            if cached(row.name, profile, seed, root) is None:
                reporter = progress(row.name, seed) if progress else None
                load_or_run(row.name, profile, seed, reporter, root=root)
    return ledger_rows(profile, chapter, only, root)


def _work(params):
    """Examples processed by a run (epochs x images x networks), or None."""
    epochs, n_train = getattr(params, "epochs", None), getattr(params, "n_train", None)
    if epochs is None or n_train is None:
        return None
    expansion = 5 if getattr(params, "expanded", False) else 1  # ch6 shifts
    return epochs * n_train * expansion * getattr(params, "n_networks", 1)


def estimate_seconds(name, profile, root=None):
    """Rough run time of ``name`` in ``profile`` on this machine, or None.

    Scales the time of the largest cached run of another profile by the ratio
    of examples processed (epochs x images), which is how SGD's cost grows.
    """
    exp = registry()[name]
    target = _work(exp.profile(profile).params)
    best = None
    for other, prof in exp.profiles.items():
        for seed in prof.seeds:
            run = latest(name, other, seed, root)
            work = _work(prof.params)
            if run is None or not work or target is None:
                continue
            if best is None or work > best[0]:
                best = (work, run.seconds)
    return None if best is None else best[1] * target / best[0]
