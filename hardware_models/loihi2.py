"""Intel Loihi 2: mapping and cost formulas (reference §1.2, §3 'Loihi 2', §6.2, §6.6).

Mapping: a layer takes max(neuron-bound (8,192 per core), synapse-memory-bound) cores; weights
above 8 bits are re-quantised; 128 cores per chip.

Convolutions (loihi2.toml notes): Loihi 2 stores a convolution's kernel, not its expansion (lava-dl
uses "Loihi 2's convolutional network compression"). Stored synapses = kernel weights x cores an
output channel spans (assumed: a core holding part of a channel keeps that channel's kernel, all
input channels); sum/avg pooling folds into the kernel (lava-dl netx pools are weighted sums); max
pooling of currents is not mapped (infeasible). The default lava-dl neuron is CUBA-LIF, so LIF, IF
and CubaLIF all map.

Energy: E_dyn = SE e_syn,all-in + NU e_nu, where e_syn,all-in is an upper bound derived from the
PilotNet LIF system measurements (no per-op energy is published); E_static = chips P_static T_inf.
Latency: simplified max-affine model (Timcheck 2026): t_step = max over the busiest core of
(synaptic ops t_syn, neuron updates t_nu, barrier), times T.
"""

from __future__ import annotations

from spikebench.core.network import Network

from ._shell import ChipShell
from .base import NetworkProfile, PerInference, Placement, ceil_div, pace
from .loihi import conv_reasons, deploy_cuba
from .numeric import Deployed
from .params import ChipSheet

ASSUMPTIONS = (
    "no per-op energy is published for Loihi 2: dynamic energy uses an all-in energy per synaptic op "
    "derived from system-level PilotNet LIF measurements (an upper bound at that workload's activity mix)",
    "synapse memory: weight_bits per synapse, no index overhead; no fan-in limit is published, none enforced",
    "synaptic events spread evenly over a layer's cores; the busiest core sets the step time (max-affine model)",
)
CONV_ASSUMPTIONS = (
    "conv layers: the kernel is stored, not its expansion (Loihi 2 convolutional compression); assumed once per "
    "core that holds part of an output channel (all input channels), without index overhead; sum/avg pooling "
    "folded into the kernel",
)


def place(profile: NetworkProfile, sheet: ChipSheet) -> Placement:
    n_core = sheet["neurons_per_core"].value
    mem_bits = sheet["syn_mem_per_core"].si() * 8
    wb_max = int(sheet["weight_bits_max"].value)
    reasons, layer_cores, bits = [], [], []
    feasible = True
    for lp in profile.layers:
        wb = max(1, lp.weight_bits)
        if wb > wb_max:
            reasons.append(f"{lp.name}: {wb}-bit weights exceed Loihi 2's {wb_max}-bit stored weights: "
                           f"estimated at {wb_max} bits (plus a weight exponent)")
            wb = wb_max
        bad = conv_reasons(lp, "Loihi 2")
        if bad:
            feasible = False
            reasons.extend(bad)
        stored = lp.stored_synapses("kernel", neurons_per_core=n_core)
        layer_cores.append(max(ceil_div(lp.n_out, n_core), ceil_div(stored * wb, mem_bits), 1))
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
    se_tot, nu_tot = per.synaptic_events, per.neuron_updates
    loads = [(per.layer_synaptic_events[k] / (c * T), lp.n_out / c)
             for k, (lp, c) in enumerate(zip(profile.layers, pl.layer_cores))]

    def f(p):
        e_dyn = se_tot * p["e_syn_allin"] + nu_tot * p["e_nu"]
        barrier = p["t_barrier_multichip"] if pl.chips > 1 else p["t_barrier"]
        t_core = max(max(se * p["t_syn"], nu * p["t_nu"]) for se, nu in loads)
        t_step = pace(max(t_core, barrier), per.timestep_s, real_time)
        latency = T * t_step
        static = pl.chips * p["p_static_chip"] * latency
        return {"energy_dynamic_j": e_dyn, "energy_static_j": static, "energy_j": e_dyn + static, "latency_s": latency,
                "latency_floor_s": T * barrier}  # no step ends before its barrier

    return f, []


def deploy(network: Network) -> Deployed:
    """``network`` on Loihi 2 in Lava's bit-accurate fixed point, arithmetic ``"loihi2-fixed"``
    [@lavanc010, lava/proc/lif/models.py PyLifModelBitAcc; lava/proc/dense/models.py PyDenseModelBitAcc;
    lava/utils/weightutils.py]: weights as Lava's Dense keeps them after ``clip_weights(num_bits=8)`` and
    ``truncate_weights(num_weight_bits=8)`` (mixed sign: even integers -256..254; 0..255 or -255..0 for
    single-sign matrices), stored weights <= 8 bit plus a weight exponent [@timcheck2026]; act_shift 6,
    24-bit u and v, 12-bit du (>= 1) and dv (<= 4095), vth a multiple of 64 (Lava vth << 6, 17-bit), bias
    13-bit mantissa << 0..7, reset to zero, one step of delay per layer. Rules in
    :func:`.loihi.deploy_cuba`."""
    return deploy_cuba(network, chip="loihi2", title="Loihi 2", arithmetic="loihi2-fixed")


class Loihi2(ChipShell):
    name = "loihi2"
    core_kind = "neurocores"
    place = staticmethod(place)
    formula = staticmethod(formula)
    deploy_fn = staticmethod(deploy)
