"""A plain-numpy simulator of integer (deployed) networks: the definition the kernel and Lava are
tested against (``spikebench.core.fixed_point.reference_step`` per layer and step)."""

from __future__ import annotations

import numpy as np

from spikebench.core.fixed_point import reference_step, shift


def dense_mantissas(layer) -> np.ndarray:
    """int64 ``(n_out, n_in)``: the layer's expanded integer synapses."""
    if layer.plain:
        return layer.weight.astype(np.int64)
    exp = layer.expansion()
    m = np.zeros((exp.n_targets, layer.n_in), np.int64)
    cols = np.repeat(np.arange(layer.n_in), np.diff(exp.colptr))
    np.add.at(m, (exp.rows, cols), exp.values.astype(np.int64))
    return m


def simulate_reference(network, raster: np.ndarray) -> list[np.ndarray]:
    """Every layer's spikes ``(B, T + L, n)`` for an input raster ``(B, T, n_in)``."""
    B, T, _ = raster.shape
    steps = T + network.drain_steps
    pre = np.zeros((B, steps, raster.shape[2]), np.int64)
    pre[:, :T] = raster
    out = []
    for layer in network.layers:
        it = layer.integer
        W = dense_mantissas(layer)
        R = None if layer.recurrent_weight is None else layer.recurrent_weight.astype(np.int64)
        spikes = np.zeros((B, steps, layer.n_out), np.uint8)
        for b in range(B):
            u = np.zeros(layer.n_out, np.int64)
            v = np.zeros(layer.n_out, np.int64)
            for t in range(steps):
                a = shift(W @ pre[b, t - 1], it.weight_exp) if t > 0 else np.zeros(layer.n_out, np.int64)
                if R is not None and t > 0:
                    a = a + shift(R @ spikes[b, t - 1].astype(np.int64), it.recurrent_exp)
                u, v, s = reference_step(it, u, v, a)
                spikes[b, t] = s
        out.append(spikes)
        pre = spikes.astype(np.int64)
    return out
