"""The chip chooser (`spikebench choose`): power arithmetic by hand, ranking, every infeasibility
reason, stability, the three input paths and one-line errors with exit code 2."""

from __future__ import annotations

import json

import numpy as np
import pytest

import spikebench as sb
import spikebench.workloads
from spikebench.choose import (
    NOT_SETTLED_SWAP,
    ChooseError,
    Constraints,
    Stability,
    TaskScore,
    choose_from_counts,
    choose_from_results,
    choose_from_workload,
)
from spikebench.cli import main
from spikebench.cli.choose import format_table
from spikebench.core import EventCounts
from spikebench.workloads.base import Metric, WorkloadData

DRAWS = 40


def counts_doc(*, timesteps=10, timestep_s=1e-3, samples=1, recurrent=False, spikes=0, n_in=4, n_out=2, bits=8):
    """One layer n_in -> n_out; ``spikes`` input spikes, each reaching every output (dense weights)."""
    layer = {"name": "lif1", "kind": "recurrent" if recurrent else "dense", "n_in": n_in, "n_out": n_out,
             "spikes_in": spikes, "synaptic_events": spikes * n_out, "neuron_updates": samples * timesteps * n_out,
             "spikes_out": 0, "synapses": n_in * n_out + (n_out * n_out if recurrent else 0),
             "fan_in_max": n_in + (n_out if recurrent else 0), "weight_bits": bits}
    return {"schema": "spikebench.counts/1", "samples": samples, "timesteps": timesteps, "timestep_s": timestep_s,
            "layers": [layer]}


def counts_of(**kw) -> EventCounts:
    return EventCounts.from_dict(counts_doc(**kw))


@pytest.fixture
def counts_file(tmp_path):
    path = tmp_path / "counts.json"
    path.write_text(json.dumps(counts_doc(spikes=30, timesteps=100, n_in=64, n_out=16)))
    return path


def run_cli(capsys, *argv):
    rc = main(["choose", *argv])
    out, err = capsys.readouterr()
    return rc, out, err


def by_chip(choice):
    return {v.chip: v for v in choice.verdicts}


# ---- arithmetic ---------------------------------------------------------------------------------------

def test_power_arithmetic_by_hand_loihi():
    """Silent 4 -> 2 layer, 10 steps of 1 ms (D = 10 ms), duty 0.25, on Loihi.

    Dynamic: no synaptic events, so every update is inactive: 20 updates x 52 pJ = 1.04 nJ
    (low 51.2 pJ each over the constants; the interval rule widens it to 1.04 nJ / 1.5). Static: one chip, so the
    single-chip board's 29 mW + 65.3 mW x86 = 94.3 mW (the 32-chip board's 104 mW is for 2 or more chips).
    Average power = 0.25 x 1.04 nJ / 10 ms + 94.3 mW = 94.300026 mW.
    """
    c = Constraints(max_power_w=0.2, duty_cycle=0.25)
    v = by_chip(choose_from_counts(counts_of(), c, chips=["loihi"], draws=0))["loihi"]
    assert v.energy_dynamic_j.nominal == pytest.approx(20 * 52e-12)
    assert v.static_power_w.nominal == pytest.approx(0.0943)
    # the constants' box is 0.0261 + 0.0653 .. 0.0319 + 0.0669 W; the interval rule (regime.py, inside the
    # regime) widens each side to at least x1.5: 0.0943 / 1.5 .. 0.0943 x 1.5
    assert v.static_power_w.low == pytest.approx(0.0943 / 1.5)
    assert v.static_power_w.high == pytest.approx(0.0943 * 1.5)
    assert v.power_w.nominal == pytest.approx(0.25 * 20 * 52e-12 / 0.010 + 0.0943, rel=1e-12)
    assert v.power_w.low == pytest.approx(0.25 * 20 * 52e-12 / 1.5 / 0.010 + 0.0943 / 1.5, rel=1e-12)
    assert v.power_margin_w == pytest.approx(0.2 - v.power_w.nominal)
    assert v.latency_margin_s is None and v.feasible


def test_duty_cycle_scales_only_dynamic_power():
    counts = counts_of(spikes=40, timesteps=20)
    full = by_chip(choose_from_counts(counts, Constraints(duty_cycle=1.0), draws=0))
    tenth = by_chip(choose_from_counts(counts, Constraints(duty_cycle=0.1), draws=0))
    D = 20 * 1e-3
    for chip, v in full.items():
        w = tenth[chip]
        assert w.static_power_w == v.static_power_w
        assert v.power_w.nominal == pytest.approx(v.energy_dynamic_j.nominal / D + v.static_power_w.nominal)
        assert w.power_w.nominal == pytest.approx(0.1 * v.energy_dynamic_j.nominal / D + v.static_power_w.nominal)


def test_static_power_matches_real_time_estimate():
    """P_static = E_static / L holds on the fast and the real-time estimates alike (the definition)."""
    from spikebench.hardware_models import NetworkProfile, get_chip

    counts = counts_of(spikes=30, timesteps=50)
    v = by_chip(choose_from_counts(counts, Constraints(), chips=["loihi2"], draws=0))["loihi2"]
    e = get_chip("loihi2").estimate(NetworkProfile.from_counts(counts), counts)
    assert v.static_power_w.nominal == pytest.approx(e.energy_static_j.nominal / e.latency_s.nominal)


# ---- ranking and stability ----------------------------------------------------------------------------

def test_ranking_by_nominal_energy_feasible_first():
    choice = choose_from_counts(counts_of(spikes=30, timesteps=100, n_in=64, n_out=16),
                                Constraints(max_power_w=0.15), draws=DRAWS, seed=3)
    feas = choice.feasible
    assert len(feas) >= 2
    energies = [v.energy_j.nominal for v in feas]
    assert energies == sorted(energies)
    assert [v.rank for v in feas] == list(range(1, len(feas) + 1))
    assert all(not v.feasible and v.rank is None for v in choice.verdicts[len(feas):])
    assert list(choice.verdicts[:len(feas)]) == list(feas)
    assert choice.best is feas[0]
    assert choice.stability.ranking == tuple(v.chip for v in feas)
    low = min(feas, key=lambda v: v.power_w.nominal)
    assert (low is not feas[0]) == any("by average power" in n for n in choice.notes)


def test_stability_deterministic_and_reported_in_percent(counts_file, capsys):
    counts = EventCounts.from_json(counts_file)
    a = choose_from_counts(counts, Constraints(), draws=DRAWS, seed=7)
    b = choose_from_counts(counts, Constraints(), draws=DRAWS, seed=7)
    assert a.stability == b.stability
    d = a.to_dict()["stability"]
    assert d["draws"] == DRAWS and d["seed"] == 7 and d["method"] == "constants"
    for k in ("top_changed_pct", "ranking_changed_pct", "top_two_swap_pct"):
        assert 0.0 <= d[k] <= 100.0
    rc, out, _ = run_cli(capsys, "--counts", str(counts_file), "--draws", str(DRAWS), "--seed", "7")
    assert rc == 0 and "stability: over 40 draws (seed 7)" in out and "%" in out
    rc, out2, _ = run_cli(capsys, "--counts", str(counts_file), "--draws", str(DRAWS), "--seed", "7")
    assert out2 == out


def test_not_settled_when_top_two_swap_often():
    s = Stability(draws=100, seed=0, method="constants", ranking=("loihi2", "loihi"), top_changed=0.45,
                  ranking_changed=0.45, top_two_swap=0.45)
    assert not s.settled and "NOT settled: loihi2 and loihi swap in 45.0 %" in s.describe()
    s2 = Stability(draws=100, seed=0, method="constants", ranking=("a", "b"), top_changed=0.0, ranking_changed=0.0,
                   top_two_swap=NOT_SETTLED_SWAP / 2)
    assert s2.settled and s2.describe().endswith("settled")


# ---- reasons ------------------------------------------------------------------------------------------

def test_each_infeasibility_reason():
    counts = counts_of(spikes=30, timesteps=100, n_in=64, n_out=16, recurrent=True)
    task = TaskScore(metric="accuracy", value=0.5, data="synthetic")
    c = Constraints(max_power_w=0.05, max_latency_s=0.005, min_accuracy=0.8)
    v = by_chip(choose_from_counts(counts, c, task=task, draws=0, strict=False))
    assert any(r.startswith("mapping infeasible:") and "recurrent" in r for r in v["akida"].reasons)
    # one Loihi chip idles at 29 + 65.3 mW (single-chip board + x86 cores)
    assert any(r.startswith("average power") and "over budget 50 mW by" in r for r in v["loihi"].reasons)
    assert any(r.startswith("latency 100 ms over budget 5 ms by 95 ms") for r in v["spinnaker2"].reasons)
    assert all(any(r == "accuracy 0.5 below 0.8 by 0.3" for r in x.reasons) for x in v.values())
    # a stream too fast for every chip: 10 steps of 10 ns
    fast = by_chip(choose_from_counts(counts_of(timestep_s=1e-8, spikes=4), Constraints(), draws=0, strict=False))
    assert any(r.startswith("cannot keep up with the real-time stream") for r in fast["loihi"].reasons)
    assert not fast["loihi"].keeps_up


def test_truenorth_pipeline_fill_does_not_fail_the_stream():
    """TrueNorth at its 1 ms tick finishes (T + fill) ticks after the input starts: it keeps up."""
    v = by_chip(choose_from_counts(counts_of(timesteps=100, n_in=700, n_out=8, spikes=10), Constraints(),
                                   chips=["truenorth"], draws=0))["truenorth"]
    assert v.latency_s.nominal > 0.1 and v.keeps_up and v.feasible


def test_placeholder_chip_flagged_with_cited_alternative():
    counts = counts_of(spikes=30, timesteps=100, n_in=64, n_out=16)
    choice = choose_from_counts(counts, Constraints(duty_cycle=0.1), chips=["cpu", "loihi2", "loihi"], draws=0)
    v = by_chip(choice)
    assert v["cpu"].placeholder and not v["loihi2"].placeholder
    if choice.best.chip == "cpu":
        assert choice.best_cited.chip == "loihi2"
        assert "warning: cpu's estimate rests on unverified placeholder constants" in format_table(choice)
    assert choice.to_dict()["choice_cited"] == choice.best_cited.chip


def test_requantisation_flagged_and_synthetic_data_noted():
    task = TaskScore(metric="accuracy", value=0.9, data="synthetic")
    choice = choose_from_counts(counts_of(spikes=5), Constraints(min_accuracy=0.8), task=task, draws=0)
    v = by_chip(choice)
    assert v["truenorth"].requantised and any("re-quantises the weights" in n for n in v["truenorth"].notes)
    assert not v["loihi"].requantised
    wide = by_chip(choose_from_counts(counts_of(spikes=5, bits=16), Constraints(), chips=["loihi", "loihi2"],
                                      draws=0))
    assert wide["loihi"].requantised and wide["loihi2"].requantised
    text = format_table(choice)
    assert "synthetic data" in text and "not comparable with published numbers" in text


# ---- input paths --------------------------------------------------------------------------------------

def test_cli_counts_json(counts_file, capsys):
    rc, out, err = run_cli(capsys, "--counts", str(counts_file), "--max-power-mw", "150", "--max-latency-ms", "10",
                           "--duty-cycle", "0.1", "--chips", "loihi,loihi2,akida", "--format", "json",
                           "--draws", str(DRAWS), "--accuracy", "0.9", "--min-accuracy", "0.8")
    assert rc == 0 and err == ""
    doc = json.loads(out)
    assert doc["schema"] == "spikebench.choice/1"
    assert [c["chip"] for c in doc["chips"]][:1] == [doc["choice"]]
    assert doc["constraints"] == {"max_power_w": 0.15, "max_latency_s": 0.01, "min_accuracy": 0.8, "duty_cycle": 0.1}
    assert doc["input_duration_s"] == pytest.approx(0.1)
    assert doc["task"]["data"] == "stated"
    assert {c["chip"] for c in doc["chips"]} == {"loihi", "loihi2", "akida"}


def test_cli_counts_table(counts_file, capsys):
    rc, out, _ = run_cli(capsys, "--counts", str(counts_file), "--max-power-mw", "150", "--draws", "0")
    assert rc == 0
    assert "rank" in out and "avg power [low - high]" in out and "choice: " in out
    assert "infeasible: average power" in out


class FakeWorkload:
    """A tiny workload following the protocol of spikebench.workloads.base."""

    name = "fake"
    task = "classification"

    def __init__(self):
        self.loaded = []

    def load(self, split, *, data_dir=None, require_real=False, limit=None, seed=0):
        self.loaded.append((split, limit, seed))
        spikes = sb.random_spikes(samples=limit or 4, timesteps=20, n_in=12, density=0.2, seed=seed)
        return WorkloadData(spikes=spikes, labels=np.zeros(spikes.samples, dtype=int), provenance="synthetic",
                            source="fake generator")

    def reference_network(self):
        return sb.Network.random(sizes=[12, 6, 3], recurrent=[False, False], seed=0)

    def score(self, output_spikes, data):
        return [Metric(name="accuracy", value=0.75), Metric(name="chance", value=1 / 3)]


def test_workload_path_simulates_and_scores():
    wl = FakeWorkload()
    choice = choose_from_workload(wl, Constraints(min_accuracy=0.7), limit=3, seed=2, draws=DRAWS)
    assert wl.loaded == [("test", 3, 2)]
    assert choice.task.metric == "accuracy" and choice.task.value == 0.75 and choice.task.synthetic
    assert choice.timesteps == 20 and choice.input_duration_s == pytest.approx(0.02)
    assert "workload fake" in choice.source and choice.best is not None
    with pytest.raises(ChooseError, match=r"--min-accuracy 0.8 rules out every chip.*accuracy is 0.75.*to 0.75"):
        choose_from_workload(wl, Constraints(min_accuracy=0.8), limit=3, draws=0)


def test_cli_workload_path(monkeypatch, capsys):
    fake = FakeWorkload()

    def get_workload(name):
        if name != "fake":
            raise sb.UnknownNameError(f"unknown workload {name!r}; known workloads: fake")
        return fake

    monkeypatch.setattr(spikebench.workloads, "get_workload", get_workload, raising=False)
    rc, out, err = run_cli(capsys, "--workload", "fake", "--limit", "2", "--min-accuracy", "0.5", "--format", "json",
                           "--draws", str(DRAWS))
    assert rc == 0, err
    doc = json.loads(out)
    assert doc["task"]["value"] == 0.75 and doc["task"]["data"] == "synthetic"
    assert any("synthetic data" in n for n in doc["notes"])
    rc, out, err = run_cli(capsys, "--workload", "nosuch")
    assert rc == 2 and out == "" and "unknown workload 'nosuch'" in err and err.count("\n") == 1


def test_results_store_path(tmp_path):
    from spikebench.hardware_models import estimate_all
    from spikebench.results import Provenance, ResultsStore, Row, estimate_rows

    counts = counts_of(spikes=30, timesteps=100, n_in=300, n_out=16)  # fan-in 300 > 256: TrueNorth adds a tick
    common = {"workload": "fake", "backend": "sparse-cpu", "data": "synthetic", "samples": 1, "seed": 0}
    rows = [Row(metric="accuracy", value=0.9, unit="1", kind="task", **common)]
    rows += estimate_rows(estimate_all(counts, ["loihi", "loihi2", "akida", "truenorth"]), **common)
    store = ResultsStore(tmp_path / "res").open(create=True)
    prov = Provenance(spikebench_version="0", git_commit="x", machine="test")
    store.write_cell(store.start_run({}, prov), "fake__sparse-cpu", rows, prov)
    c = Constraints(max_power_w=0.15, min_accuracy=0.8)
    from_store = choose_from_results(tmp_path / "res", c, input_duration_s=0.1, draws=DRAWS, seed=1)
    direct = choose_from_counts(counts, c, chips=["loihi", "loihi2", "akida", "truenorth"], draws=0,
                                task=TaskScore(metric="accuracy", value=0.9, data="synthetic"))
    assert [v.chip for v in from_store.verdicts] == [v.chip for v in direct.verdicts]
    assert [v.feasible for v in from_store.verdicts] == [v.feasible for v in direct.verdicts]
    for a, b in zip(from_store.verdicts, direct.verdicts):
        assert a.power_w.nominal == pytest.approx(b.power_w.nominal, rel=1e-9)
    assert from_store.task.value == 0.9 and from_store.stability.method == "stored-intervals"
    again = choose_from_results(tmp_path / "res", c, input_duration_s=0.1, draws=DRAWS, seed=1)
    assert again.stability == from_store.stability
    # TrueNorth's pipeline fill (2 % over the input here) is not stored: passes with a note
    tn = by_chip(choose_from_results(tmp_path / "res", Constraints(), input_duration_s=0.1, draws=0))["truenorth"]
    assert tn.keeps_up and any("pipeline fill" in n for n in tn.notes)


def test_cli_results_path(tmp_path, capsys, monkeypatch):
    from spikebench.hardware_models import estimate_all
    from spikebench.results import Provenance, ResultsStore, Row, estimate_rows

    counts = counts_of(spikes=30, timesteps=20, n_in=64, n_out=16)
    common = {"workload": "fake", "backend": "sparse-cpu", "data": "real-sample", "samples": 1, "seed": 0}
    rows = [Row(metric="accuracy", value=0.9, unit="1", kind="task", **common)]
    rows += estimate_rows(estimate_all(counts, ["loihi", "loihi2", "cpu"]), **common)
    store = ResultsStore(tmp_path / "res").open(create=True)
    prov = Provenance(spikebench_version="0", git_commit="x", machine="test")
    store.write_cell(store.start_run({}, prov), "fake__sparse-cpu", rows, prov)
    monkeypatch.setattr(spikebench.workloads, "get_workload", lambda name: FakeWorkload(), raising=False)
    rc, out, err = run_cli(capsys, "--results", str(tmp_path / "res"), "--min-accuracy", "0.8", "--format", "json",
                           "--draws", str(DRAWS))
    assert rc == 0, err
    doc = json.loads(out)
    assert doc["input_duration_s"] == pytest.approx(0.02)  # one sample of the workload: 20 steps x 1 ms
    assert doc["choice_cited"] in ("loihi", "loihi2") and doc["task"]["data"] == "real-sample"
    assert next(c for c in doc["chips"] if c["chip"] == "cpu")["placeholder"]
    rc, _, err = run_cli(capsys, "--results", str(tmp_path / "res"), "--chips", "akida", "--input-duration-ms", "20")
    assert rc == 2 and "chip 'akida' has no estimate for fake" in err


# ---- bad input: one line, exit 2 ----------------------------------------------------------------------

@pytest.mark.parametrize("argv, needle", [
    (["--chips", "loihi,warp9"], "unknown chip 'warp9'"),
    (["--duty-cycle", "0"], "--duty-cycle must be in (0, 1]"),
    (["--duty-cycle", "1.5"], "--duty-cycle must be in (0, 1]"),
    (["--max-power-mw", "-5"], "--max-power-mw must be a finite number > 0, got -5"),
    (["--max-latency-ms", "0"], "--max-latency-ms must be a finite number > 0"),
    (["--min-accuracy", "80", "--accuracy", "0.9"], "--min-accuracy must be in [0, 1]"),
    (["--min-accuracy", "0.8"], "--min-accuracy needs the network's task metric"),
    (["--draws", "-1"], "--draws must be an integer in [0, 100000]"),
    (["--max-power-mw", "10", "--chips", "loihi,loihi2,akida,truenorth,spinnaker2"],
     "--max-power-mw rules out every chip that meets the other constraints: loosen --max-power-mw from 10 to"),
    (["--max-latency-ms", "0.01", "--chips", "loihi,loihi2"],
     "--max-latency-ms rules out every chip that meets the other constraints: loosen --max-latency-ms from 0.01 to"),
    (["--max-power-mw", "10", "--max-latency-ms", "0.01", "--chips", "loihi,truenorth"],
     "no chip meets the power and latency constraints together; the closest"),
])
def test_bad_input_exit_2_one_line(counts_file, capsys, argv, needle):
    rc, out, err = run_cli(capsys, "--counts", str(counts_file), "--draws", "0", *argv)
    assert rc == 2 and out == ""
    assert err.startswith("spikebench: error: ") and err.count("\n") == 1
    assert needle in err


def test_loosened_budget_is_enough(counts_file, capsys):
    """The value the error names is, when given, enough for the chip it names."""
    chips = "loihi,loihi2,akida"
    _, _, err = run_cli(capsys, "--counts", str(counts_file), "--draws", "0", "--chips", chips, "--max-power-mw", "50")
    needed = err.split(" to ")[1].split()[0]
    rc, out, _ = run_cli(capsys, "--counts", str(counts_file), "--draws", "0", "--chips", chips,
                         "--max-power-mw", needed)
    assert rc == 0 and "choice: " in out


def test_no_chip_keeps_up_or_maps(tmp_path, capsys):
    path = tmp_path / "fast.json"
    path.write_text(json.dumps(counts_doc(timestep_s=1e-8, spikes=4)))
    rc, _, err = run_cli(capsys, "--counts", str(path), "--draws", "0", "--chips", "loihi,loihi2,truenorth,gpu")
    assert rc == 2 and "no chip keeps up with the real-time stream" in err
    path.write_text(json.dumps(counts_doc(recurrent=True)))
    rc, _, err = run_cli(capsys, "--counts", str(path), "--draws", "0", "--chips", "akida")
    assert rc == 2 and "no chip can map this network (akida:" in err and "recurrent" in err


def test_source_options_exclusive(counts_file, tmp_path, capsys):
    rc, _, err = run_cli(capsys, "--counts", str(counts_file), "--results", str(tmp_path))
    assert rc == 2 and "either --counts or --results" in err
    rc, _, err = run_cli(capsys)
    assert rc == 2 and "--workload NAME, --counts FILE or --results DIR" in err
    rc, _, err = run_cli(capsys, "--results", str(tmp_path / "none"))
    assert rc == 2 and "not a spikebench results folder" in err


def test_extrapolated_estimate_is_noted():
    """An estimate outside the chip's regime (issue 14) says so in the verdict's notes."""
    counts = counts_of(spikes=30, timesteps=100, n_in=64, n_out=16)
    v = by_chip(choose_from_counts(counts, Constraints(), chips=["akida", "loihi"], draws=0))
    assert any(n.startswith("estimate extrapolated") and "synaptic events per inference" in n for n in v["akida"].notes)
    assert not any(n.startswith("estimate extrapolated") for n in v["loihi"].notes)
