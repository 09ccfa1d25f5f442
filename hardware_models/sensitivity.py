"""Rank stability: how often the chips' energy ranking changes when constants move within their intervals.

Each draw samples every constant independently from a triangular distribution on
(low, value, high) (a point mass where low == high), evaluates every feasible chip's total energy per
inference at that point, and ranks the chips. Reported: the nominal ranking, the share of draws with
a different full ranking, the share with a different cheapest chip, and per neighbouring pair of the
nominal ranking the share of draws in which the pair swaps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spikebench.core import EventCounts

from ._shell import ChipShell
from .base import NetworkProfile


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


def _draw(sheet, rng: np.random.Generator) -> dict[str, float]:
    out = {}
    for name, p in sheet.params.items():
        lo, mid, hi = p.si("low"), p.si(), p.si("high")
        out[name] = float(rng.triangular(lo, mid, hi)) if hi > lo else mid
    return out


def rank_stability(counts: EventCounts, models: dict[str, ChipShell], *, draws: int = 1000, seed: int = 0,
                   real_time: bool = False) -> RankStability:
    if draws < 1:
        raise ValueError("draws must be >= 1")
    profile = NetworkProfile.from_counts(counts)
    rng = np.random.default_rng(seed)
    funcs, excluded = {}, []
    for name, model in models.items():
        placement, f = model.point_formula(profile, counts, real_time=real_time)
        if placement.feasible:
            funcs[name] = (model, f)
        else:
            excluded.append(name)
    names = list(funcs)
    nominal = np.array([f(m.sheet.nominal_si())["energy_j"] for m, f in funcs.values()])
    order = tuple(names[i] for i in np.argsort(nominal, kind="stable"))
    pos = {n: i for i, n in enumerate(names)}
    changed = top = 0
    swaps = np.zeros(max(len(order) - 1, 0))
    for _ in range(draws):
        e = np.array([f(_draw(m.sheet, rng))["energy_j"] for m, f in funcs.values()])
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
