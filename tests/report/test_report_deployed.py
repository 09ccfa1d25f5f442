"""The report since chips deploy the network (issue 10): each chip's task metric, counts and estimate are
those of the network in its numeric format; the float network's rows stay chip-less. A store written
before (no chip-tagged rows) reports every chip on the float network, marked as such."""

from __future__ import annotations

import re

import pytest
from reportstore import (
    DEPLOYED_PARETO,
    FLOAT_EVENTS,
    built_report,
    make_deployed_networks_store,
    make_deployed_store,
    make_store,
    read_csv,
)

from spikebench.report import ReportData, build_tables, figure_pareto, pareto_pairs


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    return built_report(tmp_path_factory, "deployed", make_deployed_store)


@pytest.fixture(scope="module")
def data(report):
    out, _ = report
    return ReportData.load(out.parent / "results")


def test_each_chip_reads_its_own_deployed_rows(data):
    loihi2, cpu, akida = (data.on_chip("nmnist", c) for c in ("loihi2", "cpu", "akida"))
    assert (loihi2.basis, loihi2.value, loihi2.float_value) == ("deployed", 0.80, 0.95)
    assert loihi2.change == pytest.approx(-0.15) and loihi2.events == 6000.0 and not loihi2.events_float
    assert (loihi2.changes, loihi2.arithmetic) == (3, "loihi2-fixed")
    assert loihi2.notes == ("weights of lif1: 8-bit mantissa", "reset to zero", "one step of synaptic delay")
    assert (cpu.basis, cpu.value, cpu.change, cpu.on_float) == ("float", 0.95, 0.0, True)
    # akida cannot hold the network: no metric of its own, its estimate on the float counts
    assert (akida.basis, akida.value, akida.change) == ("infeasible", None, None)
    assert akida.events == FLOAT_EVENTS and akida.events_float and akida.plotted["value"] == 0.95
    # the chip-less rows are still the float network's
    assert data.val("nmnist", "sparse-cpu", "accuracy") == 0.95
    assert data.val("nmnist", "sparse-cpu", "synaptic_events_per_inference") == FLOAT_EVENTS


def test_deployment_table_shows_float_and_deployed_metric(report):
    out, written = report
    md = (out / "tables" / "deployment_nmnist.md").read_text()
    assert ("| Chip | Arithmetic | Accuracy, float network | Accuracy on chip | Change | Energy / inference (µJ) | "
            "Energy range (µJ) | Synaptic events / inference | Feasible | Deployment changes |") in md
    assert "| loihi2 | loihi2-fixed | 0.950 | 0.800 | −0.150 | 2.00 | 1.60–3.00 | 6,000 | yes | 3 [2] |" in md
    assert "| loihi | loihi-fixed | 0.950 | 0.930 | −0.020 | 12.0 | 9.60–18.0 | 9,000 | yes | 3 [1] |" in md
    assert "| cpu | float32 | 0.950 | 0.950 (float) | 0 | 14.0 |" in md
    assert re.search(r"\| akida \| akida-int4 \| 0\.950 \| — \| — \| 9\.00 \| .* \| 10,000 \(float\) \| no \(a: "
                     r"numeric format: rlif1: recurrent layers are not supported\) \| 0 \|", md)
    # the notes: one list per distinct deployment (cpu and gpu share theirs), citations rendered
    assert "- [1] loihi (loihi-fixed): 3 notes\n  - weights of lif1: 8-bit mantissa Davies et al. 2018, p. 87" in md
    assert "- [3] cpu, gpu (float32): 1 note\n  - runs the float32 network as trained" in md
    rows = {r["chip"]: r for r in read_csv(out / "tables" / "deployment_nmnist.csv")}
    assert (rows["loihi2"]["basis"], float(rows["loihi2"]["value"]), float(rows["loihi2"]["float_value"])) == (
        "deployed", 0.8, 0.95)
    assert float(rows["loihi2"]["change"]) == pytest.approx(-0.15) and rows["akida"]["value"] == ""
    assert rows["loihi2"]["deployment_notes"].split(" | ")[1] == "reset to zero"
    page = (out / "index.html").read_text()
    assert '<details class="note"><summary>[2] loihi2 (loihi2-fixed): 3 notes</summary><ul><li>' in page
    assert page.index('id="tab-deployment_nmnist"') < page.index('id="tab-chips_nmnist"')
    bib = (out / "references.bib").read_text()
    assert "@" in bib and "davies2018" in bib  # a deployment note's citation is a reference
    tex = (out / "tables" / "deployment_nmnist.tex").read_text()
    assert "\\cite[p. 87]{davies2018}" in tex and "0.800" in tex


def test_estimates_and_float_counts_do_not_mix(report):
    """The chips table reads the estimates (from the deployed counts), the workloads table the float counts."""
    out, _ = report
    chips = {r["chip"]: r for r in read_csv(out / "tables" / "chips_nmnist.csv")}
    assert float(chips["loihi2"]["energy_j"]) == pytest.approx(2e-6) and chips["akida"]["feasible"] == "0"
    assert "numeric format" in chips["akida"]["reasons"]
    assert "counts of the network as it holds it" in (out / "tables" / "chips_nmnist.md").read_text()
    wl = read_csv(out / "tables" / "workloads.csv")
    assert len(wl) == 1 and float(wl[0]["value"]) == 0.95
    assert float(wl[0]["synaptic_events_per_inference"]) == FLOAT_EVENTS


def test_pareto_figure_puts_each_chip_at_its_deployed_metric(data):
    fig = figure_pareto(data, "nmnist")
    ax = fig.axes[0]
    pts = {c.get_gid(): [tuple(o) for o in c.get_offsets()] for c in ax.collections if c.get_gid()}
    ys = sorted(y for _, y in pts["chips-feasible"])
    assert ys == pytest.approx([0.80, 0.93, 0.95, 0.95])  # loihi2, loihi, cpu, gpu: no longer one line
    assert [y for _, y in pts["chips-infeasible"]] == pytest.approx([0.95])  # akida, at the float network's
    assert sorted(x for x, _ in pts["chips-float"]) == pytest.approx([9e-6, 14e-6, 0.25])  # akida, cpu, gpu
    step = next(line for line in ax.get_lines() if line.get_gid() == "pareto-front")
    assert list(step.get_xdata()) == pytest.approx([2e-6, 12e-6, 14e-6])  # loihi2, loihi, cpu
    assert list(step.get_ydata()) == pytest.approx([0.80, 0.93, 0.95])
    assert "deployed" in ax.get_ylabel()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "float network as trained (0.950, sparse-cpu)" in labels
    assert "dot inside: float network (not deployed)" in labels


def test_old_store_reads_every_chip_on_the_float_network(tmp_path):
    data = ReportData.load(make_store(tmp_path / "r"))
    oc = data.on_chip("shd", "loihi2")
    assert (oc.basis, oc.value, oc.change, oc.changes, oc.events_float) == ("float-fallback", 0.6125, None, None, True)
    table = next(t for t in build_tables(data) if t.name == "deployment_shd")
    md = table.to_markdown()
    assert "| loihi2 | — | 0.613 | 0.613 (float, not deployed) | — |" in md
    assert "no deployment rows for any chip" in md and "<details" not in table.to_html()
    assert "counts of the network as it holds it" not in next(t for t in build_tables(data)
                                                              if t.name == "chips_shd").to_markdown()


def test_pairs_of_several_networks_ranked_by_their_deployed_metric(tmp_path):
    data = ReportData.load(make_deployed_networks_store(tmp_path / "r"))
    front, points, infeasible = pareto_pairs(data, "nmnist")
    assert [p[:2] for p in front] == DEPLOYED_PARETO
    assert [(n, c) for n, c, *_ in infeasible] == [("nmnist-reference", "akida")]
    pareto = next(t for t in build_tables(data) if t.name == "pareto_nmnist")
    recs = pareto.records()
    assert [(r["network"], r["chip"], r["value"], r["basis"]) for r in recs][:2] == [
        ("small", "loihi2", 0.85, "deployed"), ("small", "loihi", 0.86, "deployed")]
    md = pareto.to_markdown()
    assert "| small (abcdef01) | loihi2 | 0.850 | 0.880 |" in md and "| loihi | 0.930 | 0.950 |" in md
    dep = next(t for t in build_tables(data) if t.name == "deployment_nmnist")
    assert [r["network"] for r in dep.records()] == ["nmnist-reference"] * 5 + ["small"] * 3
    assert "**network small (abcdef01): accuracy 0.880 (sparse-cpu)**" in dep.to_markdown()
    fig = figure_pareto(data, "nmnist")
    ax = fig.axes[0]
    step = next(line for line in ax.get_lines() if line.get_gid() == "pareto-front")
    assert list(step.get_ydata()) == pytest.approx([0.85, 0.86, 0.88, 0.93, 0.95])
    dots = next(c for c in ax.collections if c.get_gid() == "pairs-float")
    assert len(dots.get_offsets()) == 4  # reference cpu, gpu, akida (infeasible); small cpu
