"""Event counts: the one definition of what a spiking network did, and its JSON interchange file.

Definitions (every backend, and any simulator writing a counts file, must follow them):

* ``spikes_in``: spikes arriving at the layer from the layer below (or the input), summed over
  samples and steps. Recurrent spikes are not included here.
* ``synaptic_events``: one presynaptic spike arriving on one synapse whose weight is non-zero.
  Recurrent synapses count; a recurrent spike is delivered at the next step, so spikes of the last
  step never reach a recurrent synapse.
* ``neuron_updates``: one neuron advanced by one step: ``samples * timesteps * n_out``.
* ``spikes_out``: spikes the layer's neurons emitted.

The JSON file (``"schema": "spikebench.counts/1"``) is documented in ``README.md``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .errors import FileFormatError, InvalidSpikesError

SCHEMA = "spikebench.counts/1"
SCHEMA_PREFIX = "spikebench.counts/"
_COUNT_FIELDS = ("spikes_in", "synaptic_events", "neuron_updates", "spikes_out")
_LAYER_REQUIRED = ("n_in", "n_out") + _COUNT_FIELDS
_LAYER_OPTIONAL = ("name", "kind", "synapses", "fan_in_max", "weight_bits")
_TOP_REQUIRED = ("schema", "samples", "timesteps", "timestep_s", "layers")
_TOP_OPTIONAL = ("source",)
KINDS = ("dense", "recurrent")


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

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("name", "kind", *_LAYER_REQUIRED, "synapses", "fan_in_max", "weight_bits")}


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



def _check_fields(obj: dict, required, optional, origin: str, where: str) -> None:
    """Every required field present and no unknown one (a typo must not pass silently)."""
    missing = [k for k in required if k not in obj]
    if missing:
        raise FileFormatError(f"{origin}: {where + ' is missing' if where else 'missing'} field(s) {', '.join(missing)}")
    unknown = sorted(set(obj) - set(required) - set(optional))
    if unknown:
        raise FileFormatError(f"{origin}: {where + ' has unknown' if where else 'unknown'} field(s) {', '.join(unknown)}; schema {SCHEMA} allows "
                              f"{', '.join((*required, *optional))}")

def _parse(data, origin: str) -> EventCounts:
    if not isinstance(data, dict):
        raise FileFormatError(f"{origin}: a counts file must be a JSON object, got {type(data).__name__}")
    schema = data.get("schema")
    if schema is None:
        raise FileFormatError(f"{origin}: missing field 'schema' (expected {SCHEMA!r})")
    if schema != SCHEMA:
        hint = " (a newer spikebench wrote it; upgrade)" if isinstance(schema, str) and schema.startswith(SCHEMA_PREFIX) else ""
        raise FileFormatError(f"{origin}: unsupported schema {schema!r}; this spikebench reads {SCHEMA!r}{hint}")
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
        _check_fields(raw, _LAYER_REQUIRED, _LAYER_OPTIONAL, origin, where)
        vals = {f: _whole(raw[f], f"{where}.{f}", origin) for f in _LAYER_REQUIRED}
        for f in ("synapses", "fan_in_max", "weight_bits"):
            vals[f] = _whole(raw.get(f), f"{where}.{f}", origin, allow_none=True)
        kind = raw.get("kind", "dense")
        if kind not in KINDS:
            raise FileFormatError(f"{origin}: {where}.kind must be one of {', '.join(KINDS)}, got {kind!r}")
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
        bound = vals["spikes_in"] * n_out + (vals["spikes_out"] * n_out if kind == "recurrent" else 0)
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
        layers.append(LayerCounts(name=name, kind=kind, **vals))
    return EventCounts(layers=tuple(layers), samples=samples, timesteps=timesteps, timestep_s=float(ts), source=dict(source))


# ---- the one counting rule, shared by every raster-producing backend ------------------------------

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
            never reach a recurrent synapse).
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
        prof = layer.profile()
        layers.append(
            LayerCounts(
                name=layer.name,
                kind=layer.kind,
                n_in=layer.n_in,
                n_out=layer.n_out,
                spikes_in=int(pre.sum()),
                synaptic_events=syn,
                neuron_updates=samples * timesteps * layer.n_out,
                spikes_out=int(out.sum()),
                synapses=prof["synapses"],
                fan_in_max=prof["fan_in_max"],
                weight_bits=layer.weight_bits,
            )
        )
        pre = out
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
