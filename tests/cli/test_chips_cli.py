"""``spikebench estimate``, ``chips list|show`` and ``validate``: outputs and bad input (exit 2, one line)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from spikebench.cli import main
from spikebench.hardware_models import CHIPS


def good_doc() -> dict:
    return {
        "schema": "spikebench.counts/1", "samples": 2, "timesteps": 5, "timestep_s": 0.001,
        "layers": [
            {"name": "h", "kind": "dense", "n_in": 4, "n_out": 3, "spikes_in": 6, "synaptic_events": 12,
             "neuron_updates": 30, "spikes_out": 4, "synapses": 12, "fan_in_max": 4, "weight_bits": 4},
            {"name": "o", "kind": "dense", "n_in": 3, "n_out": 2, "spikes_in": 4, "synaptic_events": 8,
             "neuron_updates": 20, "spikes_out": 1},
        ],
    }


def write(tmp_path, doc, name="c.json"):
    p = tmp_path / name
    p.write_text(json.dumps(doc) if not isinstance(doc, str) else doc)
    return str(p)


def run(capsys, *argv):
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def test_estimate_table(tmp_path, capsys):
    rc, out, err = run(capsys, "estimate", "--counts", write(tmp_path, good_doc()))
    assert rc == 0 and err == ""
    for chip in CHIPS:
        assert f"\n{chip} " in out
    assert "E total [low - high]" in out and "boundary" in out


def test_estimate_json_schema(tmp_path, capsys):
    rc, out, _ = run(capsys, "estimate", "--counts", write(tmp_path, good_doc()), "--chips", "loihi,akida",
                     "--format", "json")
    assert rc == 0
    doc = json.loads(out)
    assert doc["schema"] == "spikebench.estimates/1" and doc["samples"] == 2
    assert [e["chip"] for e in doc["estimates"]] == ["loihi", "akida"]
    e = doc["estimates"][0]
    for q in ("energy_dynamic_j", "energy_static_j", "energy_j", "latency_s"):
        assert set(e[q]) == {"low", "nominal", "high"}
    for k in ("boundary", "feasible", "cores", "core_kind", "chips", "reasons", "assumptions"):
        assert k in e


def test_estimate_csv_and_sensitivity(tmp_path, capsys):
    path = write(tmp_path, good_doc())
    rc, out, _ = run(capsys, "estimate", "--counts", path, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rc == 0 and [r["chip"] for r in rows] == list(CHIPS)
    assert float(rows[0]["energy_j_low"]) <= float(rows[0]["energy_j_nominal"]) <= float(rows[0]["energy_j_high"])
    rc, out, _ = run(capsys, "estimate", "--counts", path, "--sensitivity", "20", "--format", "json")
    s = json.loads(out)["sensitivity"]
    assert rc == 0 and s["draws"] == 20 and 0 <= s["ranking_changed"] <= 1
    rc, out, _ = run(capsys, "estimate", "--counts", path, "--sensitivity", "20", "--real-time")
    assert rc == 0 and "rank stability" in out and "real-time" in out


def test_chips_list_and_show(capsys):
    rc, out, _ = run(capsys, "chips", "list")
    assert rc == 0 and all(c in out for c in CHIPS)
    rc, out, _ = run(capsys, "chips", "show", "loihi")
    assert rc == 0 and "e_syn" in out and "Davies et al. 2018" in out and "primary" in out
    rc, out, _ = run(capsys, "chips", "show", "akida", "--format", "json")
    doc = json.loads(out)
    assert rc == 0 and doc["chip"] == "akida"
    assert all({"value", "unit", "low", "high", "grade", "source"} <= set(p) for p in doc["params"])


def _bad_docs():
    neg = good_doc()
    neg["layers"][0]["synaptic_events"] = -1
    frac = good_doc()
    frac["layers"][0]["spikes_out"] = 2.5
    missing = good_doc()
    del missing["layers"][1]["neuron_updates"]
    missing_top = good_doc()
    del missing_top["timesteps"]
    schema = good_doc()
    schema["schema"] = "spikebench.counts/9"
    other = good_doc()
    other["schema"] = "somebody.else/1"
    return {"negative": neg, "fractional": frac, "missing-layer-field": missing, "missing-field": missing_top,
            "newer-schema": schema, "unknown-schema": other, "not-json": "{oops", "not-object": [1, 2]}


@pytest.mark.parametrize("case", list(_bad_docs()))
def test_bad_counts_exit_2_one_line(tmp_path, capsys, case):
    rc, out, err = run(capsys, "estimate", "--counts", write(tmp_path, _bad_docs()[case]))
    assert rc == 2
    assert out == ""  # never a number
    assert err.startswith("spikebench: error: ") and err.count("\n") == 1


@pytest.mark.parametrize("argv", [
    ("estimate", "--counts", "{path}", "--chips", "loihi,nope"),
    ("estimate", "--counts", "{path}", "--chips", ""),
    ("chips", "show", "nope"),
    ("estimate", "--counts", "{missing}"),
    ("estimate", "--counts", "{path}", "--sensitivity", "-3"),
    ("estimate", "--counts", "{path}", "--format", "xml"),
    ("chips",),
    ("estimate", "--counts", "{path}", "--sensitivity", "5", "--format", "csv"),
])
def test_bad_usage_exit_2(tmp_path, capsys, argv):
    path = write(tmp_path, good_doc())
    argv = [a.format(path=path, missing=str(tmp_path / "none.json")) for a in argv]
    with pytest.raises(SystemExit) as exc:
        raise SystemExit(main(argv))
    out, err = capsys.readouterr()
    assert exc.value.code == 2 and out == ""
    assert err.startswith("spikebench: error: ") and err.count("\n") == 1


def test_unknown_chip_message(tmp_path, capsys):
    rc, _, err = run(capsys, "estimate", "--counts", write(tmp_path, good_doc()), "--chips", "nope")
    assert rc == 2 and "unknown chip 'nope'" in err and "loihi" in err


def test_validate_command(capsys):
    rc, out, _ = run(capsys, "validate")
    assert rc == 0 and "L1-kNN" in out and "TN-detect" in out and "AK1500-AkidaNet-0.5-224" in out
    rc, out, _ = run(capsys, "validate", "--format", "json")
    rows = json.loads(out)
    assert rc == 0 and all({"case", "measured", "predicted_nominal", "error", "band", "grade"} <= set(r) for r in rows)


def test_validate_writes_counts_files(tmp_path, capsys):
    from spikebench.core import EventCounts

    rc, _, _ = run(capsys, "validate", "--format", "json", "--counts-dir", str(tmp_path))
    files = sorted(tmp_path.glob("*.json"))
    assert rc == 0 and len(files) >= 6
    for f in files:  # each rebuilt case is a valid counts file that estimate reads
        EventCounts.from_json(f)
    rc, out, _ = run(capsys, "estimate", "--counts", str(tmp_path / "TN-detect.json"), "--chips", "truenorth")
    assert rc == 0 and "3406 cores" in out
    rc, _, err = run(capsys, "validate", "--counts-dir", str(tmp_path / "nope"))
    assert rc == 2 and "not an existing folder" in err
