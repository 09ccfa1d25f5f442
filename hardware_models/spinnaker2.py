"""SpiNNaker 2: mapping and cost formulas (reference §1.4, §3 'SpiNNaker 2', §6.1, §6.6).

Mapping: a layer takes max(ceil(n_out / 1,024), ceil(synapse bits / 128 KiB)) PEs; 148 usable PEs
per chip.

Convolutions (spinnaker2.toml notes): synapse processing is ARM software, so a conv layer keeps its
kernel once in the SRAM of every PE that holds part of an output channel, as the SpiNNaker software
(sPyNNaker's local-only ConvolutionConnector: the kernel "shared by neurons in the post population")
does, and each event costs the same cycles as today. Pooling runs in software too (sPyNNaker pools
the input by averaging; max pooling of currents is assumed as a software kernel at the counted
pre-pool events), so the stored kernel is not enlarged by pooling. Any neuron model is software.

Energy: each layer takes one of two paths. Software (every conv layer, and a dense layer where it is
cheaper): its synaptic events run on the ARM, SE cycles_per_se cycles. MAC array (a dense or recurrent
layer where it is cheaper, at each point of the constants): every step the layer's whole matrix-vector product,
M = n_in n_out (+ n_out^2 recurrent) 8-bit MACs at e_mac each, taking M / (PEs x 64 x utilization) cycles
on each of its PEs. Neuron updates run on the ARM either way (NU cycles_per_nu). E_dyn = ARM cycles e_cycle
+ MACs e_mac; E_static = (chips P_chip,static + PEs used P_PE,base) T_inf (unused PEs off, a PE that
finishes its tick work sleeps).
Per-PE DVFS (each PE its own power domain, [@scholze2026]): at the 0.5 V point, the PEs of a layer whose
work per step does not fit the tick at 150 MHz run at the 0.8 V level (300 MHz, e_cycle_hi, e_mac_hi,
p_pe_base_hi); the others stay at 0.5 V.
Latency: T max(tick, busiest PE's cycles per step / its clock).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from spikebench.core.network import Network

from ._shell import ChipShell, sheet_of
from .base import NetworkProfile, PerInference, Placement, ceil_div, pace
from .numeric import (
    FORMATS,
    Deployed,
    check_source,
    held,
    pow2_mantissas,
    rounding_note,
    span,
)
from .params import ChipSheet

ASSUMPTIONS = (
    "no per-op energy is published for SpiNNaker 2: energies derive from system-level chip power states "
    "(PEs off / sleeping / CoreMark) converted to energy per ARM cycle; cycles per event from 12 M events/s per PE",
    "PEs at the operating point's level (0.5 V / 150 MHz by default, or 0.8 V / 300 MHz); at 0.5 V a layer whose "
    "PEs cannot finish a tick's work at 150 MHz runs them at 0.8 V / 300 MHz (per-PE DVFS: each PE is its own power "
    "domain), the rest stay at 0.5 V",
    "synapses stored in PE SRAM at weight_bits each (no row headers or indices); DRAM not used",
    "a dense layer takes the MAC array when its dense MACs cost less than its events on the ARM (decided at each "
    "point of the constants), conv layers the ARM; packets, DMA and DRAM not modelled",
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


def dense_macs(lp) -> float:
    """MACs of one step of a dense (or recurrent) layer's full matrix-vector product on the MAC array."""
    return float(lp.n_in * lp.n_out + (lp.n_out * lp.n_out if lp.kind == "recurrent" else 0))


def mac_layers(profile: NetworkProfile, per: PerInference, p: dict) -> tuple[bool, ...]:
    """Per layer: whether it takes the MAC array at constants ``p`` (a dense or recurrent layer whose dense
    MACs per inference cost less than its synaptic events on the ARM): the choice :func:`formula` makes."""
    out = []
    for k, lp in enumerate(profile.layers):
        if lp.kind not in ("dense", "recurrent"):
            out.append(False)
            continue
        mac = per.timesteps * dense_macs(lp) * p["e_mac"]
        arm = per.layer_synaptic_events[k] * p["cycles_per_se"] * p["e_cycle"]
        out.append(mac < arm)
    return tuple(out)


def formula(profile: NetworkProfile, pl: Placement, per: PerInference, real_time: bool):
    T = per.timesteps
    macs = [T * dense_macs(lp) if lp.kind in ("dense", "recurrent") else 0.0 for lp in profile.layers]
    se = per.layer_synaptic_events
    cores = pl.layer_cores

    def f(p):
        mac = mac_layers(profile, per, p)  # each dense layer takes the cheaper path at these constants
        mac_rate = p["macs_per_pe_cycle"] * p["mac_util_fc"]
        tick = per.timestep_s if real_time else p["tick"]
        e_dyn = pe_base = busiest = 0.0
        for k in range(len(cores)):
            arm = (0.0 if mac[k] else se[k] * p["cycles_per_se"]) + per.layer_neuron_updates[k] * p["cycles_per_nu"]
            # its busiest PE's cycles per step: its share of the layer's MACs or ARM events, and of its neurons
            cyc = ((macs[k] / mac_rate if mac[k] else se[k] * p["cycles_per_se"])
                   + per.layer_neuron_updates[k] * p["cycles_per_nu"]) / (cores[k] * T)
            hi = bool(p["per_pe_dvfs"]) and cyc / p["f_clk"] > tick  # per-PE DVFS: overrunning PEs go up a level
            e_dyn += arm * p["e_cycle_hi" if hi else "e_cycle"] + (macs[k] if mac[k] else 0.0) * p[
                "e_mac_hi" if hi else "e_mac"]
            pe_base += cores[k] * p["p_pe_base_hi" if hi else "p_pe_base"]
            busiest = max(busiest, cyc / p["f_clk_hi" if hi else "f_clk"])
        latency = T * pace(busiest, tick, True)
        static = (pl.chips * p["p_chip_static"] + pe_base) * latency
        return {"energy_dynamic_j": e_dyn, "energy_static_j": static, "energy_j": e_dyn + static, "latency_s": latency,
                "latency_floor_s": T * tick}  # a step never ends before its timer tick

    notes = [] if real_time else ["runs on its 1 ms timer tick (SpiNNaker convention); a step lasts "
                                  "max(tick, busiest PE's work)"]
    on_mac = mac_layers(profile, per, sheet_of("spinnaker2").nominal_si())
    if any(on_mac):
        names = ", ".join(lp.name for lp, m in zip(profile.layers, on_mac) if m)
        notes.append(f"MAC array for {names} (at the nominal constants): every step the whole matrix-vector product, "
                     "cheaper than their events on the ARM; the other layers' events on the ARM")
    return f, notes


# ---- numeric format: deploy(network) -> Deployed --------------------------------------------------

S2_KMAX = 127  # py-spinnaker2 scales weights to [-127, 127] (s2_nir.py); conv weights are int8


def _scaled(v, unit: float):
    return None if v is None else np.asarray(v, np.float64) / unit


def deploy(network: Network) -> Deployed:
    """``network`` on SpiNNaker 2 with py-spinnaker2, arithmetic ``"spinnaker2-float32-w8"``.

    Format [@pyspinnaker2, spinnaker2/s2_nir.py]: the NIR converter maps LIF and IF layers to
    ``lif_no_delay`` (``lif_conv2d`` after a convolution) and CubaLIF to ``lif_curr_exp_no_delay``
    neurons whose threshold, alpha_decay, exc_decay and i_offset are floats (float32 on the Cortex-M4F
    PEs [@scholze2026]), with reset ``reset_by_subtraction`` or ``reset_to_v_reset``; it scales weights
    to [-127, 127] (conv weights are cast to int8). Here every layer's weights (input and recurrent,
    which add into one voltage) become signed 8-bit integers times one power of two per layer
    (the converter's scale is 127 / max|w|; a power of two keeps weights already of the form k 2^e
    exact), and threshold and biases are divided by that power of two: the float network up to the
    rounding of its weights. The ``lif`` model with synaptic delays holds weights in [-15, 15] (4 bit
    plus sign); the delay-free models are used. Not verified: py-spinnaker2's order of update, spike
    and reset within a step and the one-tick delay per projection of the delay-free models (the float
    model keeps snnTorch's semantics), and the conversion's handling of a current's bias (see notes).
    """
    check_source(network, "spinnaker2")
    arithmetic = "spinnaker2-float32-w8"
    layers, notes = [], [FORMATS["spinnaker2"]]
    for layer in network.layers:
        mats = [layer.weight] + ([layer.recurrent_weight] if layer.recurrent_weight is not None else [])
        exps = [pow2_mantissas(m, -S2_KMAX, S2_KMAX).exp for m in mats if np.any(m != 0)]
        e = max(exps, default=0)
        qw = pow2_mantissas(layer.weight, -S2_KMAX, S2_KMAX, exp=e)
        qr = None if layer.recurrent_weight is None else pow2_mantissas(layer.recurrent_weight, -S2_KMAX, S2_KMAX,
                                                                         exp=e)
        unit = 2.0**e
        out = dataclasses.replace(layer, weight=qw.k.astype(np.float32),
                                  recurrent_weight=None if qr is None else qr.k.astype(np.float32),
                                  bias=_scaled(layer.bias, unit), recurrent_bias=_scaled(layer.recurrent_bias, unit),
                                  threshold=np.asarray(layer.threshold, np.float64) / unit, weight_bits=8)
        layers.append(out)
        kind = "lif_curr_exp_no_delay" if layer.alpha is not None else (
            "lif_conv2d" if layer.conv else "lif_no_delay")
        desc = f"signed 8-bit integers x 2^{e} ({kind}; one power-of-two step per layer"
        notes.append(rounding_note(f"weights of {layer.name}", qw,
                                   desc + (", shared with its recurrent weights)" if qr is not None else ")")))
        if qr is not None:
            notes.append(rounding_note(f"recurrent weights of {layer.name}", qr, desc + ", shared with its input)"))
        notes.append(f"threshold and biases of {layer.name} in units of the weight step 2^{e} (threshold "
                     f"{span(out.threshold)}, float32 on the PE): exact")
        if layer.conv and layer.pool is not None and layer.pool.kind != "max":
            notes.append(f"{layer.name}: {layer.pool.kind} pooling of the convolution's currents assumed as a software "
                         "step on the PEs (py-spinnaker2's Conv2DProjection pools the input spikes before a "
                         "convolution; not verified how its converter maps pooling after one)")
        if layer.pool is not None and layer.pool.kind == "max":
            notes.append(f"{layer.name}: max pooling of currents assumed as a software kernel on the PEs (no published "
                         "SpiNNaker convolution kernel computes it)")
        if layer.alpha is not None and (layer.bias is not None and np.any(layer.bias != 0)):
            notes.append(f"{layer.name}: snnTorch adds the bias to the synaptic current; py-spinnaker2's converter puts "
                         "it into the voltage's i_offset at its steady-state value bias / (1 - alpha), so on the chip "
                         "its onset is immediate (not modelled here)")
    resets = sorted({lay.reset for lay in network.layers})
    notes.append("reset: " + " and ".join({"subtract": "reset_by_subtraction", "zero": "reset_to_v_reset (v_reset 0)"}[r]
                                           for r in resets)
                 + " as in the float network; not verified: whether the PE applies it in the spiking step (snnTorch "
                 "applies it one step later)")
    notes.append("timing: a projection delivers a spike one tick later on the chip (py-spinnaker2's lif model: "
                 "hardware delay = delay + 1; not verified for the delay-free models); the float model passes spikes "
                 "on within the step")
    return held("spinnaker2", network, layers, notes, arithmetic=arithmetic, changes_dynamics=False)


class SpiNNaker2(ChipShell):
    name = "spinnaker2"
    core_kind = "PEs"
    place = staticmethod(place)
    formula = staticmethod(formula)
    deploy_fn = staticmethod(deploy)
