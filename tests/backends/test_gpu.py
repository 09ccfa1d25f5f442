"""CUDA checks: the snnTorch backend on a GPU gives the reference spikes and counts (skips without CUDA)."""

from __future__ import annotations

import numpy as np
import pytest
from test_backend_contract import CASES, build

import spikebench as sb

torch = pytest.importorskip("torch")
pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available here")]


@pytest.mark.parametrize("case", sorted(CASES))
def test_snntorch_cuda_matches_reference(case):
    net, spikes = build(case)
    ref = sb.simulate(net, spikes, record=True)
    gpu = sb.simulate(net, spikes, backend="snntorch", device="cuda", record=True, batch_size=4)
    assert gpu.device.startswith("cuda")
    for a, b in zip(ref.layer_spikes, gpu.layer_spikes):
        np.testing.assert_array_equal(a, b)
    assert gpu.counts == ref.counts
