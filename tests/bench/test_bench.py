"""The benchmark runs and prints its JSON contract (its timing target is checked by reading it, not here)."""

from __future__ import annotations

from tests.conftest import run_bench


def test_schedules_benchmark_prints_json():
    data = run_bench("schedules.py", "--frames", "300", "--runs", "1")
    assert data["frames"] == 300 and data["keys"] >= 14
    assert data["seconds"] > 0
