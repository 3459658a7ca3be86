"""bench/plan.py runs and prints its JSON contract (timing targets are read, not asserted)."""

from __future__ import annotations

from tests.conftest import run_bench


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


def test_gpu_benchmark_smoke_runs_on_the_cpu():
    import pytest

    pytest.importorskip("diffusers")
    data = run_bench("gpu.py", "--smoke", "--repeats", "1")
    smoke = data["models"]["smoke"]
    assert data["device"] == "cpu" and smoke["tokens"] == 3 * 4 * 4
    assert smoke["attention=native"]["seconds_per_cfg_step"] > 0 and smoke["attention=native"]["tflops"] > 0
    assert {"attention=native+cache=fbc", "attention=native+cache=taylorseer"} <= set(smoke)
    assert smoke["profiles"]["cpu"]["clips_run"] == 5  # the whole-pipeline path ran, five clips


def test_the_flop_count_is_the_issues_566_tflop_per_step():
    import importlib.util

    from tests.conftest import ROOT

    spec = importlib.util.spec_from_file_location("gpu_bench", ROOT / "bench" / "gpu.py")
    gpu = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gpu)
    assert round(gpu.step_tflop(gpu.CONFIGS["1.3b"], 32_760)) == 566
