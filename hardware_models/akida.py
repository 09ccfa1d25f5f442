"""BrainChip Akida 1.0: mapping and cost formulas (reference §1.5, §3 'Akida', §6.3, §6.6).

Mapping: a layer takes ceil(synapse bits / (8 MB / 80)) NPs (at least one); weights at the nearest
supported precision (1, 2 or 4 bit; 8 bit in the input layer); more than 80 NPs run in several
passes on one chip; recurrent layers are not supported by Akida 1.0 (infeasible); nor is a dense layer of more than
57,334 inputs (the FullyConnected limit). Every mapping is one chip (``max_chips`` = 1: the AKD1000
PCIe board is the only system the reference names).

Convolutions (akida.toml notes): convolution is native (InputConvolutional, Convolutional,
SeparableConvolutional NPs) with shared weights, so a conv layer's NP memory holds its kernel
(``weights``), not the expansion; dense layers run as FullyConnected. The AKD1000 limits of the
Akida 1.0 hardware-constraints page are enforced: square kernels 1/3/5/7 (input layer 3/5/7),
stride 1 or 2 (2 only with 3 x 3; input layer 1-3), 'same' padding (input layer also 'valid'), no
dilation, no grouped convolution, max pooling 1 x 1 or 2 x 2 with stride <= size (input layer also
1 x 2 / 2 x 1, stride = size), average pooling only over the whole map (global average pooling);
pooling of the input spikes has no Akida layer. Anything else is infeasible with the limit named.

Energy: E_dyn = SE e_evMAC (one synaptic event = one MAC with non-zero input);
E_static = P_floor T_inf.
Latency: per step (frame), clocks = SE_step / (NPs x event-MACs per clock per NP)
+ [passes > 1] x weights x reload clocks per weight, at least one clock per layer (so a frame without
events still costs time and static energy), over f_clk. Both constants come from the 18
AKD1500 AkidaNet rows (6 models x 3 mappings, vendor README): single-pass mappings run
0.134-0.148 event-MACs per clock per NP whatever the model (21-33 NPs), so the NPs working in
parallel set the speed; multi-pass mappings add 1.5-3.9 clocks per stored weight and frame (the
weights of every pass are reloaded each frame). A single rate for all models missed the 1.0-width
models by 2.5-3.6x.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from spikebench.core.network import Layer, Network

from ._shell import ChipShell
from .base import NetworkProfile, PerInference, Placement, ceil_div, pace
from .numeric import (
    FORMATS,
    Deployed,
    check_source,
    held,
    layer_profile,
    rounding_note,
    scaled_mantissas,
    span,
)
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
CONV_ASSUMPTIONS = (
    "conv layers: native convolution NPs store the kernel once (weights x bits), split over NPs without "
    "replication; a conv synaptic event is one event-MAC",
)


def _same_padding(k: int, p: int) -> bool:
    return p == (k - 1) // 2


def conv_limits(lp, *, input_layer: bool) -> list[str]:
    """Why a conv layer does not fit Akida 1.0 (AKD1000) convolution NPs; empty when it does."""
    out = []
    kh, kw = lp.kernel
    sh, sw = lp.stride or (1, 1)
    ph, pw = lp.padding or (0, 0)
    what = "InputConvolutional" if input_layer else "Convolutional"
    kernels = (3, 5, 7) if input_layer else (1, 3, 5, 7)
    if kh != kw or kh not in kernels:
        out.append(f"{lp.name}: kernel {kh}x{kw}: Akida 1.0 {what} takes square kernels "
                   f"{'/'.join(map(str, kernels))}")
    strides = (1, 2, 3) if input_layer else (1, 2)
    if sh != sw or sh not in strides or (not input_layer and sh == 2 and kh != 3):
        out.append(f"{lp.name}: stride {sh}x{sw}: Akida 1.0 {what} takes stride {'/'.join(map(str, strides))}"
                   + ("" if input_layer else " (2 only with 3x3 kernels)"))
    same = _same_padding(kh, ph) and _same_padding(kw, pw)
    if not (same or (input_layer and (ph, pw) == (0, 0))):
        out.append(f"{lp.name}: padding {ph}x{pw}: Akida 1.0 {what} pads 'same' only"
                   + (" or 'valid'" if input_layer else "") + f" ({(kh - 1) // 2}x{(kw - 1) // 2} here)")
    if (lp.dilation or (1, 1)) != (1, 1):
        out.append(f"{lp.name}: dilation {lp.dilation[0]}x{lp.dilation[1]}: Akida 1.0 convolutions are not dilated")
    if (lp.groups or 1) != 1:
        out.append(f"{lp.name}: groups={lp.groups}: Akida 1.0 has no grouped convolution layer (depthwise "
                   "convolution only fused inside SeparableConvolutional, without neurons of its own)")
    if lp.pool_in is not None:
        out.append(f"{lp.name}: pooling of the input spikes ({lp.pool_in.describe()}) has no Akida 1.0 layer")
    pool = lp.pool
    if pool is not None:
        g = lp.conv_geometry()
        if pool.kind == "max":
            sizes = ((1, 1), (1, 2), (2, 1), (2, 2)) if input_layer else ((1, 1), (2, 2))
            stride_ok = (pool.stride == pool.kernel) if input_layer else (
                pool.stride[0] == pool.stride[1] and pool.stride[0] in (1, 2) and pool.stride[0] <= pool.kernel[0])
            if pool.kernel not in sizes or not stride_ok:
                out.append(f"{lp.name}: {pool.describe()}: Akida 1.0 {what} max-pools "
                           + ("1x1, 1x2, 2x1 or 2x2 with stride = size" if input_layer
                              else "1x1 or 2x2 with stride 1 or 2 (<= size)"))
        elif tuple(pool.kernel) != tuple(g.conv_hw):
            out.append(f"{lp.name}: {pool.describe()}: Akida 1.0 averages only over the whole map (global average "
                       "pooling); other sum/avg pooling of currents has no Akida layer")
    return out


def nearest_supported(bits: int, *, input_layer: bool) -> int:
    if input_layer and bits > SUPPORTED_BITS[-1]:
        return INPUT_LAYER_BITS
    return min(SUPPORTED_BITS, key=lambda b: (abs(b - bits), -b))


def place(profile: NetworkProfile, sheet: ChipSheet) -> Placement:
    np_bits = sheet["sram_per_chip"].si() * 8 / sheet["nps_per_chip"].value
    reasons, nps, bits = [], [], []
    feasible = True
    for k, lp in enumerate(profile.layers):
        wb = max(1, lp.weight_bits)
        eff = nearest_supported(wb, input_layer=(k == 0))
        if eff != wb:
            reasons.append(f"{lp.name}: {wb}-bit weights not supported: estimated at {eff} bits (nearest supported)")
        if lp.kind == "recurrent":
            feasible = False
            reasons.append(f"{lp.name}: recurrent layers are not supported by Akida 1.0")
        if lp.is_conv:
            bad = conv_limits(lp, input_layer=(k == 0))
            if bad:
                feasible = False
                reasons.extend(bad)
        elif lp.n_in > sheet["fc_inputs_max"].value:
            feasible = False
            reasons.append(f"{lp.name}: a FullyConnected layer takes at most {int(sheet['fc_inputs_max'].value):,} "
                           f"inputs, this one {lp.n_in:,} ({sheet['fc_inputs_max'].source})")
        if lp.neuron == "cubalif":
            reasons.append(f"{lp.name}: CubaLIF neurons: an Akida 1.0 neuron keeps no state between frames (no leak, "
                           "no synaptic current); estimated from the events, the dynamics are not reproduced")
        stored = lp.stored_synapses("kernel", fold_pooling=False)  # dense: every synapse (FullyConnected)
        nps.append(max(1, ceil_div(stored * eff, np_bits)))
        bits.append(stored * eff)
    total = sum(nps)
    passes = max(1, ceil_div(total, sheet["nps_per_chip"].value))
    if passes > 1:
        reasons.append(f"{total} NPs > {int(sheet['nps_per_chip'].value)}: runs in {passes} passes per frame "
                       "(reprogramming time added)")
    return Placement(cores=total, chips=1, layer_cores=tuple(nps), feasible=feasible, reasons=tuple(reasons),
                     assumptions=ASSUMPTIONS + (CONV_ASSUMPTIONS if profile.has_conv else ()),
                     extra={"passes": passes, "synapse_bits": tuple(bits)})


def formula(profile: NetworkProfile, pl: Placement, per: PerInference, real_time: bool):
    T = per.timesteps
    se_tot = per.synaptic_events
    nps = max(1, pl.cores)
    reload_weights = (sum(lp.stored_synapses("kernel", fold_pooling=False) for lp in profile.layers)
                      if pl.extra["passes"] > 1 else 0)
    n_layers = len(profile.layers)

    def f(p):
        e_dyn = se_tot * p["e_evmac"]
        # a frame without events still passes through every layer: it takes time and static energy
        clocks_step = max(se_tot / T / (nps * p["evmac_per_clock_per_np"])
                          + reload_weights * p["reload_clocks_per_weight"], n_layers * p["min_clocks_per_layer"])
        latency = T * pace(clocks_step / p["f_clk"], per.timestep_s, real_time)
        static = p["p_static"] * latency
        return {"energy_dynamic_j": e_dyn, "energy_static_j": static, "energy_j": e_dyn + static, "latency_s": latency,
                "latency_floor_s": T * n_layers * p["min_clocks_per_layer"] / p["f_clk"]}  # a clock per layer

    return f, []


# ---- numeric format: deploy(network) -> Deployed --------------------------------------------------

AKIDA_WEIGHT_BITS = 4  # Convolutional / FullyConnected weights 1, 2 or 4 bit [@brainchipmetatf, Akida 1.0 hw]
AKIDA_KMAX = 2 ** (AKIDA_WEIGHT_BITS - 1) - 1  # CNN2SNN MaxPerAxisQuantizer: integers -7..7
AKIDA_FC_INPUTS_MAX = 57334  # FullyConnected input H x W x C <= 57334 [@brainchipmetatf, Akida 1.0 hw]


def _akida_reasons(layer: Layer) -> list[str]:
    name = layer.name
    out = []
    if layer.recurrent:
        out.append(f"{name}: recurrent layers are not supported by Akida 1.0: its layers (InputConvolutional, "
                   "Convolutional, SeparableConvolutional, FullyConnected) are feed-forward")
    if layer.conv:
        out += conv_limits(layer_profile(layer), input_layer=False)
    elif layer.pool_in is not None:
        out.append(f"{name}: pooling of the input spikes ({layer.pool_in.kind} {layer.pool_in.kernel[0]}x"
                   f"{layer.pool_in.kernel[1]}) has no Akida 1.0 layer")
    elif layer.n_in > AKIDA_FC_INPUTS_MAX:
        out.append(f"{name}: a FullyConnected layer takes at most {AKIDA_FC_INPUTS_MAX} inputs, this one {layer.n_in}")
    return out


def deploy(network: Network) -> Deployed:
    """``network`` on Akida 1.0 (AKD1000), arithmetic ``"akida-int4"``.

    Format [@brainchipmetatf, Akida 1.0 hardware constraints; CNN2SNN MaxPerAxisQuantizer]: 4-bit
    weights per output channel, integers -7..7 times max|w_c| / 7 (the quantiser of Akida 1.0's
    CNN2SNN); 1-bit activations (the spikes); no recurrent layer; the Akida 1.0 conv limits of
    :func:`conv_limits`. The input is spikes (1 bit), so no layer is an InputConvolutional (8-bit
    weights on 8-bit images of 1 or 3 channels): every layer is a Convolutional or FullyConnected
    layer with 4-bit weights (assumed: the spikes enter through a 1-bit input layer).

    Akida 1.0 layers are convolutional or dense layers with quantised activations that carry no
    potential from one input frame to the next (each timestep runs as one frame, as the Akida cost
    model assumes; inferred from the layer descriptions, not stated as such in the pages read): a
    LIF, IF or CubaLIF layer is deployed stateless, beta -> 0, no synaptic
    current, reset to zero, so a neuron spikes when this step's input exceeds its threshold; notes
    say so and ``changes_dynamics`` is True. The deployed layer is a float layer holding the integer
    weights, with threshold and bias divided by each neuron's weight step (the chip compares the
    integer sum with an integer threshold; as the sum is an integer, nothing more is rounded).
    """
    check_source(network, "akida")
    arithmetic = "akida-int4"
    reasons = [r for lay in network.layers for r in _akida_reasons(lay)]
    if reasons:
        return Deployed.infeasible("akida", network, reasons, arithmetic=arithmetic)
    layers, notes = [], [FORMATS["akida"]]
    stateful = []
    for layer in network.layers:
        w = np.asarray(layer.weight, np.float64)
        step = np.abs(w).reshape(w.shape[0], -1).max(axis=1) / AKIDA_KMAX
        q = scaled_mantissas(w, step, AKIDA_KMAX)
        unit = np.where(step > 0, step, 1.0)
        per_neuron = np.repeat(unit, layer.n_out // w.shape[0])  # conv: channel c's neurons are a block (C order)
        bias = None if layer.bias is None else np.asarray(layer.bias, np.float64) / unit
        changed = bool(np.any(layer.beta != 0) or layer.alpha is not None or layer.reset != "zero")
        if changed:
            stateful.append(f"{layer.name} (beta {span(layer.beta)}"
                            + ("" if layer.alpha is None else f", alpha {span(layer.alpha)}") + f", {layer.reset} reset)")
        out = dataclasses.replace(layer, weight=q.k.astype(np.float32), bias=bias, beta=0.0, alpha=None,
                                  threshold=np.asarray(layer.threshold, np.float64) / per_neuron, reset="zero",
                                  weight_bits=AKIDA_WEIGHT_BITS)
        layers.append(out)
        notes.append(rounding_note(f"weights of {layer.name}", q, "4-bit signed per output channel (integers "
                                   f"-{AKIDA_KMAX}..{AKIDA_KMAX} x max|w_c|/{AKIDA_KMAX})"))
        notes.append(f"threshold{' and bias' if bias is not None else ''} of {layer.name}: in units of each "
                     f"{'channel' if layer.conv else 'neuron'}'s weight step ({span(step)}): threshold "
                     f"{span(out.threshold)}; nothing is rounded: the weighted sum is an integer, so the chip's "
                     "integer threshold (floor of threshold - bias) decides alike")
    if stateful:
        notes.append("neurons made stateless: an Akida 1.0 neuron keeps no potential between frames (each timestep "
                     f"runs as one frame): {', '.join(stateful)} -> beta 0, no synaptic current, reset to zero; "
                     "a neuron spikes when this step's input exceeds its threshold")
    notes.append("activations: 1-bit spikes in and out of every layer [@brainchipmetatf, Akida 1.0 hardware "
                 "constraints]; assumed: the input spikes enter through a 1-bit input layer (an InputConvolutional "
                 "takes 8-bit images of 1 or 3 channels)")
    return held("akida", network, layers, notes, arithmetic=arithmetic, changes_dynamics=bool(stateful))


class Akida(ChipShell):
    name = "akida"
    core_kind = "NPs"
    deployment_fields = ("chips", "layer_cores", "passes")
    place = staticmethod(place)
    formula = staticmethod(formula)
    deploy_fn = staticmethod(deploy)
