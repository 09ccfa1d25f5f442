"""BrainChip Akida 1.0: mapping and cost formulas (reference §1.5, §3 'Akida', §6.3, §6.6).

Mapping: a layer takes ceil(synapse bits / (8 MB / 80)) NPs (at least one); weights at the nearest
supported precision (1, 2 or 4 bit; 8 bit in the input layer); more than 80 NPs run in several
passes on one chip; recurrent layers are not supported by Akida 1.0 (infeasible).

Energy: E_dyn = SE e_evMAC (one synaptic event = one MAC with non-zero input);
E_static = P_floor T_inf.
Latency: per step (frame), clocks = SE_step / (NPs x event-MACs per clock per NP)
+ [passes > 1] x weights x reload clocks per weight, over f_clk. Both constants come from the 18
AKD1500 AkidaNet rows (6 models x 3 mappings, vendor README): single-pass mappings run
0.134-0.148 event-MACs per clock per NP whatever the model (21-33 NPs), so the NPs working in
parallel set the speed; multi-pass mappings add 1.5-3.9 clocks per stored weight and frame (the
weights of every pass are reloaded each frame). A single rate for all models missed the 1.0-width
models by 2.5-3.6x.
"""

from __future__ import annotations

from ._shell import ChipShell
from .base import NetworkProfile, PerInference, Placement, ceil_div, pace
from .params import ChipSheet

SUPPORTED_BITS = (1, 2, 4)  # MetaTF model zoo (Akida 1.0); 8 bit only in the input layer
INPUT_LAYER_BITS = 8

ASSUMPTIONS = (
    "no per-op energy is published for Akida: the energy per event-MAC is derived from AKD1500 system-level "
    "measurements (ImageNet AkidaNets, floor subtracted); small networks are an extrapolation",
    "each timestep runs as one event-based frame; Akida 1.0 keeps no neuron state between frames, "
    "so LIF dynamics are not reproduced on chip (accuracy not modelled)",
    "NP memory: 8 MB SRAM split evenly over 80 NPs; weight_bits per synapse",
    "neuron updates cost no separate energy (contained in the per-event-MAC fit)",
    "latency: event-MACs spread evenly over the NPs used (0.137 per clock per NP, fitted on AKD1500 AkidaNets); "
    "with more than one pass every weight is reloaded once per frame; host transfer time is not modelled",
)


def nearest_supported(bits: int, *, input_layer: bool) -> int:
    if input_layer and bits > SUPPORTED_BITS[-1]:
        return INPUT_LAYER_BITS
    return min(SUPPORTED_BITS, key=lambda b: (abs(b - bits), -b))


def place(profile: NetworkProfile, sheet: ChipSheet) -> Placement:
    np_bits = sheet["sram_per_chip"].si() * 8 / sheet["nps_per_chip"].value
    reasons, nps = [], []
    feasible = True
    for k, lp in enumerate(profile.layers):
        wb = max(1, lp.weight_bits)
        eff = nearest_supported(wb, input_layer=(k == 0))
        if eff != wb:
            reasons.append(f"{lp.name}: {wb}-bit weights not supported: estimated at {eff} bits (nearest supported)")
        if lp.kind == "recurrent":
            feasible = False
            reasons.append(f"{lp.name}: recurrent layers are not supported by Akida 1.0")
        nps.append(max(1, ceil_div(lp.synapses * eff, np_bits)))
    total = sum(nps)
    passes = max(1, ceil_div(total, sheet["nps_per_chip"].value))
    if passes > 1:
        reasons.append(f"{total} NPs > {int(sheet['nps_per_chip'].value)}: runs in {passes} passes per frame "
                       "(reprogramming time added)")
    return Placement(cores=total, chips=1, layer_cores=tuple(nps), feasible=feasible, reasons=tuple(reasons),
                     assumptions=ASSUMPTIONS, extra={"passes": passes})


def formula(profile: NetworkProfile, pl: Placement, per: PerInference, real_time: bool):
    T = per.timesteps
    se_tot = per.synaptic_events
    nps = max(1, pl.cores)
    reload_weights = sum(lp.synapses for lp in profile.layers) if pl.extra["passes"] > 1 else 0

    def f(p):
        e_dyn = se_tot * p["e_evmac"]
        clocks_step = (se_tot / T / (nps * p["evmac_per_clock_per_np"])
                       + reload_weights * p["reload_clocks_per_weight"])
        latency = T * pace(clocks_step / p["f_clk"], per.timestep_s, real_time)
        static = p["p_static"] * latency
        return {"energy_dynamic_j": e_dyn, "energy_static_j": static, "energy_j": e_dyn + static, "latency_s": latency}

    return f, []


class Akida(ChipShell):
    name = "akida"
    core_kind = "NPs"
    place = staticmethod(place)
    formula = staticmethod(formula)
