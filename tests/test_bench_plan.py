"""bench/plan.py runs and prints its JSON contract (timing targets are read, not asserted)."""

from __future__ import annotations

from .conftest import run_bench


def test_plan_benchmark_prints_json():
    data = run_bench("plan.py", "--frames", "600", "--runs", "1", "--preview-frames", "12")
    assert data["frames"] == 600 and data["clips"] >= 4
    assert data["preview_fps"] > 0 and data["plan_seconds"] > 0


def test_overhead_benchmark_prints_json():
    import pytest

    pytest.importorskip("diffusers")
    data = run_bench("overhead.py", "--clips", "2", "--steps", "1")
    assert data["clips"] == 2 and data["total_seconds"] >= data["pipeline_seconds"] > 0
    assert 0 <= data["overhead_fraction"] < 1


def test_continuity_benchmark_prints_json():
    data = run_bench("continuity.py", "--chunks", "2", "--size", "208x120")
    assert data["frames"] == 2 * 41 - 16 and data["size"] == "208x120"
    assert data["flow_blend_ms_per_frame"] > 0 and data["color_blend_ms_per_frame"] > 0
