"""Numeric formats: a chip never runs the float network you trained.

``deploy(chip, network)`` returns a :class:`Deployed` record: the network as that chip would hold
it (quantised weights, state widths, decays, thresholds, reset rule, fan-in splits) with one
plain-language note per change, or ``feasible=False`` with the reason. Every chip module has its own
pure ``deploy(network) -> Deployed`` (``loihi``, ``loihi2``, ``truenorth``, ``akida``,
``spinnaker2``, ``reference`` for cpu/gpu); ``CHIPS[name].deploy(network)`` calls it. A deployment
never mutates its input and never touches a backend: it is arithmetic on the records of
:mod:`spikebench.core` only.

Two representations come out:

* **integer layers** (Loihi, Loihi 2, TrueNorth): every layer carries an
  :class:`~spikebench.core.fixed_point.IntegerNeurons` record and integer weight mantissas (the
  arithmetic of Lava's bit-accurate CUBA model, see :mod:`spikebench.core.fixed_point`). Conv and
  pooled layers are quantised as their effective synapse map (sum/avg pooling folded into the
  weights) and held as a convolution with the pooling folded into a larger strided kernel where that
  is exactly the same map (``loihi._folded_conv``), else as a dense layer with a flat ``in_shape``;
* **float layers with quantised weights** (Akida, SpiNNaker 2, CPU/GPU): the weights hold the
  chip's integers (exact in float32, so every float32 sum is exact in any order) and the threshold
  and biases are expressed in units of the weight step, as the chip compares an integer-weighted
  sum against them.

The formats and their sources (:data:`FORMATS`, cited with keys of the package bibliography) are
summarised in ``hardware_models/README.md``, "Numeric formats". The shared quantisers live here:
power-of-two mantissas with a note reporting the share of weights rounded to zero, 12-bit decays,
Loihi's threshold and bias encodings.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from spikebench.core.errors import InvalidNetworkError
from spikebench.core.fixed_point import DECAY_UNITY
from spikebench.core.network import Layer, Network

from .base import LayerProfile
from .conv import PoolSpec

#: One line per chip: the numeric format ``deploy`` applies and where it comes from (bibliography keys).
FORMATS: dict[str, str] = {
    "loihi2": ("Loihi 2 CUBA LIF in Lava's bit-accurate fixed point [@lavanc010, lava/proc/lif/models.py "
               "PyLifModelBitAcc; lava/proc/dense/models.py PyDenseModelBitAcc; lava/utils/weightutils.py]: "
               "8-bit weight mantissas per matrix (mixed sign: even integers -256..254) with a shared exponent "
               "[@timcheck2026], activation << 6, 24-bit current and voltage, 12-bit decays du/dv, threshold "
               "vth << 6 (17-bit vth), bias 13-bit mantissa << 0..7, reset to zero, one step of synaptic delay"),
    "loihi": ("Loihi CUBA compartment [@davies2018] in the same fixed point as Loihi 2 (Lava's "
              "bit-accurate models describe Loihi's own neuron [@lavanc010, lava/proc/lif/models.py]); "
              "1-9-bit weights [@davies2018, p. 87] held here as Lava's 8-bit mantissas"),
    "truenorth": ("TrueNorth neuron [@merolla2014, SM S1, S3, S8, Table S2], [@cassidy2013]: binary crossbar, four "
                  "axon types with one signed 9-bit weight each per neuron, 20-bit membrane, constant leak, "
                  "threshold, linear or normal reset, no multiplicative leak; weights trinary per neuron "
                  "(+s, 0, -s through two axon copies per input [@esser2016])"),
    "akida": ("Akida 1.0 (AKD1000) [@brainchipmetatf, Akida 1.0 hardware constraints; CNN2SNN "
              "MaxPerAxisQuantizer]: 4-bit weights per output channel (-7..7 x max|w|/7), 1-bit spike "
              "activations, no recurrent layer, no neuron state between frames"),
    "spinnaker2": ("SpiNNaker 2 with py-spinnaker2 [@pyspinnaker2, spinnaker2/s2_nir.py]: lif_no_delay / "
                   "lif_curr_exp_no_delay neurons in float32 on Cortex-M4F PEs [@scholze2026], weights as "
                   "signed 8-bit integers (-127..127) per population, reset by subtraction or to zero"),
    "cpu": "float32, the network as trained",
    "gpu": "float32, the network as trained",
}

#: Loihi fixed-point constants (Lava 0.10 ``AbstractPyLifModelFixed`` / ``PyLifModelBitAcc``).
LOIHI_ACT_SHIFT = 6  # activation and threshold are MSB-aligned by 6 bits
LOIHI_STATE_BITS = 24  # u and v
LOIHI_VTH_MAX = 2**17 - 1  # vth: unsigned 17-bit
LOIHI_BIAS_MANT = (-(2**12), 2**12 - 1)  # bias_mant: signed 13-bit
LOIHI_BIAS_EXP_MAX = 7  # bias_exp: unsigned 3-bit


# ---- the record ---------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True, eq=False)
class Deployed:
    """A network as one chip holds it (or why it cannot).

    Attributes:
        chip: chip name (a key of ``CHIPS``).
        network: the deployed network, or ``None`` when infeasible.
        source: the float network that was deployed (never modified).
        feasible: whether the chip can hold the network at all.
        why: the reason it cannot (empty when feasible).
        notes: one sentence per change the chip makes (quantisation, decays, reset, delays, ...).
        arithmetic: the chip format's name (``"loihi2-fixed"``, ``"loihi-fixed"``, ``"truenorth-int"``,
            ``"akida-int4"``, ``"spinnaker2-float32-w8"``, ``"float32"``).
        changes_dynamics: True when the chip's neuron equations differ from the float network's (a
            reset rule or timing, a dropped state, a moved bias), beyond the values of parameters.
    """

    chip: str
    network: Network | None
    source: Network
    feasible: bool
    why: str = ""
    notes: tuple[str, ...] = ()
    arithmetic: str = ""
    changes_dynamics: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.source, Network):
            raise InvalidNetworkError(f"Deployed.source must be a spikebench Network, got {type(self.source).__name__}")
        object.__setattr__(self, "notes", tuple(str(n) for n in self.notes))
        object.__setattr__(self, "feasible", bool(self.feasible))
        object.__setattr__(self, "changes_dynamics", bool(self.changes_dynamics))
        if self.feasible:
            if not isinstance(self.network, Network):
                raise InvalidNetworkError(f"{self.chip}: a feasible deployment needs a network")
            if self.why:
                raise InvalidNetworkError(f"{self.chip}: a feasible deployment has no 'why'")
        else:
            if self.network is not None:
                raise InvalidNetworkError(f"{self.chip}: an infeasible deployment holds no network")
            if not self.why:
                raise InvalidNetworkError(f"{self.chip}: an infeasible deployment must say why")

    @classmethod
    def infeasible(cls, chip: str, source: Network, reasons: Sequence[str], *, arithmetic: str,
                   notes: Sequence[str] = ()) -> Deployed:
        return cls(chip=chip, network=None, source=source, feasible=False, why="; ".join(reasons),
                   notes=tuple(notes), arithmetic=arithmetic)

    def to_dict(self) -> dict:
        """JSON-ready summary: format, feasibility, notes, and the deployed layers' integer parameters."""
        net = self.network
        out = {
            "chip": self.chip, "arithmetic": self.arithmetic, "feasible": self.feasible, "why": self.why,
            "changes_dynamics": self.changes_dynamics, "notes": list(self.notes),
            "source": {"name": self.source.name, "hash": self.source.content_hash()},
            "network": None,
        }
        if net is not None:
            out["network"] = {
                "name": net.name, "hash": net.content_hash(), "integer": net.integer, "drain_steps": net.drain_steps,
                "layers": [{"name": lay.name, "kind": lay.kind, "n_in": lay.n_in, "n_out": lay.n_out,
                            "weight_bits": lay.weight_bits,
                            "integer": None if lay.integer is None else lay.integer.to_dict()}
                           for lay in net.layers],
            }
        return out


def deploy(chip_name: str, network: Network) -> Deployed:
    """``network`` in the numeric format of the chip registered as ``chip_name`` (see the module docstring)."""
    from . import get_chip  # the registry imports the chip modules, which import this module

    return get_chip(chip_name).deploy(network)


def check_source(network: Network, chip: str) -> None:
    """A deploy takes a float network (a spikebench ``Network`` with no integer layers)."""
    if not isinstance(network, Network):
        raise InvalidNetworkError(f"{chip}: deploy takes a spikebench Network, got {type(network).__name__}")
    if network.integer:
        arith = network.layers[0].integer.arithmetic
        raise InvalidNetworkError(f"{chip}: network {network.name!r} is already in a chip's arithmetic ({arith}); "
                                  "deploy the float network it came from")


def held(chip: str, network: Network, layers, notes, *, arithmetic: str, changes_dynamics: bool) -> Deployed:
    """The feasible :class:`Deployed` record of ``network`` held by ``chip`` as ``layers``: named
    ``<source>@<chip>``, with the source's metadata (its binning among it) plus where it came from."""
    meta = {**network.metadata, "deployed": chip, "arithmetic": arithmetic, "source_hash": network.content_hash()}
    net = Network(layers=tuple(layers), name=f"{network.name}@{chip}", metadata=meta)
    return Deployed(chip=chip, network=net, source=network, feasible=True, notes=tuple(notes),
                    arithmetic=arithmetic, changes_dynamics=changes_dynamics)


# ---- layer facts shared by the chips ----------------------------------------------------------------

def effective_matrix(layer: Layer) -> np.ndarray:
    """float64 ``(n_out, n_in)``: the layer's effective synapses (a conv kernel expanded, sum/avg pooling
    folded in). Not for max-pooled layers."""
    if layer.plain:
        return np.asarray(layer.weight, np.float64)
    e = layer.expansion()
    if e.pool_index is not None:
        raise InvalidNetworkError(f"layer {layer.name!r}: a max-pooled layer has no single synapse matrix")
    out = np.zeros((e.n_targets, layer.n_in), np.float64)
    cols = np.repeat(np.arange(layer.n_in), np.diff(e.colptr))
    np.add.at(out, (e.rows.astype(np.int64), cols), e.values.astype(np.float64))
    return out


def total_bias(layer: Layer) -> np.ndarray:
    """float64 ``(n_out,)``: the constant input per step (the layer's bias, pooling included, plus the
    recurrent projection's bias, which snnTorch adds every step)."""
    b = np.asarray(layer.neuron_bias(), np.float64).copy()
    if layer.recurrent_bias is not None:
        b += layer.recurrent_bias
    return b


def layer_profile(layer: Layer) -> LayerProfile:
    """The :class:`LayerProfile` a cost model sees for ``layer`` (its geometry for the mapping rules)."""
    p = layer.profile()
    pair = lambda v: None if v is None else tuple(int(x) for x in v)  # noqa: E731
    return LayerProfile(name=p["name"], kind=p["kind"], n_in=p["n_in"], n_out=p["n_out"], synapses=p["synapses"],
                        fan_in_max=p["fan_in_max"], weight_bits=p["weight_bits"] or 8,
                        in_shape=pair(p["in_shape"]), out_shape=pair(p["out_shape"]), kernel=pair(p["kernel"]),
                        stride=pair(p["stride"]), padding=pair(p["padding"]), dilation=pair(p["dilation"]),
                        groups=p["groups"], pool=PoolSpec.of(p["pool"]), pool_in=PoolSpec.of(p["pool_in"]),
                        weights=p["weights"], neuron=p["neuron"])


def fmt(x: float) -> str:
    """A number for a note: 4 significant digits, no trailing noise."""
    return f"{float(x):.4g}"


def span(a: np.ndarray) -> str:
    """``"lo..hi"`` (or one value) of an array, for notes."""
    a = np.asarray(a)
    lo, hi = a.min(), a.max()
    if np.issubdtype(a.dtype, np.integer):
        return str(int(lo)) if lo == hi else f"{int(lo)}..{int(hi)}"
    return fmt(lo) if lo == hi else f"{fmt(lo)}..{fmt(hi)}"


# ---- quantisers -----------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True, eq=False)
class Mantissas:
    """A matrix as integer mantissas ``k`` times ``2**exp`` (``k`` within ``[kmin, kmax]``).

    ``sign``: ``"mixed"``, ``"excitatory"`` (all >= 0) or ``"inhibitory"`` (all <= 0), as Lava's
    ``determine_sign_mode``; ``zeroed``: non-zero weights rounded to zero; ``clipped``: weights clipped
    to the range (only when the exponent is fixed by the caller); ``max_error``: largest absolute
    rounding error (float units).
    """

    k: np.ndarray = field(repr=False)
    exp: int
    sign: str
    nonzero: int
    zeroed: int
    clipped: int
    max_error: float

    @property
    def values(self) -> np.ndarray:
        """float64: the quantised weights ``k * 2**exp``."""
        return self.k * 2.0**self.exp

    @property
    def exact(self) -> bool:
        return self.max_error == 0.0

    @property
    def zeroed_pct(self) -> float:
        return 100.0 * self.zeroed / self.nonzero if self.nonzero else 0.0


def sign_mode(w: np.ndarray) -> str:
    """Lava's sign mode of a weight matrix (``lava/utils/weightutils.py`` ``determine_sign_mode``)."""
    if w.size == 0 or float(np.min(w)) >= 0:
        return "excitatory"
    if float(np.max(w)) <= 0:
        return "inhibitory"
    return "mixed"


def pow2_mantissas(w: np.ndarray, kmin: int, kmax: int, *, exp: int | None = None) -> Mantissas:
    """Round ``w`` to ``k * 2**exp`` with integer ``k`` in ``[kmin, kmax]`` (round half to even).

    With ``exp=None`` the exponent is the smallest at which no weight leaves the range: a matrix
    already of the form ``k * 2**e`` with ``k`` in range is kept exactly. With a given ``exp``,
    weights beyond the range are clipped (counted in ``clipped``).
    """
    w = np.asarray(w, np.float64)
    nz = w != 0
    if exp is None:
        need = 0.0
        if kmax > 0 and np.any(w > 0):
            need = max(need, float(w.max()) / kmax)
        if kmin < 0 and np.any(w < 0):
            need = max(need, float(w.min()) / kmin)
        if need == 0.0:
            exp = 0
        else:
            exp = math.ceil(math.log2(need))
            while True:  # rounding at the edge (127.6 -> 128) can push a value out: one more step
                k = np.rint(w / 2.0**exp)
                if k.max(initial=0) <= kmax and k.min(initial=0) >= kmin:
                    break
                exp += 1
    raw = np.rint(w / 2.0**exp)
    k = np.clip(raw, kmin, kmax)
    clipped = int(np.count_nonzero(raw != k))
    vals = k * 2.0**exp
    return Mantissas(k=k.astype(np.int64), exp=int(exp), sign=sign_mode(w), nonzero=int(np.count_nonzero(nz)),
                     zeroed=int(np.count_nonzero(nz & (k == 0))), clipped=clipped,
                     max_error=float(np.max(np.abs(vals - w), initial=0.0)))


def scaled_mantissas(w: np.ndarray, step: np.ndarray, kmax: int) -> Mantissas:
    """Round ``w`` (rows = output channels) to ``k * step[row]``, ``|k| <= kmax`` (symmetric, per row)."""
    w = np.asarray(w, np.float64)
    step = np.asarray(step, np.float64).reshape((-1,) + (1,) * (w.ndim - 1))
    safe = np.where(step > 0, step, 1.0)
    raw = np.rint(w / safe)
    k = np.clip(raw, -kmax, kmax)
    nz = w != 0
    vals = k * safe
    return Mantissas(k=k.astype(np.int64), exp=0, sign=sign_mode(w), nonzero=int(np.count_nonzero(nz)),
                     zeroed=int(np.count_nonzero(nz & (k == 0))), clipped=int(np.count_nonzero(raw != k)),
                     max_error=float(np.max(np.abs(vals - w), initial=0.0)))


def rounding_note(what: str, q: Mantissas, fmt_desc: str) -> str:
    """``"weights of lif1: 8-bit mantissa, exponent -9, exact"`` or with the share rounded to zero."""
    if q.nonzero == 0:
        return f"{what}: all zero"
    if q.exact:
        tail = "exact (the float weights are already on this grid)"
    else:
        tail = f"{q.zeroed_pct:.1f} % of weights rounded to zero, largest rounding error {fmt(q.max_error)}"
        if q.clipped:
            tail += f", {q.clipped} clipped to the range"
    return f"{what}: {fmt_desc}, {tail}"


def decay12(keep: np.ndarray, *, lo: int, hi: int) -> tuple[np.ndarray, float]:
    """12-bit decay constants ``d = round((1 - keep) * 4096)`` clipped to ``[lo, hi]`` and the largest
    error of the kept fraction ``1 - d / 4096`` against ``keep`` (beta or alpha)."""
    keep = np.asarray(keep, np.float64)
    d = np.clip(np.rint((1.0 - keep) * DECAY_UNITY), lo, hi).astype(np.int64)
    err = float(np.max(np.abs((1.0 - d / DECAY_UNITY) - keep), initial=0.0))
    return d, err


def loihi_bias(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The nearest values Loihi can add each step, ``bias_mant << bias_exp`` (13-bit signed mantissa,
    exponent 0..7, Lava ``PyLifModelBitAcc``): ``(effective bias int64, bias_exp int64)``; ties go
    to the smaller exponent."""
    x = np.asarray(x, np.float64)
    best = np.zeros(x.shape, np.int64)
    best_exp = np.zeros(x.shape, np.int64)
    best_err = np.full(x.shape, np.inf)
    lo, hi = LOIHI_BIAS_MANT
    for e in range(LOIHI_BIAS_EXP_MAX + 1):
        cand = np.clip(np.rint(x / 2**e), lo, hi).astype(np.int64) << e
        err = np.abs(cand - x)
        better = err < best_err
        best = np.where(better, cand, best)
        best_exp = np.where(better, e, best_exp)
        best_err = np.where(better, err, best_err)
    return best, best_exp


def loihi_bias_ok(bias: np.ndarray) -> bool:
    """Every value is ``mant << exp`` with a 13-bit signed mantissa and ``exp`` in 0..7."""
    b = np.asarray(bias, np.int64)
    q, _ = loihi_bias(b)
    return bool(np.array_equal(q, b))


def ternary_rows(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The L2-optimal trinary approximation of each row: ``w[j] ~ scale[j] * t[j]`` with ``t`` in
    {-1, 0, +1}. For a row, keeping its ``n`` largest magnitudes with ``scale`` their mean minimises
    the squared error; the best ``n`` maximises ``(sum of the n largest |w|)**2 / n``.
    Returns ``(t int64, scale float64)``; an all-zero row gets ``t = 0`` and ``scale = 0``."""
    w = np.asarray(w, np.float64)
    n_rows, n_cols = w.shape
    if n_cols == 0 or n_rows == 0:
        return np.zeros(w.shape, np.int64), np.zeros(n_rows)
    a = np.abs(w)
    order = np.argsort(-a, axis=1, kind="stable")
    sorted_a = np.take_along_axis(a, order, axis=1)
    csum = np.cumsum(sorted_a, axis=1)
    counts = np.arange(1, n_cols + 1, dtype=np.float64)
    keep = np.argmax(csum**2 / counts, axis=1) + 1
    scale = csum[np.arange(n_rows), keep - 1] / keep
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(n_cols)[None, :].repeat(n_rows, axis=0), axis=1)
    chosen = (rank < keep[:, None]) & (a > 0)
    t = np.where(chosen, np.sign(w), 0.0).astype(np.int64)
    scale = np.where(np.any(chosen, axis=1), scale, 0.0)
    return t, scale


# ---- notes shared by several chips -----------------------------------------------------------------

def delay_note(chip: str, n_layers: int, source: str) -> str:
    return (f"one step of synaptic delay per layer on {chip} ({source}): a spike reaches the next layer one step "
            f"later, so the {n_layers}-layer network runs T + {n_layers} steps (the last input reaches the output "
            f"{n_layers} steps after the input ends)")


def conv_fold_note(layer: Layer) -> str | None:
    """The note for a conv or pooled layer deployed as its effective dense synapse map."""
    if layer.plain:
        return None
    parts = []
    if layer.conv:
        parts.append(f"{layer.weight.shape[2]}x{layer.weight.shape[3]} convolution")
    for p in (layer.pool_in, layer.pool):
        if p is not None:
            parts.append(f"{p.kernel[0]}x{p.kernel[1]} {p.kind} pooling")
    folded = " (each weight a sum of kernel taps, divided by the window size for avg pooling)" if any(
        p is not None and p.kind == "avg" for p in (layer.pool_in, layer.pool)) else ""
    return (f"{layer.name}: {' + '.join(parts)} deployed as its effective dense synapse map "
            f"{layer.n_out} x {layer.n_in}{folded}, quantised as one matrix")
