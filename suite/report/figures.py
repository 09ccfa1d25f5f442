"""The report's figures (matplotlib, Agg canvas; PNG and PDF bytes): accuracy vs energy with its
Pareto front (per chip; per (network, chip) pair where a workload ran with several networks), latency
per chip, dynamic vs static energy, per-layer activity."""

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


def pareto_pairs(data: ReportData, w: str):
    """``(front, points, infeasible)`` of a workload over every (network, chip) pair.

    A point is ``(network, chip, energy row, task row)`` for each pair with a finite headline task metric
    and a finite positive modelled energy per inference. The task row is the pair's own: its network
    deployed on its chip (:meth:`ReportData.on_chip`; the float network's where the chip runs it as is,
    cannot hold it, or the store has no deployment rows). ``points`` are the feasible ones (feasibility
    unknown counts as feasible), ``infeasible`` the rest. ``front`` lists the feasible points that no
    other feasible point beats in both highest task metric and lowest nominal energy, cheapest first
    (:func:`pareto_front`).
    """
    head = data.headline(w)
    points, infeasible = [], []
    for n in data.networks[w] if head else ():
        b = data.ref_backend(w, n)
        for c in data.chips_of(w, n):
            hr = data.on_chip(w, c, n).plotted
            if hr is None or not finite(hr["value"]):
                continue
            e = data.get(w, b, "energy_j", c, n)
            if not e or not finite(e["value"]) or e["value"] <= 0:
                continue
            (points if data.feasible(w, c, n) is not False else infeasible).append((n, c, e, hr))
    names = pareto_front([((n, c), e["value"], hr["value"]) for n, c, e, hr in points])
    by = {p[:2]: p for p in points}
    return [by[k] for k in names], points, infeasible


_NETWORK_MARKERS = "osD^vP*X<>ph"


def _si_ticks(ax, unit: str) -> None:
    """Log-axis tick labels in SI units (``100 µJ``)."""
    from matplotlib.ticker import FuncFormatter

    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: si(v, unit) if v > 0 else ""))


def figure_pareto_networks(data: ReportData, workload: str):
    """Headline task metric vs modelled energy per inference of every (network, chip) pair of a workload
    run with several networks: marker per network, colour per chip, low–high energy bars (and the task
    metric's interval where stored), hollow markers for infeasible mappings, the Pareto front of the
    feasible pairs (highest metric for the least energy) as a step line (None without a metric)."""
    from matplotlib.lines import Line2D

    metric = data.headline(workload)
    front, points, infeasible = pareto_pairs(data, workload)
    if metric is None or not points + infeasible:
        return None
    nets = [n for n in data.networks[workload] if any(p[0] == n for p in points + infeasible)]
    marker = {n: _NETWORK_MARKERS[i % len(_NETWORK_MARKERS)] for i, n in enumerate(nets)}
    colours = _chip_colours(data.chips)
    on_front = {p[:2] for p in front}
    fig, axes = _new_figure(9.2, 4.8)
    ax = axes[0][0]
    for group, gid in ((points, "pairs-feasible"), (infeasible, "pairs-infeasible")):
        if not group:
            continue
        for _n, c, e, hr in group:
            x, y = e["value"], hr["value"]
            xerr = [[max(x - e["low"], 0) if finite(e["low"]) else 0], [max(e["high"] - x, 0) if finite(e["high"]) else 0]]
            yerr = ([[max(y - hr["low"], 0)], [max(hr["high"] - y, 0)]]
                    if finite(hr["low"]) and finite(hr["high"]) else None)
            ax.errorbar([x], [y], xerr=xerr, yerr=yerr, fmt="none", ecolor=colours[c], alpha=0.55, elinewidth=1,
                        capsize=3, zorder=1)
        xs, ys = [p[2]["value"] for p in group], [p[3]["value"] for p in group]
        for n in nets:  # one scatter per network: matplotlib takes one marker per call
            idx = [i for i, p in enumerate(group) if p[0] == n]
            if not idx:
                continue
            cols = [colours[group[i][1]] for i in idx]
            ringed = [group[i][:2] in on_front for i in idx]
            if gid == "pairs-feasible":
                sc = ax.scatter([xs[i] for i in idx], [ys[i] for i in idx], marker=marker[n], c=cols,
                                s=[120 if r else 55 for r in ringed], edgecolors=["k" if r else "none" for r in ringed],
                                linewidths=1.5, zorder=3)
            else:
                sc = ax.scatter([xs[i] for i in idx], [ys[i] for i in idx], marker=marker[n], facecolors="none",
                                edgecolors=cols, s=70, linewidths=1.5, zorder=3)
            sc.set_gid(f"{gid}:{n}")
    on_float = [p for p in points + infeasible if data.on_chip(workload, p[1], p[0]).on_float]
    if on_float:  # a dot in the marker: the pair's metric is its float network's, not a deployed one
        sc = ax.scatter([p[2]["value"] for p in on_float], [p[3]["value"] for p in on_float], marker=".", c="k",
                        s=14, zorder=4)
        sc.set_gid("pairs-float")
    if front:
        fx, fy = [p[2]["value"] for p in front], [p[3]["value"] for p in front]
        line, = ax.step(fx, fy, where="post", color="k", lw=1.8, alpha=0.6, zorder=2)
        line.set_gid("pareto-front")
        for i, (_n, _c, e, hr) in enumerate(front, 1):  # numbered here, named in the legend
            ax.annotate(str(i), (e["value"], hr["value"]), xytext=(-7, 6), textcoords="offset points", ha="right",
                        va="bottom", fontsize=8, fontweight="bold", color="0.1")
    first = data.networks[workload][0]
    b0 = data.ref_backend(workload, first)
    refs, levels = [], []
    for m, style, name in ((data.chance_metric(workload), ":", "chance"),
                           (data.baseline_metric(workload), "--", "baseline")):
        v = data.val(workload, b0, m, network=first) if m else None
        if finite(v):
            ax.axhline(v, ls=style, color="0.4", lw=1)
            levels.append(v)
            # chance and baseline depend on the data as binned for one network: say whose they are
            refs.append(Line2D([], [], ls=style, color="0.4", lw=1, label=f"{name} ({fmt(v)}, {first}'s binning)"))
    ys_all = [p[3]["value"] for p in points + infeasible] + [
        v for p in points + infeasible for v in (p[3]["low"], p[3]["high"]) if finite(v)]
    ys_all += levels
    lo, hi = min(ys_all), max(ys_all)
    pad = max(0.03, 0.08 * (hi - lo))
    ax.set_ylim(lo - pad, hi + 2.5 * pad)
    xs_all = [v for p in points + infeasible for v in (p[2]["value"], p[2]["low"], p[2]["high"]) if finite(v) and v > 0]
    ax.set_xlim(min(xs_all) / 2, max(xs_all) * 2.5)
    ax.set_xscale("log")
    _si_ticks(ax, "J")
    ax.set_xlabel("modelled energy per inference (J, log scale; bars: low–high of the constants' intervals)")
    ax.set_ylabel(f"{metric_label(metric)} (fraction; each network as its chip holds it)")
    ax.grid(True, which="major", alpha=0.3)
    ax.set_title(f"{workload}: {metric_label(metric)} vs energy per inference, every (network, chip) pair "
                 f"({', '.join(data.data_tags(workload))} data)", fontsize=10)
    net_handles = [Line2D([], [], ls="none", marker=marker[n], color="0.35", markersize=7,
                          label=data.network_label(workload, n)) for n in nets]
    chips = [c for c in data.chips if any(p[1] == c for p in points + infeasible)]
    chip_handles = [Line2D([], [], ls="none", marker="s", color=colours[c], markersize=7, label=c) for c in chips]
    extra = []
    if infeasible:
        extra.append(Line2D([], [], ls="none", marker="o", markerfacecolor="none", markeredgecolor="0.35",
                            label="hollow: infeasible mapping"))
    if on_float:
        extra.append(_float_handle())
    # figure legends placed "outside": constrained layout makes room for them
    fig.legend(handles=net_handles, title="network (marker)", fontsize=7, title_fontsize=7.5, loc="outside right upper")
    if front:
        pairs = [Line2D([], [], color="k", lw=1.8, alpha=0.6, label="step line, ringed points")]
        pairs += [Line2D([], [], ls="none", label=f"{i}: {n} / {c}") for i, (n, c, _e, _h) in enumerate(front, 1)]
        fig.legend(handles=pairs, title="Pareto front (feasible pairs)", fontsize=7, title_fontsize=7.5,
                   loc="outside right center", handlelength=1.5)
    fig.legend(handles=chip_handles + extra + refs, title="chip (colour)", fontsize=7, title_fontsize=7.5,
               loc="outside right lower")
    return fig


def _float_handle():
    """The legend entry of the dot that marks a point at the float network's metric."""
    from matplotlib.lines import Line2D

    return Line2D([], [], ls="none", marker=r"$\odot$", color="0.3", markersize=9,
                  label="dot inside: float network (not deployed)")


def figure_pareto(data: ReportData, workload: str):
    """Headline task metric vs modelled energy per inference, one point per chip (None without a metric);
    a workload run with several networks gets :func:`figure_pareto_networks`.

    Each chip's point is at its own task metric, measured on the network deployed in its numeric format
    (:meth:`ReportData.on_chip`): a dot inside marks the chips whose point is the float network's (cpu
    and gpu run it as is; an infeasible chip, or a store without deployment rows, has no deployed
    metric). The float network as trained is a dash-dotted line, chance and baseline dotted and dashed."""
    if data.multi(workload):
        return figure_pareto_networks(data, workload)
    metric = data.headline(workload)
    if metric is None:
        return None
    b = data.ref_backend(workload)
    hr = data.get(workload, b, metric)
    if hr is None or not finite(hr["value"]):
        return None
    colours = _chip_colours(data.chips)
    fig, axes = _new_figure(8.6, 4.4)
    ax = axes[0][0]
    pts, infeasible = [], []
    for c in data.chips_of(workload):
        e = data.get(workload, b, "energy_j", c)
        oc = data.on_chip(workload, c)
        row = oc.plotted
        if not e or not finite(e["value"]) or e["value"] <= 0 or row is None or not finite(row["value"]):
            continue
        (pts if data.feasible(workload, c) is not False else infeasible).append((c, e, row, oc.on_float))
    front = pareto_front([(c, e["value"], r["value"]) for c, e, r, _ in pts])
    for group, gid in ((pts, "chips-feasible"), (infeasible, "chips-infeasible")):
        xs, ys = [e["value"] for _, e, _, _ in group], [r["value"] for _, _, r, _ in group]
        if not xs:
            continue
        xerr = [[max(e["value"] - e["low"], 0) if finite(e["low"]) else 0 for _, e, _, _ in group],
                [max(e["high"] - e["value"], 0) if finite(e["high"]) else 0 for _, e, _, _ in group]]
        yerr = [[max(r["value"] - r["low"], 0) if finite(r["low"]) else 0 for _, _, r, _ in group],
                [max(r["high"] - r["value"], 0) if finite(r["high"]) else 0 for _, _, r, _ in group]]
        ax.errorbar(xs, ys, xerr=xerr, yerr=yerr, fmt="none", ecolor="0.55", elinewidth=1, capsize=3, zorder=1)
        if gid == "chips-feasible":
            sc = ax.scatter(xs, ys, s=[110 if c in front else 50 for c, *_ in group],
                            c=[colours[c] for c, *_ in group], edgecolors=["k" if c in front else "none" for c, *_ in group],
                            linewidths=1.5, zorder=3, label="feasible chip (ringed: Pareto front)")
        else:
            sc = ax.scatter(xs, ys, s=70, marker="X", c="none", edgecolors=[colours[c] for c, *_ in group],
                            linewidths=1.5, zorder=3, label="infeasible mapping")
        sc.set_gid(gid)
    flt = [(e["value"], r["value"]) for _, e, r, on_float in pts + infeasible if on_float]
    if flt:
        sc = ax.scatter([x for x, _ in flt], [y for _, y in flt], marker=".", c="k", s=14, zorder=4,
                        label="dot inside: float network (not deployed)")
        sc.set_gid("chips-float")
    if front:
        by = {c: (e["value"], r["value"]) for c, e, r, _ in pts}
        line, = ax.step([by[c][0] for c in front], [by[c][1] for c in front], where="post", color="k", lw=2.0,
                        alpha=0.6, zorder=2, label="Pareto front")
        line.set_gid("pareto-front")
    # neighbours in energy alternate above and below the points; labels are slanted to avoid overlaps
    names_bad = {c for c, *_ in infeasible}
    for i, (c, e, r, _) in enumerate(sorted(pts + infeasible, key=lambda p: p[1]["value"])):
        label = c + (" (infeasible)" if c in names_bad else "")
        up, right = i % 2 == 0, i % 4 >= 2  # close neighbours' labels point away from each other
        ax.annotate(label, (e["value"], r["value"]), xytext=(4 if right else -4, 9 if up else -9),
                    textcoords="offset points", rotation=(35 if up else -35) * (1 if right else -1),
                    rotation_mode="anchor", ha="left" if right else "right", va="bottom" if up else "top", fontsize=8,
                    color="0.15")
    levels = [hr["value"]]
    ax.axhline(hr["value"], ls="-.", color="0.25", lw=1, label=f"float network as trained ({fmt(hr['value'])}, {b})")
    for m, style, name in ((data.chance_metric(workload), ":", "chance"),
                           (data.baseline_metric(workload), "--", "baseline")):
        v = data.val(workload, b, m) if m else None
        if finite(v):
            ax.axhline(v, ls=style, color="0.4", lw=1, label=f"{name} ({fmt(v)})")
            levels.append(v)
    ax.set_xscale("log")
    ax.set_xlabel("modelled energy per inference (J, log scale; bars: low–high)")
    ax.set_ylabel(f"{metric_label(metric)} on each chip (deployed network)")
    ys_all = levels + [v for _, _, r, _ in pts + infeasible for v in (r["value"], r["low"], r["high"]) if finite(v)]
    for v in (hr["low"], hr["high"]):
        if finite(v):
            ys_all.append(v)
    lo, hi = min(ys_all), max(ys_all)
    pad = max(0.05, 0.12 * (hi - lo))
    bottom, top = lo - 3.5 * pad, hi + 2.5 * pad
    if lo >= 0 and hi <= 1:  # a fraction: room for the labels, not far past 0 and 1
        bottom, top = max(bottom, -0.08), min(top, 1.15)
    ax.set_ylim(bottom, top)
    xs_all = [e["value"] for _, e, _, _ in pts + infeasible]
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


def _series(data: ReportData) -> list[tuple[str, str, str | None]]:
    """``(label, workload, network)``: one per workload, or per (workload, network) where it has several."""
    return [(f"{w} / {n}", w, n) if data.multi(w) else (w, w, None)
            for w in data.workloads for n in data.networks[w][: None if data.multi(w) else 1]]


def figure_latency(data: ReportData):
    """Modelled latency per inference per chip (log y, low–high bars), one marker series per workload
    (per workload and network where a workload ran with several)."""
    chips = data.chips
    series = _series(data)
    fig, axes = _new_figure(max(6.0, 0.9 * len(chips) + 2), 4.0)
    ax = axes[0][0]
    n = max(len(series), 1)
    markers = "osD^vP*"
    step = 0.18 if n <= 4 else 0.72 / n
    for i, (label, w, net) in enumerate(series):
        b = data.ref_backend(w, net)
        xs, rows, feas = [], [], []
        for j, c in enumerate(chips):
            r = data.get(w, b, "latency_s", c, net)
            if r and finite(r["value"]) and r["value"] > 0:
                xs.append(j + (i - (n - 1) / 2) * step)
                rows.append(r)
                feas.append(data.feasible(w, c, net) is not False)
        if not xs:
            continue
        line = ax.errorbar(xs, [r["value"] for r in rows], yerr=_interval_err(rows), fmt="none", capsize=3, lw=1,
                           color=f"C{i}")
        del line
        ax.scatter([x for x, f in zip(xs, feas) if f], [r["value"] for r, f in zip(rows, feas) if f],
                   marker=markers[i % len(markers)], color=f"C{i}", zorder=3, label=label)
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
    wls = [(label, w, n) for label, w, n in _series(data) if data.chips_of(w, n)]
    fig, axes = _new_figure(max(6.0, 3.2 * len(wls)), 4.2, ncols=max(len(wls), 1), sharey=True)
    for ax, (label, w, n) in zip(axes[0], wls):
        b = data.ref_backend(w, n)
        chips = data.chips_of(w, n)
        dyn, sta, tot = [], [], []
        for c in chips:
            d, s = data.val(w, b, "energy_dynamic_j", c, n), data.val(w, b, "energy_static_j", c, n)
            d, s = (d if finite(d) else 0.0), (s if finite(s) else 0.0)
            t = d + s
            dyn.append(100 * d / t if t > 0 else 0)
            sta.append(100 * s / t if t > 0 else 0)
            tot.append(data.val(w, b, "energy_j", c, n))
        x = list(range(len(chips)))
        hatches = [None if data.feasible(w, c, n) is not False else "//" for c in chips]
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
        ax.set_title(label.replace(" / ", "\n") if n is not None else w, fontsize=10)
    axes[0][0].set_ylabel("share of modelled energy per inference (%)")
    axes[0][0].legend(fontsize=8, loc="upper left", ncols=2)
    fig.suptitle("Dynamic vs static energy per chip (label: total per inference; hatched: infeasible)", fontsize=10)
    return fig


def _activity_layers(data: ReportData, workload: str, network) -> list[int]:
    n = data.net(workload, network)
    return sorted({int(m[len("activity_layer"):]) for (w, nn, b, c, m) in data.rows
                   if w == workload and nn == n and re.fullmatch(r"activity_layer\d+", m)})


def figure_activity(data: ReportData, workload: str):
    """Per-layer activity (spikes per neuron per step) of one workload, one bar per backend (one panel
    per network where the workload ran with several)."""
    nets = [n for n in data.networks[workload] if _activity_layers(data, workload, n)]
    if not nets:
        return None
    multi = data.multi(workload)
    widths = [max(5.0, 1.4 * len(_activity_layers(data, workload, n)) + 2) for n in nets]
    fig, axes = _new_figure(sum(widths) if multi else widths[0], 3.8, ncols=len(nets),
                            **({"sharey": True, "width_ratios": widths} if multi else {}))
    for ax, n in zip(axes[0], nets):
        layers = _activity_layers(data, workload, n)
        bks = data.backends_of(workload, n)
        width = 0.8 / max(len(bks), 1)
        for i, b in enumerate(bks):
            vals = [data.val(workload, b, f"activity_layer{k}", network=n) for k in layers]
            x = [j + (i - (len(bks) - 1) / 2) * width for j in range(len(layers))]
            ax.bar(x, [v if finite(v) else 0 for v in vals], width=width, label=b,
                   color=f"C{data.backends[workload].index(b)}")
        names = []
        for k in layers:
            r = next(data.get(workload, b, f"activity_layer{k}", network=n) for b in bks
                     if data.get(workload, b, f"activity_layer{k}", network=n))
            names.append(r["source"] or f"layer {k}")
        ax.set_xticks(range(len(layers)), names, fontsize=8)
        ax.set_title(f"network {data.network_label(workload, n)}" if multi else f"{workload}: per-layer activity",
                     fontsize=10)
        ax.grid(True, axis="y", alpha=0.3)
        ax.legend(fontsize=8)
    axes[0][0].set_ylabel("activity (spikes per neuron per step)")
    if multi:
        fig.suptitle(f"{workload}: per-layer activity of each network", fontsize=10)
    return fig


def _render(fig) -> tuple[bytes, bytes]:
    png, pdf = io.BytesIO(), io.BytesIO()
    fig.savefig(png, format="png", dpi=150, metadata={"Software": None})
    fig.set_layout_engine("none")  # keep the layout the PNG pass computed: the PDF has the same boxes, half the time
    fig.savefig(pdf, format="pdf", metadata={"CreationDate": None, "Creator": None, "Producer": None})
    return png.getvalue(), pdf.getvalue()


def build_figures(data: ReportData) -> list[tuple[str, str, bytes, bytes]]:
    """(name, caption, png, pdf) per figure."""
    specs = []
    for w in data.workloads:
        fig = figure_pareto(data, w)
        if fig is None:
            continue
        if data.multi(w):
            caption = (f"{w}: {metric_label(data.headline(w))} vs modelled energy per inference of every (network, "
                       "chip) pair, each network as its chip holds it (marker: network, colour: chip; log x, "
                       "low–high bars; ringed points and step line: Pareto front of the feasible pairs; hollow "
                       "markers: infeasible mappings; a dot inside: the float network's metric, not deployed)")
        else:
            caption = (f"{w}: {metric_label(data.headline(w))} on each chip (the network deployed in its numeric "
                       "format) vs modelled energy per inference (log x, low–high bars; ringed points and step "
                       "line: Pareto front of the feasible chips; crosses: infeasible mappings; a dot inside: the "
                       "float network's metric, not deployed; dash-dotted: the float network as trained)")
        specs.append((f"pareto_{slug(w)}", caption, fig))
    if data.chips:
        specs.append(("latency", "Modelled latency per inference per chip and workload (log y, low–high bars)",
                      figure_latency(data)))
        specs.append(("energy_split", "Dynamic vs static share of the modelled energy per inference, per chip",
                      figure_energy_split(data)))
    for w in data.workloads:
        fig = figure_activity(data, w)
        if fig is not None:
            specs.append((f"activity_{slug(w)}", f"{w}: fraction of neurons spiking per step, per layer and backend"
                          + (" (one panel per network)" if data.multi(w) else ""), fig))
    rendered = render_all([fig for _, _, fig in specs])
    return [(name, caption, png, pdf) for (name, caption, _), (png, pdf) in zip(specs, rendered, strict=True)]


_PENDING: list = []  # the figures a forked renderer inherits (set only while render_all runs)


def _render_pending(k: int) -> tuple[bytes, bytes]:
    return _render(_PENDING[k])


def render_all(figs: list) -> list[tuple[bytes, bytes]]:
    """PNG and PDF bytes of each figure; on Linux with several cores, rendered by forked processes (one
    per core, at most 4), each inheriting the built figures: drawing is most of a report's time, and the
    bytes are the same as a serial render. Serial where fork is unavailable or fails."""
    import os
    import sys

    workers = min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1, len(figs), 4)
    if workers >= 2 and sys.platform == "linux":
        import multiprocessing

        global _PENDING
        _PENDING = figs
        try:
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                return pool.map(_render_pending, range(len(figs)), chunksize=1)
        except Exception:  # noqa: BLE001 - no child processes here (limits, memory, a daemonic parent such as a
            pass  # worker of a process pool): draw them in this process; a figure's own error then surfaces here
        finally:
            _PENDING = []
    return [_render(fig) for fig in figs]



__all__ = ["build_figures", "render_all", "figure_activity", "figure_energy_split", "figure_latency", "figure_pareto",
           "figure_pareto_networks", "pareto_front", "pareto_pairs"]
