"""Counts files cannot lie to the chip models (issue 12, item 2).

Every class of hostile counts is refused with one line naming the file and the field, however the
record is built: optional fields that disagree with the layer, numbers beyond float64, JSON nested
too deeply to parse. The hypothesis test at the end feeds generated counts files through the real
reader and writer into every chip model.
"""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from spikebench.cli import main
from spikebench.core import EventCounts, LayerCounts
from spikebench.core.counts import MAX_COUNT, dense_synapses
from spikebench.core.errors import FileFormatError, InvalidSpikesError, SpikebenchError
from spikebench.hardware_models import CHIPS, NetworkProfile


def doc(**layer) -> dict:
    """A valid one-layer counts document (dense 4 -> 3, 2 samples x 5 steps) with ``layer`` fields set."""
    base = {"name": "h", "kind": "dense", "n_in": 4, "n_out": 3, "spikes_in": 6, "synaptic_events": 12,
            "neuron_updates": 30, "spikes_out": 5}
    base.update(layer)
    return {"schema": "spikebench.counts/2", "samples": 2, "timesteps": 5, "timestep_s": 1e-3, "layers": [base]}


def conv_doc(**layer) -> dict:
    """A conv layer 1 x 6 x 6 -> 2 x 6 x 6, 3 x 3 kernel, stride 1, padding 1: each neuron reads at most 9
    inputs, so at most 72 x 9 = 648 synapses."""
    base = {"name": "c", "kind": "conv2d", "n_in": 36, "n_out": 72, "spikes_in": 4, "synaptic_events": 60,
            "neuron_updates": 72, "spikes_out": 3, "in_shape": [1, 6, 6], "out_shape": [2, 6, 6], "kernel": [3, 3],
            "stride": [1, 1], "padding": [1, 1]}
    base.update(layer)
    return {"schema": "spikebench.counts/2", "samples": 1, "timesteps": 1, "timestep_s": 1e-3, "layers": [base]}


def refused(d: dict, *needles: str) -> str:
    with pytest.raises(FileFormatError) as err:
        EventCounts.from_dict(d, origin="c.json")
    msg = str(err.value)
    assert msg.startswith("c.json: ") and "\n" not in msg, msg
    for n in needles:
        assert n in msg, (n, msg)
    return msg


# ---- optional fields agree with the layer ---------------------------------------------------------
# On the old code every one of these documents was read without complaint and priced by the chips.

@pytest.mark.parametrize(("fields", "needles"), [
    ({"synapses": 13}, ("layers[0].synapses (13) exceeds the layer's dense count n_in x n_out = 12",)),
    ({"synapses": 0}, ("layers[0].synapses is 0 but the layer has 12 synaptic events",)),
    ({"fan_in_max": 0}, ("layers[0].fan_in_max must be >= 1",)),
    ({"fan_in_max": 5}, ("layers[0].fan_in_max (5) exceeds the layer's 4 sources",)),
    ({"fan_in_max": 4, "synapses": 3}, ("layers[0].fan_in_max (4) exceeds the layer's synapses (3)",)),
    ({"weight_bits": 0}, ("layers[0].weight_bits must be in 1..32, got 0",)),
    ({"weight_bits": 33}, ("layers[0].weight_bits must be in 1..32, got 33",)),
    ({"weights": 13}, ("layers[0].weights (13) exceeds the layer's dense count = 12",)),
    ({"weights": 0}, ("layers[0].weights is 0 but the layer has synapses or synaptic events",)),
    ({"kind": "recurrent", "synapses": 22}, ("n_in x n_out + n_out^2 = 21",)),
    ({"kind": "recurrent", "fan_in_max": 8}, ("(8) exceeds the layer's 7 sources (n_in + n_out, recurrent)",)),
])
def test_optional_fields_must_agree_with_the_layer(fields, needles):
    refused(doc(**fields), *needles)


def test_fields_within_the_layer_still_read():
    c = EventCounts.from_dict(doc(synapses=12, fan_in_max=4, weight_bits=32))
    assert (c.layers[0].synapses, c.layers[0].fan_in_max, c.layers[0].weight_bits) == (12, 4, 32)
    rec = EventCounts.from_dict(doc(kind="recurrent", synapses=21, fan_in_max=7))
    assert rec.layers[0].synapses == 21
    # a layer without a non-zero weight: no synapses, fan-in 0, no events
    silent = EventCounts.from_dict(doc(synapses=0, fan_in_max=0, synaptic_events=0))
    assert silent.layers[0].fan_in_max == 0


def test_conv_synapses_bounded_by_the_kernel():
    c = EventCounts.from_dict(conv_doc(synapses=648, fan_in_max=9))
    assert dense_synapses(c.layers[0]) == 648
    refused(conv_doc(synapses=649), "layers[0].synapses (649) exceeds", "targets x C_in/groups x kernel taps = 648")
    assert EventCounts.from_dict(conv_doc(weights=18)).layers[0].weights == 18
    refused(conv_doc(weights=19), "layers[0].weights (19) exceeds the kernel's C_out x C_in/groups x kh x kw = 18")
    # max pooling: the targets are the 2 x 6 x 6 pre-pool positions, each reading at most 9 inputs
    pooled = conv_doc(n_out=18, out_shape=[2, 3, 3], neuron_updates=18, spikes_out=3,
                      pool={"kind": "max", "kernel": [2, 2], "stride": [2, 2]})
    assert dense_synapses(EventCounts.from_dict(pooled).layers[0]) == 648
    refused({**pooled, "layers": [{**pooled["layers"][0], "synapses": 649}]}, "= 648")


def test_conv_geometry_must_give_the_out_shape_and_stay_mappable():
    # On the old code both were read; the chip mappers then enumerated the stated geometry (an out_shape the
    # kernel cannot give, or 10**8 positions per axis, which hangs the mapping).
    refused(conv_doc(out_shape=[2, 6, 6], stride=[2, 2]), "out_shape [2, 6, 6] disagrees", "which gives [2, 3, 3]")
    refused(conv_doc(kernel=[9, 9], padding=[0, 0]), "the kernel [9, 9]", "does not fit the input [1, 6, 6]")
    n = 10**8
    huge = conv_doc(n_in=n, n_out=n, in_shape=[1, n, 1], out_shape=[1, n, 1], kernel=[1, 1], padding=[0, 0],
                    neuron_updates=n, spikes_in=0, synaptic_events=0, spikes_out=0)
    refused(huge, "conv geometry too large to map (100000000 output positions x 1 taps along one axis > 10000000)")


def test_records_built_by_hand_are_checked_too():
    def lc(**kw):
        f = dict(name="h", kind="dense", n_in=4, n_out=3, spikes_in=6, synaptic_events=12, neuron_updates=30,
                 spikes_out=5)
        f.update(kw)
        return LayerCounts(**f)

    for kw, needle in [({"synapses": 10**12}, "synapses (1000000000000) exceeds"), ({"weight_bits": 64}, "weight_bits"),
                       ({"fan_in_max": 0}, "fan_in_max must be >= 1"), ({"synapses": 0}, "synapses is 0"),
                       ({"spikes_in": 10**400}, "spikes_in must be in 0.."), ({"spikes_in": 2.5}, "whole number"),
                       ({"n_out": 0}, "n_out must be >= 1")]:
        with pytest.raises(InvalidSpikesError, match="layer 'h'") as err:
            lc(**kw)
        assert needle in str(err.value) and "\n" not in str(err.value)
    good = lc(synapses=12)
    with pytest.raises(InvalidSpikesError, match="timestep_s"):
        EventCounts(layers=(good,), samples=1, timesteps=5, timestep_s=float("inf"))
    with pytest.raises(InvalidSpikesError, match="samples"):
        EventCounts(layers=(good,), samples=0, timesteps=5, timestep_s=1e-3)


# ---- numbers beyond what a float64 holds ----------------------------------------------------------

def _file(tmp_path, text: str):
    p = tmp_path / "c.json"
    p.write_text(text, encoding="utf-8")
    return p


@pytest.mark.parametrize(("field", "literal", "needle"), [
    ("synapses", "1e400", "layers[0].synapses must be a finite whole number"),
    ("synapses", str(10**400), "layers[0].synapses is 1000"),
    ("spikes_in", "1e400", "layers[0].spikes_in must be a finite whole number"),
    ("timestep_s", str(10**400), "timestep_s must be a positive number of seconds (finite)"),
    ("timestep_s", "1e400", "timestep_s must be a positive number of seconds (finite)"),
])
def test_numbers_beyond_float64_are_refused(tmp_path, field, literal, needle):
    # On the old code: 10**400 synapses were accepted and the chip models raised OverflowError; an integer
    # timestep_s of 10**400 raised OverflowError inside the reader; 2**63 samples were accepted.
    d = doc(synapses=12)
    target = d if field in ("timestep_s", "samples") else d["layers"][0]
    target[field] = "@@"
    path = _file(tmp_path, json.dumps(d).replace('"@@"', literal))
    with pytest.raises(FileFormatError) as err:
        EventCounts.from_json(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}: ") and needle in msg and "\n" not in msg and len(msg) < 400, msg


def test_counts_beyond_int64_are_refused():
    # On the old code 2**63 samples (with matching neuron updates) were read and priced.
    d = doc()
    d["samples"] = 2**63
    d["layers"][0]["neuron_updates"] = 2**63 * 5 * 3
    refused(d, "samples is 9223372036854775808, beyond the largest count 9223372036854775807")


def test_huge_numbers_fail_cleanly_through_the_cli(tmp_path, capsys):
    d = doc()
    d["layers"][0]["synapses"] = "@@"
    path = _file(tmp_path, json.dumps(d).replace('"@@"', str(10**400)))
    assert main(["estimate", "--counts", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("spikebench: error: ") and err.count("\n") == 1 and "synapses" in err


# ---- JSON nested too deeply ------------------------------------------------------------------------

def test_deep_json_is_one_line_not_recursion_error(tmp_path, capsys):
    # On the old code json.loads raised RecursionError out of EventCounts.from_json (a traceback).
    path = _file(tmp_path, "[" * 100_000 + "]" * 100_000)
    with pytest.raises(FileFormatError, match="nested too deeply") as err:
        EventCounts.from_json(path)
    assert str(err.value).startswith(f"{path}: ") and "\n" not in str(err.value)
    assert main(["estimate", "--counts", str(path)]) == 2
    out, err_text = capsys.readouterr()
    assert out == "" and err_text.count("\n") == 1 and "nested too deeply" in err_text
    # a deep but parseable provenance object is refused too (it is written back as JSON)
    d = doc()
    nested: dict = {}
    for _ in range(40):
        nested = {"x": nested}
    d["source"] = nested
    refused(d, "source nests deeper than 32 levels")


# ---- fuzz: every counts file the reader accepts prices sanely on every chip ------------------------

HOSTILE_INTS = st.sampled_from([0, 1, 2**31, 2**53 + 1, 2**62, 2**63 - 1, 2**63, 10**30])


@st.composite
def counts_documents(draw) -> dict:
    """Counts documents, mostly consistent (so that many pass the reader), sometimes hostile."""
    def usually(common, rare):  # the rare (extreme) values one draw in eight
        return draw(rare if draw(st.integers(0, 7)) == 0 else common)

    samples = usually(st.integers(1, 50), st.sampled_from([10**6, 2**40]))
    T = usually(st.integers(1, 200), st.sampled_from([10**5, 2**40]))
    ts = usually(st.floats(1e-9, 10.0), st.sampled_from([5e-324, 1e-300, 1e6, 1e300]))
    sizes = [usually(st.integers(1, 3000), st.sampled_from([10**6, 10**9, 2**40]))
             for _ in range(draw(st.integers(2, 4)))]
    conv = None
    if draw(st.integers(0, 3)) == 0:  # a conv2d first layer (its out_shape from its geometry, or nearly)
        c, h, w, co = (draw(st.integers(1, 4)), draw(st.integers(1, 12)), draw(st.integers(1, 12)), draw(st.integers(1, 4)))
        k, st_, pad = draw(st.integers(1, 5)), draw(st.integers(1, 3)), draw(st.integers(0, 2))
        ho, wo = (h + 2 * pad - k) // st_ + 1, (w + 2 * pad - k) // st_ + 1
        pool = draw(st.none() | st.sampled_from(["sum", "avg", "max"]))
        if pool is not None:
            ho, wo = (ho - 2) // 2 + 1, (wo - 2) // 2 + 1
        ho, wo = max(ho, 1), max(wo, 1)
        conv = {"in_shape": [c, h, w], "out_shape": [co, ho, wo], "kernel": [k, k], "stride": [st_, st_],
                "padding": [pad, pad], **({"pool": {"kind": pool, "kernel": [2, 2]}} if pool else {}),
                "neuron": draw(st.sampled_from(["lif", "if", "cubalif"]))}
        sizes[:2] = [c * h * w, co * ho * wo]
    layers = []
    prev = draw(st.integers(0, min(samples * T * sizes[0], 10**18)))
    for k, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        kind = "conv2d" if (k == 0 and conv) else draw(st.sampled_from(["dense", "dense", "recurrent"]))
        spikes_out = draw(st.integers(0, min(samples * T * n_out, 10**18)))
        targets = 4 * n_out if kind == "conv2d" and "pool" in conv else n_out  # max pooling: pre-pool positions
        bound = prev * targets + (spikes_out * n_out if kind == "recurrent" else 0)
        dense = n_in * n_out + (n_out * n_out if kind == "recurrent" else 0)
        lay = {"name": f"l{k}", "kind": kind, "n_in": n_in, "n_out": n_out, "spikes_in": prev,
               "synaptic_events": draw(st.integers(0, min(bound, 10**19))), "neuron_updates": samples * T * n_out,
               "spikes_out": spikes_out}
        opt = {"synapses": (st.integers(1, dense), st.integers(0, min(2 * dense, 10**19)) | HOSTILE_INTS),
               "fan_in_max": (st.integers(1, n_in), st.integers(0, n_in + n_out + 1) | HOSTILE_INTS),
               "weight_bits": (st.integers(1, 32), st.integers(0, 40))}
        for f, (common, rare) in opt.items():
            if draw(st.booleans()):
                lay[f] = usually(common, rare)
        if kind == "conv2d":
            lay.update(conv)
        if draw(st.integers(0, 9)) == 0:  # now and then one count pushed out of range
            lay[draw(st.sampled_from(["spikes_in", "synaptic_events", "spikes_out", "n_in"]))] = draw(HOSTILE_INTS)
        layers.append(lay)
        prev = spikes_out
    return {"schema": "spikebench.counts/2", "samples": samples, "timesteps": T, "timestep_s": ts, "layers": layers}


def _check_estimate(e) -> None:
    for q in ("energy_dynamic_j", "energy_static_j", "energy_j", "latency_s"):
        iv = getattr(e, q)
        for v in (iv.low, iv.nominal, iv.high):
            assert math.isfinite(v) and v >= 0, (e.chip, q, iv)
        assert iv.low <= iv.nominal <= iv.high, (e.chip, q, iv)
    assert e.latency_s.low > 0, (e.chip, e.latency_s)
    assert e.energy_j.low > 0, (e.chip, e.energy_j)  # time passes, so static energy (or dense work) is paid


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(d=counts_documents())
def test_fuzz_counts_files_refused_or_priced_sanely(tmp_path, d):
    path = tmp_path / "fuzz.json"
    path.write_text(json.dumps(d), encoding="utf-8")
    try:
        counts = EventCounts.from_json(path)  # the public reader
    except SpikebenchError as exc:
        assert "\n" not in str(exc) and str(exc).startswith(f"{path}: ")
        event("refused")
        return
    event("read and priced" + (" (conv)" if counts.layers[0].kind == "conv2d" else ""))
    assert all(layer.synapses is None or layer.synapses <= dense_synapses(layer) for layer in counts.layers)
    assert max(layer.synaptic_events for layer in counts.layers) <= MAX_COUNT
    again = tmp_path / "again.json"
    counts.to_json(again)  # the public writer, read back
    assert EventCounts.from_json(again) == counts
    profile = NetworkProfile.from_counts(counts)
    for chip in CHIPS.values():
        for real_time in (False, True):
            _check_estimate(chip.estimate(profile, counts, real_time=real_time))
