"""ECG as events: level-crossing encoding and per-beat windows, on synthetic records and MIT-BIH record 100."""

from __future__ import annotations

import numpy as np
import pytest
from wl_helpers import mitdb

from spikebench.core.errors import InvalidSpikesError
from spikebench.core.spikes import SpikeTrain
from spikebench.workloads import ecg_encoding as enc
from spikebench.workloads import synth_ecg as se
from spikebench.workloads import wfdb_format as wf
from spikebench.workloads.ecg import EcgAnomalyWorkload


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    out = tmp_path_factory.mktemp("ecg") / "data"
    se.generate_ecg(out, n_records=3, duration_s=60.0, seed=7, anomaly_rate=0.15, noise_bursts_per_min=2.0)
    return out, None


def test_wfdb_fixture_level_crossing():
    rec = wf.read_record(mitdb() / "100")
    t, ch = enc.level_crossing_events(rec.physical()[:36_000, 0], threshold=0.05, fs_hz=rec.fs_hz)
    assert len(t) > 0 and set(np.unique(ch)) == {enc.UP, enc.DOWN}
    assert np.all(np.diff(t) >= 0) and t.max() < 100.0


def test_level_crossing_by_hand():
    x = np.array([0.0, 0.25, 0.5, 1.2, 0.9, 0.4, 0.45])
    t, ch = enc.level_crossing_events(x, threshold=0.5, fs_hz=10.0)
    assert list(zip((t * 10).round().astype(int).tolist(), ch.tolist())) == [(2, enc.UP), (3, enc.UP), (5, enc.DOWN)]
    t, ch = enc.level_crossing_events(x, threshold=0.5, fs_hz=10.0, hysteresis=False)
    assert list(zip((t * 10).round().astype(int).tolist(), ch.tolist())) == [(2, enc.UP), (3, enc.UP), (4, enc.DOWN),
                                                                             (5, enc.DOWN)]
    t, ch = enc.level_crossing_events(np.array([0.0, 1.6]), threshold=0.5, fs_hz=1.0, t_start_s=2.0)
    assert t.tolist() == [3.0, 3.0, 3.0] and ch.tolist() == [enc.UP] * 3


def test_level_crossing_tracks_the_signal_and_separates_leads():
    rng = np.random.default_rng(7)
    x = np.cumsum(rng.normal(0, 0.1, size=(2000, 2)), axis=0)
    thr = 0.2
    t, ch = enc.level_crossing_events(x, threshold=thr, fs_hz=100.0)
    assert set(np.unique(ch)) <= {0, 1, 2, 3}
    idx = np.round(t * 100).astype(int)
    for lead in range(2):
        step = np.zeros(len(x))
        np.add.at(step, idx[ch == 2 * lead], thr)
        np.add.at(step, idx[ch == 2 * lead + 1], -thr)
        recon = x[0, lead] + np.cumsum(step)
        assert np.max(np.abs(recon - x[:, lead])) < thr + 1e-9
    with pytest.raises(InvalidSpikesError):
        enc.level_crossing_events(x, threshold=0.0, fs_hz=100.0)


def test_beat_samples_layout_and_labels(small):
    out, _ = small
    bs = enc.beat_samples_from_folder(out / "train")
    assert bs.n_channels == 4 and (bs.pre_s, bs.post_s) == (0.5, 0.25) and bs.window_s == pytest.approx(0.75)
    assert len(bs) == len(bs.label) == len(bs.beat_time_s) == len(bs.symbol) == len(bs.noisy) == len(bs.record)
    assert set(bs.record) == {"s000", "s001"}
    for ts, ch in bs.events:
        assert ts.min() >= 0 and ts.max() < bs.window_s
        assert set(np.unique(ch).tolist()) <= {0, 1, 2, 3}
        assert np.all(np.diff(ts) >= 0)
    sym = np.array(bs.symbol)
    assert np.array_equal(bs.label, np.isin(sym, ["V", "A"]) | bs.noisy)
    assert bs.noisy.any() and (sym == "V").any() and (sym == "A").any()
    st = bs.spike_train(timestep_s=2e-3)
    assert isinstance(st, SpikeTrain)
    assert (st.timesteps, st.n) == (375, 4) and len(st.sample_ptr) == len(bs) + 1
    c = bs.counts(3)
    assert c.shape == (len(bs), 12) and c.sum() == sum(len(t) for t, _ in bs.events)
    times = bs.step_times_s(2e-3)
    assert times.shape == (len(bs), 375)
    assert times[:, -1] == pytest.approx(bs.beat_time_s + bs.post_s)
    quiet = enc.beat_samples_from_folder(out / "train", noise_is_anomaly=False)
    assert np.array_equal(quiet.label, np.isin(sym, ["V", "A"]))


def test_beat_samples_on_real_record_100():
    folder = mitdb()
    rec = wf.read_record(folder / "100")
    ann = wf.read_annotations(folder / "100.atr")
    bs = enc.beat_samples(rec, ann, name="100")
    beats, anomalous = ann.beats()
    assert 0 < len(bs) <= len(beats) and len(beats) - len(bs) <= 3  # edge beats only
    assert bs.label.sum() == anomalous.sum()  # A and V beats of record 100, none at the edges
    assert sum(len(t) for t, _ in bs.events) > 0


def test_default_window_is_the_workloads():
    wl = EcgAnomalyWorkload
    assert (enc.PRE_S, enc.POST_S, enc.THRESHOLD_MV) == (wl.pre_s, wl.post_s, wl.threshold_mv)
