"""Chip cost models: registry contract tests, hand arithmetic per chip, mapping rules, constants."""

from __future__ import annotations

import json
import math

import pytest

from spikebench.core import EventCounts, LayerCounts, UnknownNameError
from spikebench.hardware_models import (
    CHIPS,
    GRADES,
    Estimate,
    NetworkProfile,
    estimate_all,
    get_chip,
    resolve_chips,
)
from spikebench.hardware_models.sensitivity import rank_stability

QUANTITIES = ("energy_dynamic_j", "energy_static_j", "energy_j", "latency_s")


def layer(name="l1", kind="dense", n_in=4, n_out=2, samples=2, T=5, spikes_in=6, se=10, spikes_out=3, **kw):
    return LayerCounts(name=name, kind=kind, n_in=n_in, n_out=n_out, spikes_in=spikes_in, synaptic_events=se,
                       neuron_updates=samples * T * n_out, spikes_out=spikes_out, **kw)


def tiny(**kw) -> EventCounts:
    """2 samples x 5 steps of 1 ms; one dense 4 -> 2 layer, 8 synapses, 4-bit weights.
    Per inference: 3 input spikes, 5 synaptic events, 10 neuron updates, 1.5 output spikes."""
    lk = dict(synapses=8, fan_in_max=4, weight_bits=4)
    lk.update(kw)
    return EventCounts(layers=(layer(**lk),), samples=2, timesteps=5, timestep_s=1e-3)


def two_layer(scale: float, *, T=20, samples=3) -> EventCounts:
    """A 300 -> 120 -> 10 network whose activity grows with ``scale`` (0 = no spikes at all)."""
    s_in = int(400 * scale)
    s_mid = int(60 * scale)
    s_out = int(5 * scale)
    l1 = LayerCounts(name="h", kind="dense", n_in=300, n_out=120, spikes_in=s_in, synaptic_events=s_in * 100,
                     neuron_updates=samples * T * 120, spikes_out=s_mid, synapses=30000, weight_bits=8)
    l2 = LayerCounts(name="o", kind="dense", n_in=120, n_out=10, spikes_in=s_mid, synaptic_events=s_mid * 9,
                     neuron_updates=samples * T * 10, spikes_out=s_out, synapses=1100, weight_bits=8)
    return EventCounts(layers=(l1, l2), samples=samples, timesteps=T, timestep_s=1e-3)


def all_zero() -> EventCounts:
    """No events of any kind (not even neuron updates): built directly, as no valid file can say it."""
    l1 = LayerCounts(name="h", kind="dense", n_in=300, n_out=120, spikes_in=0, synaptic_events=0,
                     neuron_updates=0, spikes_out=0, synapses=30000, weight_bits=8)
    return EventCounts(layers=(l1,), samples=1, timesteps=20, timestep_s=1e-3)


def est(chip: str, counts: EventCounts, **kw) -> Estimate:
    return get_chip(chip).estimate(NetworkProfile.from_counts(counts), counts, **kw)


# ---- contract over the registry --------------------------------------------------------------------

@pytest.mark.parametrize("chip", list(CHIPS))
class TestContract:
    def test_finite_non_negative_ordered(self, chip):
        for counts in (tiny(), two_layer(1.0), two_layer(0.0)):
            e = est(chip, counts)
            for q in QUANTITIES:
                iv = getattr(e, q)
                assert all(math.isfinite(v) and v >= 0 for v in (iv.low, iv.nominal, iv.high)), (q, iv)
                assert iv.low <= iv.nominal <= iv.high, (q, iv)
            assert e.energy_j.nominal == pytest.approx(e.energy_dynamic_j.nominal + e.energy_static_j.nominal)
            assert e.cores >= 1 and e.chips >= 1 and e.boundary

    def test_monotone_in_events(self, chip):
        prev = None
        for scale in (0.0, 0.5, 1.0, 2.0, 4.0):
            e = est(chip, two_layer(scale))
            if prev is not None:
                for q in QUANTITIES:  # the model over its constants (the interval rule's widening can step
                    for end in ("low", "nominal", "high"):  # down where more events bring a network into the regime)
                        a, b = getattr(prev.constants_interval(q), end), getattr(e.constants_interval(q), end)
                        assert b >= a * (1 - 1e-12), (q, end, scale, a, b)
            prev = e

    def test_zero_activity_static_only(self, chip):
        model = get_chip(chip)
        e = est(chip, all_zero())
        # nothing happens, yet time passes: every chip takes its shortest step and pays for it
        assert e.latency_s.low > 0 and e.energy_j.low > 0, (e.latency_s, e.energy_j)
        if model.event_driven:
            for end in ("low", "nominal", "high"):
                assert getattr(e.energy_dynamic_j, end) == 0.0
                assert getattr(e.energy_j, end) == pytest.approx(getattr(e.energy_static_j, end))
            # no spikes but every neuron stepped: dynamic is at most what activity costs
            assert est(chip, two_layer(0.0)).energy_dynamic_j.nominal <= est(chip, two_layer(1.0)).energy_dynamic_j.nominal
        else:  # dense time-stepped reference: cost does not depend on activity
            assert est(chip, two_layer(0.0)).energy_dynamic_j == est(chip, two_layer(3.0)).energy_dynamic_j

    def test_deterministic_and_serialisable(self, chip):
        a, b = est(chip, two_layer(1.0)), est(chip, two_layer(1.0))
        assert a == b
        doc = json.loads(json.dumps(a.to_dict()))
        assert doc["chip"] == chip and doc["kind"] == "modelled" and doc["per"] == "inference"
        assert set(QUANTITIES) <= set(doc)

    def test_real_time_holds_steps(self, chip):
        c = two_layer(1.0)
        e = est(chip, c, real_time=True)
        assert e.latency_s.low >= c.timesteps * c.timestep_s * (1 - 1e-12)

    def test_constants_valid(self, chip):
        sheet = get_chip(chip).sheet
        assert sheet.params, chip
        for p in sheet.params.values():
            assert p.grade in GRADES and p.source
            assert p.low <= p.value <= p.high


def test_registry_names_and_lookup():
    from spikebench.hardware_models import ChipModel

    assert list(CHIPS) == ["loihi", "loihi2", "truenorth", "spinnaker2", "akida", "cpu", "gpu"]
    assert all(isinstance(m, ChipModel) and m.name == n for n, m in CHIPS.items())
    with pytest.raises(UnknownNameError, match="unknown chip 'nope'"):
        get_chip("nope")
    assert resolve_chips("all") == list(CHIPS)
    assert resolve_chips("loihi, akida") == ["loihi", "akida"]
    with pytest.raises(UnknownNameError):
        resolve_chips("loihi,foo")


# ---- hand arithmetic, one per chip (constants written out from the TOML files) ----------------------

# tiny(): per inference SE = 5, NU = 10, input spikes = 3, T = 5 steps of 1 ms; 1 core / PE / NP.
SE, NU, S_IN, T = 5.0, 10.0, 3.0, 5


def test_loihi_hand():
    frac = 1 - math.exp(-SE / NU)  # active share of neuron updates
    act = NU * frac
    e_dyn = SE * 23.6e-12 + act * 81e-12 + (NU - act) * 52e-12 + S_IN * 1 * (1.7e-12 + 0 * 3.5e-12)
    t_core = SE / T * 3.5e-9 + 2 * (frac * 8.4e-9 + (1 - frac) * 5.3e-9) + S_IN / T * 2.1e-9
    latency = T * (t_core + 113e-9)  # one tile: barrier 113 ns
    static = (29e-3 + 65.3e-3) * latency  # one chip: the single-chip board [@blouw2019] + x86 cores
    e = est("loihi", tiny())
    assert (e.cores, e.chips, e.feasible) == (1, 1, True)
    assert e.energy_dynamic_j.nominal == pytest.approx(e_dyn, rel=1e-12)
    assert e.latency_s.nominal == pytest.approx(latency, rel=1e-12)
    assert e.energy_static_j.nominal == pytest.approx(static, rel=1e-12)
    # high end: SANA-FE synapse 35.5 pJ, all other energy constants at their highs
    e_hi = SE * 35.5e-12 + act * 81e-12 + (NU - act) * 52e-12 + S_IN * 1.7e-12 * 1.1
    assert e.constants_interval("energy_dynamic_j").high == pytest.approx(e_hi, rel=1e-12)
    # the interval rule (regime.py): inside the regime each side at least x1.5 from nominal
    assert not e.extrapolated and e.widened == 1.5
    assert e.energy_dynamic_j.high == pytest.approx(max(e_hi, 1.5 * e_dyn), rel=1e-12)
    assert e.energy_dynamic_j.low == pytest.approx(min(e.constants_interval("energy_dynamic_j").low, e_dyn / 1.5))


def test_loihi2_hand():
    e = est("loihi2", tiny())
    assert e.energy_dynamic_j.nominal == pytest.approx(SE * 29e-12 + NU * 0.0)
    assert e.constants_interval("energy_dynamic_j").low == pytest.approx(SE * 15e-12)
    assert e.constants_interval("energy_dynamic_j").high == pytest.approx(SE * 30e-12 + NU * 81e-12)
    t_step = max(max(SE / T * 1.0e-9, 2 * 4.2e-9), 200e-9)  # barrier-bound
    assert e.latency_s.nominal == pytest.approx(T * t_step)
    assert e.energy_static_j.nominal == pytest.approx(0.232 * T * t_step)


def test_truenorth_hand():
    e = est("truenorth", tiny())
    assert (e.cores, e.chips) == (1, 1)
    assert e.energy_dynamic_j.nominal == pytest.approx(SE * 2.3e-12)  # one core: no hops
    assert e.latency_s.nominal == pytest.approx(T * 1e-3)
    assert e.latency_s.low == pytest.approx(T * 1e-3 / 21, rel=1e-3)
    assert e.latency_s.high == pytest.approx(1.5 * T * 1e-3)  # the interval rule: two-sided (box high = nominal)
    assert e.energy_static_j.nominal == pytest.approx(64e-3 * T * 1e-3)
    # 64 mW at 0.8 V, the derived band +-25 % (42 mW belongs to the 0.70 V operating point since issue 14)
    assert e.constants_interval("energy_static_j").low == pytest.approx(48e-3 * T * 0.0476e-3)
    assert any("quantised to 4 signed values" in r for r in e.reasons)


def test_spinnaker2_hand():
    # the 4 -> 2 layer's whole product is 8 MACs per step: 40 MACs x 0.52 pJ = 20.8 pJ per inference on the
    # MAC array, against 5 events x 12.5 cycles x 8.3 pJ = 519 pJ on the ARM: it takes the MAC array
    e = est("spinnaker2", tiny())
    macs = T * 4 * 2
    assert e.energy_dynamic_j.nominal == pytest.approx(NU * 61 * 8.3e-12 + macs * 0.52e-12, rel=1e-12)
    # high end at the default operating point (0.5 V): derived constants +25 %, cycles per update 122
    assert e.energy_dynamic_j.high == pytest.approx(NU * 122 * 8.3e-12 * 1.25 + macs * 0.52e-12 * 1.25, rel=1e-12)
    busiest = (macs / T / (64 * 0.175) + NU / T * 61) / 150e6
    assert busiest < 1e-3
    assert e.latency_s.nominal == pytest.approx(T * 1e-3)
    assert e.energy_static_j.nominal == pytest.approx((75.2e-3 + 1 * 1.05e-3) * T * 1e-3)
    assert any("MAC array for l1" in a for a in e.assumptions)


def test_spinnaker2_hand_at_0v8():
    c = tiny()
    e = get_chip("spinnaker2").estimate(NetworkProfile.from_counts(c), c, operating_point="0.8V")
    macs = T * 4 * 2
    assert e.energy_dynamic_j.nominal == pytest.approx(NU * 61 * 15.0e-12 + macs * 0.73e-12, rel=1e-12)
    assert e.energy_static_j.nominal == pytest.approx((75.2e-3 + 1 * 3.22e-3) * T * 1e-3, rel=1e-12)
    assert any(a.startswith("operating point 0.8V: 0.8 V digital rail, PE clock 300 MHz") for a in e.assumptions)
    with pytest.raises(ValueError, match="no operating point '1V'; its operating points: 0.5V, 0.8V"):
        get_chip("spinnaker2").estimate(NetworkProfile.from_counts(c), c, operating_point="1V")


def test_spinnaker2_hand_sparse_wide_layer_stays_on_the_arm():
    # 1000 -> 1000 with 50 events per inference: 5 x 10^6 MACs x 0.52 pJ = 2.6 uJ on the MAC array against
    # 50 x 12.5 cycles x 8.3 pJ = 5.2 nJ on the ARM: the events run on the ARM
    c = EventCounts(layers=(layer(n_in=1000, n_out=1000, se=100, spikes_in=20, synapses=10**6, fan_in_max=1000,
                                  weight_bits=8),), samples=2, timesteps=5, timestep_s=1e-3)
    e = est("spinnaker2", c)
    nu = 5 * 1000
    assert e.energy_dynamic_j.nominal == pytest.approx((50 * 12.5 + nu * 61) * 8.3e-12, rel=1e-12)
    assert not any("MAC array for" in a for a in e.assumptions)


def test_akida_hand():
    e = est("akida", tiny())
    assert (e.cores, e.chips, e.feasible) == (1, 1, True)
    assert e.energy_dynamic_j.nominal == pytest.approx(SE * 25.7e-12)
    latency = T * (SE / T / (1 * 0.137)) / 400e6  # one NP, one pass: no reload
    assert e.latency_s.nominal == pytest.approx(latency)
    assert e.constants_interval("latency_s").high == pytest.approx(T * (SE / T / (1 * 0.134)) / 190e6)
    assert e.energy_static_j.nominal == pytest.approx(0.113 * latency)


def test_akida_hand_published_mapping_with_passes():
    from spikebench.hardware_models import Deployment

    # 10 NPs in 2 passes (a published mapping): event-MACs spread over 10 NPs, plus every one of the
    # 8 stored weights reloaded once per frame (2.35 clocks each)
    c = tiny()
    e = get_chip("akida").estimate(NetworkProfile.from_counts(c), c, deployment=Deployment(layer_cores=(10,), passes=2))
    clocks_step = SE / T / (10 * 0.137) + 8 * 2.35
    assert (e.cores, e.chips) == (10, 1)
    assert e.latency_s.nominal == pytest.approx(T * clocks_step / 400e6)
    assert e.constants_interval("latency_s").low == pytest.approx(T * (SE / T / (10 * 0.148) + 8 * 1.48) / 400e6)
    assert e.energy_dynamic_j.nominal == pytest.approx(SE * 25.7e-12)  # energy follows events, not the mapping
    assert any("published deployment" in r and "10" in r and "2 passes" in r for r in e.reasons)


@pytest.mark.parametrize("chip, e_op, thr, p_idle, t_launch", [("cpu", 70e-12, 1e10, 0.0, 0.0),
                                                                ("gpu", 4.6e-12, 9.75e12, 107.0, 12.5e-6)])
def test_dense_references_hand(chip, e_op, thr, p_idle, t_launch):
    e = est(chip, tiny())
    ops = T * (4 * 2 + 2)  # dense MACs + neuron updates per step
    weight_bytes = T * 4 * 2 * 4
    assert e.energy_dynamic_j.nominal == pytest.approx(ops * e_op + weight_bytes * 12.5e-12)
    latency = ops / thr + T * 2 * 1 * t_launch  # GPU: 2 kernel launches per layer and step
    assert e.latency_s.nominal == pytest.approx(latency)
    assert e.energy_static_j.nominal == pytest.approx(p_idle * latency)
    if chip == "gpu":
        assert e.latency_s.low == pytest.approx(ops / 156e12 + T * 2 * 5e-6)
        assert e.latency_s.high == pytest.approx(ops / thr + T * 2 * 20e-6)


def test_cpu_placeholders_named_in_every_estimate():
    sheet = get_chip("cpu").sheet
    for name in ("p_idle", "throughput"):
        assert sheet[name].grade == "unverified" and "placeholder" in sheet[name].source
    assert sheet["throughput"].high / sheet["throughput"].value >= 2  # at least the widest grade band
    for counts in (tiny(), two_layer(1.0)):
        notes = " ".join(est("cpu", counts).assumptions)
        assert "throughput" in notes and "idle power" in notes and notes.count("placeholder") >= 2


# ---- mapping and feasibility -----------------------------------------------------------------------

def test_truenorth_fan_in_split_counts_extra_cores():
    # 600 -> 300 dense: fan-in 600 > 256 -> 3 groups x 2 cores + merge ceil(300*3/256) = 4
    # splitters: each source reaches ceil(300/256) = 2 cores -> ceil(600*2/256) = 5
    c = EventCounts(layers=(layer(n_in=600, n_out=300, samples=1, T=4, spikes_in=50, se=50 * 300, spikes_out=10,
                                  weight_bits=2),), samples=1, timesteps=4, timestep_s=1e-3)
    e = est("truenorth", c)
    assert e.cores == 3 * 2 + 4 + 5
    assert any("fan-in 600 > 256" in r and "(+1 tick)" in r for r in e.reasons)
    assert any("splitter cores" in r for r in e.reasons)
    assert e.latency_s.nominal == pytest.approx((4 + 2) * 1e-3)  # two extra pipeline stages


def test_akida_nearest_precision_and_recurrent():
    e = est("akida", tiny(weight_bits=3))
    assert e.feasible and any("3-bit weights not supported: estimated at 4 bits" in r for r in e.reasons)
    # an 8-bit input layer is supported; an 8-bit second layer is re-quantised to 4 bits
    l1 = layer(name="a", n_in=4, n_out=2, weight_bits=8, synapses=8)
    l2 = layer(name="b", n_in=2, n_out=2, spikes_in=3, se=4, spikes_out=1, weight_bits=8, synapses=4)
    e = est("akida", EventCounts(layers=(l1, l2), samples=2, timesteps=5, timestep_s=1e-3))
    assert [r for r in e.reasons if "not supported" in r] == ["b: 8-bit weights not supported: estimated at 4 bits (nearest supported)"]
    rec = EventCounts(layers=(layer(kind="recurrent", se=12, synapses=12),), samples=2, timesteps=5, timestep_s=1e-3)
    e = est("akida", rec)
    assert not e.feasible and any("recurrent" in r for r in e.reasons)


def test_multi_chip_and_default_weight_bits():
    big = EventCounts(layers=(layer(n_in=1000, n_out=200_000, samples=1, T=2, spikes_in=10, se=100, spikes_out=0,
                                    weight_bits=None, synapses=None),), samples=1, timesteps=2, timestep_s=1e-3)
    e = est("loihi", big)
    assert e.chips > 1 and any(r.startswith("multi-chip") for r in e.reasons)
    assert any("assumed 8-bit weights" in a for a in e.assumptions)
    assert any("assumed dense" in a for a in e.assumptions)
    assert e.energy_static_j.nominal == pytest.approx(e.chips * (104e-3 + 65.3e-3) * e.latency_s.nominal)


def test_loihi_weight_precision_above_9_bits():
    e = est("loihi", tiny(weight_bits=16))
    assert any("16-bit weights exceed Loihi's 9 bits" in r for r in e.reasons)
    e2 = est("loihi2", tiny(weight_bits=16))
    assert any("estimated at 8 bits" in r for r in e2.reasons)


def test_estimate_all_and_simulated_counts():
    import spikebench as sb

    net = sb.Network.random(sizes=[64, 32, 4], seed=0)
    r = sb.simulate(net, sb.random_spikes(2, 20, 64, 0.05, seed=1))
    out = estimate_all(r.counts)
    assert [e.chip for e in out] == list(CHIPS)


def test_rank_stability_deterministic():
    c = two_layer(1.0)
    a = rank_stability(c, dict(CHIPS), draws=30, seed=3)
    b = rank_stability(c, dict(CHIPS), draws=30, seed=3)
    assert a == b
    assert 0 <= a.ranking_changed <= 1 and 0 <= a.top_changed <= a.ranking_changed
    assert sorted(a.nominal_ranking) == sorted(CHIPS)


# ---- validation against published measurements --------------------------------------------------------

def test_validation_cases_within_grade_bands():
    from spikebench.hardware_models.validation import BANDS, cases, run_cases

    all_cases = cases()
    assert len({c.case_id for c in all_cases}) >= 6
    assert {c.chip for c in all_cases} >= {"loihi", "loihi2", "truenorth", "akida"}
    results = run_cases(all_cases)
    for r in results:
        assert r.band == BANDS[r.grade]
        # every row is held to its grade's band, except known misses whose explanation the table prints
        assert r.enforced or len(r.explanation) > 80, (r.case_id, r.quantity)
        assert r.within_band or r.explanation, (r.case_id, r.quantity, r.error)
        assert not r.explanation or not r.within_band, (r.case_id, r.quantity, "explained but inside its band")
    # independent (not fitted) checks: L1-kNN energy, TN-detect, AK1500-PlantVillage (held out)
    independent = [r for r in results if not r.calibrated]
    assert {("L1-kNN", "energy_dynamic_j"), ("TN-detect", "energy_j"), ("TN-detect", "latency_s"),
            ("AK1500-PlantVillage", "energy_dynamic_j"), ("AK1500-PlantVillage", "latency_s")} <= {
        (r.case_id, r.quantity) for r in independent}
    # issue 14: at least 8 more measured cases, and >= 80 % of the independent rows inside their interval
    new = {"TN-0.75V-typical", "TN-0.775V-26pJ", "TN-1.05V-max", "TN-app-saccade", "TN-app-Haar", "TN-app-LBP",
           "TN-app-K-means", "TN-app-grid-A", "TN-app-grid-B", "AK1500-KWS-DSCNN", "AK1500-VWW",
           "AK1500-YOLOv2-VOC", "AK1500-bearing-fault", "AK1500-ECG-arrhythmia"}
    assert new <= {r.case_id for r in independent}
    assert sum(r.in_interval for r in independent) >= 0.8 * len(independent)


def test_akida_latency_on_every_published_mapping():
    """All 20 AKD1500 mapping rows (Minimal / AllNPs / HwPr, 7-132 NPs, 1-5 passes): the 18 fitted ImageNet
    rows within 15 %, the 2 held-out PlantVillage rows within the measured-artifact band (x2)."""
    from spikebench.hardware_models.validation import akida_mapping_rows

    rows = akida_mapping_rows()
    assert len(rows) == 20
    for label, build, dep, measured, fitted in rows:
        c = build()
        ratio = get_chip("akida").estimate(NetworkProfile.from_counts(c), c, deployment=dep).latency_s.nominal / measured
        assert (0.85 <= ratio <= 1.15) if fitted else (0.5 <= ratio <= 2.0), (label, ratio)


def test_loihi_knn_published_deployment_hand():
    """L1-kNN on Frady's 32 chips, all 4,096 cores: hand arithmetic of the step time."""
    from spikebench.hardware_models.validation import _KNN_DEPLOY, _l1_knn

    c = _l1_knn()
    e = get_chip("loihi").estimate(NetworkProfile.from_counts(c), c, deployment=_KNN_DEPLOY)
    assert (e.cores, e.chips) == (4096, 32)
    se, nu, cores, steps = 708 * 76_800, 60 * 76_800, 4096, 60
    frac = 1 - math.exp(-se / nu)
    per_core = (se / (cores * steps) * 3.5e-9 + 76_800 / cores * (frac * 8.4e-9 + (1 - frac) * 5.3e-9)
                + 708 / steps * 2.1e-9)  # every input spike reaches every core
    assert e.latency_s.nominal == pytest.approx(steps * (per_core + 5.8e-6), rel=1e-9)  # 2-32 chips: 5.8 us barrier
    assert e.energy_static_j.nominal == pytest.approx(32 * (104e-3 + 65.3e-3) * e.latency_s.nominal)
    own = est("loihi", c)  # the model's own mapping packs the layer onto fewer chips
    assert own.chips < 32 and own.latency_s.nominal > e.latency_s.nominal


def test_deployment_validation():
    from spikebench.hardware_models import Deployment

    for bad in (dict(chips=0), dict(passes=-1), dict(layer_cores=()), dict(layer_cores=(3, 0)), dict(chips=1.5)):
        with pytest.raises(ValueError):
            Deployment(**bad)
    c = two_layer(1.0)
    with pytest.raises(ValueError, match="cores for 1 layers"):
        get_chip("loihi").estimate(NetworkProfile.from_counts(c), c, deployment=Deployment(layer_cores=(4,)))


def test_hardware_models_import_only_core():
    import re
    from pathlib import Path

    import spikebench.hardware_models as hm

    folder = Path(hm.__file__).parent
    assert not [p for p in folder.iterdir() if p.is_dir() and (p / "__init__.py").exists()], "keep the folder flat"
    for path in folder.glob("*.py"):
        text = path.read_text()
        assert "from .." not in text, path.name
        for mod in re.findall(r"^\s*(?:from|import)\s+(spikebench[\w.]*)", text, flags=re.M):
            assert mod == "spikebench.core" or mod.startswith("spikebench.core.") or mod == "spikebench.hardware_models", (path.name, mod)


def test_spinnaker2_per_pe_dvfs_hand():
    """Per-PE DVFS (issue 14): at 0.5 V, the PEs of a layer whose work per step overruns the 1 ms tick at 150 MHz
    run at 0.8 V / 300 MHz (15.0 pJ per cycle, 3.22 mW baseline); the step stays one tick."""
    T, se, n = 10, 700_000, 8 * 30 * 30  # a conv layer (always the ARM path): 70,000 events per step
    c = EventCounts.from_dict({
        "schema": "spikebench.counts/2", "samples": 1, "timesteps": T, "timestep_s": 1e-3, "layers": [
            {"name": "c", "kind": "conv2d", "n_in": 32 * 32, "n_out": n, "spikes_in": 10_000, "synaptic_events": se,
             "neuron_updates": T * n, "spikes_out": 100, "in_shape": [1, 32, 32], "out_shape": [8, 30, 30],
             "kernel": [3, 3], "weight_bits": 8}]}, origin="hand")
    e = est("spinnaker2", c)
    pes = e.cores
    assert pes == 8  # ceil(7,200 neurons / 1,024)
    cyc_pe_step = (se * 12.5 + T * n * 61) / (pes * T)  # 164,250 cycles: 1.10 ms at 150 MHz, 0.55 ms at 300 MHz
    assert cyc_pe_step / 150e6 > 1e-3 > cyc_pe_step / 300e6
    assert e.latency_s.nominal == pytest.approx(T * 1e-3)
    assert e.energy_dynamic_j.nominal == pytest.approx((se * 12.5 + T * n * 61) * 15.0e-12, rel=1e-12)
    assert e.energy_static_j.nominal == pytest.approx((75.2e-3 + pes * 3.22e-3) * T * 1e-3, rel=1e-12)
    # all PEs at 0.8 V: the same here (the layer was raised); a lighter layer stays at 0.5 V
    light = EventCounts.from_dict({**c.to_dict(), "layers": [{**c.to_dict()["layers"][0], "synaptic_events": 10_000}]},
                                  origin="hand")
    e2 = est("spinnaker2", light)
    assert e2.energy_dynamic_j.nominal == pytest.approx((10_000 * 12.5 + T * n * 61) * 8.3e-12, rel=1e-12)
