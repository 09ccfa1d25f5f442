"""TrueNorth's dynamic energy by hand (issue 14, item 1: no double counting): e_SE = 2.3 pJ is the slope of
a whole-chip power fit against the synaptic-event rate, so it already holds the on-chip routing of the
spikes; only packets that cross chips add link energy (32 bits x 26 pJ per bit)."""

from __future__ import annotations

import pytest

from spikebench.core.counts import EventCounts
from spikebench.hardware_models import NetworkProfile, get_chip
from spikebench.hardware_models.base import Deployment

E_SE = 2.3e-12  # J per synaptic event [@akopyan2015, Fig. 17 fit]
LINK = 32 * 26e-12  # J per packet crossing chips: 32-bit packet x 26 pJ/bit [@merolla2014, SM S5]


def _counts() -> EventCounts:
    # one dense layer 200 -> 100, fan-in 200 <= 256 axons and fan-out 100 <= 256 neurons: one core, no
    # splitters; 2 samples: 3,000 input spikes and 240,000 synaptic events in all
    return EventCounts.from_dict({
        "schema": "spikebench.counts/2", "samples": 2, "timesteps": 20, "timestep_s": 1e-3, "layers": [
            {"name": "d", "kind": "dense", "n_in": 200, "n_out": 100, "spikes_in": 3000, "synaptic_events": 240_000,
             "neuron_updates": 2 * 20 * 100, "spikes_out": 500, "in_shape": [200], "out_shape": [100],
             "neuron": "lif", "synapses": 200 * 100, "weights": 200 * 100, "weight_bits": 1}]}, origin="hand")


def test_single_chip_dynamic_energy_is_events_times_e_se_only():
    counts = _counts()
    e = get_chip("truenorth").estimate(NetworkProfile.from_counts(counts), counts)
    assert (e.cores, e.chips) == (1, 1)
    # 120,000 events per inference x 2.3 pJ = 276 nJ: no per-hop term (it was 1,500 spikes x 2.3 pJ x hops more)
    assert e.energy_dynamic_j.nominal == pytest.approx(120_000 * E_SE, rel=1e-12)


def test_packets_between_chips_add_link_energy_only():
    counts = _counts()
    e = get_chip("truenorth").estimate(NetworkProfile.from_counts(counts), counts,
                                       deployment=Deployment(chips=2, source="hand"))
    # 1,500 packets per inference, half of them cross to the other chip: 750 x 32 bit x 26 pJ = 624 nJ
    assert e.energy_dynamic_j.nominal == pytest.approx(120_000 * E_SE + 750 * LINK, rel=1e-12)


# ---- supply voltage (issue 14, item 1: an operating point with its scaling) ----------------------------

@pytest.mark.parametrize("point, volts", [("0.75V", 0.75), ("1.0V", 1.0), ("1.05V", 1.05)])
def test_voltage_scaling_by_hand(point, volts):
    """Static power exponential through 42 mW at 0.70 V and 64 mW at 0.8 V; event energy 2.3 pJ x (V / 0.8)^2."""
    import math

    counts = _counts()
    e = get_chip("truenorth").estimate(NetworkProfile.from_counts(counts), counts, operating_point=point)
    p_static = 64e-3 * math.exp(math.log(64 / 42) / 0.1 * (volts - 0.8))
    e_se = 2.3e-12 * (volts / 0.8) ** 2
    assert e.energy_dynamic_j.nominal == pytest.approx(120_000 * e_se, rel=5e-3)  # the toml rounds to 3 digits
    latency = 20 * 1e-3  # 20 ticks of 1 ms (one core: no pipeline ticks)
    assert e.latency_s.nominal == pytest.approx(latency)
    assert e.energy_static_j.nominal == pytest.approx(p_static * latency, rel=1e-3)  # 3 digits in the toml
    assert any(a.startswith(f"operating point {point}") for a in e.assumptions)


def test_lowest_voltage_is_the_published_idle_point():
    counts = _counts()
    e = get_chip("truenorth").estimate(NetworkProfile.from_counts(counts), counts, operating_point="0.70V")
    assert e.energy_static_j.nominal == pytest.approx(42e-3 * 20e-3)  # [@akopyan2015, §VII]: 42 mW at 0.70 V
    assert e.energy_dynamic_j.nominal == pytest.approx(120_000 * 1.76e-12)


def test_default_point_is_the_fitted_one():
    counts = _counts()
    e = get_chip("truenorth").estimate(NetworkProfile.from_counts(counts), counts)
    assert e.energy_static_j.nominal == pytest.approx(64e-3 * 20e-3)
    with pytest.raises(ValueError, match="0.70V, 0.75V, 1.0V, 1.05V|operating points"):
        get_chip("truenorth").estimate(NetworkProfile.from_counts(counts), counts, operating_point="0.9V")
