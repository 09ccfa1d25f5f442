"""Network records: an ordered stack of dense LIF layers.

A :class:`Layer` is a dense weight matrix ``weight`` of shape ``(n_out, n_in)`` (float32) feeding
``n_out`` leaky integrate-and-fire neurons, optionally with a dense recurrent matrix
``recurrent_weight`` of shape ``(n_out, n_out)``. The neuron dynamics are snnTorch's ``Leaky`` /
``RLeaky`` defaults, bit for bit in float32 (see ``README.md``, "Semantics"):

* ``reset = mem[t-1] > threshold`` (strict, reset applied one step late);
* feed-forward, subtract: ``mem[t] = (beta*mem[t-1] + I[t]) - reset*threshold``;
* feed-forward, zero:     ``mem[t] = beta*((1-reset)*mem[t-1]) + I[t]``;
* recurrent, subtract:    ``mem[t] = ((beta*mem[t-1] + I[t]) + R[t]) - reset*threshold``;
* recurrent, zero:        ``mem[t] = 0 if reset else (beta*mem[t-1] + I[t]) + R[t]`` (snnTorch
  ``RLeaky`` discards the step's input on a zero reset, unlike ``Leaky``);
* ``spike[t] = mem[t] > threshold``; ``I[t] = weight @ spike_in[t] + bias``;
  ``R[t] = recurrent_weight @ spike[t-1] + recurrent_bias`` (``spike[-1] = 0``).

Records are frozen and keyword-only; constructors validate and copy, never compute.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .errors import InvalidNetworkError, UnknownNameError

RESET_MODES = ("subtract", "zero")


def _as_vector(value, n: int, what: str, layer: str) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    if arr.shape != (n,):
        raise InvalidNetworkError(
            f"{layer}: {what} must be a scalar or a vector of {n} values (one per neuron), "
            f"got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise InvalidNetworkError(f"{layer}: {what} contains NaN or infinite values")
    out = arr.astype(np.float32)
    out.setflags(write=False)
    return out


def _as_matrix(value, shape: tuple[int, int] | None, what: str, layer: str) -> np.ndarray:
    try:
        arr = np.array(value, dtype=np.float32, copy=True)
    except (TypeError, ValueError) as exc:
        raise InvalidNetworkError(f"{layer}: {what} is not a numeric matrix ({exc})") from None
    if arr.ndim != 2:
        raise InvalidNetworkError(
            f"{layer}: {what} must be 2-D with shape (n_out, n_in), got {arr.ndim}-D shape {arr.shape}"
        )
    if shape is not None and arr.shape != shape:
        raise InvalidNetworkError(f"{layer}: {what} must have shape {shape}, got {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
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
    """One dense (optionally recurrent) layer of LIF neurons.

    Attributes:
        weight: float32 ``(n_out, n_in)`` input weights.
        recurrent_weight: float32 ``(n_out, n_out)`` recurrent weights, or ``None`` (feed-forward).
        bias: float32 ``(n_out,)`` constant input current per step, or ``None`` (no bias).
        recurrent_bias: float32 ``(n_out,)`` bias of the recurrent projection (snnTorch's
            ``RLeaky.recurrent`` is an ``nn.Linear`` with a bias by default), or ``None``.
        beta: float32 ``(n_out,)`` membrane decay per step, each in [0, 1] (scalar accepted).
        threshold: float32 ``(n_out,)`` firing threshold, each > 0 (scalar accepted).
        reset: ``"subtract"`` (snnTorch default) or ``"zero"``.
        weight_bits: bit width the weights are meant to be stored at on hardware, or ``None``.
        name: label used in counts files and reports.
    """

    weight: np.ndarray
    recurrent_weight: np.ndarray | None = None
    bias: np.ndarray | None = None
    recurrent_bias: np.ndarray | None = None
    beta: np.ndarray | float = 0.9
    threshold: np.ndarray | float = 1.0
    reset: str = "subtract"
    weight_bits: int | None = None
    name: str = "layer"

    def __post_init__(self) -> None:
        label = f"layer {self.name!r}"
        w = _as_matrix(self.weight, None, "weight", label)
        n_out = w.shape[0]
        object.__setattr__(self, "weight", w)
        if self.recurrent_weight is not None:
            object.__setattr__(
                self,
                "recurrent_weight",
                _as_matrix(self.recurrent_weight, (n_out, n_out), "recurrent_weight", label),
            )
        if self.bias is not None:
            object.__setattr__(self, "bias", _as_vector(self.bias, n_out, "bias", label))
        if self.recurrent_bias is not None:
            if self.recurrent_weight is None:
                raise InvalidNetworkError(f"{label}: recurrent_bias given but the layer has no recurrent_weight")
            object.__setattr__(self, "recurrent_bias", _as_vector(self.recurrent_bias, n_out, "recurrent_bias", label))
        beta = _as_vector(self.beta, n_out, "beta", label)
        if np.any(beta < 0) or np.any(beta > 1):
            raise InvalidNetworkError(f"{label}: beta must lie in [0, 1] (decay per step), got {beta.min()}..{beta.max()}")
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
        if not isinstance(self.name, str) or not self.name:
            raise InvalidNetworkError("a layer name must be a non-empty string")

    @property
    def n_in(self) -> int:
        return int(self.weight.shape[1])

    @property
    def n_out(self) -> int:
        return int(self.weight.shape[0])

    @property
    def recurrent(self) -> bool:
        return self.recurrent_weight is not None

    @property
    def kind(self) -> str:
        return "recurrent" if self.recurrent else "dense"

    @property
    def synapses(self) -> int:
        """Non-zero synapses (input plus recurrent): the synapses that can carry an event."""
        n = int(np.count_nonzero(self.weight))
        if self.recurrent_weight is not None:
            n += int(np.count_nonzero(self.recurrent_weight))
        return n

    def fan_out_nonzero(self) -> np.ndarray:
        """int64 ``(n_in,)``: non-zero weights leaving each presynaptic input (column counts)."""
        return np.count_nonzero(self.weight, axis=0).astype(np.int64)

    def recurrent_fan_out_nonzero(self) -> np.ndarray:
        """int64 ``(n_out,)``: non-zero recurrent weights leaving each neuron (zeros if none)."""
        if self.recurrent_weight is None:
            return np.zeros(self.n_out, dtype=np.int64)
        return np.count_nonzero(self.recurrent_weight, axis=0).astype(np.int64)

    def profile(self) -> dict:
        """Shape facts a chip model needs (no weights): sizes, synapses, fan-in, precision."""
        fan_in = np.count_nonzero(self.weight, axis=1)
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
            if layers[i].n_in != layers[i - 1].n_out:
                raise InvalidNetworkError(
                    f"layer {layers[i].name!r} takes {layers[i].n_in} inputs but layer "
                    f"{layers[i - 1].name!r} has {layers[i - 1].n_out} neurons"
                )
        names = [layer.name for layer in layers]
        if len(set(names)) != len(names):
            raise InvalidNetworkError(f"layer names must be unique, got {names}")
        object.__setattr__(self, "layers", layers)
        object.__setattr__(self, "metadata", dict(self.metadata))

    @property
    def n_in(self) -> int:
        return self.layers[0].n_in

    @property
    def n_out(self) -> int:
        return self.layers[-1].n_out

    @property
    def sizes(self) -> list[int]:
        return [self.n_in] + [layer.n_out for layer in self.layers]

    def profile(self) -> list[dict]:
        return [layer.profile() for layer in self.layers]

    def __repr__(self) -> str:
        kinds = ",".join("R" if layer.recurrent else "F" for layer in self.layers)
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
            layers.append(
                Layer(
                    weight=w,
                    recurrent_weight=rec,
                    beta=beta,
                    threshold=threshold,
                    reset=reset,
                    weight_bits=weight_bits,
                    name=f"{'rlif' if recurrent[i] else 'lif'}{i + 1}",
                )
            )
        return cls(layers=tuple(layers), name=name, metadata={"seed": int(seed)})

    # ---- interchange (nir_io.py, snntorch_io.py; heavy imports stay lazy) ---------------------
    # Each method takes exactly the options of the free function it calls.

    def to_nir(self, path) -> None:
        """Write this network as a NIR HDF5 graph (reset mode, delay and exact beta in metadata)."""
        from .nir_io import network_to_nir

        network_to_nir(self, path)

    @classmethod
    def from_nir(cls, path, *, reset: str | None = None) -> Network:
        """Read a NIR graph made of Affine/Linear -> LIF chains (recurrent Linear loops allowed);
        ``reset`` as :func:`spikebench.core.nir_io.network_from_nir`."""
        from .nir_io import network_from_nir

        return network_from_nir(path, reset=reset)

    @classmethod
    def from_snntorch(cls, module) -> Network:
        """Convert an ``nn.Sequential`` of ``nn.Linear`` / ``snn.Leaky`` / ``snn.RLeaky``."""
        from .snntorch_io import network_from_snntorch

        return network_from_snntorch(module)

    def to_snntorch(self, device=None):
        """Build the equivalent ``nn.Sequential`` of Linear / Leaky / RLeaky (``init_hidden=False``)."""
        from .snntorch_io import network_to_snntorch

        return network_to_snntorch(self, device=device)
