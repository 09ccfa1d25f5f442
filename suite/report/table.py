"""The report's table model: one frame of raw values plus one formatter per displayed column.

A :class:`Table` is ``frame``, a pandas DataFrame of raw values (SI units, the unit in the column
name: ``energy_j``, ``latency_s``; ``feasible`` as 0/1; ``source_keys`` as ``"key1; key2"``), which
*is* the table's CSV, and ``columns``, one :class:`Column` per displayed column: its header with the
unit, its alignment and a function from one frame row to the cell text (or a :class:`Cite`).
Markdown, LaTeX (booktabs) and HTML are all rendered from those cells. A display column may combine
raw columns (a range from ``energy_low_j`` and ``energy_high_j``) and a raw column may be CSV only.

The helpers :func:`quantity`, :func:`quantity_range`, :func:`number`, :func:`count`, :func:`text` and
:func:`cites` build the usual columns; :func:`scale_of` picks one unit prefix for a whole column.
"""

from __future__ import annotations

import html
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from spikebench.core import bibliography as bib
from spikebench.core.units import DASH, fmt, fmt_count, fmt_range, pick_scale

Row = Mapping[str, Any]


@dataclass(frozen=True)
class Cite:
    """A cell holding bibliography keys: Markdown ``[key]``, LaTeX ``\\cite{...}``, HTML links to ``#ref-key``."""

    keys: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class Column:
    """One displayed column.

    ``header`` carries the unit (``Energy / inference (µJ)``); ``cell`` maps one frame row (raw values,
    missing ones as ``None``) to the cell text or a :class:`Cite`; ``latex_cell`` replaces it in LaTeX
    where the text is shorter there (the long text goes to the table's notes); ``latex_align`` is a
    LaTeX column spec where it differs from ``align`` (``p{2.6cm}``); consecutive columns with the
    same ``group`` share a header row above theirs in LaTeX and HTML.
    """

    header: str
    cell: Callable[[Row], str | Cite]
    align: str = "r"  # "l" or "r"
    latex_align: str = ""
    latex_cell: Callable[[Row], str] | None = None
    group: str = ""

    @property
    def flat_header(self) -> str:
        """The header without a group row (Markdown): ``Energy (mJ)`` in group ``nmnist`` -> ``nmnist energy (mJ)``."""
        return f"{self.group} {self.header[:1].lower()}{self.header[1:]}" if self.group else self.header


# ---- column builders -----------------------------------------------------------------------------

def scale_of(frame: pd.DataFrame, name: str, scales: Sequence[tuple[str, float]]) -> tuple[str, float]:
    """The ``(unit, factor)`` of ``scales`` for the raw column ``name`` (see :func:`pick_scale`)."""
    return pick_scale([_native(v) for v in frame[name]] if name in frame else [], scales)


def _text(v) -> str:
    return DASH if v is None or v == "" else str(v)


def text(name: str, header: str, *, align: str = "l", latex_align: str = "") -> Column:
    """The raw value as text (a dash when missing or empty)."""
    return Column(header=header, cell=lambda r: _text(r.get(name)), align=align, latex_align=latex_align)


def number(name: str, header: str) -> Column:
    """A plain number, 3 significant digits (:func:`fmt`)."""
    return Column(header=header, cell=lambda r: fmt(r.get(name)))


def count(name: str, header: str) -> Column:
    """A whole count with thousands separators (:func:`fmt_count`)."""
    return Column(header=header, cell=lambda r: fmt_count(r.get(name)))


def scaled(v, factor: float) -> str:
    """A raw SI value in units of ``factor`` (:func:`fmt`), a dash when missing."""
    return fmt(v / factor) if isinstance(v, (int, float)) else DASH


def quantity(name: str, header: str, scale: tuple[str, float], *, group: str = "") -> Column:
    """An SI quantity shown in the column's unit: ``header`` holds ``{unit}`` (``Latency ({unit})``)."""
    unit, factor = scale
    return Column(header=header.format(unit=unit), cell=lambda r: scaled(r.get(name), factor), group=group)


def quantity_range(low: str, high: str, header: str, scale: tuple[str, float]) -> Column:
    """An interval from two raw columns, ``12.1–15.3`` in the column's unit."""
    unit, factor = scale
    return Column(header=header.format(unit=unit), cell=lambda r: fmt_range(r.get(low), r.get(high), factor))


def join_keys(keys: Iterable[str]) -> str:
    """Citation keys as one raw CSV value: ``"key1; key2"``."""
    return "; ".join(keys)


def split_keys(value) -> tuple[str, ...]:
    return tuple(k for k in str(value or "").split("; ") if k)


def cites(name: str = "source_keys", header: str = "Sources") -> Column:
    """The bibliography keys of a raw ``"key1; key2"`` column."""
    return Column(header=header, cell=lambda r: Cite(split_keys(r.get(name))), align="l")


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


def latex_cell(text: str) -> str:
    """:func:`latex_escape` with numbers in scientific notation as ``$1.2\\times10^{-5}$``."""
    s = latex_escape(text)
    return _SCI.sub(lambda m: f"${m.group(1)}\\times10^{{{'-' if m.group(2) == '-' else ''}{m.group(3)}}}$", s)


def _latex_header(text: str, align: str) -> str:
    """A header over up to three short lines: 'Energy / inference (µJ)' -> 'Energy /', 'inference', '(µJ)'."""
    parts = re.split(r"(?<=/) | (?=\()", text)
    if len(parts) == 1:
        return latex_escape(text)
    return f"\\shortstack[{'r' if align == 'r' else 'l'}]{{" + "\\\\".join(latex_escape(p) for p in parts) + "}"


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _native(v):
    """A frame value as a plain Python value; missing (NaN, NA, None) -> ``None``."""
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None
    return v.item() if isinstance(v, np.generic) else v


# ---- the table -----------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class Table:
    """One report table: ``frame`` (raw values, the CSV) and one :class:`Column` per displayed column.

    ``notes`` go under the table; they may cite bibliography keys pandoc-style (``[@key, p. 3]``).
    ``details`` (optional) are lists under the notes, each ``(heading, items)``: collapsed in HTML
    (``<details>``), a nested list in Markdown, a paragraph per list in LaTeX; their items may cite
    keys as the notes do (a chip's deployment notes).
    ``row_group`` (optional) maps a frame row to the label of its block of rows: consecutive rows with
    one label share a heading row spanning the table (Markdown: a bold first cell; LaTeX: a
    ``\\multicolumn`` line between rules; HTML: a spanning header cell). The CSV is the frame as is.
    """

    name: str
    caption: str
    frame: pd.DataFrame
    columns: tuple[Column, ...]
    notes: tuple[str, ...] = ()
    row_group: Callable[[Row], str] | None = None
    details: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def records(self) -> list[dict]:
        """The frame's rows as dicts of plain Python values (missing -> ``None``)."""
        return [{k: _native(v) for k, v in rec.items()} for rec in self.frame.to_dict("records")]

    def cells(self) -> list[list[str | Cite]]:
        """The display cells, one list per frame row."""
        return [[c.cell(r) for c in self.columns] for r in self.records()]

    def cited_keys(self) -> list[str]:
        """Every bibliography key the table cites (its :class:`Cite` cells, then its notes), first use first."""
        keys = [k for row in self.cells() for c in row if isinstance(c, Cite) for k in c.keys]
        texts = list(self.notes) + [t for head, items in self.details for t in (head, *items)]
        return list(dict.fromkeys(keys + bib.cite_keys(texts)))

    def _groups(self) -> list[tuple[str, int]]:
        groups: list[tuple[str, int]] = []
        for c in self.columns:
            if groups and groups[-1][0] == c.group:
                groups[-1] = (c.group, groups[-1][1] + 1)
            else:
                groups.append((c.group, 1))
        return groups if any(g for g, _ in groups) else []

    def _row_groups(self) -> list[str | None]:
        """Per frame row: the heading of the block it starts, else None."""
        if self.row_group is None:
            return [None] * len(self.frame)
        out, last = [], object()
        for r in self.records():
            label = self.row_group(r)
            out.append(label if label != last else None)
            last = label
        return out

    def to_csv(self) -> str:
        return self.frame.to_csv(index=False, lineterminator="\n")

    def to_markdown(self) -> str:
        def cell(c):
            if isinstance(c, Cite):
                return ", ".join(f"[{k}]" for k in c.keys) or DASH
            return _md(c)

        cols = self.columns
        lines = [f"**{_md(self.caption)}**", "", "| " + " | ".join(_md(c.flat_header) for c in cols) + " |",
                 "|" + "|".join("---:" if c.align == "r" else "---" for c in cols) + "|"]
        for head, row in zip(self._row_groups(), self.cells()):
            if head is not None:
                lines.append(f"| **{_md(head)}** |" + " |" * (len(cols) - 1))
            lines.append("| " + " | ".join(cell(c) for c in row) + " |")
        if self.notes:
            lines += [""] + [f"{_md(bib.render_text(n))}  " for n in self.notes]
        if self.details:
            lines.append("")
            for head, items in self.details:
                lines.append(f"- {_md(bib.render_text(head))}")
                lines += [f"  - {_md(bib.render_text(i))}" for i in items]
        return "\n".join(lines) + "\n"

    def to_latex(self) -> str:
        def cell(col: Column, row: Row) -> str:
            if col.latex_cell is not None:
                return latex_cell(col.latex_cell(row))
            c = col.cell(row)
            if isinstance(c, Cite):
                return "\\cite{" + ",".join(c.keys) + "}" if c.keys else latex_cell(DASH)
            return latex_cell(c)

        spec = "".join(c.latex_align or c.align for c in self.columns)
        out = [f"% spikebench report: table '{self.name}'. Needs \\usepackage{{booktabs,graphicx}}; sources are",
               "% \\cite keys defined in references.bib (its URLs need \\usepackage{url} or hyperref).",
               "% A table wider than the text is scaled down to fit.",
               "\\begin{table}[htbp]", "\\centering", "\\footnotesize", "\\setlength{\\tabcolsep}{4pt}",
               f"\\caption{{{latex_escape(self.caption)}}}", f"\\label{{tab:{self.name}}}",
               f"\\sbox0{{\\begin{{tabular}}{{{spec}}}", "\\toprule"]
        groups = self._groups()
        if groups:
            out.append(" & ".join(f"\\multicolumn{{{n}}}{{c}}{{{latex_escape(g)}}}" if g else " & ".join([""] * n)
                                  for g, n in groups).strip() + " \\\\")
            col, rules = 1, []
            for g, n in groups:
                if g:
                    rules.append(f"\\cmidrule(lr){{{col}-{col + n - 1}}}")
                col += n
            out.append("".join(rules))
        out += [" & ".join(_latex_header(c.header, c.align) for c in self.columns) + " \\\\", "\\midrule"]
        for i, (head, r) in enumerate(zip(self._row_groups(), self.records())):
            if head is not None:
                out += ["\\midrule"] if i else []
                out.append(f"\\multicolumn{{{len(self.columns)}}}{{l}}{{\\textit{{{latex_escape(head)}}}}} \\\\")
            out.append(" & ".join(cell(c, r) for c in self.columns) + " \\\\")
        out += ["\\bottomrule", "\\end{tabular}}",
                "\\ifdim\\wd0>\\linewidth\\resizebox{\\linewidth}{!}{\\usebox0}\\else\\usebox0\\fi"]
        if self.notes:
            out += ["", "\\smallskip", "\\begin{minipage}{0.95\\linewidth}\\raggedright\\scriptsize"]
            out += [bib.render_latex(n, latex_cell) + "\\par" for n in self.notes]
            out += ["\\end{minipage}"]
        if self.details:
            out += ["", "\\smallskip", "\\begin{minipage}{0.95\\linewidth}\\raggedright\\scriptsize"]
            out += [f"\\textit{{{bib.render_latex(head, latex_cell)}}}: "
                    + "; ".join(bib.render_latex(i, latex_cell) for i in items) + "\\par" for head, items in self.details]
            out += ["\\end{minipage}"]
        out += ["\\end{table}"]
        return "\n".join(out) + "\n"

    def to_html(self) -> str:
        esc = html.escape

        def cell(c):
            if isinstance(c, Cite):
                return ", ".join(f'<a href="#ref-{esc(k)}">[{esc(k)}]</a>' for k in c.keys) or DASH
            return esc(str(c))

        head = "".join(f'<th class="{c.align}">{esc(c.header)}</th>' for c in self.columns)
        groups = self._groups()
        if groups:
            top = "".join(f'<th colspan="{n}" class="group">{esc(g)}</th>' for g, n in groups)
            head = f"{top}</tr><tr>{head}"
        body = "".join(
            (f'<tr><th colspan="{len(self.columns)}" class="l" style="background:#eef3f8">{esc(head)}</th></tr>'
             if head is not None else "")
            + "<tr>" + "".join(f'<td class="{col.align}{" cites" if isinstance(c, Cite) else ""}">{cell(c)}</td>'
                               for c, col in zip(row, self.columns)) + "</tr>"
            for head, row in zip(self._row_groups(), self.cells()))
        notes = "".join(f'<p class="note">{esc(bib.render_text(n))}</p>' for n in self.notes)
        notes += "".join(
            f'<details class="note"><summary>{esc(bib.render_text(head))}</summary><ul>'
            + "".join(f"<li>{esc(bib.render_text(i))}</li>" for i in items) + "</ul></details>"
            for head, items in self.details)
        return (f'<div class="tablewrap"><table id="tab-{esc(self.name)}"><caption>{esc(self.caption)}'
                f"</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{notes}</div>")


def frame_of(records: Sequence[Mapping[str, Any]], *, whole: Iterable[str] = ()) -> pd.DataFrame:
    """A table's raw frame from one dict per row; the ``whole`` columns become nullable integers
    (``1``, not ``1.0``, in the CSV) where every value present is a whole number."""
    frame = pd.DataFrame.from_records(list(records))
    for name in whole:
        vals = [v for v in map(_native, frame[name]) if v is not None] if name in frame else []
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and float(v).is_integer()
               for v in vals):
            frame[name] = frame[name].astype("Float64").astype("Int64")
    return frame


__all__ = ["Cite", "Column", "Table", "cites", "count", "frame_of", "join_keys", "latex_cell", "latex_escape",
           "number", "quantity", "quantity_range", "scale_of", "scaled", "split_keys", "text"]
