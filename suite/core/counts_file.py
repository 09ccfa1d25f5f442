"""Reading a counts file (``spikebench.counts/1`` and ``/2``): the JSON parse and every check of its
fields, down to each layer's geometry. The records and the counting rules live in
:mod:`spikebench.core.counts`; what a layer's fields may say (:func:`~spikebench.core.counts.dense_synapses`
and the bounds) is checked by :class:`~spikebench.core.counts.LayerCounts` itself, so records built by
hand obey it too.
"""

from __future__ import annotations

import json
import math

from .counts import (
    _LAYER_OPTIONAL,
    _LAYER_OPTIONAL_V1,
    _LAYER_REQUIRED,
    _TOP_OPTIONAL,
    _TOP_REQUIRED,
    KINDS,
    MAX_COUNT,
    MAX_SAMPLE_S,
    NEURONS,
    POOL_KINDS,
    SCHEMA,
    SCHEMA_PREFIX,
    SCHEMAS_READ,
    EventCounts,
    LayerCounts,
    _finite,
    _LayerFieldError,
    _short,
)
from .errors import FileFormatError, one_line


def read_counts_file(path) -> EventCounts:
    """Read and validate a counts file; one-line :class:`FileFormatError` naming the file and field."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        raise FileFormatError(f"{path}: no such counts file") from None
    except OSError as exc:
        raise FileFormatError(f"{path}: cannot read counts file ({exc.strerror})") from None
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except RecursionError:
        raise FileFormatError(f"{path}: JSON nested too deeply to read (a counts file is an object of layers, "
                              "a few levels deep)") from None
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError) as exc:
        raise FileFormatError(f"{path}: not valid JSON ({one_line(exc)})") from None
    return parse_counts(data, str(path))


def _reject_constant(name: str):
    raise ValueError(f"{name} is not allowed in a counts file")


def _whole(value, where: str, origin: str, *, allow_none: bool = False) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FileFormatError(f"{origin}: {where} must be a whole number, got {_short(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise FileFormatError(f"{origin}: {where} must be a finite whole number, got {value!r} (a number beyond "
                              "float64's range, such as 1e400, reads as infinite)")
    if isinstance(value, float) and not value.is_integer():
        raise FileFormatError(f"{origin}: {where} must be a whole number, got fractional {value!r}")
    value = int(value)
    if value < 0:
        raise FileFormatError(f"{origin}: {where} must be >= 0, got {value}")
    if value > MAX_COUNT:
        raise FileFormatError(f"{origin}: {where} is {_short(value)}, beyond the largest count {MAX_COUNT} (2**63 - 1)")
    return value


def _depth_exceeds(obj, limit: int) -> bool:
    """True when ``obj`` (parsed JSON) nests lists/objects deeper than ``limit``; iterative (no recursion)."""
    stack = [(obj, 1)]
    while stack:
        o, d = stack.pop()
        if isinstance(o, (dict, list)):
            if d > limit:
                return True
            stack.extend((v, d + 1) for v in (o.values() if isinstance(o, dict) else o))
    return False


#: How deep ``source`` (free-form provenance) may nest: it is written back as JSON.
MAX_SOURCE_DEPTH = 32


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
        _check_conv_shapes(g, origin, where)
    elif conv_only:
        raise FileFormatError(f"{origin}: {where} is a {kind} layer but has conv fields {', '.join(conv_only)}")
    if g["pool_in"] is not None and (g["in_shape"] is None or len(g["in_shape"]) != 3):
        raise FileFormatError(f"{origin}: {where}.pool_in needs in_shape [C, H, W]")
    return g


#: Per axis of a conv layer, output positions x kernel x pooling taps at most this: the chip mappers
#: enumerate them (``hardware_models/conv.py``); real maps are far below it.
MAX_AXIS_WORK = 10**7


def _check_conv_shapes(g: dict, origin: str, where: str) -> None:
    """The conv layer's out_shape is what its geometry gives (torch's floor-mode formulas: pool_in, then
    the convolution, then pool), and its per-axis geometry small enough to enumerate."""
    hw = []
    for axis in (0, 1):
        n = g["in_shape"][1 + axis]
        k = g["kernel"][axis]
        s, p, d = ((g[f] or (dflt, dflt))[axis] for f, dflt in (("stride", 1), ("padding", 0), ("dilation", 1)))
        qi, ti = (g["pool_in"]["kernel"][axis], g["pool_in"]["stride"][axis]) if g["pool_in"] else (1, 1)
        q, t = (g["pool"]["kernel"][axis], g["pool"]["stride"][axis]) if g["pool"] else (1, 1)
        n1 = (n - qi) // ti + 1
        span = d * (k - 1) + 1
        nc = (n1 + 2 * p - span) // s + 1
        no = (nc - q) // t + 1
        if n1 < 1 or nc < 1 or no < 1:
            raise FileFormatError(f"{origin}: {where}: the kernel {list(g['kernel'])} (with its stride, padding, dilation "
                                  f"and pooling) does not fit the input {list(g['in_shape'])}")
        if no * q * k * qi > MAX_AXIS_WORK:
            raise FileFormatError(f"{origin}: {where}: conv geometry too large to map ({no} output positions x "
                                  f"{q * k * qi} taps along one axis > {MAX_AXIS_WORK})")
        hw.append(no)
    want = [g["out_shape"][0], *hw]
    if list(g["out_shape"]) != want:
        raise FileFormatError(f"{origin}: {where}.out_shape {list(g['out_shape'])} disagrees with the layer's geometry, "
                              f"which gives {want}")


def parse_counts(data, origin: str) -> EventCounts:
    """A parsed counts document (``json.loads``) as :class:`EventCounts`; every error names ``origin`` and the field."""
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
    if isinstance(ts, bool) or not isinstance(ts, (int, float)) or not _finite(ts) or ts <= 0:
        raise FileFormatError(f"{origin}: timestep_s must be a positive number of seconds (finite), got {_short(ts)}")
    source = data.get("source", {})
    if not isinstance(source, dict):
        raise FileFormatError(f"{origin}: source must be an object, got {type(source).__name__}")
    if _depth_exceeds(source, MAX_SOURCE_DEPTH):
        raise FileFormatError(f"{origin}: source nests deeper than {MAX_SOURCE_DEPTH} levels; keep provenance flat")
    if timesteps * float(ts) > MAX_SAMPLE_S:
        raise FileFormatError(f"{origin}: timesteps x timestep_s = {timesteps * float(ts):g} s per sample exceeds "
                              f"{MAX_SAMPLE_S:g} s; give timestep_s in seconds")
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
        try:
            lc = LayerCounts(name=name, kind=kind, **vals)
        except _LayerFieldError as exc:
            raise FileFormatError(f"{origin}: {where}.{exc.field} {exc.detail}") from None
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
