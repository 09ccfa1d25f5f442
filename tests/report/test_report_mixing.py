"""Issue 12, item 6: a report says which runs it mixes (or reports one run, ``--run``), and refuses
physically impossible stored values as ``spikebench choose`` does."""

from __future__ import annotations

import dataclasses
import math

import pytest
from reportstore import prov, rows_of

from spikebench.cli import main
from spikebench.core.errors import FileFormatError
from spikebench.report import ReportData
from spikebench.results import ResultsStore


def two_run_store(root, *, second=None):
    """nmnist from a run with seed 0 on every chip, shd from a run with seed 7, limit 16 and two chips."""
    store = ResultsStore(root).open(create=True)
    a = store.start_run({"workloads": ["nmnist"], "backends": ["sparse-cpu"], "chips": ["loihi", "akida"],
                         "seed": 0, "limit": None, "data_dir": None}, prov())
    store.write_cell(a, "nmnist__sparse-cpu", rows_of("nmnist", "sparse-cpu", "synthetic"), prov())
    b = store.start_run(second or {"workloads": ["shd"], "backends": ["sparse-cpu"], "chips": ["loihi"], "seed": 7,
                                   "limit": 16, "data_dir": None}, prov())
    store.write_cell(b, "shd__sparse-cpu", rows_of("shd", "sparse-cpu", "synthetic"), prov())
    return root, a, b


def test_a_store_of_runs_that_differ_says_so(tmp_path, capsys):
    root, a, b = two_run_store(tmp_path / "r")
    note = ReportData.load(root).mixing
    # old code: no note; cells of seed 0 and seed 7 sat side by side unmarked
    assert note.startswith("This store mixes runs: ")
    first, second = sorted([(a, "0", "default"), (b, "7", "16")])  # runs in id order (one second: random suffix)
    assert f"seed differs (run {first[0]}: {first[1]}; run {second[0]}: {second[1]})" in note
    assert f"limit differs (run {first[0]}: {first[2]}; run {second[0]}: {second[2]})" in note
    assert 'chips differs' in note and "data_dir" not in note and "workloads" not in note
    assert ReportData.load(root).run_id is None  # without --run, every run is reported
    assert main(["report", str(root), "--out", str(tmp_path / "out")]) == 0
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert f"> **Note:** {note}" in summary and "only (`--run`)" not in summary
    assert 'id="mixing-note"' in (tmp_path / "out" / "index.html").read_text()


def test_runs_that_agree_give_no_note(tmp_path):
    same = {"workloads": ["nmnist"], "backends": ["sparse-cpu"], "chips": ["loihi", "akida"], "seed": 0,
            "limit": None, "data_dir": None}
    root, _, _ = two_run_store(tmp_path / "r", second={**same, "workloads": ["shd"]})
    assert ReportData.load(root).mixing == ""


def test_runs_of_different_networks_are_not_mixing(tmp_path):
    """A network is part of a cell (rows carry its name and hash): two runs of different networks, alike
    otherwise, hold different cells, as `make demo` writes them; a binning left out reads as the default."""
    same = {"workloads": ["nmnist"], "backends": ["sparse-cpu"], "chips": ["loihi", "akida"], "seed": 0,
            "limit": None, "data_dir": None}
    root, _, _ = two_run_store(tmp_path / "r", second={**same, "workloads": ["shd"], "timestep_s": None,
                                                        "networks": [{"name": "mine", "hash": "0123"}]})
    assert ReportData.load(root).mixing == ""


def test_run_reports_one_run_only(tmp_path, capsys):
    root, a, b = two_run_store(tmp_path / "r")
    data = ReportData.load(root, run_id=b)
    assert data.workloads == ["shd"] and list(data.runs) == [b] and data.mixing == ""
    # old code: `--run` was an unknown option (argparse exit 2)
    assert main(["report", str(root), "--out", str(tmp_path / "out"), "--run", b]) == 0
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert f"Run {b} only" in summary and "mixes runs" not in summary
    assert not (tmp_path / "out" / "tables" / "chips_nmnist.csv").exists()
    assert (tmp_path / "out" / "tables" / "chips_shd.csv").exists()


def test_unknown_run_lists_the_known_ones(tmp_path, capsys):
    root, a, b = two_run_store(tmp_path / "r")
    assert main(["report", str(root), "--out", str(tmp_path / "out"), "--run", "20991231T000000-abcdef"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no run '20991231T000000-abcdef'" in err and a in err and b in err
    assert not (tmp_path / "out").exists()


def store_with(root, metric, chip, **change):
    """A one-run nmnist store whose row (metric, chip) carries ``change``."""
    rows = [dataclasses.replace(r, **change) if (r.metric, r.chip) == (metric, chip) else r
            for r in rows_of("nmnist", "sparse-cpu", "synthetic")]
    store = ResultsStore(root).open(create=True)
    run_id = store.start_run({}, prov())
    store.write_cell(run_id, "nmnist__sparse-cpu", rows, prov())
    return root, run_id


@pytest.mark.parametrize(("metric", "chip", "change", "needle"), [
    ("energy_j", "loihi", {"value": -1e-6, "low": -2e-6}, "energy_j value = -1e-06 is impossible"),
    ("energy_j", "akida", {"value": math.inf}, "energy_j value = inf is impossible"),
    ("latency_s", "loihi2", {"value": math.nan}, "latency_s value = nan is impossible"),
    ("energy_j", "cpu", {"low": 1.0}, "low <= value <= high must hold"),
    ("wall_time_per_inference_s", "", {"value": -0.5}, "wall_time_per_inference_s value = -0.5 is impossible"),
    ("accuracy", "", {"value": 1.5, "high": 1.6}, "accuracy value = 1.5 is impossible"),
])
def test_impossible_stored_values_are_refused(tmp_path, metric, chip, change, needle):
    root, run_id = store_with(tmp_path / "r", metric, chip, **change)
    # old code: a negative energy or an accuracy of 1.5 went into the tables with exit 0
    with pytest.raises(FileFormatError) as info:
        ReportData.load(root)
    msg = str(info.value)
    assert needle in msg and f"run {run_id}" in msg and "cell nmnist/nmnist-reference/sparse-cpu" in msg
    if chip:
        assert f"chip {chip}" in msg


def test_report_command_refuses_negative_energy_in_one_line(tmp_path, capsys):
    root, run_id = store_with(tmp_path / "r", "energy_j", "loihi", value=-1e-6, low=-2e-6)
    assert main(["report", str(root), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("spikebench: error: ") and err.count("\n") == 1
    assert f"run {run_id}" in err and "chip loihi" in err and "energy_j value = -1e-06" in err
    assert not (tmp_path / "out" / "index.html").exists()
