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
        wall_time_s: seconds the call took, everything inside the backend's ``simulate`` (preparing the
            network when it was not prepared before, loading compiled code, packing the input, the
            simulation, counting; CUDA work synchronised before the clock stops): what the user waited for.
        prepare_s: of which preparing the network (0 when its prepared form was reused: a network is
            prepared once per backend and kept with it).
        run_s: of which the simulation itself (input packing and the kernel or the time-step loop); the
            number kernel benchmarks compare.
        layer_spikes: when recording, one uint8 ``(samples, timesteps, n)`` raster per layer
            (the last one is ``output_spikes``); otherwise ``None``.
        backend: registry name of the backend; ``device``: where it ran (``"cpu"``, ``"cuda:0"``).
    """

    output_spikes: np.ndarray
    counts: EventCounts
    wall_time_s: float
    backend: str
    prepare_s: float = 0.0
    run_s: float | None = None  # None: the whole wall_time_s (a backend that does not split it)
    device: str = "cpu"
    layer_spikes: list[np.ndarray] | None = None
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.run_s is None:
            object.__setattr__(self, "run_s", float(self.wall_time_s) - float(self.prepare_s))

    def timing(self) -> str:
        """The timing split in words, for every place that publishes one."""
        return (f"{self.wall_time_s:.3g} s inside simulate: preparing the network {self.prepare_s:.3g} s, "
                f"simulating {self.run_s:.3g} s")

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
