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
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .errors import FileFormatError, InvalidSpikesError

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
        return _parse(data, origin)

    def to_json(self, path=None, *, indent: int = 2) -> str:
        """The counts file as text; written atomically to ``path`` when given."""
        text = json.dumps(self.to_dict(), indent=indent) + "\n"
        if path is not None:
            from .fileio import atomic_write_text

            atomic_write_text(path, text)
        return text

    @classmethod
    def from_json(cls, path) -> EventCounts:
        """Read and validate a counts file."""
        try:
            with open(path, "rb") as fh:
                raw = fh.read()
        except FileNotFoundError:
            raise FileFormatError(f"{path}: no such counts file") from None
        except OSError as exc:
            raise FileFormatError(f"{path}: cannot read counts file ({exc.strerror})") from None
        try:
            data = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
        except (UnicodeDecodeError, json.JSONDecodeError, ValueError) as exc:
            raise FileFormatError(f"{path}: not valid JSON ({exc})") from None
        return _parse(data, str(path))


def _reject_constant(name: str):
    raise ValueError(f"{name} is not allowed in a counts file")


def _whole(value, where: str, origin: str, *, allow_none: bool = False) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FileFormatError(f"{origin}: {where} must be a whole number, got {value!r}")
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        raise FileFormatError(f"{origin}: {where} must be a whole number, got fractional {value!r}")
    value = int(value)
    if value < 0:
        raise FileFormatError(f"{origin}: {where} must be >= 0, got {value}")
    return value



def _check_fields(obj: dict, required, optional, origin: str, where: str, schema: str = SCHEMA) -> None:
    """Every required field present and no unknown one (a typo must not pass silently)."""
    missing = [k for k in required if k not in obj]
    if missing:
        raise FileFormatError(f"{origin}: {where + ' is missing' if where else 'missing'} field(s) {', '.join(missing)}")
    unknown = sorted(set(obj) - set(required) - set(optional))
    if unknown:
        raise FileFormatError(f"{origin}: {where + ' has unknown' if where else 'unknown'} field(s) {', '.join(unknown)}; schema {schema} allows "
                              f"{', '.join((*required, *optional))}")

def _ints(value, n: int | None, minimum: int, what: str, origin: str):
    """A list of ``n`` (any if None) whole numbers >= minimum, as a tuple; None stays None."""
    if value is None:
        return None
    if not isinstance(value, list) or not value or (n is not None and len(value) != n) or any(
            isinstance(v, bool) or not isinstance(v, int) or v < minimum for v in value):
        size = f"{n} " if n is not None else ""
        raise FileFormatError(f"{origin}: {what} must be a list of {size}whole numbers >= {minimum}, got {value!r}")
    return tuple(value)


def _pool(value, what: str, origin: str, kinds=POOL_KINDS):
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - {"kind", "kernel", "stride"} or "kind" not in value or "kernel" not in value:
        raise FileFormatError(f"{origin}: {what} must be an object with kind, kernel and stride, got {value!r}")
    if value["kind"] not in kinds:
        raise FileFormatError(f"{origin}: {what}.kind must be one of {', '.join(kinds)}, got {value['kind']!r}")
    kernel = _ints(value["kernel"], 2, 1, f"{what}.kernel", origin)
    stride = _ints(value.get("stride") or value["kernel"], 2, 1, f"{what}.stride", origin)
    return {"kind": value["kind"], "kernel": list(kernel), "stride": list(stride)}


def _geometry(raw: dict, kind: str, n_in: int, n_out: int, origin: str, where: str) -> dict:
    """Schema /2 geometry fields, checked against the layer's sizes and kind."""
    g = {
        "in_shape": _ints(raw.get("in_shape"), None, 1, f"{where}.in_shape", origin),
        "out_shape": _ints(raw.get("out_shape"), None, 1, f"{where}.out_shape", origin),
        "kernel": _ints(raw.get("kernel"), 2, 1, f"{where}.kernel", origin),
        "stride": _ints(raw.get("stride"), 2, 1, f"{where}.stride", origin),
        "padding": _ints(raw.get("padding"), 2, 0, f"{where}.padding", origin),
        "dilation": _ints(raw.get("dilation"), 2, 1, f"{where}.dilation", origin),
        "groups": _whole(raw.get("groups"), f"{where}.groups", origin, allow_none=True),
        "pool": _pool(raw.get("pool"), f"{where}.pool", origin),
        "pool_in": _pool(raw.get("pool_in"), f"{where}.pool_in", origin, kinds=("sum", "avg")),
        "neuron": raw.get("neuron"),
    }
    if g["neuron"] is not None and g["neuron"] not in NEURONS:
        raise FileFormatError(f"{origin}: {where}.neuron must be one of {', '.join(NEURONS)}, got {g['neuron']!r}")
    for f, n in (("in_shape", n_in), ("out_shape", n_out)):
        if g[f] is not None and math.prod(g[f]) != n:
            raise FileFormatError(f"{origin}: {where}.{f} {list(g[f])} holds {math.prod(g[f])} values but "
                                  f"{'n_in' if f == 'in_shape' else 'n_out'} is {n}")
    conv_only = [f for f in ("kernel", "stride", "padding", "dilation", "groups", "pool") if g[f] is not None]
    if kind == "conv2d":
        missing = [f for f in ("in_shape", "out_shape", "kernel") if g[f] is None]
        if missing:
            raise FileFormatError(f"{origin}: {where} is a conv2d layer but lacks {', '.join(missing)}")
        if len(g["in_shape"]) != 3 or len(g["out_shape"]) != 3:
            raise FileFormatError(f"{origin}: {where} (conv2d) needs in_shape and out_shape [C, H, W]")
        if g["groups"] is not None and (g["groups"] < 1 or g["in_shape"][0] % g["groups"] or g["out_shape"][0] % g["groups"]):
            raise FileFormatError(f"{origin}: {where}.groups ({g['groups']}) must be >= 1 and divide both channel counts")
    elif conv_only:
        raise FileFormatError(f"{origin}: {where} is a {kind} layer but has conv fields {', '.join(conv_only)}")
    if g["pool_in"] is not None and (g["in_shape"] is None or len(g["in_shape"]) != 3):
        raise FileFormatError(f"{origin}: {where}.pool_in needs in_shape [C, H, W]")
    return g


def _parse(data, origin: str) -> EventCounts:
    if not isinstance(data, dict):
        raise FileFormatError(f"{origin}: a counts file must be a JSON object, got {type(data).__name__}")
    schema = data.get("schema")
    if schema is None:
        raise FileFormatError(f"{origin}: missing field 'schema' (expected {SCHEMA!r})")
    if schema not in SCHEMAS_READ:
        hint = " (a newer spikebench wrote it; upgrade)" if isinstance(schema, str) and schema.startswith(SCHEMA_PREFIX) else ""
        raise FileFormatError(f"{origin}: unsupported schema {schema!r}; this spikebench reads "
                              f"{' and '.join(repr(x) for x in SCHEMAS_READ)}{hint}")
    layer_optional = _LAYER_OPTIONAL if schema == SCHEMA else _LAYER_OPTIONAL_V1
    _check_fields(data, _TOP_REQUIRED, _TOP_OPTIONAL, origin, "")
    samples = _whole(data["samples"], "samples", origin)
    timesteps = _whole(data["timesteps"], "timesteps", origin)
    if samples < 1 or timesteps < 1:
        raise FileFormatError(f"{origin}: samples and timesteps must be >= 1, got {samples} and {timesteps}")
    ts = data["timestep_s"]
    if isinstance(ts, bool) or not isinstance(ts, (int, float)) or not math.isfinite(ts) or ts <= 0:
        raise FileFormatError(f"{origin}: timestep_s must be a positive number of seconds, got {ts!r}")
    source = data.get("source", {})
    if not isinstance(source, dict):
        raise FileFormatError(f"{origin}: source must be an object, got {type(source).__name__}")
    layers_in = data["layers"]
    if not isinstance(layers_in, list) or not layers_in:
        raise FileFormatError(f"{origin}: layers must be a non-empty list")
    layers = []
    for k, raw in enumerate(layers_in):
        where = f"layers[{k}]"
        if not isinstance(raw, dict):
            raise FileFormatError(f"{origin}: {where} must be an object")
        _check_fields(raw, _LAYER_REQUIRED, layer_optional, origin, where, schema)
        vals = {f: _whole(raw[f], f"{where}.{f}", origin) for f in _LAYER_REQUIRED}
        for f in ("synapses", "fan_in_max", "weight_bits", "weights"):
            vals[f] = _whole(raw.get(f), f"{where}.{f}", origin, allow_none=True)
        kind = raw.get("kind", "dense")
        kinds = KINDS if schema == SCHEMA else KINDS[:2]
        if kind not in kinds:
            raise FileFormatError(f"{origin}: {where}.kind must be one of {', '.join(kinds)}, got {kind!r}"
                                  + (" (conv2d needs schema spikebench.counts/2)" if kind == "conv2d" else ""))
        vals.update(_geometry(raw, kind, vals["n_in"], vals["n_out"], origin, where))
        name = raw.get("name", f"layer{k + 1}")
        if not isinstance(name, str) or not name:
            raise FileFormatError(f"{origin}: {where}.name must be a non-empty string")
        n_in, n_out = vals["n_in"], vals["n_out"]
        if n_in < 1 or n_out < 1:
            raise FileFormatError(f"{origin}: {where} needs n_in and n_out >= 1")
        expected_updates = samples * timesteps * n_out
        if vals["neuron_updates"] != expected_updates:
            raise FileFormatError(
                f"{origin}: {where}.neuron_updates is {vals['neuron_updates']} but samples x timesteps x n_out "
                f"= {expected_updates} (every neuron is updated every step)"
            )
        if vals["spikes_out"] > expected_updates:
            raise FileFormatError(f"{origin}: {where}.spikes_out ({vals['spikes_out']}) exceeds neuron_updates ({expected_updates})")
        if vals["spikes_in"] > samples * timesteps * n_in:
            raise FileFormatError(f"{origin}: {where}.spikes_in ({vals['spikes_in']}) exceeds samples x timesteps x n_in")
        lc = LayerCounts(name=name, kind=kind, **vals)
        bound = vals["spikes_in"] * lc.n_targets + (vals["spikes_out"] * n_out if kind == "recurrent" else 0)
        if vals["synaptic_events"] > bound:
            raise FileFormatError(
                f"{origin}: {where}.synaptic_events ({vals['synaptic_events']}) exceeds spikes x fan-out ({bound})"
            )
        if k:
            prev = layers[-1]
            if n_in != prev.n_out:
                raise FileFormatError(f"{origin}: {where}.n_in ({n_in}) differs from layers[{k - 1}].n_out ({prev.n_out})")
            if vals["spikes_in"] != prev.spikes_out:
                raise FileFormatError(
                    f"{origin}: {where}.spikes_in ({vals['spikes_in']}) differs from layers[{k - 1}].spikes_out "
                    f"({prev.spikes_out}); layer k's input is layer k-1's output"
                )
        layers.append(lc)
    return EventCounts(layers=tuple(layers), samples=samples, timesteps=timesteps, timestep_s=float(ts), source=dict(source))


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
