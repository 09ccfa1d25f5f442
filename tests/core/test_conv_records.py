"""Convolutional and pooled layers: geometry, the one expansion (checked against torch), counts schema /2."""

from __future__ import annotations

import json

import numpy as np
import pytest

import spikebench as sb
from spikebench.core.connectivity import Pool2d
from spikebench.core.counts import SCHEMA, layer_counts

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _kernel(shape, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.integers(-8, 8, size=shape) / 16).astype(np.float32)


def _torch_currents(layer: sb.Layer, x: np.ndarray) -> np.ndarray:
    """The layer's currents for one input, computed by torch (independent of the expansion)."""
    t = torch.from_numpy(x.reshape(1, *layer.in_shape))
    if layer.pool_in is not None:
        p = layer.pool_in
        t = F.avg_pool2d(t, p.kernel, p.stride, divisor_override=1 if p.kind == "sum" else None)
    b = None if layer.bias is None else torch.from_numpy(np.array(layer.bias))
    t = F.conv2d(t, torch.from_numpy(np.array(layer.weight)), b, stride=layer.stride, padding=layer.padding,
                 dilation=layer.dilation, groups=layer.groups)
    if layer.pool is not None:
        p = layer.pool
        if p.kind == "max":
            t = F.max_pool2d(t, p.kernel, p.stride)
        else:
            t = F.avg_pool2d(t, p.kernel, p.stride, divisor_override=1 if p.kind == "sum" else None)
    return t.numpy().ravel()


@pytest.mark.parametrize("pool", [None, Pool2d("sum", 2), Pool2d("avg", 2), Pool2d("max", 2), Pool2d("max", 3, 1)])
@pytest.mark.parametrize("pool_in", [None, Pool2d("sum", 2)])
def test_expansion_equals_torch_conv_and_pooling(pool, pool_in):
    layer = sb.Layer(weight=_kernel((6, 2, 3, 3)), bias=_kernel((6,), 1), in_shape=(4, 16, 14), stride=(2, 1),
                     padding=1, dilation=(1, 2), groups=2, pool=pool, pool_in=pool_in, name="c")
    rng = np.random.default_rng(3)
    for _ in range(3):
        x = (rng.random(layer.n_in) < 0.3).astype(np.float32)
        e = layer.expansion()
        cur = e.dense() @ x
        if e.pool_index is not None:
            cur = cur[e.pool_index].max(axis=1)
        np.testing.assert_array_equal(cur + layer.neuron_bias(), _torch_currents(layer, x))
    assert layer.n_out == int(np.prod(_torch_currents(layer, x).shape))


def test_border_positions_are_not_events():
    """A 3x3 kernel of ones on a 1x3x3 input: without padding each input reaches 1 output; with padding
    1 the centre reaches 9 outputs, a corner 4 and an edge 6 (positions outside the map are not events)."""
    k = np.ones((1, 1, 3, 3), np.float32)
    valid = sb.Layer(weight=k, in_shape=(1, 3, 3), name="v")
    same = sb.Layer(weight=k, in_shape=(1, 3, 3), padding=1, name="s")
    np.testing.assert_array_equal(valid.fan_out_nonzero(), np.ones(9))
    np.testing.assert_array_equal(same.fan_out_nonzero().reshape(3, 3), [[4, 6, 4], [6, 9, 6], [4, 6, 4]])
    assert (same.synapses, same.weights, same.profile()["fan_in_max"]) == (49, 9, 9)
    k[0, 0, 1, 1] = 0.0  # a zero tap is no synapse and no event
    hole = sb.Layer(weight=k, in_shape=(1, 3, 3), padding=1, name="h")
    assert hole.fan_out_nonzero().reshape(3, 3)[1, 1] == 8 and hole.weights == 8


def test_stride_and_groups_geometry():
    layer = sb.Layer(weight=np.ones((4, 1, 2, 2), np.float32), in_shape=(2, 6, 6), stride=2, groups=2, name="g")
    assert layer.out_shape == (4, 3, 3) and layer.kind == "conv2d"
    # with groups=2, channel 0 feeds output channels 0-1 only: 2 outputs per input pixel (stride 2, 2x2: one window)
    np.testing.assert_array_equal(layer.fan_out_nonzero(), np.full(72, 2))


def test_network_flattens_between_conv_and_dense_but_refuses_reshapes():
    c1 = sb.Layer(weight=_kernel((3, 2, 3, 3)), in_shape=(2, 8, 8), pool=Pool2d("sum", 2), name="c1")
    assert c1.out_shape == (3, 3, 3)
    d = sb.Layer(weight=np.ones((5, 27), np.float32), name="d")
    net = sb.Network(layers=(c1, d))
    assert net.in_shape == (2, 8, 8) and net.sizes == [128, 27, 5] and net.convolutional
    c2 = sb.Layer(weight=_kernel((1, 3, 1, 1)), in_shape=(3, 1, 9), name="c2")
    with pytest.raises(sb.InvalidNetworkError, match="only flattening between layers is supported"):
        sb.Network(layers=(c1, c2))


def test_bad_pooling_is_refused():
    with pytest.raises(sb.InvalidNetworkError, match="max pooling of spikes"):
        sb.Layer(weight=np.ones((2, 9), np.float32), in_shape=(1, 6, 6), pool_in=Pool2d("max", 2), name="m")
    with pytest.raises(sb.InvalidNetworkError, match="larger than its"):
        sb.Layer(weight=np.ones((1, 1, 3, 3), np.float32), in_shape=(1, 4, 4), pool=Pool2d("sum", 3), name="p")
    with pytest.raises(sb.InvalidNetworkError, match="unknown pooling kind 'min'"):
        Pool2d("min", 2)
    with pytest.raises(sb.InvalidNetworkError, match="follows a convolution"):
        sb.Layer(weight=np.ones((2, 3), np.float32), pool=Pool2d("sum", 2), name="d")


def test_cubalif_and_if_neurons_are_named():
    w = np.ones((2, 3), np.float32)
    assert sb.Layer(weight=w, alpha=0.5, name="a").neuron == "cubalif"
    assert sb.Layer(weight=w, beta=1.0, name="b").neuron == "if"
    with pytest.raises(sb.InvalidNetworkError, match="alpha must lie in"):
        sb.Layer(weight=w, alpha=1.5, name="c")


def test_content_hash_follows_parameters_not_names():
    a = sb.Network.random(sizes=(10, 4, 2), seed=1, name="x")
    b = sb.Network.random(sizes=(10, 4, 2), seed=1, name="y")
    c = sb.Network.random(sizes=(10, 4, 2), seed=2, name="x")
    assert a.content_hash() == b.content_hash() != c.content_hash()
    assert len(a.content_hash()) == 12


def _conv_counts(layer: sb.Layer) -> sb.EventCounts:
    lc = layer_counts(layer, spikes_in=10, synaptic_events=10 * int(layer.fan_out_nonzero().max()),
                      neuron_updates=2 * 5 * layer.n_out, spikes_out=7)
    return sb.EventCounts(layers=(lc,), samples=2, timesteps=5, timestep_s=1e-3)


def test_counts_v2_round_trip_keeps_geometry(tmp_path):
    layer = sb.Layer(weight=_kernel((4, 2, 3, 3)), in_shape=(2, 10, 10), stride=2, padding=1,
                     pool=Pool2d("max", 2), name="c1", weight_bits=8)
    c = _conv_counts(layer)
    path = tmp_path / "c.json"
    c.to_json(path)
    doc = json.loads(path.read_text())
    assert doc["schema"] == SCHEMA == "spikebench.counts/2"
    l0 = doc["layers"][0]
    assert (l0["kind"], l0["in_shape"], l0["out_shape"], l0["kernel"], l0["stride"], l0["padding"]) == (
        "conv2d", [2, 10, 10], [4, 2, 2], [3, 3], [2, 2], [1, 1])
    assert l0["pool"] == {"kind": "max", "kernel": [2, 2], "stride": [2, 2]} and l0["weights"] == np.count_nonzero(layer.weight) == 64
    back = sb.EventCounts.from_json(path)
    assert back == c and back.layers[0].n_targets == 4 * 5 * 5  # events of a max-pooled layer reach pre-pool positions


def test_counts_v1_files_are_still_read(tmp_path):
    doc = {"schema": "spikebench.counts/1", "samples": 1, "timesteps": 2, "timestep_s": 0.001,
           "layers": [{"name": "h", "kind": "dense", "n_in": 4, "n_out": 3, "spikes_in": 2, "synaptic_events": 6,
                       "neuron_updates": 6, "spikes_out": 1, "synapses": 12, "fan_in_max": 4, "weight_bits": 8}]}
    path = tmp_path / "v1.json"
    path.write_text(json.dumps(doc))
    c = sb.EventCounts.from_json(path)
    assert c.layers[0].synapses == 12 and c.layers[0].in_shape is None and c.layers[0].kernel is None
    doc["layers"][0]["kernel"] = [3, 3]  # /2 fields are not part of /1
    path.write_text(json.dumps(doc))
    with pytest.raises(sb.FileFormatError, match="unknown field.*kernel.*spikebench.counts/1 allows"):
        sb.EventCounts.from_json(path)
    doc["layers"][0].pop("kernel")
    doc["layers"][0]["kind"] = "conv2d"
    path.write_text(json.dumps(doc))
    with pytest.raises(sb.FileFormatError, match="conv2d needs schema spikebench.counts/2"):
        sb.EventCounts.from_json(path)


def test_conv_counts_missing_geometry_is_refused():
    layer = sb.Layer(weight=_kernel((4, 2, 3, 3)), in_shape=(2, 10, 10), name="c1")
    doc = _conv_counts(layer).to_dict()
    del doc["layers"][0]["kernel"]
    with pytest.raises(sb.FileFormatError, match="conv2d layer but lacks kernel"):
        sb.EventCounts.from_dict(doc, origin="c.json")
