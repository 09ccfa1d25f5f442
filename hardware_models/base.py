"""Records and the shared machinery of the chip models.

* :class:`NetworkProfile` - what a chip mapping needs to know about the network (from a counts file).
* :class:`Mapping` - a chip's placement of that network: cores, chips, feasibility, reasons.
* :class:`Interval`, :class:`Estimate` - the result record, energies in joules and latency in
  seconds, per inference.
* :func:`interval_eval` - turns a model formula ``f(constants) -> {quantity: value}`` into
  low / nominal / high by moving each constant within its interval (coordinate search over the box;
  exact for formulas monotone in each constant, which all of ours are).

Energy split (the same for every chip):

* ``energy_dynamic_j``: the sum of per-event terms, each a count from the counts file times an
  energy per event (synaptic events, neuron updates, spikes, routing hops, processor cycles). It is
  linear in the counts with zero intercept: with every count zero it is exactly zero. Note that
  neuron updates are counted for every mapped neuron every step, so a network that never spikes
  still pays their dynamic energy on chips that charge them (Loihi's inactive update).
* ``energy_static_j``: static (leakage / floor) power times the time of one inference.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from spikebench.core import EventCounts

from . import regime
from .conv import ConvGeometry, PoolSpec, pool_len
from .conv import geometry as _conv_geometry
from .params import ChipSheet

if TYPE_CHECKING:  # numeric.py imports this module
    from .numeric import Deployed

DEFAULT_WEIGHT_BITS = 8


@dataclass(frozen=True, kw_only=True)
class LayerProfile:
    """Shape of one layer as a chip mapping sees it. ``*_assumed`` flags say what was defaulted.

    ``synapses`` are the expanded non-zero connections (for a conv layer every (input, neuron) pair
    joined by a non-zero effective weight; with max pooling, (input, pre-pool position) pairs).
    A conv layer (``kind`` ``"conv2d"``) also carries its geometry (shapes ``[C, H, W]``, kernel,
    stride, padding, dilation, groups, pooling) and ``weights``, the unique non-zero weights of its
    kernel. How much synapse memory a chip needs is :meth:`stored_synapses`: the expanded synapses on
    a chip without weight sharing, the kernel (per core that holds part of a channel) on one with it.
    """

    name: str
    kind: str
    n_in: int
    n_out: int
    synapses: int
    fan_in_max: int
    weight_bits: int
    synapses_assumed: bool = False
    fan_in_assumed: bool = False
    weight_bits_assumed: bool = False
    in_shape: tuple[int, ...] | None = None
    out_shape: tuple[int, ...] | None = None
    kernel: tuple[int, int] | None = None
    stride: tuple[int, int] | None = None
    padding: tuple[int, int] | None = None
    dilation: tuple[int, int] | None = None
    groups: int | None = None
    pool: PoolSpec | None = None
    pool_in: PoolSpec | None = None
    weights: int | None = None
    neuron: str | None = None
    weights_assumed: bool = False

    @property
    def axons(self) -> int:
        """Distinct presynaptic sources: inputs, plus the layer's own neurons when recurrent."""
        return self.n_in + (self.n_out if self.kind == "recurrent" else 0)

    @property
    def fan_out_mean(self) -> float:
        """Mean number of synapses per presynaptic source."""
        return self.synapses / self.axons

    # ---- convolution ----------------------------------------------------------------------------

    @property
    def is_conv(self) -> bool:
        """A conv2d layer whose geometry is known (shapes and kernel)."""
        return (self.kind == "conv2d" and self.kernel is not None and self.in_shape is not None
                and len(self.in_shape) == 3 and self.out_shape is not None and len(self.out_shape) == 3)

    def conv_geometry(self, *, fold_max: bool = False) -> ConvGeometry | None:
        """Geometry with sum/avg pooling folded into the synapses (max pooling too when ``fold_max``);
        ``None`` for a layer that is not a conv layer with known geometry."""
        if not self.is_conv:
            return None
        return _conv_geometry(in_shape=self.in_shape, out_shape=self.out_shape, kernel=self.kernel,
                             stride=self.stride, padding=self.padding, dilation=self.dilation, groups=self.groups,
                             pool=self.pool, pool_in=self.pool_in, fold_max=fold_max)

    @property
    def pool_kind(self) -> str | None:
        return None if self.pool is None else self.pool.kind

    @property
    def kernel_weights(self) -> int:
        """Unique non-zero weights stored once (conv kernel taps once; dense: the synapses)."""
        if self.weights is not None:
            return self.weights
        g = self.conv_geometry()
        return g.dense_kernel if g is not None else self.synapses

    def replicas(self, neurons_per_core: float | None) -> int:
        """Cores one output channel of a conv layer spans (each needs that channel's kernel): 1 when
        a channel's map fits one core's neurons."""
        g = self.conv_geometry()
        if g is None or not neurons_per_core:
            return 1
        return max(1, ceil_div(g.positions_out, neurons_per_core))

    def stored_synapses(self, sharing: str, *, neurons_per_core: float | None = None,
                        fold_pooling: bool = True) -> int:
        """Synapse entries a chip stores for this layer.

        ``sharing``: ``"expanded"`` (no weight sharing: every synapse, as dense layers always are),
        ``"kernel"`` (a conv kernel stored once in every core that holds part of an output
        channel: :meth:`kernel_weights` x :meth:`replicas`) or ``"border_patterns"`` (as
        ``"kernel"``, one copy of the kernel's taps per distinct border pattern of the input
        positions, see :mod:`.conv`). ``fold_pooling``: sum/avg pooling is folded into the
        synapses (the stored kernel grows to the effective kernel); False for chips that pool
        natively. Layers that are not conv layers store their expanded synapses.
        """
        if sharing == "expanded" or not self.is_conv:
            return self.synapses
        if sharing not in ("kernel", "border_patterns"):
            raise ValueError(f"unknown weight sharing {sharing!r}")
        g = self.conv_geometry()
        w = float(self.kernel_weights)
        if fold_pooling and (self.pool_in is not None or self.pool_kind in ("sum", "avg")):
            w *= g.fold_ratio
        if sharing == "border_patterns":
            w *= g.border_factor
        return int(math.ceil(w - 1e-9)) * self.replicas(neurons_per_core)

    def dense_macs(self) -> int:
        """Multiply-accumulates of one dense evaluation per step (a time-stepped CPU/GPU
        simulation): conv C_out H_conv W_conv (C_in / groups) kh kw; dense n_in n_out (the pooled
        input when ``pool_in``), plus n_out^2 when recurrent."""
        g = self.conv_geometry()
        if g is not None:
            return g.dense_macs
        n_in = self.n_in
        if self.pool_in is not None and self.in_shape is not None and len(self.in_shape) == 3:
            c, h, w = self.in_shape
            n_in = c * pool_len(h, self.pool_in.kernel[0], self.pool_in.stride[0]) * pool_len(
                w, self.pool_in.kernel[1], self.pool_in.stride[1])
        return n_in * self.n_out + (self.n_out * self.n_out if self.kind == "recurrent" else 0)

    def dense_weights(self) -> int:
        """Weights a dense evaluation reads once per step: the kernel (zeros included) of a conv
        layer, every matrix entry of a dense one."""
        g = self.conv_geometry()
        if g is not None:
            return g.dense_kernel
        return self.dense_macs()

    def pool_ops(self) -> int:
        """Operations of the layer's pooling per dense evaluation: one per window element."""
        ops = 0
        if self.pool_in is not None and self.in_shape is not None and len(self.in_shape) == 3:
            c, h, w = self.in_shape
            ops += c * pool_len(h, self.pool_in.kernel[0], self.pool_in.stride[0]) * pool_len(
                w, self.pool_in.kernel[1], self.pool_in.stride[1]) * self.pool_in.area
        if self.pool is not None and self.out_shape is not None:
            ops += math.prod(self.out_shape) * self.pool.area
        return ops


def _pair_or_none(v) -> tuple[int, int] | None:
    return None if v is None else tuple(int(x) for x in v)


def _shape_or_none(v) -> tuple[int, ...] | None:
    return None if v is None else tuple(int(x) for x in v)


@dataclass(frozen=True, kw_only=True)
class NetworkProfile:
    layers: tuple[LayerProfile, ...]

    @classmethod
    def from_counts(cls, counts: EventCounts, *, default_weight_bits: int = DEFAULT_WEIGHT_BITS) -> NetworkProfile:
        """Profile from a counts file's layers. Missing synapses -> dense (all-to-all, plus all
        recurrent pairs; a conv layer: every neuron reads its whole effective kernel); missing fan-in
        -> every source (conv: the effective kernel); missing weight_bits -> ``default_weight_bits``;
        a conv layer's missing ``weights`` -> its dense kernel. Geometry fields of schema /2 are read
        when present (``None`` for schema /1 files)."""
        out = []
        for layer in counts.layers:
            rec = layer.kind == "recurrent"
            geo = dict(
                in_shape=_shape_or_none(getattr(layer, "in_shape", None)),
                out_shape=_shape_or_none(getattr(layer, "out_shape", None)),
                kernel=_pair_or_none(getattr(layer, "kernel", None)),
                stride=_pair_or_none(getattr(layer, "stride", None)),
                padding=_pair_or_none(getattr(layer, "padding", None)),
                dilation=_pair_or_none(getattr(layer, "dilation", None)),
                groups=getattr(layer, "groups", None),
                pool=PoolSpec.of(getattr(layer, "pool", None)),
                pool_in=PoolSpec.of(getattr(layer, "pool_in", None)),
                neuron=getattr(layer, "neuron", None),
            )
            weights = getattr(layer, "weights", None)
            dense = layer.n_in * layer.n_out + (layer.n_out * layer.n_out if rec else 0)
            fan_dense = layer.n_in + (layer.n_out if rec else 0)
            probe = LayerProfile(name=layer.name, kind=layer.kind, n_in=layer.n_in, n_out=layer.n_out, synapses=0,
                                 fan_in_max=0, weight_bits=1, **geo)
            g = probe.conv_geometry(fold_max=True)
            if g is not None:  # a conv neuron reads (C_in / groups) x the effective kernel, at most
                fan_dense = (g.c_in // g.groups) * g.rows.taps * g.cols.taps
                dense = fan_dense * layer.n_out
            out.append(LayerProfile(
                name=layer.name, kind=layer.kind, n_in=layer.n_in, n_out=layer.n_out,
                synapses=dense if layer.synapses is None else max(int(layer.synapses), 0),
                fan_in_max=fan_dense if layer.fan_in_max is None else int(layer.fan_in_max),
                weight_bits=default_weight_bits if layer.weight_bits is None else int(layer.weight_bits),
                synapses_assumed=layer.synapses is None,
                fan_in_assumed=layer.fan_in_max is None,
                weight_bits_assumed=layer.weight_bits is None,
                weights=None if weights is None else int(weights),
                weights_assumed=weights is None and g is not None,
                **geo,
            ))
        return cls(layers=tuple(out))

    def assumptions(self) -> list[str]:
        notes = []
        names = [lp.name for lp in self.layers if lp.weight_bits_assumed]
        if names:
            bits = sorted({lp.weight_bits for lp in self.layers if lp.weight_bits_assumed})
            notes.append(f"weight_bits not given for {', '.join(names)}: assumed {'/'.join(map(str, bits))}-bit weights")
        names = [lp.name for lp in self.layers if lp.synapses_assumed]
        if names:
            notes.append(f"synapses not given for {', '.join(names)}: assumed dense (all-to-all) connectivity")
        names = [lp.name for lp in self.layers if lp.fan_in_assumed]
        if names:
            notes.append(f"fan_in_max not given for {', '.join(names)}: assumed every source of the layer")
        names = [lp.name for lp in self.layers if lp.weights_assumed]
        if names:
            notes.append(f"weights not given for {', '.join(names)}: assumed a dense kernel "
                         "(C_out x C_in/groups x kh x kw unique weights)")
        return notes

    @property
    def has_conv(self) -> bool:
        return any(lp.is_conv for lp in self.layers)


@dataclass(frozen=True, kw_only=True)
class PerInference:
    """Counts of one inference (totals / samples), as floats, plus per-layer values."""

    timesteps: int
    timestep_s: float
    spikes_in: float  # input spikes into the first layer
    synaptic_events: float
    neuron_updates: float
    spikes_out: float
    layer_synaptic_events: tuple[float, ...]
    layer_spikes_in: tuple[float, ...]
    layer_spikes_out: tuple[float, ...]
    layer_neuron_updates: tuple[float, ...]

    @classmethod
    def from_counts(cls, counts: EventCounts) -> PerInference:
        s = float(counts.samples)
        ls = counts.layers
        return cls(
            timesteps=counts.timesteps, timestep_s=counts.timestep_s,
            spikes_in=ls[0].spikes_in / s,
            synaptic_events=sum(x.synaptic_events for x in ls) / s,
            neuron_updates=sum(x.neuron_updates for x in ls) / s,
            spikes_out=sum(x.spikes_out for x in ls) / s,
            layer_synaptic_events=tuple(x.synaptic_events / s for x in ls),
            layer_spikes_in=tuple(x.spikes_in / s for x in ls),
            layer_spikes_out=tuple(x.spikes_out / s for x in ls),
            layer_neuron_updates=tuple(x.neuron_updates / s for x in ls),
        )


@dataclass(frozen=True, kw_only=True)
class Placement:
    """A chip's placement of a network (``cores`` in the chip's own unit, see ``core_kind``)."""

    cores: int
    chips: int
    layer_cores: tuple[int, ...]
    feasible: bool
    reasons: tuple[str, ...] = ()
    assumptions: tuple[str, ...] = ()
    extra: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Deployment:
    """How a published run was actually deployed, where a counts file cannot say it.

    A counts file describes the network and its events, not how the authors placed it: Frady et al.
    spread their k-NN layer over 32 Loihi chips for speed where a core-minimising mapping needs 5;
    BrainChip's mapper chose 117 NPs in 4 passes for AkidaNet 1.0-224. A validation case states the
    published deployment here (with its ``source``); the chip model then uses it in place of its own
    mapping. ``None`` fields keep the model's own choice.
    """

    chips: int | None = None
    layer_cores: tuple[int, ...] | None = None
    passes: int | None = None
    source: str = ""

    def __post_init__(self):
        for what in ("chips", "passes"):
            v = getattr(self, what)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
                raise ValueError(f"deployment {what} must be an integer >= 1, got {v!r}")
        if self.layer_cores is not None and (
                not self.layer_cores or any(isinstance(c, bool) or not isinstance(c, int) or c < 1
                                            for c in self.layer_cores)):
            raise ValueError(f"deployment layer_cores must be integers >= 1, got {self.layer_cores!r}")

    def describe(self) -> str:
        parts = []
        if self.chips is not None:
            parts.append(f"{self.chips} chips")
        if self.layer_cores is not None:
            parts.append(f"cores per layer {', '.join(map(str, self.layer_cores))}")
        if self.passes is not None:
            parts.append(f"{self.passes} pass{'es' if self.passes > 1 else ''}")
        return "; ".join(parts) + (f" ({self.source})" if self.source else "")


def apply_deployment(pl: Placement, dep: Deployment, profile: NetworkProfile) -> Placement:
    """``pl`` with the published deployment's chips, cores per layer and passes in place of the model's."""
    layer_cores = pl.layer_cores
    if dep.layer_cores is not None:
        if len(dep.layer_cores) != len(profile.layers):
            raise ValueError(f"deployment gives cores for {len(dep.layer_cores)} layers, the network has "
                             f"{len(profile.layers)}")
        layer_cores = tuple(dep.layer_cores)
    extra = dict(pl.extra)
    if dep.passes is not None:
        extra["passes"] = dep.passes
    return Placement(
        cores=sum(layer_cores), chips=pl.chips if dep.chips is None else dep.chips, layer_cores=layer_cores,
        feasible=pl.feasible, reasons=(*pl.reasons, f"published deployment used in place of the model's mapping: "
                                                    f"{dep.describe()}"),
        assumptions=pl.assumptions, extra=extra)


@dataclass(frozen=True, kw_only=True)
class Interval:
    """low <= nominal <= high, in the unit named by the field that holds it."""

    low: float
    nominal: float
    high: float

    def __post_init__(self):
        for v in (self.low, self.nominal, self.high):
            if not math.isfinite(v) or v < 0:
                raise ValueError(f"interval bounds must be finite and >= 0, got {self}")
        if not self.low <= self.nominal <= self.high:
            raise ValueError(f"interval not ordered: {self}")

    def to_dict(self) -> dict:
        return {"low": self.low, "nominal": self.nominal, "high": self.high}


@dataclass(frozen=True, kw_only=True)
class Estimate:
    """What one inference of a network costs on one chip (modelled).

    Energies in joules per inference at ``boundary``; latency in seconds per inference. ``cores`` is
    in the chip's unit (``core_kind``: neurocores, PEs, NPs, ...); ``chips`` is how many chips the
    mapping needs. ``reasons`` say why the mapping is infeasible or what it had to change (splitting,
    re-quantising, multi-chip); ``assumptions`` list every default the estimate relied on.
    """

    chip: str
    title: str
    boundary: str
    energy_dynamic_j: Interval
    energy_static_j: Interval
    energy_j: Interval
    latency_s: Interval
    cores: int
    core_kind: str
    chips: int
    feasible: bool
    reasons: tuple[str, ...] = ()
    assumptions: tuple[str, ...] = ()
    kind: str = "modelled"
    #: why the network is outside the range the chip's constants came from (empty: inside; see :mod:`.regime`)
    extrapolated: tuple[str, ...] = ()
    #: the intervals over the constants alone, before the interval rule widened them ((quantity, Interval)
    #: pairs; empty for a stored estimate or a single point)
    box: tuple[tuple[str, Interval], ...] = ()
    #: the factor the interval rule widened each side to at least (1: not widened)
    widened: float = 1.0

    def constants_interval(self, quantity: str) -> Interval:
        """``quantity``'s interval over the constants alone (the widened one where that is not kept)."""
        return dict(self.box).get(quantity, getattr(self, quantity))

    def to_dict(self) -> dict:
        return {
            "chip": self.chip, "title": self.title, "kind": self.kind, "per": "inference",
            "boundary": self.boundary, "feasible": self.feasible, "cores": self.cores,
            "regime": "extrapolated" if self.extrapolated else "inside",
            "extrapolated": list(self.extrapolated), "interval_widened_to": self.widened,
            "core_kind": self.core_kind, "chips": self.chips,
            "energy_dynamic_j": self.energy_dynamic_j.to_dict(),
            "energy_static_j": self.energy_static_j.to_dict(),
            "energy_j": self.energy_j.to_dict(),
            "latency_s": self.latency_s.to_dict(),
            "reasons": list(self.reasons), "assumptions": list(self.assumptions),
        }


@runtime_checkable
class ChipModel(Protocol):
    """A chip cost model: a pure function of (network profile, counts, its constants)."""

    name: str
    event_driven: bool  # False for dense time-stepped references (cost independent of activity)
    core_kind: str

    @property
    def sheet(self) -> ChipSheet: ...

    def estimate(self, profile: NetworkProfile, counts: EventCounts, *, real_time: bool = False,
                 constants: Mapping[str, float] | None = None,
                 deployment: Deployment | None = None) -> Estimate: ...

    def deploy(self, network) -> Deployed:
        """The network as this chip holds it (its numeric format; see ``numeric.py``)."""
        ...


QUANTITIES = ("energy_dynamic_j", "energy_static_j", "energy_j", "latency_s")
Formula = Callable[[Mapping[str, float]], Mapping[str, float]]


def interval_eval(formula: Formula, sheet: ChipSheet, *, passes: int = 2) -> dict[str, Interval]:
    """low / nominal / high of each quantity ``formula`` returns, over the constants' intervals.

    Coordinate search from the nominal point: for each constant in turn, try its low, value and high
    ends with the others held, keep the best; two passes. Starting from nominal makes
    low <= nominal <= high hold by construction.
    """
    nominal = sheet.nominal_si()
    base = formula(nominal)
    varying = [(k, (p.si("low"), p.si(), p.si("high"))) for k, p in sheet.params.items() if p.varies]
    out = {}
    for q in base:
        ends = []
        for sense in (-1.0, 1.0):
            point = dict(nominal)
            best = float(base[q])
            for _ in range(passes):
                for k, candidates in varying:
                    current = point[k]
                    for c in candidates:
                        if c == current:
                            continue
                        point[k] = c
                        v = float(formula(point)[q])
                        if sense * (v - best) > 0:
                            best, current = v, c
                    point[k] = current
            ends.append(best)
        nom = float(base[q])
        out[q] = Interval(low=min(ends[0], nom), nominal=nom, high=max(ends[1], nom))
    return out


def pace(t_step_compute: float, timestep_s: float, real_time: bool) -> float:
    """Time of one step: as fast as the chip computes, or held to the counts' real-time step."""
    return max(t_step_compute, timestep_s) if real_time else t_step_compute


def system_limit(pl: Placement, sheet: ChipSheet) -> Placement:
    """``pl`` made infeasible when it needs more chips than the largest real system of the chip.

    Every neuromorphic chip's sheet states ``max_chips``: the chips of the largest system the chip has
    been deployed in (a board or a machine), with its source. A mapping that needs more is not a
    system that exists, so it is ``feasible=False`` with a reason naming the limit and its source.
    Sheets without ``max_chips`` (the CPU and GPU reference rows) are left as they are.
    """
    if "max_chips" not in sheet.params:
        return pl
    limit = sheet["max_chips"]
    if pl.chips <= limit.value:
        return pl
    why = (f"needs {pl.chips:,} chips, more than the largest {sheet.title} system ({int(limit.value):,} chips; "
           f"{limit.source})")
    return Placement(cores=pl.cores, chips=pl.chips, layer_cores=pl.layer_cores, feasible=False,
                     reasons=(*pl.reasons, why), assumptions=pl.assumptions, extra=pl.extra)


def ceil_div(a: float, b: float) -> int:
    return int(math.ceil(a / b - 1e-12)) if a > 0 else 0


def mean_hops(units: int) -> float:
    """Mean Manhattan distance between two random points of a square grid of ``units`` cells
    (2/3 of the side length); 0 for a single cell. A placement assumption, not a chip constant."""
    return 0.0 if units <= 1 else (2.0 / 3.0) * math.sqrt(units)


def build_estimate(*, name: str, sheet: ChipSheet, formula: Formula, mapping: Placement, core_kind: str,
                   profile: NetworkProfile, extra_assumptions: list[str] | tuple[str, ...] = (),
                   constants: Mapping[str, float] | None = None, per: PerInference | None = None,
                   real_time: bool = False) -> Estimate:
    """The estimate record: intervals over the constants, widened by the interval rule of
    :mod:`.regime` (each side at least x1.5 from nominal inside the chip's regime, x3 outside, which
    ``extrapolated`` names; ``per`` given). A single point (``constants``) is not widened."""
    outside = regime.check(sheet.regime, regime.features(profile, per, mapping)) if per is not None else ()
    box, factor = (), 1.0
    if constants is not None:
        # a single point (sensitivity sampling): low = nominal = high at that point
        vals = formula(constants)
        vals.pop("latency_floor_s", None)
        iv = {q: Interval(low=float(vals[q]), nominal=float(vals[q]), high=float(vals[q])) for q in QUANTITIES}
    else:
        iv = interval_eval(formula, sheet)
        floor = iv.pop("latency_floor_s", None)  # a structural floor (a timer tick) a formula may state
        if per is not None:
            box = tuple((q, iv[q]) for q in QUANTITIES)
            factor = regime.FLOOR_EXTRAPOLATED if outside else regime.FLOOR_INSIDE
            iv = {q: v if (q == "latency_s" and real_time) else regime.widen(v, factor) for q, v in iv.items()}
            if floor is not None:
                lat = iv["latency_s"]
                iv["latency_s"] = Interval(low=max(lat.low, min(floor.low, lat.nominal)), nominal=lat.nominal,
                                           high=lat.high)
            iv["energy_j"] = Interval(  # the total's sides are the parts' sides (both widened the same way)
                low=min(iv["energy_j"].low, iv["energy_dynamic_j"].low + iv["energy_static_j"].low),
                nominal=iv["energy_j"].nominal,
                high=max(iv["energy_j"].high, iv["energy_dynamic_j"].high + iv["energy_static_j"].high))
    return Estimate(
        chip=name, title=sheet.title, boundary=sheet.boundary,
        energy_dynamic_j=iv["energy_dynamic_j"], energy_static_j=iv["energy_static_j"],
        energy_j=iv["energy_j"], latency_s=iv["latency_s"],
        cores=mapping.cores, core_kind=core_kind, chips=mapping.chips, feasible=mapping.feasible,
        reasons=tuple(mapping.reasons),
        assumptions=tuple(profile.assumptions()) + tuple(mapping.assumptions) + tuple(extra_assumptions),
        extrapolated=outside, box=box, widened=factor,
    )
