"""The report's pages: one self-contained HTML page (CSS inline, figures as base64 PNG, tables,
provenance, references, files) and the Markdown summary, both with the synthetic-data banner."""

from __future__ import annotations

import base64
import html
import json

from spikebench.core import bibliography as bib

from .data import ReportData, slug
from .table import Table

SYNTHETIC_BANNER = ("Results on synthetic data are not comparable to published numbers: the offline data "
                    "generators only stand in for the real datasets.")

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0 auto;max-width:1400px;
padding:1rem 2rem;color:#1b1b1b;line-height:1.45}
h1{font-size:1.7rem;margin-bottom:.2rem} h2{border-bottom:2px solid #ddd;padding-bottom:.2rem;margin-top:2rem}
.banner{background:#fff3cd;border:2px solid #e0a800;color:#5c4400;padding:.8rem 1rem;border-radius:6px;margin:1rem 0;
font-weight:600}
.tablewrap{overflow-x:auto;margin:1rem 0}
table{border-collapse:collapse;font-size:.82rem;border-top:2px solid #333;border-bottom:2px solid #333}
caption{caption-side:top;text-align:left;font-weight:600;padding:.3rem 0}
th,td{padding:.25rem .55rem;white-space:nowrap;vertical-align:top} th{white-space:normal;vertical-align:bottom} td.l{white-space:normal;min-width:5rem;max-width:22rem} thead th{border-bottom:1px solid #333;background:#f7f7f7} th.group{text-align:center}
td.r,th.r{text-align:right} td.l,th.l{text-align:left} tbody tr:nth-child(even){background:#fafafa}
td.cites{min-width:12rem;font-size:.75rem}
p.note{font-size:.78rem;color:#555;margin:.2rem 0;max-width:100%}
figure{margin:1rem 0} figure img{max-width:min(100%,960px);height:auto;border:1px solid #eee}
details.note{font-size:.78rem;color:#555;margin:.2rem 0} details.note ul{margin:.2rem 0 .4rem 1rem;padding-left:1rem}
figcaption{font-size:.85rem;color:#444} .muted{color:#666;font-size:.85rem}
code{background:#f3f3f3;padding:0 .2rem;border-radius:3px} nav a{margin-right:.8rem}
dl.refs dt{font-family:monospace;font-weight:600} dl.refs dd{margin:0 0 .5rem 1.5rem;font-size:.85rem}
"""


def html_page(data: ReportData, tables: list[Table], figures, keys: list[str], files: list[str]) -> str:
    """The whole report as one page; ``keys``: the bibliography keys the tables cite (References)."""
    from spikebench import __version__

    esc = html.escape
    tab = {t.name: t for t in tables}
    fig = {name: (caption, png) for name, caption, png, _ in figures}

    def figure_html(name):
        if name not in fig:
            return ""
        caption, png = fig[name]
        b64 = base64.b64encode(png).decode("ascii")
        return (f'<figure id="fig-{esc(name)}"><img alt="{esc(caption)}" src="data:image/png;base64,{b64}">'
                f"<figcaption>{esc(caption)} <span class=muted>(figures/{esc(name)}.png, .pdf)</span></figcaption></figure>")

    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             "<title>spikebench report</title>", f"<style>{_CSS}</style></head><body>",
             "<h1>spikebench report</h1>",
             f'<p class="muted">Results folder <code>{esc(str(data.root))}</code>; {len(data.frame)} rows from '
             f"{len(data.runs)} run(s); {len(data.workloads)} workload(s), {len(data.chips)} chip model(s). "
             f"Report by spikebench {esc(__version__)}.</p>"]
    if data.run_id is not None:
        parts.append(f'<p id="one-run">Run {esc(data.run_id)} only (<code>--run</code>): the other runs of the store '
                     "are left out.</p>")
    if data.mixing:
        parts.append(f'<div class="banner" id="mixing-note">&#9888; {esc(data.mixing)}</div>')
    syn = data.synthetic_workloads()
    if syn:
        parts.append(f'<div class="banner" id="synthetic-banner">&#9888; {esc(SYNTHETIC_BANNER)} Synthetic data in: '
                     f"{esc(', '.join(syn))}.</div>")
    nav = ['<a href="#summary">Summary</a>'] + [f'<a href="#wl-{esc(slug(w))}">{esc(w)}</a>' for w in data.workloads]
    nav += ['<a href="#chips">Chips</a>', '<a href="#provenance">Provenance</a>', '<a href="#references">References</a>']
    parts.append("<nav>" + "".join(nav) + "</nav>")
    parts += ['<h2 id="summary">Summary</h2>', tab["workloads"].to_html()]
    for w in data.workloads:
        parts.append(f'<h2 id="wl-{esc(slug(w))}">{esc(w)} <span class=muted>({esc(", ".join(data.data_tags(w)))} '
                     "data)</span></h2>")
        if data.multi(w):
            parts.append(f'<p>{len(data.networks[w])} networks ran on {esc(w)}: '
                         f'{esc(", ".join(data.network_label(w, n) for n in data.networks[w]))}. Their rows come in one '
                         "block per network; the figure and the Pareto table compare every (network, chip) pair.</p>")
        if f"deployment_{slug(w)}" in tab:
            parts.append(tab[f"deployment_{slug(w)}"].to_html())
        if f"chips_{slug(w)}" in tab:
            parts.append(tab[f"chips_{slug(w)}"].to_html())
        parts.append(figure_html(f"pareto_{slug(w)}") or
                     f'<p class="muted">No task metric for {esc(w)}: no accuracy vs energy figure.</p>')
        if f"pareto_{slug(w)}" in tab:
            parts.append(tab[f"pareto_{slug(w)}"].to_html())
        parts.append(figure_html(f"activity_{slug(w)}"))
    parts.append('<h2 id="chips">Chips</h2>')
    if "chip_comparison" in tab:
        parts.append(tab["chip_comparison"].to_html())
    parts += [figure_html("latency"), figure_html("energy_split")]
    # provenance
    parts.append('<h2 id="provenance">Provenance</h2>')
    prow = []
    pkgs: dict[str, set] = {}
    for run_id, doc in data.runs.items():
        prov = doc.get("provenance", {}) if isinstance(doc, dict) else {}
        cfg = doc.get("config", {}) if isinstance(doc, dict) else {}
        for k, v in (prov.get("packages") or {}).items():
            pkgs.setdefault(k, set()).add(str(v))
        cells = sorted({f"{w}/{n}/{b}" if data.multi(w) else f"{w}/{b}" for w, n, b in
                        data.frame.loc[data.frame["run_id"] == run_id, ["workload", "network", "backend"]]
                        .itertuples(index=False)})
        prow.append("<tr>" + "".join(f"<td class=l>{esc(str(x))}</td>" for x in (
            run_id, doc.get("started", ""), prov.get("spikebench_version", ""), prov.get("git_commit", ""),
            prov.get("machine", ""), ", ".join(cells), json.dumps(cfg, sort_keys=True))) + "</tr>")
    parts.append('<div class="tablewrap"><table id="tab-provenance"><caption>Runs whose rows are in this report'
                 "</caption><thead><tr>" + "".join(f"<th class=l>{h}</th>" for h in (
                     "Run id", "Started", "spikebench", "Git commit", "Machine", "Cells", "Configuration"))
                 + "</tr></thead><tbody>" + "".join(prow) + "</tbody></table></div>")
    row_prov = data.frame[["spikebench_version", "git_commit", "machine"]].drop_duplicates()
    parts.append("<p>Row provenance: " + "; ".join(
        esc(f"spikebench {v}, commit {c}, {m}") for v, c, m in row_prov.itertuples(index=False)) + ".</p>")
    if pkgs:
        parts.append("<p>Packages: " + ", ".join(esc(f"{k} {'/'.join(sorted(v))}") for k, v in sorted(pkgs.items()))
                     + ".</p>")
    parts.append("<p>Data: " + "; ".join(esc(f"{w}: {', '.join(data.data_tags(w))}") for w in data.workloads) + ".</p>")
    # references
    parts.append('<h2 id="references">References</h2><dl class="refs">')
    entries = bib.bibliography()
    for key in keys:
        ref = entries[key].text() if key in entries else "(not in the bibliography)"
        parts.append(f'<dt id="ref-{esc(key)}">[{esc(key)}]</dt><dd>{esc(ref)}</dd>')
    parts.append("</dl>")
    parts.append('<h2 id="files">Files</h2><p class="muted">' +
                 ", ".join(f'<a href="{esc(f)}">{esc(f)}</a>' for f in files) + "</p>")
    parts.append("</body></html>")
    return "\n".join(p for p in parts if p) + "\n"


def markdown_page(data: ReportData, tables: list[Table], figures, keys: list[str]) -> str:
    """Every table in Markdown, the figure list, the references (``keys``) and the runs."""
    lines = ["# spikebench report", ""]
    if data.run_id is not None:
        lines += [f"Run {data.run_id} only (`--run`): the other runs of the store are left out.", ""]
    if data.mixing:
        lines += [f"> **Note:** {data.mixing}", ""]
    syn = data.synthetic_workloads()
    if syn:
        lines += [f"> **Warning:** {SYNTHETIC_BANNER} Synthetic data in: {', '.join(syn)}.", ""]
    for t in tables:
        lines += [t.to_markdown(), ""]
    lines += ["## Figures", ""] + [f"- `figures/{name}.png` (`.pdf`): {caption}" for name, caption, *_ in figures]
    if keys:
        entries = bib.bibliography()
        lines += ["", "## References", ""]
        lines += [f"- [{k}] {entries[k].text() if k in entries else '(not in the bibliography)'}" for k in keys]
    lines += ["", f"Runs: {', '.join(data.runs)}."]
    return "\n".join(lines) + "\n"


__all__ = ["SYNTHETIC_BANNER", "html_page", "markdown_page"]
