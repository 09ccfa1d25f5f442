"""Contract: every registered backend gives the reference kernel's output spikes and EventCounts, exactly.

Parametrised over ``spikebench.backends.BACKENDS`` (scikit-learn's ``parametrize_with_checks`` pattern):
a backend is checked the moment it is registered. The reference is ``sparse-cpu``; it is held to the
same result contract as the others (its agreement with itself is trivial, its counts are checked
against the shared counting rule on its own recorded rasters).

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
from spikebench.backends import BACKENDS

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


REFERENCE = "sparse-cpu"
NAMES = sorted(n for n in BACKENDS if getattr(BACKENDS[n], "float_semantics", "snntorch") == "snntorch")


@pytest.mark.parametrize("backend", NAMES)
@pytest.mark.parametrize("case", sorted(CASES))
def test_backend_agrees_with_the_reference_exactly(backend, case):
    net, spikes = build(case)
    ref = sb.simulate(net, spikes, backend=REFERENCE, record=True)
    other = sb.simulate(net, spikes, backend=backend, record=True)
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


@pytest.mark.parametrize("backend", NAMES)
def test_result_contract(backend):
    net, spikes = build("rec-subtract-sparse-w")
    plain = sb.simulate(net, spikes, backend=backend)
    rec = sb.simulate(net, spikes, backend=backend, record=True)
    assert plain.backend == backend and plain.device == "cpu" and plain.wall_time_s >= 0
    assert plain.layer_spikes is None
    assert plain.output_spikes.dtype == np.uint8
    assert plain.output_spikes.shape == (spikes.samples, spikes.timesteps, net.n_out)
    np.testing.assert_array_equal(plain.output_spikes, rec.output_spikes)
    np.testing.assert_array_equal(rec.layer_spikes[-1], rec.output_spikes)
    assert plain.counts == rec.counts
    assert plain.counts.samples == spikes.samples and plain.counts.timesteps == spikes.timesteps
    assert plain.counts.timestep_s == spikes.timestep_s
    assert plain.counts.source["backend"] == backend


@pytest.mark.parametrize("backend", NAMES)
def test_samples_are_independent(backend):
    net, spikes = build("rec-zero-deep", seed=3)
    whole = sb.simulate(net, spikes, backend=backend)
    parts = [sb.simulate(net, spikes.select([i]), backend=backend) for i in range(spikes.samples)]
    np.testing.assert_array_equal(np.concatenate([p.output_spikes for p in parts]), whole.output_spikes)
    total = parts[0].counts
    for p in parts[1:]:
        total = total + p.counts
    assert total == whole.counts


@pytest.mark.parametrize("backend", NAMES)
def test_missing_device_is_a_one_line_error(backend):
    net, spikes = build("ff-subtract")
    with pytest.raises(sb.BackendUnavailableError, match=r"^[^\n]*cuda:97[^\n]*$"):
        sb.simulate(net, spikes, backend=backend, device="cuda:97")


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
@pytest.mark.parametrize("backend", [b for b in NAMES if b != REFERENCE])
def test_property_random_networks_agree(backend, sizes, flags, reset, prob, density, timesteps, seed):
    rec = flags[: len(sizes) - 1]
    net = sb.Network.random(sizes=sizes, recurrent=rec, seed=seed, reset=reset, connection_prob=prob,
                            weight_std=[3.0 / np.sqrt(n) for n in sizes[:-1]])
    spikes = sb.random_spikes(3, timesteps, sizes[0], density, seed=seed)
    a = sb.simulate(net, spikes, record=True)
    b = sb.simulate(net, spikes, backend=backend, record=True)
    for x, y in zip(a.layer_spikes, b.layer_spikes):
        np.testing.assert_array_equal(x, y)
    assert a.counts == b.counts


def test_snntorch_batching_does_not_change_results():
    net, spikes = build("rec-subtract-sparse-w")
    one = sb.simulate(net, spikes, backend="snntorch", batch_size=4)  # 6 samples: a ragged last batch
    two = sb.simulate(net, spikes, backend="snntorch", batch_size=64)
    np.testing.assert_array_equal(one.output_spikes, two.output_spikes)
    assert one.counts == two.counts
