"""The report's tables: ``workloads``, ``chips_<workload>`` and ``chip_comparison``.

Each builder makes one raw frame (one dict per row, SI values) and the display columns over it; the
raw column names are listed in the package docstring.
"""

from __future__ import annotations

from spikebench.core import bibliography as bib
from spikebench.core.units import DASH, ENERGY_SCALES, TIME_SCALES, finite, fmt, fmt_count

from .data import ReportData, metric_label, slug
from .table import (
    Column,
    Table,
    cites,
    count,
    frame_of,
    join_keys,
    number,
    quantity,
    quantity_range,
    scale_of,
    scaled,
    text,
)


def short_reason(reason: str, limit: int = 60) -> str:
    """The first clause of a reason, cut to ``limit`` characters with an ellipsis."""
    first = reason.split("; ")[0].strip()
    return first if len(first) <= limit else first[: limit - 1].rstrip() + "…"


def build_tables(data: ReportData) -> list[Table]:
    """``workloads``, then ``chips_<workload>`` for each workload with estimates, then ``chip_comparison``."""
    tables = [workloads_table(data)]
    tables += [chips_table(data, w) for w in data.workloads if data.chips_of(w)]
    if data.chips:
        tables.append(comparison_table(data))
    return tables


def chip_keys(data: ReportData, chip: str) -> list[str]:
    """The bibliography keys cited by a chip's constants, first use first."""
    return bib.cite_keys(data.chip_sources(chip))


# ---- workloads -----------------------------------------------------------------------------------

def _other_metrics(value) -> str:
    """``"auprc=0.55; f1=0.9"`` (raw) -> ``auprc 0.550, f1 0.900``."""
    pairs = [p.split("=", 1) for p in str(value or "").split("; ") if "=" in p]
    return ", ".join(f"{metric_label(m)} {fmt(float(v))}" for m, v in pairs) or DASH


def workloads_table(data: ReportData) -> Table:
    records, sources = [], {}
    for w in data.workloads:
        head, chance, base = data.headline(w), data.chance_metric(w), data.baseline_metric(w)
        for b in data.backends[w]:
            mine = [r for (ww, bb, c, m), r in data.rows.items() if ww == w and bb == b]
            hr = data.get(w, b, head) if head else None
            if hr and hr["source"]:
                sources.setdefault((w, head), []).append(hr["source"])
            samples = mine[0].get("samples") if mine else None
            others = [m for m in data.task_metrics(w, b) if m not in (head, chance, base)]
            records.append({
                "workload": w, "data": ", ".join(sorted({r["data"] for r in mine})), "backend": b,
                "device": str(mine[0].get("device") or "") if mine else "",
                "samples": int(samples) if finite(samples) else None, "task_metric": head or "",
                "value": hr["value"] if hr else None, "low": hr["low"] if hr else None,
                "high": hr["high"] if hr else None,
                "chance_level": data.val(w, b, chance) if chance else None,
                "baseline": data.val(w, b, base) if base else None,
                "other_task_metrics": "; ".join(f"{m}={data.val(w, b, m)!r}" for m in others),
                "wall_time_per_inference_s": data.val(w, b, "wall_time_per_inference_s"),
                "gpu_energy_per_inference_j": data.val(w, b, "gpu_energy_per_inference_j"),
                "synaptic_events_per_inference": data.val(w, b, "synaptic_events_per_inference"),
                "spikes_per_inference": data.val(w, b, "spikes_per_inference"),
                "source": hr["source"] if hr else ""})
    frame = frame_of(records, whole=["samples"])
    if not any(finite(v) for v in frame["gpu_energy_per_inference_j"]):
        frame = frame.drop(columns="gpu_energy_per_inference_j")  # measured on a GPU only
    columns = [
        text("workload", "Workload"), text("data", "Data"),
        Column(header="Backend (device)", align="l",
               cell=lambda r: f"{r['backend']} ({r['device']})" if r["device"] else r["backend"]),
        text("samples", "Samples", align="r"),
        Column(header="Task metric", align="l", cell=lambda r: metric_label(r["task_metric"] or DASH)),
        number("value", "Value"), quantity_range("low", "high", "Interval", ("", 1.0)),
        number("chance_level", "Chance"), number("baseline", "Baseline"),
        Column(header="Other task metrics", align="l", latex_align="p{2.6cm}",
               cell=lambda r: _other_metrics(r["other_task_metrics"])),
        quantity("wall_time_per_inference_s", "Wall time / inference ({unit})",
                 scale_of(frame, "wall_time_per_inference_s", TIME_SCALES))]
    if "gpu_energy_per_inference_j" in frame:
        columns.append(quantity("gpu_energy_per_inference_j", "GPU energy / inference ({unit}, measured)",
                                scale_of(frame, "gpu_energy_per_inference_j", ENERGY_SCALES)))
    columns += [number("synaptic_events_per_inference", "Synaptic events / inference"),
                number("spikes_per_inference", "Spikes / inference")]
    notes = ["Task metric: the workload's headline metric (accuracy, else AUROC); chance and baseline on the "
             "same test split. Wall time is measured per inference (batch run divided by samples); events are "
             "exact counts of the simulation."]
    notes += [f"{w} {metric_label(m)}: {src}" for (w, m), texts in sources.items() for src in dict.fromkeys(texts)]
    return Table(name="workloads", caption="Workloads: task metrics, measured wall time and events per inference",
                 frame=frame, columns=tuple(columns), notes=tuple(notes))


# ---- one workload on every chip ------------------------------------------------------------------

_QUANTITIES = ("energy_j", "energy_dynamic_j", "energy_static_j", "latency_s")


def _feasible_text(marks: dict[str, str], long: bool):
    def cell(r) -> str:
        txt = DASH if r["feasible"] is None else ("yes" if r["feasible"] else "no")
        mark = marks.get(r["chip"])
        if mark is None:
            return txt
        return f"{txt} ({mark}: {short_reason(r['reasons'])})" if long and not r["feasible"] else f"{txt} ({mark})"

    return cell


def _cores(r) -> str:
    if r["cores"] is None:
        return DASH
    kind = r["core_kind"] if r["core_kind"] not in (None, "-", "1") else ""
    return f"{fmt_count(r['cores'])} {kind}".strip()


def chips_table(data: ReportData, w: str) -> Table:
    b = data.ref_backend(w)
    records, marks, notes = [], {}, []
    letters = iter("abcdefghijklmnopqrstuvwxyz")
    for c in data.chips_of(w):
        rec = {"chip": c}
        for m in _QUANTITIES:
            r = data.get(w, b, m, c)
            base, unit = m.rsplit("_", 1)
            rec[m] = r["value"] if r else None
            if m in ("energy_j", "latency_s"):
                rec[f"{base}_low_{unit}"], rec[f"{base}_high_{unit}"] = (r["low"], r["high"]) if r else (None, None)
        cores, nchips = data.get(w, b, "cores", c), data.get(w, b, "chips", c)
        feas, reason = data.feasible(w, c), data.reason(w, c)
        rec |= {"cores": cores["value"] if cores else None, "core_kind": cores["unit"] if cores else "",
                "chips": nchips["value"] if nchips else None, "feasible": None if feas is None else int(feas),
                "reasons": reason, "source_keys": join_keys(chip_keys(data, c))}
        if reason:
            marks[c] = next(letters, "*")
            notes.append(f"({marks[c]}) {c}: {reason}")
        records.append(rec)
    frame = frame_of(records, whole=["cores", "chips", "feasible"])
    energy = scale_of(frame, "energy_j", ENERGY_SCALES)
    latency = scale_of(frame, "latency_s", TIME_SCALES)
    columns = (
        text("chip", "Chip"),
        quantity("energy_j", "Energy / inference ({unit})", energy),
        quantity_range("energy_low_j", "energy_high_j", "Energy range ({unit})", energy),
        quantity("energy_dynamic_j", "Dynamic ({unit})", energy),
        quantity("energy_static_j", "Static ({unit})", energy),
        quantity("latency_s", "Latency ({unit})", latency),
        quantity_range("latency_low_s", "latency_high_s", "Latency range ({unit})", latency),
        Column(header="Cores", cell=_cores), count("chips", "Chips"),
        Column(header="Feasible", align="l", cell=_feasible_text(marks, True), latex_cell=_feasible_text(marks, False)),
        cites())
    tags = ", ".join(data.data_tags(w))
    caption = (f"{w} ({tags} data): modelled energy and latency per inference on each chip, from the event counts "
               f"of the {b} backend; ranges from the constants' intervals")
    return Table(name=f"chips_{slug(w)}", caption=caption, frame=frame, columns=columns, notes=tuple(notes))


# ---- every chip on every workload ----------------------------------------------------------------

def _starred(name: str, feasible: str, factor: float):
    """A quantity in the column's unit, starred where the mapping is infeasible."""
    def cell(r) -> str:
        return DASH if r[name] is None else scaled(r[name], factor) + ("*" if r[feasible] == 0 else "")

    return cell


def comparison_table(data: ReportData) -> Table:
    records = []
    for c in data.chips:
        rec, ok, n, boundary = {"chip": c}, 0, 0, ""
        for w in data.workloads:
            b = data.ref_backend(w)
            e, lat, feas = data.get(w, b, "energy_j", c), data.get(w, b, "latency_s", c), data.feasible(w, c)
            boundary = boundary or (e["source"] if e else "")
            rec |= {f"{w}_energy_j": e["value"] if e else None, f"{w}_energy_low_j": e["low"] if e else None,
                    f"{w}_energy_high_j": e["high"] if e else None, f"{w}_latency_s": lat["value"] if lat else None,
                    f"{w}_feasible": None if feas is None else int(feas)}
            if feas is not None:
                n += 1
                ok += bool(feas)
        rec |= {"feasible_on": ok, "estimated_on": n, "boundary": boundary, "title": data.chip_title(c),
                "source_keys": join_keys(chip_keys(data, c))}
        records.append(rec)
    frame = frame_of(records, whole=[f"{w}_feasible" for w in data.workloads])
    columns = [text("chip", "Chip")]
    for w in data.workloads:
        for what, label, scales in (("energy_j", "Energy", ENERGY_SCALES), ("latency_s", "Latency", TIME_SCALES)):
            unit, factor = scale_of(frame, f"{w}_{what}", scales)
            columns.append(Column(header=f"{label} ({unit})", group=w,
                                  cell=_starred(f"{w}_{what}", f"{w}_feasible", factor)))
    columns += [Column(header="Feasible on", cell=lambda r: f"{r['feasible_on']} of {r['estimated_on']}"),
                Column(header="Energy boundary", align="l", latex_align="p{2.6cm}",
                       cell=lambda r: short_reason(r["boundary"], 48)),
                cites()]
    notes = ("* infeasible mapping on that workload (see the workload's chip table for why). Energies and "
             "latencies are modelled per inference, nominal constants; each chip's energy boundary differs.",)
    return Table(name="chip_comparison", caption="Chip comparison: modelled energy and latency per inference",
                 frame=frame, columns=tuple(columns), notes=notes)


__all__ = ["build_tables", "chip_keys", "chips_table", "comparison_table", "short_reason", "workloads_table"]
