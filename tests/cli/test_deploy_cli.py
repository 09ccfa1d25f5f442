"""``spikebench deploy``: each chip's numeric format applied to a network, from the command line."""

from __future__ import annotations

import json

from spikebench.cli import main


def test_deploy_shipped_network_json(capsys):
    assert main(["deploy", "shd", "--chips", "loihi2,truenorth,akida,cpu", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    by = {c["chip"]: c for c in doc["chips"]}
    assert set(by) == {"loihi2", "truenorth", "akida", "cpu"}
    assert by["loihi2"]["feasible"] and by["loihi2"]["arithmetic"] == "loihi2-fixed"
    assert any("reset" in n for n in by["loihi2"]["notes"])
    assert not by["truenorth"]["feasible"] and "leak" in by["truenorth"]["why"]
    assert not by["akida"]["feasible"] and "recurren" in by["akida"]["why"]  # shd's hidden layer is recurrent
    assert by["cpu"]["feasible"] and by["cpu"]["notes"] == ["runs the float32 network as trained"]


def test_deploy_with_simulation_scores_each_chip(capsys):
    assert main(["deploy", "ecg-anomaly", "--chips", "loihi2,cpu", "--simulate", "ecg-anomaly", "--limit", "300",
                 "--format", "json"]) == 0
    by = {c["chip"]: c for c in json.loads(capsys.readouterr().out)["chips"]}
    assert by["cpu"]["metric"] == "auroc" and by["cpu"]["deployed_value"] == by["cpu"]["float_value"]
    assert 0.5 < by["loihi2"]["deployed_value"] <= 1.0
    assert by["loihi2"]["data"] == "synthetic"


def test_deploy_unknown_network_is_one_line(capsys):
    assert main(["deploy", "no-such-net"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such NIR file" in err
