"""Inputs the benchmarks share: the shipped networks and seeded spike trains shaped like each workload.

Only the installed ``spikebench`` is used (asv runs this suite against older commits too): where a
commit lacks a function a benchmark needs, ``need`` raises ``NotImplementedError`` and asv marks that
benchmark skipped for that commit instead of failed.
"""

from __future__ import annotations

import importlib
import os

# Imported here, once: asv's forkserver imports the suite before forking one process per benchmark, so
# every benchmark starts with spikebench (and numpy, numba) already loaded instead of importing it again.
import spikebench  # noqa: F401

# Input activity of each shipped network's workload (input spikes per input unit and timestep), from the
# offline test data (`spikebench run`'s input_spikes_per_inference / (n_in x T)): N-MNIST 4,484 / (2312 x 300),
# SHD 3,101 / (700 x 140), and the CSNN's binning of N-MNIST (10 frames of 30 ms) 1,818 / (2312 x 10).
CASES = {
    # name: (shipped network, or None for the README's random 2312-500-10 network, timesteps, input density)
    "readme-2312-500": (None, 300, 0.005),
    "nmnist-dense": ("nmnist", 300, 0.0065),
    "shd-recurrent": ("shd", 140, 0.032),
    "nmnist-conv": ("nmnist-csnn", 10, 0.079),
}
CASE_NAMES = list(CASES)


def need(module: str, attr: str | None = None):
    """``module`` (and ``attr`` in it) from the installed spikebench, or skip (``NotImplementedError``)."""
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:
        raise NotImplementedError(f"{module} is not in this commit: {exc}") from None
    if attr is None:
        return mod
    try:
        return getattr(mod, attr)
    except AttributeError:
        raise NotImplementedError(f"{module}.{attr} is not in this commit") from None


def shipped_network(name: str):
    """A shipped network, read from the installed package's NIR file."""
    shipped_paths = need("spikebench.workloads.base", "shipped_paths")
    load_network = need("spikebench.workloads.base", "load_network")
    nir_path, _meta = shipped_paths(name)
    if not nir_path.exists():
        raise NotImplementedError(f"no shipped network {name} in this commit")
    return load_network(nir_path)


def case(name: str, batch: int, seed: int = 1):
    """(network, spike train) of a named case: the shipped network, Bernoulli input at its density."""
    import spikebench as sb

    shipped, timesteps, density = CASES[name]
    if shipped is None:  # the README's example and `make bench`'s network (first-layer weight mean as there)
        net = sb.Network.random(sizes=[2312, 500, 10], seed=0, weight_mean=[0.01, 0.0])
    else:
        net = shipped_network(shipped)
    n_in = net.layers[0].n_in
    return net, sb.random_spikes(batch, timesteps, n_in, density, seed=seed)


def synthetic_only() -> None:
    """Track benchmarks run on the seeded offline data, never on a user's real data directory."""
    os.environ.pop("SPIKEBENCH_DATA", None)


def cuda_or_skip() -> None:
    try:
        import torch
    except ImportError:
        raise NotImplementedError("torch is not installed") from None
    if not torch.cuda.is_available():
        raise NotImplementedError("no CUDA device")
