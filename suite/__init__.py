"""spikebench: what a spiking network costs (events, energy, latency, accuracy) on neuromorphic chips,
CPUs and GPUs.

Quick start::

    import spikebench as sb
    net = sb.Network.random(sizes=[2312, 500, 10], seed=0)
    spikes = sb.random_spikes(samples=8, timesteps=300, n_in=2312, density=0.005, seed=1)
    result = sb.simulate(net, spikes, backend="sparse-cpu")
    print(result.counts.synaptic_events, result.wall_time_s)

    # your own network (snnTorch module, NIR file or graph, or Network) on a standard workload:
    frame = sb.benchmark(my_snntorch_model, workload="nmnist", backends=["sparse-cpu"], chips="all")
"""

from .api import benchmark, simulate
from .backends import BACKENDS, SimulationResult
from .core import (
    COUNTS_SCHEMA,
    BackendUnavailableError,
    EventCounts,
    FileFormatError,
    InvalidNetworkError,
    InvalidSpikesError,
    Layer,
    LayerCounts,
    Network,
    SpikebenchError,
    SpikeTrain,
    UnknownNameError,
    random_spikes,
)

__version__ = "0.1.0"

__all__ = [
    "simulate", "benchmark", "BACKENDS", "SimulationResult", "COUNTS_SCHEMA", "EventCounts", "LayerCounts", "Layer", "Network",
    "SpikeTrain", "random_spikes", "SpikebenchError", "InvalidNetworkError", "InvalidSpikesError",
    "UnknownNameError", "FileFormatError", "BackendUnavailableError", "__version__",
]
