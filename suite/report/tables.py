"""The report's tables: ``workloads``, ``deployment_<workload>``, ``chips_<workload>``,
``pareto_<workload>`` (workloads run with several networks) and ``chip_comparison``.

Each builder makes one raw frame (one dict per row, SI values) and the display columns over it; the
raw column names are listed in the package docstring. A workload with one network gives the tables
of a store written before networks were chosen; with several, its rows come in one block per network.
"""

from __future__ import annotations

from spikebench.core import bibliography as bib
from spikebench.core.units import DASH, ENERGY_SCALES, TIME_SCALES, finite, fmt, fmt_count

from .data import ReportData, metric_label, slug
from .figures import pareto_pairs
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
    """The first clause of a reason (citations as labels), cut to ``limit`` characters with an ellipsis."""
    first = known_citations(reason.split("; ")[0].strip())
    first = bib.render_text(first)
    return first if len(first) <= limit else first[: limit - 1].rstrip() + "…"


def known_citations(text: str) -> str:
    """``text`` with citations of keys missing from the bibliography turned into plain ``[key, locator]``
    (stored texts may come from another spikebench version: never fail a report on one)."""
    entries = bib.bibliography()

    def one(m) -> str:
        if m.group(1) in entries:
            return m.group(0)
        return f"[{m.group(1)}" + (f", {m.group(2).strip()}" if m.group(2) else "") + "]"

    return bib.CITATION.sub(one, text)


def build_tables(data: ReportData) -> list[Table]:
    """``workloads``, then per workload with estimates ``deployment_<workload>``, ``chips_<workload>``
    (and ``pareto_<workload>`` when it ran with several networks), then ``chip_comparison``."""
    tables = [workloads_table(data)]
    for w in data.workloads:
        if any(data.chips_of(w, n) for n in data.networks[w]):
            tables.append(deployment_table(data, w))
            tables.append(chips_table(data, w))
            if data.multi(w) and pareto_pairs(data, w)[0]:
                tables.append(pareto_table(data, w))
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
    records, sources, agreements = [], {}, []
    nets = data.any_multi  # a network column only where some workload compares networks
    for w in data.workloads:
        head, chance, base = data.headline(w), data.chance_metric(w), data.baseline_metric(w)
        for n, b in [(nn, b) for nn in data.networks[w] for b in data.backends_of(w, nn)]:
            mine = [r for (ww, nn, bb, c, m), r in data.rows.items() if ww == w and nn == n and bb == b]
            hr = data.get(w, b, head, network=n) if head else None
            if hr and hr["source"]:
                sources.setdefault((f"{w} ({n})" if data.multi(w) else w, head), []).append(hr["source"])
            samples = mine[0].get("samples") if mine else None
            check = data.get(w, b, "agrees_with_sparse_cpu", network=n)
            if check:
                agreements.append(f"{f'{w} ({n})' if data.multi(w) else w} on {b}: "
                                  f"{'agrees' if check['value'] == 1 else 'DISAGREES'}: {check['source']}")
            others = [m for m in data.task_metrics(w, b, n) if m not in (head, chance, base)]
            ident = {"network": n, "network_hash": data.hashes.get((w, n), "")} if nets else {}
            records.append({
                "workload": w, **ident, "data": ", ".join(sorted({r["data"] for r in mine})), "backend": b,
                "device": str(mine[0].get("device") or "") if mine else "",
                "samples": int(samples) if finite(samples) else None, "task_metric": head or "",
                "value": hr["value"] if hr else None, "low": hr["low"] if hr else None,
                "high": hr["high"] if hr else None,
                "chance_level": data.val(w, b, chance, network=n) if chance else None,
                "baseline": data.val(w, b, base, network=n) if base else None,
                "other_task_metrics": "; ".join(f"{m}={data.val(w, b, m, network=n)!r}" for m in others),
                "wall_time_per_inference_s": data.val(w, b, "wall_time_per_inference_s", network=n),
                "gpu_energy_per_inference_j": data.val(w, b, "gpu_energy_per_inference_j", network=n),
                "synaptic_events_per_inference": data.val(w, b, "synaptic_events_per_inference", network=n),
                "spikes_per_inference": data.val(w, b, "spikes_per_inference", network=n),
                "source": hr["source"] if hr else ""})
    frame = frame_of(records, whole=["samples"])
    if not any(finite(v) for v in frame["gpu_energy_per_inference_j"]):
        frame = frame.drop(columns="gpu_energy_per_inference_j")  # measured on a GPU only
    columns = [text("workload", "Workload")]
    if nets:
        columns.append(Column(header="Network", align="l", cell=lambda r: _network_cell(r)))
    columns += [
        text("data", "Data"),
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
             "same test split. Wall time is measured per inference: the whole simulate call over the test split "
             "(input packing, the simulation, counting; the network was prepared and the code compiled in a warm-up "
             "call before) divided by samples; its row's source splits preparation from simulation. Events are "
             "exact counts of the simulation."]
    if nets:
        notes.append("Network: the network that ran (the shipped reference is <workload>-reference) and the first "
                     "8 digits of its content hash; a workload with several networks has one row per network and "
                     "backend.")
    if frame.groupby("workload")["samples"].nunique().max() > 1:
        notes.append("Samples differ between the backends of a workload where the run limited a backend "
                     "(--backend-limit: a seed-drawn subset of the test split): each row's metrics are on its own "
                     "samples, so compare backends by the agreement checks below, not by the metric values.")
    notes += agreements
    notes += [f"{w} {metric_label(m)}: {src}" for (w, m), texts in sources.items() for src in dict.fromkeys(texts)]
    return Table(name="workloads", caption="Workloads: task metrics, measured wall time and events per inference",
                 frame=frame, columns=tuple(columns), notes=tuple(notes))


def _network_cell(r) -> str:
    h = (r.get("network_hash") or "")[:8]
    return f"{r['network']} ({h})" if h and not str(r["network"]).endswith("@" + h) else str(r["network"])


# ---- one workload on every chip ------------------------------------------------------------------

_QUANTITIES = ("energy_j", "energy_dynamic_j", "energy_static_j", "latency_s")


def _feasible_text(marks: dict[tuple[str, str], str], long: bool):
    def cell(r) -> str:
        txt = DASH if r["feasible"] is None else ("yes" if r["feasible"] else "no")
        mark = marks.get((r["chip"], r["reasons"]))
        if mark is None:
            return txt
        return f"{txt} ({mark}: {short_reason(r['reasons'])})" if long and not r["feasible"] else f"{txt} ({mark})"

    return cell


def _cores(r) -> str:
    if r["cores"] is None:
        return DASH
    kind = r["core_kind"] if r["core_kind"] not in (None, "-", "1") else ""
    return f"{fmt_count(r['cores'])} {kind}".strip()


def _group_label(data: ReportData, w: str):
    """A network's block heading: ``network small (8519288a): accuracy 0.875 (sparse-cpu)``."""
    head = data.headline(w)

    def label(r) -> str:
        n = r["network"]
        b = data.ref_backend(w, n)
        v = data.val(w, b, head, network=n) if head else None
        score = f": {metric_label(head)} {fmt(v)} ({b})" if finite(v) else f" ({b})"
        return f"network {data.network_label(w, n)}{score}"

    return label


def chips_table(data: ReportData, w: str) -> Table:
    multi = data.multi(w)
    records, marks, notes, seen_ext = [], {}, [], set()
    letters = iter("abcdefghijklmnopqrstuvwxyz")
    for n in data.networks[w] if multi else [None]:
        b = data.ref_backend(w, n)
        for c in data.chips_of(w, n):
            rec = {"network": n, "network_hash": data.hashes.get((w, n), "")} if multi else {}
            rec["chip"] = c
            for m in _QUANTITIES:
                r = data.get(w, b, m, c, n)
                base, unit = m.rsplit("_", 1)
                rec[m] = r["value"] if r else None
                if m in ("energy_j", "latency_s"):
                    rec[f"{base}_low_{unit}"], rec[f"{base}_high_{unit}"] = (r["low"], r["high"]) if r else (None, None)
            cores, nchips = data.get(w, b, "cores", c, n), data.get(w, b, "chips", c, n)
            feas, reason = data.feasible(w, c, n), data.reason(w, c, n)
            ext = data.get(w, b, "extrapolated", c, n)
            rec |= {"cores": cores["value"] if cores else None, "core_kind": cores["unit"] if cores else "",
                    "chips": nchips["value"] if nchips else None, "feasible": None if feas is None else int(feas),
                    "regime": DASH if ext is None else ("extrapolated" if ext["value"] else "inside"),
                    "reasons": reason, "source_keys": join_keys(chip_keys(data, c))}
            if ext and ext["value"] and (c, ext["source"]) not in seen_ext:
                seen_ext.add((c, ext["source"]))
                notes.append(f"extrapolated ({c}{f', {n}' if multi else ''}): {ext['source']}")
            if reason and (c, reason) not in marks:  # one letter per chip and reason, shared by networks
                marks[(c, reason)] = next(letters, "*")
                notes.append(f"({marks[(c, reason)]}) {c}: {known_citations(reason)}")
            records.append(rec)
    if any(data.deployed_any(w, n) for n in (data.networks[w] if multi else [None])):
        notes.insert(0, f"Each chip's estimate is from the counts of the network as it holds it (deployed in its "
                        f"numeric format; deployment_{slug(w)} gives its task metric and events); a chip that cannot "
                        "hold the network is estimated on the float network's counts.")
    has_regime = any(r["regime"] != DASH for r in records)  # stores written before issue 14 have no regime rows
    if not has_regime:
        for r in records:
            del r["regime"]
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
        *([text("regime", "Regime")] if has_regime else []),
        cites())
    tags = ", ".join(data.data_tags(w))
    ranges = ("ranges: the constants' intervals, each side widened to at least x1.5 from nominal inside a model's "
              "regime and x3 outside it (Regime: extrapolated)" if has_regime else "ranges from the constants' intervals")
    if not multi:
        caption = (f"{w} ({tags} data): modelled energy and latency per inference on each chip, from the event "
                   f"counts of the {data.ref_backend(w)} backend; {ranges}")
        return Table(name=f"chips_{slug(w)}", caption=caption, frame=frame, columns=columns, notes=tuple(notes))
    caption = (f"{w} ({tags} data): modelled energy and latency per inference of each network on each chip, from "
               f"each network's event counts (backend in its heading); {ranges}")
    return Table(name=f"chips_{slug(w)}", caption=caption, frame=frame, columns=columns, notes=tuple(notes),
                 row_group=_group_label(data, w))


# ---- each chip on the network as it holds it ---------------------------------------------------------

_ON_CHIP = {"deployed": "", "float": " (float)", "float-fallback": " (float, not deployed)"}
_METRIC_HEADERS = {"auroc": "AUROC", "auprc": "AUPRC", "f1": "F1"}


def _on_chip_cell(r) -> str:
    if r["basis"] == "infeasible" or r["value"] is None:
        return DASH
    return fmt(r["value"]) + _ON_CHIP.get(r["basis"], "")


def _change_cell(r) -> str:
    """On chip minus float, to 3 decimals (a task metric is a fraction): ``−0.150``, ``+0.004``, ``0``."""
    v = r["change"]
    if not finite(v):
        return DASH
    if v == 0:
        return "0"
    digits = f"{abs(v):.3f}"
    return ("+" if v > 0 else "−") + (digits if digits != "0.000" else f"{abs(v):.1g}")


def _events_cell(r) -> str:
    v = r["synaptic_events_per_inference"]
    return DASH if v is None else fmt_count(v) + (" (float)" if r["events_basis"] == "float" else "")


def deployment_table(data: ReportData, w: str) -> Table:
    """Per chip (per network and chip when the workload ran with several): the headline task metric of
    the float network and of the network as the chip holds it, the change, the modelled energy and the
    synaptic events per inference of the deployed network, feasibility and the deployment's notes."""
    multi = data.multi(w)
    head = data.headline(w)
    label = metric_label(head) if head else "task metric"
    records, marks, notes, details, lists, refs = [], {}, [], [], {}, {}
    letters = iter("abcdefghijklmnopqrstuvwxyz")
    for n in data.networks[w] if multi else [None]:
        b = data.ref_backend(w, n)
        for c in data.chips_of(w, n):
            oc = data.on_chip(w, c, n)
            e = data.get(w, b, "energy_j", c, n)
            feas, reason = data.feasible(w, c, n), data.reason(w, c, n)
            if reason and (c, reason) not in marks:
                marks[(c, reason)] = next(letters, "*")
                notes.append(f"({marks[(c, reason)]}) {c}: {known_citations(reason)}")
            if oc.notes:
                key = (oc.arithmetic, oc.notes)
                if key not in lists:
                    lists[key] = len(lists) + 1
                    details.append((f"[{lists[key]}] {c} ({oc.arithmetic}): {len(oc.notes)} "
                                    f"note{'s' if len(oc.notes) != 1 else ''}",
                                    tuple(known_citations(t) for t in oc.notes)))
                else:  # one list per distinct deployment, named by every chip that shares it
                    i = lists[key] - 1
                    h, items = details[i]
                    details[i] = (h.replace(f" ({oc.arithmetic})", f", {c} ({oc.arithmetic})", 1), items)
                refs[(n, c)] = lists[key]
            rec = {"network": n, "network_hash": data.hashes.get((w, n), "")} if multi else {}
            rec |= {"chip": c, "arithmetic": oc.arithmetic, "task_metric": head or "",
                    "float_value": oc.float_value, "value": oc.value if oc.basis != "infeasible" else None,
                    "low": oc.row["low"] if oc.row else None, "high": oc.row["high"] if oc.row else None,
                    "change": oc.change, "basis": oc.basis,
                    "energy_j": e["value"] if e else None, "energy_low_j": e["low"] if e else None,
                    "energy_high_j": e["high"] if e else None,
                    "synaptic_events_per_inference": oc.events, "events_basis": "float" if oc.events_float else "chip",
                    "feasible": None if feas is None else int(feas), "reasons": reason,
                    "deployment_changes": oc.changes, "deployment_notes": " | ".join(oc.notes)}
            records.append(rec)
    frame = frame_of(records, whole=["feasible", "deployment_changes"])
    for col in ("float_value", "value", "low", "high", "change", "energy_j", "energy_low_j", "energy_high_j",
                "synaptic_events_per_inference"):
        if col in frame:  # numbers, missing as NaN (an all-missing column stays numeric in the CSV)
            frame[col] = frame[col].astype(float)
    energy = scale_of(frame, "energy_j", ENERGY_SCALES)
    cap = _METRIC_HEADERS.get(head or "", label.capitalize())
    columns = (
        text("chip", "Chip"), text("arithmetic", "Arithmetic"),
        number("float_value", f"{cap}, float network"),
        Column(header=f"{cap} on chip", cell=_on_chip_cell),
        Column(header="Change", cell=_change_cell),
        quantity("energy_j", "Energy / inference ({unit})", energy),
        quantity_range("energy_low_j", "energy_high_j", "Energy range ({unit})", energy),
        Column(header="Synaptic events / inference", cell=_events_cell),
        Column(header="Feasible", align="l", cell=_feasible_text(marks, True), latex_cell=_feasible_text(marks, False)),
        Column(header="Deployment changes", cell=lambda r: DASH if r["deployment_changes"] is None else
               fmt_count(r["deployment_changes"]) + (f" [{refs[(r.get('network'), r['chip'])]}]"
                                                     if (r.get("network"), r["chip"]) in refs else "")))
    bases = set(frame["basis"]) if len(frame) else set()
    lines = []
    if bases - {"float-fallback"}:
        lines.append(f"{cap} on chip: measured on the network as the chip holds it (deployed in its numeric format "
                     "and simulated by sparse-cpu in its arithmetic, on the same test split); change: on chip minus "
                     "the float network as trained. Energy and synaptic events per inference are the deployed "
                     "network's (quantisation changes activity, so energy too).")
    if "float" in bases:
        lines.append("(float): the chip runs the float network as trained (its metric and counts are the float "
                     "network's).")
    if "infeasible" in bases:
        lines.append(f"{DASH} on chip: the chip's numeric format cannot hold the network (why: under Feasible); its "
                     "estimate uses the float network's counts, marked (float).")
    if "float-fallback" in bases:
        old = list(dict.fromkeys(r["chip"] for r in records if r["basis"] == "float-fallback"))
        who = "any chip" if bases == {"float-fallback"} else ", ".join(old)
        lines.append(f"(float, not deployed): no deployment rows for {who} (a store written before chips deployed "
                     "the network): the float network's metric and counts stand in and the estimate is on the float "
                     "counts; rerun `spikebench run` for each chip's deployed network.")
    if details:
        lines.append("Deployment changes: the number of notes the chip's deployment wrote (what it changed in "
                     "the network); the lists below give them.")
    tags = ", ".join(data.data_tags(w))
    caption = (f"{w} ({tags} data): {label} of the float network and on each chip (the network deployed in the "
               "chip's numeric format), with the modelled energy and synaptic events per inference of the deployed "
               "network")
    return Table(name=f"deployment_{slug(w)}", caption=caption, frame=frame, columns=columns,
                 notes=tuple(lines + notes), details=tuple(details), row_group=_group_label(data, w) if multi else None)


# ---- the Pareto-optimal (network, chip) pairs of a workload ----------------------------------------

def pareto_table(data: ReportData, w: str) -> Table:
    """The Pareto-optimal (network, chip) pairs of a workload run with several networks, cheapest first."""
    head = data.headline(w)
    front, points, _ = pareto_pairs(data, w)
    records = []
    for n, c, e, hr in front:
        b = data.ref_backend(w, n)
        lat = data.get(w, b, "latency_s", c, n)
        oc = data.on_chip(w, c, n)
        records.append({"network": n, "network_hash": data.hashes.get((w, n), ""), "chip": c, "backend": b,
                        "task_metric": head, "value": hr["value"], "low": hr["low"], "high": hr["high"],
                        "basis": oc.basis, "float_value": oc.float_value,
                        "energy_j": e["value"], "energy_low_j": e["low"], "energy_high_j": e["high"],
                        "latency_s": lat["value"] if lat else None, "data": hr["data"]})
    frame = frame_of(records)
    energy = scale_of(frame, "energy_j", ENERGY_SCALES)
    columns = (Column(header="Network", align="l", cell=_network_cell), text("chip", "Chip"),
               Column(header=f"{_METRIC_HEADERS.get(head, metric_label(head).capitalize())} on chip",
                      cell=_on_chip_cell),
               number("float_value", "Float network"), quantity_range("low", "high", "Interval", ("", 1.0)),
               quantity("energy_j", "Energy / inference ({unit})", energy),
               quantity_range("energy_low_j", "energy_high_j", "Energy range ({unit})", energy),
               quantity("latency_s", "Latency ({unit})", scale_of(frame, "latency_s", TIME_SCALES)),
               text("data", "Data"))
    notes = (f"A pair is Pareto-optimal when no other feasible pair is at least as good in both {metric_label(head)} "
             "(higher) and nominal modelled energy per inference (lower) and better in one; "
             f"{len(front)} of {len(points)} feasible pairs are. "
             f"Each pair's {metric_label(head)} is measured on its network as its chip holds it (deployed in the "
             "chip's numeric format, simulated in its arithmetic); (float): the chip runs the float network as "
             "trained; (float, not deployed): no deployment rows, the float network's metric stands in.",)
    return Table(name=f"pareto_{slug(w)}", caption=f"{w}: Pareto-optimal (network, chip) pairs, {metric_label(head)} "
                 "vs modelled energy per inference (feasible pairs, cheapest first)",
                 frame=frame, columns=columns, notes=notes)


# ---- every chip on every workload ----------------------------------------------------------------

def _starred(name: str, feasible: str, factor: float):
    """A quantity in the column's unit, starred where the mapping is infeasible."""
    def cell(r) -> str:
        return DASH if r[name] is None else scaled(r[name], factor) + ("*" if r[feasible] == 0 else "")

    return cell


def comparison_groups(data: ReportData) -> list[tuple[str, str, str, str | None]]:
    """``(column prefix, group header, workload, network)`` per column group of ``chip_comparison``: one
    per workload, or per (workload, network) as ``<workload>/<network>`` where a workload has several."""
    return [(f"{w}/{n}", f"{w} / {n}", w, n) if data.multi(w) else (w, w, w, None)
            for w in data.workloads for n in data.networks[w][: None if data.multi(w) else 1]]


def comparison_table(data: ReportData) -> Table:
    records = []
    groups = comparison_groups(data)
    for c in data.chips:
        rec, ok, n, boundary = {"chip": c}, 0, 0, ""
        for p, _, w, net in groups:
            b = data.ref_backend(w, net)
            e, lat = data.get(w, b, "energy_j", c, net), data.get(w, b, "latency_s", c, net)
            feas = data.feasible(w, c, net)
            boundary = boundary or (e["source"] if e else "")
            rec |= {f"{p}_energy_j": e["value"] if e else None, f"{p}_energy_low_j": e["low"] if e else None,
                    f"{p}_energy_high_j": e["high"] if e else None, f"{p}_latency_s": lat["value"] if lat else None,
                    f"{p}_feasible": None if feas is None else int(feas)}
            if feas is not None:
                n += 1
                ok += bool(feas)
        rec |= {"feasible_on": ok, "estimated_on": n, "boundary": boundary, "title": data.chip_title(c),
                "source_keys": join_keys(chip_keys(data, c))}
        records.append(rec)
    frame = frame_of(records, whole=[f"{p}_feasible" for p, *_ in groups])
    columns = [text("chip", "Chip")]
    for p, header, *_ in groups:
        for what, label, scales in (("energy_j", "Energy", ENERGY_SCALES), ("latency_s", "Latency", TIME_SCALES)):
            unit, factor = scale_of(frame, f"{p}_{what}", scales)
            columns.append(Column(header=f"{label} ({unit})", group=header,
                                  cell=_starred(f"{p}_{what}", f"{p}_feasible", factor)))
    columns += [Column(header="Feasible on", cell=lambda r: f"{r['feasible_on']} of {r['estimated_on']}"),
                Column(header="Energy boundary", align="l", latex_align="p{2.6cm}",
                       cell=lambda r: short_reason(r["boundary"], 48)),
                cites()]
    notes = ("* infeasible mapping on that workload (see the workload's chip table for why). Energies and "
             "latencies are modelled per inference, nominal constants; each chip's energy boundary differs.",)
    if data.any_multi:
        notes += ("A workload run with several networks has one column group per network (<workload> / "
                  "<network>); Feasible on counts (workload, network) pairs.",)
    return Table(name="chip_comparison", caption="Chip comparison: modelled energy and latency per inference",
                 frame=frame, columns=tuple(columns), notes=notes)


__all__ = ["build_tables", "chip_keys", "chips_table", "comparison_groups", "comparison_table", "deployment_table",
           "known_citations", "pareto_table", "short_reason", "workloads_table"]
