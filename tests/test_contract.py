"""Contract: every backend gives the reference kernel's output spikes and EventCounts, exactly.

Exactness is by construction: weights and biases lie on a dyadic grid (multiples of 2**-8 or
1/64), so float32 sums are exact in any summation order, and every backend applies the LIF
update in snnTorch's operation order. Nothing here compares "close enough".
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import spikebench as sb
from conftest import with_biases

CASES = {
    # name: (sizes, recurrent, reset, connection_prob, biases, input density)
    "ff-subtract": ([40, 30, 7], [False, False], "subtract", 1.0, False, 0.15),
    "rec-subtract-sparse-w": ([40, 30, 7], [True, False], "subtract", 0.5, True, 0.15),
    "rec-zero-deep": ([25, 33, 12, 5], [True, True, False], "zero", 0.3, True, 0.2),
    "narrow-then-wide-zero": ([64, 17, 40], [False, True], "zero", 1.0, False, 0.1),
    "ff-zero-bias": ([30, 50, 3], [False, False], "zero", 0.7, True, 0.1),
    "nmnist-like": ([2312, 100, 10], [False, False], "subtract", 1.0, False, 0.01),
}


def build(case: str, seed: int = 0) -> tuple[sb.Network, sb.SpikeTrain]:
    sizes, rec, reset, prob, biases, dens = CASES[case]
    net = sb.Network.random(sizes=sizes, recurrent=rec, seed=seed, reset=reset, connection_prob=prob,
                            weight_std=[3.0 / np.sqrt(n) for n in sizes[:-1]])
    if biases:
        net = with_biases(net, seed)
    spikes = sb.random_spikes(6, 40, sizes[0], dens, seed=seed + 100)
    return net, spikes


@pytest.mark.parametrize("case", sorted(CASES))
def test_sparse_cpu_and_snntorch_agree_exactly(case):
    net, spikes = build(case)
    ref = sb.simulate(net, spikes, backend="sparse-cpu", record=True)
    other = sb.simulate(net, spikes, backend="snntorch", record=True, batch_size=4)  # 6 samples: ragged batch
    # the comparison is not vacuous: every layer spikes, and not every neuron all the time
    for layer in ref.counts.layers:
        assert 0 < layer.spikes_out < layer.neuron_updates, (case, layer)
    if any(layer.synapses < layer.n_in * layer.n_out for layer in net.layers):
        # zero weights exist and must not count as synaptic events
        assert ref.counts.synaptic_events < sum(
            lc.spikes_in * lc.n_out + (lc.spikes_out * lc.n_out if lc.kind == "recurrent" else 0)
            for lc in ref.counts.layers)
    assert len(ref.layer_spikes) == len(other.layer_spikes) == len(net.layers)
    for a, b in zip(ref.layer_spikes, other.layer_spikes):
        assert a.dtype == b.dtype == np.uint8
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ref.output_spikes, other.output_spikes)
    assert ref.counts == other.counts
    assert ref.counts.to_dict()["layers"] == other.counts.to_dict()["layers"]


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


def test_recording_does_not_change_output():
    net, spikes = build("rec-subtract-sparse-w")
    plain = sb.simulate(net, spikes)
    rec = sb.simulate(net, spikes, record=True)
    assert plain.layer_spikes is None
    np.testing.assert_array_equal(plain.output_spikes, rec.output_spikes)
    np.testing.assert_array_equal(rec.layer_spikes[-1], rec.output_spikes)
    assert plain.counts == rec.counts


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
    assert back.to_dict()["schema"] == "spikebench.counts/1"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sizes=st.lists(st.integers(1, 40), min_size=2, max_size=4),
    flags=st.lists(st.booleans(), min_size=3, max_size=3),
    reset=st.sampled_from(["subtract", "zero"]),
    prob=st.sampled_from([0.2, 0.6, 1.0]),
    density=st.floats(0.0, 0.6),
    timesteps=st.integers(1, 12),
    seed=st.integers(0, 2**16),
)
def test_property_random_networks_agree(sizes, flags, reset, prob, density, timesteps, seed):
    rec = flags[: len(sizes) - 1]
    net = sb.Network.random(sizes=sizes, recurrent=rec, seed=seed, reset=reset, connection_prob=prob,
                            weight_std=[3.0 / np.sqrt(n) for n in sizes[:-1]])
    spikes = sb.random_spikes(3, timesteps, sizes[0], density, seed=seed)
    a = sb.simulate(net, spikes, record=True)
    b = sb.simulate(net, spikes, backend="snntorch", record=True, batch_size=2)
    for x, y in zip(a.layer_spikes, b.layer_spikes):
        np.testing.assert_array_equal(x, y)
    assert a.counts == b.counts


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
