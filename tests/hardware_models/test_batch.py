"""The dense CPU/GPU rows at a batch size (issue 15, item 4): weight reads, kernel launches and the idle power
over the batch's time are shared by its inputs, so the GPU's energy per inference falls with the batch. By hand
at two batch sizes."""

from __future__ import annotations

import json

import pytest

from spikebench.cli import main
from spikebench.core.counts import EventCounts
from spikebench.hardware_models import NetworkProfile, get_chip

T, N_IN, N_OUT = 20, 200, 100


def _counts() -> EventCounts:
    return EventCounts.from_dict({
        "schema": "spikebench.counts/1", "samples": 1, "timesteps": T, "timestep_s": 1e-3, "layers": [
            {"name": "d", "n_in": N_IN, "n_out": N_OUT, "spikes_in": 300, "synaptic_events": 30_000,
             "neuron_updates": T * N_OUT, "spikes_out": 10, "weight_bits": 4}]}, origin="hand")


def est(chip, **kw):
    c = _counts()
    return get_chip(chip).estimate(NetworkProfile.from_counts(c), c, **kw)


@pytest.mark.parametrize("batch", [1, 64])
def test_gpu_batch_by_hand(batch):
    # gpu.toml nominal: 4.6 pJ per op, 12.5 pJ per weight byte, 107 W floor, 9.75e12 MAC/s, 12.5 us per launch
    ops = T * (N_IN * N_OUT + N_OUT)  # 402,000 per inference
    weight_bytes = T * N_IN * N_OUT * 4  # 1.6 MB per step sweep of the batch
    t_step = batch * (N_IN * N_OUT + N_OUT) / 9.75e12 + 2 * 12.5e-6  # 2 launches per layer and step
    latency = T * t_step
    e = est("gpu", batch=batch)
    assert e.latency_s.nominal == pytest.approx(latency, rel=1e-12)
    assert e.energy_dynamic_j.nominal == pytest.approx(ops * 4.6e-12 + weight_bytes / batch * 12.5e-12, rel=1e-12)
    assert e.energy_static_j.nominal == pytest.approx(107 * latency / batch, rel=1e-12)


def test_gpu_energy_per_inference_falls_with_batch():
    energies = [est("gpu", batch=b).energy_j.nominal for b in (1, 8, 64, 256)]
    assert all(a > b for a, b in zip(energies, energies[1:]))
    assert energies[0] / energies[2] > 50  # launch-bound at this size: the floor is shared almost 64 ways


def test_neuromorphic_chip_streams_and_says_so():
    one, many = est("loihi"), est("loihi", batch=64)
    assert many.energy_j == one.energy_j and many.latency_s == one.latency_s
    assert any("streams its inputs one at a time" in a for a in many.assumptions)


@pytest.mark.parametrize("batch", [0, -3, 2.5, True])
def test_bad_batch(batch):
    with pytest.raises(ValueError, match="batch must be an integer >= 1"):
        est("gpu", batch=batch)
    with pytest.raises(ValueError, match="batch must be an integer >= 1"):
        est("akida", batch=batch)


def test_batch_and_real_time_exclude_each_other():
    with pytest.raises(ValueError, match="batching and real-time pacing exclude each other"):
        est("cpu", batch=8, real_time=True)


def test_cli_batch(tmp_path, capsys):
    path = tmp_path / "c.json"
    _counts().to_json(path)
    assert main(["estimate", "--counts", str(path), "--chips", "gpu,loihi", "--batch", "64", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["batch"] == 64
    gpu = next(e for e in doc["estimates"] if e["chip"] == "gpu")
    assert gpu["energy_j"]["nominal"] == pytest.approx(est("gpu", batch=64).energy_j.nominal)
    assert main(["estimate", "--counts", str(path), "--batch", "0"]) == 2
    assert "--batch 0: give 1 to 1,000,000" in capsys.readouterr().err
    assert main(["estimate", "--counts", str(path), "--batch", "8", "--real-time"]) == 2
    assert "cannot be paced in real time" in capsys.readouterr().err


def test_sensitivity_ranks_at_the_batch():
    from spikebench.hardware_models import CHIPS
    from spikebench.hardware_models.sensitivity import rank_stability

    c = _counts()
    one = rank_stability(c, {n: CHIPS[n] for n in ("gpu", "cpu")}, draws=5)
    many = rank_stability(c, {n: CHIPS[n] for n in ("gpu", "cpu")}, draws=5, batch=4096)
    # batch 1: the GPU's 107 W floor over ~0.5 ms makes it the dearer; at batch 4,096 the floor is shared
    assert one.nominal_ranking == ("cpu", "gpu") and many.nominal_ranking == ("gpu", "cpu")
