"""Replace a file all at once, or not at all.

Every file this package replaces (saved networks, cached results,
checkpoints, downloads) goes through :func:`write_atomic`: the new contents
are written to a temporary file in the *same folder*, flushed to disk
(``fsync``), and then moved over the target with :func:`os.replace`, which
POSIX and Windows both perform as one step. A reader therefore sees either
the old file or the new one, never half of one, and a write that fails
(a full disk, an exception while the contents are produced, a process
killed midway) leaves the old file as it was and no temporary file behind.
"""

import os
import tempfile
from pathlib import Path

__all__ = ["write_atomic", "write_bytes_atomic", "write_text_atomic"]


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
