"""Reading a split costs milliseconds the second time (issue 13), and never at the price of a wrong number:
the binned split is cached by the content of the data, its parameters and the reader's code, a bad cache
file is recomputed, and a folder verified by an earlier process is not hashed again unless a file changed.

Small offline ECG data (4 records of 30 s) in a temporary ``SPIKEBENCH_CACHE`` only.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from spikebench.workloads import binned, get_workload
from spikebench.workloads import data as D

ECG4 = {"n_records": 4, "duration_s": 30.0}


def _same(a, b) -> None:
    assert a.spikes.timesteps == b.spikes.timesteps and a.spikes.n == b.spikes.n
    assert a.spikes.timestep_s == b.spikes.timestep_s
    for k in ("sample_ptr", "times", "indices"):
        assert np.array_equal(getattr(a.spikes, k), getattr(b.spikes, k))
    assert np.array_equal(a.labels, b.labels) and a.labels.dtype == b.labels.dtype
    assert (a.provenance, a.source) == (b.provenance, b.source)
    assert a.extra.keys() == b.extra.keys()
    for k, v in a.extra.items():
        w = b.extra[k]
        if isinstance(v, np.ndarray):
            assert isinstance(w, np.ndarray) and w.dtype == v.dtype and np.array_equal(v, w), k
        else:
            assert type(v) is type(w) and v == w, k


def _files(cache):
    return sorted((cache / "ecg-anomaly" / "binned").glob("*/*.npz"))


def _no_reading(monkeypatch, wl):
    def refuse(*a, **k):
        raise AssertionError("the split was read and binned again")

    monkeypatch.setattr(wl, "_read", refuse)


@pytest.mark.parametrize("split, limit", [("test", None), ("train", 30)])
def test_second_load_comes_from_the_cache_and_is_identical(tmp_cache, monkeypatch, split, limit):
    wl = get_workload("ecg-anomaly", data_params=ECG4, with_baseline=False)
    fresh = wl.load(split, limit=limit)
    assert len(_files(tmp_cache)) == 1
    _no_reading(monkeypatch, wl)
    again = wl.load(split, limit=limit)
    _same(fresh, again)
    assert isinstance(again.extra["record"], tuple) and isinstance(again.extra["beat_time_s"], np.ndarray)


def test_other_parameters_are_other_entries(tmp_cache):
    wl = get_workload("ecg-anomaly", data_params=ECG4, with_baseline=False)
    a = wl.load("test", limit=10, seed=0)
    wl.load("test", limit=10, seed=0)
    assert len(_files(tmp_cache)) == 1
    b = wl.load("test", limit=11, seed=0)
    assert len(_files(tmp_cache)) == 2 and b.spikes.samples == 11 and a.spikes.samples == 10
    finer = get_workload("ecg-anomaly", data_params=ECG4, with_baseline=False, timestep_s=wl.timestep_s / 2)
    assert finer.load("test", limit=10).spikes.timesteps != a.spikes.timesteps
    assert len(_files(tmp_cache)) == 3


@pytest.mark.parametrize("damage", ["truncate", "garbage", "wrong-labels"])
def test_a_bad_cache_file_is_recomputed_not_trusted(tmp_cache, damage):
    wl = get_workload("ecg-anomaly", data_params=ECG4, with_baseline=False)
    fresh = wl.load("test")
    (path,) = _files(tmp_cache)
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif damage == "garbage":
        path.write_bytes(b"not an npz")
    else:  # a valid npz whose labels do not match its spikes
        hit = binned.load(path)
        binned.save(path, hit[0], hit[1][:-1], hit[2])
    assert binned.load(path) is None
    _same(fresh, wl.load("test"))
    assert binned.load(path) is not None  # rewritten


def test_changed_reader_code_is_a_new_key_and_drops_the_old_entries(tmp_cache, monkeypatch):
    wl = get_workload("ecg-anomaly", data_params=ECG4, with_baseline=False)
    wl.load("test")
    (old,) = _files(tmp_cache)
    monkeypatch.setattr(binned, "code_digest", lambda: "another reader, version 2")
    wl.load("test")
    (new,) = _files(tmp_cache)  # the other version's entries went when this one wrote its first
    assert new != old and not old.exists() and new.parent.name == "another reader, "[:16]


def test_data_without_a_manifest_is_never_cached(tmp_cache, tmp_path):
    wl = get_workload("ecg-anomaly", data_params=ECG4, with_baseline=False)
    src = wl.source("test")
    real = tmp_path / "data" / "mitdb"
    real.mkdir(parents=True)
    for f in src.path.rglob("*"):
        if f.is_file() and f.name != D.MARKER:
            dest = real / f.relative_to(src.path)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(f.read_bytes())
    data = wl.load("test", data_dir=tmp_path / "data")
    assert data.spikes.samples > 0 and _files(tmp_cache) == []


def test_a_folder_verified_before_is_not_hashed_again_until_a_file_changes(tmp_cache, monkeypatch):
    wl = get_workload("ecg-anomaly", data_params=ECG4, with_baseline=False)
    monkeypatch.setattr(D, "RACY_NS", 0)  # files written just now count as settled
    src = wl.source("test")
    monkeypatch.setattr(D, "_VERIFIED", {})  # a new process
    wl.source("test")  # the full check, recorded
    assert len(list((tmp_cache / ".verified").glob("*.json"))) == 1

    monkeypatch.setattr(D, "_VERIFIED", {})
    real_digest = D.file_digest
    monkeypatch.setattr(D, "file_digest", lambda p: (_ for _ in ()).throw(AssertionError("hashed again")))
    assert wl.source("test").details["content_sha256"] == src.details["content_sha256"]

    monkeypatch.setattr(D, "file_digest", real_digest)
    monkeypatch.setattr(D, "_VERIFIED", {})
    dat = sorted(src.path.rglob("*.dat"))[0]
    blob = bytearray(dat.read_bytes())
    blob[100], blob[200] = blob[200], blob[100] + 1 & 0xFF  # same size, other content
    dat.write_bytes(bytes(blob))
    with pytest.warns(UserWarning, match="does not match its manifest"):
        wl.source("test")


def test_a_record_of_another_folder_or_manifest_is_ignored(tmp_cache, monkeypatch):
    wl = get_workload("ecg-anomaly", data_params=ECG4, with_baseline=False)
    monkeypatch.setattr(D, "RACY_NS", 0)
    src = wl.source("test")
    monkeypatch.setattr(D, "_VERIFIED", {})
    wl.source("test")
    (record,) = (tmp_cache / ".verified").glob("*.json")
    key = str(src.path.resolve())
    files = D._marker_record(src.path)["files"]
    sig = D._signature(src.path, D._tree(src.path))
    assert D._verified_before(key, sig, files)
    assert not D._verified_before(key, sig, {**files, "x": {"bytes": 1, "sha256": "0" * 64}})
    assert not D._verified_before(key + "/other", sig, files)
    os.utime(record)  # the record itself is data too: garbage in it is a miss, not an error
    record.write_text("{not json")
    assert not D._verified_before(key, sig, files)


def test_the_cache_keeps_the_most_recently_used_entries_only(tmp_cache, monkeypatch):
    wl = get_workload("ecg-anomaly", data_params=ECG4, with_baseline=False)
    monkeypatch.setattr(binned, "KEEP", 3)
    first = wl.load("test", limit=5)
    for limit in (6, 7):
        wl.load("test", limit=limit)
    (path5,) = [p for p in _files(tmp_cache) if binned.load(p)[0].samples == 5]
    os.utime(path5, ns=(1, 1))  # the oldest...
    wl.load("test", limit=5)  # ...until it is used again
    wl.load("test", limit=8)  # a fourth entry: the least recently used (limit 6) goes
    kept = sorted(binned.load(p)[0].samples for p in _files(tmp_cache))
    assert kept == [5, 7, 8]
    _same(first, wl.load("test", limit=5))
