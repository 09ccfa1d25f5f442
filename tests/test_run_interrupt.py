"""`spikebench run` interrupted by SIGINT mid-way leaves a valid store; --resume completes it, no duplicates."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

from spikebench.results import LOCK_NAME, ResultsStore

SCRIPT = textwrap.dedent('''
    import os, sys, time
    from pathlib import Path
    import numpy as np
    import spikebench as sb
    import spikebench.workloads as pkg
    from spikebench.workloads.base import Metric, WorkloadData

    class Slow:
        task = "classification"
        def __init__(self, name): self.name = name
        def load(self, split, *, data_dir=None, require_real=False, limit=None, seed=0):
            marker = Path(os.environ["MARKER"])
            if self.name == "w3" and os.environ.get("BLOCK") == "1":
                marker.write_text("blocked")
                time.sleep(60)
            return WorkloadData(spikes=sb.random_spikes(4, 20, 10, 0.2, seed=1), labels=np.zeros(4, int),
                                provenance="synthetic", source="fake")
        def reference_network(self):
            return sb.Network.random(sizes=[10, 8, 2], seed=2, weight_std=[1.0, 1.0])
        def score(self, out, data):
            return [Metric(name="accuracy", value=float(np.mean(out.sum(1).argmax(1) == data.labels)))]

    reg = {n: Slow(n) for n in ("w1", "w2", "w3", "w4")}
    pkg.WORKLOADS = reg
    pkg.get_workload = reg.__getitem__
    from spikebench.cli import main
    sys.exit(main(sys.argv[1:]))
''')


def _run(tmp_path, *extra, block: bool):
    env = {**os.environ, "MARKER": str(tmp_path / "marker"), "BLOCK": "1" if block else "0"}
    script = tmp_path / "runner.py"
    script.write_text(SCRIPT)
    args = [sys.executable, str(script), "run", "w1", "w2", "w3", "w4", "--backends", "sparse-cpu",
            "--chips", "loihi,truenorth", "--out", str(tmp_path / "res"), "--no-progress", *extra]
    return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_sigint_mid_run_then_resume(tmp_path):
    proc = _run(tmp_path, block=True)
    deadline = time.time() + 120
    while not (tmp_path / "marker").exists():
        assert proc.poll() is None, proc.communicate()
        assert time.time() < deadline, "runner never reached the third cell"
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (out, err)
    assert "--resume" in out and "Traceback" not in err
    store = ResultsStore(tmp_path / "res").open(create=False)
    (run_id,) = store.runs()
    assert store.finished_cells(run_id) == {"w1__sparse-cpu", "w2__sparse-cpu"}
    for p in (tmp_path / "res").rglob("*"):
        if p.is_file() and p.name != LOCK_NAME:  # the run lock: pid and time, not results
            assert not p.name.endswith(".tmp"), p
            json.loads(p.read_text())
    ResultsStore(tmp_path / "res").lock().release()  # the interrupted run let go of the store
    before = store.frame()

    proc = _run(tmp_path, "--resume", block=False)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, (out, err)
    assert "2 cell(s) written" in out
    after = store.frame()
    assert set(after["workload"]) == {"w1", "w2", "w3", "w4"}
    assert not after.duplicated(["workload", "backend", "chip", "metric"]).any()
    assert len(after) == 2 * len(before)
    assert set(after["run_id"]) == {run_id}
