"""Synthetic MIT-BIH-format ECG: generator -> WFDB files -> real reader, determinism, anomalies.

Mechanics only (datasets.md §4): format round trip, determinism, rates and timing of the injected
beats; no accuracy claims.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from spikebench.core.errors import FileFormatError, SpikebenchError
from spikebench.workloads import ecg_encoding as enc
from spikebench.workloads import synth_ecg as se
from spikebench.workloads import wfdb_format as wf

# sha256 of s000.hea + s000.dat + s000.atr (concatenated) for generate_ecg(seed=1234, n_records=1,
# duration_s=20). A deliberate change of the generator updates this and GENERATOR_VERSION together.
GOLDEN_SHA256 = "10569713302104c4331b95ad92c5568c123ab53491cea764e7d71fdf3cbafec0"


def _digest(folder: Path, name: str) -> str:
    h = hashlib.sha256()
    for ext in ("hea", "dat", "atr"):
        h.update((folder / f"{name}.{ext}").read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    out = tmp_path_factory.mktemp("ecg") / "data"
    man = se.generate_ecg(out, n_records=3, duration_s=60.0, seed=7, anomaly_rate=0.15, noise_bursts_per_min=2.0)
    return out, man


def test_round_trip_reader_returns_generated_signals_and_annotations(small):
    out, man = small
    assert man["splits"] == {"train": ["s000", "s001"], "test": ["s002"]}
    for split, names in man["splits"].items():
        assert wf.read_records_list(out / split) == names
        for name in names:
            i = int(name[1:])
            rec = se.synthesize_record(se.record_rng(7, i), name=name, duration_s=60.0, anomaly_rate=0.15,
                                       noise_bursts_per_min=2.0)
            got = wf.read_record(out / split / name)  # verifies the header checksums
            assert got.header.fs_hz == 360.0 and got.header.n_samples == 21600
            assert [s.description for s in got.header.signals] == ["MLII", "V5"]
            assert all(s.fmt == "212" and s.gain == 200 and s.resolution == 11 and s.adc_zero == 1024
                       for s in got.header.signals)
            assert [s.checksum for s in got.header.signals] == [wf.checksum16(rec.signals[:, j]) for j in range(2)]
            assert np.array_equal(got.signals, rec.signals)
            assert got.signals.min() >= 0 and got.signals.max() <= 2047
            ann = wf.read_annotations(out / split / f"{name}.atr")
            for fld in ("sample", "code", "subtype", "chan", "num"):
                assert np.array_equal(getattr(ann, fld), getattr(rec.annotations, fld)), fld
            assert ann.aux == rec.annotations.aux and ann.aux_text(0) == "(N" and ann.symbols[0] == "+"
            beat_s, _ = ann.beats()
            assert np.array_equal(beat_s, rec.beat_sample)
            assert [s for s in ann.symbols if s in wf.BEAT_SYMBOLS] == list(rec.beat_symbol)
            assert np.all(np.diff(ann.sample) >= 0) and ann.sample.max() < 21600
            # manifest: counts and file hashes describe what is on disk
            info = man["records"][name]
            assert info["split"] == split
            assert info["beats"] == {k: rec.beat_symbol.count(k) for k in "NVA"}
            for fname, digest in info["sha256"].items():
                assert hashlib.sha256((out / split / fname).read_bytes()).hexdigest() == digest
    assert json.loads((out / "manifest.json").read_text()) == man


def test_reader_verifies_checksums_of_generated_records(small, tmp_path):
    out, _ = small
    for ext in ("hea", "dat", "atr"):
        (tmp_path / f"s000.{ext}").write_bytes((out / "train" / f"s000.{ext}").read_bytes())
    dat = bytearray((tmp_path / "s000.dat").read_bytes())
    dat[3000] ^= 0x01
    (tmp_path / "s000.dat").write_bytes(bytes(dat))
    with pytest.raises(FileFormatError, match="checksum"):
        wf.read_record(tmp_path / "s000")


def test_same_seed_same_bytes_golden_sha256(tmp_path):
    a = se.generate_ecg(tmp_path / "a", n_records=1, duration_s=20.0, seed=1234)
    b = se.generate_ecg(tmp_path / "b", n_records=1, duration_s=20.0, seed=1234)
    assert a == b
    assert (tmp_path / "a" / "manifest.json").read_bytes() == (tmp_path / "b" / "manifest.json").read_bytes()
    assert _digest(tmp_path / "a" / "train", "s000") == _digest(tmp_path / "b" / "train", "s000") == GOLDEN_SHA256
    c = se.generate_ecg(tmp_path / "c", n_records=1, duration_s=20.0, seed=1235)
    assert _digest(tmp_path / "c" / "train", "s000") != GOLDEN_SHA256
    assert c["records"]["s000"]["sha256"] != a["records"]["s000"]["sha256"]


def test_record_does_not_depend_on_number_of_records(tmp_path):
    a = se.generate_ecg(tmp_path / "a", n_records=1, duration_s=15.0, seed=3, test_fraction=0.0)
    b = se.generate_ecg(tmp_path / "b", n_records=2, duration_s=15.0, seed=3)
    assert a["records"]["s000"]["sha256"] == b["records"]["s000"]["sha256"]


def test_anomalies_at_requested_rate_and_timing():
    rec = se.synthesize_record(se.record_rng(11, 0), name="x", duration_s=1800.0, anomaly_rate=0.1, v_fraction=0.5)
    sym = np.array(rec.beat_symbol)
    n = len(sym)
    assert 1800 < n < 2800  # 60-85 bpm for 30 min
    frac = np.isin(sym, ["V", "A"]).mean()
    assert abs(frac - 0.1) < 0.03
    assert 0.35 < (sym == "V").sum() / np.isin(sym, ["V", "A"]).sum() < 0.65
    assert not np.any(np.isin(sym[:-1], ["V", "A"]) & np.isin(sym[1:], ["V", "A"]))  # no couplets
    rr = np.diff(rec.beat_sample) / se.FS_HZ
    med = np.median(rr)
    v = np.flatnonzero(sym[1:-1] == "V") + 1
    a = np.flatnonzero(sym[1:-1] == "A") + 1
    assert np.all(rr[v - 1] < 0.8 * med) and np.all(rr[a - 1] < 0.9 * med)  # premature
    assert np.all(np.abs((rr[v - 1] + rr[v]) / med - 2.0) < 0.25)  # full compensatory pause
    assert np.all((rr[a - 1] + rr[a]) / med < 1.95)  # sinus reset: non-compensatory
    # wide PVC QRS: the clean MLII deflection stays above half its peak for longer than a normal R
    def width_ms(idx):
        w = np.abs(rec.clean_mv[idx[:, None] + np.arange(-40, 41), 0])
        return 1000 * (w > 0.5 * w.max(axis=1, keepdims=True)).sum(axis=1).mean() / se.FS_HZ
    normal = rec.beat_sample[(sym == "N")][5:-5]
    assert width_ms(rec.beat_sample[v]) > 2.0 * width_ms(normal)

    none = se.synthesize_record(se.record_rng(11, 1), name="y", duration_s=120.0, anomaly_rate=0.0,
                                noise_bursts_per_min=0.0)
    assert set(none.beat_symbol) == {"N"} and len(none.noise_segments) == 0
    assert "~" not in none.annotations.symbols


def test_beats_annotated_at_r_peaks():
    rec = se.synthesize_record(se.record_rng(5, 0), name="x", duration_s=300.0, anomaly_rate=0.2)
    x = rec.signals[:, 0].astype(np.float64)
    sym = np.array(rec.beat_symbol)
    bs = rec.beat_sample
    ok = (bs > 60) & (bs < len(x) - 60) & ~enc.in_segments(bs, rec.noise_segments[:, :2])
    for k in "NVA":
        sel = ok & (sym == k)
        assert sel.sum() > 5
        w = x[bs[sel, None] + np.arange(-14, 15)]  # +-40 ms
        base = np.median(x[bs[sel, None] + np.arange(-60, 61)], axis=1)
        off = np.argmax(np.abs(w - base[:, None]), axis=1) - 14
        assert np.abs(off).max() <= 3, k


def test_noise_bursts_annotated_like_mitdb():
    rec = se.synthesize_record(se.record_rng(2, 0), name="x", duration_s=600.0, noise_bursts_per_min=2.0)
    segs = rec.noise_segments
    assert len(segs) >= 5
    ann = rec.annotations
    is_noise = np.array([s == "~" for s in ann.symbols])
    assert is_noise.sum() == 2 * len(segs)
    onsets = ann.subtype[is_noise][0::2]
    ends = ann.subtype[is_noise][1::2]
    assert set(onsets.tolist()) <= {1, 2, 3} and not ends.any()
    assert np.array_equal(enc.noise_segments(ann, len(rec.signals)), segs[:, :2])
    # the burst really is there: the affected lead is much rougher inside than outside
    d = np.diff(rec.signals.astype(np.float64), axis=0)
    for s0, s1, mask in segs:
        lead = 0 if mask & 1 else 1
        assert np.std(d[s0 + 40:s1 - 40, lead]) > 1.5 * np.std(d[: 360 * 5, lead]) or \
            np.ptp(rec.signals[s0:s1, lead]) > 60


def test_bad_arguments(tmp_path):
    with pytest.raises(se.EcgGeneratorError, match="anomaly_rate"):
        se.generate_ecg(tmp_path / "x", n_records=1, duration_s=20.0, seed=0, anomaly_rate=0.6)
    with pytest.raises(se.EcgGeneratorError, match="duration_s"):
        se.generate_ecg(tmp_path / "x", n_records=1, duration_s=1.0, seed=0)
    with pytest.raises(se.EcgGeneratorError, match="n_records"):
        se.generate_ecg(tmp_path / "x", n_records=0, duration_s=20.0, seed=0)
    with pytest.raises(se.EcgGeneratorError, match="seed"):
        se.generate_ecg(tmp_path / "x", n_records=1, duration_s=20.0, seed=-1)
    with pytest.raises(se.EcgGeneratorError, match="parent folder"):
        se.generate_ecg(tmp_path / "no" / "such", n_records=1, duration_s=20.0, seed=0)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("x")
    with pytest.raises(se.EcgGeneratorError, match="not empty"):
        se.generate_ecg(tmp_path / "full", n_records=1, duration_s=20.0, seed=0)
    se.generate_ecg(tmp_path / "full", n_records=1, duration_s=20.0, seed=0, overwrite=True)
    (tmp_path / "full" / "train" / "zz9.hea").write_text("zz9 2 360 0\n")
    with pytest.raises(se.EcgGeneratorError, match="zz9"):
        se.generate_ecg(tmp_path / "full", n_records=1, duration_s=20.0, seed=0, overwrite=True)
    assert issubclass(se.EcgGeneratorError, SpikebenchError)
