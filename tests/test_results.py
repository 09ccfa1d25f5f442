"""Results store and harness: tidy rows, append-only, atomic cells, resume without duplicates."""

from __future__ import annotations

import json

import numpy as np
import pytest

import spikebench as sb
from spikebench.harness import RunConfig, cell_name, run
from spikebench.results import COLUMNS, SCHEMA, Provenance, ResultsStore, Row
from spikebench.workloads.base import Metric, WorkloadData


class FakeWorkload:
    """A tiny classification workload: random spikes, a random net, accuracy vs random labels."""

    task = "classification"

    def __init__(self, name: str, n_in: int = 20):
        self.name, self.n_in = name, n_in

    def load(self, split, *, data_dir=None, require_real=False, limit=None, seed=0):
        n = limit or 6
        spikes = sb.random_spikes(n, 30, self.n_in, 0.2, seed=seed + 1)
        labels = np.arange(n) % 3
        return WorkloadData(spikes=spikes, labels=labels, provenance="synthetic", source=f"fake:{self.name}")

    def reference_network(self):
        return sb.Network.random(sizes=[self.n_in, 16, 3], recurrent=[True, False], seed=4,
                                 weight_std=[3 / np.sqrt(self.n_in), 3 / 4], weight_bits=8)

    def check_network(self, net, *, label="the network"):
        if net.n_in != self.n_in:
            raise sb.SpikebenchError(f"{label} takes {net.n_in} inputs, {self.name} gives {self.n_in}")

    def score(self, output_spikes, data):
        pred = output_spikes.sum(axis=1).argmax(axis=1)
        return [Metric(name="accuracy", value=float(np.mean(pred == data.labels)), note="synthetic data")]


@pytest.fixture
def fake_registry(use_workloads):
    return use_workloads({"fake-a": FakeWorkload("fake-a"), "fake-b": FakeWorkload("fake-b", n_in=12)})


def config(**kw):
    base = dict(workloads=("fake-a", "fake-b"), backends=("sparse-cpu", "snntorch"), chips=("loihi", "akida", "cpu"))
    return RunConfig(**{**base, **kw})


def test_run_writes_tidy_rows(tmp_path, fake_registry):
    run_id, written = run(config(), tmp_path / "res", progress=False)
    assert written == 4
    store = ResultsStore(tmp_path / "res").open(create=False)
    df = store.frame()
    assert list(df.columns) == list(COLUMNS)
    assert set(df["kind"]) == {"task", "measured", "modelled"}
    assert set(df["data"]) == {"synthetic"}
    assert (df["run_id"] == run_id).all()
    assert not df.duplicated(["workload", "backend", "chip", "metric"]).any()
    # both backends simulate the same events; chip estimates agree too
    ev = df[(df.metric == "synaptic_events_per_inference") & (df.chip == "")].set_index(["workload", "backend"])["value"]
    assert ev["fake-a", "sparse-cpu"] == ev["fake-a", "snntorch"] > 0
    e = df[(df.metric == "energy_j") & (df.chip == "loihi")]
    assert len(e) == 4 and (e["low"] <= e["value"]).all() and (e["value"] <= e["high"]).all()
    assert set(e["unit"]) == {"J"}
    acc = df[(df.metric == "accuracy") & (df.chip == "")]  # the float network's, one per cell
    assert len(acc) == 4 and set(acc["kind"]) == {"task"}
    # and one per chip and cell on the network as the chip holds it (deployed, or the float one on cpu/gpu)
    on_chip = df[(df.metric == "accuracy") & (df.chip != "")]
    assert set(on_chip["kind"]) == {"task"} and not on_chip.duplicated(["workload", "backend", "chip"]).any()
    assert df["git_commit"].str.len().min() >= 7 and df["spikebench_version"].iloc[0] == sb.__version__


def test_interrupted_run_resumes_without_duplicates(tmp_path, fake_registry):
    out = tmp_path / "res"
    seen = []

    def interrupt_after_two(cell):
        seen.append(cell)
        if len(seen) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(config(), out, progress=False, on_cell=interrupt_after_two)
    store = ResultsStore(out).open(create=False)
    (run_id,) = store.runs()
    assert store.finished_cells(run_id) == set(seen)
    partial = store.frame()
    assert set(zip(partial.workload, partial.backend)) == {tuple(c.split("__")) for c in seen}
    # every file in the store parses: no half-written cell
    for p in (out / "runs" / run_id / "cells").iterdir():
        json.loads(p.read_text())
    rid, written = run(config(), out, resume=True, progress=False)
    assert rid == run_id and written == 2
    full = store.frame()
    assert len(full) == 2 * len(partial)
    assert not full.duplicated(["workload", "backend", "chip", "metric"]).any()
    # resuming a finished run does nothing
    assert run(config(), out, resume=True, progress=False) == (run_id, 0)


def test_resume_with_other_config_is_refused(tmp_path, fake_registry):
    run(config(workloads=("fake-a",)), tmp_path / "r", progress=False)
    with pytest.raises(sb.SpikebenchError, match="another configuration"):
        run(config(), tmp_path / "r", resume=True, progress=False)


def test_new_run_appends_and_latest_wins(tmp_path, fake_registry):
    out = tmp_path / "r"
    r1, _ = run(config(workloads=("fake-a",), backends=("sparse-cpu",)), out, progress=False)
    r2, _ = run(config(workloads=("fake-a",), backends=("sparse-cpu",)), out, progress=False)
    store = ResultsStore(out).open(create=False)
    assert store.runs() == sorted([r1, r2])
    assert set(store.frame()["run_id"]) == {max(r1, r2)}
    assert set(store.frame(latest_only=False)["run_id"]) == {r1, r2}


def test_unknown_names_fail_before_any_work(tmp_path, fake_registry):
    for kw, msg in ((dict(workloads=("nope",)), "unknown workload 'nope'"),
                    (dict(backends=("loihi",)), "unknown backend 'loihi'"),
                    (dict(chips=("tpu",)), "unknown chip 'tpu'")):
        with pytest.raises(sb.SpikebenchError, match=msg):
            run(config(**kw), tmp_path / "x", progress=False)
        assert not (tmp_path / "x").exists()


def test_store_refuses_other_schema_and_foreign_folders(tmp_path):
    other = tmp_path / "old"
    other.mkdir()
    (other / "store.json").write_text(json.dumps({"schema": "spikebench.results/0"}))
    with pytest.raises(sb.FileFormatError, match="schema 'spikebench.results/0'"):
        ResultsStore(other).open(create=True)
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    with pytest.raises(sb.SpikebenchError, match="not empty"):
        ResultsStore(busy).open(create=True)
    with pytest.raises(sb.FileFormatError, match="not a spikebench results folder"):
        ResultsStore(tmp_path / "missing").open(create=False)


def test_cells_are_append_only(tmp_path):
    store = ResultsStore(tmp_path / "s").open(create=True)
    prov = Provenance(spikebench_version="0", git_commit="abc", machine="m")
    rid = store.start_run({"x": 1}, prov)
    row = Row(workload="w", backend="b", metric="accuracy", value=0.5, unit="1", kind="task", data="synthetic")
    store.write_cell(rid, "w__b", [row], prov)
    with pytest.raises(sb.SpikebenchError, match="append-only"):
        store.write_cell(rid, "w__b", [row], prov)
    with pytest.raises(ValueError, match="duplicate row"):
        store.write_cell(rid, "w__c", [row, row], prov)
    assert not (tmp_path / "s" / "runs" / rid / "cells" / "w__c.json").exists()
    assert json.loads((tmp_path / "s" / "store.json").read_text()) == {"schema": SCHEMA}
    assert cell_name("nmnist", "sparse-cpu") == "nmnist__sparse-cpu"
