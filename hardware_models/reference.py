"""CPU and GPU reference rows: a dense time-stepped simulation (reference §1.6, §3 'GPU / CPU').

Every step computes every synapse (n_in n_out, plus n_out^2 when recurrent) and updates every
neuron, whatever the spikes: ops = T (dense MACs + neurons); weights (4 bytes, fp32) are read once
per step. A conv layer's dense MACs are C_out H_conv W_conv (C_in / groups) kh kw (the convolution
evaluated at every output position, as a framework's conv2d does), its weights the kernel; pooling
adds one op per window element. A batch of B inputs (``estimate(batch=B)``) computes B x the MACs per
step but reads the weights and launches the kernels once per step for the whole batch, and its inputs
finish together: per inference, the weight energy and the idle power over the batch's time are divided
by B. E_dyn = ops e_op + bytes e_byte; latency = T (ops per step / throughput + kernel launches
per step x t_launch); E_static = P_idle latency. The GPU launches KERNELS_PER_LAYER_STEP kernels per
layer and step (t_launch 5-20 us, HolisticTraceAnalysis documentation); the CPU has no launch term.
CPU idle power and throughput are placeholders, not from the reference (grade unverified): every
CPU estimate says so in its assumptions.
"""

from __future__ import annotations

from spikebench.core.network import Network

from ._shell import ChipShell
from .base import NetworkProfile, PerInference, Placement, pace
from .numeric import Deployed, check_source
from .params import ChipSheet

BYTES_PER_WEIGHT = 4  # fp32
KERNELS_PER_LAYER_STEP = 2  # one synaptic matrix product + one neuron-update kernel per layer and step

ASSUMPTIONS = (
    "dense time-stepped simulation: cost independent of spike activity",
    "fp32 weights read once per step; one op per MAC and per neuron update (keras-spiking convention)",
)
GPU_NOTES = (
    f"latency = compute at peak throughput + {KERNELS_PER_LAYER_STEP} kernel launches per layer and step "
    "(5-20 us each, HolisticTraceAnalysis documentation: CPU-side launch time); framework overhead beyond "
    "launches and host-device transfers are not modelled",
)
CPU_NOTES = (
    "CPU throughput (1e10 op/s, 1e9-1e11) is a placeholder, not from the reference (grade unverified): "
    "the latency is an order of magnitude only; use the harness's measured wall time",
    "CPU idle power is not in the reference (placeholder 0 W, grade unverified): the static energy is 0 and "
    "the energy is the per-op dynamic part only, an underestimate of a real package's energy",
    "CPU energy per op (70 pJ, 4.6 pJ-8.6 nJ) is unverified (Horowitz talk figure)",
)


def place(profile: NetworkProfile, sheet: ChipSheet) -> Placement:
    """One processor. With a ``memory`` constant (the GPU), the fp32 weights of the dense simulation
    must fit in it: a larger network is infeasible (sharding is not modelled). The CPU sheet states no
    memory, so its mappings stay feasible (see cpu.toml)."""
    reasons: tuple[str, ...] = ()
    feasible = True
    if "memory" in sheet.params:
        need = sum(lp.dense_weights() for lp in profile.layers) * BYTES_PER_WEIGHT
        mem = sheet["memory"]
        if need > mem.si():
            feasible = False
            reasons = (f"the dense simulation's fp32 weights need {need / 1e9:,.1f} GB, more than one GPU's "
                       f"{mem.value:g} GB ({mem.source}); sharding over several GPUs is not modelled",)
    return Placement(cores=1, chips=1, layer_cores=tuple(1 for _ in profile.layers), feasible=feasible,
                     reasons=reasons, assumptions=ASSUMPTIONS)


def formula(profile: NetworkProfile, pl: Placement, per: PerInference, real_time: bool, batch: int = 1):
    """Per inference of a batch of ``batch`` inputs run together: every step computes the batch's MACs
    (``batch`` x the network's) at the device's throughput, reads the weights once and launches its kernels
    once for the whole batch; the batch finishes together (latency = the batch's time), and the idle power
    over that time, the weight reads and the launches are shared by its ``batch`` inferences."""
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise ValueError(f"batch must be an integer >= 1, got {batch!r}")
    if batch > 1 and real_time:
        raise ValueError("a batch waits for all its inputs: batching and real-time pacing exclude each other")
    T = per.timesteps
    macs_step = sum(lp.dense_macs() + lp.pool_ops() for lp in profile.layers)
    ops = T * (macs_step + sum(lp.n_out for lp in profile.layers))
    weight_bytes = T * sum(lp.dense_weights() for lp in profile.layers) * BYTES_PER_WEIGHT
    launches_step = KERNELS_PER_LAYER_STEP * len(profile.layers)

    def f(p):
        e_dyn = ops * p["e_op"] + weight_bytes / batch * p["e_weight_byte"]
        t_step = batch * ops / T / p["throughput"] + launches_step * p.get("t_launch", 0.0)
        latency = T * pace(t_step, per.timestep_s, real_time)
        static = p["p_idle"] * latency / batch
        return {"energy_dynamic_j": e_dyn, "energy_static_j": static, "energy_j": e_dyn + static, "latency_s": latency}

    notes = [] if batch == 1 else [
        f"batch of {batch}: energy per inference with the weight reads, kernel launches and idle power over the "
        f"batch's time shared by its {batch} inputs; latency = the whole batch's time (its inputs finish together)"]
    return f, notes


def cpu_formula(profile: NetworkProfile, pl: Placement, per: PerInference, real_time: bool, batch: int = 1):
    f, notes = formula(profile, pl, per, real_time, batch)
    return f, [*notes, *CPU_NOTES]


def gpu_formula(profile: NetworkProfile, pl: Placement, per: PerInference, real_time: bool, batch: int = 1):
    f, notes = formula(profile, pl, per, real_time, batch)
    return f, [*notes, *GPU_NOTES]


def deploy(network: Network, *, chip: str = "cpu") -> Deployed:
    """A CPU or GPU runs the float32 network as trained: the deployment is the network itself."""
    check_source(network, chip)
    return Deployed(chip=chip, network=network, source=network, feasible=True,
                    notes=("runs the float32 network as trained",), arithmetic="float32", changes_dynamics=False)


def deploy_cpu(network: Network) -> Deployed:
    return deploy(network, chip="cpu")


def deploy_gpu(network: Network) -> Deployed:
    return deploy(network, chip="gpu")


class CPU(ChipShell):
    name = "cpu"
    core_kind = "-"
    batched = True
    deployment_fields = ()  # a dense reference row has no placement to state
    event_driven = False
    place = staticmethod(place)
    formula = staticmethod(cpu_formula)
    deploy_fn = staticmethod(deploy_cpu)


class GPU(ChipShell):
    name = "gpu"
    core_kind = "-"
    batched = True
    deployment_fields = ()  # a dense reference row has no placement to state
    event_driven = False
    place = staticmethod(place)
    formula = staticmethod(gpu_formula)
    deploy_fn = staticmethod(deploy_gpu)
