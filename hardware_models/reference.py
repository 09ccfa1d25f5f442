"""CPU and GPU reference rows: a dense time-stepped simulation (reference §1.6, §3 'GPU / CPU').

Every step computes every synapse (n_in n_out, plus n_out^2 when recurrent) and updates every
neuron, whatever the spikes: ops = T (dense MACs + neurons); weights (4 bytes, fp32) are read once
per step. E_dyn = ops e_op + bytes e_byte; latency = ops / throughput (a compute-bound floor; launch
and framework overhead are not calibrated); E_static = P_idle latency.
"""

from __future__ import annotations

from ._shell import ChipShell
from .base import NetworkProfile, PerInference, Placement, pace
from .params import ChipSheet

BYTES_PER_WEIGHT = 4  # fp32

ASSUMPTIONS = (
    "dense time-stepped simulation: cost independent of spike activity",
    "fp32 weights read once per step; one op per MAC and per neuron update (keras-spiking convention)",
    "latency is a compute-bound floor at the stated throughput; launch/framework overhead not modelled",
)


def place(profile: NetworkProfile, sheet: ChipSheet) -> Placement:
    return Placement(cores=1, chips=1, layer_cores=tuple(1 for _ in profile.layers), feasible=True,
                     assumptions=ASSUMPTIONS)


def formula(profile: NetworkProfile, pl: Placement, per: PerInference, real_time: bool):
    T = per.timesteps
    macs_step = sum(lp.n_in * lp.n_out + (lp.n_out * lp.n_out if lp.kind == "recurrent" else 0) for lp in profile.layers)
    ops = T * (macs_step + sum(lp.n_out for lp in profile.layers))
    weight_bytes = T * macs_step * BYTES_PER_WEIGHT

    def f(p):
        e_dyn = ops * p["e_op"] + weight_bytes * p["e_weight_byte"]
        latency = T * pace(ops / T / p["throughput"], per.timestep_s, real_time)
        static = p["p_idle"] * latency
        return {"energy_dynamic_j": e_dyn, "energy_static_j": static, "energy_j": e_dyn + static, "latency_s": latency}

    return f, []


class CPU(ChipShell):
    name = "cpu"
    core_kind = "-"
    event_driven = False
    place = staticmethod(place)
    formula = staticmethod(formula)


class GPU(ChipShell):
    name = "gpu"
    core_kind = "-"
    event_driven = False
    place = staticmethod(place)
    formula = staticmethod(formula)
