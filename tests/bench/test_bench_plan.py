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


def test_gpu_benchmark_renders_the_examples_guided_and_reports_their_figures():
    import pytest

    pytest.importorskip("diffusers")
    data = run_bench("gpu.py", "--smoke", "--only-adherence", "--adherence", "tiny")
    assert data["models"] == {}
    renders = data["adherence"]
    assert set(renders) == {"greenhouse_2d.txt", "harbor_3d.txt"}
    for entry in renders.values():
        assert entry["mode"] == "vace_guide"  # the tiny VACE model is there: the guided default
        assert {"output", "guide"} <= set(entry["adherence"]) and entry["guide_seams"]["boundaries"]
        assert entry["adherence"]["guide"]["clips"] == entry["clips"]
    assert renders["harbor_3d.txt"]["depth"].endswith("depth-anything-tiny")  # 3D found the depth model
    assert renders["greenhouse_2d.txt"]["depth"] is None


def test_guide_benchmark_prints_speed_and_adherence():
    data = run_bench("guide.py", "--size", "208x120", "--frames", "5", "--skip-examples")
    assert data["speed"]["2d_fps"] > 0 and data["speed"]["3d_depth_fps"] > 0
    for name in ("2d_pan_x", "2d_zoom", "2d_roll"):
        component = {"2d_pan_x": "x", "2d_zoom": "scale", "2d_roll": "roll"}[name]
        assert 0.95 <= data["synthetic"][name][component]["gain"] <= 1.05


def test_the_flop_count_is_the_issues_566_tflop_per_step():
    import importlib.util

    from tests.conftest import ROOT

    spec = importlib.util.spec_from_file_location("gpu_bench", ROOT / "bench" / "gpu.py")
    gpu = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gpu)
    assert round(gpu.step_tflop(gpu.CONFIGS["1.3b"], 32_760)) == 566
