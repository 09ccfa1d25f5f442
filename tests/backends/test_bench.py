"""`make bench` machinery runs and checks itself (timings are reported, never asserted)."""

from __future__ import annotations

import pytest

from spikebench import bench


@pytest.mark.slow
def test_quick_benchmark_runs_and_tunes_the_workload(capsys):
    assert bench.main(["--quick"]) == 0
    out = capsys.readouterr().out
    for method in ("sparse-cpu b1", "sparse-cpu b64", "snntorch b1", "gemm b1", "gemm b64"):
        assert f"| {method} |" in out
    assert "hidden activity 6." in out or "hidden activity 7." in out  # tuned to 7 % +- 0.3 %
    assert "Single layer 2312 -> 500" in out
    import numba

    if numba.config.NUMBA_NUM_THREADS >= 2:  # the threads table: b1 split over neurons at n = 2000
        assert "sparse-cpu, 1 vs" in out and "| 2000 |" in out and "| neurons |" in out
