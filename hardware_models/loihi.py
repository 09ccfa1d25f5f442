"""Intel Loihi (first generation): mapping and cost formulas (reference §1.1, §3 'Loihi 1').

Mapping: a layer takes max(neuron-bound, synapse-memory-bound) cores, times the number of
4,096-axon groups its inputs need; 128 cores per chip, up to 768 chips.

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

from ._shell import ChipShell
from .base import NetworkProfile, PerInference, Placement, ceil_div, mean_hops, pace
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
    if chips > sheet["max_chips"].value:
        feasible = False
        reasons.append(f"needs {chips} chips, more than the largest Loihi system ({int(sheet['max_chips'].value)})")
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
        static = pl.chips * (p["p_static_chip"] + p["p_mgmt_chip"]) * latency
        return {"energy_dynamic_j": e_dyn, "energy_static_j": static, "energy_j": e_dyn + static, "latency_s": latency}

    return f, []


class Loihi(ChipShell):
    name = "loihi"
    core_kind = "neurocores"
    place = staticmethod(place)
    formula = staticmethod(formula)
