"""The report's tables: each CSV is its frame of raw values, each display column renders from that
frame, the bibliography written with a report holds exactly the cited keys, LaTeX compiles."""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
from reportstore import CHIP_NAMES, WORKLOADS, built_report, make_realistic_store, read_csv

from spikebench.core import bibliography
from spikebench.core.units import DASH, ENERGY_SCALES
from spikebench.hardware_models import CHIPS
from spikebench.report import ReportData, Table, build_tables
from spikebench.report.table import (
    Cite,
    Column,
    cites,
    count,
    frame_of,
    latex_escape,
    number,
    quantity,
    quantity_range,
    scale_of,
    text,
)

CSV_COLUMNS = {
    "workloads": ["workload", "data", "backend", "device", "samples", "task_metric", "value", "low", "high",
                  "chance_level", "baseline", "other_task_metrics", "wall_time_per_inference_s",
                  "synaptic_events_per_inference", "spikes_per_inference", "source"],
    "chips_shd": ["chip", "energy_j", "energy_low_j", "energy_high_j", "energy_dynamic_j", "energy_static_j",
                  "latency_s", "latency_low_s", "latency_high_s", "cores", "core_kind", "chips", "feasible", "reasons",
                  "source_keys"],
    "deployment_shd": ["chip", "arithmetic", "task_metric", "float_value", "value", "low", "high", "change", "basis",
                       "energy_j", "energy_low_j", "energy_high_j", "synaptic_events_per_inference", "events_basis",
                       "feasible", "reasons", "deployment_changes", "deployment_notes"],
    "chip_comparison": ["chip"] + [f"{w}_{q}" for w in WORKLOADS for q in ("energy_j", "energy_low_j", "energy_high_j",
                                                                           "latency_s", "feasible")]
    + ["feasible_on", "estimated_on", "boundary", "title", "source_keys"],
}
NOT_A_NUMBER = re.compile(r"\bnan\b|<NA>|\bNone\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    return built_report(tmp_path_factory, "tables")


@pytest.fixture(scope="module")
def realistic(tmp_path_factory):
    return built_report(tmp_path_factory, "realistic", make_realistic_store)


@pytest.fixture(scope="module")
def tables(report) -> dict[str, Table]:
    out, _ = report
    return {t.name: t for t in build_tables(ReportData.load(out.parent / "results"))}


# ---- the CSV is the frame ------------------------------------------------------------------------

def test_each_csv_is_exactly_its_frame(report, tables):
    out, _ = report
    assert list(tables) == ["workloads", "deployment_nmnist", "chips_nmnist", "deployment_shd", "chips_shd",
                            "deployment_ecg-anomaly", "chips_ecg-anomaly", "chip_comparison"]
    for name, table in tables.items():
        path = out / "tables" / f"{name}.csv"
        parsed = pd.read_csv(path)
        assert list(parsed.columns) == list(table.frame.columns), name
        expected = table.frame.replace("", np.nan)  # an empty text is an empty CSV field
        pd.testing.assert_frame_equal(parsed, expected, check_dtype=False, obj=name)
        assert path.read_text() == table.frame.to_csv(index=False)
    for name, columns in CSV_COLUMNS.items():
        assert list(tables[name].frame.columns) == columns


def test_csv_values_are_raw_si_numbers(report):
    out, _ = report
    rows = read_csv(out / "tables" / "chips_shd.csv")
    assert [r["chip"] for r in rows] == list(CHIP_NAMES)
    loihi = rows[0]
    assert float(loihi["energy_j"]) == pytest.approx(24.6e-6)
    assert float(loihi["energy_low_j"]) == pytest.approx(20.2e-6)
    assert float(loihi["energy_high_j"]) == pytest.approx(30.6e-6)
    assert float(loihi["latency_s"]) == pytest.approx(47.9e-6)
    assert loihi["cores"] == "2" and loihi["core_kind"] == "cores" and loihi["feasible"] == "1"
    akida = next(r for r in rows if r["chip"] == "akida")
    assert akida["feasible"] == "0" and "recurrent layers" in akida["reasons"]
    wl = read_csv(out / "tables" / "workloads.csv")
    assert len(wl) == 6
    snn = next(r for r in wl if r["workload"] == "nmnist" and r["backend"] == "snntorch")
    assert float(snn["value"]) == pytest.approx(0.8765) and float(snn["chance_level"]) == pytest.approx(0.1)
    assert float(snn["wall_time_per_inference_s"]) == pytest.approx(0.0105) and snn["samples"] == "64"
    ecg = next(r for r in wl if r["workload"] == "ecg-anomaly")
    assert ecg["other_task_metrics"] == "auprc=0.55; chance_auprc=0.12; detection_latency_s=0.42"
    comp = read_csv(out / "tables" / "chip_comparison.csv")
    assert len(comp) == 7
    ak = next(r for r in comp if r["chip"] == "akida")
    assert (ak["feasible_on"], ak["estimated_on"], ak["shd_feasible"]) == ("2", "3", "0")
    assert float(ak["shd_energy_j"]) == pytest.approx(18.34e-6)


# ---- each display column renders from the frame --------------------------------------------------

def _energy_table(values, lows, highs) -> Table:
    frame = frame_of([{"chip": f"c{i}", "energy_j": v, "energy_low_j": lo, "energy_high_j": hi}
                      for i, (v, lo, hi) in enumerate(zip(values, lows, highs))])
    scale = scale_of(frame, "energy_j", ENERGY_SCALES)
    return Table(name="t", caption="Energy", frame=frame, columns=(
        text("chip", "Chip"), quantity("energy_j", "Energy / inference ({unit})", scale),
        quantity_range("energy_low_j", "energy_high_j", "Energy range ({unit})", scale)))


def test_an_energy_column_picks_one_prefix_and_renders_from_the_frame():
    t = _energy_table([1.5e-6, 2.25e-6], [1e-6, 2e-6], [2e-6, 3.5e-6])
    md = t.to_markdown()
    assert "| Chip | Energy / inference (µJ) | Energy range (µJ) |" in md
    assert "| c0 | 1.50 | 1.00–2.00 |" in md and "| c1 | 2.25 | 2.00–3.50 |" in md
    tex = t.to_latex()
    assert "\\shortstack[r]{Energy /\\\\inference\\\\($\\mu$J)}" in tex and "c0 & 1.50 & 1.00--2.00 \\\\" in tex
    page = t.to_html()
    assert '<th class="r">Energy / inference (µJ)</th>' in page and '<td class="r">1.50</td>' in page
    assert t.frame["energy_j"].tolist() == [1.5e-6, 2.25e-6]  # the frame keeps joules
    milli = _energy_table([3e-3, 4e-3], [2e-3, 3e-3], [4e-3, 5e-3]).to_markdown()
    assert "Energy / inference (mJ)" in milli and "| c0 | 3.00 | 2.00–4.00 |" in milli


def test_a_missing_value_renders_as_the_dash_never_nan():
    frame = frame_of([{"name": "a", "energy_j": 1.5e-6, "low_j": None, "high_j": 2e-6, "n": 3, "note": "x",
                       "source_keys": "davies2018"},
                      {"name": "b", "energy_j": np.nan, "low_j": None, "high_j": None, "n": None, "note": None,
                       "source_keys": ""}], whole=["n"])
    assert str(frame["n"].dtype) == "Int64"
    t = Table(name="t", caption="c", frame=frame, columns=(
        text("name", "Name"), quantity("energy_j", "Energy ({unit})", scale_of(frame, "energy_j", ENERGY_SCALES)),
        quantity_range("low_j", "high_j", "Range ({unit})", ("µJ", 1e-6)), count("n", "N"), number("n", "N"),
        text("note", "Note"), cites()))
    assert t.cells()[1] == ["b", DASH, DASH, DASH, DASH, DASH, Cite(())]
    md, tex, page = t.to_markdown(), t.to_latex(), t.to_html()
    for rendered in (md, tex, page):
        assert not NOT_A_NUMBER.search(rendered), rendered
    assert "| a | 1.50 | — | 3 | 3.00 | x | [davies2018] |" in md
    assert "| b | — | — | — | — | — | — |" in md
    assert "b & --- & --- & --- & --- & --- & --- \\\\" in tex
    assert t.to_csv().splitlines()[2] == "b,,,,,,"


def test_no_report_file_shows_nan(report, realistic):
    for _, written in (report, realistic):
        for rel, path in written.items():
            if path.suffix in (".md", ".tex", ".html"):
                text_ = re.sub(r"base64,[A-Za-z0-9+/=]+", "", path.read_text())
                assert not NOT_A_NUMBER.search(text_), rel


def test_grouped_columns_share_a_header_row(report):
    out, _ = report
    md = (out / "tables" / "chip_comparison.md").read_text()
    assert "| Chip | nmnist energy (µJ) | nmnist latency (µs) | shd energy (µJ) |" in md
    akida = next(line for line in md.splitlines() if line.startswith("| akida |"))
    assert "| 18.3* | 79.2* |" in akida and "| 2 of 3 |" in akida  # infeasible on shd
    tex = (out / "tables" / "chip_comparison.tex").read_text()
    assert "& \\multicolumn{2}{c}{nmnist} & \\multicolumn{2}{c}{shd}" in tex
    assert "\\cmidrule(lr){2-3}\\cmidrule(lr){4-5}\\cmidrule(lr){6-7}" in tex
    assert "Chip & \\shortstack[r]{Energy\\\\($\\mu$J)}" in tex


def test_latex_tables_use_booktabs_and_stay_ascii(report):
    out, _ = report
    for tex in (out / "tables").glob("*.tex"):
        body = tex.read_text()
        for rule in ("\\toprule", "\\midrule", "\\bottomrule"):
            assert body.count(rule) == 1, (tex.name, rule)
        assert not re.search(r"[^\x00-\x7f]", body), tex.name  # pdflatex-safe
    assert latex_escape("50 % of 3 µs & x_1 ≤ {2}") == r"50 \% of 3 $\mu$s \& x\_1 $\leq$ \{2\}"


def test_a_column_may_show_other_text_in_latex():
    frame = frame_of([{"x": "long text"}])
    t = Table(name="t", caption="c", frame=frame,
              columns=(Column(header="X", align="l", cell=lambda r: r["x"], latex_cell=lambda r: "short"),))
    assert "| long text |" in t.to_markdown() and "\nshort \\\\\n" in t.to_latex()


# ---- citations -----------------------------------------------------------------------------------

def _cited_in_latex(out) -> list[str]:
    keys = []
    for tex in sorted((out / "tables").glob("*.tex")):
        for group in re.findall(r"\\cite(?:\[[^\]]*\])?\{([^}]*)\}", tex.read_text()):
            keys += group.split(",")
    return list(dict.fromkeys(keys))


def _bib_entries(text: str) -> dict[str, set[str]]:
    """key -> field names of each entry of a BibTeX file."""
    entries = {}
    for chunk in re.split(r"^@", text, flags=re.M)[1:]:
        m = re.match(r"\w+\s*\{\s*([^,\s]+)\s*,", chunk)
        assert m, chunk[:80]
        entries[m.group(1)] = {f.lower() for f in re.findall(r"^\s*(\w+)\s*=", chunk, re.M)}
    return entries


def _chip_keys(chip: str) -> list[str]:
    return bibliography.cite_keys([p.source for p in CHIPS[chip].sheet.params.values()])


def test_the_bib_holds_exactly_the_cited_keys_each_with_author_title_year(report):
    out, _ = report
    expected = set(k for c in CHIP_NAMES for k in _chip_keys(c))
    assert {"davies2018", "merolla2014"} <= expected  # the chip constants cite real entries
    assert set(_cited_in_latex(out)) == expected
    entries = _bib_entries((out / "references.bib").read_text())
    assert set(entries) == expected
    for key, fields in entries.items():
        assert {"author", "title", "year"} <= fields, key
        assert key in bibliography.bibliography()


def test_a_chips_sources_cell_cites_the_keys_of_its_constants(report, tables):
    out, _ = report
    keys = _chip_keys("loihi")
    assert keys and tables["chips_shd"].frame.set_index("chip").loc["loihi", "source_keys"] == "; ".join(keys)
    loihi_md = next(ln for ln in (out / "tables" / "chips_shd.md").read_text().splitlines() if ln.startswith("| loihi |"))
    assert loihi_md.endswith("| " + ", ".join(f"[{k}]" for k in keys) + " |")
    assert f"\\cite{{{','.join(keys)}}} \\\\" in (out / "tables" / "chips_shd.tex").read_text()
    page = (out / "index.html").read_text()
    entries = bibliography.bibliography()
    for k in keys:
        assert f'<a href="#ref-{k}">[{k}]</a>' in page
        assert f'<dt id="ref-{k}">[{k}]</dt><dd>' in page and entries[k].text().split()[0] in page
    assert f"- [{keys[0]}] " in (out / "summary.md").read_text()


def test_notes_render_their_citations():
    t = Table(name="t", caption="c", frame=frame_of([{"x": 1}]), columns=(number("x", "X"),),
              notes=("Data as in [@davies2018, Table 2].",))
    assert t.cited_keys() == ["davies2018"]
    assert bibliography.render_text(t.notes[0]) in t.to_markdown() and "[@" not in t.to_markdown()
    assert "\\cite[Table 2]{davies2018}" in t.to_latex()


# ---- opt-in: pdflatex ----------------------------------------------------------------------------

_MINIMAL_DOC = r"""\documentclass{article}
\usepackage{booktabs,graphicx}
\begin{document}
%s
\end{document}
"""
_LATEX_DOC = r"""\documentclass{article}
\usepackage[T1]{fontenc}
\usepackage[margin=1cm,landscape]{geometry}
\usepackage{booktabs,graphicx,url}
\begin{document}
%s
\bibliographystyle{plain}
\bibliography{references}
\end{document}
"""


def _tex(tmp_path, *cmd):
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:]


def _pdflatex(tmp_path, name="doc.tex"):
    _tex(tmp_path, "pdflatex", "-interaction=nonstopmode", "-halt-on-error", name)


@pytest.mark.slow
def test_each_table_compiles_alone_with_booktabs_and_graphicx(report, tmp_path):
    if not shutil.which("pdflatex"):
        pytest.skip("pdflatex not installed (Debian: texlive-latex-base texlive-latex-recommended)")
    out, _ = report
    for table in sorted((out / "tables").glob("*.tex")):
        shutil.copy(table, tmp_path / table.name)
        (tmp_path / f"doc_{table.stem}.tex").write_text(_MINIMAL_DOC % f"\\input{{{table.name}}}")
        _pdflatex(tmp_path, f"doc_{table.stem}.tex")
        assert (tmp_path / f"doc_{table.stem}.pdf").stat().st_size > 1_000, table.name


@pytest.mark.slow
@pytest.mark.parametrize("which", ["report", "realistic"])
def test_latex_tables_compile_with_pdflatex_and_bibtex(which, request, tmp_path):
    if not (shutil.which("pdflatex") and shutil.which("bibtex")):
        pytest.skip("pdflatex/bibtex not installed (Debian: texlive-latex-base texlive-latex-recommended)")
    out, _ = request.getfixturevalue(which)
    shutil.copy(out / "references.bib", tmp_path / "references.bib")
    tables = sorted((out / "tables").glob("*.tex"))
    for t in tables:
        shutil.copy(t, tmp_path / t.name)
    (tmp_path / "doc.tex").write_text(_LATEX_DOC % "\n".join(f"\\input{{{t.name}}}\\clearpage" for t in tables))
    _pdflatex(tmp_path)
    _tex(tmp_path, "bibtex", "doc")
    _pdflatex(tmp_path)
    _pdflatex(tmp_path)
    log = (tmp_path / "doc.log").read_text(errors="replace")
    assert "undefined" not in log.lower().replace("undefined references", ""), "undefined citation or reference"
    assert (tmp_path / "doc.pdf").stat().st_size > 10_000
