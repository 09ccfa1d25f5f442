"""Helpers of the workload tests: the shared real fixtures, one-line error checks, small offline data."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from conftest import FIXTURES

#: The published sha256 of the shared real fixtures (../shared/fixtures/README.md), by relative path.
FIXTURE_SHA256 = {
    "nmnist/sample_nmnist.bin": "3c9159329633efbb6879bba1b430598b78cc06a779a55d1259ec13e203ad00ee",
    "mitdb/100.hea": "95fbdda0454fffae1a2dab1a5ac53e924ae97691c028cdd3ee82f2446b73c066",
    "mitdb/100.dat": "b2ea3c250e56e48f4b7b90697832b8ecd1afa1e0bb31f2dcfea4ed6e1075a639",
    "mitdb/100.atr": "8d8a5349fb16638ebbf649f1779d12e96d91b736b2aafe59db43719ae583d471",
}
#: Small synthetic ECG data for the workload: 2 records of one minute.
SMALL_ECG = {"n_records": 2, "duration_s": 60.0}


def fixture(rel: str) -> Path:
    """Path of a shared fixture; skip (naming the path) if absent or not the published bytes."""
    path = FIXTURES / rel
    if not path.is_file():
        pytest.skip(f"shared fixture missing: {path}")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != FIXTURE_SHA256[rel]:
        pytest.skip(f"shared fixture {path} has sha256 {digest}, expected {FIXTURE_SHA256[rel]}")
    return path


def mitdb() -> Path:
    """The folder of the shared MIT-BIH record 100 (skips when any of its three files is missing)."""
    for ext in ("hea", "dat", "atr"):
        fixture(f"mitdb/100.{ext}")
    return FIXTURES / "mitdb"


def one_line_naming(exc: BaseException, *needles: str) -> None:
    msg = str(exc)
    assert "\n" not in msg
    for needle in needles:
        assert needle in msg, f"{needle!r} not in {msg!r}"
