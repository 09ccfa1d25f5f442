"""sparse-cpu runs deployed (integer) networks in the chip's own arithmetic, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from integer_reference import simulate_reference

from spikebench import simulate
from spikebench.core import IntegerNeurons, Layer, Network, SpikeTrain
from spikebench.core.counts import count_from_rasters
from spikebench.core.errors import InvalidNetworkError


def integer_network(sizes, recurrent=None, *, seed=0, mant=120, vth=(40, 400), reset="zero", bias=(-30, 30),
                    du=(1, 4096), dv=(0, 600), w_exp=0, r_exp=0, even=True, act_shift=6, state_bits=24):
    rng = np.random.default_rng(seed)
    recurrent = recurrent or [False] * (len(sizes) - 1)
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        w = rng.integers(-mant, mant + 1, (b, a))
        if even:
            w = w // 2 * 2
        w[rng.random(w.shape) < 0.3] = 0
        rec = (rng.integers(-mant, mant + 1, (b, b)) // 2 * 2) if recurrent[i] else None
        it = IntegerNeurons(n=b, du=rng.integers(du[0], du[1] + 1, b), dv=rng.integers(dv[0], dv[1] + 1, b),
                            bias=rng.integers(bias[0], bias[1] + 1, b), vth=rng.integers(vth[0], vth[1] + 1, b) * 64,
                            reset=reset, weight_exp=w_exp, recurrent_exp=r_exp, act_shift=act_shift,
                            state_bits=state_bits)
        layers.append(Layer(weight=w, recurrent_weight=rec, integer=it, name=f"l{i}"))
    return Network(layers=tuple(layers), name="int")


def raster(B, T, n, p, seed=1):
    return (np.random.default_rng(seed).random((B, T, n)) < p).astype(np.uint8)


CASES = {
    "dense": dict(sizes=(40, 30, 10)),
    "recurrent": dict(sizes=(30, 25, 6), recurrent=[True, False]),
    "deep-exp": dict(sizes=(50, 40, 30, 5), w_exp=-2, r_exp=1),
    "excitatory-255": dict(sizes=(20, 12, 4), mant=255, even=False),
    "subtract": dict(sizes=(30, 20, 5), reset="subtract", dv=(0, 0), du=(4096, 4096), act_shift=0, state_bits=20,
                     vth=(1, 5)),
    # drive hard so the 24-bit current wraps and the voltage saturates
    "overflow": dict(sizes=(200, 8), mant=254, w_exp=7, du=(1, 1), dv=(0, 0), vth=(131000, 131071)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_kernel_matches_reference_bit_for_bit(case):
    net = integer_network(**CASES[case], seed=hash(case) % 1000)
    x = raster(3, 25, net.n_in, 0.3 if case != "overflow" else 0.9)
    res = simulate(net, SpikeTrain.from_dense(x, timestep_s=1e-3), backend="sparse-cpu", record=True)
    ref = simulate_reference(net, x)
    assert res.output_spikes.shape == (3, 25 + len(net.layers), net.n_out)
    for got, want in zip(res.layer_spikes, ref):
        np.testing.assert_array_equal(got, want)
    assert sum(r.sum() for r in ref) > 0
    padded = np.zeros((3, 25 + net.drain_steps, net.n_in), np.uint8)
    padded[:, :25] = x
    expect = count_from_rasters(net, padded, ref, timestep_s=1e-3)
    for a, b in zip(res.counts.layers, expect.layers):
        assert (a.spikes_in, a.synaptic_events, a.neuron_updates, a.spikes_out) == \
               (b.spikes_in, b.synaptic_events, b.neuron_updates, b.spikes_out)
    if case == "overflow":  # the wrap and the clip were reached
        from spikebench.core.fixed_point import reference_step  # noqa: F401
        assert res.counts.layers[0].spikes_out > 0


def test_input_arrives_one_step_late_per_layer():
    """One input spike at step 0 on a 1-1-1 chain with weights that fire at once: layer k spikes at step k+1."""
    it = IntegerNeurons(n=1, du=4096, dv=4096, vth=64, reset="zero")
    layer = lambda n: Layer(weight=np.array([[2.0]]), integer=it, name=n)
    net = Network(layers=(layer("a"), layer("b"), layer("c")))
    x = np.zeros((1, 4, 1), np.uint8)
    x[0, 0, 0] = 1
    res = simulate(net, SpikeTrain.from_dense(x, timestep_s=1e-3), backend="sparse-cpu", record=True)
    assert [np.flatnonzero(r[0, :, 0]).tolist() for r in res.layer_spikes] == [[1], [2], [3]]
    assert res.counts.timesteps == 7


def test_mixed_float_and_integer_layers_refused():
    it = IntegerNeurons(n=3, du=4096, dv=100, vth=64)
    with pytest.raises(InvalidNetworkError, match="every layer or none"):
        Network(layers=(Layer(weight=np.ones((3, 4)), integer=it, name="a"), Layer(weight=np.ones((2, 3)), name="b")))


def test_integer_layer_needs_integer_weights():
    with pytest.raises(InvalidNetworkError, match="integer mantissas"):
        Layer(weight=np.full((3, 4), 0.5), integer=IntegerNeurons(n=3, du=4096, dv=100, vth=64))


def test_sums_beyond_float32_exactness_refused():
    w = np.full((2, 600), 30000.0)
    net = Network(layers=(Layer(weight=w, integer=IntegerNeurons(n=2, du=4096, dv=0, vth=64)),))
    with pytest.raises(InvalidNetworkError, match="2\\*\\*24"):
        simulate(net, SpikeTrain.from_dense(raster(1, 3, 600, 0.5), timestep_s=1e-3), backend="sparse-cpu")


def test_integer_networks_do_not_pass_for_float_ones(tmp_path):
    net = integer_network((8, 4))
    with pytest.raises(InvalidNetworkError, match="integer arithmetic"):
        simulate(net, SpikeTrain.from_dense(raster(1, 3, 8, 0.5), timestep_s=1e-3), backend="snntorch")
    with pytest.raises(InvalidNetworkError, match="integer arithmetic"):
        net.to_nir(tmp_path / "x.nir")
    assert not (tmp_path / "x.nir").exists()
    assert net.drain_steps == 1 and net.integer
    float_net = Network.random((8, 4))
    assert float_net.drain_steps == 0 and not float_net.integer


def test_conv_with_sum_pooling_runs_in_integers():
    """An integer conv layer (sum-pooled) takes the scatter path; it equals the reference on its expansion."""
    from spikebench.core.connectivity import Pool2d

    rng = np.random.default_rng(5)
    k = (rng.integers(-40, 41, (4, 2, 3, 3)) // 2 * 2).astype(np.float32)
    conv = Layer(weight=k, in_shape=(2, 8, 8), pool=Pool2d(kind="sum", kernel=2, stride=2),
                 integer=IntegerNeurons(n=4 * 3 * 3, du=3000, dv=300, vth=640), name="c")
    dense = Layer(weight=(rng.integers(-60, 61, (5, 36)) // 2 * 2), integer=IntegerNeurons(n=5, du=4096, dv=200, vth=256),
                  name="d")
    net = Network(layers=(conv, dense))
    x = raster(2, 12, net.n_in, 0.3, seed=9)
    res = simulate(net, SpikeTrain.from_dense(x, timestep_s=1e-3), backend="sparse-cpu", record=True)
    ref = simulate_reference(net, x)
    for got, want in zip(res.layer_spikes, ref):
        np.testing.assert_array_equal(got, want)
    assert ref[0].sum() > 0 and ref[1].sum() > 0
