"""Contract over convolutional networks: every registered backend gives the reference kernel's spikes and
EventCounts exactly, on conv layers with padding, stride, dilation, groups, sum/avg/max pooling of currents,
sum pooling of input spikes, flatten into dense layers, and current-based (CubaLIF) and IF neurons.

Weights are multiples of 2**-4 (small integers over 16) and pooling windows powers of two, so float32
sums are exact in any order; the counts are also checked against the one counting rule (each input
spike costs its column's expanded connections), computed here from the recorded rasters.
"""

from __future__ import annotations

import numpy as np
import pytest

import spikebench as sb
from spikebench.backends import BACKENDS
from spikebench.core.connectivity import Pool2d

REFERENCE = "sparse-cpu"
NAMES = sorted(n for n in BACKENDS if getattr(BACKENDS[n], "float_semantics", "snntorch") == "snntorch")


def _k(rng, shape, scale=16):
    return (rng.integers(-5, 9, size=shape) / scale).astype(np.float32)


def conv(rng, c_in, c_out, k, in_shape, name, *, bias=True, **kw):
    cg = c_in // kw.get("groups", 1)
    return sb.Layer(weight=_k(rng, (c_out, cg, k, k)), bias=_k(rng, (c_out,), 64) if bias else None, in_shape=in_shape,
                    name=name, **kw)


def dense(rng, n_in, n_out, name, **kw):
    return sb.Layer(weight=_k(rng, (n_out, n_in), 32), name=name, **kw)


def case(name: str, seed: int = 0) -> sb.Network:
    rng = np.random.default_rng(seed)
    if name == "pad-stride-flatten":
        c1 = conv(rng, 2, 4, 3, (2, 12, 12), "c1", stride=2, padding=1, beta=0.5)          # -> 4x6x6
        return sb.Network(layers=(c1, dense(rng, 144, 5, "d")), name=name)
    if name == "avgpool-two-convs":
        c1 = conv(rng, 2, 4, 3, (2, 14, 14), "c1", pool=Pool2d("avg", 2), beta=0.75)       # -> 4x6x6
        c2 = conv(rng, 4, 6, 3, (4, 6, 6), "c2", padding=1, pool=Pool2d("sum", 2), reset="zero")  # -> 6x3x3
        return sb.Network(layers=(c1, c2, dense(rng, 54, 4, "d")), name=name)
    if name == "maxpool-currents":
        c1 = sb.Layer(weight=_k(rng, (4, 2, 5, 5), 32) - 0.0625, bias=np.full(4, -0.25, np.float32), in_shape=(2, 16, 16),
                      pool=Pool2d("max", 2), beta=0.875, name="c1")                             # -> 4x6x6
        c2 = sb.Layer(weight=_k(rng, (4, 4, 3, 3), 8), in_shape=(4, 6, 6),
                      pool=Pool2d("max", 2, 1), beta=0.5, name="c2")                          # overlapping windows
        return sb.Network(layers=(c1, c2, dense(rng, 4 * 3 * 3, 3, "d")), name=name)
    if name == "groups-dilation":
        c1 = conv(rng, 4, 8, 3, (4, 11, 11), "c1", groups=2, dilation=2, padding=2, bias=False)  # -> 8x11x11
        c2 = conv(rng, 8, 8, 1, (8, 11, 11), "c2", groups=8, stride=(2, 3))                      # depthwise 1x1
        return sb.Network(layers=(c1, c2, dense(rng, 8 * 6 * 4, 5, "d")), name=name)
    if name == "sumpool-input-if":  # Sinabs-style: IF neurons, spikes sum-pooled before the next conv
        c1 = conv(rng, 2, 4, 3, (2, 12, 12), "c1", padding=1, beta=1.0, reset="zero")       # -> 4x12x12
        c2 = conv(rng, 4, 4, 3, (4, 12, 12), "c2", pool_in=Pool2d("sum", 2), beta=1.0, reset="zero")  # 6x6 -> 4x4x4
        d = sb.Layer(weight=_k(rng, (3, 16), 32), in_shape=(4, 4, 4), pool_in=Pool2d("avg", 2), beta=1.0, name="d")
        return sb.Network(layers=(c1, c2, d), name=name)
    if name == "cubalif-conv-and-recurrent":
        c1 = conv(rng, 2, 4, 3, (2, 10, 10), "c1", pool=Pool2d("avg", 2), alpha=0.5, beta=0.75)  # -> 4x4x4
        r = sb.Layer(weight=_k(rng, (6, 64), 32), recurrent_weight=_k(rng, (6, 6), 32), alpha=0.75, beta=0.5,
                     reset="zero", name="r")
        return sb.Network(layers=(c1, r, dense(rng, 6, 3, "d", alpha=0.25)), name=name)
    raise KeyError(name)


CASES = ("pad-stride-flatten", "avgpool-two-convs", "maxpool-currents", "groups-dilation", "sumpool-input-if",
         "cubalif-conv-and-recurrent")


def spikes_for(net: sb.Network, seed: int = 0) -> sb.SpikeTrain:
    return sb.random_spikes(5, 30, net.n_in, 0.2, seed=seed + 100)


@pytest.mark.parametrize("backend", NAMES)
@pytest.mark.parametrize("name", CASES)
def test_conv_backends_agree_exactly(backend, name):
    net = case(name)
    spikes = spikes_for(net)
    ref = sb.simulate(net, spikes, backend=REFERENCE, record=True)
    other = sb.simulate(net, spikes, backend=backend, record=True)
    for layer in ref.counts.layers:  # not vacuous: every layer spikes, not always
        assert 0 < layer.spikes_out < layer.neuron_updates, (name, layer)
    for a, b in zip(ref.layer_spikes, other.layer_spikes, strict=True):
        np.testing.assert_array_equal(a, b)
    assert ref.counts == other.counts
    assert ref.counts.to_dict()["layers"] == other.counts.to_dict()["layers"]


@pytest.mark.parametrize("name", CASES)
def test_conv_events_follow_the_counting_rule(name):
    """Each layer's events = sum over its input spikes of that input's expanded fan-out (+ recurrent)."""
    net = case(name)
    spikes = spikes_for(net)
    ref = sb.simulate(net, spikes, backend=REFERENCE, record=True)
    pre = spikes.counts_per_channel()
    for layer, lc, raster in zip(net.layers, ref.counts.layers, ref.layer_spikes, strict=True):
        expected = int(pre @ layer.fan_out_nonzero())
        if layer.recurrent:
            delivered = raster[:, :-1].sum(axis=(0, 1), dtype=np.int64)
            expected += int(delivered @ layer.recurrent_fan_out_nonzero())
        assert lc.synaptic_events == expected, layer.name
        assert (lc.kind, lc.in_shape, lc.out_shape) == (layer.kind, tuple(layer.in_shape), tuple(layer.out_shape))
        assert lc.weights == layer.weights and lc.synapses == layer.synapses
        pre = raster.sum(axis=(0, 1), dtype=np.int64)


def test_border_effects_change_events_not_just_positions():
    """A spike in the corner of a padded 3x3 conv reaches 4 outputs, one in the middle 9."""
    k = np.ones((1, 1, 3, 3), np.float32) / 4
    net = sb.Network(layers=(sb.Layer(weight=k, in_shape=(1, 5, 5), padding=1, name="c"),))
    raster = np.zeros((2, 3, 25), np.uint8)
    raster[0, 0, 0] = 1          # corner (0, 0)
    raster[1, 0, 12] = 1         # centre (2, 2)
    for backend in NAMES:
        r = sb.simulate(net, raster, backend=backend)
        assert r.counts.synaptic_events == 4 + 9, backend
