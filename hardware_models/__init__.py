"""spikebench chip cost models: what a network's counted events cost on each chip.

``CHIPS`` is the registry (a literal dict, name -> model). Every model is a pure function of
(network profile, counts, its constants): ``CHIPS[name].estimate(profile, counts)`` returns an
:class:`Estimate` with energy (dynamic, static, total) and latency per inference as low / nominal /
high. Constants live in ``<chip>.toml`` beside this module, each with unit, interval, source and
evidence grade (``spikebench chips show <chip>``). ``deploy(name, network)`` (or
``CHIPS[name].deploy(network)``) gives the network in the chip's numeric format, a :class:`Deployed`
record (:mod:`.numeric`). Imports only ``spikebench.core``.
"""

from __future__ import annotations

from spikebench.core import EventCounts, UnknownNameError

from .akida import Akida
from .base import ChipModel, Deployment, Estimate, Interval, NetworkProfile, Placement
from .loihi import Loihi
from .loihi2 import Loihi2
from .numeric import Deployed, deploy
from .params import GRADE_BANDS, GRADES, ChipSheet, Param, load_sheet
from .reference import CPU, GPU
from .spinnaker2 import SpiNNaker2
from .truenorth import TrueNorth

CHIPS: dict[str, ChipModel] = {
    "loihi": Loihi(),
    "loihi2": Loihi2(),
    "truenorth": TrueNorth(),
    "spinnaker2": SpiNNaker2(),
    "akida": Akida(),
    "cpu": CPU(),
    "gpu": GPU(),
}


def get_chip(name: str) -> ChipModel:
    try:
        return CHIPS[name]
    except KeyError:
        raise UnknownNameError(f"unknown chip {name!r}; known chips: {', '.join(CHIPS)}") from None


def resolve_chips(spec: str) -> list[str]:
    """'all' or a comma-separated list of names -> validated list of names (order kept)."""
    if spec.strip() == "all":
        return list(CHIPS)
    names = [s.strip() for s in spec.split(",") if s.strip()]
    if not names:
        raise UnknownNameError(f"no chip named in {spec!r}; known chips: {', '.join(CHIPS)}")
    for n in names:
        get_chip(n)
    return names


def estimate_all(counts: EventCounts, chips: list[str] | None = None, *, real_time: bool = False) -> list[Estimate]:
    """Estimates of one counts record on each named chip (all by default)."""
    profile = NetworkProfile.from_counts(counts)
    return [get_chip(n).estimate(profile, counts, real_time=real_time) for n in (chips or list(CHIPS))]


__all__ = [
    "CHIPS", "ChipModel", "ChipSheet", "Deployed", "Deployment", "Estimate", "GRADES", "GRADE_BANDS", "Interval",
    "NetworkProfile", "Param", "Placement", "deploy", "estimate_all", "get_chip", "load_sheet", "resolve_chips",
]
