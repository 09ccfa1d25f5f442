"""``spikebench report``: tables, figures and the HTML page from a hand-built results store."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time

import pytest
from reportstore import CHIP_NAMES, WORKLOADS, built_report, make_realistic_store, make_store, prov, read_csv, rows_of

from spikebench.cli import main
from spikebench.report import ReportData, build_report, figure_pareto, pareto_front
from spikebench.results import ResultsStore, Row

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def realistic(tmp_path_factory):
    return built_report(tmp_path_factory, "realistic", make_realistic_store)


def test_report_of_real_estimates_names_the_reasons(realistic):
    out, written = realistic
    rows = read_csv(out / "tables" / "chips_shd.csv")
    assert [r["chip"] for r in rows] == list(CHIP_NAMES)
    akida = next(r for r in rows if r["chip"] == "akida")
    assert akida["feasible"] == "0" and "recurrent" in akida["reasons"]
    page = (out / "index.html").read_text()
    assert "synthetic-banner" not in page  # real-sample only
    for tex in (out / "tables").glob("*.tex"):
        assert not re.search(r"[^\x00-\x7f]", tex.read_text()), tex.name


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    return built_report(tmp_path_factory, "report")


# ---- files ---------------------------------------------------------------------------------------

def test_every_file_is_written_and_non_empty(report):
    out, written = report
    assert list(written)[-1] == "index.html"
    for rel, path in written.items():
        assert path == out / rel and path.is_file() and path.stat().st_size > 0, rel
    for name in ("workloads", "chips_nmnist", "chips_shd", "chips_ecg-anomaly", "chip_comparison"):
        for ext in ("md", "tex", "csv"):
            assert f"tables/{name}.{ext}" in written
    for name in ("pareto_nmnist", "pareto_shd", "pareto_ecg-anomaly", "latency", "energy_split",
                 "activity_nmnist", "activity_shd", "activity_ecg-anomaly"):
        for ext in ("png", "pdf"):
            assert f"figures/{name}.{ext}" in written
    assert {"summary.md", "references.bib"} <= set(written)
    assert not list(out.rglob("*.tmp"))  # atomic writes leave no temporaries


# ---- tables --------------------------------------------------------------------------------------

def test_markdown_chip_table_has_the_store_numbers(report):
    out, _ = report
    md = (out / "tables" / "chips_nmnist.md").read_text()
    assert "Energy / inference (µJ)" in md and "Latency range (µs)" in md
    loihi = next(line for line in md.splitlines() if line.startswith("| loihi |"))
    assert "| 12.3 |" in loihi and "| 10.1–15.3 |" in loihi  # nominal and range in µJ
    assert "| 47.9 |" in loihi and "44.6–88.0" in loihi and "| 2 cores | 1 |" in loihi  # latency in µs
    assert "| 3.08 |" in loihi and "| 9.23 |" in loihi  # dynamic 25 %, static 75 % of 12.3
    gpu = next(line for line in md.splitlines() if line.startswith("| gpu |"))
    assert "267,507" in gpu and "107,001–532,152" in gpu
    shd = (out / "tables" / "chips_shd.md").read_text()
    akida = next(line for line in shd.splitlines() if line.startswith("| akida |"))
    assert "no (a: rlif1: recurrent layers are not supported by Akida 1.0)" in akida
    assert "| 18.3 |" in akida  # 9.17 x 2


def test_workload_table_has_task_metric_chance_baseline_and_measurements(report):
    out, _ = report
    md = (out / "tables" / "workloads.md").read_text()
    line = next(ln for ln in md.splitlines() if ln.startswith("| nmnist | synthetic | sparse-cpu (cpu) |"))
    cells = [c.strip() for c in line.strip("|").split("|")]
    assert cells[4:9] == ["accuracy", "0.875", "0.835–0.915", "0.100", "0.710"]
    assert "2.10" in cells  # wall time in ms
    assert "8,682" in cells
    ecg = next(ln for ln in md.splitlines() if ln.startswith("| ecg-anomaly | real-sample | sparse-cpu (cpu) |"))
    assert "| auroc | 0.910 | 0.870–0.940 | 0.500 | 0.830 |" in ecg
    assert "auprc 0.550" in ecg and "detection latency s 0.420" in ecg and "chance auprc 0.120" in ecg


# ---- figures -------------------------------------------------------------------------------------

def test_pngs_are_real_images(report):
    import matplotlib.image as mpimg

    out, _ = report
    for png in (out / "figures").glob("*.png"):
        blob = png.read_bytes()
        assert blob[:8] == PNG_SIGNATURE and len(blob) > 10_000, png.name
        img = mpimg.imread(png)
        assert img.ndim == 3 and img.shape[0] > 300 and img.shape[1] > 500
        assert img[..., :3].std() > 0.05  # not a blank canvas
    for pdf in (out / "figures").glob("*.pdf"):
        assert pdf.read_bytes()[:5] == b"%PDF-"


def test_pareto_figure_has_one_point_per_chip_and_marks_the_front(tmp_path):
    data = ReportData.load(make_store(tmp_path / "r"))
    fig = figure_pareto(data, "shd")
    ax = fig.axes[0]
    groups = {c.get_gid(): len(c.get_offsets()) for c in ax.collections if c.get_gid()}
    # akida is infeasible on shd; a store without deployment rows: every point is the float network's (dotted)
    assert groups == {"chips-feasible": 6, "chips-infeasible": 1, "chips-float": 7}
    assert ax.get_xscale() == "log"
    labels = [t.get_text() for t in ax.texts]
    assert "akida (infeasible)" in labels and sorted(labels) == sorted(
        [c for c in CHIP_NAMES if c != "akida"] + ["akida (infeasible)"])
    # equal accuracy everywhere: the front is the cheapest feasible chip
    assert pareto_front([("a", 2.0, 0.9), ("b", 1.0, 0.8), ("c", 3.0, 0.95), ("d", 1.5, 0.7)]) == ["b", "a", "c"]


# ---- HTML ----------------------------------------------------------------------------------------

def test_html_is_self_contained_with_banner_tables_figures_and_provenance(report):
    out, written = report
    page = (out / "index.html").read_text()
    assert page.count("data:image/png;base64,") == sum(1 for r in written if r.endswith(".png"))
    assert 'id="synthetic-banner"' in page and "not comparable to published numbers" in page
    banner = re.search(r'id="synthetic-banner">(.*?)</div>', page).group(1)
    assert "nmnist, shd" in banner and "ecg-anomaly" not in banner
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "@import" not in page and "<link" not in page and "<script" not in page
    for needle in ("tab-workloads", "tab-chip_comparison", "tab-chips_shd", "abc1234", "test machine, 2 CPUs",
                   "numpy 2.0", 'id="ref-davies2018"', "10.1–15.3"):
        assert needle in page, needle
    run_id = ResultsStore(out.parent / "results").runs()[0]
    assert run_id in page
    assert "not comparable" in (out / "summary.md").read_text()


def test_no_banner_without_synthetic_rows(tmp_path):
    results = make_store(tmp_path / "r", data={w: "real-sample" for w in WORKLOADS})
    build_report(results, tmp_path / "out")
    page = (tmp_path / "out" / "index.html").read_text()
    assert "synthetic-banner" not in page and "not comparable" not in page
    assert "not comparable" not in (tmp_path / "out" / "summary.md").read_text()


def test_a_newer_run_replaces_the_cell_in_the_report(tmp_path):
    results = make_store(tmp_path / "r")
    store = ResultsStore(results).open(create=False)
    time.sleep(1.02 - time.time() % 1.0)  # run ids sort by their second, then by a random suffix
    run_id = store.start_run({"again": True}, prov())
    assert store.runs()[-1] == run_id
    rows = [r if r.metric != "accuracy" else Row(**{**r.__dict__, "value": 0.5, "low": None, "high": None})
            for r in rows_of("nmnist", "sparse-cpu", "synthetic")]
    store.write_cell(run_id, "nmnist__sparse-cpu", rows, prov())
    build_report(results, tmp_path / "out")
    md = (tmp_path / "out" / "tables" / "workloads.md").read_text()
    line = next(ln for ln in md.splitlines() if ln.startswith("| nmnist | synthetic | sparse-cpu (cpu) |"))
    assert "| accuracy | 0.500 | — |" in line
    assert len(ReportData.load(results).runs) == 2


def test_a_store_without_chips_or_task_rows_still_reports(tmp_path):
    store = ResultsStore(tmp_path / "r").open(create=True)
    run_id = store.start_run({}, prov())
    rows = [r for r in rows_of("nmnist", "sparse-cpu", "synthetic") if r.kind == "measured"]
    store.write_cell(run_id, "nmnist__sparse-cpu", rows, prov())
    written = build_report(store.root, tmp_path / "out")
    assert "tables/workloads.csv" in written and "figures/activity_nmnist.png" in written
    assert not any(k.startswith(("figures/pareto", "tables/chips_", "figures/latency")) for k in written)
    page = (tmp_path / "out" / "index.html").read_text()
    assert "No task metric for nmnist" in page and "synthetic-banner" in page


# ---- CLI and bad input ---------------------------------------------------------------------------

def test_cli_prints_the_written_paths_and_the_html(tmp_path, capsys):
    results = make_store(tmp_path / "r")
    rc = main(["report", str(results), "--out", str(tmp_path / "reports")])
    assert rc == 0
    lines = capsys.readouterr().out.splitlines()
    assert str(tmp_path / "reports" / "tables" / "workloads.tex") in lines
    assert lines[-1].endswith(f"HTML report: {tmp_path / 'reports' / 'index.html'}")


def _bad_stores(tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "notes.txt").write_text("hello")
    other = tmp_path / "other"
    other.mkdir()
    (other / "store.json").write_text(json.dumps({"schema": "spikebench.results/0"}))
    empty = ResultsStore(tmp_path / "empty").open(create=True).root
    started = ResultsStore(tmp_path / "started").open(create=True)
    started.start_run({}, prov())
    afile = tmp_path / "afile"
    afile.write_text("x")
    return {"not a store": plain, "other schema": other, "empty": empty, "run without cells": started.root,
            "missing": tmp_path / "missing", "a file": afile}


def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    for what, folder in _bad_stores(tmp_path).items():
        out = tmp_path / f"out-{what.replace(' ', '_')}"
        rc = main(["report", str(folder), "--out", str(out)])
        captured = capsys.readouterr()
        assert rc == 2, what
        assert captured.out == ""
        err = captured.err.strip()
        assert "\n" not in err and err.startswith("spikebench: error:"), (what, err)
        assert not out.exists(), what  # nothing written
    results = make_store(tmp_path / "good")
    (tmp_path / "taken").write_text("a file")
    assert main(["report", str(results), "--out", str(tmp_path / "taken")]) == 2
    assert main(["report", str(results), "--out", str(results)]) == 2
    err = capsys.readouterr().err
    assert "other schema" not in err and len(err.strip().splitlines()) == 2


def test_messages_name_the_problem(tmp_path):
    from spikebench.core.errors import SpikebenchError

    bad = _bad_stores(tmp_path)
    for what, needle in (("not a store", "not a spikebench results folder"), ("other schema", "spikebench.results/0"),
                         ("empty", "no finished cells"), ("missing", "no such results folder")):
        with pytest.raises(SpikebenchError, match=re.escape(needle)):
            build_report(bad[what], tmp_path / "o")


def test_cli_subprocess_exit_code(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "spikebench.cli", "report", str(tmp_path / "nope")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1 and proc.stdout == ""


# ---- opt-in: Chromium ----------------------------------------------------------------------------

def _chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.slow
def test_html_renders_in_headless_chromium(report, tmp_path):
    browser = _chromium()
    if not browser:
        pytest.skip("chromium not installed (Debian: chromium)")
    out, _ = report
    shot = tmp_path / "screenshot.png"
    proc = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           "--window-size=1280,2400", f"--screenshot={shot}", (out / "index.html").as_uri()],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    blob = shot.read_bytes()
    assert blob[:8] == PNG_SIGNATURE and len(blob) > 50_000
    import matplotlib.image as mpimg

    img = mpimg.imread(shot)
    assert img.shape[0] == 2400 and img[..., :3].std() > 0.05
    keep = out.parent / "screenshot.png"  # kept beside the report for a person to look at
    shutil.copy(shot, keep)
