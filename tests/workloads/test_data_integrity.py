"""Data is what it claims to be (issue 12, item 1): content manifests, content-keyed baselines, leads by
name, labels in the class set, no empty samples, and no folder or FIFO read as a data file.

Small synthetic data only (ECG records of 30 s, a handful of SHD / N-MNIST samples), always in a
temporary ``SPIKEBENCH_CACHE``; nothing here touches the user's cache or the shared fixtures.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
from wl_helpers import one_line_naming

import spikebench as sb
from spikebench.workloads import data as D
from spikebench.workloads import get_workload
from spikebench.workloads import nmnist_format as NF
from spikebench.workloads import wfdb_format as W
from spikebench.workloads.readall import read_file_bytes
from spikebench.workloads.shd_format import ShdData, write_shd
from spikebench.workloads.synth_ecg import generate_ecg

#: 4 records of 30 s: 3 train, 1 test (test_fraction 0.25); generated and encoded in about a second.
ECG4 = {"n_records": 4, "duration_s": 30.0}



def _gen_ecg(folder: Path, seed: int = 0) -> None:
    folder.parent.mkdir(parents=True, exist_ok=True)
    generate_ecg(folder, seed=seed, **ECG4)


def _same(a, b) -> bool:
    return (a.spikes.samples == b.spikes.samples and np.array_equal(a.spikes.indices, b.spikes.indices)
            and np.array_equal(a.spikes.times, b.spikes.times) and np.array_equal(a.labels, b.labels))


def _swap_blocks(path: Path, block: int = 1000, at: tuple[int, int] = (3000, 9000)) -> None:
    """Swap two ``block``-byte blocks. At offsets that are multiples of 3 (whole format-212 frames) every
    byte keeps its role, so each signal's WFDB checksum (a sum mod 2**16) is unchanged: only content
    hashes can see it."""
    data = bytearray(path.read_bytes())
    i, j = at
    a, b = data[i:i + block], data[j:j + block]
    assert a != b and len(data) >= j + block
    data[i:i + block], data[j:j + block] = b, a
    path.write_bytes(bytes(data))


def _edit_header(path: Path, edit) -> None:
    lines = path.read_text().splitlines()
    path.write_text("\n".join(edit(lines)) + "\n")


def _first_rec(folder: Path) -> str:
    return W.read_records_list(folder)[0]


# ---- 1. cached generated data carries a content manifest and is regenerated when it does not match ----------


def _fs_250(folder: Path) -> None:  # the record line: name nsig fs nsamp -> fs 250 Hz
    hea = folder / "test" / f"{_first_rec(folder / 'test')}.hea"
    _edit_header(hea, lambda ls: [" ".join([*ln.split()[:2], "250", *ln.split()[3:]]) if i == 0 else ln
                                  for i, ln in enumerate(ls)])


def _gain_100(folder: Path) -> None:  # every signal line: gain 200 -> 100 adu/mV
    hea = folder / "test" / f"{_first_rec(folder / 'test')}.hea"
    _edit_header(hea, lambda ls: [ln.replace(" 200 ", " 100 ", 1) if i > 0 and not ln.startswith("#") else ln
                                  for i, ln in enumerate(ls)])


def _swap_dat(folder: Path) -> None:
    _swap_blocks(folder / "test" / f"{_first_rec(folder / 'test')}.dat")


def _drop_record(folder: Path) -> None:
    rl = folder / "train" / "RECORDS"
    names = W.read_records_list(folder / "train")
    rl.write_text("".join(f"{n}\n" for n in names[1:]))


def _add_file(folder: Path) -> None:
    (folder / "train" / "notes.txt").write_text("added\n")


def _remove_file(folder: Path) -> None:
    (folder / "test" / f"{_first_rec(folder / 'test')}.atr").unlink()


@pytest.mark.parametrize("split, tamper", [("test", _fs_250), ("test", _gain_100), ("test", _swap_dat),
                                           ("train", _drop_record), ("train", _add_file), ("test", _remove_file)],
                         ids=["hea-fs", "hea-gain", "dat-swapped-blocks", "records-dropped", "file-added",
                              "file-removed"])
def test_tampered_cache_is_regenerated_and_gives_the_fresh_data(tmp_cache, split, tamper):
    wl = get_workload("ecg-anomaly", data_params=ECG4, with_baseline=False)
    fresh = wl.load(split)
    src = wl.source(split)
    tamper(src.path)
    with pytest.warns(UserWarning, match="does not match its manifest .*; regenerating it"):
        again = wl.load(split)  # the tampered copy is replaced (atomically), not read, and the user is told
    assert _same(again, fresh)
    assert not list(tmp_cache.rglob(f"{D.TMP_PREFIX}*"))

    assert src.details["verified"] is True and "verified" in src.description
    marker = json.loads((src.path / D.MARKER).read_text())
    assert "train/RECORDS" in marker["files"] and all(len(v["sha256"]) == 64 for v in marker["files"].values())
    assert D.content_manifest(src.path) == marker["files"]
    tamper(src.path)
    assert D.manifest_mismatch(src.path, marker["files"]) is not None


def test_cache_without_manifest_is_regenerated(tmp_path):
    """A part written before manifests existed (a marker without ``files``) is not trusted."""
    base = tmp_path / "w" / "v1-seed0"
    calls = []

    def gen(tmp: Path) -> dict:
        calls.append(1)
        (tmp / "a.bin").write_bytes(b"x" * 100)
        return {}

    target = D.ensure_generated(base, "test", gen, params={"seed": 0})
    rec = json.loads((target / D.MARKER).read_text())
    assert rec["files"] == {"a.bin": {"bytes": 100, "sha256": D.file_digest(target / "a.bin")}}
    D.ensure_generated(base, "test", gen, params={"seed": 0})
    assert len(calls) == 1  # verified, reused
    del rec["files"]
    (target / D.MARKER).write_text(json.dumps(rec))
    with pytest.warns(UserWarning, match="no content manifest"):
        D.ensure_generated(base, "test", gen, params={"seed": 0})
    assert len(calls) == 2


# ---- 2. a user's data directory with a spikebench manifest: mismatch refused, never rewritten ---------------


def test_data_dir_with_a_mismatching_manifest_is_refused_and_left_alone(tmp_cache, tmp_path):
    wl = get_workload("ecg-anomaly", data_params=ECG4, with_baseline=False)
    part = wl.source("test").path
    user = tmp_path / "data" / "mitdb"
    shutil.copytree(part, user)
    d = wl.load("test", data_dir=tmp_path / "data")
    assert d.provenance == "synthetic"
    dat = user / "test" / f"{_first_rec(user / 'test')}.dat"
    _swap_dat(user)
    tampered = dat.read_bytes()
    with pytest.raises(D.DataUnavailableError) as exc:
        wl.load("test", data_dir=tmp_path / "data")
    one_line_naming(exc.value, str(user), D.MARKER, "content changed")
    assert dat.read_bytes() == tampered  # the user's data is never regenerated
    _swap_dat(user)  # swapped back: the manifest matches again, and the source says it was checked
    d = wl.load("test", data_dir=tmp_path / "data")
    assert d.extra["verified"] is True and "verified against its sha256 manifest" in d.source


def test_verified_tag_reaches_the_metric_notes(tmp_cache, tmp_path):
    gen = tmp_path / "data" / "mitdb"
    _gen_ecg(gen)  # the generator's manifest has no file hashes: not verified
    wl = get_workload("ecg-anomaly", data_params=ECG4, with_baseline=False)
    d = wl.load("test", data_dir=tmp_path / "data")
    assert d.extra["verified"] is False and "not verified" in d.source
    out = np.zeros((d.spikes.samples, d.spikes.timesteps, 2), dtype=bool)
    notes = [m.note for m in wl.score(out, d, threshold=0.0)]
    assert notes and all("NOT verified" in n for n in notes)
    d2 = wl.load("test")  # the cache: verified by its manifest
    assert all("verified against its generator's sha256 manifest" in m.note for m in wl.score(out[:d2.spikes.samples],
                                                                                            d2, threshold=0.0))


# ---- 3. the logistic baseline is keyed by the content of the data it was fitted on ---------------------------


def test_baseline_is_refitted_when_the_data_behind_the_same_path_changes(tmp_cache, tmp_path, monkeypatch):
    folder = tmp_path / "data" / "mitdb"
    _gen_ecg(folder)
    wl = get_workload("ecg-anomaly", data_params=ECG4)
    fits = []
    real_fit = wl.fit_baseline
    monkeypatch.setattr(wl, "fit_baseline", lambda train: fits.append(train.spikes.samples) or real_fit(train))

    d0 = wl.load("test", data_dir=tmp_path / "data")
    b0 = wl.baseline(d0)
    wl.baseline(d0)
    assert len(fits) == 1  # cached for the same data

    shutil.rmtree(folder)
    _gen_ecg(folder, seed=1)  # other data, same path
    d1 = wl.load("test", data_dir=tmp_path / "data")
    b1 = wl.baseline(d1)
    assert len(fits) == 2  # refitted, not the baseline of the old data
    assert not np.array_equal(b0.coef, b1.coef)
    wl.baseline(d1)
    assert len(fits) == 2


# ---- 4. ECG leads by name ---------------------------------------------------------------------------------


def _rewrite_leads(folder: Path, names: tuple[str, str], swap: bool) -> None:
    for hea in sorted(folder.rglob("*.hea")):
        rec = W.read_record(hea)
        sig = rec.signals[:, ::-1] if swap else rec.signals
        hdr = W.make_header(rec.header.record_name, np.ascontiguousarray(sig), fs_hz=rec.fs_hz, gain=200.0,
                            adc_zero=1024, descriptions=names, comments=rec.header.comments)
        W.write_record(hea.parent, hdr, sig)


def test_ecg_leads_are_matched_by_name_mlii_first(tmp_cache, tmp_path):
    a, b = tmp_path / "a" / "mitdb", tmp_path / "b" / "mitdb"
    _gen_ecg(a)
    shutil.copytree(a, b)
    assert [s.description for s in W.read_header(next(a.rglob("*.hea"))).signals] == ["MLII", "V5"]
    _rewrite_leads(b, ("V5", "MLII"), swap=True)  # same signals, header lists V5 first (as MIT-BIH record 114)
    wl = get_workload("ecg-anomaly", data_params=ECG4, with_baseline=False)
    da, db = wl.load("test", data_dir=tmp_path / "a"), wl.load("test", data_dir=tmp_path / "b")
    assert _same(da, db)  # channels 0/1 are MLII whatever the header order


def test_ecg_record_without_known_leads_is_refused(tmp_cache, tmp_path):
    a = tmp_path / "a" / "mitdb"
    _gen_ecg(a)
    _rewrite_leads(a, ("ECG1", "ECG2"), swap=False)
    wl = get_workload("ecg-anomaly", data_params=ECG4, with_baseline=False)
    with pytest.raises(sb.SpikebenchError) as exc:
        wl.load("test", data_dir=tmp_path / "a")
    one_line_naming(exc.value, "'ECG1', 'ECG2'", "MLII")


# ---- 5. SHD labels in the class set; N-MNIST samples not empty ------------------------------------------------


def _shd(folder: Path, labels) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    n = len(labels)
    times = [np.sort(rng.uniform(0, 1, 20)).astype(np.float16).astype(np.float64) for _ in range(n)]
    units = [rng.integers(0, 700, 20) for _ in range(n)]
    for split in ("train", "test"):
        write_shd(folder / f"shd_{split}.h5", ShdData.from_samples(times, units, np.array(labels)))


def test_shd_label_outside_the_class_set_is_refused(tmp_cache, tmp_path):
    _shd(tmp_path / "data" / "SHD", [0, 19, 3])
    wl = get_workload("shd", with_baseline=False)
    assert wl.load("test", data_dir=tmp_path / "data").spikes.samples == 3
    _shd(tmp_path / "data" / "SHD", [0, 20, 3])
    with pytest.raises(sb.FileFormatError) as exc:
        wl.load("test", data_dir=tmp_path / "data")
    one_line_naming(exc.value, "shd_test.h5", "label 20", "0..19")


def _nmnist_sample(path: Path, n: int = 50) -> None:
    ev = np.zeros(n, dtype=NF.EVENT_DTYPE)
    rng = np.random.default_rng(n)
    ev["x"], ev["y"], ev["p"] = rng.integers(0, 34, n), rng.integers(0, 34, n), rng.integers(0, 2, n)
    ev["t_us"] = np.sort(rng.integers(0, 300_000, n))
    path.parent.mkdir(parents=True, exist_ok=True)
    NF.write_nmnist_file(path, ev)


def test_empty_nmnist_file_is_refused(tmp_cache, tmp_path):
    test = tmp_path / "data" / "N-MNIST" / "Test"
    _nmnist_sample(test / "3" / "00000.bin")
    (test / "3" / "00001.bin").write_bytes(b"")
    wl = get_workload("nmnist", with_baseline=False)
    with pytest.raises(sb.FileFormatError) as exc:
        wl.load("test", data_dir=tmp_path / "data")
    one_line_naming(exc.value, "00001.bin", "no events")


# ---- 5. folders and FIFOs where a file is expected: refused, never opened ---------------------------------------


def _no_block(fn, fifo: Path, timeout_s: float = 5.0):
    """Run ``fn()`` in a thread; if it blocks (opening the FIFO), unblock it by opening the write end and fail."""
    box: dict = {}

    def target():
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            box["error"] = exc

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(timeout_s)
    if t.is_alive():
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
        t.join(5)
        pytest.fail(f"blocked opening the FIFO {fifo}")
    return box


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_fifo_named_like_a_sample_is_refused_without_blocking(tmp_cache, tmp_path):
    test = tmp_path / "data" / "N-MNIST" / "Test"
    _nmnist_sample(test / "3" / "00000.bin")
    os.mkfifo(test / "3" / "00001.bin")
    wl = get_workload("nmnist", with_baseline=False)
    box = _no_block(lambda: wl.load("test", data_dir=tmp_path / "data"), test / "3" / "00001.bin")
    assert isinstance(box.get("error"), sb.SpikebenchError), box
    one_line_naming(box["error"], "00001.bin", "FIFO")
    box = _no_block(lambda: read_file_bytes(test / "3" / "00001.bin"), test / "3" / "00001.bin")
    assert isinstance(box.get("error"), sb.FileFormatError), box


def test_folder_named_like_a_sample_is_refused(tmp_cache, tmp_path):
    test = tmp_path / "data" / "N-MNIST" / "Test"
    _nmnist_sample(test / "3" / "00000.bin")
    (test / "3" / "x.bin").mkdir()
    wl = get_workload("nmnist", with_baseline=False)
    with pytest.raises(sb.SpikebenchError) as exc:
        wl.load("test", data_dir=tmp_path / "data")
    one_line_naming(exc.value, "x.bin", "folder")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_fifo_records_list_is_refused_without_blocking(tmp_cache, tmp_path):
    a = tmp_path / "a" / "mitdb"
    _gen_ecg(a)
    (a / "test" / "RECORDS").unlink()
    os.mkfifo(a / "test" / "RECORDS")
    wl = get_workload("ecg-anomaly", data_params=ECG4, with_baseline=False)
    box = _no_block(lambda: wl.load("test", data_dir=tmp_path / "a"), a / "test" / "RECORDS")
    assert isinstance(box.get("error"), sb.SpikebenchError), box
    one_line_naming(box["error"], "RECORDS", "not a regular file")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_fifo_named_like_an_shd_split_is_refused_without_blocking(tmp_cache, tmp_path):
    folder = tmp_path / "data" / "SHD"
    _shd(folder, [0, 1, 2])
    (folder / "shd_test.h5").unlink()
    os.mkfifo(folder / "shd_test.h5")
    wl = get_workload("shd", with_baseline=False)
    box = _no_block(lambda: wl.load("test", data_dir=tmp_path / "data"), folder / "shd_test.h5")
    assert isinstance(box.get("error"), sb.SpikebenchError), box
    one_line_naming(box["error"], "shd_test.h5", "FIFO")
