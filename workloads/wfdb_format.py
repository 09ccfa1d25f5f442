"""MIT-BIH records on disk: a minimal WFDB reader and writer (header, format 212, MIT annotations).

Formats (WFDB documentation header(5), signal(5), annot(5); ``../shared/reference/datasets.md`` §1.3):

- ``NNN.hea`` (text): a record line ``name nsig [fs [nsamp [base time/date]]]`` and one line per
  signal ``file format gain[(baseline)][/units] resolution adc_zero init_value checksum block_size
  description``. ``#`` comment lines and blank lines may appear anywhere and are skipped (comments
  are kept); CRLF line ends are accepted.
- ``NNN.dat`` in **format 212**: two 12-bit two's-complement samples in 3 bytes, channels
  interleaved frame by frame: ``s0 = b0 | (b1 & 0x0F) << 8``, ``s1 = b2 | (b1 & 0xF0) << 4``,
  values >= 2048 are negative. Decoding is vectorised numpy. Each signal's sum modulo 2**16, read
  as signed 16-bit, must equal the header's checksum; a mismatch is a :class:`FileFormatError`.
- ``NNN.atr`` (MIT annotation format): :mod:`.wfdb_annotations` (its names are importable from here too).
- ``RECORDS``: the PhysioNet list of a folder's record names, one per line (:func:`read_records_list`).

Only single-segment records in format 212 (no skew, byte offset or multiple samples per frame)
are read; anything else is refused with a :class:`FileFormatError` that names the file and the
reason, never decoded wrongly.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spikebench.core.errors import InvalidSpikesError
from spikebench.core.fileio import atomic_write_bytes

from .readall import file_error, read_all, read_file_bytes
from .wfdb_annotations import (
    ANNOTATION_SYMBOLS,
    BEAT_SYMBOLS,
    NORMAL_BEAT_SYMBOLS,
    Annotations,
    decode_annotations,
    encode_annotations,
    read_annotations,
    write_annotations,
)

MAX_HEADER_BYTES = 1 << 20
DEFAULT_FS_HZ = 250.0  # WFDB default when the header gives no sampling frequency
DEFAULT_GAIN = 200.0  # WFDB: a gain of 0 or none means "uncalibrated", read as 200 adu per unit

# ---- header --------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SignalSpec:
    """One signal line of a header. ``baseline`` None means "equal to ``adc_zero``" (WFDB rule)."""

    file_name: str
    fmt: str = "212"
    gain: float = DEFAULT_GAIN
    baseline: int | None = None
    units: str | None = None
    resolution: int = 12
    adc_zero: int = 0
    init_value: int = 0
    checksum: int | None = None
    block_size: int = 0
    description: str = ""

    @property
    def baseline_adu(self) -> int:
        return self.adc_zero if self.baseline is None else self.baseline

    @property
    def gain_adu(self) -> float:
        """Gain used for physical conversion (adu per physical unit); 0 means uncalibrated -> 200."""
        return self.gain if self.gain else DEFAULT_GAIN


@dataclass(frozen=True, kw_only=True)
class WfdbHeader:
    """A parsed ``.hea`` file: record line, signal lines and comment lines (text after ``#``)."""

    record_name: str
    n_signals: int
    fs_hz: float = DEFAULT_FS_HZ
    n_samples: int | None = None
    base_time: str = ""
    signals: tuple[SignalSpec, ...] = ()
    comments: tuple[str, ...] = ()


_FMT_RE = re.compile(r"^(\d+)(?:x(\d+))?(?::(\d+))?(?:\+(\d+))?$")
_GAIN_RE = re.compile(r"^([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)(?:\((-?\d+)\))?(?:/(\S+))?$")


def parse_header(text: str, *, source: object = "<header>") -> WfdbHeader:
    """Parse the text of a ``.hea`` file (comments and blank lines allowed anywhere)."""
    comments: list[str] = []
    lines: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            comments.append(line[1:].strip())
            continue
        lines.append(line)
    if not lines:
        raise file_error(source, "header has no record line")
    rec = lines[0].split()
    name = rec[0]
    if "/" in name:
        raise file_error(source, f"multi-segment record {name!r} is not supported (only single-segment records)")
    if len(rec) < 2:
        raise file_error(source, f"record line {lines[0]!r} has no number of signals")
    nsig = _int(rec[1], "number of signals", source)
    if nsig < 1:
        raise file_error(source, f"record has {nsig} signals; at least one is needed")
    fs = DEFAULT_FS_HZ
    if len(rec) > 2:
        fs = _float(rec[2].split("/")[0], "sampling frequency", source)
        if not (np.isfinite(fs) and fs > 0):
            raise file_error(source, f"sampling frequency {rec[2]!r} must be positive")
    nsamp = _int(rec[3], "number of samples", source) if len(rec) > 3 else None
    if nsamp is not None and nsamp < 0:
        raise file_error(source, f"number of samples {nsamp} is negative")
    base_time = " ".join(rec[4:])
    sig_lines = lines[1:]
    if len(sig_lines) != nsig:
        raise file_error(source, f"record line announces {nsig} signals but {len(sig_lines)} signal lines follow")
    signals = tuple(_parse_signal(line, source) for line in sig_lines)
    return WfdbHeader(record_name=name, n_signals=nsig, fs_hz=fs, n_samples=nsamp, base_time=base_time,
                      signals=signals, comments=tuple(comments))


def _int(tok: str, what: str, source: object) -> int:
    try:
        return int(tok)
    except ValueError:
        raise file_error(source, f"{what} {tok!r} is not an integer") from None


def _float(tok: str, what: str, source: object) -> float:
    try:
        return float(tok)
    except ValueError:
        raise file_error(source, f"{what} {tok!r} is not a number") from None


def _parse_signal(line: str, source: object) -> SignalSpec:
    tok = line.split(maxsplit=8)
    if len(tok) < 2:
        raise file_error(source, f"signal line {line!r} has no format")
    fname = tok[0]
    if fname in ("-", ".", "..") or "/" in fname or "\\" in fname:
        raise file_error(source, f"signal file name {fname!r} must be a plain file name next to the header")
    m = _FMT_RE.match(tok[1])
    if not m:
        raise file_error(source, f"signal format {tok[1]!r} is not a WFDB format specification")
    fmt, spf, skew, offset = m.groups()
    if fmt != "212":
        raise file_error(source, f"unsupported signal format {fmt} for {fname} (only format 212 is read)")
    if (spf and int(spf) != 1) or (skew and int(skew)) or (offset and int(offset)):
        raise file_error(source, f"format spec {tok[1]!r}: samples per frame, skew and byte offset are not supported")
    kw: dict = {"file_name": fname, "fmt": fmt}
    if len(tok) > 2:
        g = _GAIN_RE.match(tok[2])
        if not g:
            raise file_error(source, f"gain {tok[2]!r} is not 'gain[(baseline)][/units]'")
        kw["gain"] = float(g.group(1))
        if not np.isfinite(kw["gain"]):
            raise file_error(source, f"gain {tok[2]!r} is not finite")
        kw["baseline"] = int(g.group(2)) if g.group(2) is not None else None
        kw["units"] = g.group(3)
    fields = (("resolution", "resolution"), ("adc_zero", "ADC zero"), ("init_value", "initial value"),
              ("checksum", "checksum"), ("block_size", "block size"))
    for pos, (key, what) in enumerate(fields, start=3):
        if len(tok) > pos:
            kw[key] = _int(tok[pos], what, source)
    if len(tok) > 8:
        kw["description"] = tok[8]
    return SignalSpec(**kw)


def format_header(header: WfdbHeader) -> str:
    """The ``.hea`` text of ``header`` (LF line ends; comments after the signal lines)."""
    rec = [header.record_name, str(header.n_signals), f"{header.fs_hz:.12g}"]
    if header.n_samples is not None:
        rec.append(str(header.n_samples))
        if header.base_time:
            rec.append(header.base_time)
    out = [" ".join(rec)]
    for s in header.signals:
        gain = f"{s.gain:.12g}"
        if s.baseline is not None:
            gain += f"({s.baseline})"
        if s.units:
            gain += f"/{s.units}"
        cs = "" if s.checksum is None else str(s.checksum)
        parts = [s.file_name, s.fmt, gain, str(s.resolution), str(s.adc_zero), str(s.init_value)]
        if s.checksum is not None:
            parts += [cs, str(s.block_size)]
            if s.description:
                parts.append(s.description)
        out.append(" ".join(parts))
    out += [f"# {c}" if c else "#" for c in header.comments]
    return "\n".join(out) + "\n"


def read_header(path: str | Path) -> WfdbHeader:
    """Parse a ``.hea`` file (``path`` may omit the extension)."""
    p = _with_suffix(Path(path), ".hea")
    data = read_file_bytes(p, max_bytes=MAX_HEADER_BYTES)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    if "\x00" in text:
        raise file_error(p, "header contains NUL bytes; not a WFDB text header")
    return parse_header(text, source=p)


def _with_suffix(p: Path, suffix: str) -> Path:
    return p if p.name.endswith(suffix) else p.with_name(p.name + suffix)


# ---- format 212 ----------------------------------------------------------------------------------


def bytes_212(n_values: int) -> int:
    """Bytes that ``n_values`` samples take in format 212 (an odd last sample is padded to 3 bytes)."""
    return 3 * ((n_values + 1) // 2)


def decode_212(data: bytes, n_values: int | None = None, *, source: object = "<dat>") -> np.ndarray:
    """Decode format-212 bytes into ``n_values`` int16 samples in file order (vectorised).

    Without ``n_values`` every complete 3-byte pair is decoded. With it, the data must hold
    exactly ``bytes_212(n_values)`` bytes (or 1 fewer for an odd count, as some writers leave it).
    """
    size = len(data)
    if n_values is None:
        n_values = 2 * (size // 3)
        if size % 3:
            raise file_error(source, f"length {size} bytes is not a multiple of 3 (format 212 packs 2 samples in 3 bytes)")
    need = bytes_212(n_values)
    if not (size == need or (n_values % 2 and size == need - 1)):
        raise file_error(source, f"has {size} bytes, format 212 needs {need} for {n_values} samples "
                                 f"({'truncated' if size < need else 'trailing data'})")
    n_pairs = n_values // 2
    b = np.frombuffer(data, dtype=np.uint8, count=3 * n_pairs).reshape(n_pairs, 3).astype(np.int16)
    out = np.empty(n_values, dtype=np.int16)
    out[0:2 * n_pairs:2] = b[:, 0] | ((b[:, 1] & 0x0F) << 8)
    out[1:2 * n_pairs:2] = b[:, 2] | ((b[:, 1] & 0xF0) << 4)
    if n_values % 2:
        b0, b1 = data[3 * n_pairs], data[3 * n_pairs + 1]
        out[-1] = b0 | ((b1 & 0x0F) << 8)
    out[out >= 2048] -= 4096
    return out


def encode_212(values: np.ndarray) -> bytes:
    """Encode samples (file order, integers in [-2048, 2047]) as format-212 bytes; inverse of :func:`decode_212`."""
    v = np.asarray(values)
    if v.ndim != 1 or not np.issubdtype(v.dtype, np.integer):
        raise InvalidSpikesError(f"format 212 encodes a 1-D integer array, got {v.dtype} shape {v.shape}")
    if len(v) and (v.min() < -2048 or v.max() > 2047):
        raise InvalidSpikesError(f"format 212 holds 12-bit samples in [-2048, 2047], got {v.min()}..{v.max()}")
    u = (v.astype(np.int32) & 0xFFF).astype(np.uint16)
    if len(u) % 2:
        u = np.append(u, np.uint16(0))
    pairs = u.reshape(-1, 2)
    out = np.empty((len(pairs), 3), dtype=np.uint8)
    out[:, 0] = pairs[:, 0] & 0xFF
    out[:, 1] = ((pairs[:, 0] >> 8) & 0x0F) | ((pairs[:, 1] >> 4) & 0xF0)
    out[:, 2] = pairs[:, 1] & 0xFF
    return out.tobytes()


def checksum16(samples: np.ndarray) -> int:
    """WFDB checksum: sum of the samples modulo 2**16, as a signed 16-bit integer."""
    s = int(np.asarray(samples, dtype=np.int64).sum()) & 0xFFFF
    return s - 0x10000 if s >= 0x8000 else s


# ---- records --------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, eq=False)
class WfdbRecord:
    """A record: its header and digital samples ``(n_samples, n_signals)`` int16 (adu)."""

    header: WfdbHeader
    signals: np.ndarray

    @property
    def fs_hz(self) -> float:
        return self.header.fs_hz

    def physical(self) -> np.ndarray:
        """Samples in physical units (usually mV): ``(digital - baseline) / gain``, float64."""
        base = np.array([s.baseline_adu for s in self.header.signals], dtype=np.float64)
        gain = np.array([s.gain_adu for s in self.header.signals], dtype=np.float64)
        return (self.signals.astype(np.float64) - base) / gain


def read_record(path: str | Path, *, verify_checksums: bool = True) -> WfdbRecord:
    """Read ``path`` (``dir/100`` or ``dir/100.hea``) and its format-212 signal file(s).

    Each signal's checksum is verified against the header (when the header gives one).
    """
    base = Path(path)
    if base.name.endswith(".hea"):
        base = base.with_name(base.name[:-4])
    hea = _with_suffix(base, ".hea")
    header = read_header(hea)
    groups: dict[str, list[int]] = {}
    for j, s in enumerate(header.signals):
        groups.setdefault(s.file_name, []).append(j)
    if len(groups) > 1 and any(idx != list(range(idx[0], idx[0] + len(idx))) for idx in groups.values()):
        raise file_error(hea, "signals of one .dat file must be listed consecutively")
    nsamp = header.n_samples
    columns: list[np.ndarray | None] = [None] * header.n_signals
    for fname, idx in groups.items():
        dat = hea.parent / fname
        data = read_file_bytes(dat)
        k = len(idx)
        if nsamp is None or nsamp == 0:  # WFDB: 0 or absent means "as many as the file holds"
            if len(data) % 3:
                raise file_error(dat, f"length {len(data)} bytes is not a multiple of 3 (format 212)")
            frames = (2 * (len(data) // 3)) // k
            flat = decode_212(data[: bytes_212(frames * k)], frames * k, source=dat)
        else:
            frames = nsamp
            flat = decode_212(data, frames * k, source=dat)
        block = flat.reshape(frames, k)
        for col, j in enumerate(idx):
            columns[j] = block[:, col]
    lens = {len(c) for c in columns if c is not None}
    if len(lens) != 1:
        raise file_error(hea, f"signal files hold different numbers of samples: {sorted(lens)}")
    signals = np.ascontiguousarray(np.stack(columns, axis=1))
    if verify_checksums:
        for j, s in enumerate(header.signals):
            if s.checksum is None:
                continue
            got = checksum16(signals[:, j])
            if got != s.checksum:
                raise file_error(hea.parent / s.file_name,
                                 f"checksum of signal {j} ({s.description or 'unnamed'}) is {got}, header {hea.name} "
                                 f"says {s.checksum}; the signal file is corrupt or belongs to another record")
    if nsamp in (None, 0):
        header = dataclasses.replace(header, n_samples=len(signals))
    signals.setflags(write=False)
    return WfdbRecord(header=header, signals=signals)


def make_header(record_name: str, signals: np.ndarray, *, fs_hz: float, gain: float = 200.0, resolution: int = 11,
                adc_zero: int = 1024, units: str | None = None, descriptions: tuple[str, ...] | None = None,
                comments: tuple[str, ...] = ()) -> WfdbHeader:
    """A header for digital ``signals`` ``(n_samples, n_signals)`` in one ``<record_name>.dat`` (format 212).

    Initial values and checksums are computed from the samples. Defaults match MIT-BIH.
    """
    sig = np.asarray(signals)
    if sig.ndim != 2 or sig.shape[1] < 1:
        raise InvalidSpikesError(f"signals must have shape (n_samples, n_signals), got {sig.shape}")
    if not re.fullmatch(r"[A-Za-z0-9_\-.]+", record_name) or record_name in (".", ".."):
        raise InvalidSpikesError(f"record name {record_name!r} must be letters, digits, '_', '-' or '.'")
    descs = descriptions or tuple(f"signal{j}" for j in range(sig.shape[1]))
    if len(descs) != sig.shape[1]:
        raise InvalidSpikesError(f"{len(descs)} descriptions for {sig.shape[1]} signals")
    specs = tuple(
        SignalSpec(file_name=f"{record_name}.dat", gain=gain, units=units, resolution=resolution, adc_zero=adc_zero,
                   init_value=int(sig[0, j]) if len(sig) else 0, checksum=checksum16(sig[:, j]), block_size=0,
                   description=descs[j])
        for j in range(sig.shape[1]))
    return WfdbHeader(record_name=record_name, n_signals=sig.shape[1], fs_hz=float(fs_hz), n_samples=sig.shape[0],
                      signals=specs, comments=tuple(comments))


def record_bytes(header: WfdbHeader, signals: np.ndarray) -> tuple[str, dict[str, bytes]]:
    """``(header text, {dat file name: bytes})`` of a record; checksums and initial values are recomputed."""
    sig = np.asarray(signals)
    if sig.ndim != 2 or sig.shape[1] != header.n_signals or len(header.signals) != header.n_signals:
        raise InvalidSpikesError(f"signals of shape {sig.shape} do not match a header with {header.n_signals} signals")
    specs = []
    files: dict[str, list[int]] = {}
    for j, s in enumerate(header.signals):
        if s.fmt != "212":
            raise InvalidSpikesError(f"only format 212 is written, signal {j} asks for {s.fmt}")
        specs.append(dataclasses.replace(s, init_value=int(sig[0, j]) if len(sig) else 0, checksum=checksum16(sig[:, j])))
        files.setdefault(s.file_name, []).append(j)
    hdr = dataclasses.replace(header, signals=tuple(specs), n_samples=sig.shape[0])
    dats = {name: encode_212(sig[:, idx].reshape(-1)) for name, idx in files.items()}
    return format_header(hdr), dats


def write_record(folder: str | Path, header: WfdbHeader, signals: np.ndarray) -> Path:
    """Write ``<record>.hea`` and its ``.dat`` file(s) into ``folder``; returns the header path."""
    folder = Path(folder)
    text, dats = record_bytes(header, signals)
    for name, data in dats.items():
        atomic_write_bytes(folder / name, data)
    hea = folder / f"{header.record_name}.hea"
    atomic_write_bytes(hea, text.encode("utf-8"))
    return hea


def list_records(folder: str | Path) -> list[Path]:
    """Record base paths (``folder/100``...) of every ``.hea`` in ``folder``, sorted by name."""
    f = Path(folder)
    if not f.is_dir():
        raise file_error(f, "WFDB folder not found")
    return sorted(p.with_name(p.name[:-4]) for p in f.glob("*.hea") if p.is_file())


def read_folder(folder: str | Path, *, annotator: str | None = "atr",
                verify_checksums: bool = True) -> dict[str, tuple[WfdbRecord, Annotations | None]]:
    """Every record of ``folder`` (and its ``.<annotator>`` annotations unless ``annotator`` is None).

    All records are read; if any is bad, one :class:`~spikebench.workloads.readall.BadFilesError`
    names every bad file with its reason (no record is dropped silently).
    """
    bases = list_records(folder)

    def one(base: Path) -> tuple[str, tuple[WfdbRecord, Annotations | None]]:
        rec = read_record(base, verify_checksums=verify_checksums)
        ann = read_annotations(base.with_name(f"{base.name}.{annotator}")) if annotator else None
        if ann is not None and len(ann) and (ann.sample.max() >= len(rec.signals)):
            raise file_error(base.with_name(f"{base.name}.{annotator}"),
                             f"annotation at sample {ann.sample.max()} lies past the record's {len(rec.signals)} samples")
        return base.name, (rec, ann)

    return dict(read_all(bases, one, what=str(folder), name=lambda b: str(b)))


def read_records_list(folder: str | Path) -> list[str]:
    """Record names of a folder, from its ``RECORDS`` file (PhysioNet convention; ``#`` lines skipped)."""
    p = Path(folder) / "RECORDS"
    if p.exists() and not p.is_file():  # a folder or FIFO: refused, never opened (a FIFO blocks)
        raise file_error(p, "is not a regular file; the RECORDS list must be a text file of record names")
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise file_error(p, f"cannot read the RECORDS list ({exc.strerror or exc})") from None
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]



__all__ = [
    "SignalSpec", "WfdbHeader", "WfdbRecord", "Annotations", "ANNOTATION_SYMBOLS", "BEAT_SYMBOLS",
    "NORMAL_BEAT_SYMBOLS", "parse_header", "format_header", "read_header", "bytes_212", "decode_212",
    "encode_212", "checksum16", "read_record", "make_header", "record_bytes", "write_record",
    "decode_annotations", "encode_annotations", "read_annotations", "write_annotations", "list_records",
    "read_folder", "read_records_list",
]
