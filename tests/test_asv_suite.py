"""The asv suite (benchmarks/, asv.conf.json) stays alive: its configuration holds what the README says,
every benchmark states its version (and every track its unit), and every benchmark runs once against
the installed package without failing (``asv run --python=same --quick --dry-run``)."""

from __future__ import annotations

import importlib
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

PREFIXES = ("time_", "peakmem_", "track_", "mem_", "timeraw_")


def _conf() -> dict:
    """asv.conf.json (JSON with // comments, as asv reads it)."""
    text = (REPO / "asv.conf.json").read_text()
    return json.loads(re.sub(r"^\s*//.*$", "", text, flags=re.M))


def _benchmarks() -> list[tuple[str, object, object]]:
    """(name, function, owning class or None) of every benchmark in benchmarks/."""
    sys.path.insert(0, str(REPO))
    try:
        found = []
        for path in sorted((REPO / "benchmarks").glob("*.py")):
            if path.name.startswith("_"):
                continue
            mod = importlib.import_module(f"benchmarks.{path.stem}")
            for name, obj in vars(mod).items():
                if inspect.isfunction(obj) and name.startswith(PREFIXES):
                    found.append((f"{path.stem}.{name}", obj, None))
                elif inspect.isclass(obj) and obj.__module__ == mod.__name__:
                    for attr in dir(obj):
                        if attr.startswith(PREFIXES) and callable(getattr(obj, attr)):
                            found.append((f"{path.stem}.{name}.{attr}", getattr(obj, attr), obj))
        return found
    finally:
        sys.path.remove(str(REPO))


def test_asv_conf_keeps_everything_under_dot_asv_and_pins_the_cpu_torch():
    conf = _conf()
    assert conf["repo"] == "." and conf["branches"] == ["main"] and conf["benchmark_dir"] == "benchmarks"
    for key in ("env_dir", "results_dir", "html_dir"):
        assert conf[key].startswith(".asv/"), key
    assert "/.asv/" in (REPO / ".gitignore").read_text().split()
    torch_spec = re.search(r"^TORCH_SPEC \?= torch==(\S+)$", (REPO / "Makefile").read_text(), re.M).group(1)
    assert conf["matrix"]["req"]["torch"] == [torch_spec], "asv must pin the same CPU torch as make setup"
    # building a commit must not build (or download) its dependencies' wheels
    assert all("--no-deps" in cmd for cmd in conf["build_command"] if "pip wheel" in cmd)


def test_every_benchmark_has_an_explicit_version_and_every_track_a_unit():
    found = _benchmarks()
    names = [n for n, _, _ in found]
    assert len(found) >= 20 and any(".track_" in n for n in names) and any(".peakmem_" in n for n in names)
    for name, fn, cls in found:
        version = getattr(fn, "version", None) or (cls is not None and cls.__dict__.get("version")) or \
            (cls is not None and any("version" in vars(c) for c in cls.__mro__[:-1]))
        assert version, f"{name}: set `version` so that editing its code keeps its history"
        if ".track_" in name:
            assert getattr(fn, "unit", ""), f"{name}: a track_ benchmark needs a unit"


def test_tracked_quantities_rise_when_worse():
    """asv flags a rise as a regression: a track_ name says error, events, spikes, energy, latency or a
    count of failures, never a score that improves upwards (accuracy, AUROC)."""
    for name, _, _ in _benchmarks():
        if ".track_" in name:
            assert not re.search(r"accuracy|auroc|score", name), name
            assert re.search(r"error|events|spikes|energy|latency|outside", name), name


@pytest.mark.slow
def test_every_asv_benchmark_runs_once_against_the_installed_package(tmp_path):
    """CI's check: a benchmark that fails or errors fails this test (asv exits 2 and prints "failed")."""
    asv = shutil.which("asv", path=str(Path(sys.executable).parent)) or shutil.which("asv")
    assert asv, "asv is a dev dependency (pip install -e '.[dev]')"
    from spikebench.workloads.data import cache_root

    # asv keeps machine information in ~/.asv-machine.json: a scratch home keeps the user's own intact
    env = {**os.environ, "HOME": str(tmp_path), "SPIKEBENCH_CACHE": str(cache_root())}
    env.pop("SPIKEBENCH_DATA", None)
    subprocess.run([asv, "machine", "--yes"], cwd=REPO, env=env, check=True, capture_output=True)
    proc = subprocess.run([asv, "run", "--python=same", "--quick", "--dry-run", "--show-stderr"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=1200)
    out = proc.stdout + proc.stderr
    failed = [line for line in out.splitlines() if "···" in line and re.search(r"\bfailed\b", line)]
    assert proc.returncode == 0 and not failed, "\n".join(failed) + "\n" + out[-6000:]
    ran = set(re.findall(r"··· (bench_\w+\.\w+\.\w+)", out))
    expected = {n for n, _, _ in _benchmarks()}
    assert expected <= ran, f"not run by asv: {sorted(expected - ran)}"
