"""Event counts: the one definition of what a spiking network did, and its JSON interchange file.

Definitions (every backend, and any simulator writing a counts file, must follow them):

* ``spikes_in``: spikes arriving at the layer from the layer below (or the input), summed over
  samples and steps. Recurrent spikes are not included here.
* ``synaptic_events``: one presynaptic spike reaching one target neuron through a non-zero weight.
  For convolutions and pooling this is the layer's effective (expanded) map
  (:mod:`spikebench.core.connectivity`): kernel positions falling outside the output map are not
  events; a max-pooled layer's targets are its pre-pool positions. Recurrent synapses count; a
  recurrent spike is delivered at the next step, so spikes of the last step never reach a
  recurrent synapse.
* ``neuron_updates``: one neuron advanced by one step: ``samples * timesteps * n_out``.
* ``spikes_out``: spikes the layer's neurons emitted.

The JSON file (``"schema": "spikebench.counts/2"``) is documented in ``README.md``. Schema /2 adds
per layer what a chip mapper needs for convolutions (shapes, kernel, stride, padding, dilation,
groups, pooling, unique weights, neuron model); files of schema /1 (dense layers only) are still
read, with those fields absent (``None``).

What a chip model is told must agree with the layer, however a record is built (file, backend, by
hand): every count a whole number in ``0..MAX_COUNT`` (the int64 counters' range, far inside what a
float64 holds, so no chip formula overflows); ``synapses`` at most the layer's dense count
(:func:`dense_synapses`) and above 0 when the layer has synaptic events; ``1 <= fan_in_max <=``
the layer's sources (0 only for a layer without synapses); ``weight_bits`` in 1..32; ``weights`` at
most the kernel (conv) or the dense count, above 0 when there are synapses. A counts file
nested deeper than Python's parser can follow is refused with one line. The file is read and checked by
:mod:`spikebench.core.counts_file`.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .errors import InvalidSpikesError

SCHEMA = "spikebench.counts/2"
SCHEMAS_READ = ("spikebench.counts/1", SCHEMA)
SCHEMA_PREFIX = "spikebench.counts/"
_COUNT_FIELDS = ("spikes_in", "synaptic_events", "neuron_updates", "spikes_out")
_LAYER_REQUIRED = ("n_in", "n_out") + _COUNT_FIELDS
_LAYER_OPTIONAL_V1 = ("name", "kind", "synapses", "fan_in_max", "weight_bits")
#: schema /2: geometry of conv and pooled layers, unique weights, neuron model
GEOMETRY_FIELDS = ("in_shape", "out_shape", "kernel", "stride", "padding", "dilation", "groups", "pool", "pool_in")
_LAYER_OPTIONAL = _LAYER_OPTIONAL_V1 + GEOMETRY_FIELDS + ("weights", "neuron")
_TOP_REQUIRED = ("schema", "samples", "timesteps", "timestep_s", "layers")
_TOP_OPTIONAL = ("source",)
KINDS = ("dense", "recurrent", "conv2d")
NEURONS = ("lif", "if", "cubalif")
POOL_KINDS = ("sum", "avg", "max")
_STATIC = ("name", "kind", "n_in", "n_out", "synapses", "fan_in_max", "weight_bits", *GEOMETRY_FIELDS, "weights",
           "neuron")
#: The largest count a record may hold: int64's maximum, what every backend's counters hold. Far inside
#: float64's range (1.8e308), so the chip formulas (products of a few counts) stay finite.
MAX_COUNT = 2**63 - 1
#: The most bits a weight may have (as :class:`~spikebench.core.network.Layer` allows).
MAX_WEIGHT_BITS = 32
#: The longest run of one sample, timesteps x timestep_s, in seconds (~3e7 years): a bound that keeps a
#: real-time latency finite, far beyond any simulation.
MAX_SAMPLE_S = 1e15


@dataclass(frozen=True, kw_only=True)
class LayerCounts:
    """Counts of one layer, summed over all samples and steps, plus its shape profile."""

    name: str
    kind: str
    n_in: int
    n_out: int
    spikes_in: int
    synaptic_events: int
    neuron_updates: int
    spikes_out: int
    synapses: int | None = None
    fan_in_max: int | None = None
    weight_bits: int | None = None
    in_shape: tuple[int, ...] | None = None
    out_shape: tuple[int, ...] | None = None
    kernel: tuple[int, int] | None = None
    stride: tuple[int, int] | None = None
    padding: tuple[int, int] | None = None
    dilation: tuple[int, int] | None = None
    groups: int | None = None
    pool: dict | None = None
    pool_in: dict | None = None
    weights: int | None = None
    neuron: str | None = None

    def __post_init__(self) -> None:
        for f in ("in_shape", "out_shape", "kernel", "stride", "padding", "dilation"):
            v = getattr(self, f)
            if v is not None:
                object.__setattr__(self, f, tuple(int(x) for x in v))
        for f in ("pool", "pool_in"):
            v = getattr(self, f)
            if v is not None:
                object.__setattr__(self, f, {"kind": str(v["kind"]), "kernel": [int(x) for x in v["kernel"]],
                                             "stride": [int(x) for x in (v.get("stride") or v["kernel"])]})
        _check_layer(self)

    @property
    def n_targets(self) -> int:
        """Targets a spike can reach per layer: the neurons, or the pre-pool positions of a max-pooled conv."""
        if self.pool is not None and self.pool.get("kind") == "max" and self.kernel is not None and self.in_shape:
            return _pre_pool_size(self)
        return self.n_out

    def to_dict(self) -> dict:
        out = {}
        for k in ("name", "kind", *_LAYER_REQUIRED, "synapses", "fan_in_max", "weight_bits", *GEOMETRY_FIELDS,
                  "weights", "neuron"):
            v = getattr(self, k)
            out[k] = list(v) if isinstance(v, tuple) else (dict(v) if isinstance(v, dict) else v)
        return out


def _pre_pool_size(layer: LayerCounts) -> int:
    """Pre-pool positions of a conv layer (C_out x conv output map), from its geometry."""
    c_in, h, w = layer.in_shape
    if layer.pool_in is not None:
        (kh, kw), (sh, sw) = layer.pool_in["kernel"], layer.pool_in["stride"]
        h, w = (h - kh) // sh + 1, (w - kw) // sw + 1
    hw = []
    for n, k, s, p, d in zip((h, w), layer.kernel, layer.stride or (1, 1), layer.padding or (0, 0),
                             layer.dilation or (1, 1)):
        hw.append((n + 2 * p - d * (k - 1) - 1) // s + 1)
    return layer.out_shape[0] * max(hw[0], 0) * max(hw[1], 0) if layer.out_shape else layer.n_out


@dataclass(frozen=True, kw_only=True)
class EventCounts:
    """Per-layer event counts of a run over ``samples`` samples of ``timesteps`` steps.

    ``timestep_s`` is the real time one step stands for (seconds); chip models use it for static
    energy and real-time ticks. ``source`` is free-form provenance (simulator, network, ...).
    """

    layers: tuple[LayerCounts, ...]
    samples: int
    timesteps: int
    timestep_s: float
    source: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        for what in ("samples", "timesteps"):
            v = getattr(self, what)
            if not _is_whole(v) or not 1 <= v <= MAX_COUNT:
                raise InvalidSpikesError(f"counts: {what} must be a whole number in 1..{MAX_COUNT}, got {v!r}")
        ts = self.timestep_s
        if isinstance(ts, bool) or not isinstance(ts, numbers.Real) or not _finite(ts) or ts <= 0:
            raise InvalidSpikesError(f"counts: timestep_s must be a positive number of seconds (finite), got {ts!r}")
        if self.timesteps * float(ts) > MAX_SAMPLE_S:
            raise InvalidSpikesError(f"counts: timesteps x timestep_s = {self.timesteps * float(ts):g} s per sample exceeds "
                                     f"{MAX_SAMPLE_S:g} s; give timestep_s in seconds")
        if not self.layers or not all(isinstance(layer, LayerCounts) for layer in self.layers):
            raise InvalidSpikesError("counts: layers must be a non-empty sequence of LayerCounts")

    # ---- totals ---------------------------------------------------------------------------------

    def total(self, what: str) -> int:
        if what not in _COUNT_FIELDS:
            raise KeyError(what)
        return int(sum(getattr(layer, what) for layer in self.layers))

    @property
    def synaptic_events(self) -> int:
        return self.total("synaptic_events")

    @property
    def neuron_updates(self) -> int:
        return self.total("neuron_updates")

    @property
    def spikes(self) -> int:
        """Spikes emitted by all layers (input spikes excluded)."""
        return self.total("spikes_out")

    def per_sample(self, what: str) -> float:
        return self.total(what) / self.samples

    def activity(self) -> list[float]:
        """Per layer: fraction of neuron updates that emitted a spike."""
        return [layer.spikes_out / layer.neuron_updates for layer in self.layers]

    def __add__(self, other: EventCounts) -> EventCounts:
        """Counts of two runs of the same network (e.g. two batches) added together."""
        if not isinstance(other, EventCounts):
            return NotImplemented
        if (self.timesteps, len(self.layers)) != (other.timesteps, len(other.layers)) or any(
            (a.n_in, a.n_out, a.kind) != (b.n_in, b.n_out, b.kind) for a, b in zip(self.layers, other.layers)
        ):
            raise ValueError("can only add counts of the same network and number of timesteps")
        layers = tuple(
            LayerCounts(**{**a.to_dict(), **{k: getattr(a, k) + getattr(b, k) for k in _COUNT_FIELDS}})
            for a, b in zip(self.layers, other.layers)
        )
        return EventCounts(layers=layers, samples=self.samples + other.samples, timesteps=self.timesteps,
                           timestep_s=self.timestep_s, source=dict(self.source))

    # ---- interchange ----------------------------------------------------------------------------

    def to_dict(self) -> dict:
        return {
            "schema": SCHEMA,
            "samples": self.samples,
            "timesteps": self.timesteps,
            "timestep_s": self.timestep_s,
            "layers": [layer.to_dict() for layer in self.layers],
            "source": dict(self.source),
        }

    @classmethod
    def from_dict(cls, data, *, origin: str = "counts") -> EventCounts:
        """Validate and build from a parsed counts document; errors name ``origin`` and the field."""
        from .counts_file import parse_counts

        return parse_counts(data, origin)

    def to_json(self, path=None, *, indent: int = 2) -> str:
        """The counts file as text; written atomically to ``path`` when given."""
        text = json.dumps(self.to_dict(), indent=indent) + "\n"
        if path is not None:
            from .fileio import atomic_write_text

            atomic_write_text(path, text)
        return text

    @classmethod
    def from_json(cls, path) -> EventCounts:
        """Read and validate a counts file (:func:`spikebench.core.counts_file.read_counts_file`)."""
        from .counts_file import read_counts_file

        return read_counts_file(path)


def _short(value) -> str:
    """``repr`` of a value, cut to 40 characters (a hostile file may hold a 4,000-digit number)."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:20]}...{text[-8:]} ({len(text)} characters)"


def _finite(v) -> bool:
    """A number float64 holds finitely (an int beyond its range, such as 10**400, is not)."""
    try:
        return math.isfinite(float(v))
    except OverflowError:
        return False


def _is_whole(v) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


# ---- what a layer's optional fields may say ------------------------------------------------------

class _LayerFieldError(InvalidSpikesError):
    """A layer field that disagrees with the layer (``field``, ``detail``); a file names it by path."""

    def __init__(self, name: str, field_: str, detail: str):
        super().__init__(f"counts: layer {name!r}: {field_} {detail}")
        self.field, self.detail = field_, detail


def _conv_taps(n: int, k: int, s: int, d: int, pool_in, pool) -> int:
    """An upper bound on the input positions along one axis that one target of a conv layer reads:
    the effective kernel (kernel taps, folded with sum/avg pooling windows) has at most ``q k q_in``
    taps, spans at most ``((q - 1) s + (k - 1) d) t_in + q_in`` positions, and reads no more than the
    ``n`` positions there are."""
    qi, ti = pool_in or (1, 1)
    q, t = pool or (1, 1)
    return max(1, min(q * k * qi, ((q - 1) * s + (k - 1) * d) * ti + qi, n))


def dense_synapses(layer: LayerCounts) -> int:
    """The most synapses ``layer`` can have: every (source, target) pair it can join.

    Dense: ``n_in n_out``; recurrent: plus ``n_out^2``; conv2d with known geometry: targets (the
    neurons, or the pre-pool positions of a max-pooled layer) x ``C_in / groups`` x the effective
    kernel's taps per axis (sum/avg pooling and input pooling folded, see :func:`_conv_taps`), at most
    ``n_in`` per target. The synapse counts of :mod:`spikebench.core.connectivity` never exceed it.
    """
    if layer.kind == "recurrent":
        return layer.n_in * layer.n_out + layer.n_out * layer.n_out
    targets = layer.n_targets
    bound = layer.n_in * targets
    if layer.kind == "conv2d" and layer.kernel is not None and layer.in_shape and len(layer.in_shape) == 3:
        c_in, h, w = layer.in_shape
        groups = layer.groups or 1
        pool = layer.pool if layer.pool is not None and layer.pool["kind"] != "max" else None
        taps = 1
        for axis, n in enumerate((h, w)):
            pin = None if layer.pool_in is None else (layer.pool_in["kernel"][axis], layer.pool_in["stride"][axis])
            pout = None if pool is None else (pool["kernel"][axis], pool["stride"][axis])
            taps *= _conv_taps(n, layer.kernel[axis], (layer.stride or (1, 1))[axis], (layer.dilation or (1, 1))[axis],
                               pin, pout)
        bound = min(bound, targets * max(1, c_in // groups) * taps)
    return bound


def _check_layer(lc: LayerCounts) -> None:
    """Every count a whole number in 0..MAX_COUNT, sizes >= 1, and the optional fields agree with the
    layer (see the module docstring); raises :class:`_LayerFieldError`."""
    name = lc.name
    for f in ("n_in", "n_out", *_COUNT_FIELDS, "synapses", "fan_in_max", "weight_bits", "weights", "groups"):
        v = getattr(lc, f)
        if v is None and f in ("synapses", "fan_in_max", "weight_bits", "weights", "groups"):
            continue
        if not _is_whole(v):
            raise _LayerFieldError(name, f, f"must be a whole number, got {_short(v)}")
        if not 0 <= v <= MAX_COUNT:
            raise _LayerFieldError(name, f, f"must be in 0..{MAX_COUNT} (2**63 - 1), got {_short(v)}")
    if lc.n_in < 1 or lc.n_out < 1:
        raise _LayerFieldError(name, "n_in" if lc.n_in < 1 else "n_out", "must be >= 1")
    if lc.weight_bits is not None and not 1 <= lc.weight_bits <= MAX_WEIGHT_BITS:
        raise _LayerFieldError(name, "weight_bits", f"must be in 1..{MAX_WEIGHT_BITS}, got {lc.weight_bits}")
    syn = lc.synapses
    if syn is not None:
        dense = dense_synapses(lc)
        if syn > dense:
            what = {"dense": "n_in x n_out", "recurrent": "n_in x n_out + n_out^2"}.get(
                lc.kind, "targets x C_in/groups x kernel taps")
            raise _LayerFieldError(name, "synapses", f"({syn}) exceeds the layer's dense count {what} = {dense}; "
                                                     "give the non-zero connections")
        if syn == 0 and lc.synaptic_events > 0:
            raise _LayerFieldError(name, "synapses", f"is 0 but the layer has {lc.synaptic_events} synaptic events "
                                                     "(an event needs a synapse); give the non-zero connections")
    wts = lc.weights
    if wts is not None:
        if lc.kind == "conv2d" and lc.kernel is not None and lc.in_shape and lc.out_shape:
            most, what = (lc.out_shape[0] * max(1, lc.in_shape[0] // (lc.groups or 1)) * lc.kernel[0] * lc.kernel[1],
                          "the kernel's C_out x C_in/groups x kh x kw")
        else:
            most, what = dense_synapses(lc), "the layer's dense count"
        if wts > most:
            raise _LayerFieldError(name, "weights", f"({wts}) exceeds {what} = {most}")
        if wts == 0 and ((syn or 0) > 0 or lc.synaptic_events > 0):
            raise _LayerFieldError(name, "weights", "is 0 but the layer has synapses or synaptic events; give its "
                                                    "non-zero weights")
    fan = lc.fan_in_max
    if fan is not None:
        sources = lc.n_in + (lc.n_out if lc.kind == "recurrent" else 0)
        if fan > sources:
            raise _LayerFieldError(name, "fan_in_max", f"({fan}) exceeds the layer's {sources} sources "
                                                       f"(n_in{' + n_out, recurrent' if lc.kind == 'recurrent' else ''})")
        # a max-pooled layer's fan-in is per neuron through its window, its synapses per pre-pool position:
        # windows that skip every connected position (a degenerate but valid layer) give fan-in 0
        max_pooled = lc.pool is not None and lc.pool["kind"] == "max"
        if fan < 1 and not max_pooled and (syn is None or syn > 0 or lc.synaptic_events > 0):
            raise _LayerFieldError(name, "fan_in_max", "must be >= 1 (0 only for a layer without synapses)")
        if syn is not None and fan > syn:
            raise _LayerFieldError(name, "fan_in_max", f"({fan}) exceeds the layer's synapses ({syn}): one neuron's "
                                                       "inputs are some of the layer's synapses")



# ---- the one counting rule, shared by every raster-producing backend ------------------------------

def layer_counts(layer, *, profile: dict | None = None, **counts) -> LayerCounts:
    """A layer's :class:`LayerCounts`: the four counts given, every static field from its profile."""
    prof = layer.profile() if profile is None else profile
    return LayerCounts(**{k: v for k, v in prof.items() if k in _STATIC}, **counts)


def count_from_activity(
    network,
    input_per_channel: np.ndarray,
    out_per_neuron: Sequence[np.ndarray],
    out_last_step_per_neuron: Sequence[np.ndarray],
    *,
    samples: int,
    timesteps: int,
    timestep_s: float,
    source: dict | None = None,
) -> EventCounts:
    """Counts from per-neuron spike totals.

    Args:
        network: the :class:`~spikebench.core.network.Network` that ran.
        input_per_channel: int ``(n_in,)`` input spikes per channel, summed over samples and steps.
        out_per_neuron: per layer, int ``(n_out,)`` spikes per neuron summed over samples and steps.
        out_last_step_per_neuron: per layer, int ``(n_out,)`` spikes at the final step only (they
            never reach a recurrent synapse, nor, in a network of integer layers whose spikes arrive
            one step later, the next layer).
    """
    layers = []
    pre = np.asarray(input_per_channel, dtype=np.int64)
    for layer, out, last in zip(network.layers, out_per_neuron, out_last_step_per_neuron, strict=True):
        out = np.asarray(out, dtype=np.int64)
        last = np.asarray(last, dtype=np.int64)
        if pre.shape != (layer.n_in,) or out.shape != (layer.n_out,) or last.shape != (layer.n_out,):
            raise InvalidSpikesError(f"layer {layer.name!r}: activity vectors do not match its shape")
        syn = int(pre @ layer.fan_out_nonzero())
        if layer.recurrent:
            syn += int((out - last) @ layer.recurrent_fan_out_nonzero())
        layers.append(layer_counts(layer, spikes_in=int(pre.sum()), synaptic_events=syn,
                                   neuron_updates=samples * timesteps * layer.n_out, spikes_out=int(out.sum())))
        pre = out - last if layer.integer is not None else out  # delayed spikes of the last step never arrive
    return EventCounts(layers=tuple(layers), samples=samples, timesteps=timesteps, timestep_s=timestep_s,
                       source=dict(source or {}))


def count_from_rasters(network, input_raster: np.ndarray, layer_rasters: Sequence[np.ndarray], *,
                       timestep_s: float, source: dict | None = None) -> EventCounts:
    """Counts from dense 0/1 rasters ``(samples, timesteps, n)``: the input and each layer's output."""
    inp = np.asarray(input_raster)
    samples, timesteps = inp.shape[0], inp.shape[1]
    return count_from_activity(
        network,
        inp.sum(axis=(0, 1), dtype=np.int64),
        [np.asarray(r).sum(axis=(0, 1), dtype=np.int64) for r in layer_rasters],
        [np.asarray(r)[:, -1, :].sum(axis=0, dtype=np.int64) for r in layer_rasters],
        samples=samples,
        timesteps=timesteps,
        timestep_s=timestep_s,
        source=source,
    )
