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
from .params import ChipSheet, load_sheet


@cache
def sheet_of(chip: str) -> ChipSheet:
    return load_sheet(chip)


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
    place: Callable[[NetworkProfile, ChipSheet], Placement]
    formula: Callable
    deploy_fn: Callable  # (Network) -> numeric.Deployed

    @property
    def sheet(self) -> ChipSheet:
        return sheet_of(self.name)

    def mapping(self, profile: NetworkProfile, deployment: Deployment | None = None) -> Placement:
        """The model's own placement, or the published ``deployment`` in its place (see :class:`Deployment`);
        infeasible when it needs more chips than the chip's largest real system (:func:`.base.system_limit`)."""
        placement = type(self).place(profile, self.sheet)
        if deployment is not None:
            placement = apply_deployment(placement, deployment, profile)
        return system_limit(placement, self.sheet)

    def point_formula(self, profile: NetworkProfile, counts: EventCounts, *, real_time: bool = False,
                      deployment: Deployment | None = None):
        """The model as a function of its constants only: ``f({name: SI value}) -> quantities``."""
        placement = self.mapping(profile, deployment)
        f, _ = type(self).formula(profile, placement, PerInference.from_counts(counts), real_time)
        return placement, f

    def estimate(self, profile: NetworkProfile, counts: EventCounts, *, real_time: bool = False,
                 constants: Mapping[str, float] | None = None,
                 deployment: Deployment | None = None) -> Estimate:
        """Energy and latency of one inference; ``constants`` (SI, by name) pins a single point;
        ``deployment`` replaces the model's mapping by a published one (validation cases)."""
        if len(profile.layers) != len(counts.layers):
            raise ValueError("profile and counts describe different networks")
        placement = self.mapping(profile, deployment)
        per = PerInference.from_counts(counts)
        f, notes = type(self).formula(profile, placement, per, real_time)
        if constants is not None:
            constants = {**self.sheet.nominal_si(), **constants}
        return build_estimate(name=self.name, sheet=self.sheet, formula=f, mapping=placement,
                              core_kind=self.core_kind, profile=profile, extra_assumptions=notes,
                              constants=constants)

    def deploy(self, network: Network):
        """``network`` as this chip holds it: a :class:`~.numeric.Deployed` record (quantised network and
        notes, or why the chip cannot hold it). Pure: the network is not modified."""
        return type(self).deploy_fn(network)

    def __repr__(self) -> str:
        return f"<chip model {self.name}>"
