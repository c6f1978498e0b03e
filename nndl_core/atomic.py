"""Replace a file all at once, or not at all.

Every file this package replaces (saved networks, cached results,
checkpoints, downloads) goes through :func:`write_atomic`: the new contents
are written to a temporary file in the *same folder*, flushed to disk
(``fsync``), and then moved over the target with :func:`os.replace`, which
POSIX and Windows both perform as one step. A reader therefore sees either
the old file or the new one, never half of one. A write that fails (a full
disk, an exception while the contents are produced, Ctrl-C) leaves the old
file as it was and removes its temporary file. A process killed outright
(SIGKILL, or SIGTERM without a handler) cannot run that cleanup: its hidden
``.NAME.*.tmp`` file never replaces anything, and
:func:`remove_stale_temporaries` deletes such leftovers.
"""

import os
import tempfile
from pathlib import Path

__all__ = [
    "remove_stale_temporaries",
    "write_atomic",
    "write_bytes_atomic",
    "write_text_atomic",
]


def write_atomic(path, write, *, mode=0o644):
    """Call ``write(handle)`` on a temporary file, then move it to ``path``.

    Parameters
    ----------
    path : str or Path
        The file to create or replace. Its folder must exist.
    write : callable
        Called once with a file object open for binary writing; it writes
        the whole new contents. If it raises, ``path`` is left untouched,
        the temporary file is removed and the exception propagates.
    mode : int, optional
        Permission bits of the new file (``tempfile`` would make it 0o600).

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> _ = write_text_atomic(target, "old")
    >>> def fail(handle):
    ...     handle.write(b"half of the new")
    ...     raise RuntimeError("interrupted")
    >>> try:
    ...     write_atomic(target, fail)
    ... except RuntimeError:
    ...     pass
    >>> target.read_text(), sorted(p.name for p in target.parent.iterdir())
    ('old', ['a.txt'])
    """
    path = Path(path)
    handle, name = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
    )
    temporary = Path(name)
    try:
        with os.fdopen(handle, "wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        temporary.chmod(mode)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path


def write_bytes_atomic(path, data, *, mode=0o644):
    """Replace ``path`` with the bytes ``data`` (see :func:`write_atomic`)."""
    return write_atomic(path, lambda out: out.write(data), mode=mode)


def write_text_atomic(path, text, *, mode=0o644):
    """Replace ``path`` with ``text`` encoded as UTF-8 (see :func:`write_atomic`)."""
    return write_bytes_atomic(path, text.encode("utf-8"), mode=mode)


def remove_stale_temporaries(path):
    """Delete the temporary files that killed writes of ``path`` left behind.

    Call it only where no other process is writing ``path`` at the same
    time (its temporary file would go too, and its write would fail).

    Parameters
    ----------
    path : str or Path
        The file whose writers' leftovers (``.NAME.*.tmp`` beside it) go.

    Returns
    -------
    list of Path
        The files removed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / ".a.txt.x1y2.tmp").write_text("left by a killed write")
    >>> [p.name for p in remove_stale_temporaries(folder / "a.txt")]
    ['.a.txt.x1y2.tmp']
    """
    path = Path(path)
    removed = []
    for stale in path.parent.glob(f".{path.name}.*.tmp"):
        stale.unlink(missing_ok=True)
        removed.append(stale)
    return removed
