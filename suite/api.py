"""The Python entry point: ``spikebench.simulate``."""

from __future__ import annotations

from .backends import SimulationResult, get_backend
from .core.errors import InvalidNetworkError
from .core.network import Network
from .core.spikes import as_spike_train


def simulate(network: Network, spikes, backend: str = "sparse-cpu", device: str | None = None, *,
             record: bool = False, timestep_s: float | None = None, **options) -> SimulationResult:
    """Simulate ``network`` on ``spikes`` with the named backend.

    Args:
        network: a :class:`~spikebench.Network`.
        spikes: a :class:`~spikebench.SpikeTrain`, or a binary raster ``(samples, T, n_in)`` / ``(T, n_in)``.
        backend: ``"sparse-cpu"`` (event-driven reference) or ``"snntorch"``.
        device: ``None``/``"cpu"``, or a CUDA device such as ``"cuda"`` (snnTorch only).
        record: also return every layer's spike raster in ``result.layer_spikes``.
        timestep_s: seconds one step stands for, when ``spikes`` is a raster (default 1 ms).
        options: backend options (``threads`` for sparse-cpu; ``batch_size`` for snntorch).
    """
    if not isinstance(network, Network):
        raise InvalidNetworkError(f"expected a spikebench Network, got {type(network).__name__}")
    impl = get_backend(backend)
    train = as_spike_train(spikes, timestep_s=timestep_s)
    return impl.simulate(network, train, device=device, record=record, **options)
