"""Chip parameters as data: every constant with its unit, interval, source and evidence grade.

Each chip's constants live in ``<chip>.toml`` beside this module (read with :mod:`tomllib`, never
executed). A constant is written in the unit the source uses (pJ, ns, mW, ...); :meth:`Param.si`
converts it to SI (J, s, W, Hz) for the formulas.

Intervals: ``low <= value <= high``. Where the reference gives a range or several measurements,
the TOML states ``low``/``high`` explicitly and the note says where they come from. Where it gives a
single number only, the TOML says ``band = true`` and the interval is the grade's default relative
band (:data:`GRADE_BANDS`), so that no bound is invented silently. Structural constants (cores per
chip, neurons per core, ...) have ``low == value == high``.

Sources cite entries of the package bibliography (``spikebench/core/references.bib``) as
``[@key, locator]``; a key missing there is an error when the sheet is loaded.

Grades follow ``shared/reference/hardware_calibration.md``: primary, measured-artifact, derived,
secondary, unverified.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from types import MappingProxyType

from spikebench.core.bibliography import check_keys

from .boundary import parse_boundaries
from .regime import Regime, parse_regime

GRADES = ("primary", "measured-artifact", "derived", "secondary", "unverified")

#: Default relative half-width of the interval for a single-valued constant, by evidence grade.
#: ``unverified`` is a factor of 2 either way (low = value / 2, high = 2 * value).
GRADE_BANDS: Mapping[str, float] = MappingProxyType(
    {"primary": 0.10, "measured-artifact": 0.20, "derived": 0.25, "secondary": 0.50, "unverified": 1.0}
)

#: Unit -> factor to SI. Counts and bits are dimensionless (factor 1).
UNITS: Mapping[str, float] = MappingProxyType({
    "J": 1.0, "mJ": 1e-3, "uJ": 1e-6, "nJ": 1e-9, "pJ": 1e-12, "fJ": 1e-15,
    "s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9,
    "W": 1.0, "mW": 1e-3, "uW": 1e-6,
    "Hz": 1.0, "kHz": 1e3, "MHz": 1e6, "GHz": 1e9,
    "count": 1.0, "bit": 1.0, "byte": 1.0, "KiB": 1024.0, "MB": 1e6, "GB": 1e9,
    "cycles": 1.0, "ratio": 1.0,
    "op/s": 1.0, "MAC/s": 1.0, "MAC/clock": 1.0, "J/byte": 1.0,
})


@dataclass(frozen=True, kw_only=True)
class Param:
    """One chip constant. ``value``, ``low`` and ``high`` are in ``unit``; :meth:`si` gives SI."""

    name: str
    value: float
    unit: str
    low: float
    high: float
    grade: str
    source: str
    note: str = ""

    def __post_init__(self):
        if self.unit not in UNITS:
            raise ValueError(f"parameter {self.name}: unknown unit {self.unit!r}")
        if self.grade not in GRADES:
            raise ValueError(f"parameter {self.name}: grade {self.grade!r} is not one of {', '.join(GRADES)}")
        for what in ("value", "low", "high"):
            v = getattr(self, what)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                raise ValueError(f"parameter {self.name}: {what} must be a finite number >= 0, got {v!r}")
        if not self.low <= self.value <= self.high:
            raise ValueError(f"parameter {self.name}: need low <= value <= high, got {self.low}, {self.value}, {self.high}")
        if not self.source:
            raise ValueError(f"parameter {self.name}: a source is required")

    @property
    def scale(self) -> float:
        return UNITS[self.unit]

    def si(self, which: str = "value") -> float:
        """``value``, ``low`` or ``high`` in SI units."""
        return float(getattr(self, which)) * self.scale

    @property
    def varies(self) -> bool:
        return self.high > self.low


@dataclass(frozen=True, kw_only=True)
class OperatingPoint:
    """A published operating point of a chip (a supply voltage with its clock): the constants that take
    other values there (``overrides``, each a full :class:`Param` with its own interval)."""

    name: str
    description: str
    source: str
    overrides: Mapping[str, Param]


@dataclass(frozen=True, kw_only=True)
class ChipSheet:
    """A chip's data file: identity, energy boundary and its constants, at one operating point (``point``,
    the file's default unless :meth:`at` chose another; None for chips that publish only one)."""

    chip: str
    title: str
    boundary: str
    params: Mapping[str, Param]
    notes: tuple[str, ...] = ()
    operating_points: Mapping[str, OperatingPoint] = field(default_factory=lambda: MappingProxyType({}))
    point: str | None = None
    base_params: Mapping[str, Param] | None = None  # the file's own [params], before any point's overrides
    regime: Regime | None = None  # the networks the constants came from (:mod:`.regime`)
    boundaries: Mapping = field(default_factory=lambda: MappingProxyType({}))  # board / system (:mod:`.boundary`)

    def __getitem__(self, name: str) -> Param:
        return self.params[name]

    def nominal_si(self) -> dict[str, float]:
        return {k: p.si() for k, p in self.params.items()}

    def at(self, point: str | None) -> ChipSheet:
        """This sheet at operating ``point`` (None: as it is); an unknown point is a ValueError naming the known."""
        if point is None or point == self.point:
            return self
        if point not in self.operating_points:
            known = ", ".join(self.operating_points) or "none: this chip publishes one operating point"
            raise ValueError(f"{self.chip} has no operating point {point!r}; its operating points: {known}")
        op = self.operating_points[point]
        base = self.params if self.base_params is None else self.base_params
        return ChipSheet(chip=self.chip, title=self.title, boundary=self.boundary,
                         params=MappingProxyType({**base, **op.overrides}), notes=self.notes,
                         operating_points=self.operating_points, point=point, base_params=base,
                         regime=self.regime, boundaries=self.boundaries)

    def point_line(self) -> str:
        """One line naming the operating point and its source, "" for a chip with one."""
        if self.point is None:
            return ""
        op = self.operating_points[self.point]
        others = [n for n in self.operating_points if n != self.point]
        return (f"operating point {op.name}: {op.description} ({op.source})"
                + (f"; others: {', '.join(others)}" if others else ""))


def _param_from_table(name: str, t: dict, origin: str) -> Param:
    allowed = {"value", "unit", "low", "high", "band", "grade", "source", "note"}
    unknown = set(t) - allowed
    if unknown:
        raise ValueError(f"{origin}: parameter {name} has unknown key(s) {', '.join(sorted(unknown))}")
    for key in ("value", "unit", "grade", "source"):
        if key not in t:
            raise ValueError(f"{origin}: parameter {name} is missing {key!r}")
    value = float(t["value"])
    grade = t["grade"]
    if t.get("band", False):
        if "low" in t or "high" in t:
            raise ValueError(f"{origin}: parameter {name}: give either band = true or low/high, not both")
        b = GRADE_BANDS.get(grade, 0.0)
        low, high = (value / 2.0, value * 2.0) if b >= 1.0 else (value * (1 - b), value * (1 + b))
        note = (t.get("note", "") + f" Interval: default band of grade '{grade}' (no published interval).").strip()
    else:
        low, high = float(t.get("low", value)), float(t.get("high", value))
        note = t.get("note", "")
    check_keys(t["source"], f"{origin}: parameter {name}")  # every cited key is in the package bibliography
    return Param(name=name, value=value, unit=t["unit"], low=low, high=high, grade=grade,
                 source=t["source"], note=note)


def _boundary_param(name: str, t, origin: str) -> Param:
    if not isinstance(t, dict):
        raise ValueError(f"{origin}: {name} must be a parameter table (value, unit, grade, source, ...)")
    return _param_from_table(name, t, origin)


def load_sheet(chip: str) -> ChipSheet:
    """Read and validate ``<chip>.toml`` shipped with this package."""
    origin = f"{chip}.toml"
    text = resources.files(__package__).joinpath(origin).read_text(encoding="utf-8")
    data = tomllib.loads(text)
    params = {name: _param_from_table(name, t, origin) for name, t in data.get("params", {}).items()}
    if data.get("chip") != chip:
        raise ValueError(f"{origin}: 'chip' must be {chip!r}")
    points, default = _operating_points(data.get("operating_points"), params, origin)
    if "regime" in data:
        check_keys(str(data["regime"].get("source", "")), f"{origin}: regime")
    sheet = ChipSheet(chip=chip, title=data["title"], boundary=data["boundary"],
                      params=MappingProxyType(params), notes=tuple(data.get("notes", ())),
                      operating_points=MappingProxyType(points), base_params=MappingProxyType(params),
                      regime=parse_regime(data.get("regime"), origin),
                      boundaries=MappingProxyType(parse_boundaries(data.get("boundaries"), origin, _boundary_param)))
    return sheet.at(default)


def _operating_points(table, params: dict[str, Param], origin: str) -> tuple[dict[str, OperatingPoint], str | None]:
    """``[operating_points]``: ``default = "<name>"`` and one table per point: ``description``, ``source``
    and the constants that change there, each a number (exact: a clock) or a table like a parameter's
    (``value`` with ``low``/``high`` or ``band = true``); unit, grade and note come from the parameter."""
    if not table:
        return {}, None
    default = table.get("default")
    points = {}
    for name, t in table.items():
        if name == "default":
            continue
        if not isinstance(t, dict) or "description" not in t or "source" not in t:
            raise ValueError(f"{origin}: operating point {name} needs a description and a source")
        check_keys(t["source"], f"{origin}: operating point {name}")
        overrides = {}
        for key, v in t.items():
            if key in ("description", "source"):
                continue
            if key not in params:
                raise ValueError(f"{origin}: operating point {name} sets {key}, which is not a parameter")
            base = params[key]
            entry = {"value": v} if not isinstance(v, dict) else dict(v)
            merged = {"unit": base.unit, "grade": base.grade, "source": f"{base.source} [value at operating point {name}]",
                      **({"note": base.note} if base.note else {}), **entry}
            overrides[key] = _param_from_table(key, merged, f"{origin} operating point {name}")
        points[name] = OperatingPoint(name=name, description=t["description"], source=t["source"],
                                      overrides=MappingProxyType(overrides))
    if default not in points:
        raise ValueError(f"{origin}: operating_points.default must name one of {', '.join(points)}")
    return points, default
