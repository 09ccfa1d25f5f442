"""A real run since chips deploy the network (issue 10), read back: the store's estimates, the float
network's rows and each chip's deployed rows stay apart, and the report and the chooser agree with
the stored rows."""

from __future__ import annotations

import pytest

from spikebench.results import ESTIMATE_METRICS, ResultsStore

CHIPS = ("loihi2", "akida", "cpu")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    hm = pytest.importorskip("spikebench.hardware_models")
    if not hasattr(hm, "deploy"):
        pytest.skip("hardware_models.deploy is not there yet")
    from spikebench.harness import RunConfig, run

    root = tmp_path_factory.mktemp("deployed") / "res"
    run(RunConfig(workloads=("shd",), backends=("sparse-cpu",), chips=CHIPS, limit=12), root, progress=False)
    return root


def test_rows_read_back_apart(store):
    s = ResultsStore(store).open(create=False)
    workload, backend, rows = s.cell_frame()
    assert (workload, backend) == ("shd", "sparse-cpu")
    estimates = {e.chip: e for e in s.estimates(rows)}
    assert list(estimates) == list(CHIPS)
    # akida (1.0) holds no recurrent layer: its numeric format says so first
    assert not estimates["akida"].feasible and estimates["akida"].reasons[0].startswith("numeric format: ")
    flt = ResultsStore.float_rows(rows)
    assert set(flt["chip"].fillna("")) == {""}
    assert (flt["metric"] == "accuracy").sum() == 1 and (flt["metric"] == "synaptic_events_per_inference").sum() == 1
    bases = {c: ResultsStore.chip_task_rows(rows, c)[1] for c in CHIPS}
    assert bases == {"loihi2": "deployed", "akida": "infeasible", "cpu": "float"}
    cpu_rows, _ = ResultsStore.chip_task_rows(rows, "cpu")
    assert {r["metric"] for r in cpu_rows} == {r["metric"] for r in flt[flt["kind"] == "task"].to_dict("records")
                                               if not r["metric"].startswith(("baseline_", "chance_"))}
    deps = ResultsStore.deployments(rows)
    assert deps["loihi2"]["arithmetic"] == "loihi2-fixed" and len(deps["loihi2"]["notes"]) == deps["loihi2"]["changes"]
    assert not set(rows.loc[rows["kind"] == "modelled", "metric"]) - set(ESTIMATE_METRICS) - {"deployment_changes"}


def test_report_and_choose_use_each_chips_deployed_rows(store, tmp_path):
    from spikebench.choose import Constraints, choose_from_results
    from spikebench.report import ReportData, build_report

    frame = ResultsStore(store).open(create=False).frame()
    acc = {c: v for c, v in frame.loc[(frame["metric"] == "accuracy"), ["chip", "value"]].itertuples(index=False)}
    data = ReportData.load(store)
    assert data.on_chip("shd", "loihi2").value == acc["loihi2"] and data.on_chip("shd", "cpu").value == acc[""]
    written = build_report(store, tmp_path / "out")
    md = written["tables/deployment_shd.md"].read_text()
    from spikebench.core.units import fmt

    assert f"| loihi2 | loihi2-fixed | {fmt(acc[''])} | {fmt(acc['loihi2'])} |" in md
    choice = choose_from_results(store, Constraints(), draws=0, strict=False)
    got = {v.chip: v.task for v in choice.verdicts}
    assert got["loihi2"].value == acc["loihi2"] and got["loihi2"].float_value == acc[""]
    assert got["cpu"].basis == "float" and got["akida"] is None


def test_regime_rows_read_back_and_reach_the_report(store, tmp_path):
    """Each estimate stores whether it is extrapolated (issue 14): read back as the same reasons, and the
    report's chip table gets a Regime column with them."""
    from spikebench.report import build_report

    s = ResultsStore(store).open(create=False)
    _, _, rows = s.cell_frame()
    stored = {e.chip: e for e in s.estimates(rows)}
    ext = rows[(rows["metric"] == "extrapolated")].set_index("chip")
    assert set(ext.index) == set(CHIPS)
    for chip in CHIPS:
        assert bool(ext.loc[chip, "value"]) == bool(stored[chip].extrapolated)
        assert "; ".join(stored[chip].extrapolated) == (ext.loc[chip, "source"] or "")
    written = build_report(store, tmp_path / "out")
    csv = written["tables/chips_shd.csv"].read_text().splitlines()
    assert csv[0].split(",")[13] == "regime"
    assert any(",extrapolated," in line or ",inside," in line for line in csv[1:])
