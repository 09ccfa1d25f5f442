"""What makes ``run`` and ``make demo`` fast without changing a number (issue 13): a slow backend on a
sample of the split (``--backend-limit``) with its own agreement check against sparse-cpu, the work a
run's cells share done once (data, deployments, deployed simulations), snnTorch in batches, the phase
breakdown, and the report's figures drawn in forked processes with the same bytes."""

from __future__ import annotations

import numpy as np
import pytest

import spikebench as sb
from spikebench import harness
from spikebench.cli import main
from spikebench.core import phases
from spikebench.results import ResultsStore


def _rows(out):
    return ResultsStore(out).open(create=False).rows()


def test_backend_limit_runs_the_slow_backend_on_a_sample_and_checks_it(tmp_path):
    out = tmp_path / "r"
    assert main(["run", "ecg-anomaly", "--limit", "40", "--backends", "sparse-cpu,snntorch", "--backend-limit",
                 "snntorch=12", "--chips", "loihi", "--out", str(out), "--no-progress"]) == 0
    rows = _rows(out)
    samples = {r["backend"]: {x["samples"] for x in rows if x["backend"] == r["backend"]} for r in rows}
    assert samples == {"sparse-cpu": {40}, "snntorch": {12}}
    check = [r for r in rows if r["metric"] == "agrees_with_sparse_cpu"]
    assert len(check) == 1 and check[0]["backend"] == "snntorch" and check[0]["value"] == 1.0
    assert "identical to sparse-cpu on the same 12 samples" in check[0]["source"]
    wall = next(r for r in rows if r["metric"] == "wall_time_per_inference_s" and r["backend"] == "snntorch")
    assert f"batch {harness.SNNTORCH_BATCH}" in wall["source"]
    cfg = ResultsStore(out).open(create=False).run_config(ResultsStore(out).runs()[-1])["config"]
    assert cfg["backend_limits"] == {"snntorch": 12} and cfg["limit"] == 40


def test_limit_for_takes_the_smaller_of_both():
    cfg = harness.RunConfig(workloads=("nmnist",), backends=("sparse-cpu", "snntorch"), chips=(), limit=50,
                            backend_limits=(("snntorch", 10),))
    assert (cfg.limit_for("sparse-cpu"), cfg.limit_for("snntorch")) == (50, 10)
    assert harness.RunConfig(workloads=("nmnist",), backends=("snntorch",), chips=(),
                             backend_limits=(("snntorch", 10),)).limit_for("snntorch") == 10
    assert "backend_limits" not in harness.RunConfig(workloads=("nmnist",), backends=("snntorch",),
                                                     chips=()).to_dict()  # old runs still resume


@pytest.mark.parametrize("spec, message", [
    ("snntorch", "write BACKEND=N with N >= 1"),
    ("snntorch=0", "write BACKEND=N with N >= 1"),
    ("snntorch=many", "write BACKEND=N with N >= 1"),
    ("lava=5", "names backend 'lava', which this run does not use"),
])
def test_backend_limit_mistakes_are_one_line(tmp_path, capsys, spec, message):
    assert main(["run", "nmnist", "--backends", "sparse-cpu,snntorch", "--backend-limit", spec,
                 "--out", str(tmp_path / "r"), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not (tmp_path / "r").exists()


def test_backend_limit_given_twice_is_refused(tmp_path, capsys):
    assert main(["run", "nmnist", "--backend-limit", "snntorch=5", "--backend-limit", "snntorch=6",
                 "--out", str(tmp_path / "r"), "--no-progress"]) == 2
    assert "names 'snntorch' twice" in capsys.readouterr().err


def test_agreement_row_names_the_first_difference():
    net = sb.Network.random(sizes=[20, 16, 4], seed=3)
    spikes = sb.random_spikes(samples=3, timesteps=30, n_in=20, density=0.2, seed=4)
    good = sb.simulate(net, spikes, backend="sparse-cpu")
    data = type("D", (), {"spikes": spikes})()
    cfg = harness.RunConfig(workloads=("x",), backends=("snntorch",), chips=())
    common = {"workload": "x", "backend": "snntorch", "data": "synthetic"}
    assert harness.agreement_row(net, data, good, cfg, common).value == 1.0
    import dataclasses

    layers = list(good.counts.layers)
    layers[1] = dataclasses.replace(layers[1], spikes_out=layers[1].spikes_out + 1)
    bad = dataclasses.replace(good, counts=dataclasses.replace(good.counts, layers=tuple(layers)))
    row = harness.agreement_row(net, data, bad, cfg, common)
    assert row.value == 0.0
    assert f"layer {layers[1].name} spikes_out {layers[1].spikes_out} vs sparse-cpu {layers[1].spikes_out - 1}" \
        in row.source
    out = np.array(good.output_spikes, copy=True)
    out[0, 0, 0] ^= 1
    assert "output spikes differ" in harness.agreement_row(
        net, data, dataclasses.replace(good, output_spikes=out), cfg, common).source


def test_a_runs_cells_load_deploy_and_simulate_each_deployed_network_once(tmp_path, monkeypatch):
    """Two backends x three chips: every deployed network is simulated once per run, not once per cell."""
    loads = []
    memo_load = harness.CellMemo.load

    def counting_load(self, wl, binning, cfg, limit):
        key = (wl.name, tuple(sorted(binning.items())), limit)
        loads.append(key not in self.data)
        return memo_load(self, wl, binning, cfg, limit)

    sims = []
    memo_run = harness.CellMemo.deployed_run

    def counting_run(self, dep_net, wl, data):
        sims.append((dep_net.content_hash(), (dep_net.content_hash(), id(data)) not in self.deployed))
        return memo_run(self, dep_net, wl, data)

    monkeypatch.setattr(harness.CellMemo, "load", counting_load)
    monkeypatch.setattr(harness.CellMemo, "deployed_run", counting_run)
    assert main(["run", "ecg-anomaly", "--limit", "24", "--backends", "sparse-cpu,snntorch", "--chips",
                 "loihi,loihi2,spinnaker2", "--out", str(tmp_path / "r"), "--no-progress"]) == 0
    assert loads == [True, False]  # the second cell reuses the split
    computed = [h for h, new in sims if new]
    assert len(computed) == len(set(computed)) >= 1  # each deployed network simulated once...
    assert len(sims) > len(computed)  # ...and reused by the second backend's cell
    rows = _rows(tmp_path / "r")
    per_backend = {b: sorted((r["chip"], r["metric"], r["value"]) for r in rows
                             if r["backend"] == b and r["chip"] and r["kind"] == "task") for b in ("sparse-cpu", "snntorch")}
    assert per_backend["sparse-cpu"] == per_backend["snntorch"] and per_backend["sparse-cpu"]


def test_to_dense_of_a_range_is_that_slice_of_the_raster():
    s = sb.random_spikes(samples=7, timesteps=9, n_in=11, density=0.3, seed=2)
    full = s.to_dense()
    assert np.array_equal(s.to_dense(start=2, stop=5), full[2:5])
    assert np.array_equal(s.to_dense(np.float32, start=5, stop=100), full[5:].astype(np.float32))
    assert s.to_dense(start=7).shape == (0, 9, 11)


def test_from_events_bins_all_samples_in_one_pass_and_names_the_sample_at_fault():
    ev = [(np.array([0.0005, 0.0005, 0.0031]), np.array([2, 2, 5])),
          (np.array([], dtype=float), np.array([], dtype=np.int64)),
          (np.array([0.0019, 0.0001, -0.001, 0.5]), np.array([1, 3, 0, 0]))]
    s = sb.SpikeTrain.from_events(ev, n=6, timesteps=4, timestep_s=1e-3)
    assert s.sample_ptr.tolist() == [0, 2, 2, 4]
    assert list(zip(s.times.tolist(), s.indices.tolist())) == [(0, 2), (3, 5), (0, 3), (1, 1)]
    bad = [*ev[:2], (np.array([0.001]), np.array([6]))]
    with pytest.raises(sb.InvalidSpikesError, match=r"^sample 2: channels must be integers in \[0, 6\)"):
        sb.SpikeTrain.from_events(bad, n=6, timesteps=4)
    with pytest.raises(sb.InvalidSpikesError, match=r"^sample 1: event times contain NaN"):
        sb.SpikeTrain.from_events([ev[0], (np.array([np.nan]), np.array([1]))], n=6, timesteps=4)


def test_phases_add_up_and_print_a_breakdown():
    phases.reset()
    with phase_of("a"):
        pass
    with phase_of("a"):
        pass
    with phase_of("b"):
        pass
    t = phases.totals()
    assert list(t) == ["a", "b"] and all(v >= 0 for v in t.values())
    text = phases.breakdown(sum(t.values()) + 1.0)
    assert text.splitlines()[-1].split()[0] == "other" and "1.00 s" in text.splitlines()[-1]
    phases.reset()
    assert phases.totals() == {}


def phase_of(name):
    return phases.phase(name)


def test_figures_rendered_in_forked_processes_are_the_serial_bytes():
    from spikebench.report import figures as F

    figs = []
    for k in range(3):
        fig, axes = F._new_figure(3, 2)
        axes[0][0].plot([1, 2, 3], [k, k + 1, k * k])
        axes[0][0].set_xscale("log")
        figs.append(fig)
    forked = F.render_all(figs)
    serial = [F._render(f) for f in figs]
    assert [png for png, _ in forked] == [png for png, _ in serial]
    assert all(pdf.startswith(b"%PDF") for _, pdf in forked)


def test_figures_fall_back_to_this_process_where_no_child_can_be_started(monkeypatch):
    import multiprocessing

    from spikebench.report import figures as F

    class NoChildren:
        def Pool(self, *a, **k):  # what a daemonic process (a pool worker) gets
            raise AssertionError("daemonic processes are not allowed to have children")

    monkeypatch.setattr(multiprocessing, "get_context", lambda method: NoChildren())
    fig, axes = F._new_figure(3, 2)
    axes[0][0].plot([1, 2], [3, 4])
    fig2, axes2 = F._new_figure(3, 2)
    axes2[0][0].plot([1, 2], [4, 3])
    out = F.render_all([fig, fig2])
    assert len(out) == 2 and all(png.startswith(b"\x89PNG") and pdf.startswith(b"%PDF") for png, pdf in out)
