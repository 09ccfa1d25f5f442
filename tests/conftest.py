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
def fixtures_dir() -> Path:
    if not FIXTURES.is_dir():
        pytest.skip(f"shared fixtures folder {FIXTURES} is absent")
    return FIXTURES
