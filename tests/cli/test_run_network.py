"""Your own network through the whole loop: `spikebench run nmnist --network conv.nir`, `spikebench.benchmark`,
and the bad input the issue lists (wrong input shape, wrong class count, max pooling of spikes, a Conv3d
module or an unsupported NIR node, NaN weights, a counts/1 file), each a one-line error with exit code 2."""

from __future__ import annotations

import json

import numpy as np
import pytest

import spikebench as sb
from spikebench.cli import main
from spikebench.core.connectivity import Pool2d
from spikebench.results import ResultsStore

CHIPS = "loihi,loihi2,truenorth,akida,cpu"


def small_csnn(in_shape=(2, 34, 34), n_out=10, seed=0) -> sb.Network:
    """A dyadic CSNN on N-MNIST's geometry: 4C5-AP2 -> dense (untrained but active)."""
    rng = np.random.default_rng(seed)
    c, h, w = in_shape
    k = (rng.integers(-3, 9, size=(4, c, 5, 5)) / 32).astype(np.float32)
    conv = sb.Layer(weight=k, in_shape=in_shape, pool=Pool2d("avg", 2), beta=0.875, weight_bits=8, name="conv1")
    d = (rng.integers(-4, 5, size=(n_out, conv.n_out)) / 32).astype(np.float32)
    return sb.Network(layers=(conv, sb.Layer(weight=d, weight_bits=8, name="fc")), name="tiny-csnn")


def with_binning(path, binning: dict) -> None:
    """Put a binning request into a NIR file's graph metadata, as a user's exporter would."""
    import nir

    g = nir.read(str(path))
    meta = dict(g.metadata or {})
    meta["spikebench"] = {**dict(meta.get("spikebench", {})), "binning": binning}
    g.metadata = meta
    nir.write(str(path), g)


def test_run_your_conv_network_beside_the_reference(tmp_path, capsys):
    small_csnn().to_nir(tmp_path / "mine.nir")
    out = tmp_path / "res"
    rc = main(["run", "nmnist", "--network", str(tmp_path / "mine.nir"), "--with-reference", "--limit", "8",
               "--backends", "sparse-cpu,snntorch", "--chips", CHIPS, "--out", str(out), "--no-progress"])
    assert rc == 0, capsys.readouterr().err
    df = ResultsStore(out).open(create=False).frame()
    assert set(df["network"]) == {"nmnist-reference", "tiny-csnn"}
    mine = df[df.network == "tiny-csnn"]
    assert set(mine["network_hash"]) == {small_csnn().content_hash()}
    events = mine[mine.metric == "synaptic_events_per_inference"]
    ev = events[events.chip == ""].set_index("backend")["value"]  # the float network's own counts
    assert ev["sparse-cpu"] == ev["snntorch"] > 0  # both backends count the conv events identically
    # each chip's rows count the network as it holds it, in every cell alike (simulated by sparse-cpu)
    per_chip = events[events.chip != ""].groupby("chip")["value"].nunique()
    assert (per_chip == 1).all()
    weights = mine[mine.metric == "network_weights"]["value"].iloc[0]
    synapses = mine[mine.metric == "network_synapses"]["value"].iloc[0]
    assert weights < synapses  # the kernel is shared: far fewer weights than expanded connections
    assert main(["report", str(out), "--out", str(tmp_path / "rep")]) == 0
    assert (tmp_path / "rep" / "figures" / "pareto_nmnist.png").is_file()


def test_binning_from_the_nir_metadata_and_overridden_by_options(tmp_path):
    path = tmp_path / "coarse.nir"
    small_csnn().to_nir(path)
    with_binning(path, {"timestep_s": 0.03, "timesteps": 10})
    out = tmp_path / "res"
    assert main(["run", "nmnist", "--network", str(path), "--limit", "4", "--backends", "sparse-cpu",
                 "--chips", "loihi", "--out", str(out), "--no-progress"]) == 0
    df = ResultsStore(out).open(create=False).frame()
    dur = df[df.metric == "input_duration_s"]
    assert dur["value"].iloc[0] == pytest.approx(0.3) and "10 steps x 0.03 s" in dur["source"].iloc[0]
    frame = sb.benchmark(path, "nmnist", limit=4, chips=["loihi"], timesteps=5)  # an option wins over the file
    assert frame[frame.metric == "input_duration_s"]["value"].iloc[0] == pytest.approx(0.15)


@pytest.mark.parametrize(("net", "message"), [
    (small_csnn(in_shape=(2, 28, 28)), "takes 1568 inputs (2x28x28) but nmnist gives 2312 (2x34x34)"),
    (small_csnn(n_out=12), "has 12 outputs but nmnist has 10 classes"),
    (sb.Network.random(sizes=[2312, 8, 10], seed=0, weight_std=0.0), "only zero weights (untrained?)"),
])
def test_network_that_does_not_fit_is_refused_in_one_line(tmp_path, capsys, net, message):
    net.to_nir(tmp_path / "bad.nir")
    rc = main(["run", "nmnist", "--network", str(tmp_path / "bad.nir"), "--limit", "4", "--out",
               str(tmp_path / "res"), "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "res").exists() or not any((tmp_path / "res" / "runs").glob("*/cells/*.json"))


def test_nir_with_nan_weights_is_refused(tmp_path, capsys):
    import nir

    w = np.ones((10, 2312), np.float32)
    w[3, 5] = np.nan
    g = nir.NIRGraph(nodes={"input": nir.Input(input_type={"input": np.array([2312])}), "fc": nir.Linear(weight=w),
                            "lif": nir.LIF(tau=np.full(10, 2e-3, np.float32), r=np.full(10, 20.0, np.float32),
                                           v_leak=np.zeros(10, np.float32), v_threshold=np.ones(10, np.float32)),
                            "output": nir.Output(output_type={"output": np.array([10])})},
                     edges=[("input", "fc"), ("fc", "lif"), ("lif", "output")])
    nir.write(str(tmp_path / "nan.nir"), g)
    rc = main(["run", "nmnist", "--network", str(tmp_path / "nan.nir"), "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert rc == 2 and "NaN" in err and "nan.nir" in err and len(err.strip().splitlines()) == 1


def test_unsupported_nir_node_is_named(tmp_path, capsys):
    import nir

    g = nir.NIRGraph(nodes={"input": nir.Input(input_type={"input": np.array([2, 34])}),
                            "c1": nir.Conv1d(input_shape=34, weight=np.ones((4, 2, 3), np.float32), stride=1,
                                             padding=0, dilation=1, groups=1, bias=np.zeros(4, np.float32)),
                            "output": nir.Output(output_type={"output": np.array([4, 32])})},
                     edges=[("input", "c1"), ("c1", "output")])
    nir.write(str(tmp_path / "c1d.nir"), g)
    rc = main(["run", "nmnist", "--network", str(tmp_path / "c1d.nir"), "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert rc == 2 and "'c1'" in err and "Conv1d" in err and len(err.strip().splitlines()) == 1


def test_not_a_nir_file_and_unknown_shipped_name(tmp_path, capsys):
    (tmp_path / "model.py").write_text("import os\n")
    assert main(["run", "nmnist", "--network", str(tmp_path / "model.py"), "--out", str(tmp_path / "r")]) == 2
    assert "never code" in capsys.readouterr().err
    assert main(["run", "nmnist", "--network", "nmnist-nope", "--out", str(tmp_path / "r")]) == 2
    assert "nor a network spikebench ships" in capsys.readouterr().err


def test_python_models_refused_with_the_module_named():
    torch = pytest.importorskip("torch")
    snn = pytest.importorskip("snntorch")
    spikes_pool = torch.nn.Sequential(torch.nn.Conv2d(2, 4, 5), snn.Leaky(beta=0.9), torch.nn.MaxPool2d(2),
                                      torch.nn.Flatten(), torch.nn.Linear(4 * 15 * 15, 10), snn.Leaky(beta=0.9))
    with pytest.raises(sb.SpikebenchError, match="MaxPool2d") as err:
        sb.benchmark(spikes_pool, "nmnist", limit=2)
    assert "\n" not in str(err.value)
    conv3d = torch.nn.Sequential(torch.nn.Conv3d(2, 4, 3), snn.Leaky(beta=0.9))
    with pytest.raises(sb.SpikebenchError, match="Conv3d") as err:
        sb.benchmark(conv3d, "nmnist", limit=2)
    assert "\n" not in str(err.value)


def test_counts_v1_file_is_estimated_like_before(tmp_path, capsys):
    doc = {"schema": "spikebench.counts/1", "samples": 2, "timesteps": 300, "timestep_s": 0.001,
           "layers": [{"name": "lif1", "kind": "dense", "n_in": 2312, "n_out": 128, "spikes_in": 9000,
                       "synaptic_events": 1152000, "neuron_updates": 76800, "spikes_out": 3000, "synapses": 295936,
                       "fan_in_max": 2312, "weight_bits": 8},
                      {"name": "lif2", "kind": "dense", "n_in": 128, "n_out": 10, "spikes_in": 3000,
                       "synaptic_events": 30000, "neuron_updates": 6000, "spikes_out": 400}]}
    path = tmp_path / "v1.json"
    path.write_text(json.dumps(doc))
    v2 = dict(doc, schema="spikebench.counts/2")
    (tmp_path / "v2.json").write_text(json.dumps(v2))
    assert main(["estimate", "--counts", str(path), "--format", "json"]) == 0
    a = json.loads(capsys.readouterr().out)
    assert main(["estimate", "--counts", str(tmp_path / "v2.json"), "--format", "json"]) == 0
    b = json.loads(capsys.readouterr().out)
    assert a["estimates"] == b["estimates"] and len(a["estimates"]) >= 5
