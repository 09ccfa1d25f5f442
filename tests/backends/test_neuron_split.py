"""Batches smaller than the thread count split each wide dense layer's neurons across the threads
(issue 13): the spikes and counts are those of the one-thread kernel, bit for bit, for every kind of
layer the split path runs whole or in slices."""

from __future__ import annotations

import dataclasses

import numba
import numpy as np
import pytest

import spikebench as sb
from spikebench.backends._kernel_split import MIN_SLICE
from spikebench.hardware_models import deploy

pytestmark = pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs 2 numba threads")

WIDE = 2 * MIN_SLICE + 37  # splits in two on 2 threads, with an uneven last slice


def _nets():
    yield "dense", sb.Network.random(sizes=[300, WIDE, 10], recurrent=[False, False], seed=1)
    yield "recurrent middle", sb.Network.random(sizes=[300, WIDE, WIDE, 10], recurrent=[False, True, False], seed=2)
    base = sb.Network.random(sizes=[300, WIDE, 10], recurrent=[False, False], seed=3)
    yield "cuba", sb.Network(layers=tuple(dataclasses.replace(layer, alpha=0.5) for layer in base.layers), name="cuba")
    yield "loihi2 fixed point", deploy("loihi2", sb.Network.random(sizes=[300, WIDE, 10], recurrent=[False, False],
                                                                   seed=4)).network


@pytest.mark.parametrize("name, net", list(_nets()), ids=[n for n, _ in _nets()])
def test_split_layers_give_the_one_thread_spikes(name, net):
    spikes = sb.random_spikes(samples=1, timesteps=40, n_in=300, density=0.05, seed=5)
    one = sb.simulate(net, spikes, backend="sparse-cpu", threads=1, record=True)
    two = sb.simulate(net, spikes, backend="sparse-cpu", threads=2, record=True)
    assert two.extra["parallel"] == "neurons" and one.extra["parallel"] == "samples"
    assert one.counts == two.counts
    for a, b in zip(one.layer_spikes, two.layer_spikes, strict=True):
        assert np.array_equal(a, b)
    assert one.counts.spikes > 0 and one.counts.layers[1].spikes_out > 0  # the test sees spikes


def test_narrow_layers_and_full_batches_run_by_samples():
    narrow = sb.Network.random(sizes=[300, MIN_SLICE, 10], recurrent=[False, False], seed=6)
    spikes = sb.random_spikes(samples=1, timesteps=20, n_in=300, density=0.05, seed=7)
    assert sb.simulate(narrow, spikes, backend="sparse-cpu", threads=2).extra["parallel"] == "samples"
    wide = sb.Network.random(sizes=[300, WIDE, 10], recurrent=[False, False], seed=6)
    two = sb.random_spikes(samples=2, timesteps=20, n_in=300, density=0.05, seed=7)
    assert sb.simulate(wide, two, backend="sparse-cpu", threads=2).extra["parallel"] == "samples"
