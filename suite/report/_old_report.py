"""``spikebench report``: tables, figures and one self-contained HTML page from a results store.

Everything is built from the store's tidy frame (:meth:`ResultsStore.frame`: per cell, the latest
run that finished it) and held in memory; only when the whole report is built are the files written,
each atomically, ``index.html`` last. A half-built report is never on disk.

Layout of ``out_dir``::

    index.html                     one page: CSS inline, figures as base64 PNG, tables, provenance
    summary.md                     every table in Markdown (with the synthetic-data banner)
    references.bib                 one entry per citation key used in the LaTeX tables
    tables/<name>.{md,tex,csv}     workloads, chips_<workload> (one per workload), chip_comparison
    figures/<name>.{png,pdf}       pareto_<workload>, latency, energy_split, activity_<workload>

Tables (see :func:`build_tables`):

* ``workloads``: one row per workload x backend: data tag, samples, the headline task metric
  (``accuracy``, else ``auroc``, else the first other task metric), its chance level
  (``chance_<metric>``, else ``chance_level``) and baseline (``baseline_<metric>``), other task
  metrics, measured wall time, (NVML) GPU energy, synaptic events and spikes per inference.
* ``chips_<workload>``: one row per chip for that workload (estimates from the counts of the
  reference backend, ``sparse-cpu`` where present): energy nominal and low–high range, dynamic and
  static energy, latency nominal and range, cores, chips, feasible and a short reason, sources.
* ``chip_comparison``: one row per chip: energy and latency per workload, number of workloads it
  can run, the energy boundary and the sources of its constants.

LaTeX tables use booktabs rules, units in the headers and ``\\cite{}`` keys: every source text of a
chip's constants (``spikebench.hardware_models`` sheets) gets the keys of the author-year references
it names (``Davies et al. 2018 ...`` -> ``davies2018``) or, when it names none, ``sb-<first word>``;
``references.bib`` maps each key to the source texts that use it. The task rows' notes (data
provenance, scoring method) go under the workloads table. Include the ``.tex`` files with
``\\usepackage{booktabs,graphicx}`` in the preamble; a table wider than the text is scaled to fit.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import math
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from .core.errors import FileFormatError, SpikebenchError
from .core.fileio import atomic_write_bytes, atomic_write_text
from .results import COLUMNS, ResultsStore

REFERENCE_BACKEND = "sparse-cpu"
HEADLINE_METRICS = ("accuracy", "auroc")
SYNTHETIC_BANNER = ("Results on synthetic data are not comparable to published numbers: the offline data "
                    "generators only stand in for the real datasets.")
_ENERGY_SCALES = (("J", 1.0), ("mJ", 1e-3), ("µJ", 1e-6), ("nJ", 1e-9), ("pJ", 1e-12))
_TIME_SCALES = (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9))
_DASH = "—"


# ---- numbers and units ---------------------------------------------------------------------------

def _finite(v) -> bool:
    return v is not None and isinstance(v, (int, float)) and math.isfinite(v)


def fmt(v, digits: int = 3) -> str:
    """A number for a table: 3 significant digits, thousands separated, scientific when tiny or huge."""
    if not _finite(v):
        return _DASH
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1e6 or a < 1e-3:
        return f"{v:.{digits - 1}e}"
    if a >= 10 ** (digits - 1):
        return f"{v:,.0f}"
    decimals = max(0, digits - 1 - math.floor(math.log10(a)))
    return f"{v:.{decimals}f}"


def _fmt_count(v) -> str:
    return f"{int(v):,}" if _finite(v) and float(v).is_integer() else fmt(v)


def fmt_range(low, high, scale: float = 1.0) -> str:
    """An interval as a range string, ``12.1–15.3`` (en dash), or a dash when a bound is missing."""
    if not (_finite(low) and _finite(high)):
        return _DASH
    return f"{fmt(low / scale)}–{fmt(high / scale)}"


def pick_scale(values, scales) -> tuple[str, float]:
    """The unit prefix that puts the median of ``values`` in [1, 1000)."""
    vals = sorted(abs(v) for v in values if _finite(v) and v != 0)
    if not vals:
        return scales[0]
    med = vals[len(vals) // 2]
    for name, f in scales:
        if med / f >= 1.0:
            return name, f
    return scales[-1]


# ---- citation keys -------------------------------------------------------------------------------

_MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
_AUTHOR_YEAR = re.compile(r"\b(?!(?:" + _MONTHS + r")[a-z]*\b)([A-Z][a-z]+(?:-[A-Z][a-z]+)?)(?:(?:, [A-Z][a-z]+)* (?:&|and) [A-Z][a-z]+| et al\.?)?"
                          r",? (?:ISSCC )?\(?((?:19|20)\d\d)\b")


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def citation_keys(source: str) -> list[str]:
    """The keys of the author-year references a source text names, else one key for the text itself."""
    keys = []
    for m in _AUTHOR_YEAR.finditer(source):
        key = re.sub(r"[^a-z]", "", _fold(m.group(1))) + m.group(2)
        if key not in keys:
            keys.append(key)
    if keys:
        return keys
    first = re.sub(r"[^a-z0-9]", "", _fold(source.split()[0]))[:24] if source.split() else ""
    return ["sb-" + (first or "source")]


@dataclass
class Bibliography:
    """Citation keys -> the source texts that use them (first-use order)."""

    entries: dict[str, list[str]] = field(default_factory=dict)

    def cite(self, sources) -> list[str]:
        keys: list[str] = []
        for s in sources:
            s = " ".join(str(s).split())
            if not s:
                continue
            for k in citation_keys(s):
                texts = self.entries.setdefault(k, [])
                if s not in texts:
                    texts.append(s)
                if k not in keys:
                    keys.append(k)
        return keys

    def label(self, key: str) -> str:
        m = re.fullmatch(r"([a-z]+)(\d{4})", key)
        if m:
            for text in self.entries[key]:
                for mm in _AUTHOR_YEAR.finditer(text):
                    if re.sub(r"[^a-z]", "", _fold(mm.group(1))) == m.group(1) and mm.group(2) == m.group(2):
                        return mm.group(0).rstrip(",( ")
        return self.entries[key][0][:60]

    def to_bibtex(self) -> str:
        out = ["% generated by spikebench report: each key with the source texts (chip constants, task rows)",
               "% that name it; refine into full references before publication.", ""]
        for key, texts in self.entries.items():
            note = "Cited for: " + "; ".join(texts)
            out += [f"@misc{{{key},", f"  title = {{{{{latex_escape(self.label(key))}}}}},",
                    f"  note = {{{latex_escape(note)}}},", "}", ""]
        return "\n".join(out)


# ---- escaping ------------------------------------------------------------------------------------

_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                  "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                  "<": r"\textless{}", ">": r"\textgreater{}"}
_LATEX_UNICODE = {"–": "--", "—": "---", "µ": r"$\mu$", "μ": r"$\mu$", "×": r"$\times$", "…": r"\ldots{}",
                  "≤": r"$\leq$", "≥": r"$\geq$", "±": r"$\pm$", "→": r"$\rightarrow$", "§": r"\S{}",
                  "°": r"$^\circ$", "·": r"$\cdot$", "’": "'", "‘": "`", "“": "``", "”": "''", "−": "-",
                  "÷": r"$\div$", "≈": r"$\approx$", "\u00a0": "~"}
_SCI = re.compile(r"(-?\d(?:\.\d+)?)e([+-])0*(\d+)")


def latex_escape(text: str) -> str:
    """Plain text -> LaTeX that pdflatex compiles (specials escaped, known Unicode mapped, rest folded)."""
    out = []
    for ch in str(text):
        if ch in _LATEX_SPECIAL:
            out.append(_LATEX_SPECIAL[ch])
        elif ch in _LATEX_UNICODE:
            out.append(_LATEX_UNICODE[ch])
        elif ord(ch) < 128:
            out.append(ch)
        else:
            out.append(unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode() or "?")
    return "".join(out)


def _latex_cell(text: str) -> str:
    s = latex_escape(text)
    return _SCI.sub(lambda m: f"${m.group(1)}\\times10^{{{'-' if m.group(2) == '-' else ''}{m.group(3)}}}$", s)


def _latex_header(text: str, align: str) -> str:
    """A header over up to three short lines: 'Energy / inference (µJ)' -> 'Energy /', 'inference', '(µJ)'."""
    parts = re.split(r"(?<=/) | (?=\()", text)
    if len(parts) == 1:
        return latex_escape(text)
    return f"\\shortstack[{'r' if align == 'r' else 'l'}]{{" + "\\\\".join(latex_escape(p) for p in parts) + "}"


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


# ---- tables --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Cite:
    """A table cell holding citation keys."""

    keys: tuple[str, ...]


@dataclass(frozen=True)
class Alt:
    """A table cell whose LaTeX text differs (shorter; the long text goes to the table's notes)."""

    text: str
    latex: str

    def __str__(self) -> str:
        return self.text


@dataclass
class Table:
    """One table: display cells (text or :class:`Cite`) and a CSV frame of raw numbers."""

    name: str
    caption: str
    headers: list[str]
    align: str  # one of l/r per column
    rows: list[list]
    csv_headers: list[str]
    csv_rows: list[list]
    notes: list[str] = field(default_factory=list)
    latex_align: str = ""  # a LaTeX column spec where it differs from ``align`` (p{} columns)
    groups: list = field(default_factory=list)  # [(label, span)] over the columns: a header row above
    sub_headers: list = field(default_factory=list)  # the headers under ``groups`` (LaTeX, HTML)

    def to_markdown(self) -> str:
        def cell(c):
            return ", ".join(f"[{k}]" for k in c.keys) if isinstance(c, Cite) else _md_cell(c)

        lines = [f"**{_md_cell(self.caption)}**", "", "| " + " | ".join(_md_cell(h) for h in self.headers) + " |",
                 "|" + "|".join("---:" if a == "r" else "---" for a in self.align) + "|"]
        lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in self.rows]
        if self.notes:
            lines += [""] + [f"{_md_cell(n)}  " for n in self.notes]
        return "\n".join(lines) + "\n"

    def to_latex(self) -> str:
        def cell(c):
            if isinstance(c, Alt):
                return _latex_cell(c.latex)
            return ("\\cite{" + ",".join(c.keys) + "}" if c.keys else "--") if isinstance(c, Cite) else _latex_cell(c)

        out = [f"% spikebench report: table '{self.name}'. Needs \\usepackage{{booktabs,graphicx}}; sources are",
               "% \\cite keys defined in references.bib. A table wider than the text is scaled down to fit.",
               "\\begin{table}[htbp]", "\\centering", "\\footnotesize", "\\setlength{\\tabcolsep}{4pt}",
               f"\\caption{{{latex_escape(self.caption)}}}", f"\\label{{tab:{self.name}}}",
               f"\\sbox0{{\\begin{{tabular}}{{{self.latex_align or self.align}}}", "\\toprule"]
        headers = self.headers
        if self.groups:
            out.append(" & ".join(f"\\multicolumn{{{n}}}{{c}}{{{latex_escape(g)}}}" if g else " & ".join([""] * n)
                                  for g, n in self.groups).strip() + " \\\\")
            col, rules = 1, []
            for g, n in self.groups:
                if g:
                    rules.append(f"\\cmidrule(lr){{{col}-{col + n - 1}}}")
                col += n
            out.append("".join(rules))
            headers = self.sub_headers
        out += [" & ".join(_latex_header(h, a) for h, a in zip(headers, self.align)) + " \\\\", "\\midrule"]
        out += [" & ".join(cell(c) for c in row) + " \\\\" for row in self.rows]
        out += ["\\bottomrule", "\\end{tabular}}",
                "\\ifdim\\wd0>\\linewidth\\resizebox{\\linewidth}{!}{\\usebox0}\\else\\usebox0\\fi"]
        if self.notes:
            out += ["", "\\smallskip", "\\begin{minipage}{0.95\\linewidth}\\raggedright\\scriptsize"]
            out += [_latex_cell(n) + "\\par" for n in self.notes]
            out += ["\\end{minipage}"]
        out += ["\\end{table}"]
        return "\n".join(out) + "\n"

    def to_csv(self) -> str:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(self.csv_headers)
        for row in self.csv_rows:
            w.writerow(["" if (isinstance(v, float) and not math.isfinite(v)) or v is None else v for v in row])
        return buf.getvalue()

    def to_html(self) -> str:
        def cell(c):
            if isinstance(c, Cite):
                return ", ".join(f'<a href="#ref-{html.escape(k)}">[{html.escape(k)}]</a>' for k in c.keys)
            return html.escape(str(c))

        head = "".join(f'<th class="{a}">{html.escape(h)}</th>'
                       for h, a in zip(self.sub_headers if self.groups else self.headers, self.align))
        if self.groups:
            top = "".join(f'<th colspan="{n}" class="group">{html.escape(g)}</th>' for g, n in self.groups)
            head = f"{top}</tr><tr>{head}"
        body = "".join("<tr>" + "".join(f'<td class="{a}{" cites" if isinstance(c, Cite) else ""}">{cell(c)}</td>'
                                        for c, a in zip(row, self.align)) + "</tr>" for row in self.rows)
        notes = "".join(f'<p class="note">{html.escape(n)}</p>' for n in self.notes)
        return (f'<div class="tablewrap"><table id="tab-{html.escape(self.name)}"><caption>{html.escape(self.caption)}'
                f"</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{notes}</div>")


# ---- the data ------------------------------------------------------------------------------------

def _num(v):
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


@dataclass
class ReportData:
    """The latest rows of a store, indexed for the tables and figures."""

    frame: object  # pandas.DataFrame
    rows: dict  # (workload, backend, chip, metric) -> row dict
    workloads: list[str]
    chips: list[str]
    backends: dict  # workload -> [backends]
    runs: dict  # run_id -> run.json document
    root: Path

    @classmethod
    def load(cls, results_dir) -> ReportData:
        root = Path(results_dir)
        if not root.exists():
            raise FileFormatError(f"{root}: no such results folder; run `spikebench run --out {root}` first")
        store = ResultsStore(root).open(create=False)
        frame = store.frame()
        missing = [c for c in COLUMNS if c not in frame.columns]
        if missing:
            raise FileFormatError(f"{root}: results rows lack column(s) {', '.join(missing)}")
        if frame.empty:
            raise SpikebenchError(f"{root}: the results store has no finished cells yet; "
                                  "run `spikebench run` (or --resume) before `spikebench report`")
        rows = {}
        for rec in frame.to_dict("records"):
            for col in ("workload", "backend", "metric", "kind", "data"):
                if not isinstance(rec.get(col), str) or not rec[col]:
                    raise FileFormatError(f"{root}: a row has no {col} (run {rec.get('run_id')!r})")
            rec["chip"] = rec.get("chip") if isinstance(rec.get("chip"), str) else ""
            rec["value"], rec["low"], rec["high"] = _num(rec.get("value")), _num(rec.get("low")), _num(rec.get("high"))
            rec["source"] = rec.get("source") if isinstance(rec.get("source"), str) else ""
            rows[(rec["workload"], rec["backend"], rec["chip"], rec["metric"])] = rec
        try:
            from spikebench.workloads import WORKLOADS
            known_wl = list(WORKLOADS)
        except ImportError:  # pragma: no cover - workloads always ship with the suite
            known_wl = []
        from spikebench.hardware_models import CHIPS

        wls = set(frame["workload"])
        workloads = [w for w in known_wl if w in wls] + sorted(wls - set(known_wl))
        chip_set = {c for c in frame["chip"] if isinstance(c, str) and c}
        chips = [c for c in CHIPS if c in chip_set] + sorted(chip_set - set(CHIPS))
        backends = {}
        for w in workloads:
            bs = sorted(set(frame.loc[frame["workload"] == w, "backend"]))
            backends[w] = sorted(bs, key=lambda b: (b != REFERENCE_BACKEND, b))
        runs = {}
        for run_id in sorted(set(frame["run_id"])):
            try:
                runs[run_id] = store.run_config(run_id)
            except (OSError, ValueError):
                runs[run_id] = {"run_id": run_id}
        return cls(frame=frame, rows=rows, workloads=workloads, chips=chips, backends=backends, runs=runs, root=root)

    # lookups
    def get(self, workload, backend, metric, chip="") -> dict | None:
        return self.rows.get((workload, backend, chip, metric))

    def val(self, workload, backend, metric, chip=""):
        r = self.get(workload, backend, metric, chip)
        return r["value"] if r else None

    def ref_backend(self, workload) -> str:
        """The backend whose counts give a workload's chip estimates (sparse-cpu, else the first with chips)."""
        for b in self.backends[workload]:
            if any(self.get(workload, b, "energy_j", c) for c in self.chips):
                return b
        return self.backends[workload][0]

    def task_metrics(self, workload, backend) -> list[str]:
        return sorted({m for (w, b, c, m), r in self.rows.items()
                       if w == workload and b == backend and r["kind"] == "task"})

    def headline(self, workload) -> str | None:
        names = {m for b in self.backends[workload] for m in self.task_metrics(workload, b)}
        for m in HEADLINE_METRICS:
            if m in names:
                return m
        rest = sorted(m for m in names if not m.startswith(("chance", "baseline")))
        return rest[0] if rest else None

    def chance_metric(self, workload) -> str | None:
        names = {m for b in self.backends[workload] for m in self.task_metrics(workload, b)}
        head = self.headline(workload)
        for m in (f"chance_{head}", "chance_level"):
            if m in names:
                return m
        return next((m for m in sorted(names) if m.startswith("chance")), None)

    def baseline_metric(self, workload) -> str | None:
        names = {m for b in self.backends[workload] for m in self.task_metrics(workload, b)}
        head = self.headline(workload)
        if head and f"baseline_{head}" in names:
            return f"baseline_{head}"
        return next((m for m in sorted(names) if m.startswith("baseline")), None)

    def data_tags(self, workload) -> list[str]:
        return sorted(set(self.frame.loc[self.frame["workload"] == workload, "data"]))

    def synthetic_workloads(self) -> list[str]:
        return [w for w in self.workloads if "synthetic" in self.data_tags(w)]

    def chips_of(self, workload) -> list[str]:
        b = self.ref_backend(workload)
        return [c for c in self.chips if any(self.get(workload, b, m, c) for m in ("energy_j", "latency_s", "feasible"))]

    def feasible(self, workload, chip) -> bool | None:
        v = self.val(workload, self.ref_backend(workload), "feasible", chip)
        return None if v is None else v >= 0.5

    def reason(self, workload, chip) -> str:
        r = self.get(workload, self.ref_backend(workload), "feasible", chip)
        return r["source"] if r else ""


def short_reason(reason: str, limit: int = 60) -> str:
    first = reason.split("; ")[0].strip()
    return first if len(first) <= limit else first[: limit - 1].rstrip() + "…"


def _chip_sheet(chip):
    try:
        from spikebench.hardware_models import CHIPS, load_sheet

        return load_sheet(chip) if chip in CHIPS else None
    except (OSError, ValueError):
        return None


def chip_sources(chip: str, data: ReportData) -> list[str]:
    """The source texts of a chip's constants (its sheet), else of its rows."""
    sheet = _chip_sheet(chip)
    if sheet is not None:
        return list(dict.fromkeys(p.source for p in sheet.params.values()))
    return list(dict.fromkeys(r["source"] for (w, b, c, m), r in data.rows.items()
                              if c == chip and m == "energy_j" and r["source"]))


def chip_title(chip: str) -> str:
    sheet = _chip_sheet(chip)
    return sheet.title if sheet is not None else chip


def build_tables(data: ReportData, bib: Bibliography) -> list[Table]:
    tables = [_workloads_table(data)]
    tables += [_chips_table(data, bib, w) for w in data.workloads if data.chips_of(w)]
    if data.chips:
        tables.append(_comparison_table(data, bib))
    return tables


def _metric_label(metric: str) -> str:
    return metric.replace("_", " ")


def _workloads_table(data: ReportData) -> Table:
    walls = [data.val(w, b, "wall_time_per_inference_s") for w in data.workloads for b in data.backends[w]]
    tname, tf = pick_scale(walls, _TIME_SCALES)
    gpu = [data.val(w, b, "gpu_energy_per_inference_j") for w in data.workloads for b in data.backends[w]]
    has_gpu = any(_finite(v) for v in gpu)
    ename, ef = pick_scale(gpu, _ENERGY_SCALES)
    headers = ["Workload", "Data", "Backend (device)", "Samples", "Task metric", "Value", "Interval", "Chance",
               "Baseline", "Other task metrics", f"Wall time / inference ({tname})"]
    csvh = ["workload", "data", "backend", "device", "samples", "task_metric", "value", "low", "high",
            "chance_level", "baseline", "other_task_metrics", f"Wall time / inference ({tname})"]
    if has_gpu:
        headers.append(f"GPU energy / inference ({ename}, measured)")
        csvh.append(f"GPU energy / inference ({ename}, measured)")
    headers += ["Synaptic events / inference", "Spikes / inference"]
    csvh += ["Synaptic events / inference", "Spikes / inference", "source"]
    rows, csv_rows, sources = [], [], {}
    for w in data.workloads:
        head, chance, base = data.headline(w), data.chance_metric(w), data.baseline_metric(w)
        for b in data.backends[w]:
            any_row = next((r for (ww, bb, c, m), r in data.rows.items() if ww == w and bb == b), {})
            hr = data.get(w, b, head) if head else None
            others = [m for m in data.task_metrics(w, b) if m not in (head, chance, base)]
            other_txt = ", ".join(f"{_metric_label(m)} {fmt(data.val(w, b, m))}" for m in others) or _DASH
            samples = any_row.get("samples")
            samples = int(samples) if _finite(_num(samples)) else None
            if hr and hr["source"]:
                sources.setdefault((w, head), []).append(hr["source"])
            wall = data.val(w, b, "wall_time_per_inference_s")
            tags = ", ".join(sorted({r["data"] for (ww, bb, c, m), r in data.rows.items() if ww == w and bb == b}))
            device = str(any_row.get("device") or "")
            row = [w, tags, f"{b} ({device})" if device else b, str(samples) if samples is not None else _DASH,
                   _metric_label(head) if head else _DASH, fmt(hr["value"]) if hr else _DASH,
                   fmt_range(hr["low"], hr["high"]) if hr else _DASH,
                   fmt(data.val(w, b, chance)) if chance else _DASH, fmt(data.val(w, b, base)) if base else _DASH,
                   other_txt, fmt(wall / tf) if _finite(wall) else _DASH]
            crow = [w, tags, b, any_row.get("device") or "", samples, head or "", hr["value"] if hr else None,
                    hr["low"] if hr else None, hr["high"] if hr else None,
                    data.val(w, b, chance) if chance else None, data.val(w, b, base) if base else None,
                    "; ".join(f"{m}={data.val(w, b, m)!r}" for m in others), wall / tf if _finite(wall) else None]
            if has_gpu:
                g = data.val(w, b, "gpu_energy_per_inference_j")
                row.append(fmt(g / ef) if _finite(g) else _DASH)
                crow.append(g / ef if _finite(g) else None)
            se, sp = data.val(w, b, "synaptic_events_per_inference"), data.val(w, b, "spikes_per_inference")
            row += [fmt(se), fmt(sp)]
            crow += [se, sp, hr["source"] if hr else ""]
            rows.append(row)
            csv_rows.append(crow)
    align = "lllr" + "l" + "rrrr" + "l" + "r" + ("r" if has_gpu else "") + "rr"
    notes = ["Task metric: the workload's headline metric (accuracy, else AUROC); chance and baseline on the "
             "same test split. Wall time is measured per inference (batch run divided by samples); events are "
             "exact counts of the simulation."]
    notes += [f"{w} {_metric_label(m)}: {src}" for (w, m), texts in sources.items() for src in dict.fromkeys(texts)]
    latex_align = align[:9] + "p{2.6cm}" + align[10:]  # "Other task metrics" wraps
    return Table(name="workloads", caption="Workloads: task metrics, measured wall time and events per inference",
                 headers=headers, align=align, rows=rows, csv_headers=csvh, csv_rows=csv_rows, notes=notes,
                 latex_align=latex_align)


def _chips_table(data: ReportData, bib: Bibliography, w: str) -> Table:
    b = data.ref_backend(w)
    chips = data.chips_of(w)
    ename, ef = pick_scale([data.val(w, b, "energy_j", c) for c in chips], _ENERGY_SCALES)
    lname, lf = pick_scale([data.val(w, b, "latency_s", c) for c in chips], _TIME_SCALES)
    headers = ["Chip", f"Energy / inference ({ename})", f"Energy range ({ename})", f"Dynamic ({ename})",
               f"Static ({ename})", f"Latency ({lname})", f"Latency range ({lname})", "Cores", "Chips",
               "Feasible", "Sources"]
    csvh = ["chip", f"Energy / inference ({ename})", f"Energy low ({ename})", f"Energy high ({ename})",
            f"Dynamic energy ({ename})", f"Static energy ({ename})", f"Latency ({lname})", f"Latency low ({lname})",
            f"Latency high ({lname})", "cores", "core_kind", "chips", "feasible", "reasons", "source_keys"]
    rows, csv_rows, notes = [], [], []
    letters = iter("abcdefghijklmnopqrstuvwxyz")
    for c in chips:
        e, d, s, lat = (data.get(w, b, m, c) for m in ("energy_j", "energy_dynamic_j", "energy_static_j", "latency_s"))
        cores, nchips = data.get(w, b, "cores", c), data.get(w, b, "chips", c)
        feas, reason = data.feasible(w, c), data.reason(w, c)
        keys = bib.cite(chip_sources(c, data))
        feas_txt = _DASH if feas is None else ("yes" if feas else "no")
        if reason:
            mark = next(letters, "*")
            feas_txt = Alt(f"{feas_txt} ({mark}: {short_reason(reason)})" if not feas else f"{feas_txt} ({mark})",
                           f"{feas_txt} ({mark})")
            notes.append(f"({mark}) {c}: {reason}")

        def v(r, f):
            return fmt(r["value"] / f) if r and _finite(r["value"]) else _DASH

        rows.append([c, v(e, ef), fmt_range(e["low"], e["high"], ef) if e else _DASH, v(d, ef), v(s, ef), v(lat, lf),
                     fmt_range(lat["low"], lat["high"], lf) if lat else _DASH,
                     f"{_fmt_count(cores['value'])} {cores['unit'] if cores['unit'] not in ('-', '1') else ''}".strip()
                     if cores else _DASH,
                     _fmt_count(nchips["value"]) if nchips else _DASH, feas_txt, Cite(tuple(keys))])

        def raw(r, key, f):
            return r[key] / f if r and _finite(r[key]) else None

        csv_rows.append([c, raw(e, "value", ef), raw(e, "low", ef), raw(e, "high", ef), raw(d, "value", ef),
                         raw(s, "value", ef), raw(lat, "value", lf), raw(lat, "low", lf), raw(lat, "high", lf),
                         cores["value"] if cores else None, cores["unit"] if cores else "",
                         nchips["value"] if nchips else None, "" if feas is None else int(feas), reason,
                         "; ".join(keys)])
    tags = ", ".join(data.data_tags(w))
    caption = (f"{w} ({tags} data): modelled energy and latency per inference on each chip, from the event counts "
               f"of the {b} backend; ranges from the constants' intervals")
    return Table(name=f"chips_{_slug(w)}", caption=caption, headers=headers, align="lrrrrrrrrll", rows=rows,
                 csv_headers=csvh, csv_rows=csv_rows, notes=notes)


def _comparison_table(data: ReportData, bib: Bibliography) -> Table:
    headers, csvh, scales = ["Chip"], ["chip"], {}
    for w in data.workloads:
        b = data.ref_backend(w)
        scales[w] = (pick_scale([data.val(w, b, "energy_j", c) for c in data.chips], _ENERGY_SCALES),
                     pick_scale([data.val(w, b, "latency_s", c) for c in data.chips], _TIME_SCALES))
        (en, _), (ln, _) = scales[w]
        headers += [f"{w} energy ({en})", f"{w} latency ({ln})"]
        csvh += [f"{w} energy ({en})", f"{w} energy low ({en})", f"{w} energy high ({en})", f"{w} latency ({ln})",
                 f"{w} feasible"]
    groups = [("", 1)] + [(w, 2) for w in data.workloads] + [("", 3)]
    subs = ["Chip"] + [f"{k} ({scales[w][i][0]})" for w in data.workloads for i, k in enumerate(("Energy", "Latency"))]
    subs += ["Feasible on", "Energy boundary", "Sources"]
    headers += ["Feasible on", "Energy boundary", "Sources"]
    csvh += ["feasible_on", "boundary", "title", "source_keys"]
    rows, csv_rows = [], []
    for c in data.chips:
        row, crow, ok, n, boundary = [c], [c], 0, 0, ""
        for w in data.workloads:
            b = data.ref_backend(w)
            (_, ef), (_, lf) = scales[w]
            e, lat, feas = data.get(w, b, "energy_j", c), data.get(w, b, "latency_s", c), data.feasible(w, c)
            boundary = boundary or (e["source"] if e else "")
            star = "*" if feas is False else ""
            row += [fmt(e["value"] / ef) + star if e else _DASH, fmt(lat["value"] / lf) + star if lat else _DASH]
            crow += [e["value"] / ef if e else None, e["low"] / ef if e and _finite(e["low"]) else None,
                     e["high"] / ef if e and _finite(e["high"]) else None, lat["value"] / lf if lat else None,
                     "" if feas is None else int(feas)]
            if feas is not None:
                n += 1
                ok += bool(feas)
        keys = bib.cite(chip_sources(c, data))
        row += [f"{ok} of {n}", short_reason(boundary, 48), Cite(tuple(keys))]
        crow += [ok, boundary, chip_title(c), "; ".join(keys)]
        rows.append(row)
        csv_rows.append(crow)
    notes = ["* infeasible mapping on that workload (see the workload's chip table for why). Energies and "
             "latencies are modelled per inference, nominal constants; each chip's energy boundary differs."]
    return Table(name="chip_comparison", caption="Chip comparison: modelled energy and latency per inference",
                 headers=headers, align="l" + "rr" * len(data.workloads) + "rll", rows=rows, csv_headers=csvh,
                 csv_rows=csv_rows, notes=notes, latex_align="l" + "rr" * len(data.workloads) + "rp{2.6cm}l",
                 groups=groups, sub_headers=subs)


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


# ---- figures -------------------------------------------------------------------------------------

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
    if hr is None or not _finite(hr["value"]):
        return None
    y, ylo, yhi = hr["value"], hr["low"], hr["high"]
    yerr = [[y - ylo], [yhi - y]] if _finite(ylo) and _finite(yhi) else None
    colours = _chip_colours(data.chips)
    fig, axes = _new_figure(8.6, 4.4)
    ax = axes[0][0]
    pts, infeasible = [], []
    for c in data.chips_of(workload):
        e = data.get(workload, b, "energy_j", c)
        if not e or not _finite(e["value"]) or e["value"] <= 0:
            continue
        (pts if data.feasible(workload, c) is not False else infeasible).append((c, e))
    front = pareto_front([(c, e["value"], y) for c, e in pts])
    for group, gid in ((pts, "chips-feasible"), (infeasible, "chips-infeasible")):
        xs = [e["value"] for _, e in group]
        if not xs:
            continue
        xerr = [[max(e["value"] - e["low"], 0) if _finite(e["low"]) else 0 for _, e in group],
                [max(e["high"] - e["value"], 0) if _finite(e["high"]) else 0 for _, e in group]]
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
        if _finite(v):
            ax.axhline(v, ls=style, color="0.4", lw=1, label=f"{name} ({fmt(v)})")
    ax.set_xscale("log")
    ax.set_xlabel("modelled energy per inference (J, log scale; bars: low–high)")
    ax.set_ylabel(f"{_metric_label(metric)} ({b})")
    lo = min([v for v in (y, ylo, data.val(workload, b, data.chance_metric(workload) or ""),
                          data.val(workload, b, data.baseline_metric(workload) or "")) if _finite(v)] + [y])
    hi = max([v for v in (y, yhi, data.val(workload, b, data.baseline_metric(workload) or "")) if _finite(v)])
    pad = max(0.05, 0.12 * (hi - lo))
    ax.set_ylim(lo - 3.5 * pad, hi + 2.5 * pad)
    xs_all = [e["value"] for _, e in pts + infeasible]
    if xs_all:
        ax.set_xlim(min(xs_all) / 12, max(xs_all) * 12)  # room for the slanted labels
    ax.grid(True, which="major", alpha=0.3)
    ax.set_title(f"{workload}: {_metric_label(metric)} vs energy per inference ({', '.join(data.data_tags(workload))} data)",
                 fontsize=10)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    return fig


def _interval_err(rows):
    lo = [max(r["value"] - r["low"], 0) if r and _finite(r["low"]) else 0 for r in rows]
    hi = [max(r["high"] - r["value"], 0) if r and _finite(r["high"]) else 0 for r in rows]
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
            if r and _finite(r["value"]) and r["value"] > 0:
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
            d, s = (d if _finite(d) else 0.0), (s if _finite(s) else 0.0)
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
            ax.text(xi, 102, _si(t, "J"), ha="center", va="bottom", rotation=90, fontsize=7)
        ax.set_xticks(x, chips, rotation=45, ha="right", fontsize=8)
        ax.set_ylim(0, 135)
        ax.set_yticks([0, 25, 50, 75, 100])
        ax.set_title(w, fontsize=10)
    axes[0][0].set_ylabel("share of modelled energy per inference (%)")
    axes[0][0].legend(fontsize=8, loc="upper left", ncols=2)
    fig.suptitle("Dynamic vs static energy per chip (label: total per inference; hatched: infeasible)", fontsize=10)
    return fig


def _si(v, unit: str) -> str:
    if not _finite(v):
        return _DASH
    for name, f in (("", 1.0), ("m", 1e-3), ("µ", 1e-6), ("n", 1e-9), ("p", 1e-12)):
        if abs(v) >= f:
            return f"{v / f:.3g} {name}{unit}"
    return f"{v:.2g} {unit}"


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
        ax.bar(x, [v if _finite(v) else 0 for v in vals], width=width, label=b, color=f"C{i}")
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
            specs.append((f"pareto_{_slug(w)}", f"{w}: {_metric_label(data.headline(w))} vs modelled energy per "
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
            specs.append((f"activity_{_slug(w)}", f"{w}: fraction of neurons spiking per step, per layer and backend",
                          fig))
    return [(name, caption, *_render(fig)) for name, caption, fig in specs]


# ---- HTML ----------------------------------------------------------------------------------------

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
figcaption{font-size:.85rem;color:#444} .muted{color:#666;font-size:.85rem}
code{background:#f3f3f3;padding:0 .2rem;border-radius:3px} nav a{margin-right:.8rem}
dl.refs dt{font-family:monospace;font-weight:600} dl.refs dd{margin:0 0 .5rem 1.5rem;font-size:.85rem}
"""


def _html_page(data: ReportData, tables: list[Table], figures, bib: Bibliography, files: list[str]) -> str:
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
    syn = data.synthetic_workloads()
    if syn:
        parts.append(f'<div class="banner" id="synthetic-banner">&#9888; {esc(SYNTHETIC_BANNER)} Synthetic data in: '
                     f"{esc(', '.join(syn))}.</div>")
    nav = ['<a href="#summary">Summary</a>'] + [f'<a href="#wl-{esc(_slug(w))}">{esc(w)}</a>' for w in data.workloads]
    nav += ['<a href="#chips">Chips</a>', '<a href="#provenance">Provenance</a>', '<a href="#references">References</a>']
    parts.append("<nav>" + "".join(nav) + "</nav>")
    parts += ['<h2 id="summary">Summary</h2>', tab["workloads"].to_html()]
    for w in data.workloads:
        parts.append(f'<h2 id="wl-{esc(_slug(w))}">{esc(w)} <span class=muted>({esc(", ".join(data.data_tags(w)))} '
                     "data)</span></h2>")
        if f"chips_{_slug(w)}" in tab:
            parts.append(tab[f"chips_{_slug(w)}"].to_html())
        parts.append(figure_html(f"pareto_{_slug(w)}") or
                     f'<p class="muted">No task metric for {esc(w)}: no accuracy vs energy figure.</p>')
        parts.append(figure_html(f"activity_{_slug(w)}"))
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
        cells = sorted({f"{w}/{b}" for w, b in data.frame.loc[data.frame["run_id"] == run_id, ["workload", "backend"]]
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
    for key, texts in bib.entries.items():
        parts.append(f'<dt id="ref-{esc(key)}">[{esc(key)}]</dt><dd>' + "<br>".join(esc(t) for t in texts) + "</dd>")
    parts.append("</dl>")
    parts.append('<h2 id="files">Files</h2><p class="muted">' +
                 ", ".join(f'<a href="{esc(f)}">{esc(f)}</a>' for f in files) + "</p>")
    parts.append("</body></html>")
    return "\n".join(p for p in parts if p) + "\n"


def _markdown_page(data: ReportData, tables: list[Table], figures) -> str:
    lines = ["# spikebench report", ""]
    syn = data.synthetic_workloads()
    if syn:
        lines += [f"> **Warning:** {SYNTHETIC_BANNER} Synthetic data in: {', '.join(syn)}.", ""]
    for t in tables:
        lines += [t.to_markdown(), ""]
    lines += ["## Figures", ""] + [f"- `figures/{name}.png` (`.pdf`): {caption}" for name, caption, *_ in figures]
    lines += ["", f"Runs: {', '.join(data.runs)}."]
    return "\n".join(lines) + "\n"


# ---- entry point ---------------------------------------------------------------------------------

def _check_out_dir(out: Path, results: Path) -> None:
    if out.exists() and not out.is_dir():
        raise SpikebenchError(f"{out}: is a file; give a folder for the report (--out)")
    try:
        if out.resolve() == results.resolve():
            raise SpikebenchError(f"{out}: is the results folder itself; write the report to another folder")
    except OSError as exc:
        raise SpikebenchError(f"{out}: cannot use this report folder ({exc})") from None


def build_report(results_dir, out_dir) -> dict[str, Path]:
    """Read a results store and write the report into ``out_dir`` (created).

    Returns ``{relative name: path}`` of every written file, ``index.html`` last. Raises
    :class:`SpikebenchError` (one line) for a folder that is not a results store, another schema
    version, or a store without finished cells; nothing is written then.
    """
    results_dir, out_dir = Path(results_dir), Path(out_dir)
    data = ReportData.load(results_dir)
    _check_out_dir(out_dir, results_dir)
    bib = Bibliography()
    tables = build_tables(data, bib)
    figures = build_figures(data)
    files: dict[str, bytes] = {}
    for t in tables:
        files[f"tables/{t.name}.md"] = t.to_markdown().encode()
        files[f"tables/{t.name}.tex"] = t.to_latex().encode()
        files[f"tables/{t.name}.csv"] = t.to_csv().encode()
    files["references.bib"] = bib.to_bibtex().encode()
    for name, _, png, pdf in figures:
        files[f"figures/{name}.png"] = png
        files[f"figures/{name}.pdf"] = pdf
    files["summary.md"] = _markdown_page(data, tables, figures).encode()
    page = _html_page(data, tables, figures, bib, list(files))
    try:
        for sub in ("", "tables", "figures"):
            (out_dir / sub).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SpikebenchError(f"{out_dir}: cannot create the report folder ({exc.strerror})") from None
    written: dict[str, Path] = {}
    for rel, blob in files.items():
        atomic_write_bytes(out_dir / rel, blob)
        written[rel] = out_dir / rel
    atomic_write_text(out_dir / "index.html", page)
    written["index.html"] = out_dir / "index.html"
    return written


__all__ = ["Bibliography", "ReportData", "Table", "build_report", "build_tables", "build_figures",
           "citation_keys", "figure_pareto", "fmt", "fmt_range", "latex_escape", "pareto_front"]
