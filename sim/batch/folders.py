"""Output folders: one process at a time (a claim), and folders written atomically (staging).

A claim is an exclusive ``flock`` on a hidden lock file beside the folder. The kernel drops
it when the process ends, however it ends, so a killed run never blocks the next one; a
second process that claims the same folder meanwhile is refused (exit code 2). The lock file
is opened without following a link and must be a regular file: a symbolic link (whose target
would be truncated and overwritten with a pid), a FIFO (which blocks a reader) or anything
else at its place is refused, naming it, and left as it is. A staged
folder is written beside its destination and renamed into place, so nothing half-written
is ever at the destination.
"""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sim.input.errors import InputError

STAGING = "staging-"  # hidden staged folders are named .<name>.staging-<random>


def lock_path(out: Path) -> Path:
    """The lock file of a folder's claim: hidden, beside the folder."""
    return out.parent / f".{out.name}.lock"


def check_writable(out: Path, option: str = "--out") -> None:
    """Refuse a destination that cannot become a folder (a file, or under one), before any work."""
    if out.exists() and not out.is_dir():
        raise InputError(str(out), "", f"already exists and is not a folder; choose another {option}")
    for parent in out.parents:
        if parent.exists():
            if not parent.is_dir():
                raise InputError(option, "", f"{out} is under {parent}, which is a file, not a folder")
            if not os.access(parent, os.W_OK | os.X_OK):
                raise InputError(option, "", f"{out}: no permission to write in {parent}")
            return


@contextmanager
def claim(out: Path) -> Iterator[None]:
    """Hold ``out`` for this process; an :class:`InputError` when another process holds it."""
    lock = lock_path(out)
    while True:
        fd = _open_lock(lock, out)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise InputError(str(out), "", f"is being written by another process (pid {holder}); "
                             "wait for it to finish or choose another --out") from None
        if _same_file(fd, lock):
            break
        os.close(fd)  # its holder removed it just before we locked it: take a fresh one
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    try:
        remove_staged(out)  # left by a killed process: nobody else can be writing them now
        yield
    finally:
        lock.unlink(missing_ok=True)  # while still holding it, so nobody locks a removed file
        os.close(fd)


def _open_lock(lock: Path, out: Path) -> int:
    """Open (or create) the lock file, a regular file and no link; a folder that cannot be
    written, or something else at the lock file's place, is bad input."""
    try:
        lock.parent.mkdir(parents=True, exist_ok=True)
        fd = _open_regular(lock, os.O_RDWR | os.O_CREAT)
    except _NotRegularError as err:
        raise InputError(str(out), "", f"its lock file {lock} is {err}, not a regular file; remove "
                         "it if nothing else uses it, then run the command again") from None
    except OSError as err:
        raise InputError(str(out), "", f"cannot be written ({err.strerror}: {err.filename})") from None
    return fd


class _NotRegularError(OSError):
    """Something other than a regular file is where a lock file goes."""


def _open_regular(path: Path, flags: int) -> int:
    """``os.open`` that neither follows a symbolic link nor blocks on a FIFO, and refuses
    anything but a regular file (:class:`_NotRegularError` says what it is)."""
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK, 0o644)
    except OSError as err:
        try:
            mode = os.lstat(path).st_mode
        except OSError:
            raise err from None
        if not stat.S_ISREG(mode):
            raise _NotRegularError(_kind(mode)) from None
        raise
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise _NotRegularError(_kind(mode))
    os.set_blocking(fd, True)
    return fd


def _kind(mode: int) -> str:
    """What a file of this mode is, in words."""
    kinds = [(stat.S_ISLNK, "a symbolic link"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISDIR, "a folder"),
             (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device")]
    return next((name for test, name in kinds if test(mode)), "a special file")


def holder(out: Path) -> int | None:
    """The process that holds the claim on ``out`` now, or None (a stale lock file counts not,
    nor anything at its place that is not a regular file)."""
    try:
        fd = _open_regular(lock_path(out), os.O_RDONLY)
    except OSError:
        return None
    try:
        pid = int(os.read(fd, 32).decode(errors="replace").strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    finally:
        os.close(fd)
    return pid


def _same_file(fd: int, path: Path) -> bool:
    """Whether the open lock file is still the one at ``path`` (not removed meanwhile)."""
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except FileNotFoundError:
        return False


def remove_staged(out: Path) -> None:
    """Remove the staged folders of ``out`` that a killed process left (call under the claim)."""
    for leftover in out.parent.glob(f".{out.name}.{STAGING}*"):
        shutil.rmtree(leftover, ignore_errors=True)


@contextmanager
def staged_folder(out: Path, replace: bool = False) -> Iterator[Path]:
    """A temporary folder beside ``out`` that becomes ``out`` when the block succeeds.

    Nothing half-written is ever at ``out``: on an error the temporary folder is removed and
    ``out`` is left as it was. ``out`` may be missing or an empty folder; with ``replace`` an
    existing ``out`` is replaced (a new fit over an old one). Call it under :func:`claim`.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.{STAGING}", dir=out.parent))
    try:
        yield tmp
        if replace and out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.{STAGING}old-", dir=out.parent))
            os.replace(out, old / out.name)
            os.replace(tmp, out)
            shutil.rmtree(old)
        else:
            _rename_into(tmp, out)
        fsync_folder(out.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _rename_into(tmp: Path, out: Path) -> None:
    """Rename ``tmp`` to ``out``; the kernel refuses when ``out`` is not an empty folder."""
    try:
        os.rename(tmp, out)
    except OSError as err:
        raise InputError(str(out), "", f"was filled by something else while this process wrote "
                         f"({err.strerror}); nothing was replaced") from None


def fsync_folder(folder: Path) -> None:
    """Make the renames in ``folder`` durable (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def os_error_line(err: OSError, then: str = "run the same command again") -> str:
    """An operating-system error (a full disk, no permission, ...) in one line: what failed,
    where, and what to do before ``then``."""
    what = err.strerror or str(err) or type(err).__name__
    where = f"{err.filename}: " if err.filename else ""
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        advice = "the disk is full: free space on it, then "
    elif err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        advice = "make it writable (or write elsewhere), then "
    else:
        advice = "once that is fixed, "
    return f"{where}{what}; {advice}{then}"
