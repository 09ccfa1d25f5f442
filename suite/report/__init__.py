"""``spikebench report``: tables, figures and one self-contained HTML page from a results store.

Everything is built from the store's tidy frame (:meth:`ResultsStore.frame`: per cell, the latest
run that finished it) and held in memory; only when the whole report is built are the files written,
each atomically, ``index.html`` last. A half-built report is never on disk.

Layout of ``out_dir``::

    index.html                     one page: CSS inline, figures as base64 PNG, tables, provenance, references
    summary.md                     every table in Markdown (with the synthetic-data banner), references
    references.bib                 the BibTeX entries (spikebench.core.bibliography) of every key the tables cite
    tables/<name>.{md,tex,csv}     workloads, deployment_<workload> and chips_<workload> (one each per
                                   workload), pareto_<workload> (per workload run with several networks),
                                   chip_comparison
    figures/<name>.{png,pdf}       pareto_<workload>, latency, energy_split, activity_<workload>

Networks: rows are keyed by (workload, network, backend, chip, metric). A workload run with one network
(its shipped reference, or one network of your own) gives the tables and figures of a store written
before networks were chosen. A workload run with several networks (``spikebench run --network FILE
--with-reference``, :func:`spikebench.benchmark`) is compared: its rows in the workloads and chips tables
come in one block per network (name and the first 8 digits of its content hash), ``pareto_<workload>``
(figure) plots the headline task metric against modelled energy per inference for every (network, chip)
pair (marker per network, colour per chip, low–high energy bars, the Pareto front of the feasible pairs
as a step line) and ``pareto_<workload>`` (table) lists the Pareto-optimal pairs; the comparison table,
latency and energy-split figures get one series per (workload, network) and the activity figure one
panel per network. One name run with several contents reads as ``name@<hash8>`` per content.

Chips deploy the network: a chip never runs the float network as trained but the network in its
numeric format (``hardware_models.deploy``), simulated in its arithmetic; each chip's task metric,
counts and estimate are that network's (rows with ``chip`` set; the float network's rows are
chip-less). ``deployment_<workload>`` puts the float network's headline metric beside each chip's,
with the change, the energy and synaptic events per inference of the deployed network, feasibility and
the deployment's notes (counted; listed under the table: collapsible in HTML, a nested list in
Markdown). The accuracy vs energy figures place each chip (each (network, chip) pair) at its own
deployed metric; a dot inside a marker says the point is the float network's metric (cpu and gpu run
the float network; an infeasible chip has no deployed one). A store written before chips deployed the
network has no chip-tagged task or counts rows: every chip reads the float network's metric and
counts, marked ``(float, not deployed)``, and the report is otherwise the one it gave before.

Modules: :mod:`.data` (:class:`ReportData`, the store indexed), :mod:`.table` (the table model and its
Markdown, LaTeX, CSV and HTML renderers), :mod:`.tables` (the table builders), :mod:`.figures`,
:mod:`.pages` (HTML page, Markdown summary).

Each table is one frame of raw values, written as its CSV, plus one formatter per displayed column
(:class:`Table`, :class:`Column`); the display picks one unit prefix per column (``Energy / inference
(µJ)``). CSV columns, SI units with the unit in the name, empty where missing:

* ``workloads``, one row per workload x network x backend: ``workload``, [``network``, ``network_hash``:
  only when some workload ran with several networks], ``data`` (tags, comma separated),
  ``backend``, ``device``, ``samples``, ``task_metric`` (the headline task metric: ``accuracy``, else
  ``auroc``, else the first other), ``value``, ``low``, ``high`` (its interval), ``chance_level``
  (``chance_<metric>``, else ``chance_level``), ``baseline`` (``baseline_<metric>``),
  ``other_task_metrics`` (``"name=value; ..."``), ``wall_time_per_inference_s``,
  ``gpu_energy_per_inference_j`` (only when some backend measured it), ``synaptic_events_per_inference``,
  ``spikes_per_inference``, ``source`` (the headline metric's provenance note).
* ``deployment_<workload>``, one row per chip (per network and chip, led by ``network``,
  ``network_hash``, when the workload ran with several networks): ``chip``, ``arithmetic`` (the chip's
  numeric format), ``task_metric`` (headline), ``float_value`` (the float network's), ``value``, ``low``,
  ``high`` (on the chip; empty when it cannot hold the network), ``change`` (value - float_value; empty
  where not measured), ``basis`` (``deployed``, ``float``: the chip runs the float network,
  ``infeasible``, ``float-fallback``: no deployment rows, the float network's metric stands in),
  ``energy_j``, ``energy_low_j``, ``energy_high_j``, ``synaptic_events_per_inference`` (of the network the
  chip runs), ``events_basis`` (``chip`` or ``float``), ``feasible`` (0/1), ``reasons``,
  ``deployment_changes`` (number of notes; empty without deployment rows), ``deployment_notes``
  (``"note | note"``).
* ``chips_<workload>``, one row per chip (per network and chip, led by ``network``, ``network_hash``,
  when the workload ran with several networks; estimates from the counts of the reference backend,
  ``sparse-cpu`` where present): ``chip``, ``energy_j``, ``energy_low_j``, ``energy_high_j``,
  ``energy_dynamic_j``, ``energy_static_j``, ``latency_s``, ``latency_low_s``, ``latency_high_s``,
  ``cores``, ``core_kind``, ``chips``, ``feasible`` (0/1), ``reasons`` (why infeasible or
  approximate), ``source_keys`` (``"key1; key2"``: the bibliography keys its constants cite).
* ``pareto_<workload>`` (workloads run with several networks), one row per Pareto-optimal (network, chip)
  pair, cheapest first: ``network``, ``network_hash``, ``chip``, ``backend`` (whose counts and task metric),
  ``task_metric``, ``value``, ``low``, ``high`` (the pair's: its network deployed on its chip), ``basis``,
  ``float_value`` (as in ``deployment_<workload>``), ``energy_j``, ``energy_low_j``, ``energy_high_j``,
  ``latency_s``, ``data``.
* ``chip_comparison``, one row per chip: ``chip``; per workload (per ``<workload>/<network>`` when it
  ran with several networks) ``<workload>_energy_j``,
  ``<workload>_energy_low_j``, ``<workload>_energy_high_j``, ``<workload>_latency_s``,
  ``<workload>_feasible`` (0/1); then ``feasible_on`` and ``estimated_on`` (number of workloads, or
  (workload, network) pairs, the chip can run, of those with an estimate), ``boundary`` (the energy boundary), ``title``,
  ``source_keys``.

LaTeX tables use booktabs rules, units in the headers and ``\\cite{}`` keys of
``spikebench/core/references.bib`` (a chip's "Sources" cell: the keys its constants' ``source``
texts cite, ``[@key, locator]``); ``references.bib`` holds exactly the cited entries (its URLs need
``\\usepackage{url}`` or hyperref). Include the ``.tex`` files with ``\\usepackage{booktabs,graphicx}``
in the preamble; a table wider than the text is scaled to fit. The task rows' notes (data provenance, scoring method) go under the workloads table.
"""

from __future__ import annotations

from pathlib import Path

from spikebench.core import bibliography as bib
from spikebench.core.errors import SpikebenchError
from spikebench.core.fileio import atomic_write_bytes, atomic_write_text, check_writable_folder, output_error
from spikebench.core.phases import phase

from .data import REFERENCE_BACKEND, OnChip, ReportData
from .figures import (
    build_figures,
    figure_activity,
    figure_energy_split,
    figure_latency,
    figure_pareto,
    figure_pareto_networks,
    pareto_front,
    pareto_pairs,
)
from .pages import SYNTHETIC_BANNER, html_page, markdown_page
from .table import Cite, Column, Table, latex_escape
from .tables import build_tables


def _check_out_dir(out: Path, results: Path) -> None:
    """Before building anything: the report folder is a folder (or can be made), writable, and not the store."""
    if out.exists() and not out.is_dir():
        raise SpikebenchError(f"{out}: is a file; give a folder for the report (--out)")
    try:
        if out.resolve() == results.resolve():
            raise SpikebenchError(f"{out}: is the results folder itself; write the report to another folder")
    except OSError as exc:
        raise SpikebenchError(f"{out}: cannot use this report folder ({exc})") from None
    check_writable_folder(out, what="report folder (--out)")


def cited_keys(tables: list[Table]) -> list[str]:
    """The bibliography keys the tables cite, first use first."""
    return list(dict.fromkeys(k for t in tables for k in t.cited_keys()))


def build_report(results_dir, out_dir, *, run_id: str | None = None) -> dict[str, Path]:
    """Read a results store and write the report into ``out_dir`` (created).

    ``run_id``: report that run only (default: per cell, the latest run that finished it; when those
    runs differ in seed, limit, data folder, chips or networks the report says so in a note). Returns
    ``{relative name: path}`` of every written file, ``index.html`` last. Raises
    :class:`SpikebenchError` (one line) for a folder that is not a results store, another schema
    version, a store without finished cells, an unknown run, a physically impossible stored value
    (negative or infinite energy or time, a task fraction outside [0, 1]) or a report folder that
    cannot be written; nothing is written then.
    """
    results_dir, out_dir = Path(results_dir), Path(out_dir)
    _check_out_dir(out_dir, results_dir)
    with phase("report: read the store"):
        data = ReportData.load(results_dir, run_id=run_id)
    with phase("report: tables"):
        tables = build_tables(data)
    keys = cited_keys(tables)
    with phase("report: figures (PNG and PDF)"):
        figures = build_figures(data)
    files: dict[str, bytes] = {}
    for t in tables:
        files[f"tables/{t.name}.md"] = t.to_markdown().encode()
        files[f"tables/{t.name}.tex"] = t.to_latex().encode()
        files[f"tables/{t.name}.csv"] = t.to_csv().encode()
    files["references.bib"] = bib.to_bibtex(keys).encode()
    for name, _, png, pdf in figures:
        files[f"figures/{name}.png"] = png
        files[f"figures/{name}.pdf"] = pdf
    files["summary.md"] = markdown_page(data, tables, figures, keys).encode()
    page = html_page(data, tables, figures, keys, list(files))
    try:
        for sub in ("", "tables", "figures"):
            (out_dir / sub).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise output_error(out_dir, exc, "cannot create the report folder") from None
    written: dict[str, Path] = {}
    for rel, blob in files.items():
        atomic_write_bytes(out_dir / rel, blob)
        written[rel] = out_dir / rel
    atomic_write_text(out_dir / "index.html", page)
    written["index.html"] = out_dir / "index.html"
    return written


__all__ = ["REFERENCE_BACKEND", "SYNTHETIC_BANNER", "Cite", "Column", "OnChip", "ReportData", "Table", "build_figures",
           "build_report", "build_tables", "cited_keys", "figure_activity", "figure_energy_split", "figure_latency",
           "figure_pareto", "figure_pareto_networks", "latex_escape", "pareto_front", "pareto_pairs"]
