"""Where a command's time goes: wall-clock seconds accumulated per named phase, for one process.

``with phase("simulation (sparse-cpu)"):`` adds the block's wall time to that phase; :func:`totals`
reads them in first-use order and :func:`reset` clears them. ``make demo`` prints the breakdown. Phases
are not nested by the callers (each second is counted once), and nothing here is written to results.
"""

from __future__ import annotations

import time
from contextlib import contextmanager

_TOTALS: dict[str, float] = {}


@contextmanager
def phase(name: str):
    t0 = time.perf_counter()
    try:
        yield
    finally:
        _TOTALS[name] = _TOTALS.get(name, 0.0) + time.perf_counter() - t0


def totals() -> dict[str, float]:
    """``{phase: seconds}`` in the order each phase was first entered."""
    return dict(_TOTALS)


def reset() -> None:
    _TOTALS.clear()


def breakdown(total_s: float) -> str:
    """One line per phase (seconds and share of ``total_s``) and the rest as ``other``."""
    rows = sorted(_TOTALS.items(), key=lambda kv: -kv[1])
    rest = total_s - sum(_TOTALS.values())
    rows.append(("other (imports, start-up, printing)", max(rest, 0.0)))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"  {k:<{width}}  {v:6.2f} s  {100 * v / total_s:4.0f} %" for k, v in rows)


__all__ = ["breakdown", "phase", "reset", "totals"]
