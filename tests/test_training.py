"""`spikebench train` (spikebench.training): quantisation, a tiny CLI run, and retraining the shipped networks.

The retraining tests are slow (minutes); they check that the shipped networks in
``workloads/networks/`` are reproduced bit for bit by ``spikebench train`` with their recorded seed
and epochs on the default offline data.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from spikebench.training import _on_grid, _quantise, cpu_vendor, evaluate_network, fit, train_workload
from spikebench.workloads import data as D
from spikebench.workloads import get_workload
from spikebench.workloads.base import PROVENANCE_TAGS, load_network, shipped_paths

SHIPPED = ("nmnist", "shd", "ecg-anomaly", "nmnist-csnn")  # <workload>[-<variant>]
SHIPPED_CPU_VENDOR = "AuthenticAMD"  # where the shipped networks were trained (before versions recorded it)


def _split(name: str) -> tuple[str, str | None]:
    return ("nmnist", "csnn") if name == "nmnist-csnn" else (name, None)


def _shipped_meta(name: str) -> dict:
    nir, js = shipped_paths(name)
    if not (nir.is_file() and js.is_file()):
        wl, variant = _split(name)
        pytest.fail(f"shipped network {nir} / {js} missing; run 'spikebench train {wl}"
                    f"{' --variant ' + variant if variant else ''} --out workloads/networks'")
    return json.loads(js.read_text())


def test_quantise_to_power_of_two_grid():
    w = np.array([[0.5, -0.26], [0.01, 0.0]], dtype=np.float32)
    q, k = _quantise(w)
    assert k == 7  # 0.5 * 2**7 = 64 <= 127 < 128
    assert np.array_equal(q * 2.0**k, np.round(w.astype(np.float64) * 2.0**k))
    assert np.abs(q * 2.0**k).max() <= 127
    assert _quantise(np.zeros((2, 2)))[1] == 0
    assert np.array_equal(_on_grid(np.array([0.3, 1e9]), 3), np.array([0.25, 32767 / 8], dtype=np.float32))


def test_evaluate_network_matches_scoring_the_shipped_network(tmp_path, monkeypatch):
    monkeypatch.setenv(D.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.delenv(D.DATA_ENV, raising=False)
    wl = get_workload("ecg-anomaly", data_params={"n_records": 2, "duration_s": 60.0}, with_baseline=False)
    train, test = wl.load("train"), wl.load("test")
    ev = evaluate_network(wl, wl.reference_network(), train=train, test=test)
    assert ev["metric"] == "auroc" and ev["value"] == ev["metrics"]["auroc"] and "baseline_auroc" in ev["metrics"]
    import spikebench as sb

    out = sb.simulate(wl.reference_network(), test.spikes).output_spikes
    got = {m.name: m.value for m in wl.score(out, test, threshold=ev["threshold"])}
    assert all(ev["metrics"][k] == v for k, v in got.items())


@pytest.mark.slow
def test_train_cli_tiny_run_writes_valid_files(tmp_path):
    env = {**os.environ, D.CACHE_ENV: str(tmp_path / "cache"), "PYTHONWARNINGS": "ignore"}
    env.pop(D.DATA_ENV, None)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "spikebench.cli", "train", "ecg-anomaly", "--epochs", "1", "--limit", "64",
           "--test-limit", "64", "--seed", "1", "--out", str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "held-out auroc" in r.stdout and "SYNTHETIC" in r.stdout
    net = load_network(out / "ecg-anomaly.nir")
    meta = json.loads((out / "ecg-anomaly.json").read_text())
    assert net.sizes[0] == 4 and net.sizes[-1] == 2 and all(layer.weight_bits == 8 for layer in net.layers)
    assert meta["training"]["epochs"] == 1 and meta["training"]["seed"] == 1 and meta["data"]["train_samples"] == 64
    assert meta["data"]["provenance"] in PROVENANCE_TAGS and "threshold" in net.metadata


def test_train_cli_bad_input_exits_2():
    from spikebench.cli import main

    assert main(["train", "nope"]) == 2
    assert main(["train", "shd", "--epochs", "0"]) == 2
    assert main(["train", "shd", "--variant", "csnn"]) == 2  # only N-MNIST ships a CSNN


def test_conv_recipe_shapes_and_quantised_network():
    """The CSNN recipe builds 8C5-AP2 -> 16C5-AP2 -> 10 on 2x34x34, and to_network turns the torch modules
    into conv Layers on the 8-bit power-of-two grid with the recipe's geometry."""
    torch = pytest.importorskip("torch")
    from spikebench.training import _build, _conv_shapes, to_network

    cfg = get_workload("nmnist").train_config("csnn")
    shapes = _conv_shapes((2, 34, 34), cfg)
    assert [s[1] for s in shapes] == [(8, 15, 15), (16, 5, 5), (10,)]
    torch.manual_seed(0)
    mods = _build((2, 34, 34), cfg)
    net, quant = to_network(mods, cfg, name="t", in_shape=(2, 34, 34))
    assert [layer.kind for layer in net.layers] == ["conv2d", "conv2d", "dense"]
    assert net.layers[0].pool.kind == "avg" and net.layers[1].in_shape == (8, 15, 15) and net.n_in == 2312
    for layer, q in zip(net.layers, quant["layers"]):
        k = -q["weight_scale_exp"]
        grid = np.asarray(layer.weight, np.float64) * 2.0**k
        assert np.array_equal(grid, np.round(grid)) and np.abs(grid).max() <= 127


# ---- retraining reproduces the shipped networks -----------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("name", SHIPPED)
def test_first_epoch_reproduces_the_shipped_training(name):
    """The quick form of the reproduction below (``make test-all``): one epoch of the training loop from the
    recorded seed on the same data gives the shipped run's first-epoch loss and training accuracy, bit
    for bit on the kind of CPU it was trained on. Every batch of the epoch enters the mean loss, so any
    change to the data, the batching, the model, the surrogate or the optimiser shows here."""
    meta = _shipped_meta(name)
    wl_name, variant = _split(name)
    wl = get_workload(wl_name, with_baseline=False)
    cfg = wl.train_config(variant)
    if cfg.timestep_s is not None or cfg.timesteps is not None:  # a recipe with its own binning, as train_workload
        wl = get_workload(wl_name, with_baseline=False, timestep_s=cfg.timestep_s, timesteps=cfg.timesteps)
    train = wl.load("train", seed=0)
    _, history, threads = fit(train.spikes, np.asarray(train.labels, dtype=np.int64), cfg,
                              in_shape=tuple(getattr(wl, "input_shape", (train.spikes.n,))),
                              seed=meta["training"]["seed"], n_epochs=1, log=lambda *a, **k: None)
    want = meta["training"]["history"][0]
    same_cpu = (cpu_vendor() == meta["versions"].get("cpu_vendor", SHIPPED_CPU_VENDOR)
                and threads == meta["training"]["torch_threads"])
    if not same_cpu:  # torch's CPU kernels round per vendor (see the test below)
        assert history[0]["loss"] == pytest.approx(want["loss"], rel=0.05), "first epoch on another CPU: far off"
        assert history[0]["train_accuracy"] == pytest.approx(want["train_accuracy"], abs=0.03)
        return
    assert (history[0]["loss"], history[0]["train_accuracy"]) == (want["loss"], want["train_accuracy"])


@pytest.mark.slow
@pytest.mark.retrain
@pytest.mark.parametrize("name", SHIPPED)
def test_retraining_reproduces_the_shipped_network(name, tmp_path):
    """`spikebench train <name>` (the recorded seed and epochs) gives the shipped weights bit for bit
    and its held-out metric."""
    meta = _shipped_meta(name)
    wl, variant = _split(name)
    got = train_workload(get_workload(wl, with_baseline=False), seed=meta["training"]["seed"],
                         epochs=meta["training"]["epochs"], out_dir=tmp_path, log=lambda *a, **k: None,
                         variant=variant)
    shipped, retrained = load_network(shipped_paths(name)[0]), load_network(tmp_path / f"{name}.nir")
    for a, b in zip(shipped.layers, retrained.layers, strict=True):
        assert (a.kind, a.in_shape, a.out_shape) == (b.kind, b.in_shape, b.out_shape)
    # torch's CPU kernels (oneDNN, MKL) round differently per CPU vendor: bit for bit only on the kind of
    # CPU the network was trained on (recorded since; the shipped networks were trained on AMD CPUs)
    if cpu_vendor() != meta["versions"].get("cpu_vendor", SHIPPED_CPU_VENDOR):
        assert got["value"] == pytest.approx(meta["value"], abs=0.03), "retrained on another CPU: far off"
        assert got["training"]["seed"] == meta["training"]["seed"]
        return
    assert got["value"] == pytest.approx(meta["value"], abs=1e-12)  # ranking metrics: scikit-learn, to the ulp
    for a, b in zip(shipped.layers, retrained.layers, strict=True):
        for field in ("weight", "bias", "recurrent_weight", "recurrent_bias", "beta"):
            x, y = getattr(a, field), getattr(b, field)
            assert (x is None and y is None) or np.array_equal(x, y), f"{name}: {a.name}.{field} differs"
    if "threshold" in meta:
        assert got["threshold"] == meta["threshold"]
    if variant is not None:  # a variant's own binning travels with it
        assert shipped.metadata["binning"] == retrained.metadata["binning"] == meta["binning"]
