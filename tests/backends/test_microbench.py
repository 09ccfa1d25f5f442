"""pytest-benchmark microbenchmarks (run once as tests by default; `pytest --benchmark-enable` times them).

Timings are never asserted here; each benchmark checks the result it timed.
"""

from __future__ import annotations

import numpy as np
import pytest

import spikebench as sb
from spikebench.backends.sparse_cpu import PreparedNetwork


@pytest.fixture(scope="module")
def nmnist_like():
    net = sb.Network.random(sizes=[2312, 500, 10], seed=0, weight_mean=[0.01, 0.0])
    spikes = sb.random_spikes(8, 300, 2312, 0.005, seed=1)
    return PreparedNetwork.build(net), spikes


def test_bench_sparse_cpu_batch(benchmark, nmnist_like):
    prepared, spikes = nmnist_like
    result = benchmark(prepared.run, spikes, threads=1)
    assert result.counts.samples == 8 and result.counts.synaptic_events > 8 * 1_000_000


def test_bench_counting_rule(benchmark, nmnist_like):
    prepared, spikes = nmnist_like
    ref = prepared.run(spikes, record=True)
    from spikebench.core.counts import count_from_rasters

    counts = benchmark(count_from_rasters, prepared.network, spikes.to_dense(), ref.layer_spikes,
                       timestep_s=spikes.timestep_s)
    assert counts == ref.counts


def test_bench_spike_train_from_dense(benchmark):
    raster = (np.random.default_rng(0).random((16, 300, 2312)) < 0.005).astype(np.uint8)
    train = benchmark(sb.SpikeTrain.from_dense, raster)
    assert train.n_spikes == int(raster.sum())
