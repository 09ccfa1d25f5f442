"""Network records: an ordered stack of layers of spiking neurons (dense, recurrent or convolutional).

A :class:`Layer` is a synapse map feeding ``n_out`` neurons:

* **dense**: ``weight`` of shape ``(n_out, n_in)``, optionally with a dense recurrent matrix
  ``recurrent_weight`` ``(n_out, n_out)`` (kind ``recurrent``);
* **conv2d**: ``weight`` is a kernel ``(C_out, C_in / groups, kh, kw)`` over an input of shape
  ``in_shape = (C_in, H, W)``, with ``stride``, ``padding``, ``dilation`` and ``groups`` as in
  ``torch.nn.Conv2d``; ``bias`` is then one value per output channel;
* either may pool: ``pool_in`` (sum/avg pooling of the input spikes before the synapses, as Sinabs
  networks do before a convolution) and ``pool`` (sum/avg/max pooling of the currents after a
  convolution, snnTorch's ``Conv2d -> MaxPool2d -> Leaky``). Flattening is implicit: every layer's
  input and output are flat vectors in C order, so a dense layer after a conv layer reads its
  ``(C, H, W)`` output flattened exactly like ``torch.nn.Flatten``.

The synapses of conv and pooled layers are expanded once into an effective sparse map
(:mod:`spikebench.core.connectivity`), which defines their events and synapse counts.

Neurons follow snnTorch's ``Leaky`` / ``RLeaky`` / ``Synaptic`` defaults, bit for bit in float32
(see ``README.md``, "Semantics"), with ``reset = mem[t-1] > threshold`` (strict, applied one step late):

* feed-forward, subtract: ``mem[t] = (beta*mem[t-1] + I[t]) - reset*threshold``;
* feed-forward, zero:     ``mem[t] = beta*((1-reset)*mem[t-1]) + I[t]``;
* recurrent, subtract:    ``mem[t] = ((beta*mem[t-1] + I[t]) + R[t]) - reset*threshold``;
* recurrent, zero:        ``mem[t] = 0 if reset else (beta*mem[t-1] + I[t]) + R[t]`` (snnTorch
  ``RLeaky`` discards the step's input on a zero reset, unlike ``Leaky``);
* current-based (``alpha`` given; snnTorch ``Synaptic``, NIR ``CubaLIF``): ``syn[t] = alpha*syn[t-1] + I[t]``
  (``+ R[t]`` when recurrent, snnTorch ``RSynaptic``), then ``b = beta*mem[t-1] + syn[t]`` and
  ``mem[t] = b - reset*threshold`` (subtract) or ``b - b*reset`` (zero);
* integrate-and-fire (NIR ``IF``) is ``beta = 1``;
* ``spike[t] = mem[t] > threshold``; ``I[t] = synapses(spike_in[t]) + bias``;
  ``R[t] = recurrent_weight @ spike[t-1] + recurrent_bias`` (``spike[-1] = 0``).

Records are frozen and keyword-only; constructors validate and copy; the expansion is computed
once, on first use, and cached on the layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from .connectivity import Expansion, Pool2d, conv_out_hw, expand, pair
from .errors import InvalidNetworkError, UnknownNameError
from .fixed_point import IntegerNeurons

RESET_MODES = ("subtract", "zero")


def _as_vector(value, n: int, what: str, layer: str, per: str = "one per neuron") -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0 or arr.size == 1:
        arr = np.full(n, float(arr.reshape(())))
    elif arr.size == n:
        arr = arr.reshape(n)  # per-neuron values of a conv layer, shaped (C, H, W), flattened in C order
    if arr.shape != (n,):
        raise InvalidNetworkError(
            f"{layer}: {what} must be a scalar or a vector of {n} values ({per}), "
            f"got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise InvalidNetworkError(f"{layer}: {what} contains NaN or infinite values; the network is untrained or "
                                  "broken: replace them with finite numbers")
    out = arr.astype(np.float32)
    out.setflags(write=False)
    return out


def _as_matrix(value, shape: tuple[int, int] | None, what: str, layer: str, *, conv: bool = False) -> np.ndarray:
    try:
        arr = np.array(value, dtype=np.float32, copy=True)
    except (TypeError, ValueError) as exc:
        raise InvalidNetworkError(f"{layer}: {what} is not a numeric matrix ({exc})") from None
    if arr.ndim != 2 and not (conv and arr.ndim == 4):
        raise InvalidNetworkError(
            f"{layer}: {what} must be 2-D with shape (n_out, n_in)"
            + (" or a 4-D conv kernel (C_out, C_in/groups, kh, kw)" if conv else "")
            + f", got {arr.ndim}-D shape {arr.shape}"
        )
    if shape is not None and arr.shape != shape:
        raise InvalidNetworkError(f"{layer}: {what} must have shape {shape}, got {arr.shape}")
    if 0 in arr.shape:
        raise InvalidNetworkError(f"{layer}: {what} has an empty dimension {arr.shape}")
    if not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise InvalidNetworkError(
            f"{layer}: {what} contains {bad} NaN or infinite value(s); replace them with finite numbers"
        )
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, kw_only=True, eq=False)
class Layer:
    """One layer of spiking neurons: dense, recurrent (dense) or conv2d, optionally pooled.

    Attributes:
        weight: float32 ``(n_out, n_in)`` input weights, or a conv kernel ``(C_out, C_in/groups, kh, kw)``.
        recurrent_weight: float32 ``(n_out, n_out)`` recurrent weights, or ``None`` (feed-forward; dense only).
        bias: constant input current per step: float32 ``(n_out,)`` (dense; with ``pool_in`` too),
            ``(C_out,)`` per output channel (conv2d, added before ``pool`` like torch), or ``None``.
        recurrent_bias: float32 ``(n_out,)`` bias of the recurrent projection (snnTorch's
            ``RLeaky.recurrent`` is an ``nn.Linear`` with a bias by default), or ``None``.
        beta: float32 ``(n_out,)`` membrane decay per step, each in [0, 1] (scalar accepted; 1 is IF).
        alpha: float32 ``(n_out,)`` synaptic-current decay per step in [0, 1] (current-based
            neurons, snnTorch ``Synaptic`` / NIR ``CubaLIF``), or ``None`` (no current state).
        threshold: float32 ``(n_out,)`` firing threshold, each > 0 (scalar accepted).
        reset: ``"subtract"`` (snnTorch default) or ``"zero"``.
        in_shape: shape of the layer's input (``(C, H, W)`` for conv2d and for ``pool_in``; default
            ``(n_in,)`` for dense).
        stride, padding, dilation, groups: convolution geometry (ints or pairs; conv2d only).
        pool: pooling of the currents after a convolution (sum, avg or max), or ``None``.
        pool_in: sum or avg pooling of the input spikes before the synapses, or ``None``.
        weight_bits: bit width the weights are meant to be stored at on hardware, or ``None``.
        integer: the chip arithmetic of a deployed layer (:class:`~spikebench.core.fixed_point.IntegerNeurons`),
            or ``None`` (float32, snnTorch semantics). With it, ``weight`` and ``recurrent_weight`` hold
            integer mantissas, the expanded synapses must be integers too (no avg or max pooling), and
            ``beta``/``alpha``/``threshold``/``bias``/``reset`` are only the float network's nominal values.
        name: label used in counts files and reports.
    """

    weight: np.ndarray
    recurrent_weight: np.ndarray | None = None
    bias: np.ndarray | None = None
    recurrent_bias: np.ndarray | None = None
    beta: np.ndarray | float = 0.9
    alpha: np.ndarray | float | None = None
    threshold: np.ndarray | float = 1.0
    reset: str = "subtract"
    in_shape: tuple[int, ...] | None = None
    stride: tuple[int, int] | int = 1
    padding: tuple[int, int] | int = 0
    dilation: tuple[int, int] | int = 1
    groups: int = 1
    pool: Pool2d | None = None
    pool_in: Pool2d | None = None
    weight_bits: int | None = None
    integer: IntegerNeurons | None = None
    name: str = "layer"

    def __post_init__(self) -> None:
        label = f"layer {self.name!r}"
        if not isinstance(self.name, str) or not self.name:
            raise InvalidNetworkError("a layer name must be a non-empty string")
        w = _as_matrix(self.weight, None, "weight", label, conv=True)
        object.__setattr__(self, "weight", w)
        conv = w.ndim == 4
        for what in ("pool", "pool_in"):
            p = getattr(self, what)
            if p is not None and not isinstance(p, Pool2d):
                raise InvalidNetworkError(f"{label}: {what} must be a spikebench Pool2d or None, got {type(p).__name__}")
        if self.pool_in is not None and self.pool_in.kind == "max":
            raise InvalidNetworkError(f"{label}: max pooling of spikes (pool_in) is not supported: it is not a "
                                      "synaptic operation; use sum or avg pooling, or pool the currents after a conv")
        in_shape = self.in_shape
        if in_shape is not None:
            try:
                in_shape = tuple(int(v) for v in np.atleast_1d(np.asarray(in_shape)).tolist())
            except (TypeError, ValueError):
                raise InvalidNetworkError(f"{label}: in_shape must be a tuple of ints, got {self.in_shape!r}") from None
            if not in_shape or min(in_shape) < 1:
                raise InvalidNetworkError(f"{label}: in_shape must be positive sizes, got {self.in_shape!r}")
        if conv:
            if in_shape is None or len(in_shape) != 3:
                raise InvalidNetworkError(f"{label}: a conv2d layer needs in_shape=(C, H, W), got {self.in_shape!r}")
            g = self.groups
            if isinstance(g, bool) or not isinstance(g, (int, np.integer)) or g < 1:
                raise InvalidNetworkError(f"{label}: groups must be an integer >= 1, got {g!r}")
            c_out, cg = w.shape[:2]
            c_in = in_shape[0] if self.pool_in is None else in_shape[0]
            if c_out % g or c_in != cg * g:
                raise InvalidNetworkError(f"{label}: a kernel {w.shape} with groups={g} takes {cg * g} input channels "
                                          f"and needs C_out divisible by groups; the input has {c_in} channels")
            object.__setattr__(self, "groups", int(g))
            object.__setattr__(self, "stride", pair(self.stride, "stride", label, minimum=1))
            object.__setattr__(self, "padding", pair(self.padding, "padding", label, minimum=0))
            object.__setattr__(self, "dilation", pair(self.dilation, "dilation", label, minimum=1))
            if self.recurrent_weight is not None:
                raise InvalidNetworkError(f"{label}: recurrent convolutions are not supported; use a dense recurrent layer")
        else:
            if (self.stride, self.padding, self.dilation, self.groups) != (1, 0, 1, 1):
                raise InvalidNetworkError(f"{label}: stride, padding, dilation and groups apply to conv2d layers only "
                                          "(the weight is a 2-D matrix)")
            if self.pool is not None:
                raise InvalidNetworkError(f"{label}: pooling of currents (pool) follows a convolution; "
                                          "a dense layer can only pool its input (pool_in)")
            if in_shape is None:
                in_shape = (w.shape[1],)
        if self.pool_in is not None and len(in_shape) != 3:
            raise InvalidNetworkError(f"{label}: pool_in needs a (C, H, W) in_shape, got {in_shape}")
        object.__setattr__(self, "in_shape", in_shape)
        out_shape = self._shapes(label)
        n_out = int(np.prod(out_shape))
        object.__setattr__(self, "_out_shape", out_shape)
        if self.recurrent_weight is not None:
            object.__setattr__(
                self,
                "recurrent_weight",
                _as_matrix(self.recurrent_weight, (n_out, n_out), "recurrent_weight", label),
            )
        if self.bias is not None:
            if conv:
                object.__setattr__(self, "bias", _as_vector(self.bias, w.shape[0], "bias", label, "one per output channel"))
            else:
                object.__setattr__(self, "bias", _as_vector(self.bias, n_out, "bias", label))
        if self.recurrent_bias is not None:
            if self.recurrent_weight is None:
                raise InvalidNetworkError(f"{label}: recurrent_bias given but the layer has no recurrent_weight")
            object.__setattr__(self, "recurrent_bias", _as_vector(self.recurrent_bias, n_out, "recurrent_bias", label))
        beta = _as_vector(self.beta, n_out, "beta", label)
        if np.any(beta < 0) or np.any(beta > 1):
            raise InvalidNetworkError(f"{label}: beta must lie in [0, 1] (decay per step), got {beta.min()}..{beta.max()}")
        if self.alpha is not None:
            alpha = _as_vector(self.alpha, n_out, "alpha", label)
            if np.any(alpha < 0) or np.any(alpha > 1):
                raise InvalidNetworkError(f"{label}: alpha must lie in [0, 1] (synaptic decay per step), "
                                          f"got {alpha.min()}..{alpha.max()}")
            object.__setattr__(self, "alpha", alpha)
        thr = _as_vector(self.threshold, n_out, "threshold", label)
        if np.any(thr <= 0):
            raise InvalidNetworkError(f"{label}: threshold must be > 0, got minimum {thr.min()}")
        object.__setattr__(self, "beta", beta)
        object.__setattr__(self, "threshold", thr)
        if self.reset not in RESET_MODES:
            raise UnknownNameError(f"{label}: unknown reset mode {self.reset!r}; use one of {', '.join(RESET_MODES)}")
        if self.weight_bits is not None:
            if isinstance(self.weight_bits, bool) or not isinstance(self.weight_bits, (int, np.integer)) or not 1 <= int(self.weight_bits) <= 32:
                raise InvalidNetworkError(f"{label}: weight_bits must be an integer in 1..32 or None, got {self.weight_bits!r}")
            object.__setattr__(self, "weight_bits", int(self.weight_bits))
        if self.integer is not None:
            self._check_integer(label)

    def _check_integer(self, label: str) -> None:
        it = self.integer
        if not isinstance(it, IntegerNeurons):
            raise InvalidNetworkError(f"{label}: integer must be a spikebench IntegerNeurons or None, "
                                      f"got {type(it).__name__}")
        if it.n != self.n_out:
            raise InvalidNetworkError(f"{label}: integer neurons describe {it.n} neurons but the layer has {self.n_out}")
        if self.pool is not None and self.pool.kind != "sum" or self.pool_in is not None and self.pool_in.kind != "sum":
            raise InvalidNetworkError(f"{label}: an integer layer pools by sum only (avg pooling scales weights to "
                                      "fractions, max pooling is not a synaptic sum); fold the pooling into the weights")
        for what in ("weight", "recurrent_weight"):
            w = getattr(self, what)
            if w is not None and (not np.array_equal(w, np.round(w)) or float(np.max(np.abs(w))) >= 2**16):
                raise InvalidNetworkError(f"{label}: an integer layer's {what} must hold integer mantissas "
                                          "below 2**16 in magnitude")

    def _shapes(self, label: str) -> tuple[int, ...]:
        """The output shape (and checks that the weight fits the input)."""
        shape = self.in_shape
        if self.pool_in is not None:
            hp, wp = self.pool_in.out_hw(shape[1], shape[2], label)
            shape = (shape[0], hp, wp)
        w = self.weight
        if w.ndim == 4:
            ho, wo = conv_out_hw(shape[1], shape[2], w.shape[2:], self.stride, self.padding, self.dilation, label)
            shape = (w.shape[0], ho, wo)
            if self.pool is not None:
                shape = (shape[0], *self.pool.out_hw(ho, wo, label))
            return shape
        n = int(np.prod(shape))
        if w.shape[1] != n:
            what = "pooled input" if self.pool_in is not None else "input"
            raise InvalidNetworkError(f"{label}: the weight takes {w.shape[1]} inputs but the {what} has {n} values "
                                      f"(shape {shape})")
        return (int(w.shape[0]),)

    # ---- shape ----------------------------------------------------------------------------------

    @property
    def out_shape(self) -> tuple[int, ...]:
        return self._out_shape

    @property
    def n_in(self) -> int:
        return int(np.prod(self.in_shape))

    @property
    def n_out(self) -> int:
        return int(np.prod(self._out_shape))

    @property
    def recurrent(self) -> bool:
        return self.recurrent_weight is not None

    @property
    def conv(self) -> bool:
        return self.weight.ndim == 4

    @property
    def kind(self) -> str:
        return "conv2d" if self.conv else ("recurrent" if self.recurrent else "dense")

    @property
    def neuron(self) -> str:
        """``"cubalif"`` (current state), ``"if"`` (no leak, every beta 1) or ``"lif"``."""
        if self.alpha is not None:
            return "cubalif"
        return "if" if bool(np.all(self.beta == 1.0)) else "lif"

    @property
    def plain(self) -> bool:
        """A dense matrix straight onto the neurons (no conv, no pooling): the kernel's row-add path."""
        return not self.conv and self.pool_in is None

    # ---- synapses -------------------------------------------------------------------------------

    @cached_property
    def _expansion(self) -> tuple[Expansion, np.ndarray]:
        return expand(self)

    def expansion(self) -> Expansion:
        """The effective synapse map (see :mod:`spikebench.core.connectivity`), computed once."""
        return self._expansion[0]

    def neuron_bias(self) -> np.ndarray:
        """float32 ``(n_out,)``: the constant current each neuron receives per step (pooling included)."""
        if self.plain:
            return self.bias if self.bias is not None else np.zeros(self.n_out, np.float32)
        return self._expansion[1].astype(np.float32)

    @property
    def weights(self) -> int:
        """Unique non-zero weights stored (a conv kernel's taps once, however often they are shared)."""
        n = int(np.count_nonzero(self.weight))
        if self.recurrent_weight is not None:
            n += int(np.count_nonzero(self.recurrent_weight))
        return n

    @property
    def synapses(self) -> int:
        """Expanded non-zero connections (input plus recurrent): the synapses that can carry an event."""
        n = int(np.count_nonzero(self.weight)) if self.plain else self.expansion().nnz
        if self.recurrent_weight is not None:
            n += int(np.count_nonzero(self.recurrent_weight))
        return n

    def fan_out_nonzero(self) -> np.ndarray:
        """int64 ``(n_in,)``: connections leaving each presynaptic input (events per spike on it)."""
        if self.plain:
            return np.count_nonzero(self.weight, axis=0).astype(np.int64)
        return self.expansion().fan_out()

    def recurrent_fan_out_nonzero(self) -> np.ndarray:
        """int64 ``(n_out,)``: non-zero recurrent weights leaving each neuron (zeros if none)."""
        if self.recurrent_weight is None:
            return np.zeros(self.n_out, dtype=np.int64)
        return np.count_nonzero(self.recurrent_weight, axis=0).astype(np.int64)

    def geometry(self) -> dict:
        """Shape facts of the counts file (schema /2): shapes, kernel, stride, padding, dilation,
        groups, pooling; ``None`` for what does not apply."""
        conv = self.conv
        return {
            "in_shape": list(self.in_shape),
            "out_shape": list(self.out_shape),
            "kernel": list(self.weight.shape[2:]) if conv else None,
            "stride": list(self.stride) if conv else None,
            "padding": list(self.padding) if conv else None,
            "dilation": list(self.dilation) if conv else None,
            "groups": self.groups if conv else None,
            "pool": self.pool.to_dict() if self.pool is not None else None,
            "pool_in": self.pool_in.to_dict() if self.pool_in is not None else None,
        }

    def profile(self) -> dict:
        """Shape facts a chip model needs (no weights): sizes, geometry, synapses, fan-in, precision."""
        if self.plain:
            fan_in = np.count_nonzero(self.weight, axis=1)
        else:
            fan_in = self.expansion().fan_in
        if self.recurrent_weight is not None:
            fan_in = fan_in + np.count_nonzero(self.recurrent_weight, axis=1)
        return {
            "name": self.name,
            "kind": self.kind,
            "n_in": self.n_in,
            "n_out": self.n_out,
            "synapses": self.synapses,
            "fan_in_max": int(fan_in.max()),
            "weight_bits": self.weight_bits,
            "weights": self.weights,
            "neuron": self.neuron,
            **self.geometry(),
        }


@dataclass(frozen=True, kw_only=True, eq=False)
class Network:
    """An ordered stack of :class:`Layer`; layer k's spikes drive layer k+1 in the same step."""

    layers: tuple[Layer, ...]
    name: str = "network"
    metadata: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        layers = tuple(self.layers)
        if not layers:
            raise InvalidNetworkError("a network needs at least one layer")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise InvalidNetworkError(f"layers[{i}] is a {type(layer).__name__}, not a spikebench Layer")
        for i in range(1, len(layers)):
            a, b = layers[i - 1], layers[i]
            if b.n_in != a.n_out:
                raise InvalidNetworkError(
                    f"layer {b.name!r} takes {b.n_in} inputs but layer {a.name!r} has {a.n_out} neurons"
                )
            if len(a.out_shape) == 3 and len(b.in_shape) == 3 and tuple(a.out_shape) != tuple(b.in_shape):
                raise InvalidNetworkError(
                    f"layer {b.name!r} reads its input as {tuple(b.in_shape)} but layer {a.name!r} outputs "
                    f"{tuple(a.out_shape)}; only flattening between layers is supported, not reshaping"
                )
        if len({layer.integer is None for layer in layers}) > 1:
            raise InvalidNetworkError("either every layer or none has integer neurons (a network runs in one "
                                      "arithmetic); deploy the whole network on one chip")
        names = [layer.name for layer in layers]
        if len(set(names)) != len(names):
            raise InvalidNetworkError(f"layer names must be unique, got {names}")
        object.__setattr__(self, "layers", layers)
        object.__setattr__(self, "metadata", dict(self.metadata))

    @property
    def n_in(self) -> int:
        return self.layers[0].n_in

    @property
    def in_shape(self) -> tuple[int, ...]:
        """Shape of the network's input (``(C, H, W)`` when the first layer is convolutional)."""
        return tuple(self.layers[0].in_shape)

    @property
    def n_out(self) -> int:
        return self.layers[-1].n_out

    @property
    def convolutional(self) -> bool:
        return any(layer.conv or layer.pool_in is not None for layer in self.layers)

    @property
    def sizes(self) -> list[int]:
        return [self.n_in] + [layer.n_out for layer in self.layers]

    def profile(self) -> list[dict]:
        return [layer.profile() for layer in self.layers]

    def derived(self, key: str, build):
        """``build()``, computed once per ``key`` and kept with this network (a backend's prepared form): a
        network is immutable (frozen records, read-only arrays), so what is computed from it stays valid while
        it lives; one value per key, never pickled or copied with it (:meth:`__getstate__`)."""
        cache = self.__dict__.setdefault("_derived", {})
        return cache[key] if key in cache else cache.setdefault(key, build())

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "_derived"}  # rebuilt where needed

    def content_hash(self) -> str:
        """12 hex digits of SHA-256 over everything that sets the network's behaviour (structure,
        geometry, dynamics and every parameter's bytes; names and metadata excluded): two networks
        with one hash give the same spikes on the same input."""
        import hashlib
        import json

        h = hashlib.sha256(b"spikebench.network/1")
        for layer in self.layers:
            h.update(json.dumps({"kind": layer.kind, "reset": layer.reset, **layer.geometry()},
                                sort_keys=True).encode())
            for what in ("weight", "recurrent_weight", "bias", "recurrent_bias", "beta", "alpha", "threshold"):
                arr = getattr(layer, what)
                h.update(what.encode() + (b"-" if arr is None else repr(arr.shape).encode() + arr.tobytes()))
            if layer.integer is not None:  # (absent for float layers: their hashes are unchanged)
                h.update(b"integer" + layer.integer.fingerprint())
        return h.hexdigest()[:12]

    @property
    def integer(self) -> bool:
        """True when every layer runs in a chip's integer arithmetic (a deployed network)."""
        return self.layers[0].integer is not None

    @property
    def drain_steps(self) -> int:
        """Steps a simulation runs beyond its input so the last input reaches the output (sum of the
        layers' delays; 0 for float networks, whose layers pass spikes on within the step)."""
        return sum(layer.integer.delay for layer in self.layers) if self.integer else 0

    def __repr__(self) -> str:
        kinds = ",".join("C" if layer.conv else "R" if layer.recurrent else "F" for layer in self.layers)
        return f"Network(name={self.name!r}, sizes={self.sizes}, kinds={kinds})"

    # ---- construction -------------------------------------------------------------------------

    @classmethod
    def random(
        cls,
        sizes: Sequence[int] = (2312, 500, 10),
        recurrent: Sequence[bool] | None = None,
        *,
        seed: int = 0,
        beta: float = 0.9,
        threshold: float = 1.0,
        reset: str = "subtract",
        weight_mean: float | Sequence[float] = 0.0,
        weight_std: float | Sequence[float] | None = None,
        recurrent_std: float | None = None,
        connection_prob: float = 1.0,
        quantum: float | None = 2.0**-8,
        weight_bits: int | None = None,
        name: str = "random",
    ) -> Network:
        """A seeded random network for tests and benchmarks.

        ``weight_std`` defaults to ``2 / sqrt(n_in)`` per layer (enough drive to make neurons
        fire on sparse input); ``weight_mean`` and ``weight_std`` may be given per layer.
        ``connection_prob < 1`` zeroes the remaining weights (they are not synapses and count
        no events). ``quantum`` rounds every weight to a multiple of it (a power of two by
        default, so float32 sums are exact in any order and every backend gives identical
        spikes); pass ``None`` for unrounded weights.
        """
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise InvalidNetworkError(f"sizes must list at least two positive layer widths, got {sizes}")
        n_layers = len(sizes) - 1
        recurrent = [False] * n_layers if recurrent is None else [bool(r) for r in recurrent]
        if len(recurrent) != n_layers:
            raise InvalidNetworkError(f"recurrent must have one flag per layer ({n_layers}), got {len(recurrent)}")
        if not 0.0 < connection_prob <= 1.0:
            raise InvalidNetworkError(f"connection_prob must be in (0, 1], got {connection_prob}")

        def per_layer(value, default):
            if value is None:
                return [default(i) for i in range(n_layers)]
            if np.ndim(value) == 0:
                return [float(value)] * n_layers
            value = [float(v) for v in value]
            if len(value) != n_layers:
                raise InvalidNetworkError(f"expected {n_layers} per-layer values, got {len(value)}")
            return value

        means = per_layer(weight_mean, lambda i: 0.0)
        stds = per_layer(weight_std, lambda i: 2.0 / np.sqrt(sizes[i]))
        rng = np.random.default_rng(seed)

        def draw(shape, mean, std):
            w = rng.normal(mean, std, size=shape)
            if connection_prob < 1.0:
                w *= rng.random(shape) < connection_prob
            if quantum is not None:
                w = np.round(w / quantum) * quantum
            return w.astype(np.float32)

        layers = []
        for i in range(n_layers):
            n_in, n_out = sizes[i], sizes[i + 1]
            w = draw((n_out, n_in), means[i], stds[i])
            rec = None
            if recurrent[i]:
                rstd = recurrent_std if recurrent_std is not None else 1.0 / np.sqrt(n_out)
                rec = draw((n_out, n_out), 0.0, rstd)
            layers.append(Layer(weight=w, recurrent_weight=rec, beta=beta, threshold=threshold, reset=reset,
                                weight_bits=weight_bits, name=f"{'rlif' if recurrent[i] else 'lif'}{i + 1}"))
        return cls(layers=tuple(layers), name=name, metadata={"seed": int(seed)})

    # ---- interchange (nir_io.py, snntorch_io.py; heavy imports stay lazy) ---------------------
    # Each method takes exactly the options of the free function it calls.

    def to_nir(self, path) -> None:
        """Write this network as a NIR HDF5 graph (reset mode, delay and exact beta in metadata)."""
        from .nir_io import network_to_nir

        network_to_nir(self, path)

    @classmethod
    def from_nir(cls, path, *, reset: str | None = None) -> Network:
        """Read a NIR graph: chains of [SumPool2d|AvgPool2d] -> Affine/Linear/Conv2d -> [SumPool2d|AvgPool2d]
        -> [Flatten] -> LIF/IF/CubaLIF (recurrent loops allowed); ``reset`` as
        :func:`spikebench.core.nir_io.network_from_nir`."""
        from .nir_io import network_from_nir

        return network_from_nir(path, reset=reset)

    @classmethod
    def from_snntorch(cls, module, *, in_shape=None) -> Network:
        """Convert an ``nn.Sequential`` of Linear/Conv2d, pooling, Flatten/Unflatten and
        snn.Leaky/RLeaky/Synaptic/RSynaptic; ``in_shape=(C, H, W)`` for a network that starts with a
        convolution or pooling (a module does not store its input size)."""
        from .snntorch_io import network_from_snntorch

        return network_from_snntorch(module, in_shape=in_shape)

    def to_snntorch(self, device=None):
        """Build the equivalent ``nn.Sequential`` of standard torch and snnTorch modules (``init_hidden=False``)."""
        from .snntorch_io import network_to_snntorch

        return network_to_snntorch(self, device=device)
