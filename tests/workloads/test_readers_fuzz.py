"""Property-based fuzzing of every reader: random, truncated and bit-flipped files.

A reader handed garbage must either succeed or raise a :class:`SpikebenchError` (a one-line,
user-facing message); any other exception is a bug. Inputs are small and example counts modest,
so the whole file runs in seconds; every decoder loop advances on each step, so nothing can hang.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from spikebench.core.errors import SpikebenchError
from spikebench.workloads import nmnist_format as nm
from spikebench.workloads import shd_format as shd
from spikebench.workloads import wfdb_format as wf

FUZZ = settings(max_examples=150, deadline=timedelta(seconds=2), derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])
# The SHD reader kills a hung HDF5 child after its timeout (3 s here), so allow for one such case.
FUZZ_SHD = settings(FUZZ, deadline=timedelta(seconds=10))


def only_spikebench_errors(fn, *args, **kw):
    """Call ``fn``; a SpikebenchError is an accepted outcome, must be one line; others propagate."""
    try:
        return fn(*args, **kw)
    except SpikebenchError as exc:
        assert "\n" not in str(exc)
        return None


def flip(data: bytes, positions: list[int]) -> bytes:
    buf = bytearray(data)
    for pos in positions:
        if buf:
            buf[(pos // 8) % len(buf)] ^= 1 << (pos % 8)
    return bytes(buf)


flips = st.lists(st.integers(min_value=0, max_value=2**40), min_size=1, max_size=8)


def _in_tmp(name: str, data: bytes, fn):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / name
        path.write_bytes(data)
        return only_spikebench_errors(fn, path)


# ---- valid seeds ------------------------------------------------------------------------------------

def _nmnist_valid() -> bytes:
    rng = np.random.default_rng(0)
    ev = np.zeros(40, dtype=nm.EVENT_DTYPE)
    ev["x"], ev["y"], ev["p"] = rng.integers(0, 34, 40), rng.integers(0, 34, 40), rng.integers(0, 2, 40)
    ev["t_us"] = np.sort(rng.integers(0, 300_000, 40))
    return nm.encode_events(ev)


def _nmnist_zip_valid() -> bytes:
    bio = io.BytesIO()
    with zipfile.ZipFile(bio, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("Train/3/00001.bin", _nmnist_valid())
        zf.writestr("Train/7/00002.bin", _nmnist_valid()[:50])
    return bio.getvalue()


def _shd_valid() -> bytes:
    rng = np.random.default_rng(1)
    times = tuple(np.sort(rng.uniform(0, 1.2, k)).astype(np.float16).astype(np.float64) for k in (5, 0, 9))
    units = tuple(rng.integers(0, 700, len(t)) for t in times)
    return shd.shd_bytes(shd.ShdData.from_samples(
        times, units, np.array([0, 1, 2]), speaker=np.array([0, 1, 0]), keys=("a", "b", "c"),
        meta_info={"gender": np.array(["f", "m"]), "age": np.array([20, 30]), "body_height": np.array([1.6, 1.8])}))


NMNIST = _nmnist_valid()
NMNIST_ZIP = _nmnist_zip_valid()
SHD = _shd_valid()
SIG = np.random.default_rng(2).integers(-1000, 1000, size=(60, 2)).astype(np.int16)
HEADER_TEXT, DATS = wf.record_bytes(wf.make_header("r", SIG, fs_hz=360.0, comments=("x",)), SIG)
DAT = DATS["r.dat"]
ATR = wf.encode_annotations(wf.Annotations(
    sample=np.array([3, 40, 2000, 2001]), code=np.array([28, 1, 5, 1], np.uint8),
    subtype=np.array([0, 2, 0, 0], np.int16), chan=np.array([0, 1, 1, 0], np.int16),
    num=np.array([0, 0, 4, 4], np.int16), aux=(b"(N\x00", b"", b"hi", b"")))


# ---- N-MNIST ----------------------------------------------------------------------------------------

@FUZZ
@given(st.binary(max_size=400))
def test_nmnist_random_bytes(data):
    ev = only_spikebench_errors(nm.decode_events, data, source="fuzz.bin")
    if ev is not None:
        assert ev.dtype == nm.EVENT_DTYPE and len(ev) <= len(data) // 5


@FUZZ
@given(st.integers(min_value=0, max_value=len(NMNIST)), flips)
def test_nmnist_truncated_and_flipped(cut, positions):
    for data in (NMNIST[:cut], flip(NMNIST, positions)):
        only_spikebench_errors(nm.decode_events, data, source="fuzz.bin")
        _in_tmp("00001.bin", data, lambda p: nm.read_nmnist_file(p, sensor_size=nm.SENSOR_SIZE))


@FUZZ
@given(st.integers(min_value=0, max_value=len(NMNIST_ZIP)), flips)
def test_nmnist_zip_truncated_and_flipped(cut, positions):
    for data in (NMNIST_ZIP[:cut], flip(NMNIST_ZIP, positions)):
        _in_tmp("train.zip", data, nm.read_zip)


# ---- SHD --------------------------------------------------------------------------------------------

@pytest.mark.slow
@FUZZ_SHD
@given(st.binary(max_size=600))
def test_shd_random_bytes(data):
    _in_tmp("shd.h5", data, lambda p: shd.read_shd(p, timeout_s=3))
    _in_tmp("shd.h5", b"\x89HDF\r\n\x1a\n" + data, lambda p: shd.read_shd(p, timeout_s=3))


# Single bit flips that crashed (SIGSEGV) or hung the HDF5 2.0 C library on this very file in a
# full scan (17 of 10,704 flips); the isolated reader must turn them into FileFormatError.
@pytest.mark.slow
@FUZZ_SHD
@example(cut=0, positions=[1889 * 8 + 1])
@example(cut=0, positions=[2505 * 8 + 1])
@given(st.integers(min_value=0, max_value=len(SHD)), flips)
def test_shd_truncated_and_flipped(cut, positions):
    for data in (SHD[:cut], flip(SHD, positions)):
        _in_tmp("shd.h5", data, lambda p: shd.read_shd(p, timeout_s=3))


# ---- WFDB -------------------------------------------------------------------------------------------

def _record(hea: bytes, dat: bytes):
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "r.hea").write_bytes(hea)
        (Path(d) / "r.dat").write_bytes(dat)
        return only_spikebench_errors(wf.read_record, Path(d) / "r")


@FUZZ
@given(st.text(max_size=300))
def test_wfdb_header_random_text(text):
    only_spikebench_errors(wf.parse_header, text)
    _record(text.encode("utf-8", "surrogatepass"), DAT)


@FUZZ
@given(st.binary(max_size=300))
def test_wfdb_header_random_bytes(data):
    _record(data, DAT)
    _record(HEADER_TEXT.encode() + data, DAT)


@FUZZ
@given(st.integers(min_value=0, max_value=len(HEADER_TEXT)), flips)
def test_wfdb_header_truncated_and_flipped(cut, positions):
    raw = HEADER_TEXT.encode()
    _record(raw[:cut], DAT)
    _record(flip(raw, positions), DAT)


@FUZZ
@given(st.integers(min_value=0, max_value=len(DAT)), flips)
def test_wfdb_dat_truncated_and_flipped(cut, positions):
    hea = HEADER_TEXT.encode()
    assert _record(hea, DAT[:cut]) is None or cut == len(DAT)
    rec = _record(hea, flip(DAT, positions))
    if rec is not None:  # any single change alters a 16-bit sum; only cancelling flips can pass
        assert rec.signals.shape == SIG.shape


@FUZZ
@given(st.binary(max_size=300), st.one_of(st.none(), st.integers(min_value=0, max_value=400)))
def test_wfdb_212_random_bytes(data, n_values):
    out = only_spikebench_errors(wf.decode_212, data, n_values)
    if out is not None:
        assert out.min(initial=0) >= -2048 and out.max(initial=0) <= 2047


@FUZZ
@given(st.binary(max_size=400))
def test_wfdb_annotations_random_bytes(data):
    ann = only_spikebench_errors(wf.decode_annotations, data)
    if ann is not None:
        assert np.all(ann.sample >= 0)


@FUZZ
@given(st.integers(min_value=0, max_value=len(ATR)), flips)
def test_wfdb_annotations_truncated_and_flipped(cut, positions):
    assert only_spikebench_errors(wf.decode_annotations, ATR[:cut]) is None or cut == len(ATR)
    _in_tmp("r.atr", flip(ATR, positions), wf.read_annotations)
