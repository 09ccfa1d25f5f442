"""snnTorch interchange (spikebench.core.snntorch_io): spike-for-spike agreement with snnTorch's own
dynamics, round trips of every array, and one-line errors on modules spikebench cannot represent."""

from __future__ import annotations

import numpy as np
import pytest
from interop_helpers import (
    N_HID,
    N_IN,
    N_OUT,
    assert_same_activity,
    assert_same_arrays,
    nn,
    rich_network,
    run_torch,
    snn,
    spikes,
    torch,
    torch_model,
)

import spikebench as sb


@pytest.mark.parametrize("reset", ["subtract", "zero"])
def test_from_snntorch_matches_snntorch_spike_for_spike(reset):
    model = torch_model(reset)
    net = sb.Network.from_snntorch(model)
    l1, l2 = net.layers
    assert (l1.recurrent, l2.recurrent) == (False, True)
    assert l1.reset == l2.reset == reset
    assert l2.recurrent_bias is not None and np.any(l2.recurrent_bias != 0)  # snnTorch's default bias is kept
    np.testing.assert_array_equal(l2.recurrent_bias, model[3].recurrent.bias.detach().numpy())
    np.testing.assert_array_equal(l1.beta, model[1].beta.numpy())

    train = spikes(seed=8)
    expected = run_torch(model, train.to_dense(np.float32))
    assert all(int(e.sum()) > 0 for e in expected)
    got = sb.simulate(net, train, backend="sparse-cpu", record=True).layer_spikes
    for e, g in zip(expected, got):
        np.testing.assert_array_equal(g, e)


@pytest.mark.parametrize("reset", ["subtract", "zero"])
def test_snntorch_round_trip_preserves_arrays(reset):
    net = rich_network(reset)
    back = sb.Network.from_snntorch(net.to_snntorch())
    assert_same_arrays(net, back)
    assert [lay.reset for lay in back.layers] == [reset, reset]

    # without a recurrent bias the round trip must not invent one (snnTorch's default Linear has one)
    plain = sb.Network.random(sizes=[N_IN, N_HID, N_OUT], recurrent=[False, True], seed=2, reset=reset)
    model = plain.to_snntorch()
    assert model[3].recurrent.bias is None
    again = sb.Network.from_snntorch(model)
    assert_same_arrays(plain, again)
    train = spikes(seed=9)
    assert_same_activity(plain, again, train)
    ref = sb.simulate(plain, train, record=True)
    via_torch = sb.simulate(plain, train, backend="snntorch", record=True)
    for r, v in zip(ref.layer_spikes, via_torch.layer_spikes):
        np.testing.assert_array_equal(v, r)


# ---- bad input ---------------------------------------------------------------------------------------

def leaky(**kw):
    return snn.Leaky(beta=0.5, init_hidden=False, **kw)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: nn.Linear(3, 2), "nn.Sequential"),
        (lambda: nn.Sequential(nn.Linear(3, 2), leaky(), nn.Linear(2, 2)), "'2' is not followed by a neuron"),
        (lambda: nn.Sequential(nn.Linear(3, 2), leaky(reset_mechanism="none")), "'none' is not supported"),
        (lambda: nn.Sequential(nn.Linear(3, 2), leaky(reset_delay=False)), "reset_delay=False"),
        (lambda: nn.Sequential(nn.Linear(3, 2), snn.Alpha(alpha=0.6, beta=0.5)), "Alpha.*does not model"),
        (lambda: nn.Sequential(nn.Linear(3, 2), snn.RLeaky(beta=0.5, all_to_all=False, V=torch.ones(2))), "all-to-all"),
        (lambda: nn.Sequential(nn.Conv1d(1, 1, 3), leaky()), "expected nn.Linear"),
    ],
)
def test_from_snntorch_refuses_unsupported_modules(make, match):
    with pytest.raises(sb.InvalidNetworkError, match=match):
        sb.Network.from_snntorch(make())


def test_from_snntorch_refuses_reset_changed_after_construction():
    neuron = leaky(reset_mechanism="subtract")
    neuron.reset_mechanism = "zero"  # snnTorch keeps running the subtract state function
    with pytest.raises(sb.InvalidNetworkError, match="runs 'subtract'"):
        sb.Network.from_snntorch(nn.Sequential(nn.Linear(3, 2), neuron))


def test_from_snntorch_refuses_nan_weights():
    lin = nn.Linear(3, 2)
    with torch.no_grad():
        lin.weight[0, 0] = float("nan")
    with pytest.raises(sb.InvalidNetworkError, match="NaN"):
        sb.Network.from_snntorch(nn.Sequential(lin, leaky()))
