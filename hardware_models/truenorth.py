"""IBM TrueNorth: mapping and cost formulas (reference §1.3, §3 'TrueNorth').

Mapping (256 axons x 256 neurons per core, 4,096 cores per chip):
* compute cores per layer = g x ceil(n_out / 256), with g = ceil(fan-in / 256) fan-in groups;
  g > 1 adds merge cores ceil(n_out g / 256) that sum the partial neurons (+1 tick);
* a neuron targets one axon on one core, so a source whose synapses span c = ceil(fan-out / 256)
  cores needs splitter neurons: ceil(sources c / 256) extra cores (+1 tick), and each of its spikes
  becomes c splitter events and c packets;
* more than 4 distinct weights per neuron (weight_bits >= 3) must be quantised to 4 axon-type values.

Energy: E_dyn = (SE + splitter events) e_SE + packets hops e_hop + chip-crossing packets 32 bit
e_link; E_static = chips P_static T_inf (whole chips stay powered).
Latency: (T + extra pipeline ticks) x tick, the tick stretched when a tick's synaptic events exceed
the chip's peak rate.
"""

from __future__ import annotations

from ._shell import ChipShell
from .base import NetworkProfile, PerInference, Placement, ceil_div, mean_hops
from .params import ChipSheet

TICK_FASTEST_S = 1e-3 / 21  # Akopyan et al. 2015: up to 21x real time measured

ASSUMPTIONS = (
    "neurons whose fan-in fits 256 axons are packed 256 per core with their inputs (local connectivity assumed "
    "when fan-in <= 256 but the layer has more sources)",
    "partial-sum neurons of split fan-in are modelled by their cores and one extra tick; their spikes are not counted",
    "mean hops per packet 2/3 sqrt(cores used); a packet crosses chips with probability 1 - 1/chips",
    "static energy is charged over the whole latency, including pipeline ticks",
)


def place(profile: NetworkProfile, sheet: ChipSheet) -> Placement:
    A = int(sheet["axons_per_core"].value)
    N = int(sheet["neurons_per_core"].value)
    nvals = int(sheet["weight_values_per_neuron"].value)
    reasons, layer_cores, copies, stages = [], [], [], 0
    for lp in profile.layers:
        if 2 ** max(1, lp.weight_bits) > nvals:
            reasons.append(f"{lp.name}: {lp.weight_bits}-bit weights quantised to {nvals} signed values per neuron "
                           "(binary crossbar x axon type); accuracy effect not modelled")
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
    return Placement(cores=total, chips=chips, layer_cores=tuple(layer_cores), feasible=True,
                     reasons=tuple(reasons), assumptions=ASSUMPTIONS,
                     extra={"copies": tuple(copies), "extra_ticks": extra_ticks})


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
    hops = mean_hops(min(pl.cores, 4096))
    crossing = packets * (1.0 - 1.0 / pl.chips)
    notes = [] if real_time else ["tick 1 ms nominal (real time, where the power figures were measured); "
                                  "the low end uses the fastest measured tick, 47.6 us (21x)"]
    if real_time and per.timestep_s < TICK_FASTEST_S:
        notes.append(f"timestep_s {per.timestep_s:g} s is shorter than TrueNorth's fastest measured tick (47.6 us); "
                     "the fastest tick is used")

    def f(p):
        tick = max(per.timestep_s, TICK_FASTEST_S) if real_time else p["tick"]
        tick = max(tick, events / T / pl.chips / p["peak_sops"])
        e_dyn = events * p["e_se"] + packets * hops * p["e_hop"] + crossing * p["packet_bits"] * p["e_chip_link_bit"]
        latency = ticks * tick
        static = pl.chips * p["p_static_chip"] * latency
        return {"energy_dynamic_j": e_dyn, "energy_static_j": static, "energy_j": e_dyn + static, "latency_s": latency}

    return f, notes


class TrueNorth(ChipShell):
    name = "truenorth"
    core_kind = "cores"
    place = staticmethod(place)
    formula = staticmethod(formula)
