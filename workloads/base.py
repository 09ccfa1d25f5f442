"""What a workload is to the harness: data in, a reference network, a score out.

A workload turns its dataset (real files, or the offline generator's files in the same format)
into binned spikes for one split, ships a trained reference network, and scores a simulation's
output spikes with its task metric. It imports only ``spikebench.core``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from spikebench.core import InvalidSpikesError, Network, SpikeTrain

PROVENANCE_TAGS = ("synthetic", "real-sample", "real-full")


@dataclass(frozen=True, kw_only=True, eq=False)
class WorkloadData:
    """One split of a workload, ready to simulate.

    Attributes:
        spikes: binned input spikes, one sample per item to score.
        labels: int ``(samples,)``: the class (classification) or 1 = anomalous beat (anomaly).
        provenance: ``synthetic``, ``real-sample`` or ``real-full`` (see datasets reference §3.5).
        source: where the data came from (folder, files, generator and seed).
        extra: task-specific arrays (e.g. beat times for ECG latency).
    """

    spikes: SpikeTrain
    labels: np.ndarray
    provenance: str
    source: str
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.provenance not in PROVENANCE_TAGS:
            raise InvalidSpikesError(f"provenance must be one of {PROVENANCE_TAGS}, got {self.provenance!r}")
        if len(self.labels) != self.spikes.samples:
            raise InvalidSpikesError(f"{len(self.labels)} labels for {self.spikes.samples} samples")


@dataclass(frozen=True, kw_only=True)
class Metric:
    """A task metric value with its unit (``"1"`` for fractions) and optional interval."""

    name: str
    value: float
    unit: str = "1"
    low: float | None = None
    high: float | None = None
    note: str = ""


class ShippedNetworkWorkload:
    """Shared constructor of the workloads: where the reference network is, data sizes, baseline.

    ``network_path`` defaults to the network shipped in ``workloads/networks/<name>.nir``;
    ``data_params`` override the generator sizes in ``default_data`` (another cache folder);
    ``with_baseline`` turns the logistic-regression baseline on or off in ``score``.
    """

    name: str
    default_data: dict = {}

    def __init__(self, *, network_path: str | Path | None = None, data_params: dict | None = None,
                 with_baseline: bool = True) -> None:
        from .training import shipped_paths

        self.network_path = Path(network_path) if network_path else shipped_paths(self.name)[0]
        self.data_params = {**self.default_data, **(data_params or {})}
        self.with_baseline = with_baseline
        self._network: Network | None = None


class Workload(Protocol):
    name: str
    task: str  # "classification" or "anomaly"

    def load(self, split: str, *, data_dir: Path | None = None, require_real: bool = False,
             limit: int | None = None, seed: int = 0) -> WorkloadData:
        ...

    def reference_network(self) -> Network:
        ...

    def score(self, output_spikes: np.ndarray, data: WorkloadData) -> list[Metric]:
        ...
