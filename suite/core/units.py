"""Numbers with units, as every spikebench output prints them: one module for the report, the
chooser, the command line and the demo.

* :func:`si`: a quantity with an SI prefix and 3 significant digits (``1.23 mJ``, ``45.3 µs``).
* :func:`si_range`, :func:`si_interval`: an interval (``1.2 mJ [1.0 mJ - 1.5 mJ]``).
* :func:`fmt`, :func:`fmt_count`, :func:`fmt_range`, :func:`pick_scale`: plain numbers for table
  cells whose unit (and prefix) sits in the column header.
* :func:`text_table`: a plain-text table for the terminal.

A missing or non-finite value prints as :data:`DASH`, never as ``nan`` or ``0``. Pure functions; no
imports beyond the standard library.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

DASH = "—"
#: (prefix, factor), largest first; ``µ`` for micro everywhere.
PREFIXES = (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3), ("", 1.0), ("m", 1e-3), ("µ", 1e-6), ("n", 1e-9),
            ("p", 1e-12), ("f", 1e-15))
#: Column scales of the report's tables: (unit as printed, factor to SI).
ENERGY_SCALES = (("J", 1.0), ("mJ", 1e-3), ("µJ", 1e-6), ("nJ", 1e-9), ("pJ", 1e-12))
TIME_SCALES = (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9))


def finite(v) -> bool:
    """A real, finite number (``bool`` excluded)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def si(x, unit: str, digits: int = 3) -> str:
    """``x`` (in SI units) with the prefix that puts it in [1, 1000): ``si(1.234e-3, "J") == "1.23 mJ"``.

    Zero prints as ``0 J``; a missing or non-finite value as :data:`DASH`. Values beyond the prefix
    table keep the nearest prefix (``1e-18 J`` -> ``0.001 fJ``).
    """
    if not finite(x):
        return DASH
    if x == 0:
        return f"0 {unit}"
    a = abs(x)
    prefix, scale = next((p for p in PREFIXES if a >= p[1]), PREFIXES[-1])
    return f"{x / scale:.{digits}g} {prefix}{unit}"


def si_signed(x, unit: str) -> str:
    """:func:`si` with an explicit sign: ``+1.2 mW``, ``-3 ms`` (margins)."""
    if not finite(x):
        return DASH
    return ("+" if x >= 0 else "-") + si(abs(x), unit)


def si_range(low, high, unit: str, sep: str = " - ") -> str:
    """``[low - high]`` with prefixes."""
    return f"[{si(low, unit)}{sep}{si(high, unit)}]"


def si_interval(interval, unit: str, sep: str = " - ") -> str:
    """An object with ``low``/``nominal``/``high`` as ``nominal [low - high]``."""
    return f"{si(interval.nominal, unit)} {si_range(interval.low, interval.high, unit, sep)}"


def percent(share, digits: int = 1) -> str:
    """A share in [0, 1] as a percentage: ``percent(0.125) == "12.5 %"``; None -> ``-``."""
    return "-" if share is None else f"{100 * share:.{digits}f} %"


def fmt(v, digits: int = 3) -> str:
    """A number for a table cell: ``digits`` significant digits, thousands separated, scientific
    when below 1e-3 or from 1e6 on; :data:`DASH` when missing."""
    if not finite(v):
        return DASH
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1e6 or a < 1e-3:
        return f"{v:.{digits - 1}e}"
    if a >= 10 ** (digits - 1):
        return f"{v:,.0f}"
    decimals = max(0, digits - 1 - math.floor(math.log10(a)))
    return f"{v:.{decimals}f}"


def fmt_count(v) -> str:
    """A whole count with thousands separators (``12,345``); other numbers as :func:`fmt`."""
    return f"{int(v):,}" if finite(v) and float(v).is_integer() else fmt(v)


def fmt_range(low, high, scale: float = 1.0) -> str:
    """An interval as ``12.1–15.3`` (en dash) in units of ``scale``; :data:`DASH` when a bound is missing."""
    if not (finite(low) and finite(high)):
        return DASH
    return f"{fmt(low / scale)}–{fmt(high / scale)}"


def pick_scale(values: Iterable, scales: Sequence[tuple[str, float]]) -> tuple[str, float]:
    """The ``(unit, factor)`` of ``scales`` that puts the median of the finite non-zero ``values`` in [1, 1000)."""
    vals = sorted(abs(v) for v in values if finite(v) and v != 0)
    if not vals:
        return scales[0]
    med = vals[len(vals) // 2]
    for name, f in scales:
        if med / f >= 1.0:
            return name, f
    return scales[-1]


def ceil_sig(x: float, digits: int = 3) -> str:
    """``x`` rounded *up* to ``digits`` significant digits (a budget that is then sure to be enough)."""
    if x <= 0:
        return "0"
    scale = 10 ** (math.floor(math.log10(x)) - digits + 1)
    return f"{math.ceil(x / scale - 1e-9) * scale:.{digits}g}"


def floor_sig(x: float, digits: int = 3) -> str:
    """``x`` rounded *down* to ``digits`` significant digits."""
    if x <= 0:
        return "0"
    scale = 10 ** (math.floor(math.log10(x)) - digits + 1)
    return f"{math.floor(x / scale + 1e-9) * scale:.{digits}g}"


def text_table(header: Sequence[str], rows: Iterable[Sequence[str]], *, left: Iterable[int] = (0,),
               rule: bool = True) -> str:
    """A plain-text table: columns in ``left`` left-aligned, the others right-aligned, two spaces
    apart, a dashed rule under the header (``rule``), trailing blanks stripped."""
    rows = [[str(c) for c in r] for r in rows]
    header = [str(h) for h in header]
    left = set(left)
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(header)]

    def line(cells):
        return "  ".join(c.ljust(w) if i in left else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    out = [line(header)]
    if rule:
        out.append(line(["-" * w for w in widths]))
    out += [line(r) for r in rows]
    return "\n".join(out)


__all__ = ["DASH", "ENERGY_SCALES", "PREFIXES", "TIME_SCALES", "ceil_sig", "finite", "floor_sig", "fmt", "fmt_count",
           "fmt_range", "percent", "pick_scale", "si", "si_interval", "si_range", "si_signed", "text_table"]
