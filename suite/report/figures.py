"""The report's figures (matplotlib, Agg canvas; PNG and PDF bytes): accuracy vs energy with its
Pareto front, latency per chip, dynamic vs static energy, per-layer activity."""

from __future__ import annotations

import io
import math
import re

from spikebench.core.units import finite, fmt, si

from .data import ReportData, metric_label, slug


def _new_figure(w: float, h: float, *, ncols: int = 1, nrows: int = 1, **kw):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(w, h), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False, **kw)
    return fig, axes


def _chip_colours(chips):
    from matplotlib import colormaps

    cmap = colormaps["tab10"]
    return {c: cmap(i % 10) for i, c in enumerate(chips)}


def pareto_front(points: list[tuple[str, float, float]]) -> list[str]:
    """Names of the non-dominated points (lower energy x, higher metric y), cheapest first."""
    front, best = [], -math.inf
    for name, _x, y in sorted(points, key=lambda p: (p[1], -p[2])):
        if y > best:
            front.append(name)
            best = y
    return front


def figure_pareto(data: ReportData, workload: str):
    """Headline task metric vs modelled energy per inference, one point per chip (None without a metric)."""
    metric = data.headline(workload)
    if metric is None:
        return None
    b = data.ref_backend(workload)
    hr = data.get(workload, b, metric)
    if hr is None or not finite(hr["value"]):
        return None
    y, ylo, yhi = hr["value"], hr["low"], hr["high"]
    yerr = [[y - ylo], [yhi - y]] if finite(ylo) and finite(yhi) else None
    colours = _chip_colours(data.chips)
    fig, axes = _new_figure(8.6, 4.4)
    ax = axes[0][0]
    pts, infeasible = [], []
    for c in data.chips_of(workload):
        e = data.get(workload, b, "energy_j", c)
        if not e or not finite(e["value"]) or e["value"] <= 0:
            continue
        (pts if data.feasible(workload, c) is not False else infeasible).append((c, e))
    front = pareto_front([(c, e["value"], y) for c, e in pts])
    for group, gid in ((pts, "chips-feasible"), (infeasible, "chips-infeasible")):
        xs = [e["value"] for _, e in group]
        if not xs:
            continue
        xerr = [[max(e["value"] - e["low"], 0) if finite(e["low"]) else 0 for _, e in group],
                [max(e["high"] - e["value"], 0) if finite(e["high"]) else 0 for _, e in group]]
        ax.errorbar(xs, [y] * len(xs), xerr=xerr, yerr=None if yerr is None else [yerr[0] * len(xs), yerr[1] * len(xs)],
                    fmt="none", ecolor="0.55", elinewidth=1, capsize=3, zorder=1)
        if gid == "chips-feasible":
            sc = ax.scatter(xs, [y] * len(xs), s=[110 if c in front else 50 for c, _ in group],
                            c=[colours[c] for c, _ in group], edgecolors=["k" if c in front else "none" for c, _ in group],
                            linewidths=1.5, zorder=3, label="feasible chip (ringed: Pareto front)")
        else:
            sc = ax.scatter(xs, [y] * len(xs), s=70, marker="X", c="none", edgecolors=[colours[c] for c, _ in group],
                            linewidths=1.5, zorder=3, label="infeasible mapping")
        sc.set_gid(gid)
    if front:
        fx = [next(e["value"] for c, e in pts if c == name) for name in front]
        ax.plot(fx, [y] * len(fx), "-", color="k", lw=2.0, alpha=0.6, zorder=2, label="Pareto front")
    # neighbours in energy alternate above and below the points; labels are slanted to avoid overlaps
    for i, (c, e) in enumerate(sorted(pts + infeasible, key=lambda p: p[1]["value"])):
        label = c + (" (infeasible)" if any(c == name for name, _ in infeasible) else "")
        up, right = i % 2 == 0, i % 4 >= 2  # close neighbours' labels point away from each other
        ax.annotate(label, (e["value"], y), xytext=(4 if right else -4, 9 if up else -9), textcoords="offset points",
                    rotation=(35 if up else -35) * (1 if right else -1), rotation_mode="anchor",
                    ha="left" if right else "right", va="bottom" if up else "top", fontsize=8, color="0.15")
    for m, style, name in ((data.chance_metric(workload), ":", "chance"),
                           (data.baseline_metric(workload), "--", "baseline")):
        v = data.val(workload, b, m) if m else None
        if finite(v):
            ax.axhline(v, ls=style, color="0.4", lw=1, label=f"{name} ({fmt(v)})")
    ax.set_xscale("log")
    ax.set_xlabel("modelled energy per inference (J, log scale; bars: low–high)")
    ax.set_ylabel(f"{metric_label(metric)} ({b})")
    lo = min([v for v in (y, ylo, data.val(workload, b, data.chance_metric(workload) or ""),
                          data.val(workload, b, data.baseline_metric(workload) or "")) if finite(v)] + [y])
    hi = max([v for v in (y, yhi, data.val(workload, b, data.baseline_metric(workload) or "")) if finite(v)])
    pad = max(0.05, 0.12 * (hi - lo))
    ax.set_ylim(lo - 3.5 * pad, hi + 2.5 * pad)
    xs_all = [e["value"] for _, e in pts + infeasible]
    if xs_all:
        ax.set_xlim(min(xs_all) / 12, max(xs_all) * 12)  # room for the slanted labels
    ax.grid(True, which="major", alpha=0.3)
    ax.set_title(f"{workload}: {metric_label(metric)} vs energy per inference ({', '.join(data.data_tags(workload))} data)",
                 fontsize=10)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    return fig


def _interval_err(rows):
    lo = [max(r["value"] - r["low"], 0) if r and finite(r["low"]) else 0 for r in rows]
    hi = [max(r["high"] - r["value"], 0) if r and finite(r["high"]) else 0 for r in rows]
    return [lo, hi]


def figure_latency(data: ReportData):
    """Modelled latency per inference per chip (log y, low–high bars), one marker series per workload."""
    chips = data.chips
    fig, axes = _new_figure(max(6.0, 0.9 * len(chips) + 2), 4.0)
    ax = axes[0][0]
    n = max(len(data.workloads), 1)
    markers = "osD^vP*"
    for i, w in enumerate(data.workloads):
        b = data.ref_backend(w)
        xs, rows, feas = [], [], []
        for j, c in enumerate(chips):
            r = data.get(w, b, "latency_s", c)
            if r and finite(r["value"]) and r["value"] > 0:
                xs.append(j + (i - (n - 1) / 2) * 0.18)
                rows.append(r)
                feas.append(data.feasible(w, c) is not False)
        if not xs:
            continue
        line = ax.errorbar(xs, [r["value"] for r in rows], yerr=_interval_err(rows), fmt="none", capsize=3, lw=1,
                           color=f"C{i}")
        del line
        ax.scatter([x for x, f in zip(xs, feas) if f], [r["value"] for r, f in zip(rows, feas) if f],
                   marker=markers[i % len(markers)], color=f"C{i}", zorder=3, label=w)
        bad = [(x, r) for x, r, f in zip(xs, rows, feas) if not f]
        if bad:
            ax.scatter([x for x, _ in bad], [r["value"] for _, r in bad], marker=markers[i % len(markers)],
                       facecolors="none", edgecolors=f"C{i}", zorder=3)
    ax.set_yscale("log")
    ax.set_xticks(range(len(chips)), chips, rotation=30, ha="right")
    ax.set_ylabel("modelled latency per inference (s, log scale)")
    ax.set_title("Latency per chip (bars: low–high; hollow markers: infeasible mapping)", fontsize=10)
    ax.grid(True, axis="y", which="major", alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def figure_energy_split(data: ReportData):
    """Dynamic vs static share of the modelled energy per chip (stacked, %), total energy on top."""
    wls = [w for w in data.workloads if data.chips_of(w)]
    fig, axes = _new_figure(max(6.0, 3.2 * len(wls)), 4.2, ncols=max(len(wls), 1), sharey=True)
    for ax, w in zip(axes[0], wls):
        b = data.ref_backend(w)
        chips = data.chips_of(w)
        dyn, sta, tot = [], [], []
        for c in chips:
            d, s = data.val(w, b, "energy_dynamic_j", c), data.val(w, b, "energy_static_j", c)
            d, s = (d if finite(d) else 0.0), (s if finite(s) else 0.0)
            t = d + s
            dyn.append(100 * d / t if t > 0 else 0)
            sta.append(100 * s / t if t > 0 else 0)
            tot.append(data.val(w, b, "energy_j", c))
        x = list(range(len(chips)))
        hatches = [None if data.feasible(w, c) is not False else "//" for c in chips]
        bars_d = ax.bar(x, dyn, color="C0", label="dynamic")
        bars_s = ax.bar(x, sta, bottom=dyn, color="C1", label="static")
        for bar, h in zip(list(bars_d) + list(bars_s), hatches * 2):
            if h:
                bar.set_hatch(h)
                bar.set_alpha(0.6)
        for xi, t in zip(x, tot):
            ax.text(xi, 102, si(t, "J"), ha="center", va="bottom", rotation=90, fontsize=7)
        ax.set_xticks(x, chips, rotation=45, ha="right", fontsize=8)
        ax.set_ylim(0, 135)
        ax.set_yticks([0, 25, 50, 75, 100])
        ax.set_title(w, fontsize=10)
    axes[0][0].set_ylabel("share of modelled energy per inference (%)")
    axes[0][0].legend(fontsize=8, loc="upper left", ncols=2)
    fig.suptitle("Dynamic vs static energy per chip (label: total per inference; hatched: infeasible)", fontsize=10)
    return fig


def figure_activity(data: ReportData, workload: str):
    """Per-layer activity (spikes per neuron per step) of one workload, one bar per backend."""
    layers = sorted({int(m[len("activity_layer"):]) for (w, b, c, m) in data.rows
                     if w == workload and re.fullmatch(r"activity_layer\d+", m)})
    if not layers:
        return None
    bks = data.backends[workload]
    fig, axes = _new_figure(max(5.0, 1.4 * len(layers) + 2), 3.8)
    ax = axes[0][0]
    width = 0.8 / max(len(bks), 1)
    for i, b in enumerate(bks):
        vals = [data.val(workload, b, f"activity_layer{k}") for k in layers]
        x = [j + (i - (len(bks) - 1) / 2) * width for j in range(len(layers))]
        ax.bar(x, [v if finite(v) else 0 for v in vals], width=width, label=b, color=f"C{i}")
    names = []
    for k in layers:
        r = next(data.get(workload, b, f"activity_layer{k}") for b in bks if data.get(workload, b, f"activity_layer{k}"))
        names.append(r["source"] or f"layer {k}")
    ax.set_xticks(range(len(layers)), names, fontsize=8)
    ax.set_ylabel("activity (spikes per neuron per step)")
    ax.set_title(f"{workload}: per-layer activity", fontsize=10)
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def _render(fig) -> tuple[bytes, bytes]:
    png, pdf = io.BytesIO(), io.BytesIO()
    fig.savefig(png, format="png", dpi=150, metadata={"Software": None})
    fig.savefig(pdf, format="pdf", metadata={"CreationDate": None, "Creator": None, "Producer": None})
    return png.getvalue(), pdf.getvalue()


def build_figures(data: ReportData) -> list[tuple[str, str, bytes, bytes]]:
    """(name, caption, png, pdf) per figure."""
    specs = []
    for w in data.workloads:
        fig = figure_pareto(data, w)
        if fig is not None:
            specs.append((f"pareto_{slug(w)}", f"{w}: {metric_label(data.headline(w))} vs modelled energy per "
                          "inference per chip (log x, low–high bars; ringed points and line: Pareto front of the "
                          "feasible chips; crosses: infeasible mappings)", fig))
    if data.chips:
        specs.append(("latency", "Modelled latency per inference per chip and workload (log y, low–high bars)",
                      figure_latency(data)))
        specs.append(("energy_split", "Dynamic vs static share of the modelled energy per inference, per chip",
                      figure_energy_split(data)))
    for w in data.workloads:
        fig = figure_activity(data, w)
        if fig is not None:
            specs.append((f"activity_{slug(w)}", f"{w}: fraction of neurons spiking per step, per layer and backend",
                          fig))
    return [(name, caption, *_render(fig)) for name, caption, fig in specs]



__all__ = ["build_figures", "figure_activity", "figure_energy_split", "figure_latency", "figure_pareto", "pareto_front"]
