"""`spikebench choose --results` on a store holding several networks for one workload: (network, chip)
pairs ranked together, each judged with its own network's accuracy and input duration; --network picks
one; the store's cell_frame returns every network unless one is named."""

from __future__ import annotations

import csv
import io
import json

import pytest

from spikebench.choose import ChooseError, Constraints, choose_from_results
from spikebench.cli import main
from spikebench.core.errors import SpikebenchError, UnknownNameError
from spikebench.results import Provenance, ResultsStore, Row

#: network -> (content hash, accuracy, input duration s, {chip: (energy per inference µJ, feasible)})
NETWORKS = {
    "nmnist-reference": ("aaaa1111bbbb", 0.90, 0.3, {"loihi": (150, True), "akida": (300, True),
                                                      "truenorth": (3000, False)}),
    "small": ("cccc2222dddd", 0.70, 0.3, {"loihi": (100, True), "akida": (140, False), "truenorth": (1000, True)}),
    "wide": ("eeee3333ffff", 0.95, 0.3, {"loihi": (400, True), "akida": (250, True), "truenorth": (5000, True)}),
}
LATENCY_S = 1e-3


def cell_rows(network: str, spec) -> list[Row]:
    """E_static = 0.75 E and L = 1 ms for every chip: static power = 750 x E (W per J), dynamic 0.25 E / D."""
    h, acc, dur, chips = spec
    common = {"workload": "nmnist", "backend": "sparse-cpu", "data": "synthetic", "samples": 20, "seed": 0,
              "network": network, "network_hash": h}
    rows = [Row(metric="accuracy", value=acc, unit="1", kind="task", **common),
            Row(metric="chance_accuracy", value=0.1, unit="1", kind="task", **common),
            Row(metric="input_duration_s", value=dur, unit="s", kind="measured", **common)]
    for chip, (uj, ok) in chips.items():
        e = uj * 1e-6
        c = {**common, "chip": chip, "kind": "modelled"}
        rows += [Row(metric="energy_j", value=e, low=0.9 * e, high=1.1 * e, unit="J", source="boundary", **c),
                 Row(metric="energy_dynamic_j", value=0.25 * e, low=0.225 * e, high=0.275 * e, unit="J", **c),
                 Row(metric="energy_static_j", value=0.75 * e, low=0.675 * e, high=0.825 * e, unit="J", **c),
                 Row(metric="latency_s", value=LATENCY_S, low=LATENCY_S, high=LATENCY_S, unit="s", **c),
                 Row(metric="cores", value=1.0, unit="cores", **c),
                 Row(metric="chips", value=1.0, unit="chips", **c),
                 Row(metric="feasible", value=1.0 if ok else 0.0, unit="bool",
                     source="" if ok else f"does not fit {chip}", **c)]
    return rows


def make_store(root, networks=None):
    networks = networks or NETWORKS
    store = ResultsStore(root).open(create=True)
    prov = Provenance(spikebench_version="0", git_commit="x", machine="test")
    run_id = store.start_run({}, prov)
    for n, spec in networks.items():
        cell = "nmnist__sparse-cpu" if n == "nmnist-reference" else f"nmnist__sparse-cpu__{n}-{spec[0][:8]}"
        store.write_cell(run_id, cell, cell_rows(n, spec), prov)
    return root


@pytest.fixture
def store(tmp_path):
    return make_store(tmp_path / "res")


def pairs(choice):
    return [(v.network, v.chip) for v in choice.verdicts if v.feasible]


def run_cli(capsys, *argv):
    rc = main(["choose", *argv])
    out, err = capsys.readouterr()
    return rc, out, err


# ---- ranking ------------------------------------------------------------------------------------------

def test_pairs_ranked_by_energy_each_with_its_own_accuracy(store):
    choice = choose_from_results(store, Constraints(), draws=0)
    # feasible pairs by energy (µJ): small/loihi 100, ref/loihi 150, wide/akida 250, ref/akida 300,
    # wide/loihi 400, small/truenorth 1000, wide/truenorth 5000; infeasible: small/akida, ref/truenorth
    assert pairs(choice) == [("small", "loihi"), ("nmnist-reference", "loihi"), ("wide", "akida"),
                             ("nmnist-reference", "akida"), ("wide", "loihi"), ("small", "truenorth"),
                             ("wide", "truenorth")]
    assert [v.rank for v in choice.feasible] == list(range(1, 8))
    assert {(v.network, v.chip) for v in choice.verdicts if not v.feasible} == {("small", "akida"),
                                                                                ("nmnist-reference", "truenorth")}
    assert choice.best.label == "small / loihi" and choice.task is None
    assert [(e.name, e.network_hash, e.task.value) for e in choice.networks] == [
        ("nmnist-reference", "aaaa1111bbbb", 0.9), ("small", "cccc2222dddd", 0.7), ("wide", "eeee3333ffff", 0.95)]
    assert {v.label for v in choice.verdicts if v.pareto} == {"small / loihi", "nmnist-reference / loihi",
                                                              "wide / akida"}
    note = next(n for n in choice.notes if n.startswith("no --min-accuracy"))
    assert "small / loihi has accuracy 0.7" in note and "wide / akida 0.95 at 250 µJ" in note
    # static power 0.75 x 100 µJ / 1 ms = 75 mW, dynamic 25 µJ / 0.3 s
    assert choice.best.power_w.nominal == pytest.approx(0.075 + 25e-6 / 0.3)


@pytest.mark.parametrize("floor, first", [(0.8, ("nmnist-reference", "loihi")), (0.93, ("wide", "akida")),
                                          (0.7, ("small", "loihi"))])
def test_min_accuracy_uses_each_pairs_own_accuracy(store, floor, first):
    choice = choose_from_results(store, Constraints(min_accuracy=floor), draws=0)
    assert pairs(choice)[0] == first
    for v in choice.verdicts:
        acc = NETWORKS[v.network][1]
        assert (f"accuracy {acc:.3g} below {floor:g}" in " ".join(v.reasons)) == (acc < floor)


def test_no_network_accurate_enough_names_the_best_one(store):
    with pytest.raises(ChooseError) as exc:
        choose_from_results(store, Constraints(min_accuracy=0.99), draws=0)
    msg = str(exc.value)
    assert "--min-accuracy 0.99 rules out every network" in msg and "wide, has accuracy 0.95" in msg
    assert "to 0.95" in msg


def test_binding_power_named_among_networks_accurate_enough(store):
    """small / loihi (75.1 mW) fails --min-accuracy 0.8; among the others the lowest power is
    nmnist-reference / loihi: 0.75 x 150 µJ / 1 ms + 0.25 x 150 µJ / 0.3 s = 112.625 mW."""
    with pytest.raises(ChooseError) as exc:
        choose_from_results(store, Constraints(min_accuracy=0.8, max_power_w=0.1), draws=0)
    msg = str(exc.value)
    assert "loosen --max-power-mw from 100 to 113" in msg and "(nmnist-reference / loihi)" in msg


def test_each_network_judged_against_its_own_input_duration(tmp_path):
    nets = dict(NETWORKS)
    h, acc, _, chips = nets["wide"]
    nets["wide"] = (h, acc, 0.5e-3, chips)  # 0.5 ms per input: 1 ms latency cannot keep up
    choice = choose_from_results(make_store(tmp_path / "r", nets), Constraints(), draws=0)
    wide = [v for v in choice.verdicts if v.network == "wide"]
    assert wide and not any(v.feasible for v in wide)
    assert all("cannot keep up" in v.reasons[-1] for v in wide)
    assert choice.network("wide").input_duration_s == 0.5e-3
    assert ("nmnist-reference", "loihi") in pairs(choice)


def test_stability_over_pairs(store):
    choice = choose_from_results(store, Constraints(), draws=40, seed=3)
    assert choice.stability.ranking[0] == "small / loihi" and len(choice.stability.ranking) == 7
    assert choose_from_results(store, Constraints(), draws=40, seed=3).stability == choice.stability


# ---- one network ----------------------------------------------------------------------------------------

def test_network_restricts_to_one_and_reads_as_a_single_network(store):
    choice = choose_from_results(store, Constraints(), draws=0, network="wide")
    assert [v.chip for v in choice.feasible] == ["akida", "loihi", "truenorth"]
    assert choice.networks == () and all(v.network == "" for v in choice.verdicts)
    assert choice.task.value == 0.95 and "(network wide)" in choice.source
    assert "network" not in choice.to_dict()["chips"][0] and "networks" not in choice.to_dict()
    with pytest.raises(UnknownNameError, match="network 'nope' has no rows for nmnist .* it has: "
                                               "nmnist-reference, small, wide"):
        choose_from_results(store, Constraints(), draws=0, network="nope")


def test_single_network_store_has_no_network_column(tmp_path, capsys):
    root = make_store(tmp_path / "one", {"small": NETWORKS["small"]})
    rc, out, err = run_cli(capsys, "--results", str(root), "--draws", "0")
    assert rc == 0, err
    header = next(line for line in out.splitlines() if line.startswith("rank"))
    assert header.split()[:3] == ["rank", "chip", "feasible"] and "network" not in header
    assert "task: accuracy 0.7" in out and not any(line.startswith("network ") for line in out.splitlines())
    rc, out, _ = run_cli(capsys, "--results", str(root), "--draws", "0", "--format", "csv")
    assert next(csv.reader(io.StringIO(out)))[:3] == ["rank", "chip", "feasible"]


# ---- the command ----------------------------------------------------------------------------------------

def test_cli_table_json_csv_with_networks(store, capsys):
    rc, out, err = run_cli(capsys, "--results", str(store), "--workload", "nmnist", "--draws", "0",
                           "--min-accuracy", "0.8")
    assert rc == 0, err
    header = next(line for line in out.splitlines() if line.startswith("rank"))
    assert header.split()[:5] == ["rank", "network", "chip", "feasible", "accuracy"]
    first = out.splitlines()[out.splitlines().index(header) + 2].split()
    assert first[:5] == ["1", "nmnist-reference", "loihi", "yes", "0.9"]
    assert "network small (cccc2222) on sparse-cpu: accuracy 0.7" in out
    assert "small / loihi: infeasible: accuracy 0.7 below 0.8 by 0.1" in out
    assert "choice: nmnist-reference / loihi" in out and "accuracy 0.9, 150 µJ per inference" in out
    rc, out, _ = run_cli(capsys, "--results", str(store), "--draws", "0", "--min-accuracy", "0.8", "--format", "json")
    doc = json.loads(out)
    assert (doc["choice"], doc["choice_network"], doc["task"]) == ("loihi", "nmnist-reference", None)
    assert [n["network"] for n in doc["networks"]] == ["nmnist-reference", "small", "wide"]
    assert doc["chips"][0]["network"] == "nmnist-reference" and doc["chips"][0]["pareto"] is True
    rc, out, _ = run_cli(capsys, "--results", str(store), "--draws", "0", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0])[:7] == ["rank", "network", "network_hash", "task_metric", "task_value", "pareto", "chip"]
    assert (rows[0]["network"], rows[0]["chip"], rows[0]["task_value"]) == ("small", "loihi", "0.7")


def test_cli_network_option(store, capsys):
    rc, out, err = run_cli(capsys, "--results", str(store), "--network", "small", "--draws", "0")
    assert rc == 0, err
    assert "choice: loihi (" in out and "(network small)" in out and "rank  chip " in out
    rc, out, err = run_cli(capsys, "--results", str(store), "--network", "nope")
    assert rc == 2 and out == "" and err.count("\n") == 1
    assert "network 'nope' has no rows for nmnist" in err and "nmnist-reference, small, wide" in err
    rc, _, err = run_cli(capsys, "--workload", "nmnist", "--network", "small")
    assert rc == 2 and "use it with --results DIR" in err


# ---- the store ------------------------------------------------------------------------------------------

def test_cell_frame_returns_every_network_unless_named(store):
    s = ResultsStore(store).open(create=False)
    workload, backend, rows = s.cell_frame()
    assert (workload, backend) == ("nmnist", "sparse-cpu")
    assert ResultsStore.networks_of(rows, "nmnist") == ["nmnist-reference", "small", "wide"]
    _, _, one = s.cell_frame("nmnist", None, "small")
    assert set(one["network"]) == {"small"}
    assert [e.chip for e in s.estimates(one)] == ["loihi", "akida", "truenorth"]
    with pytest.raises(SpikebenchError, match="group by network"):
        s.estimates(rows)
