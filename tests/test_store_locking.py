"""Issue 12, item 4 and the store part of item 5: no cell is ever overwritten, one run writes a store at
a time (locked before any work), duplicate names run once, bad options and operating-system errors on
the store are one line and exit 2, and malformed store, run and cell files are one line naming the file."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import spikebench as sb
import spikebench.harness as harness
from spikebench.cli import main
from spikebench.harness import RunConfig, run
from spikebench.results import LOCK_NAME, CellExistsError, Provenance, ResultsStore, Row, StoreInUseError
from spikebench.workloads.base import Metric, WorkloadData

PROV = Provenance(spikebench_version="0", git_commit="abc", machine="m")
ROW = Row(workload="w", backend="b", metric="accuracy", value=0.5, unit="1", kind="task", data="synthetic")


class Tiny:
    """A tiny classification workload (random spikes, random net)."""

    task = "classification"

    def __init__(self, name: str):
        self.name = name

    def load(self, split, *, data_dir=None, require_real=False, limit=None, seed=0):
        n = limit or 4
        return WorkloadData(spikes=sb.random_spikes(n, 20, 10, 0.2, seed=seed + 1), labels=np.arange(n) % 2,
                            provenance="synthetic", source="tiny")

    def reference_network(self):
        return sb.Network.random(sizes=[10, 8, 2], seed=2, weight_std=[1.0, 1.0])

    def score(self, out, data):
        return [Metric(name="accuracy", value=float(np.mean(out.sum(1).argmax(1) == data.labels)))]


@pytest.fixture
def tiny(monkeypatch, use_workloads):
    """Workloads t1, t2 and a record of every cell the harness simulates (``calls``)."""
    use_workloads({n: Tiny(n) for n in ("t1", "t2")})
    calls = []
    real = harness.run_cell

    def counting(workload, backend, cfg, choice=harness.REFERENCE, memo=None):
        calls.append((workload, backend))
        return real(workload, backend, cfg, choice, memo)

    monkeypatch.setattr(harness, "run_cell", counting)
    return calls


def cfg(**kw):
    return RunConfig(**{**dict(workloads=("t1",), backends=("sparse-cpu",), chips=("loihi",)), **kw})


def _cli(capsys, *argv) -> tuple[int, str, str]:
    rc = main(["run", *map(str, argv), "--no-progress"])
    out, err = capsys.readouterr()
    return rc, out, err


def _one_error_line(err: str) -> str:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("spikebench: error: "), err
    return lines[0]


# ---- exclusive cell writes ------------------------------------------------------------------------


def test_writing_a_cell_twice_keeps_the_first(tmp_path):
    store = ResultsStore(tmp_path / "s").open(create=True)
    rid = store.start_run({"x": 1}, PROV)
    path = store.write_cell(rid, "w__b", [ROW], PROV)
    first = path.read_bytes()
    with pytest.raises(CellExistsError, match="append-only"):
        store.write_cell(rid, "w__b", [Row(**{**ROW.__dict__, "value": 0.9})], PROV)
    assert path.read_bytes() == first


def test_a_cell_made_between_the_check_and_the_write_is_not_replaced(tmp_path, monkeypatch):
    """The race check-then-rename loses: another writer creates the cell right after our check. Fails on
    the old code (os.replace silently overwrote the other writer's cell)."""
    store = ResultsStore(tmp_path / "s").open(create=True)
    rid = store.start_run({"x": 1}, PROV)
    target = tmp_path / "s" / "runs" / rid / "cells" / "w__b.json"
    theirs = b'{"the other writer": true}\n'
    real_exists = Path.exists

    def racing_exists(self, *a, **k):
        if self == target:
            found = real_exists(self)
            target.write_bytes(theirs)  # the other writer lands just after we looked
            return found
        return real_exists(self, *a, **k)

    monkeypatch.setattr(Path, "exists", racing_exists)
    with pytest.raises(CellExistsError, match="never rewritten"):
        store.write_cell(rid, "w__b", [ROW], PROV)
    monkeypatch.undo()
    assert target.read_bytes() == theirs
    assert sorted(p.name for p in target.parent.iterdir()) == ["w__b.json"]  # no temporary left behind


# ---- the run lock -----------------------------------------------------------------------------------

HOLDER = textwrap.dedent('''
    import sys, time
    from spikebench.results import ResultsStore
    lock = ResultsStore(sys.argv[1]).lock()
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
''')


def _hold(out: Path, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(out), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_a_locked_store_is_refused_before_any_work(tmp_path, tiny, capsys):
    """Fails on the old code: there was no lock, the second run simulated and wrote into the store."""
    out = tmp_path / "res"
    holder = _hold(out, 60)
    try:
        with pytest.raises(StoreInUseError) as info:
            run(cfg(), out, progress=False)
        assert str(info.value).startswith(f"results store {out} is in use by another run (pid {holder.pid} since ")
        assert str(info.value).endswith("; wait for it or use another --out")
        assert tiny == []  # nothing simulated
        assert not (out / "store.json").exists() and not (out / "runs").exists()  # nor the store touched
        rc, _, err = _cli(capsys, "t1", "--backends", "sparse-cpu", "--chips", "loihi", "--out", out, "--resume")
        assert rc == 2 and "is in use by another run" in _one_error_line(err) and tiny == []
    finally:
        holder.kill()
        holder.wait()
    # the lock goes with the process, even killed
    assert run(cfg(), out, progress=False)[1] == 1 and tiny == [("t1", "sparse-cpu")]


def test_wait_blocks_until_the_other_run_ends(tmp_path, tiny):
    out = tmp_path / "res"
    holder = _hold(out, 1.0)
    t0 = time.monotonic()
    _, written = run(cfg(), out, progress=False, wait=True)
    assert holder.wait(timeout=30) == 0 and written == 1
    assert time.monotonic() - t0 > 0.5  # it waited for the holder's sleep


def test_the_lock_is_released_on_interrupt(tmp_path, tiny):
    out = tmp_path / "res"

    def stop(cell):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(cfg(workloads=("t1", "t2")), out, progress=False, on_cell=stop)
    ResultsStore(out).lock().release()  # a second open file: would be refused were the lock still held
    assert run(cfg(workloads=("t1", "t2")), out, resume=True, progress=False)[1] == 1
    assert (out / LOCK_NAME).read_text() == ""  # released: no stale pid


def test_two_cli_runs_into_one_new_folder(tmp_path):
    """Two real `spikebench run` into one folder that does not exist yet: one runs, the other stops at
    once saying the store is in use. Fails on the old code (both ran, two runs in one store)."""
    from spikebench.workloads.data import cache_root

    out = tmp_path / "new" / "res"
    env = {**os.environ, "SPIKEBENCH_CACHE": str(cache_root())}  # the shared offline data: not regenerated
    args = [sys.executable, "-m", "spikebench.cli", "run", "nmnist", "--limit", "2", "--backends", "sparse-cpu",
            "--chips", "loihi", "--out", str(out), "--no-progress"]
    procs = [subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    done = [(p, *p.communicate(timeout=300)) for p in procs]
    assert sorted(p.returncode for p, _, _ in done) == [0, 2], done
    (winner, wout, _), = [d for d in done if d[0].returncode == 0]
    (_, _, lerr), = [d for d in done if d[0].returncode == 2]
    line = _one_error_line(lerr)
    assert line.startswith(f"spikebench: error: results store {out} is in use by another run (pid {winner.pid} since ")
    assert "1 cell(s) written" in wout
    store = ResultsStore(out).open(create=False)
    (rid,) = store.runs()
    assert store.finished_cells(rid) == {"nmnist__sparse-cpu"}


RUNNER = textwrap.dedent('''
    import os, sys, time
    import numpy as np
    import spikebench as sb
    import spikebench.workloads as pkg
    from spikebench.results import ResultsStore
    from spikebench.workloads.base import Metric, WorkloadData

    class Slow:
        task = "classification"
        def __init__(self, name): self.name = name
        def load(self, split, *, data_dir=None, require_real=False, limit=None, seed=0):
            time.sleep(0.2)  # long enough for the two processes to overlap
            return WorkloadData(spikes=sb.random_spikes(4, 20, 10, 0.2, seed=1), labels=np.zeros(4, int),
                                provenance="synthetic", source="fake")
        def reference_network(self):
            return sb.Network.random(sizes=[10, 8, 2], seed=2, weight_std=[1.0, 1.0])
        def score(self, out, data):
            return [Metric(name="accuracy", value=float(np.mean(out.sum(1).argmax(1) == data.labels)))]

    reg = {n: Slow(n) for n in ("w1", "w2", "w3", "w4")}
    pkg.WORKLOADS = reg
    pkg.get_workload = reg.__getitem__
    real = ResultsStore.write_cell
    stop_after = int(os.environ.get("STOP_AFTER", "0"))
    writes = []

    def logged(self, run_id, cell, rows, prov):
        path = real(self, run_id, cell, rows, prov)
        with open(os.environ["WRITE_LOG"], "a") as fh:  # one line per cell file written, O_APPEND
            fh.write(f"{os.getpid()} {cell}\\n")
        writes.append(cell)
        if len(writes) == stop_after:
            raise KeyboardInterrupt
        return path

    ResultsStore.write_cell = logged
    from spikebench.cli import main
    sys.exit(main(sys.argv[1:]))
''')


@pytest.mark.slow  # nine short processes, about 10 s
def test_concurrent_resumes_write_every_cell_once(tmp_path):
    """Two processes `--resume` one interrupted run at the same time, three times over: every cell file
    is written exactly once and the cell finished before is never touched. Fails on the old code: both
    processes computed the missing cells and the second writer of each failed or replaced the first."""
    script = tmp_path / "runner.py"
    script.write_text(RUNNER)
    cells = {f"w{k}__sparse-cpu" for k in range(1, 5)}
    for round_ in range(3):
        out, log = tmp_path / f"res{round_}", tmp_path / f"writes{round_}.log"
        args = [sys.executable, str(script), "run", "w1", "w2", "w3", "w4", "--backends", "sparse-cpu",
                "--chips", "loihi", "--out", str(out), "--no-progress"]

        def start(*extra, stop=0, args=args, log=log):
            env = {**os.environ, "WRITE_LOG": str(log), "STOP_AFTER": str(stop)}
            return subprocess.Popen([*args, *extra], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True)

        first = start(stop=1)  # interrupted after one cell
        assert first.wait(timeout=120) == 130, first.communicate()
        store = ResultsStore(out).open(create=False)
        (rid,) = store.runs()
        (before,) = store.finished_cells(rid)
        st = (out / "runs" / rid / "cells" / f"{before}.json").stat()
        pair = [start("--resume", "--wait"), start("--resume", "--wait")]
        results = [(p.wait(timeout=120), *p.communicate()) for p in pair]
        assert [r[0] for r in results] == [0, 0], results
        assert sorted(int(r[1].split(": ")[1].split()[0]) for r in results) == [0, 3], results  # cells written
        written = [line.split()[1] for line in log.read_text().splitlines()]
        assert sorted(written) == sorted(cells), written  # each cell exactly once, over all three processes
        assert store.runs() == [rid] and store.finished_cells(rid) == cells
        after = (out / "runs" / rid / "cells" / f"{before}.json").stat()
        assert (after.st_ino, after.st_mtime_ns) == (st.st_ino, st.st_mtime_ns)
        assert not [p for p in (out / "runs" / rid / "cells").iterdir() if not p.name.endswith(".json")]


# ---- duplicate names, out-of-range options -------------------------------------------------------------


def test_duplicate_names_run_once(tmp_path, tiny, capsys):
    """Fails on the old code: the repeated cell ran twice and its second write stopped the run (exit 2)."""
    c = cfg(workloads=("t2", "t1", "t2"), backends=("sparse-cpu", "sparse-cpu"), chips=("loihi", "akida", "loihi"))
    assert (c.workloads, c.backends, c.chips) == (("t2", "t1"), ("sparse-cpu",), ("loihi", "akida"))
    out = tmp_path / "res"
    rc, text, err = _cli(capsys, "t1", "t1", "--backends", "sparse-cpu,sparse-cpu", "--chips", "loihi,loihi",
                         "--out", out)
    assert rc == 0, err
    assert "1 cell(s) written" in text and tiny == [("t1", "sparse-cpu")]
    frame = ResultsStore(out).open(create=False).frame()
    assert set(frame["chip"]) == {"", "loihi"} and not frame.duplicated(["workload", "backend", "chip", "metric"]).any()


def test_duplicate_network_labels_are_refused(tmp_path, capsys):
    rc, _, err = _cli(capsys, "nmnist", "--network", "nmnist-csnn", "--network", "nmnist-csnn", "--out", tmp_path / "r")
    assert rc == 2 and "two networks are named 'nmnist-csnn'" in _one_error_line(err)
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("argv, words", [
    (("--seed", "-1"), ("--seed", "-1", "4294967295")),
    (("--seed", str(2**40)), ("--seed", "4294967295")),
    (("--timesteps", str(10**12)), ("--timesteps", "1000000")),
    (("--timestep-s", "inf"), ("--timestep-s", "finite")),
])
def test_out_of_range_options_are_one_line(tmp_path, tiny, capsys, argv, words):
    """Fails on the old code for --seed -1 (ran with exit 0), --timesteps 10**12 and --timestep-s inf."""
    rc, _, err = _cli(capsys, "t1", "--backends", "sparse-cpu", "--chips", "loihi", "--out", tmp_path / "r", *argv)
    line = _one_error_line(err)
    assert rc == 2 and all(w in line for w in words), line
    assert tiny == [] and not (tmp_path / "r").exists()


def test_api_refuses_a_negative_seed(tmp_path, tiny):
    with pytest.raises(sb.SpikebenchError, match="--seed must be an integer from 0"):
        run(cfg(seed=-1), tmp_path / "r", progress=False)
    assert tiny == []


# ---- operating-system errors on the store ------------------------------------------------------------------


def test_name_too_long_is_one_line_before_any_work(tmp_path, tiny, capsys):
    """Fails on the old code: an OSError traceback."""
    out = tmp_path / ("x" * 300) / "res"
    rc, _, err = _cli(capsys, "t1", "--backends", "sparse-cpu", "--chips", "loihi", "--out", out)
    line = _one_error_line(err)
    assert rc == 2 and "File name too long" in line and "shorter --out" in line and str(tmp_path) in line
    assert tiny == []


@pytest.mark.parametrize("code, hint", [(errno.EROFS, "writable --out"), (errno.EACCES, "writable --out"),
                                        (errno.ENOSPC, "free some disk space")])
def test_unwritable_store_is_one_line_before_any_work(tmp_path, tiny, capsys, monkeypatch, code, hint):
    """A read-only file system, a folder we may not write, a full disk while creating the store (simulated:
    root ignores permissions). Fails on the old code: an OSError traceback."""
    real = Path.mkdir

    def refuse(self, *a, **k):
        if str(self).startswith(str(tmp_path)):
            raise OSError(code, os.strerror(code), str(self))
        return real(self, *a, **k)

    monkeypatch.setattr(Path, "mkdir", refuse)
    out = tmp_path / "res"
    rc, _, err = _cli(capsys, "t1", "--backends", "sparse-cpu", "--chips", "loihi", "--out", out)
    line = _one_error_line(err)
    assert rc == 2 and f"{out}: cannot write the results store ({os.strerror(code)})" in line and hint in line
    assert tiny == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores folder permissions")
def test_read_only_folder_is_one_line(tmp_path, tiny, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        rc, _, err = _cli(capsys, "t1", "--backends", "sparse-cpu", "--chips", "loihi", "--out", ro / "res")
    finally:
        ro.chmod(0o755)
    line = _one_error_line(err)
    assert rc == 2 and "Permission denied" in line and str(ro) in line and tiny == []


def test_disk_full_while_writing_a_cell(tmp_path, tiny, capsys, monkeypatch):
    """The finished cells stay, the one being written leaves nothing behind, one line says how to go on.
    Fails on the old code: an OSError traceback."""
    real = os.fsync

    def full(fd):
        if "/cells/" in os.readlink(f"/proc/self/fd/{fd}"):  # the cell file's bytes do not fit on the disk
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(fd)

    monkeypatch.setattr(os, "fsync", full)
    out = tmp_path / "res"
    rc, _, err = _cli(capsys, "t1", "--backends", "sparse-cpu", "--chips", "loihi", "--out", out)
    line = _one_error_line(err)
    assert rc == 2 and "t1__sparse-cpu.json: cannot write the results store (No space left on device)" in line
    assert "--resume" in line
    (rid,) = ResultsStore(out).runs()
    assert list((out / "runs" / rid / "cells").iterdir()) == []  # no temporary, no half cell


# ---- malformed store, run and cell files ----------------------------------------------------------------


@pytest.fixture
def finished(tmp_path, tiny):
    out = tmp_path / "res"
    rid, _ = run(cfg(), out, progress=False)
    return out, rid


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", '{"schema": "spikebench.results/1"}', "[" * 100_000])
def test_malformed_run_file_is_one_line(finished, capsys, text):
    """Fails on the old code: a JSONDecodeError, AttributeError or RecursionError traceback."""
    out, rid = finished
    path = out / "runs" / rid / "run.json"
    path.write_text(text)
    rc, _, err = _cli(capsys, "t1", "--backends", "sparse-cpu", "--chips", "loihi", "--out", out, "--resume")
    line = _one_error_line(err)
    assert rc == 2 and str(path) in line and "move the run folder" in line
    with pytest.raises(sb.FileFormatError, match="run.json"):
        ResultsStore(out).run_config(rid)


@pytest.mark.parametrize("text", ['{"schema": "spikebench.results/1", "rows": [{"a": ', "[" * 100_000,
                                  '{"schema": "spikebench.results/1", "rows": [1, 2]}'])
def test_malformed_cell_file_is_one_line(finished, capsys, text):
    """Truncated, nested too deeply (json raises RecursionError) or rows that are not objects: one line
    naming the file, from the store and from `spikebench report`. Fails on the old code for the deep and
    the non-object cases (a traceback)."""
    out, rid = finished
    path = out / "runs" / rid / "cells" / "t1__sparse-cpu.json"
    path.write_text(text)
    with pytest.raises(sb.FileFormatError, match="move it out of the store"):
        ResultsStore(out).open(create=False).frame()
    rc = main(["report", str(out), "--out", str(out.parent / "rep")])
    line = _one_error_line(capsys.readouterr().err)
    assert rc == 2 and str(path) in line


def test_deeply_nested_store_metadata_is_one_line(tmp_path):
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "store.json").write_text("[" * 100_000)
    with pytest.raises(sb.FileFormatError, match="nested too deeply"):
        ResultsStore(tmp_path / "s").open(create=False)


def test_a_foreign_folder_gets_no_lock_file(tmp_path, tiny):
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    with pytest.raises(sb.SpikebenchError, match="not empty"):
        run(cfg(), busy, progress=False)
    assert sorted(p.name for p in busy.iterdir()) == ["notes.txt"] and tiny == []


def test_store_json_is_written(finished):
    out, _ = finished
    assert json.loads((out / "store.json").read_text()) == {"schema": "spikebench.results/1"}
