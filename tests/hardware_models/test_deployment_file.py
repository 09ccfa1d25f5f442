"""Deployments a user states (issue 14, item 3): ``spikebench estimate --deployment deployment.json`` puts
the user's placement (chips, cores per layer, passes) in place of each named chip's own mapping, with the
same Deployment record the validation cases use for the published vendor mappings; every mistake in the
file is one line and exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import spikebench as sb
from spikebench.cli import main
from spikebench.hardware_models import CHIPS, NetworkProfile
from spikebench.hardware_models import validation as V
from spikebench.hardware_models.base import Deployment
from spikebench.hardware_models.deployment_file import read_deployments

SHIPPED = Path(V.__file__).parent / "deployments"


@pytest.fixture(scope="module")
def counts_file(tmp_path_factory):
    net = sb.Network.random(sizes=[200, 300, 10], recurrent=[False, False], seed=0)
    spikes = sb.random_spikes(samples=4, timesteps=50, n_in=200, density=0.05, seed=1)
    path = tmp_path_factory.mktemp("c") / "counts.json"
    sb.simulate(net, spikes, backend="sparse-cpu").counts.to_json(path)
    return path


def _write(tmp_path, doc, name="dep.json") -> Path:
    p = tmp_path / name
    p.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return p


def _estimates(capsys, *args) -> dict:
    assert main(["estimate", *args, "--format", "json"]) == 0
    return {e["chip"]: e for e in json.loads(capsys.readouterr().out)["estimates"]}


def test_shipped_vendor_mappings_are_the_ones_validate_uses():
    knn = read_deployments(SHIPPED / "loihi-frady2020-knn.json", layers=1)["loihi"]
    assert (knn.chips, knn.layer_cores, knn.passes) == (V._KNN_DEPLOY.chips, V._KNN_DEPLOY.layer_cores, None)
    ak = read_deployments(SHIPPED / "akida-akidanet-1.0-224-minimal.json", layers=1)["akida"]
    case = next(c for c in V.cases() if c.case_id == "AK1500-AkidaNet-1.0-224" and c.quantity == "latency_s")
    assert (ak.layer_cores, ak.passes) == (case.deployment.layer_cores, case.deployment.passes) == ((117,), 4)
    counts = case.build()
    got = CHIPS["akida"].estimate(NetworkProfile.from_counts(counts), counts, deployment=ak)
    (row,) = V.run_cases([case])
    assert got.latency_s.nominal == pytest.approx(row.predicted.nominal, rel=1e-12)  # validate's row, via the file


def test_the_file_replaces_the_named_chips_mapping_only(tmp_path, capsys, counts_file):
    dep = _write(tmp_path, {"schema": "spikebench.deployment/1", "deployments": {
        "loihi": {"chips": 2, "layer_cores": [7, 3], "source": "my two-board spread"},
        "akida": {"layer_cores": [5, 2], "passes": 3}}})
    own = _estimates(capsys, "--counts", str(counts_file), "--chips", "loihi,akida,truenorth")
    mine = _estimates(capsys, "--counts", str(counts_file), "--chips", "loihi,akida,truenorth", "--deployment", str(dep))
    assert (mine["loihi"]["chips"], mine["loihi"]["cores"]) == (2, 10)
    assert mine["akida"]["cores"] == 7
    assert any("my two-board spread" in r for r in mine["loihi"]["reasons"])
    assert any("3 passes" in r and str(dep) in r for r in mine["akida"]["reasons"])
    assert mine["truenorth"] == own["truenorth"]  # not in the file: the model's own mapping
    # the same numbers as the Python call with the same Deployment record
    counts = sb.EventCounts.from_json(counts_file)
    direct = CHIPS["loihi"].estimate(NetworkProfile.from_counts(counts), counts,
                                     deployment=Deployment(chips=2, layer_cores=(7, 3), source="x"))
    assert mine["loihi"]["energy_j"]["nominal"] == pytest.approx(direct.energy_j.nominal, rel=1e-12)
    # two chips stay powered: static energy doubles against one chip at the same latency
    assert mine["loihi"]["energy_static_j"]["nominal"] > own["loihi"]["energy_static_j"]["nominal"]


def test_a_deployment_beyond_the_largest_system_is_infeasible_not_an_error(tmp_path, capsys, counts_file):
    dep = _write(tmp_path, {"schema": "spikebench.deployment/1", "deployments": {"loihi": {"chips": 10_000}}})
    got = _estimates(capsys, "--counts", str(counts_file), "--chips", "loihi", "--deployment", str(dep))
    assert got["loihi"]["feasible"] is False and got["loihi"]["chips"] == 10_000
    assert main(["estimate", "--counts", str(counts_file), "--chips", "loihi,loihi2", "--deployment", str(dep),
                 "--sensitivity", "20"]) == 0
    assert "not ranked (infeasible): loihi" in capsys.readouterr().out


@pytest.mark.parametrize("doc, message", [
    ("{not json", "not valid JSON"),
    ({"schema": "spikebench.deployment/0", "deployments": {"loihi": {"chips": 1}}}, "schema must be"),
    ({"schema": "spikebench.deployment/1"}, "\"deployments\" must be an object"),
    ({"schema": "spikebench.deployment/1", "deployments": {"loihi3": {"chips": 1}}}, "unknown chip 'loihi3'"),
    ({"schema": "spikebench.deployment/1", "deployments": {"loihi": {"cores": [1, 2]}}},
     "deployments.loihi has unknown field(s) cores"),
    ({"schema": "spikebench.deployment/1", "deployments": {"loihi": {"passes": 2}}},
     "deployments.loihi.passes does not apply to loihi"),
    ({"schema": "spikebench.deployment/1", "deployments": {"gpu": {"chips": 2}}}, "dense reference row"),
    ({"schema": "spikebench.deployment/1", "deployments": {"akida": {"layer_cores": [3]}}},
     "layer_cores gives 1 layer(s); the counts file has 2: give one number of NPs per layer"),
    ({"schema": "spikebench.deployment/1", "deployments": {"akida": {"layer_cores": [3, 0]}}},
     "layer_cores must be a list of integers >= 1"),
    ({"schema": "spikebench.deployment/1", "deployments": {"loihi": {"chips": True}}}, "chips must be an integer"),
    ({"schema": "spikebench.deployment/1", "deployments": {"loihi": {"chips": 2.5}}}, "chips must be an integer"),
    ({"schema": "spikebench.deployment/1", "deployments": {"loihi": {"source": "x"}}},
     "states no chips, layer_cores or passes"),
    ({"schema": "spikebench.deployment/1", "deployments": {"loihi": {"chips": 1, "source": 5}}},
     "source must be text"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    (" " * (1 << 20) + "{}", "larger than 1024 KiB"),
])
def test_file_mistakes_are_one_line(tmp_path, capsys, counts_file, doc, message):
    dep = _write(tmp_path, doc)
    assert main(["estimate", "--counts", str(counts_file), "--deployment", str(dep)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and str(dep) in err[0]


def test_missing_folder_and_left_out_chip_are_one_line(tmp_path, capsys, counts_file):
    for path, message in ((tmp_path / "nope.json", "no such deployment file"), (tmp_path, "is a folder")):
        assert main(["estimate", "--counts", str(counts_file), "--deployment", str(path)]) == 2
        assert message in capsys.readouterr().err
    dep = _write(tmp_path, {"schema": "spikebench.deployment/1", "deployments": {"akida": {"passes": 2}}})
    assert main(["estimate", "--counts", str(counts_file), "--chips", "loihi", "--deployment", str(dep)]) == 2
    assert "places the network on akida, which --chips leaves out" in capsys.readouterr().err


# ---- operating points (issue 14, item 1: SpiNNaker 2's two published performance levels) ----------------


def test_operating_point_changes_the_point_constants_and_says_so(capsys, counts_file):
    low = _estimates(capsys, "--counts", str(counts_file), "--chips", "spinnaker2")["spinnaker2"]
    high = _estimates(capsys, "--counts", str(counts_file), "--chips", "spinnaker2",
                      "--operating-point", "spinnaker2=0.8V")["spinnaker2"]
    assert any(a.startswith("operating point 0.5V") for a in low["assumptions"])
    assert any(a.startswith("operating point 0.8V") for a in high["assumptions"])
    # per-PE baseline 1.05 -> 3.22 mW and the chip floor 75.2 mW over the same ticks
    ratio = high["energy_static_j"]["nominal"] / low["energy_static_j"]["nominal"]
    pes = low["cores"]
    assert ratio == pytest.approx((75.2 + pes * 3.22) / (75.2 + pes * 1.05), rel=1e-9)
    assert high["energy_dynamic_j"]["nominal"] > low["energy_dynamic_j"]["nominal"]
    assert main(["estimate", "--counts", str(counts_file), "--chips", "spinnaker2,loihi2", "--operating-point",
                 "spinnaker2=0.8V", "--sensitivity", "10"]) == 0


@pytest.mark.parametrize("spec, message", [
    ("spinnaker2", "write CHIP=POINT"),
    ("spinnaker3=0.8V", "unknown chip 'spinnaker3'"),
    ("spinnaker2=1.2V", "spinnaker2 has no operating point '1.2V'; its operating points: 0.5V, 0.8V"),
    ("loihi=0.8V", "loihi has no operating point '0.8V'; its operating points: none"),
])
def test_operating_point_mistakes_are_one_line(capsys, counts_file, spec, message):
    assert main(["estimate", "--counts", str(counts_file), "--operating-point", spec]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_operating_point_of_a_chip_left_out_or_given_twice(capsys, counts_file):
    assert main(["estimate", "--counts", str(counts_file), "--chips", "loihi", "--operating-point",
                 "spinnaker2=0.8V"]) == 2
    assert "spinnaker2 is not among --chips" in capsys.readouterr().err
    assert main(["estimate", "--counts", str(counts_file), "--operating-point", "spinnaker2=0.8V",
                 "--operating-point", "spinnaker2=0.5V"]) == 2
    assert "names spinnaker2 twice" in capsys.readouterr().err


def test_chips_show_lists_the_points_and_shows_one(capsys):
    assert main(["chips", "show", "spinnaker2", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["operating_point"] == "0.5V" and [p["name"] for p in doc["operating_points"]] == ["0.5V", "0.8V"]
    assert next(p for p in doc["params"] if p["name"] == "e_cycle")["value"] == 8.3
    assert main(["chips", "show", "spinnaker2", "--operating-point", "0.8V", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    e_cycle = next(p for p in doc["params"] if p["name"] == "e_cycle")
    assert (e_cycle["value"], e_cycle["low"], e_cycle["high"]) == (15.0, 11.25, 18.75)
    assert "[value at operating point 0.8V]" in e_cycle["source"]


@pytest.mark.parametrize("table, message", [
    ({"default": "b", "a": {"description": "x", "source": "[@scholze2026]", "f_clk": 1}},
     "operating_points.default must name one of a"),
    ({"default": "a", "a": {"description": "x", "source": "[@scholze2026]", "f_clock": 1}},
     "operating point a sets f_clock, which is not a parameter"),
    ({"default": "a", "a": {"source": "[@scholze2026]", "f_clk": 1}}, "needs a description and a source"),
    ({"default": "a", "a": {"description": "x", "source": "[@nosuchkey2099]", "f_clk": 1}}, "nosuchkey2099"),
])
def test_operating_point_tables_are_checked_when_the_sheet_loads(table, message):
    from spikebench.hardware_models.params import _operating_points, load_sheet

    params = dict(load_sheet("spinnaker2").base_params)
    with pytest.raises((ValueError, sb.SpikebenchError), match=message):  # a missing bibliography key: its own error
        _operating_points(table, params, "x.toml")
