"""The ``spikebench simulate`` command: outputs, and one-line errors with exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import spikebench as sb
from spikebench.cli import main


@pytest.fixture
def files(tmp_path):
    net = sb.Network.random(sizes=[12, 8, 3], recurrent=[True, False], seed=2,
                            weight_std=[3 / np.sqrt(12), 3 / np.sqrt(8)])
    net.to_nir(tmp_path / "net.nir")
    spikes = sb.random_spikes(4, 20, 12, 0.2, seed=3, timestep_s=2e-3)
    spikes.save_npz(tmp_path / "in.npz")
    return tmp_path, net, spikes


def test_simulate_writes_the_counts_file(files, capsys):
    tmp, net, spikes = files
    rc = main(["simulate", "--network", str(tmp / "net.nir"), "--spikes", str(tmp / "in.npz"),
               "--counts-out", str(tmp / "counts.json"), "--outputs-out", str(tmp / "out.npz")])
    assert rc == 0
    out = capsys.readouterr().out
    assert "rlif1" in out and "synaptic_events" in out and "counts written to" in out
    counts = sb.EventCounts.from_json(tmp / "counts.json")
    expected = sb.simulate(net, spikes).counts
    assert counts == expected
    assert counts.timestep_s == 2e-3
    with np.load(tmp / "out.npz") as z:
        np.testing.assert_array_equal(z["spikes"], sb.simulate(net, spikes).output_spikes)


def test_simulate_json_format_and_snntorch_backend(files, capsys):
    tmp, net, spikes = files
    rc = main(["simulate", "--network", str(tmp / "net.nir"), "--spikes", str(tmp / "in.npz"),
               "--backend", "snntorch", "--format", "json"])
    assert rc == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["backend"] == "snntorch"
    assert sb.EventCounts.from_dict(doc["counts"]) == sb.simulate(net, spikes).counts


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--backend", "loihi"], "unknown backend 'loihi'"),
        (["--network", "{tmp}/missing.nir"], "no such NIR file"),
        (["--network", "{tmp}/in.npz"], "not a readable NIR graph"),
        (["--spikes", "{tmp}/net.nir"], "not a readable .npz spikes file"),
        (["--spikes", "{tmp}/wrong.npz"], "channels but the network takes 12"),
        (["--spikes", "{tmp}/halves.npz"], "binary"),
        (["--counts-out", "{tmp}/nofolder/c.json"], "does not exist"),
        (["--counts-out", "{tmp}"], "is a folder"),
        (["--device", "cuda"], "CPU only"),
        (["--timestep-s", "-1"], "--timestep-s must be a positive"),
    ],
)
def test_simulate_bad_input_is_one_line_exit_2(files, capsys, args, message):
    tmp, _, _ = files
    np.savez(tmp / "wrong.npz", spikes=np.zeros((2, 5, 7), np.uint8))
    np.savez(tmp / "halves.npz", spikes=np.full((2, 5, 12), 0.5))
    base = {"--network": str(tmp / "net.nir"), "--spikes": str(tmp / "in.npz")}
    extra = [a.format(tmp=tmp) for a in args]
    for k in list(base):
        if k in extra:
            del base[k]
    argv = ["simulate"] + [x for kv in base.items() for x in kv] + extra
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2
    assert message in err
    assert err.count("\n") == 1 and err.startswith("spikebench: error: ")


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["simulate"])
    assert exc.value.code == 2
    assert "required: --network, --spikes" in capsys.readouterr().err


def test_entry_point_runs_as_a_program(files):
    tmp, _, _ = files
    proc = subprocess.run([sys.executable, "-m", "spikebench.cli", "simulate", "--network", str(tmp / "net.nir"),
                           "--spikes", str(tmp / "missing.npz")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"spikebench: error: {tmp / 'missing.npz'}: no such spikes file"
    assert "Traceback" not in proc.stderr
