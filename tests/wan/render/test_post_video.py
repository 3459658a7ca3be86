"""`python -m wan post VIDEO`: a finished video at a new rate (interpolated), upscaled and graded,
its soundtrack kept; stopped half way and run again, the finished parts are kept."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import wan
from tests.synthetic_video import texture
from tests.wan.render.test_runner import sine_wav
from wan.media.video import VideoSpec, probe, read_frames, write_mp4
from wan.plan.post import Post
from wan.render import post_video as pv


def source_video(path, tmp_path, frames=40, fps=16.0, audio_seconds=None):
    """A pan at 16 fps with a tone under it (as long as the picture, unless said)."""
    sine_wav(tmp_path / "tone.wav", seconds=audio_seconds or frames / fps)
    big = texture(96, 200, seed=3)
    shots = [np.ascontiguousarray(big[:48, 2 * k : 2 * k + 64]) for k in range(frames)]
    write_mp4(shots, str(path), VideoSpec(64, 48, fps, 12, "ultrafast"), audio=str(tmp_path / "tone.wav"))
    return shots


def test_post_makes_the_new_rate_upscales_and_keeps_the_sound(tiny_models, tmp_path):
    video = tmp_path / "film.mp4"
    source_video(video, tmp_path, audio_seconds=1.0)  # a soundtrack shorter than the film cuts nothing
    done = wan("post", video, "--fps", "30", "--post", "upscale=tiny-esrgan-x2,contrast=1.1", "--models", tiny_models,
               "--preset", "ultrafast")  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    info = probe(str(tmp_path / "film_post.mp4"))
    assert (info.frames, info.fps, info.width, info.height, info.has_audio) == (75, 30.0, 128, 96, True)
    assert info.seconds == pytest.approx(2.5, abs=0.05)
    assert "opencv-dis" in done.stdout and "tiny-esrgan-x2" in done.stdout
    assert not any(p.name.startswith(".film_post") for p in tmp_path.iterdir())  # the parts are gone


def test_a_stopped_post_keeps_its_finished_parts(tmp_path, monkeypatch):
    video = tmp_path / "film.mp4"
    source_video(video, tmp_path, frames=48)
    monkeypatch.setattr(pv, "PART_SECONDS", 1.0)

    def stop_after_two(message):
        if message.startswith("post: part 2/"):
            raise KeyboardInterrupt  # the night's power cut, after part 2 is on disk

    with pytest.raises(KeyboardInterrupt):
        pv.post_video(str(video), str(tmp_path / "out.mp4"), Post(interpolate="blend"), fps=24.0, log=stop_after_two)
    done = pv.post_video(str(video), str(tmp_path / "out.mp4"), Post(interpolate="blend"), fps=24.0, log=lambda m: None)
    assert done["parts_kept"] == 2 and done["frames"] == 72
    frames, fps = read_frames(str(tmp_path / "out.mp4"))
    assert (len(frames), fps) == (72, 24.0)
    # Another job in the same place does not take a stopped job's parts for its own.
    with pytest.raises(KeyboardInterrupt):
        pv.post_video(str(video), str(tmp_path / "out.mp4"), Post(interpolate="blend"), fps=24.0, log=stop_after_two)
    messages = []
    other = pv.post_video(str(video), str(tmp_path / "out.mp4"), Post(interpolate="nearest"), fps=24.0,
                          log=messages.append)  # fmt: skip
    assert other["parts_kept"] == 0 and any("another job" in m for m in messages)


def test_a_missing_upscaler_stops_a_render_before_it_starts(tiny_models, tmp_path):
    from tests.conftest import EXAMPLES

    out = tmp_path / "out"
    result = wan("render", EXAMPLES / "greenhouse_2d.txt", "--engine", "wan", "--models", tiny_models, "--width", "64",
                 "--height", "48", "--steps", "1", "--post", "upscale=real-esrgan-x4.pth", "--out", out)  # fmt: skip
    assert result.returncode == 2 and "real-esrgan-x4" in result.stderr and "upscale" in result.stderr
    assert "tiny-esrgan-x2" in result.stderr  # what the folder does hold
    assert not (out / "manifest.json").exists()  # no render left saying "rendering"


def test_another_post_block_resumes_with_the_finished_clips(tiny_models, tmp_path):
    import dataclasses
    import json

    from movement import load_settings
    from tests.conftest import EXAMPLES
    from wan.plan.build import PlanOptions, build_plan
    from wan.render.request import RenderOptions
    from wan.render.runner import render

    plan = build_plan(load_settings(EXAMPLES / "greenhouse_2d.txt"), PlanOptions(width=64, height=48, steps=1))
    options = RenderOptions(engine="wan", models_dir=str(tiny_models), preset="ultrafast")
    render(plan, str(tmp_path), options, log=lambda m: None)
    # Finishing differently changes no clip: a resume with another post block reuses them all.
    lines = []
    again = dataclasses.replace(plan, post=Post(interpolate="blend", contrast=1.2))
    render(again, str(tmp_path), dataclasses.replace(options, resume=True), log=lines.append)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert any("3 finished clip(s)" in line for line in lines), lines
    assert all(c.get("reused") for c in manifest["clips"]) and manifest["post"]["interpolator"] == "blend"
