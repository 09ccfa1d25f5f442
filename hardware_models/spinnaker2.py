"""SpiNNaker 2: mapping and cost formulas (reference §1.4, §3 'SpiNNaker 2', §6.1, §6.6).

Mapping: a layer takes max(ceil(n_out / 1,024), ceil(synapse bits / 128 KiB)) PEs; 148 usable PEs
per chip.

Convolutions (spinnaker2.toml notes): synapse processing is ARM software, so a conv layer keeps its
kernel once in the SRAM of every PE that holds part of an output channel, as the SpiNNaker software
(sPyNNaker's local-only ConvolutionConnector: the kernel "shared by neurons in the post population")
does, and each event costs the same cycles as today. Pooling runs in software too (sPyNNaker pools
the input by averaging; max pooling of currents is assumed as a software kernel at the counted
pre-pool events), so the stored kernel is not enlarged by pooling. Any neuron model is software.

Energy (processor-based, software cycles): cycles = SE cycles_per_se + NU cycles_per_nu;
E_dyn = cycles e_cycle; E_static = (chips P_chip,static + PEs used P_PE,base) T_inf (unused PEs off,
a PE that finishes its tick work sleeps).
Latency: T max(tick, busiest PE's cycles per step / f_clk).
"""

from __future__ import annotations

from ._shell import ChipShell
from .base import NetworkProfile, PerInference, Placement, ceil_div, pace
from .params import ChipSheet

ASSUMPTIONS = (
    "no per-op energy is published for SpiNNaker 2: energies derive from system-level chip power states "
    "(PEs off / sleeping / CoreMark) converted to energy per ARM cycle; cycles per event from 12 M events/s per PE",
    "nominal at 0.5 V / 150 MHz; the high energy ends use 0.8 V values, the low latency end 300 MHz",
    "synapses stored in PE SRAM at weight_bits each (no row headers or indices); DRAM not used",
    "every synaptic event runs on the ARM software path (MAC array, packets and DMA not modelled)",
    "work spread evenly over a layer's PEs; the busiest PE sets the step time",
)
CONV_ASSUMPTIONS = (
    "conv layers: the kernel stored once per PE that holds part of an output channel (the SpiNNaker software's "
    "local-only convolution, sPyNNaker; carried over to SpiNNaker 2, not verified there); pooling in software; "
    "synaptic events cost the same cycles as dense ones",
)


def place(profile: NetworkProfile, sheet: ChipSheet) -> Placement:
    n_pe = sheet["neurons_per_pe"].value
    mem_bits = sheet["sram_per_pe"].si() * 8
    bits = [lp.stored_synapses("kernel", neurons_per_core=n_pe, fold_pooling=False) * max(1, lp.weight_bits)
            for lp in profile.layers]
    layer_pes = [max(ceil_div(lp.n_out, n_pe), ceil_div(b, mem_bits), 1) for lp, b in zip(profile.layers, bits)]
    total = sum(layer_pes)
    chips = max(1, ceil_div(total, sheet["pes_per_chip"].value))
    reasons = [f"multi-chip: {total} PEs need {chips} chips"] if chips > 1 else []
    notes = [f"{lp.name}: max pooling of currents assumed as a software kernel (no published SpiNNaker convolution "
             "kernel computes it)" for lp in profile.layers if lp.is_conv and lp.pool_kind == "max"]
    return Placement(cores=total, chips=chips, layer_cores=tuple(layer_pes), feasible=True,
                     reasons=tuple(reasons),
                     assumptions=ASSUMPTIONS + (CONV_ASSUMPTIONS if profile.has_conv else ()) + tuple(notes),
                     extra={"synapse_bits": tuple(bits)})


def formula(profile: NetworkProfile, pl: Placement, per: PerInference, real_time: bool):
    T = per.timesteps
    se_tot, nu_tot = per.synaptic_events, per.neuron_updates
    loads = [(per.layer_synaptic_events[k] / (c * T), per.layer_neuron_updates[k] / (c * T))
             for k, c in enumerate(pl.layer_cores)]

    def f(p):
        e_dyn = (se_tot * p["cycles_per_se"] + nu_tot * p["cycles_per_nu"]) * p["e_cycle"]
        busiest = max(se * p["cycles_per_se"] + nu * p["cycles_per_nu"] for se, nu in loads) / p["f_clk"]
        tick = per.timestep_s if real_time else p["tick"]
        latency = T * pace(busiest, tick, True)
        static = (pl.chips * p["p_chip_static"] + pl.cores * p["p_pe_base"]) * latency
        return {"energy_dynamic_j": e_dyn, "energy_static_j": static, "energy_j": e_dyn + static, "latency_s": latency}

    notes = [] if real_time else ["runs on its 1 ms timer tick (SpiNNaker convention); a step lasts "
                                  "max(tick, busiest PE's work)"]
    return f, notes


class SpiNNaker2(ChipShell):
    name = "spinnaker2"
    core_kind = "PEs"
    place = staticmethod(place)
    formula = staticmethod(formula)
