"""bench/plan.py runs and prints its JSON contract (timing targets are read, not asserted)."""

from __future__ import annotations

from .conftest import run_bench


def test_plan_benchmark_prints_json():
    data = run_bench("plan.py", "--frames", "600", "--runs", "1", "--preview-frames", "12")
    assert data["frames"] == 600 and data["clips"] >= 4
    assert data["preview_fps"] > 0 and data["plan_seconds"] > 0
