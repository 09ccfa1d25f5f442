"""Reading many files at once without losing a single failure.

Dataset folders hold thousands of files; a reader that stops at the first bad one makes a user
fix them one run at a time, and a reader that skips bad ones silently changes the data set. The
helpers here read every file, collect every :class:`~spikebench.core.errors.FileFormatError`,
and raise one :class:`BadFilesError` that names them all (one line, as every spikebench error).
"""

from __future__ import annotations

import stat
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

from spikebench.core.errors import FileFormatError, one_line

T = TypeVar("T")
K = TypeVar("K")

#: Upper bound on the size of a single file we read into memory (bytes). Real N-MNIST samples are
#: ~25 KB and MIT-BIH ``.dat`` files ~2 MB; anything past this is not one of our formats.
MAX_FILE_BYTES = 1 << 31


class BadFilesError(FileFormatError):
    """Several files of one collection are unreadable; ``failures`` holds every (name, reason)."""

    def __init__(self, what: str, failures: Iterable[tuple[str, str]], total: int | None = None) -> None:
        self.failures: tuple[tuple[str, str], ...] = tuple((str(n), one_line(r)) for n, r in failures)
        self.what = what
        count = len(self.failures)
        of = f" of {total}" if total is not None else ""
        listed = "; ".join(f"{name}: {reason}" for name, reason in self.failures)
        super().__init__(one_line(f"{what}: {count}{of} file(s) unreadable, fix or remove them: {listed}"))


def file_error(name: object, reason: str) -> FileFormatError:
    """A :class:`FileFormatError` whose one-line message starts with the file's name."""
    return FileFormatError(one_line(f"{name}: {reason}"))


def read_file_bytes(path: str | Path, *, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """All bytes of ``path``; a missing, unreadable or oversized file, a folder, a FIFO or a device is a
    :class:`FileFormatError` (checked with ``stat`` before anything is opened)."""
    p = Path(path)
    try:
        st = p.stat()
        if stat.S_ISDIR(st.st_mode):
            raise file_error(p, "is a folder, expected a file")
        if not stat.S_ISREG(st.st_mode):  # a FIFO or device: never opened (opening a FIFO blocks)
            raise file_error(p, "is not a regular file (a FIFO or device?), expected a file")
        size = st.st_size
        if size > max_bytes:
            raise file_error(p, f"file is {size} bytes, more than the {max_bytes} bytes this reader accepts")
        return p.read_bytes()
    except FileFormatError:
        raise
    except FileNotFoundError:
        raise file_error(p, "file not found") from None
    except IsADirectoryError:
        raise file_error(p, "is a folder, expected a file") from None
    except OSError as exc:
        raise file_error(p, f"cannot read ({exc.strerror or exc})") from None


def read_all(items: Iterable[K], read: Callable[[K], T], *, what: str, name: Callable[[K], str] = str) -> list[T]:
    """``[read(item) for item in items]``, but every failing item is reported, none dropped.

    ``read`` signals a bad file by raising :class:`FileFormatError` (anything else is a bug and
    propagates at once). After the whole pass, if any item failed, one :class:`BadFilesError`
    lists every failing item as ``name(item): reason`` in the order given; ``what`` names the
    collection (e.g. the folder) at the front of the message.
    """
    results: list[T] = []
    failures: list[tuple[str, str]] = []
    total = 0
    for item in items:
        total += 1
        try:
            results.append(read(item))
        except BadFilesError as exc:
            failures.extend(exc.failures)
        except FileFormatError as exc:
            failures.append((name(item), _strip_name(str(exc), name(item))))
    if failures:
        raise BadFilesError(what, failures, total)
    return results


def _strip_name(message: str, name: str) -> str:
    """Drop a leading ``"<name>: "`` so the combined message does not repeat every file name."""
    prefix = f"{name}: "
    return message[len(prefix):] if message.startswith(prefix) else message
