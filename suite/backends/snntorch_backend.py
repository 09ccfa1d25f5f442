"""Backend ``snntorch``: the same network as snnTorch modules, stepped densely on CPU or CUDA.

Counts come from the recorded spikes through the shared counting rule
(:func:`spikebench.core.counts.count_from_activity`), so they are comparable with the reference
kernel's in-kernel counts by construction of the definitions, not of the code.
"""

from __future__ import annotations

import time

import numpy as np

from ..core.counts import count_from_activity
from ..core.errors import BackendUnavailableError, InvalidSpikesError
from ..core.network import Network
from ..core.spikes import SpikeTrain
from .base import SimulationResult


def _torch():
    try:
        import snntorch  # noqa: F401
        import torch
    except ImportError as exc:
        raise BackendUnavailableError(f"backend 'snntorch' needs torch and snntorch ({exc}); pip install torch snntorch") from None
    return torch


def resolve_device(torch, device: str | None):
    if device in (None, "cpu"):
        return torch.device("cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise BackendUnavailableError(f"unknown device {device!r}; use 'cpu' or 'cuda[:N]'") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise BackendUnavailableError(f"device {device!r} requested but CUDA is not available to torch here")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise BackendUnavailableError(f"device {device!r} does not exist ({torch.cuda.device_count()} CUDA devices)")
    elif dev.type != "cpu":
        raise BackendUnavailableError(f"device type {dev.type!r} is not supported; use 'cpu' or 'cuda'")
    return dev


class SnnTorchBackend:
    """Dense, time-stepped snnTorch simulation (Linear -> Leaky/RLeaky per layer, no gradients)."""

    name = "snntorch"

    def prepare(self, network: Network, device: str | None = None):
        torch = _torch()
        dev = resolve_device(torch, device)
        return network.to_snntorch(device=dev), dev

    def simulate(self, network: Network, spikes: SpikeTrain, *, device: str | None = None, record: bool = False,
                 batch_size: int = 64, prepared=None) -> SimulationResult:
        torch = _torch()
        if spikes.n != network.n_in:
            raise InvalidSpikesError(f"the spikes have {spikes.n} channels but the network takes {network.n_in} inputs")
        if batch_size < 1:
            raise InvalidSpikesError(f"batch_size must be >= 1, got {batch_size}")
        model, dev = prepared if prepared is not None else self.prepare(network, device)
        modules = list(model)
        pairs = [(modules[i], modules[i + 1]) for i in range(0, len(modules), 2)]
        recurrent = [layer.recurrent for layer in network.layers]
        B, T = spikes.samples, spikes.timesteps
        dense = spikes.to_dense(np.float32)
        L = len(pairs)
        out_tot = [torch.zeros(layer.n_out, dtype=torch.int64, device=dev) for layer in network.layers]
        out_last = [torch.zeros(layer.n_out, dtype=torch.int64, device=dev) for layer in network.layers]
        rasters: list[list] = [[] for _ in range(L)]
        sync = (lambda: torch.cuda.synchronize(dev)) if dev.type == "cuda" else (lambda: None)
        sync()
        t0 = time.perf_counter()
        with torch.inference_mode():
            for lo in range(0, B, batch_size):
                x = torch.from_numpy(dense[lo:lo + batch_size]).to(dev)
                nb = x.shape[0]
                mems = [torch.zeros(nb, layer.n_out, device=dev) for layer in network.layers]
                spks = [torch.zeros(nb, layer.n_out, device=dev) for layer in network.layers]
                steps: list[list] = [[] for _ in range(L)]
                for t in range(T):
                    cur = x[:, t]
                    for l, (lin, neuron) in enumerate(pairs):
                        h = lin(cur)
                        if recurrent[l]:
                            spks[l], mems[l] = neuron(h, spks[l], mems[l])
                        else:
                            spks[l], mems[l] = neuron(h, mems[l])
                        steps[l].append(spks[l])
                        cur = spks[l]
                for l in range(L):
                    r = torch.stack(steps[l], dim=1)  # (nb, T, n)
                    out_tot[l] += r.sum(dim=(0, 1)).to(torch.int64)
                    out_last[l] += r[:, -1].sum(dim=0).to(torch.int64)
                    if record or l == L - 1:
                        rasters[l].append(r.to(torch.uint8))
        sync()
        wall = time.perf_counter() - t0
        cpu_rasters = [torch.cat(r).cpu().numpy() if r else None for r in rasters]
        counts = count_from_activity(
            network, spikes.counts_per_channel(), [o.cpu().numpy() for o in out_tot],
            [o.cpu().numpy() for o in out_last], samples=B, timesteps=T, timestep_s=spikes.timestep_s,
            source={"simulator": "spikebench", "backend": self.name, "network": network.name, "device": str(dev)},
        )
        return SimulationResult(output_spikes=cpu_rasters[-1], counts=counts, wall_time_s=wall, backend=self.name,
                                device=str(dev), layer_spikes=cpu_rasters if record else None,
                                extra={"batch_size": batch_size})
