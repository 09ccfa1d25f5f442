"""What every backend returns, and the protocol it implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from ..core.counts import EventCounts
from ..core.network import Network
from ..core.spikes import SpikeTrain


@dataclass(frozen=True, kw_only=True, eq=False)
class SimulationResult:
    """Outcome of one simulation.

    Attributes:
        output_spikes: uint8 ``(samples, timesteps, n_out)`` spikes of the last layer.
        counts: exact :class:`EventCounts` of the run.
        wall_time_s: seconds spent simulating (input packing and the simulation itself; network
            preparation and JIT compilation excluded; CUDA work synchronised before the clock stops).
        layer_spikes: when recording, one uint8 ``(samples, timesteps, n)`` raster per layer
            (the last one is ``output_spikes``); otherwise ``None``.
        backend: registry name of the backend; ``device``: where it ran (``"cpu"``, ``"cuda:0"``).
    """

    output_spikes: np.ndarray
    counts: EventCounts
    wall_time_s: float
    backend: str
    device: str = "cpu"
    layer_spikes: list[np.ndarray] | None = None
    extra: dict = field(default_factory=dict)

    def spike_counts(self) -> np.ndarray:
        """int64 ``(samples, n_out)``: output spikes per sample and output neuron."""
        return self.output_spikes.sum(axis=1, dtype=np.int64)

    def predictions(self) -> np.ndarray:
        """Rate-coded class per sample: the output neuron with most spikes (lowest index on ties)."""
        return self.spike_counts().argmax(axis=1)


class Backend(Protocol):
    """A simulator of a :class:`Network` on binned spikes."""

    name: str

    def simulate(self, network: Network, spikes: SpikeTrain, *, device: str | None = None,
                 record: bool = False, **options) -> SimulationResult:
        ...
