"""The workload contract, checked for every registered workload (scikit-learn's ``parametrize_with_checks``
pattern: a list of check functions x every entry of ``WORKLOADS``, so a new workload is checked the
moment it is registered).

Each workload runs on small offline data (``SMALL``; a workload missing there uses its default
sizes) generated once per workload into a temporary ``SPIKEBENCH_CACHE``, never the user's cache.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import spikebench as sb
from spikebench.core.errors import SpikebenchError
from spikebench.workloads import WORKLOADS, get_workload
from spikebench.workloads import data as D
from spikebench.workloads.base import PROVENANCE_TAGS, Metric, WorkloadData, shipped_paths

#: Small generator sizes per workload (constructor ``data_params``).
SMALL = {
    "nmnist": {"n_train": 12, "n_test": 8},
    "shd": {"n_train": 16, "n_test": 8},
    "ecg-anomaly": {"n_records": 2, "duration_s": 60.0},
}
HEADLINE = {"classification": "accuracy", "anomaly": "auroc"}


class Case:
    """One workload under test: a fresh instance per check, its own cache folder."""

    def __init__(self, name: str, cache) -> None:
        self.name = name
        self.cache = cache

    def workload(self, **kw):
        return get_workload(self.name, data_params=SMALL.get(self.name), **kw)


def check_registered_and_described(case: Case) -> None:
    wl = case.workload()
    assert wl.name == case.name and wl.task in HEADLINE
    for attr in ("load", "reference_network", "score", "evaluate", "train_config"):
        assert callable(getattr(wl, attr)), attr
    assert isinstance(wl.subdir, str) and wl.subdir and f"DIR/{wl.subdir}/" in wl.where_to_put()
    assert wl.n_channels > 0 and wl.timesteps > 0 and wl.timestep_s > 0 and wl.n_outputs > 0


def check_synthetic_data_passes_through_the_real_reader(case: Case) -> None:
    wl = case.workload(with_baseline=False)
    d = wl.load("test")
    assert isinstance(d, WorkloadData) and d.provenance == "synthetic" and d.source.startswith("synthetic: ")
    assert (d.spikes.n, d.spikes.timesteps, d.spikes.timestep_s) == (wl.n_channels, wl.timesteps, wl.timestep_s)
    assert d.labels.dtype == np.int64 and len(d.labels) == d.spikes.samples > 0
    assert d.extra["split"] == "test" and d.extra["origin"]["seed"] == 0
    assert str(case.cache) in d.extra["origin"]["source_path"]
    # the generated folder, handed over as a data directory, is read by the same reader, found synthetic
    folder = wl.source("test").path
    again = wl.load("test", data_dir=folder)
    assert again.provenance == "synthetic"
    assert np.array_equal(again.labels, d.labels) and np.array_equal(again.spikes.indices, d.spikes.indices)
    assert np.array_equal(again.spikes.times, d.spikes.times)
    assert np.array_equal(again.spikes.sample_ptr, d.spikes.sample_ptr)


def check_limit_and_seed_pick_a_subset(case: Case) -> None:
    wl = case.workload(with_baseline=False)
    folder = wl.source("train").path
    full = wl.load("train", data_dir=folder)
    n = full.spikes.samples
    for seed in (0, 1):
        sub = wl.load("train", data_dir=folder, limit=3, seed=seed)
        idx = D.subset_indices(n, 3, seed)
        assert sub.spikes.samples == 3 and np.array_equal(sub.labels, full.labels[idx])
        picked = full.spikes.select(idx)
        assert np.array_equal(sub.spikes.indices, picked.indices) and np.array_equal(sub.spikes.times, picked.times)
        assert f"3 of {n}" in sub.source
    assert wl.load("train", data_dir=folder, limit=n + 5).spikes.samples == n  # a limit past the end keeps all
    with pytest.raises(SpikebenchError):
        wl.load("train", data_dir=folder, limit=0)


def check_require_real_without_data_dir_says_where(case: Case) -> None:
    wl = case.workload()
    before = sorted(p.name for p in case.cache.iterdir()) if case.cache.exists() else []
    with pytest.raises(D.DataUnavailableError) as exc:
        wl.load("test", require_real=True)
    msg = str(exc.value)
    assert "\n" not in msg and f"DIR/{wl.subdir}/" in msg and "--data-dir" in msg and D.DATA_ENV in msg
    after = sorted(p.name for p in case.cache.iterdir()) if case.cache.exists() else []
    assert after == before  # refused before generating anything


def check_unknown_split_is_one_line(case: Case) -> None:
    wl = case.workload()
    for call in (lambda: wl.load("validation"), lambda: wl.source("validation")):
        with pytest.raises(SpikebenchError) as exc:
            call()
        assert "'validation'" in str(exc.value) and "\n" not in str(exc.value)


def check_reference_network_fits_the_data(case: Case) -> None:
    wl = case.workload()
    net = wl.reference_network()
    assert net.sizes[0] == wl.n_channels and net.sizes[-1] == wl.n_outputs
    meta = json.loads(shipped_paths(wl.name)[1].read_text())
    assert (meta["n_in"], meta["timesteps"], meta["timestep_s"]) == (wl.n_channels, wl.timesteps, wl.timestep_s)
    assert meta["workload"] == wl.name and meta["task"] == wl.task and meta["data"]["provenance"] in PROVENANCE_TAGS


def check_score_of_the_reference_outputs(case: Case) -> None:
    wl = case.workload()
    d = wl.load("test")
    out = sb.simulate(wl.reference_network(), d.spikes).output_spikes
    metrics = wl.score(out, d)
    assert metrics and all(isinstance(m, Metric) and np.isfinite(m.value) for m in metrics)
    by_name = {m.name: m for m in metrics}
    assert 0.0 <= by_name[HEADLINE[wl.task]].value <= 1.0
    assert any(name.startswith("baseline_") for name in by_name)  # with_baseline defaults on
    assert all(m.note.startswith("data: synthetic") for m in metrics)
    # evaluate is a pure function of output spikes (what `spikebench train` stores in the metadata)
    tr = wl.load("train")
    ev = wl.evaluate(sb.simulate(wl.reference_network(), tr.spikes).output_spikes, out, train=tr, test=d)
    assert ev["metric"] == HEADLINE[wl.task] and ev["value"] == ev["metrics"][ev["metric"]]
    for key in ("metrics", "train_metrics", "chance", "baseline"):
        assert key in ev


def check_score_refuses_misshapen_outputs(case: Case) -> None:
    wl = case.workload(with_baseline=False)
    d = wl.load("test", limit=3)
    good = np.zeros((3, wl.timesteps, wl.n_outputs), dtype=np.uint8)
    for bad in (good[:, :, :-1], good[:2], good[:, :, 0], np.zeros((3, wl.timesteps, wl.n_outputs + 1), np.uint8)):
        with pytest.raises(SpikebenchError) as exc:
            wl.score(bad, d)
        assert "\n" not in str(exc.value)


CHECKS = [
    check_registered_and_described,
    check_synthetic_data_passes_through_the_real_reader,
    check_limit_and_seed_pick_a_subset,
    check_require_real_without_data_dir_says_where,
    check_unknown_split_is_one_line,
    check_reference_network_fits_the_data,
    check_score_of_the_reference_outputs,
    check_score_refuses_misshapen_outputs,
]


@pytest.fixture(scope="module")
def caches(tmp_path_factory):
    """One cache folder per workload for this module (generated data is reused across its checks)."""
    root = tmp_path_factory.mktemp("contract-cache")
    return {name: root / name for name in WORKLOADS}


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
@pytest.mark.parametrize("name", list(WORKLOADS))
def test_workload_contract(name, check, caches, monkeypatch):
    monkeypatch.setenv(D.CACHE_ENV, str(caches[name]))
    monkeypatch.delenv(D.DATA_ENV, raising=False)
    check(Case(name, caches[name]))
