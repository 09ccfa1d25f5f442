"""Workloads: registry, data locations and provenance, the atomic cache, shipped networks.

Fast by default: small ``limit``s and small offline data in a temporary cache. The shipped-network
checks use the default offline data (generated once into the user's cache, then reused).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from wl_helpers import FIXTURE_SHA256, SMALL_ECG, fixture

import spikebench as sb
from spikebench.workloads import WORKLOADS, get_workload
from spikebench.workloads import data as D
from spikebench.workloads.base import SYNTHETIC_NOTE, Metric, load_network, shipped_paths
from spikebench.workloads.ecg import MITDB_FIXTURE_SHA256, MITDB_RECORDS, detect_mitdb
from spikebench.workloads.nmnist import NMNIST_FIXTURE_SHA256, NMNIST_FULL_COUNTS, detect_nmnist
from spikebench.workloads.shd import detect_shd

# ---- registry -----------------------------------------------------------------------------------------


def test_registry_names_and_protocol():
    assert list(WORKLOADS) == ["nmnist", "shd", "ecg-anomaly"]
    for name in WORKLOADS:
        wl = get_workload(name)
        assert wl.name == name
        assert wl.task in ("classification", "anomaly")
        for attr in ("load", "reference_network", "score"):
            assert callable(getattr(wl, attr))


def test_unknown_workload_lists_names():
    with pytest.raises(sb.UnknownNameError) as exc:
        get_workload("mnist")
    msg = str(exc.value)
    assert "mnist" in msg and all(n in msg for n in WORKLOADS) and "\n" not in msg


# ---- offline data: cache, provenance, atomicity -----------------------------------------------------------


def test_synthetic_cache_is_generated_once_and_tagged(tmp_cache):
    wl = get_workload("ecg-anomaly", data_params=SMALL_ECG, with_baseline=False)
    d = wl.load("test", limit=40)
    assert d.provenance == "synthetic"
    assert d.spikes.n == 4 and d.spikes.timesteps == 150 and d.spikes.timestep_s == pytest.approx(5e-3)
    parts = [p for p in (tmp_cache / "ecg-anomaly").rglob(D.MARKER)]
    assert len(parts) == 1
    marker = json.loads(parts[0].read_text())
    assert marker["provenance"] == "synthetic" and marker["seed"] == 0
    stamp = parts[0].stat().st_mtime_ns
    again = wl.load("test", limit=40)
    assert parts[0].stat().st_mtime_ns == stamp  # reused, not regenerated
    assert np.array_equal(again.spikes.indices, d.spikes.indices) and np.array_equal(again.labels, d.labels)
    assert not list((tmp_cache / "ecg-anomaly").rglob(f"{D.TMP_PREFIX}*"))


def test_require_real_refuses_synthetic_in_one_line(tmp_cache):
    wl = get_workload("ecg-anomaly", data_params=SMALL_ECG)
    with pytest.raises(sb.SpikebenchError) as exc:
        wl.load("test", require_real=True, limit=5)
    msg = str(exc.value)
    assert "\n" not in msg and "synthetic" in msg and "--data-dir" in msg and D.DATA_ENV in msg and "mitdb" in msg
    assert not (tmp_cache / "ecg-anomaly").exists()  # refused before generating anything


def test_require_real_refuses_a_generated_folder_given_as_data_dir(tmp_path, monkeypatch):
    from spikebench.workloads.synth_shd import generate_shd

    monkeypatch.delenv(D.DATA_ENV, raising=False)
    folder = tmp_path / "data" / "SHD"
    folder.mkdir(parents=True)
    m = generate_shd(folder, n_train=4, n_test=4, seed=0)
    (folder / "manifest.json").write_text(json.dumps(m))
    wl = get_workload("shd")
    assert wl.load("test", data_dir=tmp_path / "data").provenance == "synthetic"
    with pytest.raises(sb.SpikebenchError, match="real data required"):
        wl.load("test", data_dir=tmp_path / "data", require_real=True)


def test_interrupted_generation_leaves_no_dataset(tmp_path):
    base = tmp_path / "cache" / "w" / "v1-seed0"

    def broken(tmp: Path) -> dict:
        (tmp / "half.bin").write_bytes(b"\0" * 10)
        raise KeyboardInterrupt  # an interruption in the middle of writing

    with pytest.raises(KeyboardInterrupt):
        D.ensure_generated(base, "test", broken, params={"seed": 0})
    assert not (base / "test").exists()
    assert list(base.iterdir()) == []  # the temporary folder was removed

    # a hard kill leaves the temporary folder behind: it is never taken as data
    stale = base / f"{D.TMP_PREFIX}test-killed"
    stale.mkdir()
    (stale / "half.bin").write_bytes(b"\0" * 10)
    (stale / D.MARKER).write_text(json.dumps({"params": {"seed": 0}}))
    calls = []

    def good(tmp: Path) -> dict:
        calls.append(tmp)
        (tmp / "whole.bin").write_bytes(b"\1" * 10)
        return {"generator": "test"}

    out = D.ensure_generated(base, "test", good, params={"seed": 0})
    assert out == base / "test" and (out / "whole.bin").is_file() and not (out / "half.bin").exists()
    assert len(calls) == 1 and calls[0] != stale
    assert D.ensure_generated(base, "test", good, params={"seed": 0}) == out and len(calls) == 1
    # other parameters: regenerated in place, atomically
    D.ensure_generated(base, "test", good, params={"seed": 1})
    assert len(calls) == 2 and json.loads((out / D.MARKER).read_text())["params"] == {"seed": 1}


def test_interrupted_workload_generation_is_redone(tmp_cache, monkeypatch):
    from spikebench.workloads import synth_ecg

    real = synth_ecg.generate_ecg

    def dies(out_dir, **kw):
        real(out_dir, **kw)
        raise RuntimeError("killed after writing")

    monkeypatch.setattr(synth_ecg, "generate_ecg", dies)
    wl = get_workload("ecg-anomaly", data_params=SMALL_ECG)
    with pytest.raises(RuntimeError):
        wl.load("test")
    assert not list((tmp_cache / "ecg-anomaly").rglob("*.hea"))
    monkeypatch.setattr(synth_ecg, "generate_ecg", real)
    assert wl.load("test", limit=10).provenance == "synthetic"


def test_each_workload_knows_the_published_fixture_checksums():
    assert {**NMNIST_FIXTURE_SHA256, **MITDB_FIXTURE_SHA256} == {Path(k).name: v for k, v in FIXTURE_SHA256.items()}


def test_real_sample_nmnist_from_the_shared_fixture(tmp_path):
    src = fixture("nmnist/sample_nmnist.bin")
    digit = tmp_path / "data" / "N-MNIST" / "Test" / "0"
    digit.mkdir(parents=True)
    shutil.copyfile(src, digit / "00000.bin")
    wl = get_workload("nmnist", with_baseline=False)
    d = wl.load("test", data_dir=tmp_path / "data", require_real=True)
    assert d.provenance == "real-sample" and d.spikes.samples == 1 and d.spikes.n == 2312
    info = detect_nmnist(tmp_path / "data" / "N-MNIST")
    assert info.details["verified"] is True and info.details["counts"] == {"train": 0, "test": 1}
    out = sb.simulate(wl.reference_network(), d.spikes).output_spikes
    metrics = wl.score(out, d)
    assert all(m.note.startswith("data: real-sample") for m in metrics)
    assert not any(SYNTHETIC_NOTE in m.note for m in metrics)


def test_real_sample_mitdb_record_100(tmp_path):
    for ext in ("hea", "dat", "atr"):
        src = fixture(f"mitdb/100.{ext}")
        dst = tmp_path / "data" / "mitdb"
        dst.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst / src.name)
    wl = get_workload("ecg-anomaly", with_baseline=False)
    d = wl.load("test", data_dir=tmp_path / "data", require_real=True, limit=300)  # record 100 is in DS2 (test)
    assert d.provenance == "real-sample" and d.spikes.samples == 300 and d.spikes.n == 4
    assert detect_mitdb(tmp_path / "data" / "mitdb").details["verified"] is True
    with pytest.raises(sb.SpikebenchError, match="DS1"):
        wl.load("train", data_dir=tmp_path / "data")


def test_real_full_rules_use_published_counts(tmp_path):
    folder = tmp_path / "SHD"
    folder.mkdir()
    for s in ("train", "test"):
        (folder / f"shd_{s}.h5").write_bytes(b"stand-in")
    assert detect_shd(folder, "train", 8156).provenance == "real-full"
    assert detect_shd(folder, "test", 2264).provenance == "real-full"
    assert detect_shd(folder, "test", 2088).provenance == "real-full"  # the older published count
    assert detect_shd(folder, "test", 100).provenance == "real-sample"
    (folder / "shd_train.h5").unlink()
    assert detect_shd(folder, "test", 2264).provenance == "real-sample"  # not the complete set
    assert NMNIST_FULL_COUNTS == {"train": 60_000, "test": 10_000} and len(MITDB_RECORDS) == 48


def test_missing_data_dir_says_where_to_put_files(tmp_path):
    with pytest.raises(sb.SpikebenchError) as exc:
        get_workload("shd").load("train", data_dir=tmp_path / "nowhere")
    assert "shd_train.h5" in str(exc.value) and "never downloads" in str(exc.value)


# ---- shipped networks ---------------------------------------------------------------------------------

SHIPPED = {  # workload: (headline metric, tolerance on the full held-out split)
    "nmnist": ("accuracy", 0.01),
    "shd": ("accuracy", 0.01),
    "ecg-anomaly": ("auroc", 0.005),
}


def _shipped_meta(name: str) -> dict:
    nir, js = shipped_paths(name)
    if not (nir.is_file() and js.is_file()):
        pytest.fail(f"shipped network {nir} / {js} missing; run 'spikebench train {name} --out workloads/networks'")
    return json.loads(js.read_text())


@pytest.mark.parametrize("name", list(SHIPPED))
def test_shipped_metadata_fields(name):
    meta = _shipped_meta(name)
    for key in ("schema", "workload", "task", "data", "timestep_s", "timesteps", "n_in", "architecture", "training",
                "quantisation", "metric", "value", "metrics", "chance", "baseline", "note", "versions"):
        assert key in meta, key
    assert meta["workload"] == name and meta["data"]["provenance"] == "synthetic"
    assert SYNTHETIC_NOTE in meta["note"]
    tr = meta["training"]
    for key in ("seed", "epochs", "torch_threads", "training_time_s"):
        assert key in tr
    assert tr["training_time_s"] < 900
    if name == "ecg-anomaly":
        assert isinstance(meta["threshold"], float) and meta["value"] >= 0.9
    elif name == "nmnist":
        assert meta["value"] >= 0.90
    else:
        assert meta["value"] >= 0.80
    net = load_network(shipped_paths(name)[0])
    assert all(layer.weight_bits == 8 for layer in net.layers)
    for layer in net.layers:  # 8-bit signed integers times one power of two per matrix
        for w in (layer.weight, layer.recurrent_weight):
            if w is None:
                continue
            k = np.floor(np.log2(127.0 / np.abs(w).max()))
            q = w.astype(np.float64) * 2.0**k
            assert np.array_equal(q, np.round(q)) and np.abs(q).max() <= 127


@pytest.mark.parametrize("name", list(SHIPPED))
def test_shipped_network_same_spikes_on_both_backends(name):
    wl = get_workload(name, with_baseline=False)
    net = wl.reference_network()
    d = wl.load("test", limit=6)  # a seeded random subset of the default held-out split
    a = sb.simulate(net, d.spikes, backend="sparse-cpu")
    b = sb.simulate(net, d.spikes, backend="snntorch")
    assert np.array_equal(a.output_spikes, b.output_spikes)
    assert a.counts == b.counts
    assert a.output_spikes.sum() > 0


@pytest.mark.parametrize("name", list(SHIPPED))
def test_shipped_network_reaches_its_metric_on_the_held_out_split(name):
    meta = _shipped_meta(name)
    metric, tol = SHIPPED[name]
    wl = get_workload(name, with_baseline=False)
    d = wl.load("test")  # the full default held-out split
    assert d.spikes.samples == meta["data"]["test_samples"]
    out = sb.simulate(wl.reference_network(), d.spikes, backend="sparse-cpu").output_spikes
    got = {m.name: m for m in wl.score(out, d)}
    assert got[metric].value == pytest.approx(meta["value"], abs=tol)
    for m in got.values():
        assert isinstance(m, Metric) and m.note.startswith("data: synthetic") and SYNTHETIC_NOTE in m.note
        assert np.isfinite(m.value)


def test_ecg_score_has_all_anomaly_metrics_and_cached_baseline(tmp_cache):
    wl = get_workload("ecg-anomaly", data_params=SMALL_ECG)
    d = wl.load("test")
    out = sb.simulate(wl.reference_network(), d.spikes).output_spikes
    got = {m.name: m for m in wl.score(out, d)}
    for key in ("auroc", "auprc", "f1", "chance_auroc", "chance_auprc", "detection_rate", "baseline_auroc"):
        assert key in got
    assert 0.0 <= got["auroc"].value <= 1.0 and got["chance_auprc"].value == pytest.approx(d.labels.mean())
    if "detection_latency_median_s" in got:
        assert got["detection_latency_median_s"].unit == "s"
        assert 0.0 <= got["detection_latency_median_s"].value <= 0.5
    assert len(list((tmp_cache / "ecg-anomaly" / "baselines").glob("*.npz"))) == 1
    assert {m.name: m.value for m in wl.score(out, d)} == {m.name: m.value for m in got.values()}


def test_classification_ties_count_as_wrong():
    from spikebench.workloads.metrics import rate_predictions

    out = np.zeros((3, 5, 4), dtype=np.uint8)
    out[0, :3, 2] = 1          # clear winner 2
    out[1, :2, 0] = 1
    out[1, :2, 3] = 1          # tie between 0 and 3
    assert rate_predictions(out).tolist() == [2, -1, -1]  # sample 2 is silent: no decision
