"""Shared test helpers: seeded networks with dyadic weights (exact float32 sums in any order)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

import spikebench as sb

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
FIXTURES = SHARED / "fixtures"


def with_biases(net: sb.Network, seed: int, *, recurrent_bias: bool = True) -> sb.Network:
    """Give every layer a dyadic bias (and recurrent layers a recurrent bias)."""
    rng = np.random.default_rng(seed)
    layers = []
    for layer in net.layers:
        kw = {"bias": np.round(rng.normal(0, 0.1, layer.n_out) * 64) / 64}
        if layer.recurrent and recurrent_bias:
            kw["recurrent_bias"] = np.round(rng.normal(0, 0.1, layer.n_out) * 64) / 64
        layers.append(dataclasses.replace(layer, **kw))
    return sb.Network(layers=tuple(layers), name=net.name)


@pytest.fixture
def tmp_cache(tmp_path, monkeypatch):
    """A private data cache (``$SPIKEBENCH_CACHE``) and no ``$SPIKEBENCH_DATA``: the shared cache is not touched."""
    from spikebench.workloads import data as D

    cache = tmp_path / "cache"
    monkeypatch.setenv(D.CACHE_ENV, str(cache))
    monkeypatch.delenv(D.DATA_ENV, raising=False)
    return cache


@pytest.fixture
def use_workloads(monkeypatch):
    """``use_workloads(reg)``: the harness and CLI see only the workloads of ``reg`` (name -> workload);
    an unknown name is the usual one-line error."""
    import spikebench.workloads as wl_pkg

    def install(reg: dict) -> dict:
        def get(name, **binning):
            if name not in reg:
                raise sb.UnknownNameError(f"unknown workload {name!r}")
            return reg[name]

        monkeypatch.setattr(wl_pkg, "WORKLOADS", reg, raising=False)
        monkeypatch.setattr(wl_pkg, "get_workload", get, raising=False)
        return reg

    return install


@pytest.fixture
def fixtures_dir() -> Path:
    if not FIXTURES.is_dir():
        pytest.skip(f"shared fixtures folder {FIXTURES} is absent")
    return FIXTURES
