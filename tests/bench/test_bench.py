"""The benchmark runs and prints its JSON contract (its timing target is checked by reading it, not here)."""

from __future__ import annotations

from tests.conftest import run_bench


def test_schedules_benchmark_prints_json():
    data = run_bench("schedules.py", "--frames", "300", "--runs", "1")
    assert data["frames"] == 300 and data["keys"] >= 14
    assert data["seconds"] > 0


def test_post_benchmark_prints_json():
    """bench/post.py, tiny: its JSON contract, and flow in-betweens beat frame picking on the pan.
    The upscale part runs where spandrel imports (it needs a torchvision matching torch)."""
    from movement.errors import WanWeaveError

    try:
        from wan.media.upscale import import_spandrel

        import_spandrel()
        skip = []
    except (ImportError, WanWeaveError):
        skip = ["--skip-upscale"]
    data = run_bench("post.py", "--size", "96x64", "--frames", "9", "--upscale-frames", "1", *skip)
    assert data["interpolation"]["output_frames"] == 16 and data["interpolation"]["in_between"] == 14
    assert data["interpolation"]["opencv-dis_fps"] > 0 and data["interpolation"]["blend_fps"] > 0
    assert set(data["quality"]) == {"pan", "zoom", "pan_object"}
    for scene in data["quality"].values():
        assert set(scene) == {"opencv-dis", "blend", "nearest"}
        assert all(0 < s["min"] <= s["mean"] for s in scene.values())
    pan = data["quality"]["pan"]
    assert pan["opencv-dis"]["mean"] > pan["nearest"]["mean"] + 3
    if not skip:
        assert data["upscale"]["scale"] == 2 and data["upscale"]["out_size"] == "192x128" and data["upscale"]["fps"] > 0
