"""Shared helpers of the interchange tests (test_nir_io.py, test_snntorch_io.py): networks on dyadic grids
(float32 arithmetic exact in any order, so every comparison can demand identical spikes) and snnTorch
reference models."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import spikebench as sb

nir = pytest.importorskip("nir")
torch = pytest.importorskip("torch")
snn = pytest.importorskip("snntorch")
nn = torch.nn

ARRAYS = ("weight", "recurrent_weight", "bias", "recurrent_bias", "beta", "alpha", "threshold")
N_IN, N_HID, N_OUT, T, SAMPLES = 30, 20, 5, 40, 4


def dyadic(rng, shape, scale, q=64):
    """Normal draws rounded to multiples of 1/q (exact in float32)."""
    return (np.round(rng.normal(0.0, scale, size=shape) * q) / q).astype(np.float32)


def rich_network(reset: str, seed: int = 0) -> sb.Network:
    """30 -> 20 (feed-forward) -> 5 (recurrent), with biases, recurrent bias, per-neuron beta and
    threshold, and weight_bits on one layer."""
    rng = np.random.default_rng(seed)
    base = sb.Network.random(sizes=[N_IN, N_HID, N_OUT], recurrent=[False, True], seed=seed, reset=reset,
                             recurrent_std=0.5)
    l1, l2 = base.layers
    l1 = dataclasses.replace(
        l1, bias=dyadic(rng, N_HID, 0.05), beta=rng.choice([0.5, 0.75, 0.875, 0.9375], N_HID).astype(np.float32),
        threshold=rng.choice([0.75, 1.0, 1.25], N_HID).astype(np.float32), weight_bits=8, name="hidden",
    )
    l2 = dataclasses.replace(
        l2, bias=dyadic(rng, N_OUT, 0.05), recurrent_bias=dyadic(rng, N_OUT, 0.05) + np.float32(1 / 64),
        beta=np.float32(0.8125), threshold=np.float32(0.5), name="readout",
    )
    return sb.Network(layers=(l1, l2), name=f"rich-{reset}")


def spikes(seed: int = 3, n_in: int = N_IN):
    return sb.random_spikes(SAMPLES, T, n_in, 0.2, seed)


def assert_same_arrays(a: sb.Network, b: sb.Network, fields=()) -> None:
    """Every array bit for bit (and every named field equal)."""
    assert len(a.layers) == len(b.layers)
    for la, lb in zip(a.layers, b.layers):
        for f in ARRAYS:
            xa, xb = getattr(la, f), getattr(lb, f)
            if xa is None:
                assert xb is None, f"{la.name}.{f}: expected None, got {xb!r}"
                continue
            assert xb is not None and xb.dtype == np.float32 and xa.shape == xb.shape, f"{la.name}.{f}"
            assert np.array_equal(xa, xb), f"{la.name}.{f} differs"
            assert np.array_equal(xa.view(np.uint32), xb.view(np.uint32)), f"{la.name}.{f} not bit-identical"
        for f in fields:
            assert getattr(la, f) == getattr(lb, f), f"{la.name}.{f}: {getattr(la, f)!r} != {getattr(lb, f)!r}"


def assert_same_activity(a: sb.Network, b: sb.Network, train) -> None:
    ra = sb.simulate(a, train, backend="sparse-cpu", record=True)
    rb = sb.simulate(b, train, backend="sparse-cpu", record=True)
    for sa, sb_ in zip(ra.layer_spikes, rb.layer_spikes):
        np.testing.assert_array_equal(sa, sb_)
    assert ra.counts == rb.counts


def torch_model(reset: str, seed: int = 0):
    rng = np.random.default_rng(seed)
    lin1, lin2 = nn.Linear(N_IN, N_HID), nn.Linear(N_HID, N_OUT)
    lif1 = snn.Leaky(beta=torch.from_numpy(rng.choice([0.5, 0.75, 0.875], N_HID).astype(np.float32)),
                     threshold=1.0, reset_mechanism=reset, init_hidden=False)
    lif2 = snn.RLeaky(beta=0.8125, threshold=0.5, linear_features=N_OUT, all_to_all=True, reset_mechanism=reset,
                      init_hidden=False)
    with torch.no_grad():
        lin1.weight.copy_(torch.from_numpy(dyadic(rng, (N_HID, N_IN), 0.4)))
        lin1.bias.copy_(torch.from_numpy(dyadic(rng, N_HID, 0.05)))
        lin2.weight.copy_(torch.from_numpy(dyadic(rng, (N_OUT, N_HID), 0.6)))
        lin2.bias.copy_(torch.from_numpy(dyadic(rng, N_OUT, 0.05)))
        lif2.recurrent.weight.copy_(torch.from_numpy(dyadic(rng, (N_OUT, N_OUT), 0.5)))
        lif2.recurrent.bias.copy_(torch.from_numpy(dyadic(rng, N_OUT, 0.05) + np.float32(1 / 32)))
    return nn.Sequential(lin1, lif1, lin2, lif2)


def run_torch(model, dense: np.ndarray) -> list[np.ndarray]:
    """The test's own step loop over an init_hidden=False Linear/Leaky/Linear/RLeaky model."""
    lin1, lif1, lin2, lif2 = list(model)
    x = torch.from_numpy(dense.astype(np.float32))
    b = x.shape[0]
    mem1 = torch.zeros(b, N_HID)
    spk2, mem2 = torch.zeros(b, N_OUT), torch.zeros(b, N_OUT)
    out1, out2 = [], []
    with torch.no_grad():
        for t in range(x.shape[1]):
            spk1, mem1 = lif1(lin1(x[:, t]), mem1)
            spk2, mem2 = lif2(lin2(spk1), spk2, mem2)
            out1.append(spk1.clone())
            out2.append(spk2.clone())
    return [torch.stack(o, dim=1).numpy().astype(np.uint8) for o in (out1, out2)]
