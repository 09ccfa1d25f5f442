"""SHD and SSC on disk: the Heidelberg spiking data sets' HDF5 layout, read and written with h5py.

Layout (Cramer et al. 2022, IEEE TNNLS 33:2744; ``../shared/reference/datasets.md`` §1.2), one file
per split (``shd_train.h5``, ``shd_test.h5``, ``ssc_{train,valid,test}.h5``)::

    spikes/times    (N,) vlen float16   spike times of each sample, seconds
    spikes/units    (N,) vlen uint16    input channel of each spike, 0..699
    labels          (N,) integer        class id (20 SHD classes, 35 SSC classes)
    extra/speaker   (N,) integer        speaker id per sample            (optional)
    extra/keys      (C,) strings        class id -> word                  (optional)
    extra/meta_info/{gender, age, body_height}   per speaker, SHD only   (optional)

Times are float16 seconds. They are kept as stored (:attr:`ShdData.times_f16`) and **upcast to
float64 before any scaling** (:meth:`ShdData.times_s`, :meth:`ShdData.times_us`): multiplying
float16 by 1e6 overflows to inf (tonic issue #321). float16 -> float64 is exact, so nothing is
lost and writing back is lossless. Sample counts differ between published sources, so they are
always read from the file, never assumed.

Robustness: the HDF5 C library can crash (SIGSEGV) or loop forever on corrupt files, which no
Python ``except`` can catch. :func:`read_shd` therefore reads in a forked child process by
default (``isolate=True``) and turns a crash or a timeout into a :class:`FileFormatError`; pass
``isolate=False`` for files you trust (e.g. just written by :func:`write_shd`).

Files may also be given gzip'ed (``.h5.gz``) or zipped (``.h5.zip``, one ``.h5`` member): they are
decompressed in memory, nothing is written to disk.
"""

from __future__ import annotations

import faulthandler
import gzip
import io
import os
import select
import signal
import sys
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spikebench.core.errors import FileFormatError, InvalidSpikesError, one_line
from spikebench.core.fileio import atomic_write_bytes

from .readall import file_error, read_file_bytes

#: Input channels of the cochlea model (both SHD and SSC).
N_UNITS = 700
#: Largest decompressed size accepted for ``.h5.gz`` / ``.h5.zip`` input (bytes).
MAX_DECOMPRESSED_BYTES = 8 << 30

REQUIRED = ("spikes/times", "spikes/units", "labels")
META_FIELDS = ("gender", "age", "body_height")


@dataclass(frozen=True, kw_only=True, eq=False)
class ShdData:
    """One split of SHD or SSC in memory, stored compactly as the file does (4 bytes per spike).

    Sample ``i`` owns spikes ``offsets[i]:offsets[i+1]`` of ``times_f16`` (float16 seconds, as
    stored) and ``units`` (uint16 channel in ``[0, n_units)``). ``labels`` int64 per sample;
    ``speaker`` int64 per sample or None; ``keys`` class names or None; ``meta_info`` per-speaker
    arrays ``gender`` (str), ``age`` (int64), ``body_height`` (float64), or None.
    Build one from per-sample arrays with :meth:`from_samples`.
    """

    offsets: np.ndarray
    times_f16: np.ndarray
    units: np.ndarray
    labels: np.ndarray
    speaker: np.ndarray | None = None
    keys: tuple[str, ...] | None = None
    meta_info: dict[str, np.ndarray] | None = None
    n_units: int = N_UNITS

    def __post_init__(self) -> None:
        off = np.asarray(self.offsets)
        n = len(self.labels)
        if off.ndim != 1 or len(off) != n + 1 or (len(off) and (off[0] != 0 or off[-1] != len(self.times_f16))) \
                or np.any(np.diff(off) < 0) or len(self.times_f16) != len(self.units):
            raise InvalidSpikesError("ShdData: offsets must run from 0 to the number of spikes, one more than labels")
        if self.speaker is not None and len(self.speaker) != n:
            raise InvalidSpikesError(f"ShdData: speaker has {len(self.speaker)} entries for {n} samples")

    @classmethod
    def from_samples(cls, times_s: Sequence[np.ndarray], units: Sequence[np.ndarray], labels, *,
                     speaker=None, keys: Sequence[str] | None = None, meta_info: dict | None = None,
                     n_units: int = N_UNITS) -> ShdData:
        """From per-sample spike times (seconds; quantised to float16 as the format stores them) and units."""
        n = len(labels)
        if not len(times_s) == len(units) == n:
            raise InvalidSpikesError(f"times ({len(times_s)}), units ({len(units)}) and labels ({n}) "
                                     "must have one entry per sample")
        ts, us = [], []
        for i, (t, u) in enumerate(zip(times_s, units)):
            t = np.asarray(t, dtype=np.float64)
            u = np.asarray(u)
            if t.shape != u.shape or t.ndim != 1:
                raise InvalidSpikesError(f"sample {i}: times and units must be 1-D of equal length, got {t.shape} and {u.shape}")
            if len(t) and (not np.all(np.isfinite(t)) or t.min() < 0 or t.max() > np.finfo(np.float16).max):
                raise InvalidSpikesError(f"sample {i}: times must be finite seconds in [0, 65504] to fit float16")
            if len(u) and (not np.issubdtype(u.dtype, np.integer) or u.min() < 0 or u.max() >= n_units):
                raise InvalidSpikesError(f"sample {i}: units must be integers in [0, {n_units})")
            ts.append(t.astype(np.float16))
            us.append(u.astype(np.uint16))
        lab = np.asarray(labels)
        if lab.ndim != 1 or (n and (not np.issubdtype(lab.dtype, np.integer) or lab.min() < 0 or lab.max() > 65535)):
            raise InvalidSpikesError("labels must be a 1-D array of integers in [0, 65535]")
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum([len(t) for t in ts], out=offsets[1:])
        return cls(offsets=offsets,
                   times_f16=np.concatenate(ts) if ts else np.zeros(0, np.float16),
                   units=np.concatenate(us) if us else np.zeros(0, np.uint16),
                   labels=lab.astype(np.int64),
                   speaker=None if speaker is None else np.asarray(speaker).astype(np.int64),
                   keys=None if keys is None else tuple(str(k) for k in keys),
                   meta_info=None if meta_info is None else {k: np.asarray(v) for k, v in meta_info.items()},
                   n_units=n_units)

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def n_spikes(self) -> int:
        return len(self.times_f16)

    def times_s(self, i: int) -> np.ndarray:
        """Spike times of sample ``i`` in seconds, float64 (exact upcast of the stored float16)."""
        return self.times_f16[self.offsets[i]:self.offsets[i + 1]].astype(np.float64)

    def times_us(self, i: int) -> np.ndarray:
        """Spike times of sample ``i`` in microseconds, float64 (upcast first, then scaled)."""
        return self.times_s(i) * 1e6

    def units_of(self, i: int) -> np.ndarray:
        """Channels (int64) of the spikes of sample ``i``."""
        return self.units[self.offsets[i]:self.offsets[i + 1]].astype(np.int64)

    def events(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """``[(times_s, units), ...]`` per sample, the input of :meth:`SpikeTrain.from_events`."""
        return [(self.times_s(i), self.units_of(i)) for i in range(len(self))]


# ---- reading ------------------------------------------------------------------------------------


def read_shd(path: str | Path, *, n_units: int = N_UNITS, isolate: bool = True,
             timeout_s: float | None = None) -> ShdData:
    """Read and validate one SHD/SSC split file (``.h5``, ``.h5.gz`` or ``.h5.zip``).

    Raises :class:`FileFormatError` naming the file and the reason when the file is missing or not
    HDF5, a required dataset is missing or has the wrong type, ragged lengths disagree between
    ``spikes/times``, ``spikes/units`` and ``labels`` (or within a sample), a unit lies outside
    ``[0, n_units)``, a time is negative or not finite, a label has no key, or (with ``isolate``)
    the HDF5 library crashes or runs past ``timeout_s`` (default 60 s + 10 s per 100 MB) on it.
    """
    p = Path(path)
    if not p.exists():
        raise file_error(p, "file not found")
    if p.is_dir():
        raise file_error(p, "is a folder, expected an HDF5 file")
    if not p.is_file():  # a FIFO or device: never opened (opening a FIFO blocks until a writer comes)
        raise file_error(p, "is not a regular file (a FIFO or device?), expected an HDF5 file")
    if not isolate:
        return _unpack(_read_packed(p, int(n_units)), p)
    if timeout_s is None:
        timeout_s = 60.0 + 10.0 * p.stat().st_size / 100e6
    return _unpack(_read_isolated(p, int(n_units), float(timeout_s)), p)


def _read_isolated(p: Path, n_units: int, timeout_s: float) -> bytes:
    """Run :func:`_read_packed` in a forked child; a crash or a hang becomes a FileFormatError.

    Uses ``os.fork`` directly (not :mod:`multiprocessing`), so it also works inside daemonic
    processes such as data-loader workers. Where fork is unavailable (not Linux) it reads in-process.
    """
    if not (sys.platform.startswith("linux") and hasattr(os, "fork")):
        return _read_packed(p, n_units)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: read, send, and leave without running any of the parent's exit handlers
        code = 0
        try:
            os.close(r)
            faulthandler.disable()  # the parent reports a crash as one line; no traceback dump
            try:
                msg = b"K" + _read_packed(p, n_units)
            except FileFormatError as exc:
                msg = b"E" + str(exc).encode("utf-8", "replace")
            except BaseException as exc:  # report anything, never die silently
                msg = b"E" + one_line(f"{p}: reader failed ({type(exc).__name__}: {exc})").encode("utf-8", "replace")
            view = memoryview(msg)
            while view:
                view = view[os.write(w, view):]
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(w)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise file_error(p, f"the HDF5 library did not finish reading within {timeout_s:g} s; "
                                    "the file is corrupt (or pass a larger timeout_s)")
            ready, _, _ = select.select([r], [], [], left)
            if ready:
                chunk = os.read(r, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
    except BaseException:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise
    finally:
        os.close(r)
    _, status = os.waitpid(pid, 0)
    if not (os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0):
        how = f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"exit code {os.WEXITSTATUS(status)}"
        raise file_error(p, f"the HDF5 library crashed reading the file ({how}); the file is corrupt")
    msg = b"".join(chunks)
    if msg[:1] == b"E":
        raise FileFormatError(msg[1:].decode("utf-8", "replace"))
    if msg[:1] != b"K":
        raise file_error(p, "the reader process returned no answer")
    return msg[1:]


def _read_packed(p: Path, n_units: int) -> bytes:
    """Read + validate in this process; the arrays as ``.npz`` bytes (no pickle) for the parent."""
    try:
        with _open_source(p) as f:
            arrays = _read_open(f, p, n_units)
    except FileFormatError:
        raise
    except Exception as exc:  # HDF5 raises OSError, KeyError, ValueError, TypeError... on corrupt files
        raise file_error(p, f"not a readable SHD/SSC HDF5 file ({type(exc).__name__}: {exc})") from None
    bio = io.BytesIO()
    np.savez(bio, **arrays)
    return bio.getvalue()


def _unpack(payload: bytes, p: Path) -> ShdData:
    with np.load(io.BytesIO(payload), allow_pickle=False) as z:
        a = {k: z[k] for k in z.files}
    meta = {k[5:]: a[k] for k in a if k.startswith("meta_")} or None
    return ShdData(offsets=a["offsets"], times_f16=a["times_f16"], units=a["units"], labels=a["labels"],
                   speaker=a.get("speaker"), keys=tuple(str(k) for k in a["keys"]) if "keys" in a else None,
                   meta_info=meta, n_units=int(a["n_units"]))


def _open_source(path: Path):
    """An ``h5py.File`` for ``.h5``, ``.h5.gz`` or ``.h5.zip`` (the latter two inflated in memory)."""
    import h5py

    name = path.name.lower()
    if name.endswith(".gz"):
        raw = read_file_bytes(path)
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(raw)) as gz:
                data = gz.read(MAX_DECOMPRESSED_BYTES + 1)
        except (OSError, EOFError, ValueError) as exc:
            raise file_error(path, f"not a readable gzip file ({type(exc).__name__}: {exc})") from None
        if len(data) > MAX_DECOMPRESSED_BYTES:
            raise file_error(path, f"decompresses to more than {MAX_DECOMPRESSED_BYTES} bytes")
        return h5py.File(io.BytesIO(data), "r")
    if name.endswith(".zip"):
        try:
            with zipfile.ZipFile(path) as zf:
                members = [i for i in zf.infolist() if i.filename.lower().endswith(".h5") and "__MACOSX" not in i.filename]
                if len(members) != 1:
                    raise file_error(path, f"expected exactly one .h5 member in the zip, found {len(members)}")
                if members[0].file_size > MAX_DECOMPRESSED_BYTES:
                    raise file_error(path, f"member {members[0].filename} is larger than {MAX_DECOMPRESSED_BYTES} bytes")
                data = zf.read(members[0])
        except FileFormatError:
            raise
        except Exception as exc:  # zipfile/zlib raise many types on corrupt archives
            raise file_error(path, f"not a readable zip archive ({type(exc).__name__}: {exc})") from None
        return h5py.File(io.BytesIO(data), "r")
    return h5py.File(path, "r")


def _dataset(f, p: Path, name: str, *, required: bool = True):
    import h5py

    obj = f.get(name)
    if obj is None:
        if required:
            raise file_error(p, f"missing dataset '{name}' (an SHD/SSC file has {', '.join(REQUIRED)})")
        return None
    if not isinstance(obj, h5py.Dataset):
        raise file_error(p, f"'{name}' is a {type(obj).__name__}, expected a dataset")
    if obj.ndim != 1:
        raise file_error(p, f"dataset '{name}' must be one-dimensional, has shape {obj.shape}")
    return obj


def _ragged(f, p: Path, name: str, kind: str) -> list[np.ndarray]:
    import h5py

    ds = _dataset(f, p, name)
    base = h5py.check_vlen_dtype(ds.dtype)
    if base is None or base.kind not in kind:
        raise file_error(p, f"dataset '{name}' must be variable-length {'float' if 'f' in kind else 'integer'}, "
                            f"has dtype {base or ds.dtype}")
    return [np.asarray(v) for v in ds[()]]


def _int_array(f, p: Path, name: str, *, required: bool) -> np.ndarray | None:
    ds = _dataset(f, p, name, required=required)
    if ds is None:
        return None
    arr = ds[()]
    if not np.issubdtype(arr.dtype, np.integer):
        raise file_error(p, f"dataset '{name}' must hold integers, has dtype {arr.dtype}")
    if len(arr) and arr.min() < 0:
        raise file_error(p, f"dataset '{name}' holds a negative value ({arr.min()})")
    return arr.astype(np.int64)


def _strings(f, p: Path, name: str) -> list[str] | None:
    ds = _dataset(f, p, name, required=False)
    if ds is None:
        return None
    out = []
    for v in ds[()]:
        if isinstance(v, bytes | np.bytes_):
            try:
                v = bytes(v).decode("utf-8")
            except UnicodeDecodeError:
                raise file_error(p, f"dataset '{name}' holds a string that is not UTF-8") from None
        elif not isinstance(v, str | np.str_):
            raise file_error(p, f"dataset '{name}' must hold strings, holds {type(v).__name__}")
        out.append(str(v))
    return out


def _read_open(f, p: Path, n_units: int) -> dict[str, np.ndarray]:
    times16 = _ragged(f, p, "spikes/times", "f")
    units_raw = _ragged(f, p, "spikes/units", "iu")
    labels = _int_array(f, p, "labels", required=True)
    n_t, n_u, n_l = len(times16), len(units_raw), len(labels)
    if not n_t == n_u == n_l:
        raise file_error(p, f"ragged lengths disagree: spikes/times has {n_t} samples, spikes/units {n_u}, labels {n_l}")
    len_t = np.fromiter((len(t) for t in times16), dtype=np.int64, count=n_t)
    len_u = np.fromiter((len(u) for u in units_raw), dtype=np.int64, count=n_u)
    if np.any(len_t != len_u):
        i = int(np.argmax(len_t != len_u))
        raise file_error(p, f"sample {i} has {len_t[i]} spike times but {len_u[i]} units (ragged lengths disagree)")
    offsets = np.zeros(n_t + 1, dtype=np.int64)
    np.cumsum(len_t, out=offsets[1:])
    times = np.concatenate(times16) if offsets[-1] else np.zeros(0, np.float16)
    units = np.concatenate(units_raw) if offsets[-1] else np.zeros(0, np.int64)
    if len(times):
        owner = np.repeat(np.arange(n_t), len_t)
        t64 = times.astype(np.float64)  # upcast before any arithmetic
        bad_t = ~np.isfinite(t64) | (t64 < 0)
        if bad_t.any():
            j = int(np.argmax(bad_t))
            raise file_error(p, f"sample {owner[j]} has spike time {t64[j]} s; times must be finite and >= 0")
        u64 = units.astype(np.int64)
        bad_u = (u64 < 0) | (u64 >= n_units)
        if bad_u.any():
            j = int(np.argmax(bad_u))
            raise file_error(p, f"sample {owner[j]} has unit {u64[j]} out of range [0, {n_units})")
        if times.dtype != np.float16:  # a float32/64 variant of the layout: keep values if float16 holds them
            if not np.array_equal(times.astype(np.float16).astype(np.float64), t64):
                raise file_error(p, f"spikes/times is {times.dtype}, and its values do not fit float16 exactly")
    out = {"offsets": offsets, "times_f16": times.astype(np.float16), "units": units.astype(np.uint16),
           "labels": labels, "n_units": np.array(n_units)}
    keys = _strings(f, p, "extra/keys")
    if keys is not None:
        if n_l and labels.max() >= len(keys):
            raise file_error(p, f"label {labels.max()} has no entry in extra/keys ({len(keys)} classes)")
        out["keys"] = np.array(keys, dtype=str)
    speaker = _int_array(f, p, "extra/speaker", required=False)
    if speaker is not None:
        if len(speaker) != n_l:
            raise file_error(p, f"ragged lengths disagree: extra/speaker has {len(speaker)} entries, labels {n_l}")
        out["speaker"] = speaker
    meta = _read_meta(f, p)
    if meta:
        n_spk = len(next(iter(meta.values())))
        if speaker is not None and len(speaker) and speaker.max() >= n_spk:
            raise file_error(p, f"speaker {speaker.max()} has no entry in extra/meta_info ({n_spk} speakers)")
        out.update({f"meta_{k}": v for k, v in meta.items()})
    return out


def _read_meta(f, p: Path) -> dict[str, np.ndarray] | None:
    import h5py

    grp = f.get("extra/meta_info")
    if grp is None:
        return None
    if not isinstance(grp, h5py.Group):
        raise file_error(p, "'extra/meta_info' must be a group")
    meta: dict[str, np.ndarray] = {}
    for name in META_FIELDS:
        full = f"extra/meta_info/{name}"
        if name == "gender":
            vals = _strings(f, p, full)
            if vals is not None:
                meta[name] = np.array(vals, dtype=str)
            continue
        ds = _dataset(f, p, full, required=False)
        if ds is None:
            continue
        arr = ds[()]
        if not np.issubdtype(arr.dtype, np.number):
            raise file_error(p, f"dataset '{full}' must be numeric, has dtype {arr.dtype}")
        meta[name] = arr.astype(np.int64 if name == "age" else np.float64)
    lens = {k: len(v) for k, v in meta.items()}
    if len(set(lens.values())) > 1:
        raise file_error(p, f"extra/meta_info lengths disagree: {lens}")
    return meta or None


# ---- writing ------------------------------------------------------------------------------------


def shd_bytes(data: ShdData) -> bytes:
    """The HDF5 file of ``data`` as bytes (deterministic: equal data gives equal bytes).

    Written dtypes: vlen float16 times (seconds), vlen uint16 units, uint16 labels and speaker,
    vlen UTF-8 strings for keys and gender, uint16 age, float64 body_height.
    """
    import h5py

    n = len(data)
    t16 = np.empty(n, dtype=object)
    u16 = np.empty(n, dtype=object)
    times = np.asarray(data.times_f16, dtype=np.float16)
    units = np.asarray(data.units)
    if len(units) and (units.min() < 0 or units.max() >= data.n_units):
        raise InvalidSpikesError(f"units must lie in [0, {data.n_units})")
    for i in range(n):
        a, b = data.offsets[i], data.offsets[i + 1]
        t16[i] = times[a:b]
        u16[i] = units[a:b].astype(np.uint16)
    labels = np.asarray(data.labels)
    if n and (labels.min() < 0 or labels.max() > 65535):
        raise InvalidSpikesError("labels must be integers in [0, 65535]")
    bio = io.BytesIO()
    with h5py.File(bio, "w") as f:
        f.create_dataset("spikes/times", shape=(n,), dtype=h5py.vlen_dtype(np.float16), data=t16)
        f.create_dataset("spikes/units", shape=(n,), dtype=h5py.vlen_dtype(np.uint16), data=u16)
        f.create_dataset("labels", data=labels.astype(np.uint16))
        if data.speaker is not None:
            f.create_dataset("extra/speaker", data=np.asarray(data.speaker).astype(np.uint16))
        if data.keys is not None:
            f.create_dataset("extra/keys", data=np.array(list(data.keys), dtype=object), dtype=h5py.string_dtype())
        for name, values in (data.meta_info or {}).items():
            full = f"extra/meta_info/{name}"
            if name == "gender":
                f.create_dataset(full, data=np.array([str(v) for v in values], dtype=object), dtype=h5py.string_dtype())
            elif name == "age":
                f.create_dataset(full, data=np.asarray(values).astype(np.uint16))
            else:
                f.create_dataset(full, data=np.asarray(values, dtype=np.float64))
    return bio.getvalue()


def write_shd(path: str | Path, data: ShdData) -> None:
    """Write ``data`` as an SHD/SSC HDF5 file at ``path`` (atomically; the folder must exist)."""
    atomic_write_bytes(path, shd_bytes(data))


__all__ = ["N_UNITS", "ShdData", "read_shd", "shd_bytes", "write_shd"]
