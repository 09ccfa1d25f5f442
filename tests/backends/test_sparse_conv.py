"""sparse-cpu on convolutional, pooled and current-based layers, against an independent reference.

The reference below never touches the layer's expansion: currents come from ``torch.nn.functional``
(``conv2d``, ``avg_pool2d``, ``max_pool2d``) in float64 on dense rasters, the neurons are stepped in
numpy float32 in snnTorch's operation order, and a layer's events per input spike are the non-zero
entries of its synapse map measured by passing one-hot inputs through the same torch pipeline.
Weights are small multiples of 2**-4 and pooling windows powers of two where they average, so every
sum is exact in any order and the comparison is for equality.
"""

from __future__ import annotations

import numpy as np
import pytest

import spikebench as sb
from spikebench.core.connectivity import Pool2d
from spikebench.core.network import Layer, Network

torch = pytest.importorskip("torch")
F = torch.nn.functional

Q = 2.0**-4  # weight grid


# ---- reference --------------------------------------------------------------------------------


def _pool_t(x, pool: Pool2d):
    k, s = tuple(pool.kernel), tuple(pool.stride)
    if pool.kind == "max":
        return F.max_pool2d(x, k, s)
    if pool.kind == "avg":
        return F.avg_pool2d(x, k, s)
    return F.avg_pool2d(x, k, s, divisor_override=1)  # sum pooling


def _synapses(layer: Layer, x: np.ndarray, *, with_bias: bool, stop_before_max: bool = False) -> np.ndarray:
    """The layer's input map applied to rows of ``x`` (N, n_in) in float64: (N, targets)."""
    t = torch.from_numpy(np.asarray(x, np.float64))
    n = t.shape[0]
    if len(layer.in_shape) == 3:
        t = t.reshape(n, *layer.in_shape)
    if layer.pool_in is not None:
        t = _pool_t(t, layer.pool_in)
    w = torch.from_numpy(np.asarray(layer.weight, np.float64))
    b = None if (layer.bias is None or not with_bias) else torch.from_numpy(np.asarray(layer.bias, np.float64))
    if layer.weight.ndim == 4:
        t = F.conv2d(t, w, b, stride=layer.stride, padding=layer.padding, dilation=layer.dilation,
                     groups=layer.groups)
        if layer.pool is not None and not (stop_before_max and layer.pool.kind == "max"):
            t = _pool_t(t, layer.pool)
    else:
        t = t.reshape(n, -1) @ w.T
        if b is not None:
            t = t + b
    return t.reshape(n, -1).numpy()


def ref_fan_out(layer: Layer) -> np.ndarray:
    """Targets (neurons, or pre-pool positions under max pooling) reached by a spike on each input."""
    eye = np.eye(layer.n_in)
    return np.count_nonzero(_synapses(layer, eye, with_bias=False, stop_before_max=True), axis=1)


def ref_layer(layer: Layer, spk_in: np.ndarray):
    """(spikes (B, T, n_out) uint8, synaptic events) of one layer driven by spk_in (B, T, n_in)."""
    B, T, _ = spk_in.shape
    n = layer.n_out
    cur = _synapses(layer, spk_in.reshape(B * T, -1), with_bias=True).astype(np.float32).reshape(B, T, n)
    assert np.array_equal(cur.astype(np.float64),
                          _synapses(layer, spk_in.reshape(B * T, -1), with_bias=True).reshape(B, T, n)), "inexact"
    beta, thr = layer.beta, layer.threshold
    alpha = layer.alpha
    zero = layer.reset == "zero"
    one = np.float32(1.0)
    mem = np.zeros((B, n), np.float32)
    syn = np.zeros((B, n), np.float32)
    prev = np.zeros((B, n), np.float32)
    out = np.zeros((B, T, n), np.uint8)
    for t in range(T):
        r = (mem > thr).astype(np.float32)
        i = cur[:, t]
        rec = None
        if layer.recurrent:
            rb = 0.0 if layer.recurrent_bias is None else layer.recurrent_bias.astype(np.float64)
            rec = (prev.astype(np.float64) @ layer.recurrent_weight.T.astype(np.float64) + rb).astype(np.float32)
        if alpha is not None:
            s = alpha * syn + i
            if rec is not None:
                s = s + rec
            syn = s
            b = beta * mem + s
            mem = b - b * r if zero else b - r * thr
        elif rec is None:
            mem = beta * ((one - r) * mem) + i if zero else (beta * mem + i) - r * thr
        else:
            b = (beta * mem + i) + rec
            mem = b - r * b if zero else b - r * thr
        assert mem.dtype == np.float32
        spk = mem > thr
        out[:, t] = spk
        prev = spk.astype(np.float32)
    events = int((spk_in.reshape(B * T, -1).astype(np.int64) @ ref_fan_out(layer)).sum())
    if layer.recurrent:
        rec_fan = np.count_nonzero(layer.recurrent_weight, axis=0)
        events += int((out[:, :-1].reshape(-1, n).astype(np.int64) @ rec_fan).sum())
    return out, events


def ref_network(net: Network, raster: np.ndarray):
    spikes, events = [], []
    x = raster
    for layer in net.layers:
        x, ev = ref_layer(layer, x)
        spikes.append(x)
        events.append(ev)
    return spikes, events


# ---- networks ---------------------------------------------------------------------------------


def _w(rng, shape, lo=-3, hi=6):
    return (rng.integers(lo, hi, size=shape) * Q).astype(np.float32)


def _dense(rng, n_in, n_out, **kw):
    return Layer(weight=_w(rng, (n_out, n_in), -4, 7), **kw)


def make(case: str, seed: int = 0) -> tuple[Network, tuple[int, ...], float]:
    """(network, input shape, input density) of one named case."""
    rng = np.random.default_rng(seed)
    bias = lambda n: (rng.integers(-2, 3, size=n) * Q).astype(np.float32)  # noqa: E731
    if case == "pad-stride":
        c1 = Layer(weight=_w(rng, (4, 2, 3, 3)), bias=bias(4), in_shape=(2, 9, 9), stride=2, padding=1, beta=0.5,
                   name="c1")
        layers = [c1, _dense(rng, c1.n_out, 6, name="d")]
        return Network(layers=tuple(layers)), (2, 9, 9), 0.25
    if case == "dilation-groups-zero":
        c1 = Layer(weight=_w(rng, (6, 2, 3, 3)), bias=bias(6), in_shape=(4, 9, 9), padding=1, dilation=2, groups=2,
                   stride=(1, 2), beta=0.75, reset="zero", name="c1")
        layers = [c1, _dense(rng, c1.n_out, 5, reset="zero", name="d")]
        return Network(layers=tuple(layers)), (4, 9, 9), 0.2
    if case in ("pool-sum", "pool-avg", "pool-max"):
        kind = case.split("-")[1]
        c1 = Layer(weight=_w(rng, (3, 2, 3, 3)), bias=bias(3), in_shape=(2, 10, 10), padding=1,
                   pool=Pool2d(kind, 2), beta=0.5, threshold=2.0 if kind == "sum" else 1.0, name="c1")
        layers = [c1, _dense(rng, c1.n_out, 4, name="d")]
        return Network(layers=tuple(layers)), (2, 10, 10), 0.2
    if case == "pool-max-overlap":
        c1 = Layer(weight=_w(rng, (3, 2, 3, 3)), bias=bias(3), in_shape=(2, 9, 9), pool=Pool2d("max", 3, 1),
                   beta=0.9, name="c1")
        c2 = Layer(weight=_w(rng, (2, 3, 2, 2)), in_shape=c1.out_shape, pool=Pool2d("max", 2, 1), beta=0.5,
                   reset="zero", name="c2")
        return Network(layers=(c1, c2)), (2, 9, 9), 0.2
    if case == "pool-sum-cancel":
        # kernel [1, -1] then 2-wide sum pooling: odd columns cancel (zero effective weights, no events)
        k = np.array([1.0, -1.0], np.float32).reshape(1, 1, 1, 2) * np.float32(0.75)
        c1 = Layer(weight=k, in_shape=(1, 4, 9), pool=Pool2d("sum", (1, 2)), beta=0.5, threshold=0.5, name="c1")
        return Network(layers=(c1,)), (1, 4, 9), 0.3
    if case == "pool-in":
        d1 = Layer(weight=_w(rng, (12, 2 * 4 * 4), -3, 6), bias=bias(12), in_shape=(2, 8, 8), pool_in=Pool2d("sum", 2),
                   beta=0.5, name="d1")
        c_in = Layer(weight=_w(rng, (2, 1, 2, 2), -4, 8), in_shape=(1, 3, 4), pool_in=Pool2d("avg", (1, 2)),
                     beta=0.5, threshold=0.5, name="c2")
        return Network(layers=(d1, c_in)), (2, 8, 8), 0.25
    if case == "conv-conv-dense":
        c1 = Layer(weight=_w(rng, (4, 2, 3, 3)), bias=bias(4), in_shape=(2, 12, 12), pool=Pool2d("sum", 2),
                   beta=0.9, threshold=1.5, name="c1")
        c2 = Layer(weight=_w(rng, (6, 4, 3, 3)), bias=bias(6), in_shape=c1.out_shape, pool=Pool2d("avg", 2),
                   beta=0.9, name="c2")
        d = _dense(rng, c2.n_out, 10, beta=0.9, name="d")
        return Network(layers=(c1, c2, d)), (2, 12, 12), 0.15
    if case in ("cuba-plain", "cuba-plain-zero"):
        reset = "zero" if case.endswith("zero") else "subtract"
        d1 = _dense(rng, 30, 20, bias=bias(20), alpha=0.5, beta=0.75, threshold=1.5, reset=reset, name="d1")
        d2 = Layer(weight=_w(rng, (8, 20)), alpha=0.8, beta=0.9, threshold=1.5, reset=reset, name="d2")
        return Network(layers=(d1, d2)), (30,), 0.15
    if case == "cuba-conv":
        c1 = Layer(weight=_w(rng, (3, 2, 3, 3)), bias=bias(3), in_shape=(2, 8, 8), padding=1, pool=Pool2d("max", 2),
                   alpha=0.5, beta=0.875, threshold=2.0, reset="zero", name="c1")
        c2 = Layer(weight=_w(rng, (4, 3, 3, 3)), in_shape=c1.out_shape, alpha=0.25, beta=0.5, threshold=1.5,
                   name="c2")
        d = _dense(rng, c2.n_out, 5, alpha=0.5, beta=0.5, name="d")
        return Network(layers=(c1, c2, d)), (2, 8, 8), 0.2
    if case in ("cuba-recurrent", "cuba-recurrent-zero"):
        reset = "zero" if case.endswith("zero") else "subtract"
        c1 = Layer(weight=_w(rng, (2, 2, 3, 3)), in_shape=(2, 6, 6), pool=Pool2d("avg", 2), beta=0.5, name="c1")
        r = Layer(weight=_w(rng, (12, c1.n_out), -3, 7), recurrent_weight=_w(rng, (12, 12), -4, 4) * 2,
                  recurrent_bias=bias(12), bias=bias(12), alpha=0.75, beta=0.9, threshold=1.5, reset=reset, name="r")
        return Network(layers=(c1, r)), (2, 6, 6), 0.25
    if case == "pool-in-recurrent":
        r = Layer(weight=_w(rng, (10, 2 * 3 * 3)), recurrent_weight=_w(rng, (10, 10), -4, 4), in_shape=(2, 6, 6),
                  pool_in=Pool2d("sum", 2), beta=0.5, threshold=1.5, name="r")
        return Network(layers=(r,)), (2, 6, 6), 0.2
    if case == "wide-channels":
        # 8 and 16 output channels: runs of 8 / 16 adjacent targets (the vector adds of sparse-cpu's
        # channel-last scatter); zero kernels leave channels unreached (padded runs); groups=2 runs of 8
        c1 = Layer(weight=_w(rng, (8, 2, 3, 3)), bias=bias(8), in_shape=(2, 10, 10), padding=1, pool=Pool2d("avg", 2),
                   beta=0.5, name="c1")
        k2 = _w(rng, (16, 8, 3, 3))
        k2[5] = 0
        k2[9, :, 0] = 0
        c2 = Layer(weight=k2, bias=bias(16), in_shape=c1.out_shape, padding=1, pool=Pool2d("max", 2), beta=0.75,
                   threshold=1.5, name="c2")
        c3 = Layer(weight=_w(rng, (16, 8, 1, 2)), in_shape=c2.out_shape, groups=2, beta=0.5, reset="zero", name="c3")
        d = _dense(rng, c3.n_out, 6, name="d")
        return Network(layers=(c1, c2, c3, d)), (2, 10, 10), 0.2
    raise KeyError(case)


CASES = ["pad-stride", "dilation-groups-zero", "pool-sum", "pool-avg", "pool-max", "pool-max-overlap",
         "pool-sum-cancel", "pool-in", "conv-conv-dense", "cuba-plain", "cuba-plain-zero", "cuba-conv",
         "cuba-recurrent", "cuba-recurrent-zero", "pool-in-recurrent", "wide-channels"]


# ---- tests ------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_sparse_cpu_equals_reference(case):
    net, shape, density = make(case)
    spikes = sb.random_spikes(samples=3, timesteps=30, n_in=int(np.prod(shape)), density=density, seed=11)
    raster = spikes.to_dense()
    res = sb.simulate(net, spikes, backend="sparse-cpu", record=True)
    ref_spikes, ref_events = ref_network(net, raster)
    for layer, got, want, lc, ev in zip(net.layers, res.layer_spikes, ref_spikes, res.counts.layers, ref_events):
        assert 0 < want.sum() < want.size, (case, layer.name, "vacuous: the layer never or always spikes")
        np.testing.assert_array_equal(got, want, err_msg=f"{case}: layer {layer.name}")
        assert lc.synaptic_events == ev, (case, layer.name)
        assert lc.spikes_out == int(want.sum())
        assert lc.neuron_updates == spikes.samples * spikes.timesteps * layer.n_out
    # events follow the layer's own counting rule too
    x = raster
    for layer, lc, out in zip(net.layers, res.counts.layers, res.layer_spikes):
        assert lc.spikes_in == int(x.sum())
        fed = x.reshape(-1, layer.n_in).astype(np.int64) @ layer.fan_out_nonzero()
        fed_back = out[:, :-1].reshape(-1, layer.n_out).astype(np.int64) @ layer.recurrent_fan_out_nonzero()
        assert lc.synaptic_events == int(fed.sum()) + int(fed_back.sum())
        x = out


def test_cancelling_taps_are_not_events():
    net, shape, _ = make("pool-sum-cancel")
    fan = ref_fan_out(net.layers[0]).reshape(shape)
    # input column 2p+1 reaches pooled neuron p with 1 - 1 = 0: only its conv neighbours count
    assert fan.sum() < 2 * np.count_nonzero(net.layers[0].weight) * 4 * 4
    np.testing.assert_array_equal(net.layers[0].fan_out_nonzero(), fan.ravel())


@pytest.mark.parametrize("case", ["wide-channels", "pool-in", "dilation-groups-zero"])
def test_channel_last_runs_hold_the_expansion(case):
    """sparse-cpu's runs (channel-last targets, -0.0 padding) are the layer's expansion, columns in the
    previous layer's neuron order; rasters come back in the network's own (c, y, x) order."""
    from spikebench.backends.sparse_cpu import PreparedNetwork

    net, shape, density = make(case)
    p = PreparedNetwork.build(net)
    in_order = None
    for l, layer in enumerate(net.layers):
        inv = p.unpermute[l]
        order = None if inv is None else np.argsort(inv)
        if layer.plain:
            assert p.run_w[l] == 0
            in_order = order
            continue
        exp = layer.expansion()
        w = int(p.run_w[l])
        runptr = p.runptr[p.c_off[l]:p.c_off[l] + layer.n_in + 1]
        tgt = p.run_tgt[p.g_off[l]:p.g_off[l + 1]].astype(np.int64)
        val = p.run_val[p.v_off[l]:p.v_off[l + 1]]
        assert val.size == tgt.size * w and runptr[-1] == tgt.size
        got = np.zeros((exp.n_targets, layer.n_in), np.float32)
        for i in range(layer.n_in):
            for r in range(runptr[i], runptr[i + 1]):
                assert tgt[r] % w == 0
                got[tgt[r]:tgt[r] + w, i] += val[r * w:(r + 1) * w]
        pad = val[val == 0]
        assert np.all(np.signbit(pad))  # padding is -0.0: x + -0.0 == x for every float32 x
        want = exp.dense()
        if layer.conv:
            c = layer.weight.shape[0]
            assert w == c // layer.groups
            s_t = exp.n_targets // c
            t = np.arange(exp.n_targets)
            want = want[np.argsort((t % s_t) * c + t // s_t)]  # rows channel-last
        if in_order is not None:
            want = want[:, in_order]
        np.testing.assert_array_equal(got, want)
        in_order = order
    if case == "wide-channels":
        assert list(p.run_w) == [8, 16, 8, 0]
    spikes = sb.random_spikes(samples=2, timesteps=20, n_in=int(np.prod(shape)), density=density, seed=3)
    res = p.run(spikes, record=True)
    np.testing.assert_array_equal(res.layer_spikes[-1], res.output_spikes)
    for got, want in zip(res.layer_spikes, ref_network(net, spikes.to_dense())[0]):
        np.testing.assert_array_equal(got, want)


def test_sparse_channels_fall_back_to_single_entries():
    """A conv whose output channels are mostly all-zero would pad its runs many times over: width 1."""
    from spikebench.backends.sparse_cpu import PreparedNetwork

    rng = np.random.default_rng(0)
    k = np.zeros((8, 1, 3, 3), np.float32)
    k[2] = _w(rng, (1, 3, 3), 1, 4)
    c1 = Layer(weight=k, in_shape=(1, 8, 8), padding=1, beta=0.5, threshold=0.5, name="c1")
    net = Network(layers=(c1, _dense(rng, c1.n_out, 4, name="d")))
    p = PreparedNetwork.build(net)
    assert p.run_w[0] == 1 and p.run_val.size == c1.expansion().nnz
    spikes = sb.random_spikes(samples=2, timesteps=20, n_in=64, density=0.3, seed=1)
    res = p.run(spikes, record=True)
    for got, want in zip(res.layer_spikes, ref_network(net, spikes.to_dense())[0]):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("case", ["conv-conv-dense", "cuba-conv", "cuba-recurrent-zero", "wide-channels"])
def test_threads_float_path_and_batching_agree(case):
    from spikebench.backends.sparse_cpu import PreparedNetwork

    net, shape, density = make(case, seed=3)
    spikes = sb.random_spikes(samples=5, timesteps=25, n_in=int(np.prod(shape)), density=density, seed=4)
    a = PreparedNetwork.build(net).run(spikes, record=True, threads=1)
    b = PreparedNetwork.build(net, int8=False).run(spikes, record=True, threads=2)
    parts = [sb.simulate(net, spikes.select([i]), threads=1) for i in range(spikes.samples)]
    for x, y in zip(a.layer_spikes, b.layer_spikes):
        np.testing.assert_array_equal(x, y)
    assert a.counts == b.counts
    np.testing.assert_array_equal(np.concatenate([p.output_spikes for p in parts]), a.output_spikes)


def test_no_input_spikes_no_events():
    net, shape, _ = make("conv-conv-dense")
    spikes = sb.random_spikes(samples=2, timesteps=20, n_in=int(np.prod(shape)), density=0.0)
    res = sb.simulate(net, spikes, record=True)
    first = res.counts.layers[0]
    assert first.spikes_in == 0 and first.synaptic_events == 0
    assert first.neuron_updates == 2 * 20 * net.layers[0].n_out
    for lc in res.counts.layers:  # biases may drive neurons; events still follow the spikes that arrive
        assert (lc.spikes_in == 0) == (lc.synaptic_events == 0)


def _one_spike(position: int, n: int = 9) -> sb.SpikeTrain:
    raster = np.zeros((1, 2, n), np.uint8)
    raster[0, 0, position] = 1
    return sb.SpikeTrain.from_dense(raster)


@pytest.mark.parametrize(("padding", "expected"), [(0, {0: 1, 1: 1, 4: 1}), (1, {0: 4, 1: 6, 4: 9})])
def test_border_positions_reach_fewer_targets(padding, expected):
    """1x3x3 input, one 3x3 kernel of ones: without padding each pixel reaches the single output; with
    padding 1 (3x3 output) a corner pixel reaches 4 outputs, an edge pixel 6 and the centre 9."""
    layer = Layer(weight=np.ones((1, 1, 3, 3), np.float32), in_shape=(1, 3, 3), padding=padding, name="c")
    net = Network(layers=(layer,))
    for position, events in expected.items():  # corner, edge, centre
        assert sb.simulate(net, _one_spike(position)).counts.layers[0].synaptic_events == events
    every = sb.SpikeTrain.from_dense(np.ones((1, 1, 9), np.uint8))
    assert sb.simulate(net, every).counts.layers[0].synaptic_events == (9 if padding == 0 else 4 * 4 + 4 * 6 + 9)


def test_counts_carry_the_geometry():
    import dataclasses

    from spikebench.core.counts import LayerCounts

    net, shape, density = make("pool-max")
    spikes = sb.random_spikes(samples=1, timesteps=5, n_in=int(np.prod(shape)), density=density, seed=1)
    lc = sb.simulate(net, spikes).counts.layers[0]
    prof = net.layers[0].profile()
    assert lc.kind == "conv2d" and lc.synapses == prof["synapses"] and lc.fan_in_max == prof["fan_in_max"]
    if "kernel" in {f.name for f in dataclasses.fields(LayerCounts)}:
        assert tuple(lc.kernel) == (3, 3) and tuple(lc.out_shape) == tuple(net.layers[0].out_shape)
        assert lc.pool["kind"] == "max" and lc.neuron == "lif"
