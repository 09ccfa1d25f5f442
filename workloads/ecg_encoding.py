"""ECG as events: level-crossing (delta-modulation) encoding and per-beat event windows.

Serves the synthetic records and a real MIT-BIH copy alike (both are read by
:mod:`~spikebench.workloads.wfdb_format`).

Encoding (:func:`level_crossing_events`). Each record is encoded once, whole, by delta modulation
with hysteresis of every lead in mV, step ``threshold_mv`` (default 0.05 mV = 10 adu at MIT-BIH's
gain). Channel layout: lead ``k`` emits UP on channel ``2k`` and DOWN on ``2k + 1`` (MIT-BIH:
0 MLII-UP, 1 MLII-DOWN, 2 V5-UP, 3 V5-DOWN).

Beat windows (:func:`beat_samples`). Every beat annotation whose window ``[r - pre_s, r + post_s)``
(default 0.5 s before and 0.25 s after the R peak ``r``: the ECG anomaly workload's window, see
:mod:`~spikebench.workloads.ecg` for why it is that short) lies inside the record becomes one
sample: its events with times relative to the window start (so ``SpikeTrain.from_events(...,
t_start_s=0)`` bins them directly), its label (anomalous = a beat symbol other than N, L, R, e, j,
or, with ``noise_is_anomaly``, a window that overlaps a ``~`` noise segment) and its R-peak time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spikebench.core.errors import InvalidSpikesError
from spikebench.core.spikes import SpikeTrain

from .readall import file_error
from .wfdb_annotations import ANNOTATION_SYMBOLS, BEAT_SYMBOLS, NORMAL_BEAT_SYMBOLS, Annotations, read_annotations
from .wfdb_format import WfdbRecord, read_record, read_records_list

UP, DOWN = 0, 1
#: Leads by name, in the order the ECG workload takes them (``leads=2``: the first two a record has).
#: MLII first: the upper signal of 45 MIT-BIH records and the lead the beat annotations were made on;
#: then the chest leads MIT-BIH uses as its second signal (V5 mostly, V1, V2, V4; records 102 and 104
#: have V5 as their upper signal and no MLII), then the other standard leads. Matched by the header's
#: signal description, case-insensitively, never by position (record 114 lists V5 before MLII).
LEAD_PREFERENCE = ("MLII", "V5", "V1", "V2", "V4", "II", "V3", "V6", "I", "III", "AVR", "AVL", "AVF")
#: The default beat window (s before / after the R peak) and encoding step (mV): the ECG workload's.
PRE_S, POST_S, THRESHOLD_MV = 0.5, 0.25, 0.05
NOISE_CODE = next(code for code, sym in ANNOTATION_SYMBOLS.items() if sym == "~")


def level_crossing_events(signal: np.ndarray, *, threshold: float, fs_hz: float, hysteresis: bool = True,
                          t_start_s: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Encode a signal as UP/DOWN spike events by delta modulation (level crossing).

    ``signal``: ``(n_samples,)`` or ``(n_samples, n_leads)``, any unit (e.g. mV from
    :meth:`~spikebench.workloads.wfdb_format.WfdbRecord.physical`); ``threshold``: step size in the same unit (> 0); ``fs_hz``:
    sampling frequency. Returns ``(times_s, channels)`` sorted by time (stable across leads):
    lead ``k`` emits on channel ``2k`` (UP) and ``2k + 1`` (DOWN); several steps within one
    sample give several events at that sample's time ``t_start_s + i / fs_hz``.

    With ``hysteresis=True`` (delta modulation, as in the asynchronous delta modulators of
    neuromorphic ECG front ends) a reference starts at the first sample; each time the signal
    rises ``threshold`` above the reference an UP event is emitted and the reference moves up one
    step, likewise for DOWN, so noise smaller than one step around a level emits nothing. With
    ``hysteresis=False`` levels are a fixed grid ``x[0] + k * threshold`` and every crossing of a
    level emits one event (cheaper, fully vectorised, but jitter on a level emits pairs).
    """
    x = np.asarray(signal, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise InvalidSpikesError(f"signal must have shape (n_samples,) or (n_samples, n_leads), got {x.shape}")
    if not (np.isfinite(threshold) and threshold > 0):
        raise InvalidSpikesError(f"threshold must be a positive number, got {threshold!r}")
    if not (np.isfinite(fs_hz) and fs_hz > 0):
        raise InvalidSpikesError(f"fs_hz must be a positive number, got {fs_hz!r}")
    if not np.all(np.isfinite(x)):
        raise InvalidSpikesError("signal contains NaN or infinite values")
    n, leads = x.shape
    if n == 0:
        return np.zeros(0), np.zeros(0, dtype=np.int64)
    idx_parts, ch_parts = [], []
    for k in range(leads):
        u = (x[:, k] - x[0, k]) / threshold
        if hysteresis:
            level = _play(np.floor(u).astype(np.int64), np.ceil(u).astype(np.int64))
        else:
            level = np.floor(u).astype(np.int64)
        step = np.diff(level, prepend=0)
        for sign, ch in ((1, 2 * k + UP), (-1, 2 * k + DOWN)):
            count = np.maximum(sign * step, 0)
            idx = np.repeat(np.arange(n, dtype=np.int64), count)
            idx_parts.append(idx)
            ch_parts.append(np.full(len(idx), ch, dtype=np.int64))
    idx = np.concatenate(idx_parts)
    ch = np.concatenate(ch_parts)
    order = np.lexsort((ch, idx))
    return t_start_s + idx[order] / float(fs_hz), ch[order]


def _play(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Reference level k_i = clip(k_{i-1}, lo_i, hi_i), k_{-1} = 0 (the backlash / play operator)."""
    out = []
    append = out.append
    k = 0
    # Sequential by nature (each level depends on the last); a plain loop over Python ints.
    for a, b in zip(lo.tolist(), hi.tolist()):
        if k < a:
            k = a
        elif k > b:
            k = b
        append(k)
    return np.array(out, dtype=np.int64)


def in_segments(samples: np.ndarray, segs: np.ndarray) -> np.ndarray:
    """Whether each sample lies in one of the sorted, disjoint ``[start, end)`` segments."""
    if len(segs) == 0:
        return np.zeros(len(samples), dtype=bool)
    j = np.searchsorted(segs[:, 0], samples, side="right") - 1
    return (j >= 0) & (samples < segs[np.clip(j, 0, None), 1])


@dataclass(frozen=True, kw_only=True, eq=False)
class BeatSamples:
    """Per-beat event windows for an anomaly-scoring SNN.

    ``events[b]`` is ``(times_s, channels)`` with times relative to the window start
    ``beat_time_s[b] - pre_s`` (channels: lead ``k`` UP = ``2k``, DOWN = ``2k + 1``); ``label``
    is True for an anomalous beat; ``symbol`` the beat's annotation symbol; ``noisy`` whether the
    window overlaps a ``~`` noise segment; ``record`` the record name of each beat.
    """

    events: tuple[tuple[np.ndarray, np.ndarray], ...]
    label: np.ndarray
    beat_time_s: np.ndarray
    symbol: tuple[str, ...]
    noisy: np.ndarray
    record: tuple[str, ...]
    n_channels: int
    pre_s: float
    post_s: float
    threshold_mv: float

    def __len__(self) -> int:
        return len(self.label)

    @property
    def window_s(self) -> float:
        return self.pre_s + self.post_s

    def timesteps(self, timestep_s: float) -> int:
        return int(round(self.window_s / timestep_s))

    def spike_train(self, timestep_s: float = 1e-3) -> SpikeTrain:
        """Bin into a ``(B, T, n_channels)`` :class:`SpikeTrain` (T = window / timestep_s)."""
        return SpikeTrain.from_events(self.events, n=self.n_channels, timesteps=self.timesteps(timestep_s),
                                      timestep_s=timestep_s)

    def step_times_s(self, timestep_s: float = 1e-3) -> np.ndarray:
        """``(B, T)`` absolute time at the end of each step (when a score read there is known)."""
        steps = (np.arange(self.timesteps(timestep_s)) + 1) * timestep_s
        return (self.beat_time_s - self.pre_s)[:, None] + steps[None, :]

    def counts(self, n_bins: int = 1) -> np.ndarray:
        """``(B, n_channels * n_bins)`` event counts per channel in ``n_bins`` equal sub-windows."""
        out = np.zeros((len(self), self.n_channels * n_bins), dtype=np.int64)
        for b, (ts, ch) in enumerate(self.events):
            k = np.minimum((ts / self.window_s * n_bins).astype(np.int64), n_bins - 1)
            out[b] = np.bincount(ch * n_bins + k, minlength=self.n_channels * n_bins)
        return out


def noise_segments(ann: Annotations, n_samples: int) -> np.ndarray:
    """``(k, 2)`` [start, end) sample ranges where a ``~`` annotation marks any signal noisy (subtype != 0)."""
    segs = []
    start = None
    for s, c, sub in zip(ann.sample.tolist(), ann.code.tolist(), ann.subtype.tolist()):
        if c != NOISE_CODE:
            continue
        if sub != 0 and start is None:
            start = s
        elif sub == 0 and start is not None:
            segs.append((start, s))
            start = None
    if start is not None:
        segs.append((start, n_samples))
    return np.array(segs, dtype=np.int64).reshape(-1, 2)


def choose_leads(record: WfdbRecord, n: int, *, source: object = "<record>") -> list[int]:
    """Indices of the ``n`` signals to use, matched by lead name in :data:`LEAD_PREFERENCE` order (so
    channel pair 0 is MLII whenever the record has it, wherever the header lists it). A record with
    fewer than ``n`` known leads is refused in one line naming the leads it has."""
    names = [s.description.strip() for s in record.header.signals]
    keys = [nm.upper().replace(" ", "") for nm in names]
    chosen: list[int] = []
    for lead in LEAD_PREFERENCE:
        if lead in keys and len(chosen) < n:
            chosen.append(keys.index(lead))
    if len(chosen) < n:
        have = ", ".join(repr(nm) for nm in names) or "none"
        raise file_error(source, f"needs {n} ECG lead(s) named one of {', '.join(LEAD_PREFERENCE)} (matched by name, "
                                 f"MLII first); the record's signals are {have}")
    return chosen


def beat_samples(record: WfdbRecord, ann: Annotations, *, name: str = "", pre_s: float = PRE_S, post_s: float = POST_S,
                 threshold_mv: float = THRESHOLD_MV, noise_is_anomaly: bool = True,
                 leads: int | None = None) -> BeatSamples:
    """Turn a record and its annotations into per-beat event windows, labels and R-peak times.

    The whole record is delta-modulated once (per lead, in physical units, hysteresis on, step
    ``threshold_mv``), then each beat annotation whose window ``[r - pre_s, r + post_s)`` (default
    0.5 s before and 0.25 s after the R peak ``r``, the ECG workload's window) fits inside the
    record becomes a sample; beats too close to either end are left out (they are counted by
    nothing else, so a caller comparing with the ``.atr`` sees the difference in ``len``).

    ``leads``: None encodes every signal in header order; a number takes that many leads by name
    (:func:`choose_leads`: MLII first, then :data:`LEAD_PREFERENCE`), so lead ``k`` of the output is the
    ``k``-th preferred lead the record has, whatever its position in the header.
    """
    if not (np.isfinite(pre_s) and np.isfinite(post_s) and pre_s >= 0 and post_s > 0):
        raise InvalidSpikesError(f"window needs pre_s >= 0 and post_s > 0, got pre_s={pre_s!r}, post_s={post_s!r}")
    if not (np.isfinite(threshold_mv) and threshold_mv > 0):
        raise InvalidSpikesError(f"threshold_mv must be positive, got {threshold_mv!r}")
    fs = record.fs_hz
    n = len(record.signals)
    physical = record.physical()
    if leads is not None:
        physical = physical[:, choose_leads(record, int(leads), source=name or record.header.record_name)]
    times, chans = level_crossing_events(physical, threshold=threshold_mv, fs_hz=fs)
    sym = ann.symbols
    is_beat = np.array([s in BEAT_SYMBOLS for s in sym], dtype=bool)
    bs = ann.sample[is_beat]
    bsym = [s for s, k in zip(sym, is_beat) if k]
    bt = bs / fs
    fits = (bt - pre_s >= 0) & (bt + post_s <= n / fs)
    segs = noise_segments(ann, n) / fs
    lo = np.searchsorted(times, bt - pre_s, side="left")
    hi = np.searchsorted(times, bt + post_s, side="left")
    events, labels, noisy, keep_t, keep_sym = [], [], [], [], []
    for j in np.flatnonzero(fits):
        w0 = bt[j] - pre_s
        ev_t = times[lo[j]:hi[j]] - w0
        events.append((ev_t, chans[lo[j]:hi[j]].copy()))
        nz = bool(np.any((segs[:, 0] < bt[j] + post_s) & (segs[:, 1] > w0))) if len(segs) else False
        noisy.append(nz)
        labels.append(bsym[j] not in NORMAL_BEAT_SYMBOLS or (noise_is_anomaly and nz))
        keep_t.append(bt[j])
        keep_sym.append(bsym[j])
    return BeatSamples(events=tuple(events), label=np.array(labels, dtype=bool), beat_time_s=np.array(keep_t),
                       symbol=tuple(keep_sym), noisy=np.array(noisy, dtype=bool), record=(name,) * len(labels),
                       n_channels=2 * physical.shape[1], pre_s=float(pre_s), post_s=float(post_s),
                       threshold_mv=float(threshold_mv))


def beat_samples_from_folder(folder: str | Path, *, records: list[str] | None = None, **kw) -> BeatSamples:
    """:func:`beat_samples` over the records of a folder (its ``RECORDS`` list when present), concatenated."""
    folder = Path(folder)
    if records is None:
        rl = folder / "RECORDS"
        if rl.exists() and not rl.is_file():  # a folder or FIFO: refused, never opened (a FIFO would block)
            raise file_error(rl, "is not a regular file; the RECORDS list must be a text file of record names")
        records = read_records_list(folder) if rl.is_file() else sorted(p.stem for p in folder.glob("*.hea"))
    if not records:
        raise file_error(folder, "no records found")
    parts = [beat_samples(read_record(folder / r), read_annotations(folder / f"{r}.atr"), name=r, **kw)
             for r in records]
    chans = {p.n_channels for p in parts}
    if len(chans) != 1:
        raise file_error(folder, f"records have different numbers of leads ({sorted(chans)} event channels)")
    first = parts[0]
    return BeatSamples(events=tuple(e for p in parts for e in p.events),
                       label=np.concatenate([p.label for p in parts]),
                       beat_time_s=np.concatenate([p.beat_time_s for p in parts]),
                       symbol=tuple(s for p in parts for s in p.symbol),
                       noisy=np.concatenate([p.noisy for p in parts]),
                       record=tuple(r for p in parts for r in p.record), n_channels=first.n_channels,
                       pre_s=first.pre_s, post_s=first.post_s, threshold_mv=first.threshold_mv)


__all__ = [
    "UP", "DOWN", "LEAD_PREFERENCE", "choose_leads", "PRE_S", "POST_S", "THRESHOLD_MV", "BeatSamples", "level_crossing_events", "in_segments",
    "noise_segments", "beat_samples", "beat_samples_from_folder",
]
