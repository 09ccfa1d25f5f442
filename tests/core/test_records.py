"""Records validate what they are given: bad input is a SpikebenchError naming the problem."""

from __future__ import annotations

import json

import numpy as np
import pytest

import spikebench as sb
from spikebench.core.counts import SCHEMA

# ---- Network -------------------------------------------------------------------------------------

def test_layer_defaults_and_profile():
    w = np.array([[0.5, 0.0, 1.0], [0.0, 0.0, 2.0]], np.float32)
    layer = sb.Layer(weight=w, name="a", weight_bits=4)
    assert layer.n_in == 3 and layer.n_out == 2 and layer.kind == "dense"
    np.testing.assert_array_equal(layer.beta, np.full(2, np.float32(0.9)))
    np.testing.assert_array_equal(layer.threshold, [1.0, 1.0])
    assert layer.reset == "subtract"
    assert layer.profile() == {"name": "a", "kind": "dense", "n_in": 3, "n_out": 2, "synapses": 3,
                               "fan_in_max": 2, "weight_bits": 4, "weights": 3, "neuron": "lif", "in_shape": [3],
                               "out_shape": [2], "kernel": None, "stride": None, "padding": None, "dilation": None,
                               "groups": None, "pool": None, "pool_in": None}
    np.testing.assert_array_equal(layer.fan_out_nonzero(), [1, 0, 2])
    with pytest.raises(ValueError):
        layer.weight[0, 0] = 3.0  # records are read-only


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"weight": np.full((2, 3), np.nan)}, "NaN"),
        ({"weight": np.array([[1.0, np.inf]])}, "infinite"),
        ({"weight": np.ones(3)}, "2-D"),
        ({"weight": np.ones((2, 1, 3, 3))}, "needs in_shape=(C, H, W)"),
        ({"weight": np.ones((2, 1, 3, 3)), "in_shape": (2, 5, 5)}, "takes 1 input channels"),
        ({"weight": np.ones((2, 1, 7, 7)), "in_shape": (1, 5, 5)}, "does not fit"),
        ({"weight": np.ones((2, 3)), "stride": 2}, "conv2d layers only"),
        ({"weight": np.ones((2, 0))}, "empty"),
        ({"weight": np.ones((2, 3)), "beta": 1.5}, "beta must lie in [0, 1]"),
        ({"weight": np.ones((2, 3)), "beta": [0.5, 0.5, 0.5]}, "beta must be a scalar or a vector of 2"),
        ({"weight": np.ones((2, 3)), "threshold": 0.0}, "threshold must be > 0"),
        ({"weight": np.ones((2, 3)), "reset": "none"}, "unknown reset mode 'none'"),
        ({"weight": np.ones((2, 3)), "recurrent_weight": np.ones((3, 3))}, "recurrent_weight must have shape (2, 2)"),
        ({"weight": np.ones((2, 3)), "recurrent_bias": np.ones(2)}, "no recurrent_weight"),
        ({"weight": np.ones((2, 3)), "bias": [np.nan, 1.0]}, "bias contains NaN"),
        ({"weight": np.ones((2, 3)), "weight_bits": 0}, "weight_bits"),
        ({"weight": [["a", "b"]]}, "not a numeric matrix"),
    ],
)
def test_bad_layers_are_rejected(kwargs, message):
    with pytest.raises(sb.SpikebenchError) as err:
        sb.Layer(**kwargs)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_network_shape_mismatch_and_duplicate_names():
    a = sb.Layer(weight=np.ones((4, 3)), name="a")
    b = sb.Layer(weight=np.ones((2, 5)), name="b")
    with pytest.raises(sb.InvalidNetworkError, match="takes 5 inputs but layer 'a' has 4 neurons"):
        sb.Network(layers=(a, b))
    with pytest.raises(sb.InvalidNetworkError, match="unique"):
        sb.Network(layers=(a, sb.Layer(weight=np.ones((2, 4)), name="a")))
    with pytest.raises(sb.InvalidNetworkError, match="at least one layer"):
        sb.Network(layers=())


def test_random_network_is_seeded_dyadic_and_sparse():
    a = sb.Network.random(sizes=[20, 10, 3], recurrent=[True, False], seed=7, connection_prob=0.5)
    b = sb.Network.random(sizes=[20, 10, 3], recurrent=[True, False], seed=7, connection_prob=0.5)
    c = sb.Network.random(sizes=[20, 10, 3], recurrent=[True, False], seed=8, connection_prob=0.5)
    np.testing.assert_array_equal(a.layers[0].weight, b.layers[0].weight)
    assert not np.array_equal(a.layers[0].weight, c.layers[0].weight)
    w = a.layers[0].weight
    np.testing.assert_array_equal(w * 256, np.round(w * 256))  # on the 2**-8 grid
    assert 0.3 < np.count_nonzero(w) / w.size < 0.7
    assert a.layers[0].recurrent and not a.layers[1].recurrent
    assert a.sizes == [20, 10, 3]
    with pytest.raises(sb.InvalidNetworkError, match="one flag per layer"):
        sb.Network.random(sizes=[4, 3, 2], recurrent=[True])


# ---- SpikeTrain ----------------------------------------------------------------------------------

def test_spike_train_dense_round_trip_and_views():
    raster = (np.random.default_rng(0).random((3, 7, 5)) < 0.3).astype(np.uint8)
    train = sb.SpikeTrain.from_dense(raster, timestep_s=2e-3)
    assert (train.samples, train.timesteps, train.n, train.n_spikes) == (3, 7, 5, int(raster.sum()))
    np.testing.assert_array_equal(train.to_dense(), raster)
    np.testing.assert_array_equal(train.select([2, 0]).to_dense(), raster[[2, 0]])
    np.testing.assert_array_equal(train.counts_per_channel(), raster.sum(axis=(0, 1)))
    t, i = train.sample(1)
    assert len(t) == raster[1].sum()
    ptr = train.step_pointers()
    assert ptr.shape == (3, 8) and ptr[-1, -1] == train.n_spikes
    np.testing.assert_array_equal(np.diff(ptr[1]), raster[1].sum(axis=1))


def test_from_events_bins_and_merges():
    # events at 0.1 ms and 0.9 ms on channel 2 land in step 0 of a 1 ms grid: one spike
    train = sb.SpikeTrain.from_events([(np.array([0.0001, 0.0009, 0.0025, 0.5]), np.array([2, 2, 0, 1]))],
                                      n=3, timesteps=4, timestep_s=1e-3)
    np.testing.assert_array_equal(train.times, [0, 2])
    np.testing.assert_array_equal(train.indices, [2, 0])  # the event at 0.5 s is past the 4 steps


@pytest.mark.parametrize(
    ("raster", "message"),
    [
        (np.full((2, 3, 4), 0.5), "binary"),
        (np.full((2, 3, 4), 2), "binary"),
        (np.zeros((2, 3, 4, 1)), "shape"),
        (np.zeros((0, 3, 4)), "empty"),
        (np.array([["a"]]), "numeric"),
    ],
)
def test_bad_rasters(raster, message):
    with pytest.raises(sb.InvalidSpikesError, match=message):
        sb.SpikeTrain.from_dense(raster)


def test_bad_sparse_trains():
    ok = dict(sample_ptr=[0, 2], times=[0, 1], indices=[1, 1], timesteps=3, n=2)
    sb.SpikeTrain(**ok)
    with pytest.raises(sb.InvalidSpikesError, match="spike times must lie in"):
        sb.SpikeTrain(**{**ok, "times": [0, 3]})
    with pytest.raises(sb.InvalidSpikesError, match="channels must lie in"):
        sb.SpikeTrain(**{**ok, "indices": [0, 2]})
    with pytest.raises(sb.InvalidSpikesError, match="sorted"):
        sb.SpikeTrain(**{**ok, "times": [1, 0]})
    with pytest.raises(sb.InvalidSpikesError, match="sorted"):
        sb.SpikeTrain(**{**ok, "times": [1, 1]})  # duplicate
    with pytest.raises(sb.InvalidSpikesError, match="sample_ptr"):
        sb.SpikeTrain(**{**ok, "sample_ptr": [0, 1]})


def test_npz_round_trip_and_errors(tmp_path):
    train = sb.random_spikes(3, 10, 6, 0.2, seed=1, timestep_s=5e-4)
    path = tmp_path / "s.npz"
    train.save_npz(path)
    back = sb.SpikeTrain.load_npz(path)
    np.testing.assert_array_equal(back.to_dense(), train.to_dense())
    assert back.timestep_s == 5e-4
    dense = tmp_path / "d.npz"
    np.savez(dense, spikes=train.to_dense())
    np.testing.assert_array_equal(sb.SpikeTrain.load_npz(dense).to_dense(), train.to_dense())
    bad = tmp_path / "bad.npz"
    np.savez(bad, spikes=np.full((1, 2, 2), 3))
    with pytest.raises(sb.InvalidSpikesError, match="binary"):
        sb.SpikeTrain.load_npz(bad)
    other = tmp_path / "other.npz"
    np.savez(other, x=np.ones(3))
    with pytest.raises(sb.FileFormatError, match="lacks"):
        sb.SpikeTrain.load_npz(other)
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"\x00garbage")
    with pytest.raises(sb.FileFormatError, match="not a readable"):
        sb.SpikeTrain.load_npz(junk)
    with pytest.raises(sb.FileFormatError, match="no such"):
        sb.SpikeTrain.load_npz(tmp_path / "missing.npz")


# ---- simulate ------------------------------------------------------------------------------------

def test_simulate_bad_arguments():
    net = sb.Network.random(sizes=[5, 3], seed=0)
    with pytest.raises(sb.UnknownNameError, match="unknown backend 'loihi'; choose one of: sparse-cpu, snntorch"):
        sb.simulate(net, np.zeros((2, 5)), backend="loihi")
    with pytest.raises(sb.InvalidSpikesError, match="4 channels but the network takes 5"):
        sb.simulate(net, np.zeros((2, 4)))
    with pytest.raises(sb.InvalidSpikesError, match="4 channels but the network takes 5"):
        sb.simulate(net, np.zeros((2, 4)), backend="snntorch")
    with pytest.raises(sb.InvalidSpikesError, match="binary"):
        sb.simulate(net, np.full((2, 5), 0.5))
    with pytest.raises(sb.InvalidNetworkError, match="expected a spikebench Network"):
        sb.simulate("net.nir", np.zeros((2, 5)))
    with pytest.raises(sb.BackendUnavailableError, match="CPU only"):
        sb.simulate(net, np.zeros((2, 5)), device="cuda")


def test_snntorch_cuda_request_without_cuda_is_a_clear_error():
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    net = sb.Network.random(sizes=[5, 3], seed=0)
    with pytest.raises(sb.BackendUnavailableError, match="CUDA is not available"):
        sb.simulate(net, np.zeros((2, 5)), backend="snntorch", device="cuda")
    with pytest.raises(sb.BackendUnavailableError, match="unknown device"):
        sb.simulate(net, np.zeros((2, 5)), backend="snntorch", device="tpu:9")


# ---- EventCounts ---------------------------------------------------------------------------------

def good_counts() -> dict:
    return {
        "schema": SCHEMA, "samples": 2, "timesteps": 10, "timestep_s": 0.001,
        "layers": [
            {"name": "h", "kind": "recurrent", "n_in": 4, "n_out": 3, "spikes_in": 12, "synaptic_events": 40,
             "neuron_updates": 60, "spikes_out": 9, "synapses": 20, "fan_in_max": 7, "weight_bits": 8},
            {"n_in": 3, "n_out": 2, "spikes_in": 9, "synaptic_events": 15, "neuron_updates": 40, "spikes_out": 4},
        ],
        "source": {"simulator": "other"},
    }


def test_counts_from_dict_fills_defaults_and_totals():
    c = sb.EventCounts.from_dict(good_counts())
    assert c.layers[1].name == "layer2" and c.layers[1].kind == "dense" and c.layers[1].synapses is None
    assert (c.synaptic_events, c.neuron_updates, c.spikes) == (55, 100, 13)
    assert c.per_sample("synaptic_events") == 27.5
    assert c.activity() == [9 / 60, 4 / 40]
    assert sb.EventCounts.from_dict(json.loads(json.dumps(c.to_dict()))) == c


def _mutate(path, value):
    d = good_counts()
    target = d
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return d


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("layers", 0, "spikes_out"), -1, "layers[0].spikes_out must be >= 0"),
        (("layers", 0, "synaptic_events"), 40.5, "fractional"),
        (("layers", 0, "synaptic_events"), "40", "whole number"),
        (("layers", 0, "synaptic_events"), True, "whole number"),
        (("layers", 1, "spikes_in"), KeyError, "layers[1] is missing field(s) spikes_in"),
        (("samples",), KeyError, "missing field(s) samples"),
        (("schema",), "spikebench.counts/3", "unsupported schema 'spikebench.counts/3'"),
        (("schema",), KeyError, "missing field 'schema'"),
        (("timestep_s",), 0, "timestep_s must be a positive number"),
        (("layers", 0, "neuron_updates"), 61, "samples x timesteps x n_out = 60"),
        (("layers", 1, "spikes_in"), 8, "differs from layers[0].spikes_out"),
        (("layers", 0, "kind"), "conv", "kind must be one of"),
        (("layers", 0, "in_shape"), [2, 3], "in_shape [2, 3] holds 6 values but n_in is 4"),
        (("layers", 0, "kernel"), [3, 3], "is a recurrent layer but has conv fields kernel"),
        (("layers", 0, "neuron"), "izhikevich", "neuron must be one of"),
        (("layers", 0, "pool_in"), {"kind": "max", "kernel": [2, 2]}, "pool_in.kind must be one of sum, avg"),
        (("layers", 0, "synaptic_event"), 3, "unknown field(s) synaptic_event"),
        (("extra",), 1, "unknown field(s) extra"),
        (("layers", 0, "synaptic_events"), 10**6, "exceeds spikes x fan-out"),
        (("layers",), [], "non-empty list"),
    ],
)
def test_bad_counts_documents(path, value, message):
    with pytest.raises(sb.FileFormatError) as err:
        sb.EventCounts.from_dict(_mutate(path, value), origin="c.json")
    assert message in str(err.value)
    assert str(err.value).startswith("c.json: ")


def test_bad_counts_files(tmp_path):
    p = tmp_path / "c.json"
    p.write_text("{not json")
    with pytest.raises(sb.FileFormatError, match="not valid JSON"):
        sb.EventCounts.from_json(p)
    p.write_text('{"schema": "spikebench.counts/1", "samples": NaN}')
    with pytest.raises(sb.FileFormatError, match="not valid JSON"):
        sb.EventCounts.from_json(p)
    p.write_text("[1, 2]")
    with pytest.raises(sb.FileFormatError, match="must be a JSON object"):
        sb.EventCounts.from_json(p)
    p.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(sb.FileFormatError, match="not valid JSON"):
        sb.EventCounts.from_json(p)
    with pytest.raises(sb.FileFormatError, match="no such counts file"):
        sb.EventCounts.from_json(tmp_path / "missing.json")


def test_counts_written_atomically_keep_the_old_file_on_failure(tmp_path, monkeypatch):
    c = sb.EventCounts.from_dict(good_counts())
    path = tmp_path / "c.json"
    c.to_json(path)
    before = path.read_bytes()
    import spikebench.core.fileio as fileio

    def boom(*_a, **_k):
        raise OSError("disk full")

    monkeypatch.setattr(fileio.os, "replace", boom)
    with pytest.raises(OSError):
        c.to_json(path, indent=4)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["c.json"]  # no temp file left behind
