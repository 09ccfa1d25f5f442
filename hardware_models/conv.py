"""Geometry of convolutional layers as a chip mapper sees it: pure functions over shapes.

A counts file (schema ``spikebench.counts/2``) describes a conv layer by its input shape ``[C, H, W]``,
output shape (the neurons, after any pooling of currents), kernel, stride, padding, dilation,
groups, an optional pooling of currents after the convolution (``pool``: sum, avg or max) and an
optional sum/avg pooling of the input spikes before it (``pool_in``). Sum and average pooling are
linear, so a chip without pooling hardware folds them into the synapses: along each axis the
neuron then sees an *effective kernel* whose taps are the offsets
``((m s + j d) t_in + r)`` for pooling tap ``m``, kernel tap ``j`` and input-pooling tap ``r``, moved
by ``t s t_in`` from one neuron to the next (``t``, ``t_in``: the pooling strides).

What this module computes per axis (:class:`Axis`), exactly, by enumerating every (neuron, tap)
pair that lands on a real input position (padding is not an input):

* ``taps``: the effective kernel's taps;
* ``needed(n)``: distinct input positions that ``n`` neighbouring interior neurons read (the axons
  a crossbar needs for them);
* ``mask_taps``: the sum, over the distinct *border patterns* (the subsets of the effective kernel
  that an input position reaches), of their sizes. A chip that shares one synapse list among all
  input positions with the same pattern (Loihi's population axons as nengo-loihi lays out a
  convolution, see ``loihi.py``) stores ``mask_taps`` taps along the axis instead of ``taps``.

Everything here is integer arithmetic on shapes: no weights, no tensors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

POOL_KINDS = ("sum", "avg", "max")


@dataclass(frozen=True)
class PoolSpec:
    """Pooling without padding (floor mode): ``kind`` sum | avg | max, ``kernel`` and ``stride`` (h, w)."""

    kind: str
    kernel: tuple[int, int]
    stride: tuple[int, int]

    @classmethod
    def of(cls, value) -> PoolSpec | None:
        """From a counts file's ``{"kind", "kernel", "stride"}`` object (or anything with those
        attributes); ``None`` stays ``None``."""
        if value is None:
            return None
        if isinstance(value, PoolSpec):
            return value
        get = value.get if isinstance(value, Mapping) else (lambda k, d=None: getattr(value, k, d))
        kernel = _pair(get("kernel"))
        stride = get("stride")
        return cls(kind=str(get("kind")), kernel=kernel, stride=kernel if stride is None else _pair(stride))

    @property
    def area(self) -> int:
        return self.kernel[0] * self.kernel[1]

    def describe(self) -> str:
        return f"{self.kind} pooling {self.kernel[0]}x{self.kernel[1]} (stride {self.stride[0]}x{self.stride[1]})"


def _pair(v) -> tuple[int, int]:
    if isinstance(v, int):
        return (v, v)
    a, b = (int(x) for x in v)
    return (a, b)


def pool_len(n: int, q: int, t: int) -> int:
    return max((n - q) // t + 1, 0)


def conv_len(n: int, k: int, s: int, p: int, d: int) -> int:
    return max((n + 2 * p - d * (k - 1) - 1) // s + 1, 0)


@dataclass(frozen=True)
class Axis:
    """One spatial axis of a conv layer with its pooling folded in (see the module docstring)."""

    n_in: int  # raw input positions (before pool_in)
    n_conv: int  # convolution outputs (before pool)
    n_out: int  # neurons (after pool)
    taps: int  # taps of the effective kernel
    mask_taps: int  # sum of the sizes of the distinct border patterns
    needed: tuple[int, ...]  # needed[n - 1]: input positions read by n neighbouring neurons

    @property
    def border_factor(self) -> float:
        """Stored taps per kernel tap when each distinct border pattern keeps its own synapse list."""
        return self.mask_taps / self.taps if self.taps else 1.0


@lru_cache(maxsize=4096)
def axis(n_in: int, k: int, s: int, p: int, d: int, pool_in: tuple[int, int] | None,
         pool: tuple[int, int] | None) -> Axis:
    """Exact per-axis geometry; ``pool_in`` / ``pool`` are (window, stride) or ``None``."""
    qi, ti = pool_in or (1, 1)
    q, t = pool or (1, 1)
    n1 = pool_len(n_in, qi, ti)
    nc = conv_len(n1, k, s, p, d)
    no = pool_len(nc, q, t)
    offsets = sorted({(m * s + j * d) * ti + r for m in range(q) for j in range(k) for r in range(qi)})
    reach: dict[int, set[int]] = {}  # input position -> effective-kernel taps reaching it
    for y_out in range(no):
        for m in range(q):
            y = y_out * t + m
            for j in range(k):
                u = y * s - p + j * d
                if 0 <= u < n1:
                    for r in range(qi):
                        reach.setdefault(u * ti + r, set()).add((m * s + j * d) * ti + r)
    patterns = {frozenset(v) for v in reach.values()}
    # inputs read by n neighbouring neurons: an interior window (the widest), capped by the input
    step = t * s * ti
    union: set[int] = set()
    needed = []
    for n in range(no):
        union.update(o + n * step for o in offsets)
        needed.append(min(len(union), n_in))
    return Axis(n_in=n_in, n_conv=nc, n_out=no, taps=len(offsets),
                mask_taps=sum(len(pat) for pat in patterns), needed=tuple(needed))


@dataclass(frozen=True)
class ConvGeometry:
    """A conv layer's geometry: channels, groups, both spatial axes (pooling folded in)."""

    c_in: int
    c_out: int
    groups: int
    kernel: tuple[int, int]
    rows: Axis
    cols: Axis
    conv_hw: tuple[int, int]  # convolution output map (before pool)
    pooled_in_hw: tuple[int, int]  # input map after pool_in

    @property
    def dense_kernel(self) -> int:
        """Weights of the kernel as stored, zero or not: C_out (C_in / groups) kh kw."""
        return self.c_out * (self.c_in // self.groups) * self.kernel[0] * self.kernel[1]

    @property
    def dense_macs(self) -> int:
        """Multiply-accumulates of one dense evaluation: C_out H_conv W_conv (C_in / groups) kh kw."""
        return self.c_out * self.conv_hw[0] * self.conv_hw[1] * (self.c_in // self.groups) * self.kernel[0] * self.kernel[1]

    @property
    def fold_ratio(self) -> float:
        """Effective-kernel taps per kernel tap once sum/avg pooling is folded into the synapses."""
        return (self.rows.taps * self.cols.taps) / (self.kernel[0] * self.kernel[1])

    @property
    def border_factor(self) -> float:
        return self.rows.border_factor * self.cols.border_factor

    @property
    def positions_out(self) -> int:
        """Neurons per output channel."""
        return self.rows.n_out * self.cols.n_out


def geometry(*, in_shape, out_shape, kernel, stride, padding, dilation, groups, pool: PoolSpec | None,
             pool_in: PoolSpec | None, fold_max: bool = True) -> ConvGeometry:
    """Geometry of a conv layer. Max pooling is folded like sum pooling when ``fold_max`` (a size
    estimate for chips that cannot compute it anyway; the counts' events are pre-pool)."""
    c_in, h, w = (int(v) for v in in_shape)
    c_out = int(out_shape[0])
    kh, kw = _pair(kernel)
    (sh, sw), (ph, pw), (dh, dw) = _pair(stride or 1), _pair(padding or 0), _pair(dilation or 1)
    pin = ((pool_in.kernel[0], pool_in.stride[0]), (pool_in.kernel[1], pool_in.stride[1])) if pool_in else (None, None)
    use_pool = pool is not None and (pool.kind != "max" or fold_max)
    pout = ((pool.kernel[0], pool.stride[0]), (pool.kernel[1], pool.stride[1])) if use_pool else (None, None)
    rows = axis(h, kh, sh, ph, dh, pin[0], pout[0])
    cols = axis(w, kw, sw, pw, dw, pin[1], pout[1])
    return ConvGeometry(c_in=c_in, c_out=c_out, groups=max(1, int(groups or 1)), kernel=(kh, kw), rows=rows,
                        cols=cols, conv_hw=(rows.n_conv, cols.n_conv),
                        pooled_in_hw=(pool_len(h, *pin[0]) if pin[0] else h, pool_len(w, *pin[1]) if pin[1] else w))
