"""spikebench workloads: N-MNIST, SHD and ECG anomaly detection.

``WORKLOADS`` is the literal registry (name -> workload class); :func:`get_workload` resolves a
name at the edges (CLI, harness). Each workload implements :class:`~spikebench.workloads.base.Workload`:
``load(split, data_dir=, require_real=, limit=, seed=)``, ``reference_network()`` and
``score(output_spikes, data)``, on the shared skeleton :class:`~spikebench.workloads.base.WorkloadBase`.
One module per dataset (``nmnist``, ``shd``, ``ecg``: its files, checksums, provenance check);
generic data locations and the offline cache: :mod:`spikebench.workloads.data`; the training
recipe as data: :mod:`spikebench.workloads.train_config` (training itself, which needs a backend,
is :mod:`spikebench.training`, ``spikebench train``).
"""

from __future__ import annotations

from spikebench.core.errors import UnknownNameError

from .base import PROVENANCE_TAGS, Metric, Workload, WorkloadData
from .ecg import EcgAnomalyWorkload
from .nmnist import NmnistWorkload
from .shd import ShdWorkload

WORKLOADS = {
    "nmnist": NmnistWorkload,
    "shd": ShdWorkload,
    "ecg-anomaly": EcgAnomalyWorkload,
}


def get_workload(name: str, **kwargs):
    """A new instance of the workload registered as ``name`` (keyword arguments go to its constructor)."""
    try:
        cls = WORKLOADS[name]
    except (KeyError, TypeError):
        raise UnknownNameError(f"unknown workload {name!r}; known workloads: {', '.join(WORKLOADS)}") from None
    return cls(**kwargs)


__all__ = ["WORKLOADS", "get_workload", "Workload", "WorkloadData", "Metric", "PROVENANCE_TAGS",
           "NmnistWorkload", "ShdWorkload", "EcgAnomalyWorkload"]
