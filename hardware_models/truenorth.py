"""IBM TrueNorth: mapping and cost formulas (reference §1.3, §3 'TrueNorth').

Mapping (256 axons x 256 neurons per core, 4,096 cores per chip):
* compute cores per layer = g x ceil(n_out / 256), with g = ceil(fan-in / 256) fan-in groups;
  g > 1 adds merge cores ceil(n_out g / 256) that sum the partial neurons (+1 tick);
* a neuron targets one axon on one core, so a source whose synapses span c = ceil(fan-out / 256)
  cores needs splitter neurons: ceil(sources c / 256) extra cores (+1 tick), and each of its spikes
  becomes c splitter events and c packets;
* more than 4 distinct weights per neuron (weight_bits >= 3) must be quantised to 4 axon-type values.

Convolutions (truenorth.toml notes): a crossbar stores every synapse (no weight sharing), and every
synapse of a neuron must sit on the one core whose 256 axons feed it. A conv layer whose neurons have
fan-in > 256 is infeasible (a partial neuron on another core would spike, not add its current);
otherwise it is tiled: each core takes th x tw neighbouring output positions of co output channels
of one group, as many neurons as fit 256 neurons and 256 axons (the input positions the tile reads,
of the group's C_in / groups channels); an input read by several cores needs splitter neurons as
above. Sum/avg pooling folds into the synapses; max pooling of currents and CubaLIF neurons (a
synaptic-current state) do not exist on TrueNorth (infeasible).

Energy: E_dyn = (SE + splitter events) e_SE + chip-crossing packets 32 bit e_link; E_static = chips
P_static T_inf (whole chips stay powered). e_SE (2.3 pJ) is the slope of a whole-chip power fit against
the synaptic-event rate [@akopyan2015, Fig. 17]: the on-chip routing of the spikes that carry those events
is inside it, so no per-hop energy is added on top (it was, before: the 2.3 pJ per spike-hop of
[@merolla2014, SM S5] counted the routing twice). Packets that leave a chip are not in that single-chip
fit: their link energy stays.
Latency: (T + extra pipeline ticks) x tick, the tick stretched when a tick's synaptic events exceed
the chip's peak rate.
"""

from __future__ import annotations

import numpy as np

from spikebench.core.fixed_point import DECAY_UNITY, IntegerNeurons
from spikebench.core.network import Layer, Network

from ._shell import ChipShell
from .base import NetworkProfile, PerInference, Placement, ceil_div
from .numeric import (
    FORMATS,
    Deployed,
    check_source,
    conv_fold_note,
    delay_note,
    effective_matrix,
    fmt,
    held,
    span,
    ternary_rows,
    total_bias,
)
from .params import ChipSheet

TICK_FASTEST_S = 1e-3 / 21  # Akopyan et al. 2015: up to 21x real time measured

ASSUMPTIONS = (
    "neurons whose fan-in fits 256 axons are packed 256 per core with their inputs (local connectivity assumed "
    "when fan-in <= 256 but the layer has more sources)",
    "partial-sum neurons of split fan-in are modelled by their cores and one extra tick; their spikes are not counted",
    "a packet crosses chips with probability 1 - 1/chips (on-chip routing is inside the per-event energy)",
    "static energy is charged over the whole latency, including pipeline ticks",
)
CONV_ASSUMPTIONS = (
    "conv layers: every synapse stored in the crossbars (no weight sharing); cores tiled by neighbouring output "
    "positions x output channels of one group so that a tile's inputs fit 256 axons; splitters fan an input out "
    "to the mean number of tiles that read it (rounded up)",
)


def conv_tiles(lp, axons_per_core: int, neurons_per_core: int):
    """Best tile of a conv layer: (th, tw, co, axons, cores, copies), or None if no tile fits.

    A tile is th x tw neighbouring output positions of co output channels of one group; it reads
    (C_in / groups) x needed_rows(th) x needed_cols(tw) inputs (one axon each). The tile with the most
    neurons (then the fewest axons) is used for the whole layer. ``copies``: cores an input spike must
    reach: the mean number of tiles whose window holds an input position, x the channel chunks.
    """
    g = lp.conv_geometry(fold_max=True)
    cin_g, cout_g = g.c_in // g.groups, g.c_out // g.groups
    rows, cols = g.rows, g.cols
    best = None
    for th in range(1, rows.n_out + 1):
        if cin_g * rows.needed[th - 1] > axons_per_core:
            break
        for tw in range(1, cols.n_out + 1):
            axons = cin_g * rows.needed[th - 1] * cols.needed[tw - 1]
            co = min(cout_g, neurons_per_core // (th * tw))
            if axons > axons_per_core or co < 1:
                break
            key = (th * tw * co, -axons)
            if best is None or key > best[0]:
                best = (key, th, tw, co, axons)
    if best is None:
        return None
    _, th, tw, co, axons = best
    tiles_h, tiles_w, chunks = ceil_div(rows.n_out, th), ceil_div(cols.n_out, tw), ceil_div(cout_g, co)
    cores = g.groups * tiles_h * tiles_w * chunks
    cover = (max(1.0, tiles_h * rows.needed[th - 1] / rows.n_in) * max(1.0, tiles_w * cols.needed[tw - 1] / cols.n_in))
    copies = max(1, ceil_div(cover * chunks, 1))
    return th, tw, co, axons, cores, copies


def _place_conv(lp, A: int, N: int, reasons: list[str]) -> tuple[int, int, int, bool]:
    """(cores, copies, extra pipeline stages, feasible) of one conv layer."""
    feasible = True
    if lp.pool_kind == "max":
        feasible = False
        reasons.append(f"{lp.name}: max pooling of currents does not exist on TrueNorth (a neuron only adds its "
                       "weighted inputs); use sum/avg pooling or a strided convolution")
    if lp.fan_in_max > A:
        reasons.append(f"{lp.name}: a neuron's fan-in {lp.fan_in_max} exceeds TrueNorth's {A} axons per core: all "
                       "synapses of a neuron must be on the one crossbar feeding it, and TrueNorth cannot sum partial "
                       f"currents across cores (a partial neuron spikes); regroup the convolution so that "
                       f"(C_in/groups) x kh x kw <= {A}")
        return max(1, ceil_div(lp.fan_in_max, A) * ceil_div(lp.n_out, N)), 1, 0, False
    tile = conv_tiles(lp, A, N)
    if tile is None:  # a sparse kernel: its non-zero fan-in fits, a dense tile does not
        per_core = max(1, min(N, A // max(1, lp.fan_in_max)))
        cores = ceil_div(lp.n_out, per_core)
        copies = max(1, ceil_div(lp.fan_out_mean, per_core))
        reasons.append(f"{lp.name}: convolution placed {per_core} neurons per core (fan-in {lp.fan_in_max}, "
                       f"inputs assumed disjoint): {cores} cores")
    else:
        th, tw, co, axons, cores, copies = tile
        reasons.append(f"{lp.name}: convolution tiled {th}x{tw} positions x {co} channels per core ({axons} axons, "
                       f"{th * tw * co} neurons): {cores} cores")
    stages = 0
    if copies > 1:
        split = ceil_div(lp.axons * copies, N)
        cores += split
        stages = 1
        reasons.append(f"{lp.name}: each input reaches {copies} cores but a neuron targets one: "
                       f"{split} splitter cores added (+1 tick)")
    return cores, copies, stages, feasible


def place(profile: NetworkProfile, sheet: ChipSheet) -> Placement:
    A = int(sheet["axons_per_core"].value)
    N = int(sheet["neurons_per_core"].value)
    nvals = int(sheet["weight_values_per_neuron"].value)
    reasons, layer_cores, copies, stages = [], [], [], 0
    feasible = True
    for lp in profile.layers:
        if 2 ** max(1, lp.weight_bits) > nvals:
            reasons.append(f"{lp.name}: {lp.weight_bits}-bit weights quantised to {nvals} signed values per neuron "
                           "(binary crossbar x axon type); accuracy effect not modelled")
        if lp.neuron == "cubalif":
            feasible = False
            reasons.append(f"{lp.name}: CubaLIF neurons need a synaptic-current state; a TrueNorth neuron has one "
                           "membrane potential (inputs added directly, then a leak)")
        if lp.is_conv:
            cores, c, extra, ok = _place_conv(lp, A, N, reasons)
            feasible = feasible and ok
            stages += extra
            layer_cores.append(cores)
            copies.append(c)
            continue
        groups = max(1, ceil_div(lp.fan_in_max, A))
        cores = groups * max(1, ceil_div(lp.n_out, N))
        if groups > 1:
            merge = ceil_div(lp.n_out * groups, A)
            cores += merge
            stages += 1
            reasons.append(f"{lp.name}: fan-in {lp.fan_in_max} > {A}: split into {groups} partial neurons each, "
                           f"{groups * ceil_div(lp.n_out, N) - ceil_div(lp.n_out, N) + merge} extra cores (+1 tick)")
        c = max(1, ceil_div(lp.fan_out_mean, N)) if groups == 1 else max(1, ceil_div(lp.n_out, N))
        if c > 1:
            split = ceil_div(lp.axons * c, N)
            cores += split
            stages += 1
            reasons.append(f"{lp.name}: each source reaches {c} cores but a neuron targets one: "
                           f"{split} splitter cores added (+1 tick)")
        layer_cores.append(cores)
        copies.append(c)
    total = sum(layer_cores)
    chips = max(1, ceil_div(total, sheet["cores_per_chip"].value))
    if chips > 1:
        reasons.append(f"multi-chip: {total} cores need {chips} chips")
    extra_ticks = len(profile.layers) - 1 + stages
    bits = tuple(lp.stored_synapses("expanded") for lp in profile.layers)  # one crossbar bit per synapse
    return Placement(cores=total, chips=chips, layer_cores=tuple(layer_cores), feasible=feasible,
                     reasons=tuple(reasons), assumptions=ASSUMPTIONS + (CONV_ASSUMPTIONS if profile.has_conv else ()),
                     extra={"copies": tuple(copies), "extra_ticks": extra_ticks, "synapse_bits": bits})


def formula(profile: NetworkProfile, pl: Placement, per: PerInference, real_time: bool):
    T = per.timesteps
    copies = pl.extra["copies"]
    split_events = 0.0
    packets = 0.0
    for k, lp in enumerate(profile.layers):
        src = per.layer_spikes_in[k] + (per.layer_spikes_out[k] if lp.kind == "recurrent" else 0.0)
        if copies[k] > 1:
            split_events += src * copies[k]
        packets += src * copies[k]
    events = per.synaptic_events + split_events
    ticks = T + pl.extra["extra_ticks"]
    crossing = packets * (1.0 - 1.0 / pl.chips)
    notes = [] if real_time else ["tick 1 ms nominal (real time, where the power figures were measured); "
                                  "the low end uses the fastest measured tick, 47.6 us (21x)"]
    if real_time and per.timestep_s < TICK_FASTEST_S:
        notes.append(f"timestep_s {per.timestep_s:g} s is shorter than TrueNorth's fastest measured tick (47.6 us); "
                     "the fastest tick is used")

    def f(p):
        tick = max(per.timestep_s, TICK_FASTEST_S) if real_time else p["tick"]
        tick = max(tick, events / T / pl.chips / p["peak_sops"])
        e_dyn = events * p["e_se"] + crossing * p["packet_bits"] * p["e_chip_link_bit"]  # routing inside e_se
        latency = ticks * tick
        static = pl.chips * p["p_static_chip"] * latency
        return {"energy_dynamic_j": e_dyn, "energy_static_j": static, "energy_j": e_dyn + static, "latency_s": latency}

    return f, notes


# ---- numeric format: deploy(network) -> Deployed --------------------------------------------------

TN_AXONS = 256
TN_S_MAX = 255  # a signed 9-bit axon-type weight: magnitudes up to 255 of either sign [@merolla2014, SM S8]
TN_STATE_BITS = 20  # membrane potential: 20-bit signed [@merolla2014, SM S3, S8]
TN_V_MAX = 2 ** (TN_STATE_BITS - 1) - 1


def _tn_reasons(layer: Layer) -> list[str]:
    """Why ``layer`` has no TrueNorth form (empty when it has one)."""
    out = []
    name = layer.name
    if layer.alpha is not None:
        out.append(f"{name}: CubaLIF neurons need a synaptic-current state; a TrueNorth neuron has one membrane "
                   "potential to which inputs are added directly [@merolla2014, SM Table S2]")
    if layer.pool is not None and layer.pool.kind == "max":
        out.append(f"{name}: max pooling of currents does not exist on TrueNorth (a neuron only adds its weighted "
                   "inputs); use sum/avg pooling or a strided convolution")
    elif not layer.plain:
        fan = int(layer.profile()["fan_in_max"])
        if fan > TN_AXONS:
            out.append(f"{name}: a neuron's fan-in {fan} exceeds TrueNorth's {TN_AXONS} axons per core: all synapses of "
                       "a convolution neuron must sit on the crossbar feeding it (as the TrueNorth cost model maps it)")
    return out


def _tn_layer(layer: Layer):
    """``(deployed layer, notes)`` of one IF layer in TrueNorth's integer format."""
    name = layer.name
    notes = []
    fold = conv_fold_note(layer)
    if fold:
        notes.append(fold)
    w = effective_matrix(layer)
    t, a = ternary_rows(w)
    rec = layer.recurrent_weight
    if rec is not None:
        r = np.asarray(rec, np.float64)
        tr, ar = ternary_rows(r)
    else:
        r, tr, ar = None, None, np.zeros(layer.n_out)
    theta = np.asarray(layer.threshold, np.float64)
    b = total_bias(layer)
    amax = np.maximum(a, ar)
    s = np.where(amax > 0, TN_S_MAX / np.where(amax > 0, amax, 1.0), float(TN_S_MAX))
    worst_pos = (t > 0).sum(axis=1) * a + ((tr > 0).sum(axis=1) * ar if tr is not None else 0.0)
    worst_neg = (t < 0).sum(axis=1) * a + ((tr < 0).sum(axis=1) * ar if tr is not None else 0.0)
    worst = np.maximum(worst_pos, worst_neg) + np.abs(b)
    limits = [s, TN_V_MAX / theta]
    limits.append(np.where(worst > 0, TN_V_MAX / np.where(worst > 0, worst, 1.0), np.inf))
    s = np.min(np.stack(limits), axis=0)
    m_in = np.where(a > 0, np.clip(np.rint(a * s), 1, TN_S_MAX), 0).astype(np.int64)
    m_rec = np.where(ar > 0, np.clip(np.rint(ar * s), 1, TN_S_MAX), 0).astype(np.int64)
    alpha = np.maximum(1, np.rint(theta * s)).astype(np.int64)  # TrueNorth threshold: spike at V >= alpha
    bias = np.clip(np.rint(b * s), -TN_V_MAX, TN_V_MAX).astype(np.int64)
    neurons = IntegerNeurons(n=layer.n_out, du=DECAY_UNITY, dv=0, bias=bias, vth=alpha - 1,
                             reset="subtract" if layer.reset == "subtract" else "zero", reset_sub=alpha,
                             weight_exp=0, recurrent_exp=0, act_shift=0, state_bits=TN_STATE_BITS, delay=1,
                             arithmetic="truenorth-int")
    out = Layer(weight=(t * m_in[:, None]).astype(np.float32),
                recurrent_weight=None if tr is None else (tr * m_rec[:, None]).astype(np.float32),
                bias=b.astype(np.float32) if np.any(b != 0) else None, beta=1.0, threshold=layer.threshold,
                reset=layer.reset, weight_bits=2, integer=neurons, name=name)

    def ternary_note(what, x, tt, mags, types):
        nz = x != 0
        zeroed = 100.0 * np.count_nonzero(nz & (tt == 0)) / max(1, np.count_nonzero(nz))
        rows = np.any(tt != 0, axis=1)
        approx = tt * (mags / np.where(s > 0, s, 1.0))[:, None]
        err = 100.0 * np.linalg.norm(approx - x) / max(np.linalg.norm(x), 1e-300)
        return (f"{what} of {name}: trinary per neuron (the L2-optimal +-s_j, 0 of each neuron's weights), through axon "
                f"types {types} with weights +s_j and -s_j, s_j {span(mags[rows]) if rows.any() else '-'} of "
                f"{TN_S_MAX}; {zeroed:.1f} % of weights set to zero, relative L2 error {err:.1f} %")

    notes.append(ternary_note("weights", w, t, m_in, "0/1"))
    if r is not None:
        notes.append(ternary_note("recurrent weights", r, tr, m_rec, "2/3"))
    thr_err = float(np.max(np.abs(alpha / s - theta) / theta))
    txt = (f"threshold/leak of {name}: 1 float unit = {span(s)} membrane units per neuron; threshold {span(theta)} -> "
           f"alpha {span(alpha)} (spike at V >= alpha, the linear reset subtracts alpha), "
           + ("exact" if thr_err == 0 else f"largest relative error {fmt(thr_err)}"))
    if np.any(b != 0):
        b_err = float(np.max(np.abs(bias / s - b)))
        txt += (f"; bias {span(b)} -> constant leak {span(bias)}"
                + (", exact" if b_err == 0 else f", largest error {fmt(b_err)} float units"))
    notes.append(txt + " (leak and threshold widths not verified: bounded here by the 20-bit membrane)")
    used = int(np.count_nonzero(np.any(t != 0, axis=0))) + (
        int(np.count_nonzero(np.any(tr != 0, axis=0))) if tr is not None else 0)
    if 2 * used > TN_AXONS:
        g = ceil_div(2 * used, TN_AXONS)
        notes.append(f"{name}: its neurons read up to {2 * used} axons (a + and a - copy of each of {used} inputs) "
                     f"but a core has {TN_AXONS}: each neuron's fan-in is split over {g} cores whose partial sums a "
                     "merge stage adds (+1 tick); the functional model sums the split partial inputs exactly and "
                     "does not model the merge's own quantisation (nor its tick)")
    return out, notes


def deploy(network: Network) -> Deployed:
    """``network`` on TrueNorth, arithmetic ``"truenorth-int"``.

    Feasible for IF networks (beta = 1, no synaptic current, no max pooling, conv fan-in <= 256).
    Each neuron's weights become trinary (the L2-optimal +-a_j / 0 approximation of its row, Esser et
    al. 2016 train such weights [@esser2016]): every input reaches a core through two axons whose
    types carry the neuron's weights +s_j and -s_j (signed 9-bit, |s_j| <= 255), recurrent spikes
    through the other two types [@merolla2014, SM S1, S8]. Per neuron, 1 float unit = s_j / a_j
    membrane units (s_j = 255 for the larger of the input and recurrent magnitudes, less if the
    threshold, the bias or one tick's worst-case input would leave the 20-bit membrane). The bias is
    the integer leak, the threshold alpha = round(theta s_j / a_j) (spike at V >= alpha:
    ``vth = alpha - 1``), the reset linear (subtract alpha, ``reset_sub = alpha``) or normal (to 0)
    as the float network's ([@cassidy2013]: "six reset modes"; only the abstract was read, so the
    linear mode's form V - alpha is not checked against the paper's text). Verified through verbatim
    quotations of [@merolla2014]: 4 axon types, signed 9-bit weights, the 20-bit signed membrane,
    V(t) = V(t-1) - leak + inputs with spike at V >= alpha, 256 axons per core, delays of 1-15 ticks.
    Not verified: the widths of leak and threshold (only the 20-bit membrane bounds them here); not
    modelled: TrueNorth's negative threshold (the floor of V), its
    stochastic modes, and the merge stage of a split fan-in.
    """
    check_source(network, "truenorth")
    arithmetic = "truenorth-int"
    leaky = [f"{lay.name} (beta {span(lay.beta)})" for lay in network.layers
             if lay.alpha is None and np.any(lay.beta < 1.0)]
    reasons = []
    if leaky:
        reasons.append(f"multiplicative leak in {', '.join(leaky)}: a leak of beta < 1 has no TrueNorth form; a "
                       "TrueNorth neuron's leak is a constant added every tick (V(t) = V(t-1) - leak + inputs, "
                       "[@merolla2014, SM Table S2]; [@cassidy2013]), never a fraction of its potential; remedy: "
                       "train an IF network (beta = 1), whose bias becomes the constant leak")
    reasons += [r for lay in network.layers for r in _tn_reasons(lay)]
    if reasons:
        return Deployed.infeasible("truenorth", network, reasons, arithmetic=arithmetic)
    layers, notes = [], [FORMATS["truenorth"]]
    for layer in network.layers:
        out, layer_notes = _tn_layer(layer)
        layers.append(out)
        notes.extend(layer_notes)
    if any(lay.reset == "subtract" for lay in network.layers):
        notes.append("reset: TrueNorth's linear reset (V - alpha) in the spiking tick [@cassidy2013]; snnTorch "
                     "subtracts the threshold one step after the spike")
    if any(lay.reset == "zero" for lay in network.layers):
        notes.append("reset: TrueNorth's normal reset to 0 in the spiking tick; snnTorch resets one step later")
    notes.append("membrane: 20-bit signed [@merolla2014, SM S8]; TrueNorth's negative threshold (a floor on V) is not "
                 "modelled: the potential saturates at +-(2^19 - 1) here")
    notes.append(delay_note("TrueNorth", len(layers), "axonal delays of 1-15 ticks, [@merolla2014, SM S1]"))
    return held("truenorth", network, layers, notes, arithmetic=arithmetic, changes_dynamics=True)


class TrueNorth(ChipShell):
    name = "truenorth"
    core_kind = "cores"
    place = staticmethod(place)
    formula = staticmethod(formula)
    deploy_fn = staticmethod(deploy)
