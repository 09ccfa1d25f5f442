"""The sparse-cpu reference kernel: threads, the int8 weight path, and its counts against the shared rule."""

from __future__ import annotations

import numpy as np
import pytest
from test_backend_contract import build

import spikebench as sb


@pytest.mark.parametrize("case", ["rec-zero-deep", "nmnist-like"])
def test_threads_and_batching_do_not_change_results(case):
    net, spikes = build(case, seed=3)
    one = sb.simulate(net, spikes, threads=1, record=True)
    two = sb.simulate(net, spikes, threads=2, record=True)
    parts = [sb.simulate(net, spikes.select([i]), threads=1) for i in range(spikes.samples)]
    for a, b in zip(one.layer_spikes, two.layer_spikes):
        np.testing.assert_array_equal(a, b)
    assert one.counts == two.counts
    np.testing.assert_array_equal(np.concatenate([p.output_spikes for p in parts]), one.output_spikes)
    total = parts[0].counts
    for p in parts[1:]:
        total = total + p.counts
    assert total == one.counts


def test_counts_match_the_shared_counting_rule_on_recorded_rasters():
    net, spikes = build("rec-zero-deep", seed=5)
    ref = sb.simulate(net, spikes, record=True)
    from spikebench.core.counts import count_from_rasters

    derived = count_from_rasters(net, spikes.to_dense(), ref.layer_spikes, timestep_s=spikes.timestep_s)
    assert derived == ref.counts


def test_counts_file_round_trip(tmp_path):
    net, spikes = build("rec-subtract-sparse-w")
    counts = sb.simulate(net, spikes).counts
    path = tmp_path / "counts.json"
    counts.to_json(path)
    back = sb.EventCounts.from_json(path)
    assert back == counts
    assert back.source["backend"] == "sparse-cpu"
    assert back.to_dict()["schema"] == "spikebench.counts/2"


@pytest.mark.parametrize("case", ["nmnist-like", "rec-zero-deep", "ff-zero-bias"])
def test_int8_weight_path_equals_float_path(case):
    from spikebench.backends.sparse_cpu import PreparedNetwork

    net, spikes = build(case, seed=7)
    fast, slow = PreparedNetwork.build(net), PreparedNetwork.build(net, int8=False)
    assert not slow.w_scale.any() and not slow.r_scale.any()
    a, b = fast.run(spikes, record=True), slow.run(spikes, record=True)
    for x, y in zip(a.layer_spikes, b.layer_spikes):
        np.testing.assert_array_equal(x, y)
    assert a.counts == b.counts
    if case == "nmnist-like":
        assert fast.w_scale[0] == 2.0**-8  # the wide first layer fits int8 on the 2**-8 grid


def test_int8_scale_rule():
    from spikebench.backends.sparse_cpu import int8_scale

    assert int8_scale(np.array([0.5, -0.25, 0.125])) == 2.0**-3
    assert int8_scale(np.array([3.0, -127.0])) == 1.0
    assert int8_scale(np.array([128.0])) == 128.0        # 1 x 2**7
    assert int8_scale(np.array([128.0, 1.0])) == 0.0     # 128 steps of 1: needs more than 8 bits
    assert int8_scale(np.array([0.1])) == 0.0            # not on a power-of-two grid
    assert int8_scale(np.array([1.0, 2.0**-7])) == 0.0   # 128 steps of 2**-7: too wide
    assert int8_scale(np.zeros(3)) == 0.0


def test_int8_scale_equals_the_search_over_every_candidate_scale():
    """The vectorised rule gives the scale the definition (a search, coarsest first) gives: grids from
    2**-45 to 2**33, 1..255 steps, float32 and float64, and off-grid weights."""
    from spikebench.backends.sparse_cpu import _int8_scale_search, int8_scale

    rng = np.random.default_rng(0)
    cases = [np.array([2.0**30]), np.array([2.0**-40]), np.array([2.0**-39]), np.array([3 * 2.0**24]),
             np.array([127 * 2.0**24]), np.array([2.0**-45, 2.0**-38]), np.array([2.0**25, 2.0**26])]
    for e in range(-45, 35, 3):
        for k in (1, 2, 7, 64, 127, 128, 255):
            for dt in (np.float64, np.float32):
                cases += [(rng.integers(-k, k + 1, 50) * m * 2.0**e).astype(dt) for m in (1, 2)]
    cases += [rng.normal(size=20).astype(np.float32) for _ in range(50)]
    got = [int8_scale(c) for c in cases]
    assert got == [_int8_scale_search(c) for c in cases]
    assert 0.0 < min(g for g in got if g) and sum(g == 0.0 for g in got) > 50  # both outcomes exercised


def test_simulate_prepares_a_network_once(monkeypatch):
    """A loop over samples through the public call prepares the network once (issue 13): the prepared
    form is kept with the network; another network is prepared for itself; a pickled copy carries none."""
    import pickle

    from spikebench.backends import sparse_cpu

    built = []
    real = sparse_cpu.PreparedNetwork.build.__func__

    def counting(cls, network, **kw):
        built.append(network)
        return real(cls, network, **kw)

    monkeypatch.setattr(sparse_cpu.PreparedNetwork, "build", classmethod(counting))
    net = sb.Network.random(sizes=[40, 20, 5], recurrent=[False, False], seed=3)
    spikes = sb.random_spikes(samples=2, timesteps=30, n_in=40, density=0.1, seed=1)
    first = sb.simulate(net, spikes, backend="sparse-cpu")
    again = [sb.simulate(net, spikes, backend="sparse-cpu") for _ in range(3)]
    assert built == [net]
    assert all(r.counts == first.counts for r in again)
    assert first.prepare_s > 0 and all(r.prepare_s < first.prepare_s for r in again)
    for r in [first, *again]:  # wall_time_s is the whole call: preparing plus simulating, and more
        assert r.wall_time_s >= r.prepare_s + r.run_s and r.run_s > 0
    other = sb.Network.random(sizes=[40, 20, 5], recurrent=[False, False], seed=4)
    sb.simulate(other, spikes, backend="sparse-cpu")
    assert built == [net, other]
    copy = pickle.loads(pickle.dumps(net))
    assert "_derived" not in copy.__dict__ and copy.content_hash() == net.content_hash()
    sb.simulate(copy, spikes, backend="sparse-cpu")
    assert len(built) == 3
