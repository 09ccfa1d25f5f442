"""Geometry of convolution and pooling, and the one expansion of a layer into its synapses.

A layer's synapses are a linear map from its input spikes (flattened, C-order ``(C, H, W)`` like
``torch.flatten``) to its neurons' currents, built from up to three stages::

    [pool_in: sum/avg pooling of the input]  ->  dense matrix | conv2d  ->  [pool: sum/avg/max of the currents]

Sum and average pooling are linear, so they fold into one **effective matrix** ``E`` (neurons x
inputs): ``E = P_out @ C @ P_in``. Its non-zero entries are the layer's synapses (expanded
connections); a spike on input ``i`` is one synaptic event per non-zero entry of column ``i``
(kernel positions falling outside the output map are not entries, so they are never events).
Max pooling is not linear: it needs every pre-pool current, so for a max-pooled layer ``E`` maps
inputs to the pre-pool positions (``C @ P_in``), events are counted there, and the neuron's current
is the maximum over its pooling window (:attr:`Expansion.pool_index`).

The effective weights are computed in float64 and rounded once to float32; with dyadic weights
(multiples of a power of two, the regime in which simulators agree bit for bit) and power-of-two
pooling windows that is exact, and so equal to any order of summation torch uses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import InvalidNetworkError

POOL_KINDS = ("sum", "avg", "max")
#: Above this many expanded connections a layer is refused (it would need > ~5 GB as a sparse map).
MAX_EXPANDED = 400_000_000


def pair(value, what: str, where: str, *, minimum: int) -> tuple[int, int]:
    """``(a, b)`` from an int or a pair of ints, each >= ``minimum``."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (int(value), int(value))
    try:
        a, b = (int(v) for v in value)
        ok = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value)
    except (TypeError, ValueError):
        ok = False
    if not ok or a < minimum or b < minimum:
        raise InvalidNetworkError(f"{where}: {what} must be an integer or a pair of integers >= {minimum}, got {value!r}")
    return a, b


@dataclass(frozen=True)
class Pool2d:
    """2-D pooling without padding (floor mode): ``kind`` ``"sum"``, ``"avg"`` or ``"max"``.

    ``stride`` defaults to ``kernel`` (non-overlapping windows, torch's and NIR's default).
    """

    kind: str
    kernel: tuple[int, int] | int
    stride: tuple[int, int] | int | None = None

    def __post_init__(self) -> None:
        if self.kind not in POOL_KINDS:
            raise InvalidNetworkError(f"unknown pooling kind {self.kind!r}; use one of {', '.join(POOL_KINDS)}")
        k = pair(self.kernel, "pooling kernel", "pooling", minimum=1)
        s = k if self.stride is None else pair(self.stride, "pooling stride", "pooling", minimum=1)
        object.__setattr__(self, "kernel", k)
        object.__setattr__(self, "stride", s)

    def out_hw(self, h: int, w: int, where: str) -> tuple[int, int]:
        (kh, kw), (sh, sw) = self.kernel, self.stride
        if h < kh or w < kw:
            raise InvalidNetworkError(f"{where}: {self.kind} pooling window {kh}x{kw} is larger than its {h}x{w} input")
        return (h - kh) // sh + 1, (w - kw) // sw + 1

    def to_dict(self) -> dict:
        return {"kind": self.kind, "kernel": list(self.kernel), "stride": list(self.stride)}

    @classmethod
    def from_dict(cls, d: dict) -> Pool2d:
        return cls(kind=d["kind"], kernel=tuple(d["kernel"]), stride=tuple(d.get("stride") or d["kernel"]))


def conv_out_hw(h: int, w: int, kernel, stride, padding, dilation, where: str) -> tuple[int, int]:
    """Output height and width of a 2-D convolution (torch's formula, floor mode)."""
    out = []
    for n, k, s, p, d in zip((h, w), kernel, stride, padding, dilation):
        span = d * (k - 1) + 1
        if n + 2 * p < span:
            raise InvalidNetworkError(f"{where}: the {kernel[0]}x{kernel[1]} kernel (dilation {dilation}) does not fit "
                                      f"the {h}x{w} input with padding {padding}")
        out.append((n + 2 * p - span) // s + 1)
    return out[0], out[1]


@dataclass(frozen=True, eq=False)
class Expansion:
    """A layer's synapses as a sparse map, column-compressed by input (what a spike on input i reaches).

    Attributes:
        n_targets: rows of ``E``: the neurons, or the pre-pool positions of a max-pooled layer.
        colptr: int64 ``(n_in + 1,)``; input i's targets are ``rows[colptr[i]:colptr[i+1]]``.
        rows: int32 target of each connection; ``values``: float32 effective weight (never 0).
        pool_index: int32 ``(n_out, window)``: pre-pool positions of each neuron's max window, or None.
        fan_in: int64 ``(n_out,)`` distinct inputs reaching each neuron (through its window when max-pooled).
    """

    n_targets: int
    colptr: np.ndarray
    rows: np.ndarray
    values: np.ndarray
    pool_index: np.ndarray | None
    fan_in: np.ndarray

    @property
    def nnz(self) -> int:
        return int(self.rows.size)

    def fan_out(self) -> np.ndarray:
        """int64 ``(n_in,)``: connections leaving each input (events one spike on it causes)."""
        return np.diff(self.colptr).astype(np.int64)

    def dense(self) -> np.ndarray:
        """``E`` as a dense float32 ``(n_targets, n_in)`` matrix (tests and small layers only)."""
        out = np.zeros((self.n_targets, self.colptr.size - 1), np.float32)
        cols = np.repeat(np.arange(self.colptr.size - 1), np.diff(self.colptr))
        out[self.rows, cols] = self.values
        return out


def _pool_matrix(c: int, h: int, w: int, pool: Pool2d, where: str):
    """Sparse ``(c*hp*wp, c*h*w)`` pooling map (1 per window member for sum/max, 1/(kh*kw) for avg)."""
    import scipy.sparse as sp

    hp, wp = pool.out_hw(h, w, where)
    (kh, kw), (sh, sw) = pool.kernel, pool.stride
    cc, py, px, ky, kx = np.meshgrid(np.arange(c), np.arange(hp), np.arange(wp), np.arange(kh), np.arange(kw),
                                     indexing="ij")
    rows = ((cc * hp + py) * wp + px).ravel()
    cols = ((cc * h + py * sh + ky) * w + px * sw + kx).ravel()
    val = 1.0 / (kh * kw) if pool.kind == "avg" else 1.0
    m = sp.csr_matrix((np.full(rows.size, val), (rows, cols)), shape=(c * hp * wp, c * h * w))
    return m, (c, hp, wp)


def _conv_matrix(kernel: np.ndarray, in_shape, stride, padding, dilation, groups: int, where: str):
    """Sparse ``(Cout*Ho*Wo, Cin*H*W)`` map of a 2-D convolution (no bias); only non-zero taps."""
    import scipy.sparse as sp

    c_in, h, w = in_shape
    c_out, cg, kh, kw = kernel.shape
    ho, wo = conv_out_hw(h, w, (kh, kw), stride, padding, dilation, where)
    co, ci_l, ky, kx = np.nonzero(kernel)
    vals = kernel[co, ci_l, ky, kx].astype(np.float64)
    ci = (co // (c_out // groups)) * cg + ci_l
    oy = np.arange(ho)
    ox = np.arange(wo)
    iy = oy[None, :] * stride[0] - padding[0] + ky[:, None] * dilation[0]  # (taps, ho)
    ix = ox[None, :] * stride[1] - padding[1] + kx[:, None] * dilation[1]  # (taps, wo)
    vy = (iy >= 0) & (iy < h)
    vx = (ix >= 0) & (ix < w)
    total = int((vy.sum(1) * vx.sum(1)).sum())
    if total > MAX_EXPANDED:
        raise InvalidNetworkError(f"{where}: the convolution expands to {total:,} connections, more than spikebench "
                                  f"holds ({MAX_EXPANDED:,}); use a smaller input or kernel")
    rows_l, cols_l, vals_l = [], [], []
    for t in range(co.size):  # one pass per non-zero tap: vectorised over the output map
        yy = np.nonzero(vy[t])[0]
        xx = np.nonzero(vx[t])[0]
        if not yy.size or not xx.size:
            continue
        r = (co[t] * ho + yy[:, None]) * wo + xx[None, :]
        c = (ci[t] * h + iy[t, yy][:, None]) * w + ix[t, xx][None, :]
        rows_l.append(r.ravel())
        cols_l.append(c.ravel())
        vals_l.append(np.full(r.size, vals[t]))
    cat = lambda parts, dt: np.concatenate(parts).astype(dt) if parts else np.zeros(0, dt)
    m = sp.csr_matrix((cat(vals_l, np.float64), (cat(rows_l, np.int64), cat(cols_l, np.int64))),
                      shape=(c_out * ho * wo, c_in * h * w))
    return m, (c_out, ho, wo)


def expand(layer) -> tuple[Expansion, np.ndarray]:
    """The layer's effective synapse map and its per-neuron bias current (float64 ``(n_out,)``).

    For sum pooling the bias is the window's sum of conv biases (torch adds the bias before pooling);
    for max pooling it is the channel's bias, added after the maximum (``max(x + b) = max(x) + b``).

    ``layer`` is a :class:`~spikebench.core.network.Layer` (dense with ``pool_in``, or conv2d).
    """
    import scipy.sparse as sp

    where = f"layer {layer.name!r}"
    shape = layer.in_shape
    pin = None
    if layer.pool_in is not None:
        pin, shape = _pool_matrix(*shape, layer.pool_in, where)
    w = np.asarray(layer.weight, dtype=np.float64)
    if w.ndim == 4:
        core, shape = _conv_matrix(w, shape, layer.stride, layer.padding, layer.dilation, layer.groups, where)
        per_channel = np.zeros(shape[0]) if layer.bias is None else np.asarray(layer.bias, np.float64)
        bias = np.repeat(per_channel, shape[1] * shape[2])
    else:
        core = sp.csr_matrix(w)
        bias = np.zeros(w.shape[0]) if layer.bias is None else np.asarray(layer.bias, np.float64)
    e = core @ pin if pin is not None else core
    pool_index = None
    fan_in_struct = None
    if layer.pool is not None:
        pout, _ = _pool_matrix(*shape, layer.pool, where)
        if layer.pool.kind == "max":
            pc = pout.tocsr()
            pool_index = pc.indices.reshape(pc.shape[0], -1).astype(np.int32)
            bias = bias[pool_index[:, 0]]  # max(x + b) = max(x) + b: b is one per channel, added after the max
            struct = e.copy()
            struct.data = np.ones_like(struct.data)
            ind = pout.copy()
            ind.data = np.ones_like(ind.data)
            fan_in_struct = ind @ struct
        else:
            e = pout @ e
            bias = pout @ bias
    e = sp.csc_matrix(e)
    e.eliminate_zeros()
    e.sort_indices()
    if fan_in_struct is None:
        fan_in = np.diff(e.tocsr().indptr).astype(np.int64)
    else:
        fan_in_struct = sp.csr_matrix(fan_in_struct)
        fan_in = np.diff(fan_in_struct.indptr).astype(np.int64)
    values = e.data.astype(np.float32)
    if np.any(values == 0):  # a tiny float64 weight that float32 cannot hold
        raise InvalidNetworkError(f"{where}: effective weights underflow float32; rescale the weights")
    exp = Expansion(n_targets=int(e.shape[0]), colptr=e.indptr.astype(np.int64), rows=e.indices.astype(np.int32),
                    values=values, pool_index=pool_index, fan_in=fan_in)
    for a in (exp.colptr, exp.rows, exp.values, exp.fan_in):
        a.setflags(write=False)
    if pool_index is not None:
        pool_index.setflags(write=False)
    return exp, bias


__all__ = ["POOL_KINDS", "Pool2d", "Expansion", "conv_out_hw", "expand", "pair"]
