"""The results store's file primitives: the exclusive create that writes a cell once, the lock a run
holds on its store, and the one-line errors for operating-system failures and malformed JSON.

See :mod:`spikebench.results` for the store's layout and rules; this module knows files, not rows.
"""

from __future__ import annotations

import errno
import json
import os
import time
from pathlib import Path

from .core.errors import FileFormatError, SpikebenchError
from .core.fileio import _UMASK, write_temp

#: The lock file in a store folder (:meth:`ResultsStore.lock`); not part of the results.
LOCK_NAME = ".lock"


class StoreError(SpikebenchError):
    """The results store cannot be written (read-only, permission, name too long, disk full) or is in use."""


class StoreInUseError(StoreError):
    """Another run holds the store's lock (:meth:`ResultsStore.lock`)."""


class CellExistsError(StoreError):
    """A cell file is already there: results are append-only, a cell is never rewritten."""


def _os_hint(exc: OSError) -> str:
    """How to get past an operating-system error on the store (one clause)."""
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return "free some disk space, then continue with the same command and --resume"
    if exc.errno == errno.ENAMETOOLONG:
        return "choose a shorter --out path"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "choose a writable --out folder"
    return "check the folder, or choose another --out"


def store_os_error(exc: OSError, path, *, action: str = "write") -> StoreError:
    """``exc`` (raised while ``action``-ing ``path`` of a store) as one line naming the path and the fix."""
    where = exc.filename if exc.filename else path
    what = exc.strerror or type(exc).__name__
    return StoreError(f"{where}: cannot {action} the results store ({what}); {_os_hint(exc)}")


def _read_json(path: Path, what: str, fix: str):
    """The JSON document in ``path``; unreadable, not JSON, or nested beyond Python's recursion limit
    (``json`` raises RecursionError) is a one-line :class:`FileFormatError` naming the file and ``fix``."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        why = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise FileFormatError(f"{path}: unreadable {what} ({why}); {fix}") from None


def exclusive_write_bytes(path, data: bytes) -> None:
    """Create ``path`` holding ``data``, atomically and only if it does not exist.

    The bytes go to a temporary file in the same folder, are fsynced, and the file is hard-linked to
    ``path``: ``link(2)`` fails with EEXIST when ``path`` exists, whoever made it and however late, so
    an existing file is never replaced (``os.replace`` would silently overwrite it) and a reader never
    sees half a file. :class:`CellExistsError` if ``path`` exists; :class:`StoreError` for any other
    operating-system error. The temporary file is always removed.
    """
    path = Path(path)
    folder = path.parent
    try:
        tmp = write_temp(folder, path.name, data)
    except OSError as exc:
        raise store_os_error(exc, path) from None
    try:
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise CellExistsError(f"{path}: already exists; results are append-only and a cell is never "
                                  "rewritten (another run wrote it?)") from None
        except OSError as exc:
            if exc.errno in (errno.EPERM, getattr(errno, "ENOTSUP", -1), getattr(errno, "EOPNOTSUPP", -1)):
                raise StoreError(f"{path}: cannot write the results store ({exc.strerror}: cells are created "
                                 "with a hard link, which this file system may not allow); choose an --out "
                                 "folder on a local disk") from None
            raise store_os_error(exc, path) from None
        try:  # make the new name durable too
            dfd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
        except OSError:
            pass  # some file systems cannot fsync a folder; the file itself is on disk
    finally:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass


class StoreLock:
    """An exclusive ``flock`` on a store's ``.lock`` file (see :meth:`ResultsStore.lock`); a context manager.

    The file records the holder's pid and start time (UTC) for the message a second run prints. It is
    never deleted: deleting it would let a waiting run lock a file nobody else sees."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.path = self.root / LOCK_NAME
        self._fd: int | None = None

    def holder(self) -> str:
        """``"pid N since <time>"`` of the run holding the lock, as its file says."""
        for _ in range(20):  # the holder locks first, then writes its line: give it up to 1 s to appear
            try:
                text = self.path.read_text(encoding="utf-8", errors="replace").split()
            except OSError:
                text = []
            if len(text) >= 2 and text[0].isdigit():
                return f"pid {text[0]} since {text[1]}"
            time.sleep(0.05)
        return "pid unknown"

    def acquire(self, *, wait: bool = False) -> StoreLock:
        import fcntl

        if self._fd is not None:
            return self
        try:
            self.root.mkdir(parents=True, exist_ok=True)  # two runs into one new folder: both may make it
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o666 & ~_UMASK)
        except FileExistsError:
            raise StoreError(f"{self.root}: is a file, not a results folder; choose another --out") from None
        except OSError as exc:
            raise store_os_error(exc, self.path) from None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if not wait:
                    raise StoreInUseError(f"results store {self.root} is in use by another run ({self.holder()}); "
                                          "wait for it or use another --out") from None
                import sys

                print(f"spikebench: waiting for the run holding {self.root} ({self.holder()})", file=sys.stderr)
                fcntl.flock(fd, fcntl.LOCK_EX)  # Ctrl-C/SIGTERM interrupt the wait (KeyboardInterrupt)
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()} {stamp}\n".encode(), 0)
        except OSError as exc:
            os.close(fd)
            raise store_os_error(exc, self.path) from None
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)  # no stale pid for the next reader
        except OSError:
            pass
        os.close(fd)  # closing the last descriptor drops the flock

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> StoreLock:
        return self.acquire()  # already held (ResultsStore.lock): a no-op

    def __exit__(self, *exc) -> None:
        self.release()
