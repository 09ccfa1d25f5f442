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
