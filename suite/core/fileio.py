"""Atomic file writes (a reader never sees a half-written results or counts file), the checks on a
path we are about to write (made before any expensive work), and the JSON encoding of numpy values.

Writing never replaces what the user's path points through: a symbolic link is kept and its target
written (atomically, in the target's folder); a device or FIFO (``/dev/null``, ``/dev/stdout``) is
written into directly, as a shell redirection would. An operating-system failure (read-only file
system, permission denied, name too long, disk full) is a :class:`OutputError`: one line naming the
path.
"""

from __future__ import annotations

import errno
import io
import os
import stat
import tempfile
from pathlib import Path

from .errors import SpikebenchError

_UMASK = os.umask(0)
os.umask(_UMASK)

#: What to do about each operating-system error when writing (errno -> hint).
_HINTS = {
    errno.EROFS: "the file system is read-only; write to another folder",
    errno.EACCES: "permission denied; write to a folder you may write to",
    errno.EPERM: "operation not permitted; write to a folder you may write to",
    errno.ENAMETOOLONG: "the file name is too long; choose a shorter name",
    errno.ENOSPC: "no space left on the device; free some space or write elsewhere",
    errno.EDQUOT: "disk quota exceeded; free some space or write elsewhere",
    errno.EISDIR: "is a folder; give a file path",
    errno.ENOTDIR: "a part of the path is not a folder",
    errno.ENOENT: "its folder does not exist; create it first",
    errno.ENXIO: "a FIFO with no reader; start the reader first",
}


class OutputError(SpikebenchError, OSError):
    """Writing an output failed for an operating-system reason (one line naming the path; CLI exit 2).

    Also an :class:`OSError`, so code that handled the raw error still does."""

    def __str__(self) -> str:  # the one line, not OSError's "[Errno n] ..."
        return str(self.args[0]) if self.args else super().__str__()


def os_error_line(path, exc: OSError, doing: str = "cannot write") -> str:
    """``<path>: cannot write (<strerror>); <hint>`` for an operating-system error on ``path``."""
    hint = _HINTS.get(exc.errno)
    return f"{path}: {doing}: {hint}" if hint else f"{path}: {doing} ({exc.strerror or type(exc).__name__})"


def output_error(path, exc: OSError, doing: str = "cannot write") -> OutputError:
    err = OutputError(os_error_line(path, exc, doing))
    err.errno, err.strerror, err.filename = exc.errno, exc.strerror, str(path)
    return err


def _std_stream(path: Path):
    """``sys.stdout`` or ``sys.stderr`` when ``path`` is the file it writes to (same device and inode),
    else None (a path that does not exist yet, an in-memory stream)."""
    import sys

    try:
        st = os.stat(path)
    except OSError:
        return None
    for stream in (sys.stdout, sys.stderr):
        try:
            if os.path.samestat(st, os.fstat(stream.fileno())) and hasattr(stream, "buffer"):
                return stream
        except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
            continue
    return None


def _write_into(path: Path, data: bytes) -> None:
    """Write into an existing device or FIFO as it is (no temporary file, no rename)."""
    mode = os.stat(path).st_mode
    flags = os.O_WRONLY | (os.O_NONBLOCK if stat.S_ISFIFO(mode) else 0)  # a FIFO without reader: ENXIO, not a hang
    fd = os.open(path, flags)
    try:
        os.set_blocking(fd, True)
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            view = view[n:]
    finally:
        os.close(fd)


def atomic_write_bytes(path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and an atomic rename.

    A symbolic link ``path`` is kept: its final target is written (atomically). An existing device or
    FIFO is written into directly. Operating-system failures are :class:`OutputError` (one line)."""
    given = Path(path)
    try:
        stream = _std_stream(given)
        if stream is not None:  # /dev/stdout, or the very file our stdout goes to: one stream, in order
            stream.flush()
            stream.buffer.write(data)
            stream.flush()
            return
        path = Path(os.path.realpath(given)) if given.is_symlink() else given
        if str(path).startswith("/proc/") or (path.exists() and not path.is_dir() and not path.is_file()):
            _write_into(given, data)  # a device, a FIFO, or a descriptor link (/dev/fd/N): no rename
            return
    except OSError as exc:
        raise output_error(given, exc) from None
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise SpikebenchError(f"{given}: folder {folder} does not exist; create it first")
    try:
        tmp = write_temp(folder, path.name, data)
    except OSError as exc:
        raise output_error(given, exc) from None
    try:
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError) and not isinstance(exc, SpikebenchError):
            raise output_error(given, exc) from None
        raise


def write_temp(folder, name: str, data: bytes) -> str:
    """A new temporary file ``.<name>.*.tmp`` in ``folder`` holding ``data``, fsynced, with the usual
    permissions (``mkstemp`` makes 0600); returns its path, for the caller to rename or link into
    place. Raises the OSError; a partly written file is removed."""
    fd, tmp = tempfile.mkstemp(prefix=f".{name[:200]}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), 0o666 & ~_UMASK)
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return tmp


def atomic_write_text(path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def _name_max(folder: Path) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


def _check_name(path: Path, what: str) -> None:
    """Every component of ``path`` fits the file system's name limit (checked before any stat, which
    would fail with ENAMETOOLONG instead)."""
    limit = _name_max(Path("."))
    for part in path.parts:
        if len(os.fsencode(part)) > limit:
            raise SpikebenchError(f"{str(path)[:60]}...: name too long for the {what} ({len(os.fsencode(part))} "
                                  f"bytes in one name, the file system allows {limit}); choose a shorter name")


def _refuse_unwritable(folder: Path, path: Path, what: str) -> None:
    if not os.access(folder, os.W_OK | os.X_OK):
        err = OSError(errno.EROFS if _read_only(folder) else errno.EACCES, "")
        err.strerror = os.strerror(err.errno)
        raise output_error(path, err, f"cannot write the {what}")


def check_writable(path, *, what: str = "output file", inputs=()) -> Path:
    """Check, before any work, that ``path`` can be written: not a folder, its folder exists and is
    writable, its name fits the file system, and it is none of ``inputs`` (files the command reads;
    compared after resolving links). Devices and FIFOs pass (they are written into). Returns ``path``."""
    p = Path(path)
    _check_name(p, what)
    try:
        if p.is_dir():
            raise SpikebenchError(f"{p}: is a folder; give a file path for the {what}")
        folder = p.parent if str(p.parent) else Path(".")
        if not folder.is_dir():
            raise SpikebenchError(f"{p}: folder {folder} does not exist; create it first")
        target = Path(os.path.realpath(p))
        for src in inputs:
            if src is not None and os.path.realpath(src) == str(target):
                raise SpikebenchError(f"{p}: the {what} is the input file {src}; write to another path")
        if str(target).startswith("/proc/") or (target.exists() and not target.is_file()):
            return p  # a device, a FIFO or a descriptor link (/dev/stdout): written into as it is
        _refuse_unwritable(target.parent, p, what)
    except OSError as exc:
        if isinstance(exc, SpikebenchError):
            raise
        raise output_error(p, exc, f"cannot write the {what}") from None
    return p


def check_writable_folder(folder, *, what: str = "output folder", names=()) -> Path:
    """Check, before any work, that files ``names`` can be written into ``folder`` (created later if
    missing: then its nearest existing parent must be writable). Returns ``folder``."""
    out = Path(folder)
    _check_name(out, what)
    for name in names:
        _check_name(out / name, what)
    try:
        if out.exists() and not out.is_dir():
            raise SpikebenchError(f"{out}: exists and is not a folder; give a folder for the {what}")
        probe = Path(os.path.abspath(out))
        while not probe.exists() and probe.parent != probe:
            probe = probe.parent
        if not probe.is_dir():
            raise SpikebenchError(f"{out}: {probe} is not a folder; give a folder for the {what}")
        _refuse_unwritable(probe, out, what)
    except OSError as exc:
        if isinstance(exc, SpikebenchError):
            raise
        raise output_error(out, exc, f"cannot write the {what}") from None
    return out


def _read_only(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):
        return False


def json_default(o):
    """``json.dump(..., default=json_default)``: numpy scalars and arrays as numbers and lists, paths as text."""
    import numpy as np

    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")
