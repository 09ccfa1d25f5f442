"""Numeric formats: deploy(chip, network) -> Deployed, per chip, on seeded and shipped networks."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from spikebench.core import bibliography as bib
from spikebench.core.connectivity import Pool2d
from spikebench.core.errors import InvalidNetworkError, UnknownNameError
from spikebench.core.fixed_point import reference_step, shift
from spikebench.core.network import Layer, Network
from spikebench.hardware_models import CHIPS, Deployed, deploy
from spikebench.hardware_models.numeric import FORMATS, loihi_bias_ok, pow2_mantissas, rounding_note, ternary_rows

# ---- networks ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped() -> dict[str, Network]:
    from spikebench.workloads import get_workload
    from spikebench.workloads.base import NETWORKS_DIR, load_network

    nets = {name: get_workload(name).reference_network() for name in ("nmnist", "shd", "ecg-anomaly")}
    nets["nmnist-csnn"] = load_network(NETWORKS_DIR / "nmnist-csnn.nir")
    return nets


def with_bias(net: Network, value: float = 2.0**-5) -> Network:
    return Network(layers=tuple(dataclasses.replace(lay, bias=np.full(lay.n_out, value)) for lay in net.layers),
                   name=net.name)


def if_net(seed: int = 0, recurrent=(False, False), reset: str = "subtract") -> Network:
    """A seeded IF network whose weights are 8-bit on a 2^-8 grid (|k| <= 127: exact on Loihi)."""
    net = Network.random((60, 24, 6), recurrent=recurrent, seed=seed, beta=1.0, reset=reset, weight_mean=0.02,
                         weight_std=(0.12, 0.15), recurrent_std=0.1, weight_bits=8, name="if")
    return with_bias(net)


def conv_net(pool: str = "avg", padding: int = 0, kernel: int = 3) -> Network:
    rng = np.random.default_rng(3)
    k = np.round(rng.normal(0, 0.3, (4, 2, kernel, kernel)) * 128) / 128
    conv = Layer(weight=k, in_shape=(2, 8, 8), padding=padding, pool=Pool2d(kind=pool, kernel=2), beta=0.9,
                 bias=np.full(4, 2.0**-6), weight_bits=8, name="conv")
    n = conv.n_out
    dense = Layer(weight=np.round(rng.normal(0, 0.2, (3, n)) * 256) / 256, beta=0.9, weight_bits=8, name="out")
    return Network(layers=(conv, dense), name=f"conv-{pool}")


def snapshot(net: Network) -> list[bytes]:
    out = []
    for lay in net.layers:
        for what in ("weight", "recurrent_weight", "bias", "recurrent_bias", "beta", "alpha", "threshold"):
            a = getattr(lay, what)
            out.append(b"-" if a is None else a.tobytes())
    return out


# ---- the record and the registry -------------------------------------------------------------------

def test_every_chip_deploys_and_names_itself():
    net = Network.random((20, 8, 3), seed=1)
    for name, chip in CHIPS.items():
        d = chip.deploy(net)
        assert isinstance(d, Deployed) and d.chip == name and d.source is net
        assert d.arithmetic and d.feasible == (d.network is not None)
        assert deploy(name, net).to_dict() == d.to_dict()  # pure and deterministic


def test_unknown_chip_and_bad_input_are_errors():
    net = Network.random((4, 2), seed=0)
    with pytest.raises(UnknownNameError):
        deploy("loihi3", net)
    with pytest.raises(InvalidNetworkError):
        deploy("loihi2", "not a network")
    deployed = deploy("loihi2", net).network
    with pytest.raises(InvalidNetworkError, match="already in a chip's arithmetic"):
        deploy("loihi2", deployed)


def test_record_validates_and_round_trips_notes():
    net = Network.random((6, 3), seed=0)
    with pytest.raises(InvalidNetworkError):
        Deployed(chip="x", network=None, source=net, feasible=True)
    with pytest.raises(InvalidNetworkError):
        Deployed(chip="x", network=None, source=net, feasible=False)  # no why
    for chip in ("loihi2", "akida", "truenorth"):
        d = deploy(chip, net)
        back = json.loads(json.dumps(d.to_dict()))
        assert tuple(back["notes"]) == d.notes and back["why"] == d.why and back["feasible"] == d.feasible
        assert back["source"]["hash"] == net.content_hash()


@pytest.mark.parametrize("chip", list(CHIPS))
def test_deploy_never_mutates_the_source(chip, shipped):
    for net in list(shipped.values()) + [if_net(recurrent=(True, False)), conv_net("max", padding=1)]:
        before, h = snapshot(net), net.content_hash()
        deploy(chip, net)
        assert snapshot(net) == before and net.content_hash() == h


def test_every_cited_key_is_in_the_bibliography(shipped):
    for chip, text in FORMATS.items():
        bib.check_keys(text, f"numeric format {chip}")
    for chip in CHIPS:
        for net in list(shipped.values()) + [if_net()]:
            d = deploy(chip, net)
            for text in (*d.notes, d.why):
                bib.check_keys(text, f"{chip} deploy note")
                assert "[@" not in bib.render_text(text)


# ---- shared quantisers -----------------------------------------------------------------------------

def test_mantissas_on_a_hand_made_matrix():
    w = np.array([[1.0, 0.5, 0.004, -0.003, 0.0]])
    q = pow2_mantissas(w, -128, 127)
    assert q.exp == -6 and q.k.tolist() == [[64, 32, 0, 0, 0]]
    assert (q.nonzero, q.zeroed, q.zeroed_pct, q.clipped) == (4, 2, 50.0, 0)
    assert "50.0 % of weights rounded to zero" in rounding_note("weights of l", q, "8-bit mantissa")
    exact = pow2_mantissas(np.array([3, -127, 64]) * 2.0**-9, -128, 127)
    assert exact.exp == -9 and exact.exact and "exact" in rounding_note("w", exact, "m")
    edge = pow2_mantissas(np.array([127.6, -3.0]), -128, 127)  # 127.6 rounds to 128: one step coarser
    assert edge.exp == 1 and edge.k.max() <= 127


def test_loihi2_reports_the_share_of_weights_rounded_to_zero():
    w = np.array([[1.0, 0.5, 0.004, -0.003], [0.25, -0.5, 0.0, 0.001]])  # 7 non-zero, 3 below half a step
    net = Network(layers=(Layer(weight=w, beta=0.9, name="hand"),), name="hand")
    d = deploy("loihi2", net)
    note = next(n for n in d.notes if n.startswith("weights of hand"))
    assert "42.9 % of weights rounded to zero" in note and "exponent -6" in note


def test_ternary_rows_is_l2_optimal_per_row():
    w = np.array([[0.9, -1.1, 0.1, 0.0], [0.0, 0.0, 0.0, 0.0], [0.5, 0.5, 0.5, -0.5]])
    t, a = ternary_rows(w)
    assert t.tolist() == [[1, -1, 0, 0], [0, 0, 0, 0], [1, 1, 1, -1]]
    assert a.tolist() == [1.0, 0.0, 0.5]


# ---- Loihi 2 / Loihi -------------------------------------------------------------------------------

def lava_ok(net: Network) -> None:
    """Lava's constraints on a Loihi-family deployment (lava-nc 0.10, PyLifModelBitAcc / PyDenseModelBitAcc)."""
    for lay in net.layers:
        it = lay.integer
        assert it.act_shift == 6 and it.state_bits == 24 and it.delay == 1 and it.reset == "zero"
        assert np.all(it.vth % 64 == 0) and np.all(it.vth // 64 <= 2**17 - 1) and np.all(it.vth > 0)
        assert np.all(it.du >= 1) and np.all(it.du <= 4096) and np.all(it.dv >= 0) and np.all(it.dv <= 4095)
        assert loihi_bias_ok(it.bias)
        for w in (lay.weight, lay.recurrent_weight):
            if w is None:
                continue
            assert np.array_equal(w, np.round(w))
            if w.min() < 0 < w.max():
                assert np.all(w % 2 == 0) and w.min() >= -256 and w.max() <= 254
            elif w.min() >= 0:
                assert w.max() <= 255
            else:
                assert w.min() >= -255


def test_loihi2_shipped_nmnist_weights_are_the_float_weights_times_a_power_of_two(shipped):
    src = shipped["nmnist"]
    d = deploy("loihi2", src)
    assert d.feasible and d.arithmetic == "loihi2-fixed" and d.changes_dynamics
    for lay, flt in zip(d.network.layers, src.layers):
        nz = flt.weight != 0
        ratio = np.unique(lay.weight[nz] / flt.weight[nz])
        assert ratio.size == 1 and float(np.log2(ratio[0])).is_integer()
        assert np.array_equal(lay.weight, flt.weight * ratio[0])
        assert lay.integer.vth.tolist() == [32768] * lay.n_out  # threshold 1 at the scale 2^15
    assert d.network.layers[0].integer.dv.tolist() == [205] * 128  # beta 0.95
    assert d.network.layers[1].integer.dv.tolist() == [410] * 10  # beta 0.9
    assert np.all(d.network.layers[0].integer.du == 4096)
    assert d.network.drain_steps == 2 and d.network.in_shape == (2312,)
    notes = " ".join(d.notes)
    assert "sets the voltage to zero" in notes and "subtracts the threshold" in notes and "T + 2 steps" in notes
    assert "exact" in next(n for n in d.notes if n.startswith("weights of lif1"))


def test_loihi2_meets_lavas_constraints(shipped):
    nets = list(shipped.values()) + [if_net(recurrent=(True, False)), with_bias(Network.random((50, 20, 4), seed=5)),
                                     conv_net("avg"), conv_net("sum")]
    for net in nets:
        d = deploy("loihi2", net)
        assert d.feasible, d.why
        lava_ok(d.network)
        # dense maps, or convolutions with the pooling folded into the kernel: never a pooled layer
        assert all(lay.pool is None and lay.pool_in is None and (lay.conv or lay.in_shape == (lay.n_in,))
                   for lay in d.network.layers)


@pytest.mark.parametrize("kind", ["avg", "sum"])
def test_loihi2_folded_conv_is_the_same_synapse_map(kind):
    """A conv + pooling layer deploys as a convolution with the pooling folded into its kernel; its synapses
    and spikes equal those of the same deployment held as a dense effective map."""
    import spikebench as sb
    from spikebench.hardware_models.numeric import effective_matrix

    d = deploy("loihi2", conv_net(kind)).network
    assert d.layers[0].conv and d.layers[0].pool is None
    flat = Network(layers=tuple(
        Layer(weight=effective_matrix(lay).astype(np.float32), integer=lay.integer, name=lay.name)
        for lay in d.layers))
    spikes = sb.random_spikes(3, 12, d.n_in, 0.3, seed=4)
    a = sb.simulate(d, spikes, record=True)
    b = sb.simulate(flat, spikes, record=True)
    for x, y in zip(a.layer_spikes, b.layer_spikes):
        np.testing.assert_array_equal(x, y)
    assert sum(x.sum() for x in a.layer_spikes) > 0
    assert a.counts.synaptic_events == b.counts.synaptic_events


def test_loihi_shares_loihi2s_format():
    net = if_net(recurrent=(True, False))
    a, b = deploy("loihi", net), deploy("loihi2", net)
    assert a.arithmetic == "loihi-fixed" and b.arithmetic == "loihi2-fixed"
    for x, y in zip(a.network.layers, b.network.layers):
        assert np.array_equal(x.weight, y.weight) and np.array_equal(x.recurrent_weight, y.recurrent_weight)
        for k in ("du", "dv", "bias", "vth", "weight_exp", "recurrent_exp"):
            assert np.array_equal(getattr(x.integer, k), getattr(y.integer, k))


def test_loihi2_recurrent_weights_keep_their_own_exponent(shipped):
    src = shipped["shd"]
    lay = deploy("loihi2", src).network.layers[0]
    scale = 2.0 ** (lay.integer.weight_exp + 6)
    rscale = 2.0 ** (lay.integer.recurrent_exp + 6)
    assert lay.integer.weight_exp != lay.integer.recurrent_exp
    assert np.array_equal(lay.weight * scale, src.layers[0].weight * 2.0**15)
    assert np.array_equal(lay.recurrent_weight * rscale, src.layers[0].recurrent_weight * 2.0**15)


def test_loihi2_decays_and_current_based_neurons():
    base = Network.random((10, 5), seed=2)
    cuba = Network(layers=(dataclasses.replace(base.layers[0], alpha=0.75, beta=0.9, bias=np.full(5, 2.0**-6)),),
                   name="cuba")
    d = deploy("loihi2", cuba)
    it = d.network.layers[0].integer
    assert it.du.tolist() == [1024] * 5 and it.dv.tolist() == [410] * 5
    scale = 2.0 ** next(int(n.split("2^")[1].split(" ")[0]) for n in d.notes if n.startswith("scale of"))
    assert np.all(it.bias == 2.0**-6 / 0.25 * scale)  # the bias moved to the voltage at its steady state
    assert any("steady-state value" in n for n in d.notes)
    stuck = Network(layers=(dataclasses.replace(cuba.layers[0], alpha=1.0),), name="stuck")
    bad = deploy("loihi2", stuck)
    assert not bad.feasible and "never decays" in bad.why


def test_loihi2_rounds_a_non_dyadic_threshold_and_says_so():
    net = Network(layers=(dataclasses.replace(Network.random((30, 4), seed=4).layers[0], threshold=0.7),), name="t")
    d = deploy("loihi2", net)
    lava_ok(d.network)
    note = next(n for n in d.notes if n.startswith("scale of"))
    assert "largest relative error" in note


def test_loihi2_max_pooling_is_infeasible():
    d = deploy("loihi2", conv_net("max", padding=1))
    assert not d.feasible and d.network is None and "max pooling" in d.why


def run_integer(net: Network, spikes: np.ndarray) -> np.ndarray:
    """Plain-numpy run of a deployed integer network (fixed_point.reference_step, one step of delay per
    layer): output spikes (T + drain_steps, n_out)."""
    steps = spikes.shape[0] + net.drain_steps
    inp = np.zeros((steps, net.n_in), bool)
    inp[: spikes.shape[0]] = spikes
    state = [(np.zeros(lay.n_out, np.int64), np.zeros(lay.n_out, np.int64)) for lay in net.layers]
    last = [np.zeros(lay.n_out, bool) for lay in net.layers]
    out = np.zeros((steps, net.n_out), bool)
    for t in range(steps):
        src = inp[t - 1] if t else np.zeros(net.n_in, bool)
        new_last = []
        for k, lay in enumerate(net.layers):
            it = lay.integer
            a = shift(lay.weight.astype(np.int64) @ src.astype(np.int64), it.weight_exp)
            if lay.recurrent_weight is not None:
                a = a + shift(lay.recurrent_weight.astype(np.int64) @ last[k].astype(np.int64), it.recurrent_exp)
            u, v, s = reference_step(it, *state[k], a)
            state[k] = (u, v)
            new_last.append(s)
            src = last[k]  # the next layer reads this layer's spikes of the previous step
        last = new_last
        out[t] = last[-1]
    return out


def run_float_if_zero(net: Network, spikes: np.ndarray) -> np.ndarray:
    """snnTorch Leaky with beta 1 and reset zero, in float64 (exact for dyadic weights)."""
    x = spikes.astype(np.float64)
    for lay in net.layers:
        mem = np.zeros(lay.n_out)
        spk = np.zeros(lay.n_out, bool)
        rows = []
        for t in range(x.shape[0]):
            mem = np.where(spk, 0.0, mem) + lay.weight.astype(np.float64) @ x[t] + lay.bias
            spk = mem > lay.threshold
            rows.append(spk.copy())
        x = np.array(rows, np.float64)
    return x.astype(bool)


def test_loihi2_reproduces_an_if_network_with_zero_reset_one_step_later_per_layer():
    net = if_net(seed=7, reset="zero")
    spikes = np.random.default_rng(0).random((40, net.n_in)) < 0.3
    want = run_float_if_zero(net, spikes)
    d = deploy("loihi2", net)
    assert all("exact" in n for n in d.notes if n.startswith(("weights of", "scale of")))
    got = run_integer(d.network, spikes)
    assert want.sum() > 20
    assert np.array_equal(got[len(net.layers):], want)  # the chip's output lags by one step per layer


# ---- TrueNorth ----------------------------------------------------------------------------------------

def test_truenorth_refuses_a_leak(shipped):
    for name, net in shipped.items():
        d = deploy("truenorth", net)
        assert not d.feasible and d.network is None, name
        assert "leak" in d.why and "beta" in d.why and "IF network" in d.why


def test_truenorth_deploys_an_if_network_with_trinary_weights():
    net = if_net(recurrent=(True, False))
    d = deploy("truenorth", net)
    assert d.feasible and d.arithmetic == "truenorth-int" and d.changes_dynamics
    for lay in d.network.layers:
        it = lay.integer
        assert (it.act_shift, it.state_bits, it.delay, it.weight_exp) == (0, 20, 1, 0)
        assert np.all(it.du == 4096) and np.all(it.dv == 0) and it.reset == "subtract"
        assert np.array_equal(it.reset_sub, it.vth + 1)  # linear reset subtracts alpha; spike at V >= alpha
        for w in (lay.weight, lay.recurrent_weight):
            if w is None:
                continue
            for row in w:
                mags = np.unique(np.abs(row[row != 0]))
                assert mags.size <= 1 and (mags.size == 0 or 1 <= mags[0] <= 255)  # one +-s_j per neuron
    notes = " ".join(d.notes)
    assert "trinary" in notes and "axon types 2/3" in notes and "linear reset" in notes
    assert "split over" not in notes  # at most 2 x (60 + 24) = 168 axons: one core
    wide = with_bias(Network.random((300, 20), seed=3, beta=1.0, weight_bits=8))
    split = next(n for n in deploy("truenorth", wide).notes if "split over" in n)
    assert "sums the split partial inputs exactly" in split and "merge" in split


def test_truenorth_refuses_current_state_and_max_pooling():
    base = if_net()
    cuba = Network(layers=(dataclasses.replace(base.layers[0], alpha=0.5), base.layers[1]), name="c")
    assert "CubaLIF" in deploy("truenorth", cuba).why
    pooled = conv_net("max", padding=1)
    pooled = Network(layers=tuple(dataclasses.replace(lay, beta=1.0) for lay in pooled.layers), name="p")
    assert "max pooling" in deploy("truenorth", pooled).why


# ---- Akida --------------------------------------------------------------------------------------------

def test_akida_refuses_recurrence(shipped):
    for name in ("shd", "ecg-anomaly"):
        d = deploy("akida", shipped[name])
        assert not d.feasible and "recurrent" in d.why
    assert "average" in deploy("akida", shipped["nmnist-csnn"]).why  # 2x2 avg pooling: global only on Akida 1.0


def test_akida_shipped_nmnist_is_stateless_with_4bit_weights(shipped):
    src = shipped["nmnist"]
    d = deploy("akida", src)
    assert d.feasible and d.arithmetic == "akida-int4" and d.changes_dynamics
    for lay, flt in zip(d.network.layers, src.layers):
        k = lay.weight
        assert np.array_equal(k, np.round(k)) and np.abs(k).max() <= 7 and lay.weight_bits == 4
        assert np.all(np.abs(k).max(axis=1) == 7)  # each neuron's largest weight is the top code
        step = np.abs(flt.weight).max(axis=1) / 7
        np.testing.assert_allclose(lay.threshold * step, flt.threshold, rtol=1e-6)
        assert np.all(lay.beta == 0) and lay.alpha is None and lay.reset == "zero"
    assert any("stateless" in n for n in d.notes)


def test_akida_keeps_a_convolution_with_max_pooling():
    d = deploy("akida", conv_net("max", padding=1))
    assert d.feasible, d.why
    conv = d.network.layers[0]
    assert conv.conv and conv.pool.kind == "max" and np.abs(conv.weight).max() <= 7
    assert np.all(np.abs(conv.weight).reshape(4, -1).max(axis=1) == 7)  # per output channel


# ---- SpiNNaker 2 ----------------------------------------------------------------------------------------

def test_spinnaker2_holds_8bit_integers_and_float32_state(shipped):
    src = shipped["nmnist"]
    d = deploy("spinnaker2", src)
    assert d.feasible and d.arithmetic == "spinnaker2-float32-w8" and not d.changes_dynamics
    for lay, flt in zip(d.network.layers, src.layers):
        assert np.array_equal(lay.weight * 2.0**-9, flt.weight) and np.abs(lay.weight).max() <= 127
        assert np.all(lay.threshold == 512) and lay.reset == "subtract" and np.array_equal(lay.beta, flt.beta)
    shd = deploy("spinnaker2", shipped["shd"])
    rec = shd.network.layers[0]
    assert np.abs(rec.weight).max() <= 127 and np.abs(rec.recurrent_weight).max() <= 127
    assert "rounded to zero" in next(n for n in shd.notes if n.startswith("weights of rlif1"))  # one step per layer
    assert "exact" in next(n for n in shd.notes if n.startswith("recurrent weights of rlif1"))


# ---- CPU / GPU -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("chip", ["cpu", "gpu"])
def test_reference_rows_run_the_network_as_trained(chip, shipped):
    d = deploy(chip, shipped["shd"])
    assert d.network is shipped["shd"] and d.notes == ("runs the float32 network as trained",)
    assert d.arithmetic == "float32" and d.feasible and not d.changes_dynamics
