"""Backends: one literal registry; names are resolved here, at the edge."""

from __future__ import annotations

from ..core.errors import UnknownNameError
from .base import Backend, SimulationResult
from .lava_backend import LavaBackend
from .snntorch_backend import SnnTorchBackend
from .sparse_cpu import SparseCPUBackend

BACKENDS: dict[str, type] = {
    SparseCPUBackend.name: SparseCPUBackend,
    SnnTorchBackend.name: SnnTorchBackend,
    LavaBackend.name: LavaBackend,
}


def get_backend(name: str) -> Backend:
    """The backend registered as ``name``; an unknown name is a one-line error listing the known ones."""
    try:
        return BACKENDS[name]()
    except (KeyError, TypeError):
        raise UnknownNameError(f"unknown backend {name!r}; choose one of: {', '.join(BACKENDS)}") from None


__all__ = ["BACKENDS", "Backend", "LavaBackend", "SimulationResult", "SparseCPUBackend", "SnnTorchBackend", "get_backend"]
