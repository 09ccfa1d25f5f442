"""N-MNIST on disk: the 40-bit event ``.bin`` format, its folder tree and its zip archives.

Format (Orchard et al. 2015, Front. Neurosci. 9:437; see ``../shared/reference/datasets.md`` §1.1):
one file per sample, 5 bytes per event, big-endian bit numbering::

    byte 0          x address (pixels)
    byte 1          y address (pixels)
    byte 2, bit 7   polarity (0 = OFF, 1 = ON)
    byte 2 bits 6-0, bytes 3-4   timestamp in microseconds (23 bits, at most 8.39 s)

A file's length is ``5 * n_events``; anything else is corrupt. A record with ``y == 240`` is the
legacy ATIS timestamp-overflow marker: it adds ``2**13`` µs to every later timestamp and is itself
dropped (it cannot occur on 34 x 34 N-MNIST data, but N-Caltech101 shares the reader).

Events are returned as a structured array of dtype :data:`EVENT_DTYPE`
(``x``, ``y``, ``p`` as uint8, ``t_us`` as uint32 microseconds), in file order.

Dataset layout: ``Train/<digit>/<index>.bin`` and ``Test/<digit>/<index>.bin`` (the label is the
parent folder), either extracted or inside ``train.zip`` / ``test.zip`` (read in place with
:mod:`zipfile`, nothing extracted to disk).
"""

from __future__ import annotations

import time
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np

from spikebench.core.errors import FileFormatError, InvalidSpikesError
from spikebench.core.fileio import atomic_write_bytes

from .readall import BadFilesError, file_error, read_all, read_file_bytes

#: One decoded event: x, y (pixels), polarity p (0 OFF / 1 ON), timestamp t_us (microseconds).
#: Aligned, so the record is 8 bytes with t_us on a 4-byte boundary.
EVENT_DTYPE = np.dtype([("x", "u1"), ("y", "u1"), ("p", "u1"), ("t_us", "<u4")], align=True)

#: N-MNIST sensor: ATIS camera cropped to 34 x 34 pixels (width, height), 2 polarities.
SENSOR_SIZE = (34, 34, 2)

BYTES_PER_EVENT = 5
OVERFLOW_Y = 240
OVERFLOW_STEP_US = 1 << 13
MAX_T_US = (1 << 23) - 1

#: Saccade length (µs): three saccades of ~105 ms; "first saccade only" keeps t < 100,000 µs.
SACCADE_US = 105_000
FIRST_SACCADE_END_US = 100_000

SPLITS = {"train": "Train", "test": "Test"}
#: Largest zip member we inflate (bytes); real samples are ~25 KB. Guards against zip bombs.
MAX_MEMBER_BYTES = 64 << 20


# ---- one sample ---------------------------------------------------------------------------------


def decode_events(data: bytes | bytearray | memoryview, *, source: object = "<bytes>") -> np.ndarray:
    """Decode N-MNIST ``.bin`` bytes into an :data:`EVENT_DTYPE` array (vectorised).

    ``source`` names the file in error messages. Overflow markers (``y == 240``) are applied and
    dropped. Raises :class:`FileFormatError` if the length is not a multiple of 5.
    """
    buf = memoryview(data).cast("B") if not isinstance(data, bytes) else data
    size = len(buf)
    if size % BYTES_PER_EVENT:
        raise file_error(source, f"length {size} bytes is not a multiple of {BYTES_PER_EVENT} "
                                 f"(N-MNIST events are 5 bytes each); the file is truncated or not N-MNIST")
    n = size // BYTES_PER_EVENT
    out = np.empty(n, dtype=EVENT_DTYPE)
    if n == 0:
        return out
    rows = np.frombuffer(buf, dtype=np.uint8).reshape(n, BYTES_PER_EVENT)
    # Bytes 1-4 of each record as one big-endian word: y << 24 | p << 23 | t (strided view, no copy).
    word = np.ndarray((n,), dtype=">u4", buffer=buf, offset=1, strides=(BYTES_PER_EVENT,)).astype(np.uint32)
    out["x"] = rows[:, 0]
    out["y"] = rows[:, 1]
    out["p"] = (word >> 23) & 1
    out["t_us"] = word & MAX_T_US
    marker = out["y"] == OVERFLOW_Y
    if marker.any():
        out = _apply_overflow(out, marker, source)
    return out


def _apply_overflow(events: np.ndarray, marker: np.ndarray, source: object) -> np.ndarray:
    t = events["t_us"].astype(np.int64) + np.cumsum(marker, dtype=np.int64) * OVERFLOW_STEP_US
    kept = events[~marker].copy()
    t = t[~marker]
    if len(t) and t.max() > np.iinfo(np.uint32).max:
        raise file_error(source, f"{int(marker.sum())} timestamp-overflow markers push timestamps past 2**32 µs")
    kept["t_us"] = t
    return kept


def encode_events(events: np.ndarray) -> bytes:
    """Encode events (fields x, y, p, t_us) into N-MNIST ``.bin`` bytes; inverse of :func:`decode_events`.

    No overflow markers are written, so every value must fit the record: ``0 <= x, y <= 255``,
    ``y != 240`` (the marker), ``p`` in {0, 1}, ``0 <= t_us < 2**23``. Anything else raises
    :class:`InvalidSpikesError` rather than being wrapped or clipped.
    """
    ev = np.asarray(events)
    names = ev.dtype.names or ()
    missing = [f for f in EVENT_DTYPE.names if f not in names]
    if ev.ndim != 1 or missing:
        raise InvalidSpikesError(f"N-MNIST events must be a 1-D structured array with fields x, y, p, t_us; "
                                 f"got shape {ev.shape}, missing {missing}")
    cols = {f: np.asarray(ev[f]) for f in EVENT_DTYPE.names}
    for f, arr in cols.items():
        if not np.issubdtype(arr.dtype, np.integer):
            raise InvalidSpikesError(f"N-MNIST field {f} must be integers, got {arr.dtype}")
    limits = {"x": 255, "y": 255, "p": 1, "t_us": MAX_T_US}
    for f, hi in limits.items():
        arr = cols[f]
        if len(arr) and (arr.min() < 0 or arr.max() > hi):
            raise InvalidSpikesError(f"N-MNIST field {f} must lie in [0, {hi}], got {arr.min()}..{arr.max()}")
    if np.any(cols["y"] == OVERFLOW_Y):
        raise InvalidSpikesError(f"y == {OVERFLOW_Y} is the timestamp-overflow marker and cannot be written as an event")
    n = len(ev)
    t = cols["t_us"].astype(np.uint32)
    rows = np.empty((n, BYTES_PER_EVENT), dtype=np.uint8)
    rows[:, 0] = cols["x"]
    rows[:, 1] = cols["y"]
    rows[:, 2] = (cols["p"].astype(np.uint32) << 7) | (t >> 16)
    rows[:, 3] = (t >> 8) & 0xFF
    rows[:, 4] = t & 0xFF
    return rows.tobytes()


def check_sensor(events: np.ndarray, sensor_size: tuple[int, int] | tuple[int, int, int], *, source: object) -> None:
    """Raise :class:`FileFormatError` if any event lies outside a ``(width, height)`` sensor."""
    w, h = int(sensor_size[0]), int(sensor_size[1])
    if len(events) == 0:
        return
    bad = (events["x"] >= w) | (events["y"] >= h)
    if bad.any():
        i = int(np.argmax(bad))
        raise file_error(source, f"{int(bad.sum())} event(s) outside the {w} x {h} sensor, first at index {i} "
                                 f"(x={int(events['x'][i])}, y={int(events['y'][i])})")


def first_saccade(events: np.ndarray) -> np.ndarray:
    """The events of the first saccade (``t_us < 100,000``), as tonic's ``first_saccade_only``."""
    return events[events["t_us"] < FIRST_SACCADE_END_US]


def read_nmnist_file(path: str | Path, *, sensor_size: tuple[int, ...] | None = None) -> np.ndarray:
    """Events of one ``.bin`` file; with ``sensor_size`` (e.g. :data:`SENSOR_SIZE`) also check x, y."""
    ev = decode_events(read_file_bytes(path), source=path)
    _require_events(ev, path)
    if sensor_size is not None:
        check_sensor(ev, sensor_size, source=path)
    return ev


def _require_events(ev: np.ndarray, where: object) -> None:
    """An N-MNIST sample always holds events (a saccade over a digit); an empty file is a broken copy."""
    if len(ev) == 0:
        raise file_error(where, "holds no events (an empty N-MNIST sample); the file is truncated or a placeholder: "
                                "replace it with the real recording or remove it")


def write_nmnist_file(path: str | Path, events: np.ndarray) -> None:
    """Write events as one ``.bin`` file (atomically; the folder must exist)."""
    atomic_write_bytes(path, encode_events(events))


def events_to_channels(events: np.ndarray, sensor_size: tuple[int, ...] = SENSOR_SIZE) -> tuple[np.ndarray, np.ndarray]:
    """``(times_s, channels)`` for :meth:`SpikeTrain.from_events`: channel = (p * H + y) * W + x.

    With the 34 x 34 x 2 sensor that gives the 2,312 input channels of the reference network.
    """
    w, h = int(sensor_size[0]), int(sensor_size[1])
    ch = (events["p"].astype(np.int64) * h + events["y"]) * w + events["x"]
    return events["t_us"].astype(np.float64) * 1e-6, ch


# ---- the dataset: folder tree and zip archives --------------------------------------------------


@dataclass(frozen=True, kw_only=True, eq=False)
class NmnistSample:
    """One sample: its events, its label (0-9) and where it came from (file path or zip member)."""

    events: np.ndarray
    label: int
    name: str


def _split_folder(split: str) -> str:
    key = str(split).lower()
    if key not in SPLITS:
        raise FileFormatError(f"unknown N-MNIST split {split!r}; use 'train' or 'test'")
    return SPLITS[key]


def _label_of(folder: str) -> int | None:
    return int(folder) if len(folder) == 1 and folder.isdigit() else None


def list_tree(root: str | Path, split: str) -> list[tuple[Path, int | None]]:
    """Every ``.bin`` under ``root/<Train|Test>/``, sorted, with the label of its digit folder.

    A ``.bin`` file whose parent folder is not a single digit gets label ``None`` (the readers
    report it as a bad file rather than skipping it). Files of other extensions are ignored.
    """
    folder = Path(root) / _split_folder(split)
    if not folder.is_dir():
        raise file_error(folder, f"N-MNIST {split} folder not found (expected {folder.name}/<digit>/*.bin)")
    found = sorted(folder.rglob("*.bin"))
    odd = [p for p in found if not p.is_file()]
    if odd:  # a folder or FIFO named like a sample: refused (skipping it would silently shrink the split)
        kind = "a folder" if odd[0].is_dir() else "not a regular file (a FIFO or device?)"
        more = f" (and {len(odd) - 1} more)" if len(odd) > 1 else ""
        raise file_error(odd[0], f"is {kind} where an N-MNIST .bin file is expected{more}; remove or replace it")
    return [(p, _label_of(p.parent.name) if p.parent.parent == folder else None) for p in found]


def iter_tree(root: str | Path, split: str, *, sensor_size: tuple[int, ...] | None = SENSOR_SIZE,
              saccade_only: bool = False) -> Iterator[NmnistSample]:
    """Lazily read a ``Train|Test/<digit>/*.bin`` tree; stops at the first bad file."""
    for path, label in list_tree(root, split):
        yield _sample_from_file(path, label, sensor_size, saccade_only)


def read_tree(root: str | Path, split: str, *, sensor_size: tuple[int, ...] | None = SENSOR_SIZE,
              saccade_only: bool = False) -> list[NmnistSample]:
    """Read a whole split; every bad file is reported in one :class:`BadFilesError`."""
    items = list_tree(root, split)
    return read_all(items, lambda it: _sample_from_file(it[0], it[1], sensor_size, saccade_only),
                    what=f"{Path(root) / _split_folder(split)}", name=lambda it: str(it[0]))


def _sample_from_file(path: Path, label: int | None, sensor_size, saccade_only: bool) -> NmnistSample:
    if label is None:
        raise file_error(path, "not inside a digit folder <0-9>/, so it has no label")
    ev = read_nmnist_file(path, sensor_size=sensor_size)
    return NmnistSample(events=first_saccade(ev) if saccade_only else ev, label=label, name=str(path))


def _open_zip(zip_path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(zip_path)
    except FileNotFoundError:
        raise file_error(zip_path, "zip archive not found") from None
    except IsADirectoryError:
        raise file_error(zip_path, "is a folder, expected a zip archive") from None
    except Exception as exc:  # zipfile raises BadZipFile, OSError, ValueError, struct.error... on corrupt archives
        raise file_error(zip_path, f"not a readable zip archive ({type(exc).__name__}: {exc})") from None


def list_zip(zip_path: str | Path) -> list[tuple[str, int | None]]:
    """``.bin`` members of an N-MNIST zip (e.g. ``Train/3/00011.bin``), sorted, with their labels.

    macOS resource entries (``__MACOSX/``) are not samples and are skipped; every other ``.bin``
    member is listed, with label ``None`` when its parent folder is not a single digit.
    """
    zp = Path(zip_path)
    with _open_zip(zp) as zf:
        names = zf.namelist()
    out = []
    for name in sorted(names):
        pp = PurePosixPath(name)
        if name.endswith("/") or not name.lower().endswith(".bin") or "__MACOSX" in pp.parts:
            continue
        out.append((name, _label_of(pp.parent.name)))
    return out


def iter_zip(zip_path: str | Path, *, sensor_size: tuple[int, ...] | None = SENSOR_SIZE,
             saccade_only: bool = False) -> Iterator[NmnistSample]:
    """Lazily read every sample of ``train.zip`` / ``test.zip`` in place; stops at the first bad member."""
    zp = Path(zip_path)
    members = list_zip(zp)
    with _open_zip(zp) as zf:
        for name, label in members:
            yield _sample_from_member(zf, zp, name, label, sensor_size, saccade_only)


def read_zip(zip_path: str | Path, *, sensor_size: tuple[int, ...] | None = SENSOR_SIZE,
             saccade_only: bool = False) -> list[NmnistSample]:
    """Read every sample of an N-MNIST zip; every bad member is reported in one :class:`BadFilesError`."""
    zp = Path(zip_path)
    members = list_zip(zp)
    with _open_zip(zp) as zf:
        return read_all(members, lambda m: _sample_from_member(zf, zp, m[0], m[1], sensor_size, saccade_only),
                        what=str(zp), name=lambda m: f"{zp}:{m[0]}")


def _sample_from_member(zf: zipfile.ZipFile, zp: Path, name: str, label: int | None, sensor_size,
                        saccade_only: bool) -> NmnistSample:
    where = f"{zp}:{name}"
    if label is None:
        raise file_error(where, "not inside a digit folder <0-9>/, so it has no label")
    try:
        info = zf.getinfo(name)
        if info.file_size > MAX_MEMBER_BYTES:
            raise file_error(where, f"member is {info.file_size} bytes uncompressed, more than {MAX_MEMBER_BYTES}")
        data = zf.read(info)
    except FileFormatError:
        raise
    except Exception as exc:  # zipfile/zlib/bz2/lzma raise many types on corrupt members
        raise file_error(where, f"cannot decompress member ({type(exc).__name__}: {exc})") from None
    ev = decode_events(data, source=where)
    _require_events(ev, where)
    if sensor_size is not None:
        check_sensor(ev, sensor_size, source=where)
    return NmnistSample(events=first_saccade(ev) if saccade_only else ev, label=label, name=where)


def read_split(source: str | Path, split: str, **kw) -> list[NmnistSample]:
    """One split from a data directory: ``source/<Train|Test>/`` if extracted, else ``source/<split>.zip``."""
    src = Path(source)
    folder = src / _split_folder(split)
    if folder.is_dir():
        return read_tree(src, split, **kw)
    archive = src / f"{str(split).lower()}.zip"
    if archive.is_file():
        return read_zip(archive, **kw)
    raise file_error(src, f"no N-MNIST {split} data: neither folder {folder.name}/ nor {archive.name} found")


# ---- writers for whole splits -------------------------------------------------------------------


def write_tree(root: str | Path, split: str, samples: Iterable[tuple[str, int, np.ndarray]]) -> list[Path]:
    """Write ``(stem, label, events)`` samples as ``root/<Train|Test>/<label>/<stem>.bin``; returns the paths."""
    base = Path(root) / _split_folder(split)
    paths = []
    for stem, label, events in samples:
        if not (0 <= int(label) <= 9):
            raise InvalidSpikesError(f"N-MNIST labels are digits 0-9, got {label!r} for sample {stem!r}")
        folder = base / str(int(label))
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{stem}.bin"
        write_nmnist_file(path, events)
        paths.append(path)
    return paths


def write_zip(zip_path: str | Path, split: str, samples: Iterable[tuple[str, int, np.ndarray]]) -> None:
    """Write samples into a zip laid out as the official archives (``Train/<label>/<stem>.bin``).

    Deterministic: fixed member timestamps and order as given, so equal input gives equal bytes.
    """
    import io

    top = _split_folder(split)
    bio = io.BytesIO()
    with zipfile.ZipFile(bio, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for stem, label, events in samples:
            if not (0 <= int(label) <= 9):
                raise InvalidSpikesError(f"N-MNIST labels are digits 0-9, got {label!r} for sample {stem!r}")
            info = zipfile.ZipInfo(f"{top}/{int(label)}/{stem}.bin", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, encode_events(events))
    atomic_write_bytes(zip_path, bio.getvalue())


# ---- throughput ---------------------------------------------------------------------------------


def benchmark_decode(n_events: int = 10_000_000, *, repeats: int = 5, seed: int = 0) -> float:
    """Decoding throughput in events per second (best of ``repeats``) on seeded random records.

    ``python -c "from spikebench.workloads.nmnist_format import benchmark_decode as b; print(b()/1e6)"``
    """
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, 256, size=(n_events, BYTES_PER_EVENT), dtype=np.uint8)
    rows[:, 1] %= 34  # no overflow markers, as on real N-MNIST
    data = rows.tobytes()
    best = float("inf")
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        decode_events(data)
        best = min(best, time.perf_counter() - t0)
    return n_events / best


__all__ = [
    "EVENT_DTYPE", "SENSOR_SIZE", "NmnistSample", "BadFilesError", "decode_events", "encode_events",
    "check_sensor", "first_saccade", "read_nmnist_file", "write_nmnist_file", "events_to_channels",
    "list_tree", "iter_tree", "read_tree", "list_zip", "iter_zip", "read_zip", "read_split",
    "write_tree", "write_zip", "benchmark_decode",
]
