"""Rank stability: how often the chips' energy ranking changes when their energies move within their intervals.

One sampler, :func:`ranking_stability`, counts over ``draws`` seeded draws how often the ranking of
the chips by energy differs from the nominal ranking. Two ways to draw an energy:

* :func:`rank_stability` (from counts): every constant of every feasible chip independently from a
  triangular distribution on (low, value, high) (a point mass where low == high), and the chip's total
  energy per inference evaluated at that point;
* :func:`interval_stability` (from stored estimates, which keep no constants): each chip's energy
  interval sampled the same way, independently across chips (their constants are).

Reported: the nominal ranking, the share of draws with a different full ranking, the share with a
different cheapest chip, and per neighbouring pair of the nominal ranking the share of draws in which
the pair swaps.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from spikebench.core import EventCounts

from ._shell import ChipShell
from .base import Interval, NetworkProfile


@dataclass(frozen=True, kw_only=True)
class RankStability:
    draws: int
    seed: int
    nominal_ranking: tuple[str, ...]
    ranking_changed: float  # share of draws, 0..1
    top_changed: float
    pair_swaps: tuple[tuple[str, str, float], ...]
    excluded: tuple[str, ...]  # infeasible chips, not ranked

    def to_dict(self) -> dict:
        return {"draws": self.draws, "seed": self.seed, "nominal_ranking": list(self.nominal_ranking),
                "ranking_changed": self.ranking_changed, "top_changed": self.top_changed,
                "pair_swaps": [{"cheaper": a, "dearer": b, "swapped": s} for a, b, s in self.pair_swaps],
                "excluded_infeasible": list(self.excluded)}


def triangular(rng: np.random.Generator, low: float, mode: float, high: float) -> float:
    """One draw from the triangular distribution on (low, mode, high); ``mode`` when the interval is a point."""
    return float(rng.triangular(low, mode, high)) if high > low else mode


def _draw(sheet, rng: np.random.Generator) -> dict[str, float]:
    return {name: triangular(rng, p.si("low"), p.si(), p.si("high")) for name, p in sheet.params.items()}


def ranking_stability(nominal: Mapping[str, float], sample: Callable[[np.random.Generator], Sequence[float]], *,
                      draws: int, seed: int, excluded: Sequence[str] = ()) -> RankStability:
    """Rank the chips of ``nominal`` (name -> nominal energy) by ``sample(rng)`` (their energies, in the
    same order) ``draws`` times and count how often the ranking differs from the nominal one."""
    if draws < 1:
        raise ValueError("draws must be >= 1")
    rng = np.random.default_rng(seed)
    names = list(nominal)
    order = tuple(names[i] for i in np.argsort(np.array(list(nominal.values()), dtype=float), kind="stable"))
    pos = {n: i for i, n in enumerate(names)}
    changed = top = 0
    swaps = np.zeros(max(len(order) - 1, 0))
    for _ in range(draws):
        e = np.asarray(sample(rng), dtype=float)
        ranking = tuple(names[i] for i in np.argsort(e, kind="stable"))
        changed += ranking != order
        top += bool(order) and ranking[0] != order[0]
        for k in range(len(order) - 1):
            swaps[k] += e[pos[order[k]]] > e[pos[order[k + 1]]]
    return RankStability(
        draws=draws, seed=seed, nominal_ranking=order, ranking_changed=changed / draws, top_changed=top / draws,
        pair_swaps=tuple((order[k], order[k + 1], float(swaps[k] / draws)) for k in range(len(order) - 1)),
        excluded=tuple(excluded),
    )


def rank_stability(counts: EventCounts, models: dict[str, ChipShell], *, draws: int = 1000, seed: int = 0,
                   real_time: bool = False, deployments: dict | None = None,
                   operating_points: dict | None = None, boundary: str = "chip",
                   batch: int = 1) -> RankStability:
    """Stability of the energy ranking of ``models`` on ``counts`` under their constants' intervals
    (infeasible mappings are not ranked; they are listed in ``excluded``); ``deployments``: a user's
    placement per chip name (:class:`~.base.Deployment`) in place of the model's own; ``operating_points``:
    an operating point per chip name (default: each sheet's); ``boundary``: chip, board or system (:mod:`.boundary`);
    ``batch``: inputs the CPU/GPU rows run together."""
    if draws < 1:
        raise ValueError("draws must be >= 1")
    profile = NetworkProfile.from_counts(counts)
    funcs, excluded = {}, []
    for name, model in models.items():
        point = (operating_points or {}).get(name)
        placement, f = model.point_formula(profile, counts, real_time=real_time,
                                           deployment=(deployments or {}).get(name), operating_point=point,
                                           boundary=boundary, batch=batch)
        if placement.feasible:
            funcs[name] = (model.sheet_for(profile, counts, operating_point=point, boundary=boundary), f)
        else:
            excluded.append(name)
    nominal = {n: f(sheet.nominal_si())["energy_j"] for n, (sheet, f) in funcs.items()}
    return ranking_stability(nominal, lambda rng: [f(_draw(sheet, rng))["energy_j"] for sheet, f in funcs.values()],
                             draws=draws, seed=seed, excluded=excluded)


def interval_stability(energies: Mapping[str, Interval], *, draws: int = 1000, seed: int = 0) -> RankStability:
    """Stability of the ranking of chips whose energies are only known as intervals (name -> Interval)."""
    return ranking_stability({n: iv.nominal for n, iv in energies.items()},
                             lambda rng: [triangular(rng, iv.low, iv.nominal, iv.high) for iv in energies.values()],
                             draws=draws, seed=seed)
