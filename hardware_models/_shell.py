"""The thin object shell every chip model shares: name, cached data sheet, estimate()."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache

from spikebench.core import EventCounts

from .base import Estimate, NetworkProfile, PerInference, Placement, build_estimate
from .params import ChipSheet, load_sheet


@cache
def sheet_of(chip: str) -> ChipSheet:
    return load_sheet(chip)


class ChipShell:
    """Binds a chip's constants to its two pure functions:

    ``place(profile, sheet) -> Placement`` and
    ``formula(profile, placement, per_inference, real_time) -> f(constants) -> quantities``.
    """

    name: str = ""
    core_kind: str = "cores"
    event_driven: bool = True
    place: Callable[[NetworkProfile, ChipSheet], Placement]
    formula: Callable

    @property
    def sheet(self) -> ChipSheet:
        return sheet_of(self.name)

    def mapping(self, profile: NetworkProfile) -> Placement:
        return type(self).place(profile, self.sheet)

    def point_formula(self, profile: NetworkProfile, counts: EventCounts, *, real_time: bool = False):
        """The model as a function of its constants only: ``f({name: SI value}) -> quantities``."""
        placement = self.mapping(profile)
        f, _ = type(self).formula(profile, placement, PerInference.from_counts(counts), real_time)
        return placement, f

    def estimate(self, profile: NetworkProfile, counts: EventCounts, *, real_time: bool = False,
                 constants: Mapping[str, float] | None = None) -> Estimate:
        """Energy and latency of one inference; ``constants`` (SI, by name) pins a single point."""
        if len(profile.layers) != len(counts.layers):
            raise ValueError("profile and counts describe different networks")
        placement = self.mapping(profile)
        per = PerInference.from_counts(counts)
        f, notes = type(self).formula(profile, placement, per, real_time)
        if constants is not None:
            constants = {**self.sheet.nominal_si(), **constants}
        return build_estimate(name=self.name, sheet=self.sheet, formula=f, mapping=placement,
                              core_kind=self.core_kind, profile=profile, extra_assumptions=notes,
                              constants=constants)

    def __repr__(self) -> str:
        return f"<chip model {self.name}>"
