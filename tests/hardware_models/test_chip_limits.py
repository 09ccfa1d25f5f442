"""Every chip pays for time at zero activity, and knows its largest real system (issue 12, items 2-3)."""

from __future__ import annotations

import pytest

from spikebench.core import EventCounts, LayerCounts
from spikebench.core.bibliography import citations
from spikebench.hardware_models import CHIPS, NetworkProfile, get_chip

T = 20


def silent_file() -> EventCounts:
    """A valid counts file of a 300 -> 120 layer over 20 steps in which nothing spikes."""
    return EventCounts.from_dict({
        "schema": "spikebench.counts/2", "samples": 1, "timesteps": T, "timestep_s": 1e-3,
        "layers": [{"name": "h", "n_in": 300, "n_out": 120, "spikes_in": 0, "synaptic_events": 0,
                    "neuron_updates": T * 120, "spikes_out": 0, "synapses": 30000, "weight_bits": 4}]})


def no_events_at_all() -> EventCounts:
    """Not even neuron updates (a record built by hand; no file can say it)."""
    layer = LayerCounts(name="h", kind="dense", n_in=300, n_out=120, spikes_in=0, synaptic_events=0, neuron_updates=0,
                        spikes_out=0, synapses=30000, weight_bits=4)
    return EventCounts(layers=(layer,), samples=1, timesteps=T, timestep_s=1e-3)


#: Each model's shortest step (its low end), from its TOML: the time a step takes with nothing to do.
MIN_STEP_S = {
    "loihi": 113e-9,  # one-tile barrier
    "loihi2": 200e-9,  # chip barrier
    "truenorth": 1e-3 / 21,  # fastest measured tick
    "spinnaker2": 1e-3,  # timer tick
    "akida": 1 / 400e6,  # one clock per layer at the fastest clock
    "cpu": (300 * 120 + 120) / 1e11,  # dense ops at the highest throughput
    "gpu": 2 * 5e-6,  # two kernel launches at the shortest launch time
}


@pytest.mark.parametrize("build", [silent_file, no_events_at_all])
@pytest.mark.parametrize("chip", list(CHIPS))
def test_zero_activity_still_costs_time_and_energy(chip, build):
    # On the old code Akida gave 0 J and 0 s here (and `choose` ranked it first).
    counts = build()
    e = get_chip(chip).estimate(NetworkProfile.from_counts(counts), counts)
    assert e.latency_s.low >= T * MIN_STEP_S[chip] * (1 - 1e-9) > 0, (chip, e.latency_s)
    assert e.energy_j.low > 0, (chip, e.energy_j)
    if chip != "cpu":  # the CPU's idle power is a 0 W placeholder (cpu.toml); its energy is the dense work
        assert e.energy_static_j.low > 0, (chip, e.energy_static_j)
    if get_chip(chip).event_driven and build is no_events_at_all:
        assert e.energy_dynamic_j.high == 0.0  # static only at zero activity (DESIGN habit 5)


def test_akida_zero_activity_hand():
    counts = no_events_at_all()
    e = get_chip("akida").estimate(NetworkProfile.from_counts(counts), counts)
    latency = T * 1 / 400e6  # one layer, one clock per frame
    assert e.latency_s.nominal == pytest.approx(latency)
    assert e.energy_static_j.nominal == pytest.approx(0.113 * latency)


# ---- the largest real system -----------------------------------------------------------------------

LARGEST = {"loihi": (768, "frady2020"), "loihi2": (1152, "eenews2024halapoint"),
           "truenorth": (64, "icn2017afrltruenorth"), "spinnaker2": (35000, "allelectronics2025spinncloud"),
           "akida": (1, "brainchipmetatf")}


@pytest.mark.parametrize("chip", [c for c, m in CHIPS.items() if m.event_driven])
def test_every_neuromorphic_chip_states_its_largest_system(chip):
    # On the old code only Loihi had max_chips.
    p = get_chip(chip).sheet.params.get("max_chips")
    assert p is not None, f"{chip}.toml states no max_chips"
    value, key = LARGEST[chip]
    assert p.value == value and p.unit == "count" and p.low == p.high == value
    assert key in [k for k, _ in citations(p.source)], p.source


def big_layer(n_in: int, n_out: int, synapses: int | None, fan_in_max: int | None = None) -> EventCounts:
    return EventCounts(layers=(LayerCounts(name="big", kind="dense", n_in=n_in, n_out=n_out, spikes_in=0,
                                           synaptic_events=0, neuron_updates=n_out, spikes_out=0, synapses=synapses,
                                           fan_in_max=fan_in_max, weight_bits=8),),
                       samples=1, timesteps=1, timestep_s=1e-3)


def test_a_million_by_million_dense_layer_is_infeasible_on_every_chip_but_the_cpu():
    # On the old code Loihi 2 took it on 59,605 chips (feasible, and `choose` recommended it), as did
    # TrueNorth, SpiNNaker 2, Akida (62,500 passes) and the GPU (4 TB of weights).
    counts = big_layer(10**6, 10**6, None)
    profile = NetworkProfile.from_counts(counts)
    for name, chip in CHIPS.items():
        e = chip.estimate(profile, counts)
        if name == "cpu":  # no memory or system size is modelled for the CPU row (cpu.toml notes say so)
            assert e.feasible and any("Largest system" in n for n in chip.sheet.notes)
            continue
        assert not e.feasible, name
        why = " ".join(e.reasons)
        if name == "akida":
            assert "FullyConnected layer takes at most 57,334 inputs, this one 1,000,000" in why
        elif name == "gpu":
            assert "fp32 weights need 4,000.0 GB, more than one GPU's 80 GB" in why
        else:
            value, key = LARGEST[name]
            assert f"more than the largest {chip.sheet.title} system ({value:,} chips; [@{key}" in why, why


# chips at the limit: one neuron per target, one synapse each; neurons per chip from the TOMLs
PER_CHIP = {"loihi": 1024 * 128, "loihi2": 8192 * 128, "spinnaker2": 1024 * 148, "truenorth": 256 * 4096}


@pytest.mark.parametrize("chip", list(PER_CHIP))
def test_the_largest_system_is_feasible_one_chip_more_is_not(chip):
    value, _ = LARGEST[chip]
    for n_out, feasible in ((value * PER_CHIP[chip], True), (value * PER_CHIP[chip] + 1, False)):
        n_in = n_out if chip == "truenorth" else 1  # TrueNorth: one-to-one, so no splitter cores
        counts = big_layer(n_in, n_out, synapses=n_out, fan_in_max=1)
        e = get_chip(chip).estimate(NetworkProfile.from_counts(counts), counts)
        assert e.chips == value + (0 if feasible else 1), (chip, e.chips)
        assert e.feasible is feasible, (chip, e.reasons)
