"""Writing files without ever losing the previous one.

``Path.write_text`` truncates the file and then writes: when the write fails
(disk full, quota, a file-size limit) the old content is gone and the new one
is incomplete.  :func:`atomic_write` writes a temporary file next to the target
and renames it over the target only once every byte is on disk, so the target
always holds either the old content or the new one, whole.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_write", "atomic_writer"]


def atomic_write(path: str | os.PathLike[str], data: str | bytes, *, encoding: str = "utf-8") -> None:
    """Replace the file ``path`` with ``data``, all or nothing (see :func:`atomic_writer`)."""
    with atomic_writer(path, binary=not isinstance(data, str), encoding=encoding) as f:
        f.write(data)


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike[str], *, binary: bool = False, encoding: str = "utf-8") -> Iterator[IO[Any]]:
    """A file object whose content replaces ``path`` only once the ``with`` block completes.

    Steps: write a temporary file in the same directory (same file system, so
    the rename is atomic), flush and ``fsync`` it, then ``os.replace`` it over
    ``path`` and ``fsync`` the directory (best effort) so the rename itself is
    durable.  On any failure — in the writes, in the caller's code computing
    what to write, a full disk, a file-size limit — the temporary file is
    removed and the exception propagates: ``path`` is untouched.  Streaming
    writers (``lrkit export -o``) write as they compute, in bounded memory.

    An existing file keeps its permission bits; a new one gets the usual
    ``0o666`` minus the umask, like ``open(path, "w")``.
    """
    target = Path(path)
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = 0o666  # os.open applies the umask, as open() does
    # A dot file with a random part: never clashes with another writer, hidden from globs like *.json.
    temp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), mode)
    try:
        opened = os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding=encoding, newline="")
        with opened as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    _fsync_directory(target.parent)


def _fsync_directory(directory: Path) -> None:
    # POSIX: the rename is durable once the directory entry is flushed; Windows cannot open directories.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
