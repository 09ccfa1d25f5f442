"""Convolutions on each chip: synapse memory with and without weight sharing, what cannot be mapped,
dense MACs of the reference rows, and dense layers estimating exactly as before conv support."""

from __future__ import annotations

import math

import numpy as np
import pytest

from spikebench.core import EventCounts, LayerCounts
from spikebench.hardware_models import CHIPS, NetworkProfile, get_chip
from spikebench.hardware_models.conv import PoolSpec, geometry


def conv_counts(*, name="c", c_in=2, h=16, w=16, c_out=4, k=(3, 3), s=(1, 1), p=(0, 0), d=(1, 1), groups=1,
                pool=None, pool_in=None, weights=None, fan_in_max=None, synapses=None, neuron="lif", weight_bits=8,
                samples=1, T=10, spikes_in=200, se=2000, spikes_out=50, extra_layers=()) -> EventCounts:
    """One conv layer (plus ``extra_layers``), its output shape from the geometry."""
    pi = PoolSpec.of(pool_in)
    hi, wi = (h, w) if pi is None else ((h - pi.kernel[0]) // pi.stride[0] + 1, (w - pi.kernel[1]) // pi.stride[1] + 1)
    ho, wo = ((n + 2 * pp - dd * (kk - 1) - 1) // ss + 1 for n, kk, ss, pp, dd in zip((hi, wi), k, s, p, d))
    if pool is not None:
        ps = PoolSpec.of(pool)
        ho, wo = (ho - ps.kernel[0]) // ps.stride[0] + 1, (wo - ps.kernel[1]) // ps.stride[1] + 1
    n_out = c_out * ho * wo
    kernel = c_out * (c_in // groups) * k[0] * k[1]
    layer = LayerCounts(name=name, kind="conv2d", n_in=c_in * h * w, n_out=n_out, spikes_in=spikes_in,
                        synaptic_events=se, neuron_updates=samples * T * n_out, spikes_out=spikes_out,
                        synapses=synapses if synapses is not None else n_out * (c_in // groups) * k[0] * k[1],
                        fan_in_max=fan_in_max if fan_in_max is not None else (c_in // groups) * k[0] * k[1],
                        weight_bits=weight_bits, in_shape=(c_in, h, w), out_shape=(c_out, ho, wo), kernel=k,
                        stride=s, padding=p, dilation=d, groups=groups, pool=pool, pool_in=pool_in,
                        weights=kernel if weights is None else weights, neuron=neuron)
    return EventCounts(layers=(layer, *extra_layers), samples=samples, timesteps=T, timestep_s=1e-3)


def est(chip, counts):
    return get_chip(chip).estimate(NetworkProfile.from_counts(counts), counts)


def synapse_bits(chip, counts):
    return get_chip(chip).mapping(NetworkProfile.from_counts(counts)).extra["synapse_bits"]


# ---- weight sharing ------------------------------------------------------------------------------------

def test_loihi2_stores_the_kernel_loihi_one_copy_per_border_pattern():
    """2 -> 4 channels, 3x3, stride 1, no padding, 16x16 input: 14x14 outputs per channel (one core each).
    Kernel: 4 x 2 x 9 = 72 weights at 8 bits. Loihi 2 keeps it once: 576 bits. Loihi (nengo-loihi's
    population weights) keeps one synapse list per border pattern: along an axis the input rows reach
    kernel rows {0}, {0,1}, {0,1,2} (interior), {1,2}, {2}: 1 + 2 + 3 + 2 + 1 = 9 taps for 3, i.e. x3 per
    axis, x9 in all: 5,184 bits. The expansion would be 196 x 4 x 18 = 14,112 synapses (112,896 bits)."""
    c = conv_counts()
    assert synapse_bits("loihi2", c) == (72 * 8,)
    assert synapse_bits("loihi", c) == (72 * 9 * 8,)
    assert synapse_bits("loihi", c)[0] == 9 * synapse_bits("loihi2", c)[0]
    assert synapse_bits("truenorth", c) == (14 * 14 * 4 * 18,)  # every synapse in the crossbars
    assert synapse_bits("spinnaker2", c) == synapse_bits("akida", c) == (72 * 8,)
    for chip in ("loihi", "loihi2", "spinnaker2", "akida"):
        assert synapse_bits(chip, c)[0] < 14 * 14 * 4 * 18 * 8


def test_border_factor_by_hand():
    # same padding (1): rows reach {0,1} (first), {0,1,2}, {1,2} (last): 7 taps for 3 per axis
    g = geometry(in_shape=(1, 8, 8), out_shape=(1, 8, 8), kernel=(3, 3), stride=(1, 1), padding=(1, 1),
                 dilation=(1, 1), groups=1, pool=None, pool_in=None)
    assert (g.rows.mask_taps, g.rows.taps) == (7, 3) and g.border_factor == pytest.approx(49 / 9)
    # stride 2, 3x3, no padding, 9 rows -> 4 outputs: rows 0,1 reach {0},{1}; even interior rows {2,0}; 8 -> {2}
    g = geometry(in_shape=(1, 9, 9), out_shape=(1, 4, 4), kernel=(3, 3), stride=(2, 2), padding=(0, 0),
                 dilation=(1, 1), groups=1, pool=None, pool_in=None)
    assert g.rows.n_out == 4 and g.rows.mask_taps == 1 + 1 + 2 + 1  # {0}, {1}, {0,2}, {2}


def test_sum_pooling_folds_into_the_stored_kernel_on_loihi2_not_on_akida():
    """3x3 conv then 2x2 sum pooling (stride 2): the effective kernel is 4x4 (offsets 0..3 per axis), so a
    chip without pooling hardware stores 16/9 of the kernel; SpiNNaker 2 (software) keeps the 3x3 kernel."""
    c = conv_counts(pool={"kind": "sum", "kernel": [2, 2], "stride": [2, 2]}, se=1000)
    assert synapse_bits("loihi2", c) == (math.ceil(72 * 16 / 9) * 8,)
    assert synapse_bits("spinnaker2", c) == (72 * 8,)


def test_a_channel_spanning_cores_replicates_its_kernel():
    # 1 -> 2 channels, 3x3 over 100x100: 98 x 98 = 9,604 neurons per channel > 8,192 per Loihi 2 core: 2 copies
    c = conv_counts(c_in=1, c_out=2, h=100, w=100, se=5000)
    assert synapse_bits("loihi2", c) == (2 * 9 * 2 * 8,)
    assert synapse_bits("spinnaker2", c) == (2 * 9 * math.ceil(9604 / 1024) * 8,)


# ---- feasibility -----------------------------------------------------------------------------------------

def test_truenorth_refuses_a_conv_fan_in_above_256_and_names_layer_and_limit():
    c = conv_counts(name="conv3", c_in=12, c_out=8, k=(5, 5), h=12, w=12, fan_in_max=300)
    e = est("truenorth", c)
    assert not e.feasible
    why = [r for r in e.reasons if "conv3" in r and "300" in r]
    assert why and "256" in why[0] and "partial" in why[0]
    assert math.isfinite(e.energy_j.nominal) and e.cores >= 1
    # the same fan-in on a dense layer is still split into partial neurons and merged (as before)
    d = EventCounts(layers=(LayerCounts(name="fc", kind="dense", n_in=300, n_out=20, spikes_in=10, synaptic_events=200,
                                        neuron_updates=200, spikes_out=3, synapses=6000, fan_in_max=300),),
                    samples=1, timesteps=10, timestep_s=1e-3)
    assert est("truenorth", d).feasible


def test_truenorth_tiles_a_conv_layer_within_256_axons():
    # 2 channels, 3x3: a tile of th x tw outputs reads 2 (th+2)(tw+2) inputs <= 256 and holds <= 256 neurons
    c = conv_counts()
    e = est("truenorth", c)
    assert e.feasible
    tiled = [r for r in e.reasons if "tiled" in r]
    assert tiled, e.reasons
    th, tw = (int(v) for v in tiled[0].split("tiled ")[1].split(" ")[0].split("x"))
    co = int(tiled[0].split("positions x ")[1].split(" ")[0])
    assert 2 * (th + 2) * (tw + 2) <= 256 and th * tw * co <= 256


@pytest.mark.parametrize("chip, feasible", [("loihi", False), ("loihi2", False), ("truenorth", False),
                                            ("spinnaker2", True), ("cpu", True), ("gpu", True)])
def test_max_pooling_of_currents(chip, feasible):
    c = conv_counts(c_in=2, c_out=4, h=12, w=12, k=(3, 3), p=(1, 1),
                    pool={"kind": "max", "kernel": [2, 2], "stride": [2, 2]})
    e = est(chip, c)
    assert e.feasible is feasible
    if not feasible:
        assert any("max pooling" in r and "c:" in r for r in e.reasons)


def test_akida_native_max_pooling_and_its_limits():
    # input layer: 3x3 same, stride 1, max 2x2/2: native; a 4x4 max pool is not
    ok = conv_counts(c_in=2, h=16, w=16, p=(1, 1), pool={"kind": "max", "kernel": [2, 2], "stride": [2, 2]},
                     weight_bits=4)
    assert est("akida", ok).feasible
    bad = conv_counts(c_in=2, h=16, w=16, p=(1, 1), pool={"kind": "max", "kernel": [4, 4], "stride": [4, 4]},
                      weight_bits=4)
    e = est("akida", bad)
    assert not e.feasible and any("max-pools" in r for r in e.reasons)


def test_akida_conv_limits_name_the_rule():
    first = LayerCounts(name="in", kind="dense", n_in=8, n_out=512, spikes_in=5, synaptic_events=50,
                        neuron_updates=5120, spikes_out=10, synapses=4096)
    # a non-input Convolutional layer must pad 'same'; dilation and groups have no Akida 1.0 layer
    c = conv_counts(name="c2", c_in=2, h=16, w=16, d=(2, 2), groups=2, c_out=4, weight_bits=4)
    c = EventCounts(layers=(first, c.layers[0]), samples=1, timesteps=10, timestep_s=1e-3)
    e = est("akida", c)
    assert not e.feasible
    text = " ".join(e.reasons)
    assert "c2: padding 0x0" in text and "same" in text and "dilation 2x2" in text and "groups=2" in text


def test_cubalif_and_neuron_models():
    c = conv_counts(neuron="cubalif")
    tn = est("truenorth", c)
    assert not tn.feasible and any("CubaLIF" in r and "membrane potential" in r for r in tn.reasons)
    for chip in ("loihi", "loihi2", "spinnaker2", "cpu"):
        assert est(chip, c).feasible, chip
    ak = est("akida", conv_counts(neuron="cubalif", p=(1, 1), weight_bits=4))
    assert ak.feasible and any("CubaLIF" in r for r in ak.reasons)


# ---- reference rows --------------------------------------------------------------------------------------

@pytest.mark.parametrize("chip, e_op", [("cpu", 70e-12), ("gpu", 4.6e-12)])
def test_reference_dense_macs_of_a_conv_layer(chip, e_op):
    """4 -> 6 channels, groups 2, kernel 3x5, stride (2, 1), padding (1, 2) over 10 x 12: the conv output is
    5 x 12, so dense MACs per step = C_out Ho Wo (C_in/groups) kh kw = 6 x 5 x 12 x 2 x 15 = 10,800 (not
    n_in n_out = 480 x 360); the weights read per step are the kernel, 6 x 2 x 15 = 180."""
    c = conv_counts(c_in=4, c_out=6, groups=2, h=10, w=12, k=(3, 5), s=(2, 1), p=(1, 2), T=7)
    lp = NetworkProfile.from_counts(c).layers[0]
    assert lp.out_shape == (6, 5, 12) and lp.dense_macs() == 6 * 5 * 12 * (4 // 2) * 3 * 5 == 10_800
    e = est(chip, c)
    ops = 7 * (10_800 + 360)
    assert e.energy_dynamic_j.nominal == pytest.approx(ops * e_op + 7 * 180 * 4 * 12.5e-12, rel=1e-12)


def test_reference_counts_pooling_ops():
    c = conv_counts(pool={"kind": "avg", "kernel": [2, 2], "stride": [2, 2]}, T=5)
    lp = NetworkProfile.from_counts(c).layers[0]
    assert lp.dense_macs() == 4 * 14 * 14 * 2 * 9 and lp.pool_ops() == 4 * 7 * 7 * 4


# ---- dense layers: exactly as before conv support ----------------------------------------------------------

def _dense_docs(schema: str) -> dict[str, dict]:
    """The fixtures the pinned numbers below were computed on (before conv support), as counts files."""
    def lay(name, kind, n_in, n_out, si, se, so, samples, T, **kw):
        d = {"name": name, "kind": kind, "n_in": n_in, "n_out": n_out, "spikes_in": si, "synaptic_events": se,
             "neuron_updates": samples * T * n_out, "spikes_out": so, **kw}
        if schema.endswith("/2"):  # the same layers with the geometry a schema /2 writer adds to dense layers
            d.update(in_shape=[n_in], out_shape=[n_out], neuron="lif")
            if "synapses" in kw:
                d["weights"] = kw["synapses"]
        return d
    return {
        "dense3": {"schema": schema, "samples": 4, "timesteps": 25, "timestep_s": 1e-3, "layers": [
            lay("h", "dense", 784, 300, 5000, 5000 * 250, 900, 4, 25, synapses=784 * 250, fan_in_max=700,
                weight_bits=8),
            lay("r", "recurrent", 300, 100, 900, 900 * 90 + 300 * 50, 120, 4, 25, synapses=300 * 100 + 100 * 100,
                fan_in_max=400, weight_bits=4),
            lay("o", "dense", 100, 10, 120, 1200, 30, 4, 25)]},
        "big": {"schema": schema, "samples": 2, "timesteps": 50, "timestep_s": 1e-3, "layers": [
            lay("a", "dense", 2000, 600, 10000, 10000 * 600, 3000, 2, 50, synapses=2000 * 600, fan_in_max=2000,
                weight_bits=2),
            lay("b", "dense", 600, 10, 3000, 30000, 40, 2, 50, weight_bits=16)]},
    }


# (fixture, chip): (cores, chips, feasible, number of reasons, energy_dynamic_j / energy_static_j / latency_s
# as low, nominal, high), from the chip models before conv support (commit b9ad3f7); TrueNorth's dynamic
# energy as corrected in issue 14 (routing counted once).
BEFORE = {
    ("big", "akida"): (4, 1, True, 1, (4.43205e-05, 7.74855e-05, 8.17065e-05, 0.00141328125, 0.001554265510948905, 0.003404605263157895, 0.012732263513513514, 0.013754562043795618, 0.02960526315789474)),
    ("big", "cpu"): (1, 1, True, 0, (0.0005790203, 0.007238135000000001, 0.5972322999999999, 0.0, 0.0, 0.0, 0.0006033049999999999, 0.00603305, 0.0603305)),
    ("big", "gpu"): (1, 1, True, 0, (0.00045594607999999994, 0.0032925203000000003, 0.0808635505, 0.10704138053525641, 0.26816208856410256, 0.5328229698974358, 0.001000386733974359, 0.0025061877435897436, 0.004006187743589743)),
    # Loihi static since issue 14: one chip is charged the single-chip board's 29 mW, not the 32-chip average
    ("big", "loihi"): (4, 1, True, 1, (7.3399645e-05, 7.365254999999999e-05, 0.000109533855, 0.00029249371, 0.000339494145, 0.00048481159999999996, 0.00320015, 0.0036001500000000003, 0.004907)),
    ("big", "loihi2"): (4, 1, True, 1, (4.5225e-05, 8.7435e-05, 9.29205e-05, 0.00011760000000000001, 0.00023200000000000003, 0.000342, 0.0007, 0.001, 0.001)),
    # SpiNNaker 2 since issue 14: dense layers on the MAC array where cheaper than their events on the ARM,
    # intervals at one operating point (0.5 V) instead of spanning 0.5-0.8 V
    ("big", "spinnaker2"): (4, 1, True, 0, (3.50986125e-05, 4.6798150000000005e-05, 7.780037500000001e-05, 0.0020375000000000002, 0.0039700000000000004, 0.0059025000000000015, 0.05, 0.05, 0.05)),
    # TrueNorth dynamic energy since issue 14: on-chip routing is inside e_SE (no per-hop term on top);
    # static low since issue 14: 48 mW (the 0.8 V point's band) instead of 42 mW (now the 0.70 V operating point)
    ("big", "truenorth"): (71, 1, True, 4, (5.2267499999999996e-06, 6.969e-06, 8.711249999999999e-06, 0.00012337920000000003, 0.003456, 0.00432, 0.0025704000000000005, 0.054, 0.054)),
    ("dense3", "akida"): (4, 1, False, 2, (4.9509599999999994e-06, 8.65576e-06, 9.12728e-06, 0.000157875, 0.00017362408759124086, 0.0003803220738413197, 0.0014222972972972973, 0.0015364963503649634, 0.0033071484681853887)),
    ("dense3", "cpu"): (1, 1, True, 0, (6.633514999999999e-05, 0.0008293175, 0.06844765, 0.0, 0.0, 0.0, 6.91525e-05, 0.000691525, 0.0069152499999999995)),
    ("dense3", "gpu"): (1, 1, True, 0, (5.222804e-05, 0.00037706015, 0.00926002525, 0.08025474315224358, 0.20070089043589742, 0.3990943311025641, 0.000750044328525641, 0.0018757092564102562, 0.003000709256410256)),
    # Loihi static since issue 14: one chip is charged the single-chip board's 29 mW, not the 32-chip average
    ("dense3", "loihi"): (4, 1, True, 0, (8.697310943903905e-06, 8.78127593163024e-06, 1.2789669381630243e-05, 4.7649105000000005e-05, 5.505469750000001e-05, 7.960810000000002e-05, 0.0005213250000000001, 0.0005838250000000002, 0.0008057500000000003)),
    ("dense3", "loihi2"): (4, 1, True, 0, (5.052e-06, 9.7672e-06, 1.093425e-05, 1.8375e-05, 3.625e-05, 5.3437500000000005e-05, 0.00010937499999999999, 0.00015625, 0.00015625)),
    ("dense3", "spinnaker2"): (4, 1, True, 0, (6.58513125e-06, 8.780175e-06, 1.74621875e-05, 0.0010187500000000001, 0.0019850000000000002, 0.0029512500000000007, 0.025, 0.025, 0.025)),
    ("dense3", "truenorth"): (21, 1, True, 6, (5.852924999999999e-07, 7.8039e-07, 9.754875e-07, 6.854400000000001e-05, 0.00192, 0.0024, 0.0014280000000000002, 0.03, 0.03)),
}


@pytest.mark.parametrize("schema", ["spikebench.counts/1", "spikebench.counts/2"])
@pytest.mark.parametrize("fixture, chip", sorted(BEFORE))
def test_dense_layers_estimate_exactly_as_before(schema, fixture, chip):
    counts = EventCounts.from_dict(_dense_docs(schema)[fixture], origin=fixture)
    e = est(chip, counts)
    cores, chips, feasible, n_reasons, nums = BEFORE[(fixture, chip)]
    assert (e.cores, e.chips, e.feasible, len(e.reasons)) == (cores, chips, feasible, n_reasons)
    # the constants' intervals (before the interval rule of regime.py widens them)
    got = [getattr(e.constants_interval(q), end) for q in ("energy_dynamic_j", "energy_static_j", "latency_s")
           for end in ("low", "nominal", "high")]
    assert got == pytest.approx(nums, rel=1e-12, abs=0)
    assert not any(a.startswith("conv layers") for a in e.assumptions)


# ---- a simulated conv network, end to end --------------------------------------------------------------

def test_simulated_conv_network_estimates_on_every_chip():
    import spikebench as sb
    from spikebench.core.connectivity import Pool2d

    rng = np.random.default_rng(0)
    kern = lambda *shape: (rng.integers(-4, 5, size=shape) / 8).astype(np.float32)  # noqa: E731
    net = sb.Network(layers=[
        sb.Layer(weight=kern(4, 2, 3, 3), in_shape=(2, 12, 12), padding=1, pool=Pool2d("sum", 2), name="c1",
                 weight_bits=4),
        sb.Layer(weight=kern(10, 4 * 6 * 6), name="fc", weight_bits=4),
    ])
    counts = sb.simulate(net, sb.random_spikes(1, 5, 2 * 12 * 12, 0.1, seed=1)).counts
    profile = NetworkProfile.from_counts(counts)
    c1 = profile.layers[0]
    assert c1.is_conv and c1.kernel_weights == int(np.count_nonzero(net.layers[0].weight))
    assert c1.synapses == net.layers[0].synapses
    for chip in CHIPS:
        e = get_chip(chip).estimate(profile, counts)
        assert math.isfinite(e.energy_j.nominal) and e.energy_j.nominal > 0, chip
