"""How a workload's reference network is built and trained, as data (no torch here).

Each workload's ``train_config()`` returns a :class:`TrainConfig`; :mod:`spikebench.training`
(upstairs, it needs torch, snnTorch and a backend) reads it to build, train, quantise and evaluate
the network. Keeping the recipe here lets a workload state its architecture without importing
anything above ``spikebench.core``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, kw_only=True)
class LayerSpec:
    """One dense layer: width, recurrence and decay. ``beta`` is one value, or ``(low, high)``: per-neuron
    decays spaced evenly in that range (heterogeneous time constants, fixed, not trained)."""

    n_out: int
    recurrent: bool = False
    beta: float | tuple[float, float] = 0.9

    def betas(self) -> np.ndarray:
        if isinstance(self.beta, tuple | list):
            return np.linspace(self.beta[0], self.beta[1], self.n_out).astype(np.float32)
        return np.full(self.n_out, self.beta, dtype=np.float32)


@dataclass(frozen=True, kw_only=True)
class ConvSpec:
    """One convolutional layer: ``channels`` output channels of a ``kernel`` x ``kernel`` convolution
    (``stride``, ``padding``), then ``pool`` x ``pool`` average pooling of the currents (0: none), feeding
    LIF neurons with one decay ``beta`` (snnTorch ``Conv2d -> AvgPool2d -> Leaky``)."""

    channels: int
    kernel: int = 5
    stride: int = 1
    padding: int = 0
    pool: int = 2
    beta: float = 0.9


@dataclass(frozen=True, kw_only=True)
class TrainConfig:
    """Architecture and optimiser settings of one workload's reference network."""

    layers: tuple[LayerSpec | ConvSpec, ...]
    epochs: int = 10
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 0.0
    init_gain: tuple[float, ...] = ()  # per layer multiplier of PyTorch's default Linear init
    class_weighted: bool = False
    surrogate_slope: float = 25.0
    cosine: bool = True  # cosine learning-rate decay to 0 over the epochs
    readout_start: int = 0  # output spikes count from this step on (ECG: the R peak)
    zero_bias: bool = True  # start biases at 0: with beta near 1 a bias b alone drives the membrane to b / (1 - beta)
    timestep_s: float | None = None  # binning of this network (None: the workload's); stored in its NIR metadata
    timesteps: int | None = None
    extra: dict = field(default_factory=dict)


__all__ = ["LayerSpec", "ConvSpec", "TrainConfig"]
