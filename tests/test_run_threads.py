"""``run --threads``: sparse-cpu's thread count is the user's (default every core), results do not
depend on it, and the wall-time row says which timing it is and on how many threads (issue 13)."""

from __future__ import annotations

import pytest

from spikebench.cli import main
from spikebench.results import ResultsStore


def _rows(out):
    return ResultsStore(out).open(create=False).rows()


def test_threads_reach_the_rows_and_do_not_change_results(tmp_path):
    args = ["run", "nmnist", "--limit", "4", "--backends", "sparse-cpu", "--chips", "loihi", "--no-progress"]
    assert main([*args, "--threads", "1", "--out", str(tmp_path / "one")]) == 0
    assert main([*args, "--threads", "2", "--out", str(tmp_path / "two")]) == 0
    one, two = _rows(tmp_path / "one"), _rows(tmp_path / "two")
    wall = [r for r in one if r["metric"] == "wall_time_per_inference_s"]
    assert len(wall) == 1
    assert "1 thread(s)" in wall[0]["source"] and "wall clock of the whole call" in wall[0]["source"]
    assert "preparing the network" in wall[0]["source"] and "simulating" in wall[0]["source"]

    def values(rows):
        return {(r["metric"], r["chip"]): r["value"] for r in rows if r["kind"] != "measured"}

    assert values(one) == values(two)  # task metrics, counts and estimates: the same at 1 and 2 threads


@pytest.mark.parametrize("value", ["0", "-3", "5000"])
def test_threads_out_of_range_is_one_line(tmp_path, capsys, value):
    assert main(["run", "nmnist", "--threads", value, "--out", str(tmp_path / "r"), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--threads must be an integer from 1 to 1024" in err[0]
    assert not (tmp_path / "r").exists()  # refused before the store is made
