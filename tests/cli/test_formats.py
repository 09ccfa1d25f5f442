"""``--format table|json|csv`` on every command whose output is data, each format saying the same thing."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

import spikebench as sb
from spikebench.cli import build_parser, main

#: Commands (and sub-commands) whose output is data.
DATA_COMMANDS = (("simulate",), ("estimate",), ("chips", "list"), ("chips", "show"), ("validate",), ("train",),
                 ("choose",))


def subparser(path):
    parser = build_parser()
    for name in path:
        action = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
        parser = action.choices[name]
    return parser


@pytest.mark.parametrize("path", DATA_COMMANDS, ids=" ".join)
def test_every_data_command_takes_the_three_formats(path):
    fmt = next(a for a in subparser(path)._actions if a.dest == "format")
    assert {"table", "json", "csv"} <= set(fmt.choices) and fmt.default == "table"


def run(capsys, *argv):
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture
def sim_files(tmp_path):
    net = sb.Network.random(sizes=[12, 8, 3], recurrent=[True, False], seed=2,
                            weight_std=[3 / np.sqrt(12), 3 / np.sqrt(8)])
    net.to_nir(tmp_path / "net.nir")
    sb.random_spikes(4, 20, 12, 0.2, seed=3).save_npz(tmp_path / "in.npz")
    return tmp_path, net


def test_simulate_csv_is_one_row_per_layer_with_the_counts(sim_files, capsys):
    tmp, net = sim_files
    args = ["simulate", "--network", str(tmp / "net.nir"), "--spikes", str(tmp / "in.npz")]
    rc, out, _ = run(capsys, *args, "--format", "csv")
    assert rc == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    rc, out_json, _ = run(capsys, *args, "--format", "json")
    layers = json.loads(out_json)["counts"]["layers"]
    assert [r["layer"] for r in rows] == [lay["name"] for lay in layers] == ["rlif1", "lif2"]
    for r, lay in zip(rows, layers):
        for q in ("spikes_in", "synaptic_events", "neuron_updates", "spikes_out"):
            assert int(r[q]) == lay[q]
        assert float(r["activity"]) == pytest.approx(lay["spikes_out"] / lay["neuron_updates"])


def test_choose_csv_is_one_row_per_chip_in_rank_order(tmp_path, capsys):
    doc = {"schema": "spikebench.counts/1", "samples": 1, "timesteps": 100, "timestep_s": 1e-3,
           "layers": [{"name": "lif1", "kind": "dense", "n_in": 64, "n_out": 16, "spikes_in": 30,
                       "synaptic_events": 480, "neuron_updates": 1600, "spikes_out": 0, "synapses": 1024,
                       "fan_in_max": 64, "weight_bits": 8}]}
    path = tmp_path / "c.json"
    path.write_text(json.dumps(doc))
    rc, out, _ = run(capsys, "choose", "--counts", str(path), "--draws", "0", "--format", "csv")
    assert rc == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    rc, out_json, _ = run(capsys, "choose", "--counts", str(path), "--draws", "0", "--format", "json")
    chips = json.loads(out_json)["chips"]
    assert [r["chip"] for r in rows] == [c["chip"] for c in chips]
    for r, c in zip(rows, chips):
        assert r["rank"] == ("" if c["rank"] is None else str(c["rank"]))
        assert float(r["energy_j_nominal"]) == pytest.approx(c["energy_j"]["nominal"])
        assert float(r["power_w_high"]) == pytest.approx(c["power_w"]["high"])


def test_chips_show_csv_gives_the_cited_keys(capsys):
    rc, out, _ = run(capsys, "chips", "show", "loihi", "--format", "csv")
    assert rc == 0
    rows = {r["name"]: r for r in csv.DictReader(io.StringIO(out))}
    assert rows["e_syn"]["source_keys"].split("; ")[0] == "davies2018"
    assert rows["e_syn"]["source"].startswith("[@davies2018")
    rc, out, _ = run(capsys, "chips", "show", "loihi")
    assert "e_syn: Davies et al. 2018, Table 2" in out and "[@" not in out


def test_validate_csv_matches_json(capsys):
    rc, out, _ = run(capsys, "validate", "--format", "csv")
    assert rc == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    rc, out_json, _ = run(capsys, "validate", "--format", "json")
    doc = json.loads(out_json)
    assert [(r["case"], r["quantity"]) for r in rows] == [(d["case"], d["quantity"]) for d in doc]
    assert [float(r["error"]) for r in rows] == pytest.approx([d["error"] for d in doc])
