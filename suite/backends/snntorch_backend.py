"""Backend ``snntorch``: the same network as snnTorch modules, stepped densely on CPU or CUDA.

Every layer kind runs: dense and recurrent (``nn.Linear``), convolutional (``nn.Conv2d`` on the
``(batch, C, H, W)`` view of the flat spikes, with sum/avg/max pooling modules), and current-based
neurons (``snn.Synaptic`` / ``snn.RSynaptic``, state ``syn`` and ``mem``). On CUDA, TF32 (and, for conv
networks, cuDNN) is switched off for the run so float32 sums stay exact on dyadic weights, like the
reference kernel (:func:`exact_float32`).

Counts come from the recorded spikes through the shared counting rule
(:func:`spikebench.core.counts.count_from_activity`), so they are comparable with the reference
kernel's in-kernel counts by construction of the definitions, not of the code.
"""

from __future__ import annotations

import contextlib
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


@contextlib.contextmanager
def exact_float32(torch, dev, *, conv: bool = False):
    """IEEE float32 for convolutions and matrix products on CUDA while the block runs; the previous
    settings are restored afterwards. A no-op on CPU.

    torch lets cuDNN convolutions use TF32 by default (weights rounded to 10 mantissa bits), and cuDNN
    may pick FFT or Winograd algorithms whose rounding differs from a direct sum even in float32; with
    ``conv`` cuDNN is switched off so torch's own im2col + cuBLAS GEMM path runs (exact on dyadic
    weights, slower): the backend promises the reference kernel's spikes, not cuDNN's speed.
    """
    if dev.type != "cuda":
        yield
        return
    saved = []
    if conv:
        saved.append((torch.backends.cudnn, "enabled", torch.backends.cudnn.enabled))
        torch.backends.cudnn.enabled = False
    for owner in (getattr(torch.backends.cudnn, "conv", None), getattr(torch.backends.cuda, "matmul", None)):
        if owner is not None and hasattr(owner, "fp32_precision"):  # torch >= 2.9: the new API only
            saved.append((owner, "fp32_precision", owner.fp32_precision))
            owner.fp32_precision = "ieee"
    if len(saved) == int(conv):  # older torch: the legacy flags
        for owner, attr in ((torch.backends.cudnn, "allow_tf32"), (torch.backends.cuda.matmul, "allow_tf32")):
            saved.append((owner, attr, getattr(owner, attr)))
            setattr(owner, attr, False)
    try:
        yield
    finally:
        for owner, attr, value in reversed(saved):
            setattr(owner, attr, value)


def layer_modules(model, snn) -> list[tuple[list, object]]:
    """Split the ``nn.Sequential`` of :func:`~spikebench.core.snntorch_io.network_to_snntorch` into
    layers: ``(synapse modules, neuron)``, each layer ending at its snnTorch neuron."""
    from ..core.snntorch_io import neuron_classes

    neurons = neuron_classes(snn)
    layers, pending = [], []
    for mod in model:
        if isinstance(mod, neurons):
            layers.append((pending, mod))
            pending = []
        else:
            pending.append(mod)
    return layers


def _step(snn, neuron, h, state):
    """One step of an ``init_hidden=False`` snnTorch neuron; ``state`` holds spk/syn/mem (zeros at t=0)."""
    if state is None:
        z = h.new_zeros(h.shape)
        state = {"spk": z, "syn": z, "mem": z}
    if isinstance(neuron, snn.RSynaptic):
        spk, syn, mem = neuron(h, state["spk"], state["syn"], state["mem"])
    elif isinstance(neuron, snn.Synaptic):
        spk, syn, mem = neuron(h, state["syn"], state["mem"])
    elif isinstance(neuron, snn.RLeaky):
        spk, mem = neuron(h, state["spk"], state["mem"])
        syn = None
    else:
        spk, mem = neuron(h, state["mem"])
        syn = None
    return spk, {"spk": spk, "syn": syn, "mem": mem}


class SnnTorchBackend:
    """Dense, time-stepped snnTorch simulation: per layer its synapse modules (Linear, or Conv2d with
    pooling and reshapes) then its neuron (Leaky / RLeaky / Synaptic / RSynaptic), no gradients."""

    name = "snntorch"

    def prepare(self, network: Network, device: str | None = None):
        torch = _torch()
        dev = resolve_device(torch, device)
        return network.to_snntorch(device=dev), dev

    def simulate(self, network: Network, spikes: SpikeTrain, *, device: str | None = None, record: bool = False,
                 batch_size: int = 64, prepared=None) -> SimulationResult:
        t_call = time.perf_counter()
        torch = _torch()
        import snntorch as snn

        if spikes.n != network.n_in:
            raise InvalidSpikesError(f"the spikes have {spikes.n} channels but the network takes {network.n_in} inputs")
        if batch_size < 1:
            raise InvalidSpikesError(f"batch_size must be >= 1, got {batch_size}")
        t_prep = time.perf_counter()
        model, dev = prepared if prepared is not None else self.prepare(network, device)
        prepare_s = time.perf_counter() - t_prep
        layers = layer_modules(model, snn)
        L = len(layers)
        if L != len(network.layers):
            raise InvalidSpikesError(f"the prepared model has {L} neuron layers but the network has {len(network.layers)}; "
                                     "prepare it from this network")
        synapses = [mods[0] if len(mods) == 1 else torch.nn.Sequential(*mods) for mods, _ in layers]
        B, T = spikes.samples, spikes.timesteps
        out_tot = [torch.zeros(layer.n_out, dtype=torch.int64, device=dev) for layer in network.layers]
        out_last = [torch.zeros(layer.n_out, dtype=torch.int64, device=dev) for layer in network.layers]
        rasters: list[list] = [[] for _ in range(L)]
        sync = (lambda: torch.cuda.synchronize(dev)) if dev.type == "cuda" else (lambda: None)
        sync()
        t0 = time.perf_counter()
        with torch.inference_mode(), exact_float32(torch, dev, conv=network.convolutional):
            for lo in range(0, B, batch_size):
                # one batch at a time: the whole split's raster would be samples x T x n floats
                x = torch.from_numpy(spikes.to_dense(np.uint8, start=lo, stop=lo + batch_size)).to(dev)
                nb = x.shape[0]
                states: list = [None] * L
                steps: list[list] = [[] for _ in range(L)]
                for t in range(T):
                    cur = x[:, t].float()
                    for l in range(L):
                        spk, states[l] = _step(snn, layers[l][1], synapses[l](cur), states[l])
                        steps[l].append(spk.reshape(nb, -1))  # C-order flat, like every spikebench raster
                        cur = spk
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
        return SimulationResult(output_spikes=cpu_rasters[-1], counts=counts, run_s=wall, prepare_s=prepare_s,
                                wall_time_s=time.perf_counter() - t_call, backend=self.name,
                                device=str(dev), layer_spikes=cpu_rasters if record else None,
                                extra={"batch_size": batch_size})
