"""Atomic file writes: a temporary file in the target folder, fsynced, then renamed.

A crash or kill at any moment leaves either the old file or the new one, never
a partial file. On Linux the temporary file is anonymous (``O_TMPFILE``): it has
no name until the data is complete and fsynced, so even ``SIGKILL`` leaves no
litter behind. Elsewhere (or on file systems without ``O_TMPFILE``) it is a
hidden ``.<name>.<random>.part`` file that is removed on any error; only a hard
kill or power loss while it exists can leave it behind.
"""
from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from pathlib import Path
from typing import BinaryIO, Iterator

__all__ = ["OutputExistsError", "atomic_write"]


class OutputExistsError(FileExistsError):
    """The output file exists and the caller did not allow overwriting it."""


def _exists_error(path: Path) -> OutputExistsError:
    return OutputExistsError(f"{path}: the file already exists (choose overwrite to replace it)")


# Errors from open(O_TMPFILE) that mean "not supported here", not "cannot write here".
_NO_TMPFILE = {errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOENT, errno.ENOSYS}
_USE_TMPFILE = hasattr(os, "O_TMPFILE") and os.path.isdir("/proc/self/fd")


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, *, overwrite: bool = False) -> Iterator[BinaryIO]:
    """Open a temporary binary file beside ``path``; on success it replaces ``path``.

    >>> with atomic_write("out.png", overwrite=True) as f:   # doctest: +SKIP
    ...     f.write(data)

    Raises :class:`OutputExistsError` (before writing anything) when ``path``
    exists and ``overwrite`` is false; the final step is a hard link that fails
    if the name appeared meanwhile, so a file created by someone else is not
    clobbered either. The new file gets the permissions a plain ``open()``
    would give: the umask's for a new file, the old file's when replacing one.
    If the body raises, nothing is written and the old file is untouched.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not overwrite and os.path.lexists(path):
        raise _exists_error(path)
    old_mode = _existing_mode(path) if overwrite else None

    fd = _open_anonymous(folder) if _USE_TMPFILE else None
    if fd is None:
        with _named_temporary(path, folder, old_mode, overwrite) as f:
            yield f
        return
    with os.fdopen(fd, "w+b") as f:
        yield f
        f.flush()
        _set_mode(f.fileno(), old_mode)
        os.fsync(f.fileno())
        try:
            _publish_anonymous(f.fileno(), path, folder, overwrite)
        except _LinkUnavailable:
            # The data cannot be given a name here: copy it to a named temporary.
            f.seek(0)
            with _named_temporary(path, folder, old_mode, overwrite) as g:
                _copy(f, g)
            return
    _fsync_dir(folder)


@contextlib.contextmanager
def _named_temporary(path: Path, folder: Path, old_mode: int | None,
                     overwrite: bool) -> Iterator[BinaryIO]:
    """The portable route: a hidden named temporary, removed on any error."""
    fd, tmp = _mkstemp(folder, path.name)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            _set_mode(f.fileno(), old_mode)
            os.fsync(f.fileno())
        _publish_named(tmp, path, overwrite)
        _fsync_dir(folder)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _copy(src: BinaryIO, dst: BinaryIO) -> None:
    while chunk := src.read(1 << 20):
        dst.write(chunk)


class _LinkUnavailable(Exception):
    pass


def _open_anonymous(folder: Path) -> int | None:
    """An unnamed file in ``folder`` (Linux ``O_TMPFILE``), or None if unsupported."""
    try:
        # 0o666 & ~umask, exactly what open() would apply to a new file.
        return os.open(folder, os.O_TMPFILE | os.O_RDWR | getattr(os, "O_CLOEXEC", 0), 0o666)
    except OSError as e:
        if e.errno in _NO_TMPFILE and folder.is_dir():
            return None
        raise


def _publish_anonymous(fd: int, path: Path, folder: Path, overwrite: bool) -> None:
    """Give the anonymous file its final name (atomically).

    ``linkat(AT_SYMLINK_FOLLOW)`` on ``/proc/self/fd/N`` is the unprivileged way
    to name an ``O_TMPFILE`` file. Python only uses ``linkat`` (not ``link``,
    which would link the /proc symlink itself) when a directory fd is given.
    """
    proc = f"/proc/self/fd/{fd}"
    try:
        dir_fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as e:
        raise _LinkUnavailable from e
    try:
        if not overwrite:
            try:
                os.link(proc, path.name, dst_dir_fd=dir_fd, follow_symlinks=True)
            except FileExistsError:
                raise _exists_error(path) from None
            except OSError as e:
                raise _LinkUnavailable from e
            return
        # linkat() cannot replace a file: link under a temporary name, then
        # rename over the target. Only a kill in the microseconds between the
        # two calls can leave the temporary name behind.
        for _ in range(100):
            tmp = f".{path.name}.{secrets.token_hex(6)}.part"
            try:
                os.link(proc, tmp, dst_dir_fd=dir_fd, follow_symlinks=True)
                break
            except FileExistsError:
                continue
            except OSError as e:
                raise _LinkUnavailable from e
        else:  # pragma: no cover - 100 random collisions
            raise FileExistsError(errno.EEXIST, "could not create a temporary file name", str(folder))
        try:
            os.replace(tmp, path.name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp, dir_fd=dir_fd)
            raise
    finally:
        os.close(dir_fd)


def _mkstemp(folder: Path, name: str) -> tuple[int, Path]:
    """A new hidden file beside the target, created with the umask's permissions."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = folder / f".{name}.{secrets.token_hex(6)}.part"
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(  # pragma: no cover - 100 random collisions
        errno.EEXIST, "could not create a temporary file name", str(folder))


def _publish_named(tmp: Path, path: Path, overwrite: bool) -> None:
    if overwrite:
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise _exists_error(path) from None
    except OSError:
        # File systems without hard links: best effort (a tiny race remains).
        if os.path.lexists(path):
            raise _exists_error(path) from None
        os.replace(tmp, path)
    else:
        os.unlink(tmp)


def _existing_mode(path: Path) -> int | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return stat.S_IMODE(st.st_mode) if stat.S_ISREG(st.st_mode) else None


def _set_mode(fd: int, mode: int | None) -> None:
    if mode is None:
        return
    with contextlib.suppress(OSError, AttributeError, NotImplementedError):
        os.fchmod(fd, mode)


def _fsync_dir(folder: Path) -> None:
    """Persist the rename itself (POSIX); a no-op where directories can't be opened."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
