"""Issue 12, items 5: every command ends in one line and exit 2, never a traceback, and never after the
expensive work: operating-system errors, out-of-range options, absurd spikes files, outputs that are
inputs, links or devices. (``run`` and the results store are tested in their own files.)"""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys

import numpy as np
import pytest

import spikebench as sb
from spikebench.cli import main

SPIKEBENCH = [sys.executable, "-m", "spikebench.cli"]


@pytest.fixture
def files(tmp_path):
    net = sb.Network.random(sizes=[12, 8, 3], recurrent=[True, False], seed=2,
                            weight_std=[3 / np.sqrt(12), 3 / np.sqrt(8)])
    net.to_nir(tmp_path / "net.nir")
    spikes = sb.random_spikes(4, 20, 12, 0.2, seed=3, timestep_s=2e-3)
    spikes.save_npz(tmp_path / "in.npz")
    return tmp_path


def simulate_argv(tmp, *extra):
    return ["simulate", "--network", str(tmp / "net.nir"), "--spikes", str(tmp / "in.npz"), *extra]


def one_line_error(capsys, *needles) -> str:
    err = capsys.readouterr().err
    assert err.startswith("spikebench: error: ") and err.count("\n") == 1, err
    for needle in needles:
        assert needle in err, err
    return err


# ---- operating-system errors: one line naming the file, exit 2 ---------------------------------------

def test_read_only_file_system_names_the_file(files, capsys, monkeypatch):
    # EROFS at the rename (as on a read-only mount); old code: the OSError escaped as a traceback
    def refuse(src, dst):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(dst))

    monkeypatch.setattr(os, "replace", refuse)
    assert main(simulate_argv(files, "--counts-out", str(files / "c.json"))) == 2
    one_line_error(capsys, "c.json", "read-only")
    assert not [p for p in files.iterdir() if p.name.endswith(".tmp")]  # the temporary file is gone


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores permissions")
def test_unwritable_folder_refused_before_simulating(files, capsys, monkeypatch):
    ro = files / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    ran = []
    monkeypatch.setattr(sb.Network, "from_nir", classmethod(lambda cls, p: ran.append(p)))
    try:
        assert main(simulate_argv(files, "--counts-out", str(ro / "c.json"))) == 2
    finally:
        ro.chmod(0o700)
    one_line_error(capsys, "c.json", "permission denied")
    assert ran == []


def test_name_too_long_refused_before_simulating(files, capsys):
    # old code: simulated, then the write failed with ENAMETOOLONG as a traceback
    assert main(simulate_argv(files, "--counts-out", str(files / ("c" * 300 + ".json")))) == 2
    one_line_error(capsys, "too long", "shorter name")


def test_disk_full_names_the_file(files, capsys, monkeypatch):
    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    assert main(simulate_argv(files, "--counts-out", str(files / "c.json"))) == 2
    one_line_error(capsys, "c.json", "no space left")
    assert not (files / "c.json").exists()


def test_disk_full_device_written_through_names_the_file(files, capsys):
    # a private /dev/full (char device 1,7): every write fails with ENOSPC
    full = files / "full"
    try:
        os.mknod(full, stat.S_IFCHR | 0o666, os.makedev(1, 7))
    except (PermissionError, OSError):
        pytest.skip("cannot make a device node here")
    assert main(simulate_argv(files, "--counts-out", str(full))) == 2
    one_line_error(capsys, str(full), "no space left")
    assert stat.S_ISCHR(os.stat(full).st_mode)  # old code replaced the device by a regular file


def test_closed_stdout_is_one_line_and_exit_2():
    # `spikebench chips list >&-`: old code printed into nothing and exited 0
    proc = subprocess.run(["bash", "-c", 'exec "$@" >&-', "sh", *SPIKEBENCH, "chips", "list"],
                          capture_output=False, stderr=subprocess.PIPE, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "standard output is closed" in proc.stderr


def test_stdout_on_a_full_disk_is_one_line_and_exit_2():
    # old code: the failed flush at exit printed "Exception ignored ..." and exited 120
    with open("/dev/full", "w") as full:
        proc = subprocess.run([*SPIKEBENCH, "chips", "list"], stdout=full, stderr=subprocess.PIPE, text=True,
                              timeout=60)
    assert proc.returncode == 2
    assert proc.stderr == "spikebench: error: writing the output: No space left on device\n"


@pytest.mark.parametrize(("exc", "needles"), [
    (PermissionError(errno.EACCES, "Permission denied", "/some/where/file.json"),
     ("/some/where/file.json", "Permission denied")),
    (RecursionError("maximum recursion depth exceeded"), ("nested too deeply",)),
    (MemoryError(), ("out of memory",)),
])
def test_last_resort_errors_are_one_line(capsys, monkeypatch, exc, needles):
    import spikebench.cli.chips as chips

    def boom(args):
        raise exc

    monkeypatch.setattr(chips, "run_list", boom)
    assert main(["chips", "list"]) == 2
    one_line_error(capsys, *needles)


# ---- out-of-range options: one line naming the option, before reading anything -----------------------

@pytest.mark.parametrize(("argv", "needle"), [
    # a missing counts file: old code read it first and named it, never the option
    (["estimate", "--counts", "missing.json", "--seed", "-1"], "--seed must be an integer in [0, 4294967295]"),
    (["estimate", "--counts", "missing.json", "--sensitivity", "1000000000"],
     "--sensitivity must be an integer in [0, 100000]"),
    (["choose", "--counts", "missing.json", "--draws", "1000000000"], "--draws must be an integer in [0, 100000]"),
    (["choose", "--counts", "missing.json", "--seed", "-1"], "--seed must be an integer in [0, 4294967295]"),
    (["train", "nmnist", "--epochs", "1000000000"], "--epochs must be an integer in [1, 10000]"),
    (["train", "nmnist", "--seed", str(2**40)], "--seed must be an integer in [0, 4294967295]"),
])
def test_out_of_range_options(argv, needle, capsys, monkeypatch):
    import spikebench.training

    monkeypatch.setattr(spikebench.training, "train_workload", lambda *a, **k: pytest.fail("trained"))
    assert main(argv) == 2
    one_line_error(capsys, needle)


# ---- absurd spikes files: one line naming the field ---------------------------------------------------

@pytest.mark.parametrize(("field", "value", "needle"), [
    ("timestep_s", np.array([1e-3, 2e-3]), "field timestep_s must be a single number"),  # old: TypeError traceback
    ("timesteps", np.int64(10**12), "field timesteps must be in [1, 10000000]"),  # old: allocation of 10^13 pointers
    ("timestep_s", np.float64(np.nan), "timestep_s must be a positive, finite number"),
    ("timestep_s", np.array("fast"), "field timestep_s must be a number"),  # old: ValueError traceback
    ("n", np.float64(12.7), "field n must be an integer"),  # old: silently 12 channels
    ("times", np.zeros(3, np.float32), "field times must be a 1-D integer array"),
])
def test_absurd_npz_fields(files, capsys, field, value, needle):
    tr = sb.SpikeTrain.load_npz(files / "in.npz")
    doc = {"sample_ptr": tr.sample_ptr, "times": tr.times, "indices": tr.indices, "timesteps": np.int64(tr.timesteps),
           "n": np.int64(tr.n), "timestep_s": np.float64(tr.timestep_s), field: value}
    np.savez(files / "bad.npz", **doc)
    argv = simulate_argv(files)
    argv[argv.index("--spikes") + 1] = str(files / "bad.npz")
    assert main(argv) == 2
    one_line_error(capsys, "bad.npz", needle)


def test_npz_claiming_terabytes_is_refused_before_reading(files, capsys):
    # a 200-byte file whose header claims a (1000, 10^6, 100) raster: old code tried to allocate 93 GiB
    import io
    import zipfile

    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "|u1", "fortran_order": False,
                                                  "shape": (1000, 10**6, 100)})
    with zipfile.ZipFile(files / "bomb.npz", "w") as zf:
        zf.writestr("spikes.npy", header.getvalue() + bytes(100))
    argv = simulate_argv(files)
    argv[argv.index("--spikes") + 1] = str(files / "bomb.npz")
    assert main(argv) == 2
    one_line_error(capsys, "bomb.npz", "field spikes", "93.1 GiB")


# ---- never after the expensive work: train checks its folder first -------------------------------------

def test_train_checks_its_output_folder_before_training(tmp_path, capsys, monkeypatch):
    import spikebench.training

    called = []
    monkeypatch.setattr(spikebench.training, "fit", lambda *a, **k: called.append("fit"))
    monkeypatch.setattr(spikebench.training, "train_workload", lambda *a, **k: called.append("train"))
    (tmp_path / "file.txt").write_text("not a folder")
    # old code trained, then failed to make the folder (NotADirectoryError traceback)
    assert main(["train", "ecg-anomaly", "--out", str(tmp_path / "file.txt" / "nets"), "--limit", "4"]) == 2
    one_line_error(capsys, "file.txt", "not a folder")
    assert main(["train", "ecg-anomaly", "--out", str(tmp_path / ("d" * 300)), "--limit", "4"]) == 2
    one_line_error(capsys, "shorter name")
    assert called == []


def test_train_workload_api_checks_its_folder_before_loading(tmp_path, monkeypatch):
    import spikebench.training
    from spikebench.core.errors import SpikebenchError
    from spikebench.workloads import get_workload

    called = []
    monkeypatch.setattr(spikebench.training, "fit", lambda *a, **k: called.append("fit"))
    wl = get_workload("ecg-anomaly")
    monkeypatch.setattr(type(wl), "load", lambda *a, **k: called.append("load"))
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(SpikebenchError, match="not a folder"):
        spikebench.training.train_workload(wl, out_dir=tmp_path / "file.txt" / "nets", limit=4)
    assert called == []


# ---- outputs: never an input, links and devices written through ------------------------------------

@pytest.mark.parametrize("which", ["spikes", "network", "alias"])
def test_output_equal_to_an_input_is_refused(files, capsys, which):
    before = (files / "in.npz").read_bytes(), (files / "net.nir").read_bytes()
    target = {"spikes": files / "in.npz", "network": files / "net.nir", "alias": files / "alias.npz"}[which]
    if which == "alias":
        os.symlink(files / "in.npz", target)  # the same file by another name
    # old code: read the input, then wrote the counts over it and exited 0
    assert main(simulate_argv(files, "--counts-out", str(target))) == 2
    one_line_error(capsys, "is the input file")
    assert ((files / "in.npz").read_bytes(), (files / "net.nir").read_bytes()) == before


def test_outputs_out_equal_to_counts_out_is_refused(files, capsys):
    out = str(files / "both")
    assert main(simulate_argv(files, "--counts-out", out, "--outputs-out", out)) == 2
    one_line_error(capsys, "name the same file")


def test_symlink_output_is_written_through(files, capsys):
    (files / "real").mkdir()
    target = files / "real" / "counts.json"
    link = files / "link.json"
    os.symlink(target, link)
    assert main(simulate_argv(files, "--counts-out", str(link))) == 0
    assert link.is_symlink() and os.readlink(link) == str(target)  # old code replaced the link by a file
    assert sb.EventCounts.from_json(target).samples == 4


def test_fifo_output_is_written_into(files):
    fifo = files / "pipe"
    os.mkfifo(fifo)
    rfd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # a reader, so the write neither blocks nor fails
    try:
        rc = main(simulate_argv(files, "--counts-out", str(fifo), "--format", "json"))
        got = b""
        while True:
            try:
                chunk = os.read(rfd, 65536)
            except BlockingIOError:
                break
            if not chunk:
                break
            got += chunk
    finally:
        os.close(rfd)
    assert rc == 0
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)  # old code replaced the FIFO by a regular file
    assert b'"schema": "spikebench.counts/2"' in got


def test_null_device_output_is_written_into(files, capsys):
    # a private /dev/null (char device 1,3), so that old code, which replaced it, harms nothing
    null = files / "null"
    try:
        os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except (PermissionError, OSError):
        pytest.skip("cannot make a device node here")
    assert main(simulate_argv(files, "--counts-out", str(null))) == 0
    assert stat.S_ISCHR(os.stat(null).st_mode)
    assert main(simulate_argv(files, "--counts-out", os.devnull)) == 0
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


def test_stdout_as_output_path_keeps_both_documents(files, tmp_path):
    # `--counts-out /proc/self/fd/1 > out.txt` (as /dev/stdout): the counts and the summary go to the one
    # stream in order; old code tried to rename a temporary file over the descriptor link (traceback)
    out = tmp_path / "out.txt"
    with open(out, "wb") as fh:
        proc = subprocess.run([*SPIKEBENCH, *simulate_argv(files, "--counts-out", "/proc/self/fd/1", "--format", "json")],
                              stdout=fh, stderr=subprocess.PIPE, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    assert text.count('"schema": "spikebench.counts/2"') == 2  # the counts file, then the summary's counts
    assert text.index('"layers"') < text.index('"wall_time_s"')


def test_report_folder_checked_before_building(tmp_path, capsys):
    (tmp_path / "file.txt").write_text("x")
    assert main(["report", str(tmp_path / "nostore"), "--out", str(tmp_path / "file.txt" / "r")]) == 2
    one_line_error(capsys, "not a folder")
