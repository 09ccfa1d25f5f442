"""Regime and the interval rule (issue 14, item 4): each model states the networks its constants came from;
outside them an estimate is flagged ``extrapolated`` and its interval widened to at least x3 each side;
inside, every interval is two-sided (at least x1.5 each side)."""

from __future__ import annotations

import pytest

from spikebench.core.counts import EventCounts
from spikebench.hardware_models import NetworkProfile, get_chip
from spikebench.hardware_models.params import load_sheet
from spikebench.hardware_models.regime import FLOOR_EXTRAPOLATED, FLOOR_INSIDE, check, features, parse_regime
from spikebench.hardware_models.validation import cases


def _dense(n_in: int, n_out: int, se: int, *, T: int = 1, samples: int = 1) -> EventCounts:
    return EventCounts.from_dict({
        "schema": "spikebench.counts/1", "samples": samples, "timesteps": T, "timestep_s": 1e-3, "layers": [
            {"name": "d", "n_in": n_in, "n_out": n_out, "spikes_in": max(1, se // n_out), "synaptic_events": se,
             "neuron_updates": samples * T * n_out, "spikes_out": 10, "weight_bits": 4}]}, origin="hand")


def est(chip, counts, **kw):
    return get_chip(chip).estimate(NetworkProfile.from_counts(counts), counts, **kw)


def test_small_network_on_akida_is_extrapolated_and_widened():
    # 1,000 event-MACs per frame: 4 orders of magnitude below the AkidaNets the constants were fitted on
    e = est("akida", _dense(100, 50, 1000))
    assert e.extrapolated and any("synaptic events per inference 1,000 outside" in r for r in e.extrapolated)
    assert any("cores used" in r for r in e.extrapolated)  # 1 NP, below 21-132
    assert e.widened == FLOOR_EXTRAPOLATED
    for q in ("energy_dynamic_j", "energy_static_j", "energy_j"):
        iv = getattr(e, q)
        assert iv.low <= iv.nominal / 3 * (1 + 1e-12) and iv.high >= iv.nominal * 3 * (1 - 1e-12), q
    assert e.to_dict()["regime"] == "extrapolated"


def test_akidanet_size_network_is_inside():
    # the validation AkidaNet 0.5-224 stand-in with its published 33-NP mapping: inside the regime
    case = next(c for c in cases() if c.case_id == "AK1500-AkidaNet-0.5-224" and c.quantity == "energy_dynamic_j")
    counts = case.build()
    e = est("akida", counts, deployment=case.deployment)
    assert e.extrapolated == () and e.widened == FLOOR_INSIDE
    box = e.constants_interval("energy_dynamic_j")
    assert e.energy_dynamic_j.low == pytest.approx(min(box.low, box.nominal / 1.5))
    assert e.energy_dynamic_j.high == pytest.approx(max(box.high, box.nominal * 1.5))


def test_intervals_are_two_sided_inside_the_regime():
    # TrueNorth's real-time tick makes the constants' latency box one-sided (nominal = high = 1 ms x ticks)
    counts = _dense(200, 100, 20_000, T=20)
    e = est("truenorth", counts)
    assert e.constants_interval("latency_s").high == e.latency_s.nominal
    assert e.latency_s.low < e.latency_s.nominal < e.latency_s.high
    assert e.latency_s.high == pytest.approx(1.5 * e.latency_s.nominal)


def test_real_time_latency_is_not_widened():
    counts = _dense(200, 100, 20_000, T=20)
    e = est("truenorth", counts, real_time=True)
    assert e.latency_s.high == e.constants_interval("latency_s").high == pytest.approx(20e-3)


def test_single_point_is_not_widened():
    counts = _dense(200, 100, 20_000, T=20)
    m = get_chip("loihi")
    e = m.estimate(NetworkProfile.from_counts(counts), counts, constants={})
    assert e.energy_j.low == e.energy_j.nominal == e.energy_j.high and e.widened == 1.0


def test_spinnaker2_latency_low_never_below_its_tick():
    counts = _dense(200, 100, 0, T=20)
    e = est("spinnaker2", counts)
    assert e.latency_s.low == pytest.approx(20e-3)  # 20 timer ticks of 1 ms: a PE never finishes a step early
    assert e.latency_s.high == pytest.approx(1.5 * e.latency_s.nominal)


def test_multi_chip_loihi2_is_extrapolated():
    counts = _dense(200, 100, 20_000, T=20)
    from spikebench.hardware_models.base import Deployment

    e = est("loihi2", counts, deployment=Deployment(chips=4, source="hand"))
    assert any(r.startswith("chips used 4 outside 1-1") for r in e.extrapolated)


def test_every_neuromorphic_sheet_states_its_regime():
    for chip in ("loihi", "loihi2", "truenorth", "spinnaker2", "akida"):
        r = load_sheet(chip).regime
        assert r is not None and r.source and r.describe(), chip


@pytest.mark.parametrize("table, msg", [
    ({"chips": [1, 2]}, "needs a source"),
    ({"source": "x", "chips": [2, 1]}, "must be \\[low, high\\]"),
    ({"source": "x", "chip": [1, 2]}, "not one of"),
    ({"source": "x", "kinds": ["dense", "spiral"]}, "kinds must be"),
    ({"source": "x", "neurons": [1, "many"]}, "must be \\[low, high\\]"),
])
def test_bad_regime_tables_are_refused(table, msg):
    with pytest.raises(ValueError, match=msg):
        parse_regime(table, "hand.toml")


def test_features_of_a_hand_network():
    counts = _dense(200, 100, 20_000, T=20, samples=2)
    prof = NetworkProfile.from_counts(counts)
    from spikebench.hardware_models.base import PerInference

    m = get_chip("loihi")
    f = features(prof, PerInference.from_counts(counts), m.mapping(prof))
    assert f["neurons"] == 100 and f["synapses"] == 20_000 and f["timesteps"] == 20
    assert f["synaptic_events"] == 10_000  # per inference (2 samples)
    assert f["activity"] == pytest.approx(10_000 / (20_000 * 20))
    assert f["events_per_update"] == pytest.approx(10_000 / (20 * 100))
    assert f["kinds"] == {"dense"} and f["kernel"] == 0
    assert check(parse_regime({"source": "x", "neurons": [1, 50]}, "h"), f) == (
        "neurons (all layers) 100 outside 1-50 (2x the highest)",)
