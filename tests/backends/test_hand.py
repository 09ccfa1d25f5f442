"""Tiny networks whose spikes and counts were worked out by hand (derivations in the comments)."""

from __future__ import annotations

import numpy as np
import pytest

import spikebench as sb

BACKENDS = ["sparse-cpu", "snntorch"]


def tiny_feedforward(reset: str) -> sb.Network:
    # 3 inputs -> 2 neurons, beta 0.5, threshold 1.0
    w = np.array([[0.5, 0.75, 0.0],
                  [1.0, 0.0, 0.5]], dtype=np.float32)
    return sb.Network(layers=(sb.Layer(weight=w, beta=0.5, threshold=1.0, reset=reset, name="out"),))


INPUT = np.array([[1, 1, 0],   # t0
                  [0, 1, 1],   # t1
                  [1, 0, 0],   # t2
                  [1, 1, 1]],  # t3
                 dtype=np.uint8)


@pytest.mark.parametrize("backend", BACKENDS)
def test_three_inputs_two_neurons_four_steps(backend):
    # Currents I = W @ x:  neuron 0: 1.25, 0.75, 0.5, 1.25   neuron 1: 1.0, 0.5, 1.0, 1.5
    # Neuron 0 (subtract reset, applied one step late):
    #   t0 mem = 1.25 > 1 -> spike
    #   t1 reset: mem = 0.5*1.25 + 0.75 - 1 = 0.375
    #   t2 mem = 0.1875 + 0.5 = 0.6875
    #   t3 mem = 0.34375 + 1.25 = 1.59375 -> spike
    # Neuron 1:
    #   t0 mem = 1.0, not > 1 (strict threshold) -> no spike
    #   t1 mem = 0.5 + 0.5 = 1.0 -> no spike
    #   t2 mem = 0.5 + 1.0 = 1.5 -> spike
    #   t3 reset: mem = 0.75 + 1.5 - 1 = 1.25 -> spike
    res = sb.simulate(tiny_feedforward("subtract"), INPUT, backend=backend)
    np.testing.assert_array_equal(res.output_spikes[0], [[1, 0], [0, 0], [0, 1], [1, 1]])
    (lc,) = res.counts.layers
    assert lc.spikes_in == 8                 # 2 + 2 + 1 + 3 input spikes
    # non-zero weights per input column: 2, 1, 1 -> t0: 2+1, t1: 1+1, t2: 2, t3: 2+1+1
    assert lc.synaptic_events == 11
    assert lc.neuron_updates == 8            # 2 neurons x 4 steps
    assert lc.spikes_out == 4
    assert (res.counts.samples, res.counts.timesteps) == (1, 4)


@pytest.mark.parametrize("backend", BACKENDS)
def test_zero_reset_differs_from_subtract_by_hand(backend):
    # 1 neuron, weights (0.5, 1.0, 0.0), beta 0.5, threshold 0.9; currents I = 1.5, 1.0, 0.5, 1.5
    w = np.array([[0.5, 1.0, 0.0]], dtype=np.float32)
    x = np.array([[1, 1, 0], [0, 1, 0], [1, 0, 0], [1, 1, 0]], dtype=np.uint8)
    # zero reset (Leaky): mem[t] = beta * ((1 - reset) * mem[t-1]) + I[t]
    #   t0 1.5 spike; t1 reset -> 0 + 1.0 = 1.0 spike; t2 reset -> 0 + 0.5 = 0.5; t3 0.25 + 1.5 = 1.75 spike
    zero = sb.Network(layers=(sb.Layer(weight=w, beta=0.5, threshold=0.9, reset="zero", name="z"),))
    np.testing.assert_array_equal(sb.simulate(zero, x, backend=backend).output_spikes[0, :, 0], [1, 1, 0, 1])
    # subtract reset: t0 1.5 spike; t1 0.75 + 1.0 - 0.9 = 0.85; t2 0.425 + 0.5 = 0.925 spike;
    #   t3 0.4625 + 1.5 - 0.9 = 1.0625 spike. 0.9 is not dyadic, so confirm with the float32 sequence.
    f = np.float32
    m, spikes = f(0.0), []
    for cur in (f(1.5), f(1.0), f(0.5), f(1.5)):
        r = f(1.0) if m > f(0.9) else f(0.0)
        m = (f(0.5) * m + cur) - r * f(0.9)
        spikes.append(int(m > f(0.9)))
    assert spikes == [1, 0, 1, 1]
    sub = sb.Network(layers=(sb.Layer(weight=w, beta=0.5, threshold=0.9, reset="subtract", name="s"),))
    np.testing.assert_array_equal(sb.simulate(sub, x, backend=backend).output_spikes[0, :, 0], spikes)


@pytest.mark.parametrize("backend", BACKENDS)
def test_recurrent_by_hand(backend):
    # 1 input -> 2 recurrent neurons; neuron 0 excites neuron 1 through the recurrent weight 2.0
    # (recurrent_weight[i, j] is the synapse from j to i). beta 0.5, threshold 1.
    layer = sb.Layer(weight=np.array([[1.5], [0.0]], np.float32),
                     recurrent_weight=np.array([[0.0, 0.0], [2.0, 0.0]], np.float32),
                     beta=0.5, threshold=1.0, name="r")
    x = np.array([[1], [0], [0], [1]], np.uint8)
    # Neuron 0: t0 1.5 spike; t1 reset: 0.75 - 1 = -0.25; t2 -0.125; t3 -0.0625 + 1.5 = 1.4375 spike
    # Neuron 1: t0 0; t1 R = 2.0 * spike0(t0) -> 2.0 spike; t2 reset: 1.0 - 1 = 0; t3 0
    res = sb.simulate(sb.Network(layers=(layer,)), x, backend=backend)
    np.testing.assert_array_equal(res.output_spikes[0], [[1, 0], [0, 1], [0, 0], [1, 0]])
    (lc,) = res.counts.layers
    assert lc.kind == "recurrent"
    # input: 2 spikes x 1 non-zero weight in column 0 = 2
    # recurrent: neuron 0's t0 spike reaches 1 non-zero synapse; neuron 1's t1 spike has none;
    #            neuron 0's t3 spike is at the last step and is never delivered -> 1
    assert lc.synaptic_events == 3
    assert (lc.spikes_in, lc.spikes_out, lc.neuron_updates) == (2, 3, 8)
