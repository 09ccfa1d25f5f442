"""Boundaries a user chooses (issue 14, item 2): chip (each model's own), board (+ the board's published power)
and system (+ host I/O time), by hand; a chip without a published figure stays at its chip boundary and says so."""

from __future__ import annotations

import json

import pytest

from spikebench.cli import main
from spikebench.core.counts import EventCounts
from spikebench.hardware_models import NetworkProfile, get_chip
from spikebench.hardware_models.boundary import parse_boundaries
from spikebench.hardware_models.params import _boundary_param

SPIKES_IN = 300  # input spikes per inference: the values a host sends


def _counts() -> EventCounts:
    return EventCounts.from_dict({
        "schema": "spikebench.counts/1", "samples": 1, "timesteps": 20, "timestep_s": 1e-3, "layers": [
            {"name": "d", "n_in": 200, "n_out": 100, "spikes_in": SPIKES_IN, "synaptic_events": 30_000,
             "neuron_updates": 2000, "spikes_out": 10, "weight_bits": 4}]}, origin="hand")


def est(chip, boundary):
    c = _counts()
    return get_chip(chip).estimate(NetworkProfile.from_counts(c), c, boundary=boundary)


def test_akida_board_adds_the_board_floor():
    chip, board = est("akida", "chip"), est("akida", "board")
    L = chip.latency_s.nominal
    assert board.latency_s.nominal == pytest.approx(L)
    assert board.energy_dynamic_j.nominal == pytest.approx(chip.energy_dynamic_j.nominal)
    # core-rail floor 113 mW + the board's 791 mW beyond it (MetaTF's AKD1000 board floor 904 mW - 113 mW)
    assert board.energy_static_j.nominal == pytest.approx((0.113 + 0.791) * L, rel=1e-12)
    assert "PCIe reference board" in board.boundary


def test_akida_system_adds_host_io_time():
    chip, system = est("akida", "chip"), est("akida", "system")
    t_io = 26.5e-6 + 2.0e-9 * SPIKES_IN
    L = chip.latency_s.nominal + t_io
    assert system.latency_s.nominal == pytest.approx(L, rel=1e-12)
    assert system.energy_static_j.nominal == pytest.approx((0.113 + 0.791) * L, rel=1e-12)  # board included
    assert any("host's own energy is not included" in a for a in system.assumptions)


def test_truenorth_board_adds_the_ns1e_board():
    chip, board = est("truenorth", "chip"), est("truenorth", "board")
    L = chip.latency_s.nominal
    assert board.energy_static_j.nominal == pytest.approx((0.064 + 2.5) * L, rel=1e-12)
    assert board.energy_static_j.high >= (0.080 + 3.0) * L * (1 - 1e-12)  # both constants' high ends
    # no host transfer rate is published for TrueNorth: system is the board, and says so
    system = est("truenorth", "system")
    assert system.energy_j.nominal == pytest.approx(board.energy_j.nominal)
    assert any("no published host transfer rate" in a for a in system.assumptions)


def test_loihi2_system_host_rate_and_no_board():
    chip, system = est("loihi2", "chip"), est("loihi2", "system")
    p_static = chip.energy_static_j.nominal / chip.latency_s.nominal
    L = chip.latency_s.nominal + 1.50e-6 * SPIKES_IN
    assert system.latency_s.nominal == pytest.approx(L, rel=1e-12)
    assert system.energy_static_j.nominal == pytest.approx(p_static * L, rel=1e-12)
    assert any("no published board figure" in a for a in system.assumptions)


def test_chip_without_published_boundary_keeps_its_numbers_and_says_so():
    chip, board = est("loihi", "chip"), est("loihi", "board")
    assert board.energy_j == chip.energy_j and board.latency_s == chip.latency_s
    assert board.boundary.endswith("(no published board figure: chip boundary)")


def test_unknown_boundary():
    with pytest.raises(ValueError, match="unknown boundary 'rack'; boundaries: chip, board, system"):
        est("akida", "rack")


@pytest.mark.parametrize("table, msg", [
    ({"rack": {"description": "x", "source": "y"}}, "boundary 'rack' is not one of board, system"),
    ({"board": {"description": "x"}}, "needs a description and a source"),
    ({"board": {"description": "x", "source": "y", "t_host_value": {}}}, "takes p_board"),
    ({"board": {"description": "x", "source": "y"}}, "states none of p_board"),
])
def test_bad_boundary_tables(table, msg):
    with pytest.raises(ValueError, match=msg):
        parse_boundaries(table, "hand.toml", _boundary_param)


def test_cli_boundary(tmp_path, capsys):
    path = tmp_path / "c.json"
    _counts().to_json(path)
    assert main(["estimate", "--counts", str(path), "--chips", "akida,loihi", "--boundary", "system",
                 "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["boundary"] == "system"
    ak = next(e for e in doc["estimates"] if e["chip"] == "akida")
    assert ak["latency_s"]["nominal"] == pytest.approx(est("akida", "system").latency_s.nominal)
    with pytest.raises(SystemExit) as exc:
        main(["estimate", "--counts", str(path), "--boundary", "rack"])
    assert exc.value.code == 2
    assert main(["estimate", "--counts", str(path), "--chips", "akida,truenorth", "--boundary", "board",
                 "--sensitivity", "20"]) == 0
    assert "rank stability" in capsys.readouterr().out
