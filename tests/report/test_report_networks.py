"""The report with several networks on one workload: rows keyed by network, one block per network in
the tables, the Pareto front over (network, chip) pairs (table and figure); a store with one network
per workload gives the report it gave before networks were chosen (golden files)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from reportstore import NETWORKS, PARETO, PNG_SIGNATURE, built_report, make_networks_store, make_store, read_csv

from spikebench.report import ReportData, build_tables, figure_pareto, pareto_pairs
from spikebench.results import Provenance, ResultsStore

GOLDEN = Path(__file__).parent / "golden_single"
SHEET_COLUMNS = ("source_keys", "title")  # from the chip sheets, which change on their own
CITES_MD = re.compile(r"\[[A-Za-z0-9_:.-]+\](, \[[A-Za-z0-9_:.-]+\])*")
CITES_TEX = re.compile(r"\\cite\{[^}]*\}")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    return built_report(tmp_path_factory, "networks", make_networks_store)


@pytest.fixture(scope="module")
def data(report):
    out, _ = report
    return ReportData.load(out.parent / "results")


def _csv_without_sheet_columns(text: str) -> list[dict]:
    return [{k: v for k, v in row.items() if k not in SHEET_COLUMNS} for row in csv.DictReader(io.StringIO(text))]


def _normalised(name: str, text: str) -> str:
    return CITES_TEX.sub("CITES", text) if name.endswith(".tex") else CITES_MD.sub("CITES", text)


# ---- one network per workload: as before --------------------------------------------------------------

def test_single_network_store_gives_the_report_of_before(tmp_path_factory):
    """The golden files were written by the report before networks were keyed (commit 2d3a602) on the
    same hand-built store; citations and sheet titles are masked (the chip sheets evolve on their own).
    Since chips deploy the network (issue 10) the report adds ``deployment_<workload>`` (golden files
    written then, by this report, on this store without deployment rows: every chip marked "float, not
    deployed") and the accuracy vs energy figures' captions changed (figures.txt rewritten then); the
    other tables are byte for byte those of before."""
    out, written = built_report(tmp_path_factory, "golden", make_store)
    names = sorted(p.name for p in GOLDEN.iterdir() if p.suffix in (".csv", ".md", ".tex"))
    assert sorted(p.name for p in (out / "tables").iterdir()) == names
    for name in names:
        got, want = (out / "tables" / name).read_text(), (GOLDEN / name).read_text()
        if name.endswith(".csv"):
            assert _csv_without_sheet_columns(got) == _csv_without_sheet_columns(want), name
        else:
            assert _normalised(name, got) == _normalised(name, want), name
    figures = [line for line in (out / "summary.md").read_text().splitlines() if line.startswith("- `figures/")]
    assert figures == (GOLDEN / "figures.txt").read_text().splitlines()
    assert "network" not in read_csv(out / "tables" / "workloads.csv")[0]
    assert not any("pareto_" in r and r.startswith("tables/") for r in written)


# ---- several networks ----------------------------------------------------------------------------------

def test_rows_keyed_by_network(data):
    assert data.networks == {"nmnist": ["nmnist-reference", "small", "wide"], "shd": ["shd-reference"]}
    assert data.multi("nmnist") and not data.multi("shd")
    assert data.val("nmnist", "sparse-cpu", "accuracy", network="small") == 0.70
    assert data.val("nmnist", "sparse-cpu", "accuracy", network="wide") == 0.95
    assert data.val("nmnist", "sparse-cpu", "accuracy") == 0.90  # default: the shipped reference
    assert data.val("nmnist", "sparse-cpu", "energy_j", "akida", network="small") == pytest.approx(140e-6)
    assert data.network_label("nmnist", "small") == "small (cccc2222)"
    assert data.feasible("nmnist", "akida", "small") is False and data.feasible("nmnist", "akida") is True


def test_pareto_table_lists_the_hand_computed_pairs(report):
    out, written = report
    assert "tables/pareto_nmnist.csv" in written and "tables/pareto_shd.csv" not in written
    rows = read_csv(out / "tables" / "pareto_nmnist.csv")
    assert [(r["network"], r["chip"]) for r in rows] == PARETO
    for r in rows:
        h, acc, chips = NETWORKS[r["network"]]
        assert r["network_hash"] == h and float(r["value"]) == acc and r["task_metric"] == "accuracy"
        assert float(r["energy_j"]) == pytest.approx(chips[r["chip"]][0] * 1e-6)
        assert r["backend"] == "sparse-cpu" and r["data"] == "synthetic"
        assert r["basis"] == "float-fallback" and float(r["float_value"]) == acc  # no deployment rows here
    md = (out / "tables" / "pareto_nmnist.md").read_text()
    assert "| small (cccc2222) | loihi | 0.700 (float, not deployed) | 0.700 |" in md
    assert "3 of 10 feasible pairs are" in md


def test_pareto_pairs_skip_infeasible_cheaper_pair(data):
    front, points, infeasible = pareto_pairs(data, "nmnist")
    assert [p[:2] for p in front] == PARETO
    assert sorted(p[:2] for p in infeasible) == [("nmnist-reference", "truenorth"), ("small", "akida")]
    assert len(points) == 10


def test_chips_table_one_block_per_network(report):
    out, _ = report
    rows = read_csv(out / "tables" / "chips_nmnist.csv")
    assert [r["network"] for r in rows] == ["nmnist-reference"] * 4 + ["small"] * 4 + ["wide"] * 4
    assert {r["network_hash"] for r in rows} == {h for h, *_ in NETWORKS.values()}
    small_akida = next(r for r in rows if r["network"] == "small" and r["chip"] == "akida")
    assert small_akida["feasible"] == "0" and "does not fit akida (small)" in small_akida["reasons"]
    md = (out / "tables" / "chips_nmnist.md").read_text()
    heads = re.findall(r"^\| \*\*(network .*?)\*\* \|", md, flags=re.M)
    assert heads == ["network nmnist-reference (aaaa1111): accuracy 0.900 (sparse-cpu)",
                     "network small (cccc2222): accuracy 0.700 (sparse-cpu)",
                     "network wide (eeee3333): accuracy 0.950 (sparse-cpu)"]
    tex = (out / "tables" / "chips_nmnist.tex").read_text()
    assert tex.count("\\multicolumn{11}{l}{\\textit{network ") == 3
    page = (out / "index.html").read_text()
    assert page.count('<th colspan="11" class="l"') == 3 and "tab-pareto_nmnist" in page
    # shd has one network: its chips table has no network column and no blocks
    shd = read_csv(out / "tables" / "chips_shd.csv")
    assert "network" not in shd[0] and "**network" not in (out / "tables" / "chips_shd.md").read_text()


def test_workloads_and_comparison_tables_per_network(report):
    out, _ = report
    rows = read_csv(out / "tables" / "workloads.csv")
    assert [(r["workload"], r["network"], r["value"]) for r in rows] == [
        ("nmnist", "nmnist-reference", "0.9"), ("nmnist", "small", "0.7"), ("nmnist", "wide", "0.95"),
        ("shd", "shd-reference", "0.6125")]
    comp = read_csv(out / "tables" / "chip_comparison.csv")
    akida = next(r for r in comp if r["chip"] == "akida")
    assert float(akida["nmnist/small_energy_j"]) == pytest.approx(140e-6) and akida["nmnist/small_feasible"] == "0"
    assert float(akida["nmnist/wide_energy_j"]) == pytest.approx(250e-6) and "shd_energy_j" in akida
    assert (akida["feasible_on"], akida["estimated_on"]) == ("2", "4")  # shd: akida infeasible (rows_of)


def test_pareto_figure_marks_pairs_and_steps_through_the_front(data):
    fig = figure_pareto(data, "nmnist")
    ax = fig.axes[0]
    groups = {c.get_gid(): len(c.get_offsets()) for c in ax.collections if c.get_gid()}
    assert groups == {"pairs-feasible:nmnist-reference": 3, "pairs-feasible:small": 3, "pairs-feasible:wide": 4,
                      "pairs-infeasible:nmnist-reference": 1, "pairs-infeasible:small": 1,
                      "pairs-float": 12}  # no deployment rows: every pair at its float network's accuracy
    step = next(line for line in ax.get_lines() if line.get_gid() == "pareto-front")
    want = [(NETWORKS[n][2][c][0] * 1e-6, NETWORKS[n][1]) for n, c in PARETO]
    assert list(step.get_xdata()) == pytest.approx([x for x, _ in want])
    assert list(step.get_ydata()) == pytest.approx([y for _, y in want])
    assert step.get_drawstyle() == "steps-post"
    assert ax.get_xscale() == "log" and "(J" in ax.get_xlabel() and "accuracy" in ax.get_ylabel()
    fig.canvas.draw()
    ticks = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert "100 µJ" in ticks and "1 mJ" in ticks
    legends = [t.get_text() for leg in fig.legends for t in leg.get_texts()]
    assert {"small (cccc2222)", "1: small / loihi", "2: nmnist-reference / loihi", "3: wide / akida", "akida",
            "hollow: infeasible mapping", "dot inside: float network (not deployed)"} <= set(legends)


def test_report_files_and_synthetic_warning(report):
    out, written = report
    for name in ("figures/pareto_nmnist.png", "figures/pareto_shd.png", "tables/pareto_nmnist.tex"):
        assert name in written
    assert (out / "figures" / "pareto_nmnist.png").read_bytes()[:8] == PNG_SIGNATURE
    page = (out / "index.html").read_text()
    banner = re.search(r'id="synthetic-banner">(.*?)</div>', page).group(1)
    assert "nmnist, shd" in banner
    assert "3 networks ran on nmnist: nmnist-reference (aaaa1111), small (cccc2222), wide (eeee3333)" in page
    summary = (out / "summary.md").read_text()
    assert "every (network, chip) pair" in summary and "**Warning:**" in summary
    assert "nmnist/small/sparse-cpu" in page  # provenance: the run's cells name the networks


def test_one_name_run_with_two_contents_is_told_apart(tmp_path):
    """A network changed between runs (same name, new hash) shows as two networks, never one merged row."""
    from reportstore import network_rows

    store = ResultsStore(tmp_path / "r").open(create=True)
    p = Provenance(spikebench_version="0.1.0", git_commit="abc", machine="m")
    nets = {"mine": ("1234567890ab", 0.6, {"loihi": (100, True)})}
    run1 = store.start_run({}, p)
    store.write_cell(run1, "nmnist__sparse-cpu__mine-12345678", network_rows("nmnist", "mine", networks=nets), p)
    nets2 = {"mine": ("abcdef012345", 0.8, {"loihi": (120, True)})}
    store.write_cell(run1, "nmnist__sparse-cpu__mine-abcdef01", network_rows("nmnist", "mine", networks=nets2), p)
    data = ReportData.load(tmp_path / "r")
    assert data.networks["nmnist"] == ["mine@12345678", "mine@abcdef01"]
    assert data.val("nmnist", "sparse-cpu", "accuracy", network="mine@abcdef01") == 0.8
    assert data.network_label("nmnist", "mine@12345678") == "mine@12345678"
    pareto = next(t for t in build_tables(data) if t.name == "pareto_nmnist")
    assert [(r["network"], r["chip"]) for r in pareto.records()] == [("mine@12345678", "loihi"),
                                                                     ("mine@abcdef01", "loihi")]


def test_two_networks_from_the_harness(tmp_path):
    """A real run: the shipped N-MNIST network and a small random one on three chips; the Pareto table
    holds exactly the front computed here from the stored rows."""
    import spikebench as sb
    from spikebench.harness import REFERENCE, RunConfig, run
    from spikebench.models import NetworkChoice
    from spikebench.report import build_report

    small = NetworkChoice(name="small", network=sb.Network.random(sizes=[2312, 32, 10], seed=1))
    run(RunConfig(workloads=("nmnist",), backends=("sparse-cpu",), chips=("loihi", "akida", "cpu"), limit=20,
                  networks=(REFERENCE, small)), tmp_path / "res", progress=False)
    frame = ResultsStore(tmp_path / "res").open(create=False).frame()
    # each pair's accuracy: its network deployed on its chip (the chip-tagged task row)
    acc = {(n, c): v for n, c, v in frame.loc[frame["metric"] == "accuracy", ["network", "chip", "value"]]
           .itertuples(index=False) if c}
    est = frame[(frame["metric"] == "energy_j")]
    feas = {(n, c): v >= 0.5 for n, c, v in frame.loc[frame["metric"] == "feasible", ["network", "chip", "value"]]
            .itertuples(index=False)}
    pts = sorted((e, -acc[(n, c)], n, c) for n, c, e in est[["network", "chip", "value"]].itertuples(index=False)
                 if feas[(n, c)])
    front, best = [], -1.0
    for _e, neg, n, c in pts:
        if -neg > best:
            front.append((n, c))
            best = -neg
    written = build_report(tmp_path / "res", tmp_path / "out")
    rows = read_csv(written["tables/pareto_nmnist.csv"])
    assert [(r["network"], r["chip"]) for r in rows] == front
    assert {r["network"] for r in read_csv(written["tables/chips_nmnist.csv"])} == {"nmnist-reference", "small"}


@pytest.mark.slow
def test_network_tables_compile_with_pdflatex_and_bibtex(report, tmp_path):
    """The row-group lines (\\multicolumn between \\midrule) and the pareto table compile."""
    import shutil
    import subprocess

    if not (shutil.which("pdflatex") and shutil.which("bibtex")):
        pytest.skip("pdflatex/bibtex not installed (Debian: texlive-latex-base texlive-latex-recommended)")
    out, _ = report
    shutil.copy(out / "references.bib", tmp_path / "references.bib")
    tables = sorted((out / "tables").glob("*.tex"))
    for t in tables:
        shutil.copy(t, tmp_path / t.name)
    body = "\n".join(f"\\input{{{t.name}}}\\clearpage" for t in tables)
    (tmp_path / "doc.tex").write_text("\\documentclass{article}\n\\usepackage[T1]{fontenc}\n"
                                      "\\usepackage[margin=1cm,landscape]{geometry}\n\\usepackage{booktabs,graphicx,url}\n"
                                      f"\\begin{{document}}\n{body}\n\\bibliographystyle{{plain}}\n"
                                      "\\bibliography{references}\n\\end{document}\n")
    for cmd in (["pdflatex"], ["bibtex"], ["pdflatex"], ["pdflatex"]):
        args = [*cmd, "-interaction=nonstopmode", "-halt-on-error", "doc.tex"] if cmd == ["pdflatex"] else [*cmd, "doc"]
        proc = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stdout[-3000:]
    log = (tmp_path / "doc.log").read_text(errors="replace")
    assert "undefined" not in log.lower().replace("undefined references", "")
    assert (tmp_path / "doc.pdf").stat().st_size > 10_000


def test_cli_report_takes_results_option(tmp_path, capsys):
    from spikebench.cli import main

    results = make_networks_store(tmp_path / "res")
    assert main(["report", "--results", str(results), "--out", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "tables" / "pareto_nmnist.csv").is_file()
    capsys.readouterr()
    assert main(["report", "--out", str(tmp_path / "o2")]) == 2
    assert "name the results folder" in capsys.readouterr().err
    assert main(["report", str(results), "--results", str(tmp_path), "--out", str(tmp_path / "o3")]) == 2
    assert not (tmp_path / "o3").exists()
