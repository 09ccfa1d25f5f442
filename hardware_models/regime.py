"""Where a chip model's constants came from, and how far an estimate may be trusted outside it.

Each chip's data file states its **regime** (``[regime]`` in ``<chip>.toml``): the range of networks
its constants were fitted on or validated against (layer kinds, sizes, activity, chips, NPs ...), with
the source. An estimate for a network outside any of those ranges is flagged ``extrapolated`` and
says which feature is out and by how much.

**The interval rule** (every modelled estimate; :func:`widen`). The constants' intervals give a box
(:func:`.base.interval_eval`); on top of it, each side of an interval is at least

* x :data:`FLOOR_INSIDE` (1.5) from the nominal value inside the regime: the band the primary-evidence
  validation cases are held to, so no interval claims more than the validation shows (and none is
  one-sided: a box whose nominal value sits at one end, such as a tick-clocked latency, still gets a
  lower and an upper side);
* x :data:`FLOOR_EXTRAPOLATED` (3) outside it: the band of secondary evidence. Published tests of
  fitted models outside their fits missed by 2-6x (Akida on a small depthwise keyword-spotting
  network, reference and issue 14), so an extrapolated estimate is an order-of-magnitude statement.

A latency held to the counts' real-time step (``real_time``) is the user's choice, not a prediction,
and is not widened. A single point (``constants=``, used by the sensitivity sampling) is not widened.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

FLOOR_INSIDE = 1.5
FLOOR_EXTRAPOLATED = 3.0

#: feature -> what it measures (one inference; the range is [low, high] in the regime table)
FEATURES: Mapping[str, str] = MappingProxyType({
    "neurons": "neurons (all layers)",
    "synapses": "synapses (expanded, all layers)",
    "synaptic_events": "synaptic events per inference",
    "activity": "synaptic events per synapse per step",
    "events_per_update": "synaptic events per neuron update",
    "timesteps": "timesteps per inference",
    "chips": "chips used",
    "cores": "cores used (the chip's unit)",
    "dense_macs": "dense multiply-accumulates per inference",
    "kernel": "largest conv kernel side",
})
KINDS = ("dense", "recurrent", "conv2d", "depthwise")


@dataclass(frozen=True, kw_only=True)
class Regime:
    """The networks a model's constants came from: ``kinds`` of layers and a [low, high] per feature."""

    source: str
    kinds: tuple[str, ...] | None
    ranges: Mapping[str, tuple[float, float]]

    def describe(self) -> str:
        parts = [f"layers {', '.join(self.kinds)}"] if self.kinds else []
        parts += [f"{FEATURES[k]} {_num(lo)}-{_num(hi)}" for k, (lo, hi) in self.ranges.items()]
        return "; ".join(parts) + f" ({self.source})"


def _num(x: float) -> str:
    return f"{x:,.0f}" if x >= 10 and float(x).is_integer() else f"{x:.3g}"


def parse_regime(table, origin: str) -> Regime | None:
    """``[regime]``: ``source``, optional ``kinds`` (a list of :data:`KINDS`) and ``<feature> = [low, high]``."""
    if table is None:
        return None
    if not isinstance(table, dict) or not table.get("source"):
        raise ValueError(f"{origin}: [regime] needs a source (the cases its ranges come from)")
    kinds = table.get("kinds")
    if kinds is not None and (not isinstance(kinds, list) or not set(kinds) <= set(KINDS) or not kinds):
        raise ValueError(f"{origin}: regime kinds must be a non-empty list of {', '.join(KINDS)}, got {kinds!r}")
    ranges = {}
    for key, v in table.items():
        if key in ("source", "kinds"):
            continue
        if key not in FEATURES:
            raise ValueError(f"{origin}: regime feature {key!r} is not one of {', '.join(FEATURES)}")
        ok = (isinstance(v, list) and len(v) == 2 and all(isinstance(x, (int, float)) and not isinstance(x, bool)
                                                          and math.isfinite(x) and x >= 0 for x in v) and v[0] <= v[1])
        if not ok:
            raise ValueError(f"{origin}: regime {key} must be [low, high] with 0 <= low <= high, got {v!r}")
        ranges[key] = (float(v[0]), float(v[1]))
    return Regime(source=table["source"], kinds=None if kinds is None else tuple(kinds),
                  ranges=MappingProxyType(ranges))


def features(profile, per, placement) -> dict:
    """The regime features of one network (``profile``, per-inference counts ``per``) as placed."""
    kinds = set()
    kernel = 0
    for lp in profile.layers:
        g = lp.conv_geometry()
        if g is not None and g.groups > 1 and g.groups == g.c_in:
            kinds.add("depthwise")
        else:
            kinds.add(lp.kind if lp.kind in KINDS else "dense")
        if lp.kernel is not None:
            kernel = max(kernel, *lp.kernel)
    synapses = float(sum(lp.synapses for lp in profile.layers))
    T = max(per.timesteps, 1)
    return {
        "kinds": kinds,
        "neurons": float(sum(lp.n_out for lp in profile.layers)),
        "synapses": synapses,
        "synaptic_events": per.synaptic_events,
        "activity": per.synaptic_events / (synapses * T) if synapses else 0.0,
        "events_per_update": per.synaptic_events / per.neuron_updates if per.neuron_updates else 0.0,
        "timesteps": float(per.timesteps),
        "chips": float(placement.chips),
        "cores": float(placement.cores),
        "dense_macs": float(sum(lp.dense_macs() for lp in profile.layers) * T),
        "kernel": float(kernel),
    }


def check(regime: Regime | None, feats: dict) -> tuple[str, ...]:
    """Why the network is outside ``regime`` (one line per feature); empty inside (or without a regime)."""
    if regime is None:
        return ()
    out = []
    if regime.kinds is not None:
        extra = sorted(feats["kinds"] - set(regime.kinds))
        if extra:
            out.append(f"layer kinds {', '.join(extra)} outside the fitted {', '.join(regime.kinds)}")
    for key, (lo, hi) in regime.ranges.items():
        v = feats[key]
        if key == "kernel" and v == 0:
            continue  # no conv layer
        if v < lo * (1 - 1e-9) or v > hi * (1 + 1e-9):
            side = f"{v / hi:.3g}x the highest" if v > hi else (
                f"{lo / v:.3g}x below the lowest" if v > 0 else "below the lowest")
            out.append(f"{FEATURES[key]} {_num(v)} outside {_num(lo)}-{_num(hi)} ({side})")
    return tuple(out)


def widen(iv, factor: float):
    """``iv`` with each side at least ``factor`` from its nominal value (the interval rule above)."""
    from .base import Interval

    return Interval(low=min(iv.low, iv.nominal / factor), nominal=iv.nominal, high=max(iv.high, iv.nominal * factor))
