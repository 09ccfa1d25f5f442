"""Intel Loihi (first generation): mapping and cost formulas (reference §1.1, §3 'Loihi 1').

Mapping: a layer takes max(neuron-bound, synapse-memory-bound) cores, times the number of
4,096-axon groups its inputs need; 128 cores per chip, up to 768 chips (the largest system, ``max_chips``;
checked for every chip by :func:`.base.system_limit`).

Convolutions (loihi.toml notes): Loihi shares weights through population axons. A conv layer is
stored as nengo-loihi's ``conv2d_loihi_weights`` lays it out: one synapse list per distinct border
pattern of the input pixels (interior pixels share one), each holding the kernel taps that pattern
reaches for every input channel and output channel of the core, and one population axon per input
pixel (channels are its atoms). Stored synapses = kernel weights x border factor (3 x 3 stride 1:
9, see :mod:`.conv`) x cores an output channel spans. Sum/avg pooling folds into the kernel;
max pooling of currents is not mapped (infeasible). Loihi's compartments carry a current and a
voltage, so LIF, IF and CubaLIF neurons all map.

Energy: E_dyn = SE e_syn + NU_active e_nu,active + NU_inactive e_nu,inactive
+ messages (e_spike,tile + hops e_hop); E_static = chips (P_static + P_x86) T_inf.
Latency: T_inf = T (max over layers of the per-core step work + barrier); the barrier grows with
tiles on one chip (113-465 ns) and with chips (<= 5.8 us for 2-32, 14.3 us to 256, 16.2 us above).
"""

from __future__ import annotations

import math

import numpy as np

from spikebench.core.errors import InvalidNetworkError
from spikebench.core.fixed_point import DECAY_UNITY, IntegerNeurons
from spikebench.core.network import Layer, Network

from ._shell import ChipShell
from .base import NetworkProfile, PerInference, Placement, ceil_div, mean_hops, pace
from .numeric import (
    FORMATS,
    LOIHI_ACT_SHIFT,
    LOIHI_BIAS_EXP_MAX,
    LOIHI_BIAS_MANT,
    LOIHI_STATE_BITS,
    LOIHI_VTH_MAX,
    Deployed,
    Mantissas,
    check_source,
    conv_fold_note,
    decay12,
    delay_note,
    effective_matrix,
    fmt,
    held,
    loihi_bias,
    pow2_mantissas,
    rounding_note,
    sign_mode,
    span,
    total_bias,
)
from .params import ChipSheet

ASSUMPTIONS = (
    "synapse memory: weight_bits per synapse, dense format, no index overhead",
    "neuron updates split active/inactive as 1 - exp(-synaptic events per neuron-step) (Poisson arrival)",
    "each spike is sent once to every core of its target layer; mean tile hops 2/3 sqrt(tiles used); "
    "chip-to-chip link energy is not modelled",
    "synaptic events spread evenly over a layer's cores; the busiest layer's core sets the step time",
)
CONV_ASSUMPTIONS = (
    "conv layers: weights shared through population axons as nengo-loihi lays a convolution out (one synapse "
    "list per distinct border pattern of the input pixels, one axon per input pixel); a core holding part of an "
    "output channel stores that channel's kernel; sum/avg pooling folded into the kernel",
    "conv layers: each input spike is still sent to every core of its layer (an upper bound on messages)",
)


def conv_reasons(lp, chip: str) -> list[str]:
    """Why a conv layer cannot be mapped on Loihi / Loihi 2 (empty when it can)."""
    if lp.is_conv and lp.pool_kind == "max":
        return [f"{lp.name}: max pooling of currents is not available on {chip}: its toolchains map convolutions "
                "and weighted sum pooling only (no maximum over synaptic currents); use sum/avg pooling or a "
                "strided convolution"]
    return []


def place(profile: NetworkProfile, sheet: ChipSheet) -> Placement:
    n_core = sheet["neurons_per_core"].value
    mem_bits = sheet["syn_mem_per_core"].si() * 8
    axons_max = sheet["axons_per_core"].value
    wb_max = int(sheet["weight_bits_max"].value)
    reasons, layer_cores, bits = [], [], []
    feasible = True
    for lp in profile.layers:
        wb = max(1, lp.weight_bits)
        if wb > wb_max:
            reasons.append(f"{lp.name}: {wb}-bit weights exceed Loihi's {wb_max} bits: estimated at {wb_max} bits")
            wb = wb_max
        bad = conv_reasons(lp, "Loihi")
        if bad:
            feasible = False
            reasons.extend(bad)
        if lp.is_conv:  # one population axon per input pixel; synapse lists shared per border pattern
            axons = lp.in_shape[1] * lp.in_shape[2]
            stored = lp.stored_synapses("border_patterns", neurons_per_core=n_core)
        else:
            axons, stored = lp.axons, lp.synapses
        groups = max(1, ceil_div(axons, axons_max))
        if groups > 1:
            reasons.append(f"{lp.name}: {axons} input axons exceed {axons_max} per core: inputs split over "
                           f"{groups} cores per neuron group (extra cores counted)")
        cores = max(ceil_div(lp.n_out, n_core) * groups, ceil_div(stored * wb, mem_bits), 1)
        layer_cores.append(cores)
        bits.append(stored * wb)
    total = sum(layer_cores)
    chips = max(1, ceil_div(total, sheet["cores_per_chip"].value))
    if chips > 1:
        reasons.append(f"multi-chip: {total} cores need {chips} chips")
    return Placement(cores=total, chips=chips, layer_cores=tuple(layer_cores), feasible=feasible,
                     reasons=tuple(reasons), assumptions=ASSUMPTIONS + (CONV_ASSUMPTIONS if profile.has_conv else ()),
                     extra={"synapse_bits": tuple(bits)})


def formula(profile: NetworkProfile, pl: Placement, per: PerInference, real_time: bool):
    T = per.timesteps
    layers = []
    for k, lp in enumerate(profile.layers):
        se, nu = per.layer_synaptic_events[k], per.layer_neuron_updates[k]
        active = nu * (1.0 - math.exp(-se / nu)) if nu > 0 else 0.0
        src_spikes = per.layer_spikes_in[k] + (per.layer_spikes_out[k] if lp.kind == "recurrent" else 0.0)
        layers.append((se, nu, active, src_spikes * pl.layer_cores[k], pl.layer_cores[k], lp.n_out))

    def f(p):
        tiles = ceil_div(pl.cores, p["cores_per_tile"])
        hops = mean_hops(tiles)
        e_dyn = 0.0
        t_core = 0.0
        for se, nu, active, msgs, cores, n_out in layers:
            e_dyn += (se * p["e_syn"] + active * p["e_nu_active"] + (nu - active) * p["e_nu_inactive"]
                      + msgs * (p["e_spike_tile"] + hops * p["e_hop"]))
            frac = active / nu if nu > 0 else 0.0
            per_core_step = (se / (cores * T) * p["t_syn"]
                             + n_out / cores * (frac * p["t_nu_active"] + (1 - frac) * p["t_nu_inactive"])
                             + msgs / (cores * T) * p["t_msg_in"])
            t_core = max(t_core, per_core_step)
        if pl.chips > 256:
            barrier = p["t_barrier_768chips"]
        elif pl.chips > 32:
            barrier = p["t_barrier_multichip"]
        elif pl.chips > 1:
            barrier = p["t_barrier_board"]
        else:
            barrier = p["t_barrier_1tile"] + (p["t_barrier_32tile"] - p["t_barrier_1tile"]) * (min(tiles, 32) - 1) / 31
        t_step = pace(t_core + barrier, per.timestep_s, real_time)
        latency = T * t_step
        # a one-chip system's own idle power; 2+ chips: the 32-chip board's average per chip
        p_chip = p["p_static_single"] if pl.chips == 1 else p["p_static_chip"]
        static = pl.chips * (p_chip + p["p_mgmt_chip"]) * latency
        return {"energy_dynamic_j": e_dyn, "energy_static_j": static, "energy_j": e_dyn + static, "latency_s": latency}

    return f, []


# ---- numeric format: deploy(network) -> Deployed --------------------------------------------------
#
# Loihi's compartment is the CUBA neuron of Lava's bit-accurate models (their comments describe Loihi 1's
# ds_offset register; Loihi 2 runs the same LIF through Lava), so Loihi and Loihi 2 share this code and
# differ in their arithmetic name only. Not modelled: Loihi's refractory period and axonal delays (absent
# from Lava's bit-accurate LIF too), per-core limits on distinct compartment parameter sets, the hardware
# range of the weight exponent (not verified; IntegerNeurons allows -24..24).

#: Lava Dense keeps 8-bit weights after clip_weights(num_bits=8) + truncate_weights(num_weight_bits=8):
#: sign mode -> (mantissa min, max, stored multiplier). Mixed-sign: an 8-bit signed mantissa stored x 2.
LOIHI_WEIGHTS = {"mixed": (-128, 127, 2), "excitatory": (0, 255, 1), "inhibitory": (-255, 0, 1)}
STORED = {"mixed": "stored as even integers -256..254", "excitatory": "stored as 0..255",
          "inhibitory": "stored as -255..0"}
U_MAX = 2 ** (LOIHI_STATE_BITS - 1) - 1
SCALE_SEARCH = 30  # scale exponents tried on either side of the smallest exact-weight scale


def loihi_weights(w: np.ndarray) -> tuple[Mantissas, int]:
    """8-bit mantissas of one matrix in Lava's format for its sign mode, and the stored multiplier."""
    kmin, kmax, mult = LOIHI_WEIGHTS[sign_mode(w)]
    return pow2_mantissas(w, kmin, kmax), mult


def _weight_exp(p: int, q: Mantissas, mult: int) -> int:
    """Lava weight_exp that makes ``mult * k << (weight_exp + 6)`` equal ``k * 2**q.exp`` at scale 2**p."""
    return p + q.exp - LOIHI_ACT_SHIFT - int(mult).bit_length() + 1


def _choose_scale(theta, bias, qs, worst_in, du):
    """The voltage scale 2**p (voltage units per float unit) of one layer, and what it costs.

    Order of preference (each within the hard limits: 17-bit vth >= 1, 13-bit bias mantissa << 0..7,
    weight exponents within -24..24):
    1. the smallest p >= p_w (every weight mantissa exact) at which every threshold is a multiple of 64
       and every bias is representable exactly, and no input can wrap the 24-bit current;
    2. else the largest such p without the exactness of thresholds and biases (finest rounding);
    3. else p_w itself (weights exact; a step with many coincident inputs can wrap the current);
    4. else the largest p below p_w that fits the limits (the shifted weight sums are floored).
    Returns ``(p, case)`` with case 1..4, or ``(None, 0)`` when nothing fits.
    """
    live = [(q, m) for q, m in qs if q.nonzero]
    p_w = max((LOIHI_ACT_SHIFT - q.exp for q, _ in live), default=LOIHI_ACT_SHIFT)
    lo, hi = LOIHI_BIAS_MANT
    bias_max = max(abs(lo), hi) << LOIHI_BIAS_EXP_MAX

    def hard(p):
        v = np.rint(theta * 2.0**p / 64)
        return (v.min() >= 1 and v.max() <= LOIHI_VTH_MAX and np.max(np.abs(bias), initial=0) * 2.0**p <= bias_max
                and all(-24 <= _weight_exp(p, q, m) <= 24 for q, m in live))

    def exact(p):
        t = theta * 2.0**p / 64
        b = bias * 2.0**p
        return bool(np.all(t == np.rint(t)) and np.all(loihi_bias(b)[0] == b))

    def room(p):
        return float(np.max(worst_in * 2.0**p * DECAY_UNITY / du, initial=0.0)) <= U_MAX

    ps = [p for p in range(p_w - SCALE_SEARCH, p_w + SCALE_SEARCH + 1) if hard(p)]
    up = [p for p in ps if p >= p_w]
    for case, pick in ((1, lambda: min(p for p in up if room(p) and exact(p))),
                       (2, lambda: max(p for p in up if room(p))),
                       (3, lambda: min(up)),
                       (4, lambda: max(p for p in ps if p < p_w))):
        try:
            return pick(), case
        except ValueError:
            continue
    return None, 0


def _worst_input(values: list[np.ndarray]) -> np.ndarray:
    """Per neuron: the largest summed input of one step in float units (all positive or all negative
    synapses at once)."""
    pos = sum(np.clip(v, 0, None).sum(axis=1) for v in values)
    neg = sum(np.clip(-v, 0, None).sum(axis=1) for v in values)
    return np.maximum(pos, neg)


def _cuba_layer(layer: Layer, chip: str, arithmetic: str):
    """``(deployed layer, notes, why)`` of one layer in Loihi's CUBA fixed point (``why`` non-empty:
    infeasible)."""
    name = layer.name
    notes = []
    fold = conv_fold_note(layer)
    if fold:
        notes.append(fold)
    w = effective_matrix(layer)
    qw, mw = loihi_weights(w)
    qs = [(qw, mw)]
    qr = mr = None
    if layer.recurrent_weight is not None:
        qr, mr = loihi_weights(layer.recurrent_weight)
        qs.append((qr, mr))
    theta = np.asarray(layer.threshold, np.float64)
    beta = np.asarray(layer.beta, np.float64)
    b = total_bias(layer)
    dv, dv_err = decay12(beta, lo=0, hi=DECAY_UNITY - 1)  # Lava dv: 12-bit, 0..4095
    if layer.alpha is None:
        du = np.full(layer.n_out, DECAY_UNITY, np.int64)  # Lava du 4095 + ds_offset 1
        du_text = "du 4096 (snnTorch Leaky has no current state: the current holds this step's input only)"
        b_v = b
    else:
        alpha = np.asarray(layer.alpha, np.float64)
        if np.any((alpha >= 1.0) & (b != 0)):
            return None, notes, (f"{name}: a constant input into a synaptic current that never decays (alpha = 1) "
                                 f"grows without bound; {chip} adds biases to the voltage, which cannot express it")
        du, du_err = decay12(alpha, lo=1, hi=DECAY_UNITY)  # Lava du 0..4095 + ds_offset 1
        du_text = f"du {span(du)} (alpha {span(alpha)}, 12 bits: largest error {fmt(du_err)})"
        if np.any(alpha >= 1.0):
            du_text += "; alpha = 1 (no current decay) held as du 1, the slowest decay Lava's du can express"
        b_v = np.where(alpha < 1.0, b / np.where(alpha < 1.0, 1.0 - alpha, 1.0), 0.0)
        if np.any(b != 0):
            notes.append(f"{name}: snnTorch adds the bias to the synaptic current; {chip} adds it to the voltage: "
                         "deployed at its steady-state value bias / (1 - alpha), so its onset is immediate instead of "
                         "rising with the current")
    worst = _worst_input([q.values for q, _ in qs])
    p, case = _choose_scale(theta, b_v, qs, worst, du)
    if p is None:
        return None, notes, (f"{name}: thresholds {span(theta)} and biases {span(b_v)} cannot share one voltage "
                             f"scale with the weights within {chip}'s 17-bit threshold and 13-bit bias mantissa")
    x_w = _weight_exp(p, qw, mw) if qw.nonzero else 0
    x_r = _weight_exp(p, qr, mr) if qr is not None and qr.nonzero else 0
    vth = np.clip(np.rint(theta * 2.0**p / 64), 0, LOIHI_VTH_MAX).astype(np.int64) * 64
    bias, bias_exp = loihi_bias(b_v * 2.0**p)
    neurons = IntegerNeurons(n=layer.n_out, du=du, dv=dv, bias=bias, vth=vth, reset="zero", weight_exp=x_w,
                             recurrent_exp=x_r, act_shift=LOIHI_ACT_SHIFT, state_bits=LOIHI_STATE_BITS, delay=1,
                             arithmetic=arithmetic)
    out = Layer(weight=(mw * qw.k).astype(np.float32),
                recurrent_weight=None if qr is None else (mr * qr.k).astype(np.float32),
                bias=b.astype(np.float32) if np.any(b != 0) else None,
                beta=layer.beta, alpha=layer.alpha, threshold=layer.threshold, reset=layer.reset,
                weight_bits=8, integer=neurons, name=name)
    folded = _folded_conv(layer, out, mw)
    if folded is not None:
        out = folded
        notes = [n.replace("deployed as its effective dense synapse map", "quantised as its effective synapse map")
                 for n in notes]
        notes.append(f"{name}: the synapse map is a convolution again: the {layer.pool.kind} pooling folded into a "
                     f"{'x'.join(map(str, folded.weight.shape[2:]))} kernel of stride "
                     f"{'x'.join(map(str, folded.stride))} (the same synapses and mantissas, stored as a kernel)")
    notes.append(rounding_note(f"weights of {name}", qw, f"8-bit mantissa, exponent {qw.exp} "
                               f"({STORED[qw.sign]}, weight_exp {x_w})"))
    if qr is not None:
        notes.append(rounding_note(f"recurrent weights of {name}", qr, f"8-bit mantissa, exponent {qr.exp} "
                                   f"({STORED[qr.sign]}, weight_exp {x_r}, its own Dense)"))
    vth_err = float(np.max(np.abs(vth / 2.0**p - theta) / theta))
    b_err = float(np.max(np.abs(bias / 2.0**p - b_v), initial=0.0))
    thr = f"threshold {span(theta)} -> vth {span(vth)} (Lava vth {span(vth // 64)})"
    thr += ", exact" if vth_err == 0 else f", largest relative error {fmt(vth_err)}"
    bias_txt = ""
    if np.any(b_v != 0):
        bias_txt = (f"; bias {span(b_v)} -> {span(bias)} (13-bit mantissa << {span(bias_exp)})"
                    + (", exact" if b_err == 0 else f", largest error {fmt(b_err)} float units"))
    notes.append(f"scale of {name}: 1 float unit = 2^{p} voltage units; {thr}{bias_txt}")
    notes.append(f"decays of {name}: dv {span(dv)} (beta {span(beta)}, 12 bits: largest error {fmt(dv_err)}); "
                 f"{du_text}")
    if np.any(beta <= 0.0):
        notes.append(f"{name}: beta 0 held as dv 4095 (Lava's dv is 12-bit): 1/4096 of the voltage survives a step")
    if case == 3:
        notes.append(f"{name}: weights kept exact at the cost of headroom: a step whose inputs sum beyond "
                     f"{fmt(U_MAX / 2.0**p)} float units wraps the 24-bit current")
    elif case == 4:
        notes.append(f"{name}: thresholds and biases force a scale below the weights' own: the shifted weight sums "
                     f"are floored (weight_exp {x_w} < 0 drops low bits)")
    sets = len({(int(a), int(c), int(d)) for a, c, d in zip(du, dv, vth)})
    if sets > 1:
        notes.append(f"{name}: {sets} distinct (du, dv, vth) sets: Lava's LIF process takes one du, dv and vth per "
                     "population [@lavanc010, lava/proc/lif/process.py], so a Lava run needs one LIF process per set")
    return out, notes, ""


def _folded_conv(layer: Layer, dense: Layer, mult: int) -> Layer | None:
    """``dense`` (a conv layer with sum/avg pooling, deployed as its effective synapse map) as an integer
    convolution with the pooling folded into the kernel, or None.

    With stride 1, no dilation and non-overlapping pooling windows (kernel = stride ``s``), pooled output
    ``(Y, X)`` sums the conv outputs at ``(sY + dy, sX + dx)``, so its synapses are a convolution of stride
    ``s`` with the ``(kh + s_h - 1) x (kw + s_w - 1)`` kernel ``K'[a, b] = w * sum K[a - dy, b - dx]``
    (``w`` = 1/window for avg). The folded kernel is quantised like the map and kept only when its
    expansion equals the deployed map exactly; then the kernel runs as a convolution (channel-last vector
    adds) and the chip's conv compression applies, with no synapse changed.
    """
    if not layer.conv or layer.pool is None or layer.pool.kind not in ("sum", "avg") or layer.pool_in is not None:
        return None
    if tuple(layer.stride) != (1, 1) or tuple(layer.dilation) != (1, 1) or layer.pool.kernel != layer.pool.stride:
        return None
    K = np.asarray(layer.weight, np.float64)
    ph, pw = layer.pool.kernel
    co, ci, kh, kw = K.shape
    F = np.zeros((co, ci, kh + ph - 1, kw + pw - 1))
    for dy in range(ph):
        for dx in range(pw):
            F[:, :, dy:dy + kh, dx:dx + kw] += K
    if layer.pool.kind == "avg":
        F /= ph * pw
    q, m = loihi_weights(F.reshape(co, -1))
    if m != mult:
        return None
    try:
        cand = Layer(weight=(m * q.k).reshape(F.shape).astype(np.float32), bias=None, in_shape=layer.in_shape,
                     stride=(ph, pw), padding=layer.padding, groups=layer.groups, beta=layer.beta, alpha=layer.alpha,
                     threshold=layer.threshold, reset=layer.reset, weight_bits=8, integer=dense.integer,
                     name=layer.name)
    except InvalidNetworkError:
        return None
    if cand.out_shape != tuple(layer.out_shape) or not np.array_equal(effective_matrix(cand),
                                                                       np.asarray(dense.weight, np.float64)):
        return None
    return cand


def deploy_cuba(network: Network, *, chip: str, title: str, arithmetic: str) -> Deployed:
    """``network`` in Loihi's CUBA fixed point (see the module notes above and :data:`.numeric.FORMATS`).

    Neurons: snnTorch Leaky -> du 4096 (no current state), dv = round((1 - beta) 4096); Synaptic
    (CubaLIF) -> du = round((1 - alpha) 4096); IF -> dv 0. Weights: 8-bit mantissas per matrix with a
    power-of-two exponent (exact for weights already of the form k 2^e, |k| <= 127), recurrent weights
    with their own exponent. One voltage scale 2^p per layer keeps the float network's
    weight : threshold : bias ratios (chosen by ``_choose_scale``). Reset to zero in the spiking step;
    one step of delay per layer.
    """
    check_source(network, chip)
    reasons = [f"{lay.name}: max pooling of currents has no {title} neuron operation (a compartment only sums "
               "weighted inputs); use sum/avg pooling or a strided convolution"
               for lay in network.layers if lay.pool is not None and lay.pool.kind == "max"]
    if reasons:
        return Deployed.infeasible(chip, network, reasons, arithmetic=arithmetic)
    layers, notes, why = [], [FORMATS[chip]], []
    for layer in network.layers:
        out, layer_notes, bad = _cuba_layer(layer, title, arithmetic)
        notes.extend(layer_notes)
        if bad:
            why.append(bad)
        layers.append(out)
    if why:
        return Deployed.infeasible(chip, network, why, arithmetic=arithmetic)
    resets = sorted({lay.reset for lay in network.layers})
    if "subtract" in resets:
        notes.append(f"reset: snnTorch subtracts the threshold one step after a spike; {title} (Lava's LIF) sets the "
                     "voltage to zero in the step it spikes: charge above the threshold is lost")
    else:
        notes.append(f"reset: zero as in the float network, applied in the spiking step ({title}, Lava's LIF) "
                     "rather than the next (snnTorch)")
    notes.append(delay_note(title, len(layers), "Lava's Dense sends the previous step's sums"))
    return held(chip, network, layers, notes, arithmetic=arithmetic, changes_dynamics=True)


def deploy(network: Network) -> Deployed:
    """``network`` on Loihi [@davies2018]: the Loihi 2 format (Lava's bit-accurate models describe
    Loihi's own CUBA compartment), arithmetic ``"loihi-fixed"``. Loihi takes 1-9-bit weights, signed
    or unsigned [@davies2018, p. 87]; the weights are held as Lava's Dense holds them (mixed sign:
    9-bit signed values whose lowest bit is zero, i.e. 8 significant bits; single sign: 8 bits)."""
    return deploy_cuba(network, chip="loihi", title="Loihi", arithmetic="loihi-fixed")

class Loihi(ChipShell):
    name = "loihi"
    core_kind = "neurocores"
    place = staticmethod(place)
    formula = staticmethod(formula)
    deploy_fn = staticmethod(deploy)
