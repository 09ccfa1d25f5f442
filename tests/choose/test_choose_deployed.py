"""`spikebench choose` since chips deploy the network (issue 10): --min-accuracy is compared with each
chip's task metric on the network as it holds it (a results store's chip-tagged task row; --workload
deploys and simulates per chip); a store without deployment rows and a counts file keep today's
behaviour, with the float network's metric standing in, marked as such."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from types import SimpleNamespace

import numpy as np
import pytest

import spikebench as sb
import spikebench.hardware_models
import spikebench.workloads
from spikebench.choose import ChooseError, Constraints, choose_from_counts, choose_from_results, choose_from_workload
from spikebench.cli import main
from spikebench.cli.choose import format_table
from spikebench.results import Provenance, ResultsStore, Row
from spikebench.workloads.base import Metric, WorkloadData

FLOAT = 0.95
#: chip -> (accuracy on chip, basis, energy µJ, deployment notes, arithmetic, why infeasible)
CHIPS = {
    "loihi": (0.93, "deployed", 12.0, ("weights: 8-bit mantissa", "reset to zero"), "loihi-fixed", ""),
    "loihi2": (0.80, "deployed", 2.0, ("weights: 8-bit mantissa", "reset to zero", "one step of delay"),
               "loihi2-fixed", ""),
    "akida": (None, "infeasible", 9.0, (), "akida-int4", "rlif1: recurrent layers are not supported"),
    "cpu": (FLOAT, "float", 14.0, ("runs the float32 network as trained",), "float32", ""),
}
LATENCY_S, DURATION_S = 1e-3, 0.3


def cell_rows(chips=CHIPS, *, network="nmnist-reference", network_hash="0123456789ab", accuracy=FLOAT) -> list[Row]:
    """One cell as the harness writes it: float task rows chip-less, then per chip deployment_changes, the
    deployed task row and the estimate (E_static = 0.75 E, L = 1 ms)."""
    common = {"workload": "nmnist", "backend": "sparse-cpu", "data": "synthetic", "samples": 20, "seed": 0,
              "network": network, "network_hash": network_hash}
    rows = [Row(metric="accuracy", value=accuracy, unit="1", kind="task", source="synthetic", **common),
            Row(metric="chance_accuracy", value=0.1, unit="1", kind="task", **common),
            Row(metric="input_duration_s", value=DURATION_S, unit="s", kind="measured", **common),
            Row(metric="synaptic_events_per_inference", value=1000.0, unit="events", kind="measured", **common)]
    for chip, (acc, basis, uj, notes, arithmetic, why) in chips.items():
        c = {**common, "chip": chip}
        rows.append(Row(metric="deployment_changes", value=float(len(notes)), unit="notes", kind="modelled",
                        source=f"{arithmetic}: " + " | ".join(notes) if notes else arithmetic, **c))
        if basis != "infeasible":
            src = (f"deployed on {chip} ({arithmetic}; {len(notes)} changes), simulated bit-exactly by sparse-cpu"
                   if basis == "deployed" else f"float32 network as trained, on {chip}; synthetic")
            rows += [Row(metric="accuracy", value=acc, unit="1", kind="task", source=src, **c),
                     Row(metric="synaptic_events_per_inference", value=800.0, unit="events", kind="measured", **c)]
        e = uj * 1e-6
        m = {**c, "kind": "modelled"}
        rows += [Row(metric="energy_j", value=e, low=0.9 * e, high=1.1 * e, unit="J", source="boundary", **m),
                 Row(metric="energy_dynamic_j", value=0.25 * e, low=0.225 * e, high=0.275 * e, unit="J", **m),
                 Row(metric="energy_static_j", value=0.75 * e, low=0.675 * e, high=0.825 * e, unit="J", **m),
                 Row(metric="latency_s", value=LATENCY_S, low=LATENCY_S, high=LATENCY_S, unit="s", **m),
                 Row(metric="cores", value=1.0, unit="cores", **m),
                 Row(metric="chips", value=1.0, unit="chips", **m),
                 Row(metric="feasible", value=0.0 if why else 1.0, unit="bool",
                     source=f"numeric format: {why}" if why else "", **m)]
    return rows


def make_store(root, cells=None):
    store = ResultsStore(root).open(create=True)
    prov = Provenance(spikebench_version="0", git_commit="x", machine="test")
    run_id = store.start_run({}, prov)
    for cell, rows in (cells or {"nmnist__sparse-cpu": cell_rows()}).items():
        store.write_cell(run_id, cell, rows, prov)
    return root


@pytest.fixture
def store(tmp_path):
    return make_store(tmp_path / "res")


def by_chip(choice):
    return {v.chip: v for v in choice.verdicts}


def run_cli(capsys, *argv):
    rc = main(["choose", *argv])
    out, err = capsys.readouterr()
    return rc, out, err


# ---- results stores ------------------------------------------------------------------------------------

def test_min_accuracy_rules_out_the_chip_whose_deployed_metric_is_below(store):
    choice = choose_from_results(store, Constraints(min_accuracy=0.9), draws=0)
    v = by_chip(choice)
    assert not v["loihi2"].feasible
    assert v["loihi2"].reasons == ("accuracy 0.8 deployed (float 0.95) below 0.9 by 0.1",)
    assert v["loihi"].feasible and v["loihi"].task.deployed and v["loihi"].task.value == 0.93
    assert choice.best.chip == "loihi" and choice.task.value == FLOAT and choice.task.basis == "float"
    assert (v["cpu"].task.basis, v["cpu"].task.value) == ("float", FLOAT)
    assert v["akida"].task is None and v["akida"].reasons[0].startswith("mapping infeasible: numeric format: rlif1")
    assert v["loihi2"].arithmetic == "loihi2-fixed" and v["loihi2"].deployment_notes[2] == "one step of delay"
    # without the bound loihi2 is the cheapest, at its deployed accuracy
    free = choose_from_results(store, Constraints(), draws=0)
    assert free.best.chip == "loihi2" and free.best.task.short() == "accuracy 0.8 deployed (float 0.95)"


def test_table_json_and_csv_name_the_deployed_metric(store, capsys):
    rc, out, err = run_cli(capsys, "--results", str(store), "--min-accuracy", "0.9", "--draws", "0")
    assert rc == 0, err
    header = next(line for line in out.splitlines() if line.startswith("rank"))
    assert header.split()[:4] == ["rank", "chip", "feasible", "accuracy"]
    rows = {line.split()[1]: line.split() for line in out.splitlines() if line[:4].strip() in ("1", "2", "-")}
    assert rows["loihi"][:4] == ["1", "loihi", "yes", "0.93"] and rows["loihi2"][:4] == ["-", "loihi2", "no", "0.8"]
    assert rows["cpu"][3:5] == ["0.95", "(float)"]
    assert "loihi2: infeasible: accuracy 0.8 deployed (float 0.95) below 0.9 by 0.1" in out
    assert "choice: loihi (" in out and "accuracy 0.93 deployed (float 0.95), 12 µJ per inference" in out
    assert "deployed: loihi (loihi-fixed, 2 notes)" in out
    rc, out, _ = run_cli(capsys, "--results", str(store), "--draws", "0", "--format", "json")
    doc = json.loads(out)
    chips = {c["chip"]: c for c in doc["chips"]}
    assert doc["task"]["basis"] == "float" and doc["task"]["value"] == FLOAT
    assert chips["loihi2"]["task"] == {
        "metric": "accuracy", "value": 0.8, "low": None, "high": None, "data": "synthetic", "basis": "deployed",
        "source": "deployed on loihi2 (loihi2-fixed; 3 changes), simulated bit-exactly by sparse-cpu",
        "float_value": FLOAT}
    assert chips["cpu"]["task"]["basis"] == "float" and chips["akida"]["task"] is None
    assert chips["loihi"]["deployment_notes"] == ["weights: 8-bit mantissa", "reset to zero"]
    rc, out, _ = run_cli(capsys, "--results", str(store), "--draws", "0", "--format", "csv")
    csv_rows = {r["chip"]: r for r in csv.DictReader(io.StringIO(out))}
    assert (csv_rows["loihi2"]["task_value"], csv_rows["loihi2"]["task_basis"], csv_rows["loihi2"]["float_value"]) == (
        "0.8", "deployed", "0.95")


def test_no_chip_accurate_enough_names_the_best_deployed_value(tmp_path):
    root = make_store(tmp_path / "r", {"nmnist__sparse-cpu": cell_rows({c: CHIPS[c] for c in ("loihi", "loihi2")})})
    with pytest.raises(ChooseError) as exc:
        choose_from_results(root, Constraints(min_accuracy=0.95), draws=0)
    msg = str(exc.value)
    assert msg.startswith("--min-accuracy 0.95 rules out every chip: the best accuracy is 0.93, on loihi (deployed, "
                          "float 0.95; synthetic data)")
    assert "loosen --min-accuracy by 0.02 to 0.93" in msg


def test_a_store_without_deployment_rows_chooses_as_before(tmp_path):
    rows = [r for r in cell_rows() if not r.chip or r.kind == "modelled" and r.metric != "deployment_changes"]
    root = make_store(tmp_path / "old", {"nmnist__sparse-cpu": rows})
    choice = choose_from_results(root, Constraints(min_accuracy=0.9), draws=0)
    v = by_chip(choice)
    assert all(x.task.basis == "float-fallback" and x.task.value == FLOAT for x in choice.verdicts)
    assert v["loihi2"].feasible and choice.best.chip == "loihi2"  # judged on the float network's 0.95
    assert any("holds no deployment rows" in n for n in choice.notes)
    text = format_table(choice)
    assert "rank  chip " in text and " accuracy " not in text.split("\n\n")[1].splitlines()[0]  # no metric column
    with pytest.raises(ChooseError, match=r"rules out every chip: the network's accuracy is 0.95 \(synthetic data\)"):
        choose_from_results(root, Constraints(min_accuracy=0.97), draws=0)


def test_pairs_of_several_networks_judged_and_ranked_by_deployed_metric(tmp_path):
    small = {"loihi2": (0.85, "deployed", 1.0, ("weights",), "loihi2-fixed", ""),
             "loihi": (0.86, "deployed", 5.0, ("weights",), "loihi-fixed", ""),
             "cpu": (0.88, "float", 7.0, ("runs the float32 network as trained",), "float32", "")}
    root = make_store(tmp_path / "n", {
        "nmnist__sparse-cpu": cell_rows(),
        "nmnist__sparse-cpu__small-abcdef01": cell_rows(small, network="small", network_hash="abcdef012345",
                                                        accuracy=0.88)})
    choice = choose_from_results(root, Constraints(), draws=0)
    # by deployed metric: small/loihi2 (1 µJ, 0.85), small/loihi (5, 0.86), small/cpu (7, 0.88),
    # reference/loihi (12, 0.93), reference/cpu (14, 0.95); reference/loihi2 (2 µJ, 0.80) is dominated
    assert [v.label for v in choice.verdicts if v.pareto] == [
        "small / loihi2", "small / loihi", "small / cpu", "nmnist-reference / loihi", "nmnist-reference / cpu"]
    assert choice.network("small").task.value == 0.88  # the network's own (float) metric
    note = next(n for n in choice.notes if n.startswith("no --min-accuracy"))
    assert "small / loihi2 has accuracy 0.85" in note and "nmnist-reference / cpu 0.95" in note
    strict = choose_from_results(root, Constraints(min_accuracy=0.9), draws=0)
    assert [v.label for v in strict.feasible] == ["nmnist-reference / loihi", "nmnist-reference / cpu"]
    with pytest.raises(ChooseError) as exc:
        choose_from_results(root, Constraints(min_accuracy=0.99), draws=0)
    assert ("rules out every (network, chip) pair: the most accurate, nmnist-reference / cpu, has accuracy 0.95 "
            "(float network)") in str(exc.value)


# ---- --workload: deploy and simulate per chip ----------------------------------------------------------

class SpikeCountWorkload:
    """Accuracy = share of samples whose output layer spikes at least 10 times (moves with the weights: 5 of 8
    samples with the seed-4 network on seed-1 data, 3 of 8 with half its weights pruned)."""

    name = "fake"
    task = "classification"

    def load(self, split, *, data_dir=None, require_real=False, limit=None, seed=0):
        spikes = sb.random_spikes(samples=limit or 8, timesteps=30, n_in=12, density=0.3, seed=seed)
        return WorkloadData(spikes=spikes, labels=np.zeros(spikes.samples, dtype=int), provenance="synthetic",
                            source="fake generator")

    def reference_network(self):
        return sb.Network.random(sizes=[12, 8, 3], recurrent=[False, False], seed=4)

    def score(self, output_spikes, data):
        return [Metric(name="accuracy", value=float(np.mean(output_spikes.sum(axis=(1, 2)) >= 10)))]


def pruned(net):
    """Half the weights of every layer zeroed (the smallest): fewer synaptic events."""
    layers = []
    for layer in net.layers:
        w = layer.weight.copy()
        w[np.abs(w) < np.median(np.abs(w))] = 0
        layers.append(dataclasses.replace(layer, weight=w, weight_bits=4))
    return sb.Network(layers=tuple(layers), name=net.name)


def fake_deploy(chip, net):
    common = {"chip": chip, "source": net, "changes_dynamics": False}
    if chip == "akida":
        return SimpleNamespace(network=None, feasible=False, why="no recurrent layers", notes=(),
                               arithmetic="akida-int4", **common)
    if chip == "cpu":
        return SimpleNamespace(network=net, feasible=True, why="", notes=("runs the float32 network as trained",),
                               arithmetic="float32", **common)
    return SimpleNamespace(network=pruned(net), feasible=True, why="", notes=("half the weights pruned",),
                           arithmetic=f"{chip}-fixed", **common)


def test_workload_path_deploys_simulates_and_scores_each_chip(monkeypatch):
    monkeypatch.setattr(spikebench.hardware_models, "deploy", fake_deploy)
    wl = SpikeCountWorkload()
    chips = ["loihi", "loihi2", "akida", "cpu"]
    choice = choose_from_workload(wl, Constraints(), chips=chips, limit=8, seed=1, draws=20, strict=False)
    data = wl.load("test", limit=8, seed=1)
    net = wl.reference_network()
    flt = sb.simulate(net, data.spikes)
    dep = sb.simulate(pruned(net), data.spikes)
    want_float, want_dep = wl.score(flt.output_spikes, data)[0].value, wl.score(dep.output_spikes, data)[0].value
    assert dep.counts.synaptic_events < flt.counts.synaptic_events
    v = by_chip(choice)
    assert choice.task.value == want_float and choice.task.basis == "float"
    assert (v["loihi2"].task.basis, v["loihi2"].task.value, v["loihi2"].task.float_value) == (
        "deployed", want_dep, want_float)
    assert (v["cpu"].task.basis, v["cpu"].task.value) == ("float", want_float)
    assert v["akida"].task is None and not v["akida"].feasible
    assert v["akida"].reasons[0].startswith("mapping infeasible: numeric format: no recurrent layers")
    # loihi2's estimate is on the deployed network's counts (fewer events: less dynamic energy)
    from spikebench.hardware_models import NetworkProfile, get_chip
    from spikebench.harness import deployed_counts

    counts = deployed_counts(flt.counts, dep.counts, pruned(net))
    want = get_chip("loihi2").estimate(NetworkProfile.from_counts(counts), counts)
    assert v["loihi2"].energy_j.nominal == pytest.approx(want.energy_j.nominal, rel=1e-12)
    full = get_chip("loihi2").estimate(NetworkProfile.from_counts(flt.counts), flt.counts)
    assert v["loihi2"].energy_dynamic_j.nominal < full.energy_dynamic_j.nominal
    assert v["loihi2"].deployment_notes == ("half the weights pruned",) and v["loihi2"].arithmetic == "loihi2-fixed"
    assert choice.stability is not None and "akida" not in choice.stability.ranking


def test_workload_min_accuracy_on_the_deployed_metric(monkeypatch):
    monkeypatch.setattr(spikebench.hardware_models, "deploy", fake_deploy)
    wl = SpikeCountWorkload()
    choice = choose_from_workload(wl, Constraints(), chips=["loihi2", "cpu"], limit=8, seed=1, draws=0)
    dep, flt = by_chip(choice)["loihi2"].task.value, choice.task.value
    assert (dep, flt) == (0.375, 0.625)  # pruning costs this workload accuracy
    bound = (dep + flt) / 2
    strict = choose_from_workload(wl, Constraints(min_accuracy=bound), chips=["loihi2", "cpu"], limit=8, seed=1,
                                  draws=0)
    assert [v.chip for v in strict.feasible] == ["cpu"]
    assert by_chip(strict)["loihi2"].reasons[-1].startswith(f"accuracy {dep:.3g} deployed (float {flt:.3g}) below")


def test_stability_per_chip_counts_matches_the_shared_counts_path():
    """With one counts record for every chip the chooser's stability is rank_stability's, draw for draw."""
    from spikebench.hardware_models import get_chip
    from spikebench.hardware_models.sensitivity import rank_stability

    counts = sb.simulate(sb.Network.random(sizes=[12, 8, 3], seed=2), sb.random_spikes(4, 30, 12, 0.3, seed=1)).counts
    choice = choose_from_counts(counts, Constraints(), chips=["loihi", "loihi2", "cpu"], draws=30, seed=5)
    feasible = [v.chip for v in choice.feasible]
    rs = rank_stability(counts, {n: get_chip(n) for n in feasible}, draws=30, seed=5)
    assert choice.stability.ranking == tuple(rs.nominal_ranking)
    assert choice.stability.top_changed == rs.top_changed and choice.stability.ranking_changed == rs.ranking_changed


def test_counts_file_says_accuracy_and_counts_are_the_float_networks(tmp_path, capsys):
    counts = sb.simulate(sb.Network.random(sizes=[12, 8, 3], seed=2), sb.random_spikes(4, 30, 12, 0.3, seed=1)).counts
    path = tmp_path / "c.json"
    counts.to_json(path)
    rc, out, err = run_cli(capsys, "--counts", str(path), "--accuracy", "0.9", "--min-accuracy", "0.8",
                           "--chips", "loihi,loihi2", "--draws", "0", "--format", "json")
    assert rc == 0, err
    doc = json.loads(out)
    assert any(n.startswith("a counts file holds no network to deploy") for n in doc["notes"])
    assert {c["task"]["basis"] for c in doc["chips"]} == {"float-fallback"}
