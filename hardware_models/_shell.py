"""The thin object shell every chip model shares: name, cached data sheet, estimate(), deploy()."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache

from spikebench.core import EventCounts, Network

from .base import (
    Deployment,
    Estimate,
    NetworkProfile,
    PerInference,
    Placement,
    apply_deployment,
    build_estimate,
    system_limit,
)
from .boundary import apply as apply_boundary
from .params import ChipSheet, load_sheet


@cache
def sheet_of(chip: str, point: str | None = None) -> ChipSheet:
    """The chip's constants at operating ``point`` (None: its default)."""
    return load_sheet(chip).at(point)


class ChipShell:
    """Binds a chip's constants to its pure functions:

    ``place(profile, sheet) -> Placement``,
    ``formula(profile, placement, per_inference, real_time) -> f(constants) -> quantities`` and
    ``deploy_fn(network) -> Deployed`` (the chip's numeric format, :mod:`.numeric`).
    """

    name: str = ""
    core_kind: str = "cores"
    #: what a user's deployment may state for this chip (:mod:`.deployment_file`): passes only where the
    #: model runs a network in several passes over its hardware
    deployment_fields: tuple[str, ...] = ("chips", "layer_cores")
    event_driven: bool = True
    #: True for the dense CPU/GPU rows, which run a batch of inputs together (``estimate(batch=B)``); a
    #: neuromorphic chip streams its inputs one at a time
    batched: bool = False
    place: Callable[[NetworkProfile, ChipSheet], Placement]
    formula: Callable
    deploy_fn: Callable  # (Network) -> numeric.Deployed

    @property
    def sheet(self) -> ChipSheet:
        return sheet_of(self.name)

    def sheet_at(self, operating_point: str | None = None) -> ChipSheet:
        """The constants at ``operating_point`` (None: the default; unknown: ValueError naming the known)."""
        return sheet_of(self.name, operating_point)

    def mapping(self, profile: NetworkProfile, deployment: Deployment | None = None,
                operating_point: str | None = None) -> Placement:
        """The model's own placement, or the published ``deployment`` in its place (see :class:`Deployment`);
        infeasible when it needs more chips than the chip's largest real system (:func:`.base.system_limit`)."""
        sheet = self.sheet_at(operating_point)
        placement = type(self).place(profile, sheet)
        if deployment is not None:
            placement = apply_deployment(placement, deployment, profile)
        return system_limit(placement, sheet)

    def point_formula(self, profile: NetworkProfile, counts: EventCounts, *, real_time: bool = False,
                      deployment: Deployment | None = None, operating_point: str | None = None,
                      boundary: str = "chip", batch: int = 1):
        """The model as a function of its constants only: ``f({name: SI value}) -> quantities`` (at ``boundary``,
        whose constants :meth:`sheet_for` adds to the sheet)."""
        placement = self.mapping(profile, deployment, operating_point)
        per = PerInference.from_counts(counts)
        f, _ = (type(self).formula(profile, placement, per, real_time, batch) if type(self).batched
                else type(self).formula(profile, placement, per, real_time))
        _, f, _ = apply_boundary(self.sheet_at(operating_point), f, per, placement, boundary)
        return placement, f

    def sheet_for(self, profile: NetworkProfile, counts: EventCounts, *, operating_point: str | None = None,
                  boundary: str = "chip") -> ChipSheet:
        """The constants at ``operating_point`` with those of ``boundary`` (what :meth:`point_formula` reads)."""
        placement = self.mapping(profile, None, operating_point)
        sheet, _, _ = apply_boundary(self.sheet_at(operating_point), None, PerInference.from_counts(counts),
                                     placement, boundary)
        return sheet

    def estimate(self, profile: NetworkProfile, counts: EventCounts, *, real_time: bool = False,
                 constants: Mapping[str, float] | None = None,
                 deployment: Deployment | None = None, operating_point: str | None = None,
                 boundary: str = "chip", batch: int = 1) -> Estimate:
        """Energy and latency of one inference; ``constants`` (SI, by name) pins a single point;
        ``deployment`` replaces the model's mapping by a published one (validation cases);
        ``operating_point`` chooses one of the chip's published operating points (default: the sheet's);
        ``boundary``: ``chip`` (the model's own), ``board`` or ``system`` (:mod:`.boundary`); ``batch``: inputs
        run together (the CPU/GPU rows; a neuromorphic chip streams them one at a time, its estimate per
        inference does not change and says so)."""
        if len(profile.layers) != len(counts.layers):
            raise ValueError("profile and counts describe different networks")
        sheet = self.sheet_at(operating_point)
        placement = self.mapping(profile, deployment, operating_point)
        per = PerInference.from_counts(counts)
        if type(self).batched:
            f, notes = type(self).formula(profile, placement, per, real_time, batch)
        else:
            if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
                raise ValueError(f"batch must be an integer >= 1, got {batch!r}")
            f, notes = type(self).formula(profile, placement, per, real_time)
            if batch > 1:
                notes = [*notes, f"batch {batch}: {self.name} streams its inputs one at a time; the estimate per "
                                 "inference does not depend on the batch"]
        sheet, f, bnotes = apply_boundary(sheet, f, per, placement, boundary)
        notes = [*notes, *bnotes]
        if sheet.point is not None:
            notes = [sheet.point_line(), *notes]
        if constants is not None:
            constants = {**sheet.nominal_si(), **constants}
        return build_estimate(name=self.name, sheet=sheet, formula=f, mapping=placement,
                              core_kind=self.core_kind, profile=profile, extra_assumptions=notes,
                              constants=constants, per=per, real_time=real_time)

    def deploy(self, network: Network):
        """``network`` as this chip holds it: a :class:`~.numeric.Deployed` record (quantised network and
        notes, or why the chip cannot hold it). Pure: the network is not modified."""
        return type(self).deploy_fn(network)

    def __repr__(self) -> str:
        return f"<chip model {self.name}>"
