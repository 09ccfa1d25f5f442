"""Measurement boundaries a user chooses: ``chip`` (each model's own), ``board`` and ``system``.

Published figures are taken at different boundaries (reference §4): a chip's supply rails, a board with
its floor (FPGA, regulators, interface), a whole system with its host. A chip's sheet states, in
``[boundaries.board]`` and ``[boundaries.system]``, the extra terms its sources support, each a constant with
its source and grade:

* ``board``: ``p_board``, the board's power beyond the chip's own (per chip), charged over the whole latency;
* ``system``: the board (where the sheet has one) plus **host I/O**: ``t_host_inference`` (s per inference)
  and ``t_host_value`` (s per input value sent: the input spikes or values of the first layer), added to the
  latency, with the chip's (and board's) static power charged over that time too. The host's own energy is
  not included: no host power is published for these set-ups; the estimate says so.

A chip whose sources give no figure for the chosen boundary is estimated at the largest boundary they do
support, and the estimate says which (``boundary`` names it, a reason explains).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

LEVELS = ("chip", "board", "system")
_TERMS = {"board": ("p_board",), "system": ("t_host_inference", "t_host_value")}


@dataclass(frozen=True, kw_only=True)
class BoundaryLevel:
    """A boundary beyond the chip's own: what it includes (``description``), its source, its constants."""

    name: str
    description: str
    source: str
    params: Mapping  # name -> params.Param


def parse_boundaries(table, origin: str, make_param: Callable) -> dict[str, BoundaryLevel]:
    """``[boundaries.board]`` / ``[boundaries.system]``: ``description``, ``source`` and the level's constants
    (each a full parameter table: value, unit, grade, source, low/high or band)."""
    if not table:
        return {}
    out = {}
    for name, t in table.items():
        if name not in _TERMS:
            raise ValueError(f"{origin}: boundary {name!r} is not one of {', '.join(_TERMS)}")
        if not isinstance(t, dict) or not t.get("description") or not t.get("source"):
            raise ValueError(f"{origin}: boundary {name} needs a description and a source")
        params = {}
        for key, v in t.items():
            if key in ("description", "source"):
                continue
            if key not in _TERMS[name]:
                raise ValueError(f"{origin}: boundary {name} sets {key!r}; it takes {', '.join(_TERMS[name])}")
            params[key] = make_param(key, v, f"{origin} boundary {name}")
        if not params:
            raise ValueError(f"{origin}: boundary {name} states none of {', '.join(_TERMS[name])}")
        out[name] = BoundaryLevel(name=name, description=t["description"], source=t["source"],
                                  params=MappingProxyType(params))
    return out


def check_level(level: str) -> str:
    if level not in LEVELS:
        raise ValueError(f"unknown boundary {level!r}; boundaries: {', '.join(LEVELS)}")
    return level


def apply(sheet, formula, per, placement, level: str):
    """``(sheet, formula, notes)`` at boundary ``level``: the sheet with the level's constants added and its
    boundary text replaced, the formula with the level's terms. ``chip`` returns them unchanged."""
    check_level(level)
    if level == "chip":
        return sheet, formula, []
    have = sheet.boundaries
    used = [b for b in ("board", "system") if b in have and LEVELS.index(b) <= LEVELS.index(level)]
    notes = []
    if "board" not in have and level in ("board", "system"):
        notes.append(f"{sheet.chip}: no published board figure; the board's own power is not included")
    if level == "system" and "system" not in have:
        notes.append(f"{sheet.chip}: no published host transfer rate; host I/O is not included")
    if not used:
        return dataclasses.replace(sheet, boundary=f"{sheet.boundary} (no published {level} figure: chip boundary)"), \
            formula, notes
    params = dict(sheet.params)
    for b in used:
        params.update(have[b].params)
    text = "; ".join(f"{b}: {have[b].description} ({have[b].source})" for b in used)
    if "system" in used:
        notes.append("host I/O time added to the latency; the host's own energy is not included (no host power "
                     "is published for this set-up)")
    new = dataclasses.replace(sheet, params=MappingProxyType(params), boundary=f"{sheet.boundary}; + {text}")
    values_in = per.spikes_in
    chips = placement.chips

    def f(p):
        q = dict(formula(p))
        lat = q["latency_s"]
        p_static = q["energy_static_j"] / lat if lat > 0 else 0.0
        t_io = p.get("t_host_inference", 0.0) + p.get("t_host_value", 0.0) * values_in
        lat2 = lat + t_io
        static = (p_static + chips * p.get("p_board", 0.0)) * lat2
        q.update(latency_s=lat2, energy_static_j=static, energy_j=q["energy_dynamic_j"] + static)
        if "latency_floor_s" in q:
            q["latency_floor_s"] += t_io
        return q

    return new, f, notes
