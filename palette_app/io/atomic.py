"""Atomic file writes: a temporary file in the target folder, fsynced, then ``os.replace``.

A crash or kill at any moment leaves either the old file or the new one, never
a partial file; the temporary file is removed on any error.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Iterator


class OutputExistsError(FileExistsError):
    """The output file exists and the caller did not allow overwriting it."""


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, *, overwrite: bool = False) -> Iterator[BinaryIO]:
    """Open a temporary binary file beside ``path``; on success it replaces ``path``.

    >>> with atomic_write("out.png", overwrite=True) as f:   # doctest: +SKIP
    ...     f.write(data)

    Raises :class:`OutputExistsError` (before writing anything) when ``path``
    exists and ``overwrite`` is false. With ``overwrite=False`` the final step
    uses a hard link, so a file created by someone else meanwhile is not
    clobbered either.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not overwrite and path.exists():
        raise OutputExistsError(f"{path}: the file already exists (choose overwrite to replace it)")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        try:
            # Match the permissions a plain open() would give (mkstemp uses 0600).
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        except OSError:
            pass
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise OutputExistsError(f"{path}: the file already exists (choose overwrite to replace it)") from None
            except OSError:
                # File systems without hard links: best effort.
                if path.exists():
                    raise OutputExistsError(f"{path}: the file already exists (choose overwrite to replace it)") from None
                os.replace(tmp, path)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
        _fsync_dir(folder)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _fsync_dir(folder: Path) -> None:
    """Persist the rename itself (POSIX); a no-op where directories can't be opened."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
