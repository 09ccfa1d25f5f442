"""Backend ``lava``: bit-exact against a numpy reference of the Loihi integer step, sample isolation,
clear errors, and the float mode on a hand case. Skips cleanly without the Lava environment
(``make lava-env``); every run starts Lava's OS processes, so the cases are few and small.

``requires_lava`` and ``reference_run`` are meant for reuse (e.g. the agreement test against
``sparse-cpu``'s integer mode).
"""

from __future__ import annotations

import numpy as np
import pytest

import spikebench as sb
from spikebench.backends import lava_backend
from spikebench.backends.lava_backend import LavaBackend, LavaRunError, lava_available
from spikebench.core.connectivity import Pool2d
from spikebench.core.counts import count_from_rasters
from spikebench.core.fixed_point import IntegerNeurons, reference_step, shift

requires_lava = pytest.mark.skipif(not lava_available(), reason="no Lava environment (make lava-env, or set "
                                                                 "SPIKEBENCH_LAVA_ENV to a venv with lava-nc 0.10)")


# ---- the reference: spikebench.core.fixed_point.reference_step, layer by layer -------------------------

def synapse_matrix(layer) -> np.ndarray:
    """int64 ``(n_out, n_in)``: the layer's integer synapses (the expansion for conv/pooled layers)."""
    if layer.plain:
        return np.asarray(layer.weight).astype(np.int64)
    exp = layer.expansion()
    w = np.zeros((exp.n_targets, layer.n_in), np.int64)
    w[exp.rows, np.repeat(np.arange(layer.n_in), np.diff(exp.colptr))] = exp.values
    return w


def reference_run(network: sb.Network, spikes: sb.SpikeTrain, *, stats: dict | None = None) -> list[np.ndarray]:
    """Per layer a uint8 ``(samples, T + L, n)`` raster of a deployed network, from ``reference_step``: the input
    of layer k at step t is ``shift(W @ s_{k-1}[t-1], weight_exp) + shift(R @ s_k[t-1], recurrent_exp)``.
    ``stats`` (optional) collects whether a current wrapped and a voltage clipped."""
    L = len(network.layers)
    B, T = spikes.samples, spikes.timesteps
    P = T + network.drain_steps
    assert network.drain_steps == L
    dense = np.zeros((B, P, network.n_in), np.int64)
    dense[:, :T] = spikes.to_dense()
    out = []
    prev = dense
    for layer in network.layers:
        it: IntegerNeurons = layer.integer
        W = synapse_matrix(layer)
        R = None if layer.recurrent_weight is None else np.asarray(layer.recurrent_weight).astype(np.int64)
        half = 2 ** (it.state_bits - 1)
        raster = np.zeros((B, P, layer.n_out), np.uint8)
        for b in range(B):
            u = np.zeros(layer.n_out, np.int64)
            v = np.zeros(layer.n_out, np.int64)
            for t in range(P):
                a = np.zeros(layer.n_out, np.int64)
                if t:
                    a = shift(W @ prev[b, t - 1], it.weight_exp)
                    if R is not None:
                        a = a + shift(R @ raster[b, t - 1].astype(np.int64), it.recurrent_exp)
                if stats is not None:
                    raw = (np.sign(u * (4096 - it.du)) * (np.abs(u * (4096 - it.du)) >> 12)) + (a << it.act_shift)
                    stats["wrapped"] = stats.get("wrapped", False) or bool(np.any(np.abs(raw) >= half))
                u, v, s = reference_step(it, u, v, a)
                if stats is not None:
                    stats["clipped"] = stats.get("clipped", False) or bool(np.any(np.abs(v) == half - 1))
                raster[b, t] = s
        out.append(raster)
        prev = raster.astype(np.int64)
    return out


# ---- seeded integer networks -----------------------------------------------------------------------

def neurons(rng, n, *, weight_exp=0, recurrent_exp=0, vth_max=300, bias_mag=40) -> IntegerNeurons:
    """Per-neuron du/dv/vth/bias in Loihi 2's registers (vth multiple of 64, bias = 13-bit mantissa << 0..3)."""
    return IntegerNeurons(n=n, du=rng.integers(1, 4097, n), dv=rng.integers(0, 4096, n),
                          vth=rng.integers(0, vth_max, n) * 64,
                          bias=rng.integers(-bias_mag, bias_mag, n) << rng.integers(0, 4, n),
                          reset="zero", weight_exp=weight_exp, recurrent_exp=recurrent_exp, act_shift=6, state_bits=24,
                          delay=1, arithmetic="loihi2-fixed")


def mixed(rng, shape, mag):
    return (rng.integers(-mag, mag + 1, shape) * 2).astype(np.float32)  # even: Lava's mixed-sign truncation


def dense_net(seed: int, sizes, recurrent=None, *, mag=40, weight_exp=0, recurrent_exp=0, vth_max=300,
              name="int-net") -> sb.Network:
    rng = np.random.default_rng(seed)
    recurrent = recurrent or [False] * (len(sizes) - 1)
    layers = []
    for k in range(len(sizes) - 1):
        n_in, n = sizes[k], sizes[k + 1]
        rec = mixed(rng, (n, n), mag // 2) if recurrent[k] else None
        layers.append(sb.Layer(weight=mixed(rng, (n, n_in), mag), recurrent_weight=rec, name=f"l{k + 1}",
                               integer=neurons(rng, n, weight_exp=weight_exp, recurrent_exp=recurrent_exp,
                                               vth_max=vth_max)))
    return sb.Network(layers=tuple(layers), name=name)


def hard_net(seed: int, n_in: int = 100, weight_exp: int = 5) -> sb.Network:
    """Drives layer 1 hard: weights up to +-254 shifted by ``weight_exp``, a recurrent matrix, thresholds up to
    Loihi's largest; layer 2 is an ordinary layer (so it spikes too)."""
    rng = np.random.default_rng(seed)
    l1 = sb.Layer(weight=mixed(rng, (16, n_in), 127), recurrent_weight=mixed(rng, (16, 16), 127), name="hard",
                  integer=neurons(rng, 16, weight_exp=weight_exp, recurrent_exp=3, vth_max=131071))
    l2 = sb.Layer(weight=mixed(rng, (4, 16), 60), name="out", integer=neurons(rng, 4, vth_max=100))
    return sb.Network(layers=(l1, l2), name="int-hard")


def conv_net(seed: int) -> sb.Network:
    """A sum-pooled conv layer (the Sparse path: its expanded map) into a dense layer."""
    rng = np.random.default_rng(seed)
    kern = (rng.integers(-10, 11, (3, 2, 3, 3)) * 2).astype(np.float32)
    c1 = sb.Layer(weight=kern, in_shape=(2, 8, 8), padding=1, pool=Pool2d(kind="sum", kernel=2), name="c1",
                  integer=neurons(rng, 3 * 4 * 4))
    d2 = sb.Layer(weight=mixed(rng, (5, 48), 40), name="d2", integer=neurons(rng, 5))
    return sb.Network(layers=(c1, d2), name="int-conv")


def assert_matches_reference(net, spikes, res, stats=None):
    ref = reference_run(net, spikes, stats=stats)
    T, L = spikes.timesteps, len(net.layers)
    assert res.output_spikes.shape == (spikes.samples, T + L, net.n_out)
    assert res.counts.timesteps == T + L and res.counts.samples == spikes.samples
    for k, (a, b) in enumerate(zip(ref, res.layer_spikes)):
        assert b.dtype == np.uint8
        np.testing.assert_array_equal(a, b, err_msg=f"layer {k}")
    # the comparison is not vacuous: every layer spikes, and not all the time
    for r in ref:
        assert 0 < r.sum() < r.size
    # counts: the one counting rule on the reference rasters (spikes of a sample's last step never arrive)
    padded = np.zeros((spikes.samples, T + L, net.n_in), np.uint8)
    padded[:, :T] = spikes.to_dense()
    want = count_from_rasters(net, padded, ref, timestep_s=spikes.timestep_s)
    assert res.counts == want


# ---- 1. bit-exact ----------------------------------------------------------------------------------

@requires_lava
@pytest.mark.parametrize("case", ["dense-3", "recurrent-2", "conv-sum-pool"])
def test_bit_exact_against_the_reference(case):
    if case == "dense-3":
        net = dense_net(1, [40, 30, 20, 6])
        spikes = sb.random_spikes(3, 25, 40, 0.15, seed=11)
    elif case == "recurrent-2":
        net = dense_net(2, [30, 24, 5], [True, False], recurrent_exp=-1)
        spikes = sb.random_spikes(3, 25, 30, 0.15, seed=12)
    else:
        net = conv_net(3)
        spikes = sb.random_spikes(2, 20, 128, 0.1, seed=13)
    res = LavaBackend().simulate(net, spikes, record=True)
    assert res.backend == "lava" and res.device == "cpu" and res.extra["mode"] == "fixed_pt"
    assert res.wall_time_s > 0 and res.extra["startup_s"] > 0
    assert_matches_reference(net, spikes, res)


@requires_lava
def test_bit_exact_when_currents_wrap_and_voltages_clip():
    # weights up to +-254 << 5 on 100 inputs: currents pass 2**23 and wrap, voltages reach -(2**23 - 1);
    # sum |W| << 5 exceeds 2**18, so the inputs that arrived are checked after the run (and pass)
    net = hard_net(4)
    assert not lava_backend.pack_fixed(net)[1]
    spikes = sb.random_spikes(2, 30, 100, 0.2, seed=14)
    res = LavaBackend().simulate(net, spikes, record=True)
    stats = {}
    assert_matches_reference(net, spikes, res, stats)
    assert stats == {"wrapped": True, "clipped": True}


@requires_lava
def test_inputs_beyond_int32_safety_are_an_error():
    net = hard_net(4, weight_exp=6)
    # every input with a positive weight onto neuron 0 spikes: its summed input exceeds 2**18
    excite = np.broadcast_to(net.layers[0].weight[0] > 0, (1, 3, 100)).astype(np.uint8)
    assert (net.layers[0].weight[0] * excite[0, 0]).sum() * 2**6 > 2**18
    with pytest.raises(sb.InvalidNetworkError, match=r"^[^\n]*2\*\*18[^\n]*$"):
        LavaBackend().simulate(net, sb.SpikeTrain.from_dense(excite))


# ---- 2. samples do not share state -----------------------------------------------------------------

@requires_lava
def test_samples_are_independent():
    net = dense_net(5, [30, 24, 5], [True, False], recurrent_exp=-1)
    spikes = sb.random_spikes(2, 20, 30, 0.2, seed=15)
    both = LavaBackend().simulate(net, spikes, record=True)
    for i in range(2):
        one = LavaBackend().simulate(net, spikes.select([i]), record=True)
        for a, b in zip(one.layer_spikes, both.layer_spikes):
            np.testing.assert_array_equal(a[0], b[i])
    assert not np.array_equal(both.layer_spikes[0][0], both.layer_spikes[0][1])


# ---- 3. clear errors -------------------------------------------------------------------------------

def test_missing_environment_is_a_one_line_error(monkeypatch, tmp_path):
    monkeypatch.setenv(lava_backend.ENV_VAR, str(tmp_path / "nowhere"))
    assert not lava_available()
    net = dense_net(1, [10, 4])
    with pytest.raises(sb.BackendUnavailableError, match=r"^[^\n]*make lava-env[^\n]*SPIKEBENCH_LAVA_PYTHON[^\n]*$"):
        LavaBackend().simulate(net, sb.random_spikes(1, 5, 10, 0.2))


def _replace_integer(net, **kw):
    import dataclasses

    layers = [dataclasses.replace(l, integer=dataclasses.replace(l.integer, **kw)) for l in net.layers]
    return sb.Network(layers=tuple(layers), name=net.name)


@pytest.mark.parametrize(("change", "needle"), [
    ({"act_shift": 4}, "act_shift 4"),
    ({"state_bits": 16}, "state_bits 16"),
    ({"reset": "subtract"}, "reset 'subtract'"),
    ({"vth": 100}, "multiple of 64"),
    ({"du": 0}, "du must be >= 1"),
    ({"dv": 4096}, "dv must be <= 4095"),
    ({"bias": 4097}, "bias 4097"),
])
def test_non_loihi_integer_networks_are_refused(change, needle):
    net = _replace_integer(dense_net(1, [10, 4]), **change)
    with pytest.raises(sb.InvalidNetworkError, match=r"^[^\n]*$") as err:
        LavaBackend().simulate(net, sb.random_spikes(1, 5, 10, 0.2))
    assert needle in str(err.value)


def test_exact_bias_mantissa_and_exponent():
    mant, exp = lava_backend._bias_pairs(np.array([0, 4095, -4096, 4095 * 2, 4095 << 7, -(4096 << 7), 3 << 9]), "x")
    np.testing.assert_array_equal(mant << exp, [0, 4095, -4096, 4095 * 2, 4095 << 7, -(4096 << 7), 3 << 9])
    assert mant.min() >= -4096 and mant.max() <= 4095 and exp.min() >= 0 and exp.max() <= 7
    with pytest.raises(sb.InvalidNetworkError):
        lava_backend._bias_pairs(np.array([4095 << 8]), "x")


@pytest.mark.parametrize(("weights", "needle"), [
    ([[3, -2]], "must be even"),            # mixed sign: Lava drops the lowest bit
    ([[256, -2]], "-256..254"),             # mixed sign: clipped at 255, then truncated
    ([[256, 2]], "0..255"),                 # excitatory
    ([[-256, -2]], "-255..0"),              # inhibitory
])
def test_weights_lava_would_change_are_refused(weights, needle):
    rng = np.random.default_rng(0)
    layer = sb.Layer(weight=np.array(weights, np.float32), name="l1", integer=neurons(rng, 1))
    net = sb.Network(layers=(layer,))
    with pytest.raises(sb.InvalidNetworkError, match=r"^[^\n]*clip or truncate[^\n]*$") as err:
        LavaBackend().simulate(net, sb.random_spikes(1, 5, 2, 0.5))
    assert needle in str(err.value)


def test_weights_lava_keeps_are_accepted():
    for w in ([[-256, 254, 0]], [[0, 255, 1]], [[-255, 0, -1]]):
        assert lava_backend._sign_mode_ok(np.array(w)) is None


def test_devices_modes_and_max_pooling():
    net = dense_net(1, [10, 4])
    spikes = sb.random_spikes(1, 5, 10, 0.2)
    with pytest.raises(sb.BackendUnavailableError, match=r"^[^\n]*cuda:97[^\n]*$"):
        LavaBackend().simulate(net, spikes, device="cuda:97")
    with pytest.raises(sb.InvalidNetworkError, match="floating_pt"):
        LavaBackend().simulate(net, spikes, mode="floating_pt")
    with pytest.raises(sb.UnknownNameError, match="bit_accurate"):
        LavaBackend().simulate(net, spikes, mode="bit_accurate")
    rng = np.random.default_rng(0)
    c = sb.Layer(weight=rng.normal(size=(2, 1, 3, 3)).astype(np.float32), in_shape=(1, 6, 6),
                 pool=Pool2d(kind="max", kernel=2), name="c")
    with pytest.raises(sb.InvalidNetworkError, match=r"^[^\n]*max pooling[^\n]*$"):
        LavaBackend().simulate(sb.Network(layers=(c,)), sb.random_spikes(1, 5, 36, 0.2))


@requires_lava
def test_worker_failure_and_timeout_are_one_line_errors():
    with pytest.raises(LavaRunError, match=r"^[^\n]*KeyError[^\n]*$"):
        lava_backend.run_worker({"mode": np.array("fixed_pt")}, timeout_s=120)
    net = dense_net(1, [10, 4])
    with pytest.raises(LavaRunError, match=r"^[^\n]*timeout[^\n]*$"):
        LavaBackend().simulate(net, sb.random_spikes(1, 5, 10, 0.2), timeout_s=0.05)


# ---- 4. the float mode -----------------------------------------------------------------------------

@requires_lava
def test_floating_point_hand_case():
    # one input, one IF-like neuron (beta 1 -> dv 0), threshold 1.5, weight 1: u = a_in (du = 1),
    # v accumulates; input spikes at steps 0, 1, 2 arrive at 1, 2, 3: v = 1, 2 > 1.5 -> spike at 2 (reset), 1
    layer = sb.Layer(weight=np.array([[1.0]], np.float32), beta=1.0, threshold=1.5, reset="zero", name="if")
    net = sb.Network(layers=(layer,))
    spikes = sb.SpikeTrain.from_dense(np.array([[[1], [1], [1], [0]]], np.uint8))
    res = LavaBackend().simulate(net, spikes, record=True)
    assert res.extra["mode"] == "floating_pt"
    np.testing.assert_array_equal(res.output_spikes[0, :, 0], [0, 0, 1, 0, 0])
    assert res.counts.layers[0].synaptic_events == 3 and res.counts.layers[0].spikes_out == 1


@requires_lava
def test_floating_point_shapes():
    net = with_alpha(sb.Network.random([20, 12, 3], [True, False], seed=2, weight_std=0.6))
    spikes = sb.random_spikes(2, 15, 20, 0.2, seed=3)
    res = LavaBackend().simulate(net, spikes, record=True)
    assert res.output_spikes.shape == (2, 17, 3) and res.output_spikes.dtype == np.uint8
    assert [r.shape for r in res.layer_spikes] == [(2, 17, 12), (2, 17, 3)]
    assert res.counts.timesteps == 17 and res.counts.layers[0].spikes_in == spikes.n_spikes
    assert res.counts.layers[1].spikes_in == res.layer_spikes[0][:, :-1].sum()  # the last step never arrives
    assert LavaBackend().simulate(net, spikes).layer_spikes is None


def with_alpha(net):
    import dataclasses

    first = dataclasses.replace(net.layers[0], alpha=0.5)
    return sb.Network(layers=(first, *net.layers[1:]), name=net.name)
