"""The preview render end to end: a real `python -m wan render`, the MP4 read back with ffmpeg."""

from __future__ import annotations

import json
import subprocess
import sys
import wave

import cv2
import numpy as np
import pytest

from tests.conftest import EXAMPLES, ROOT
from wan.media.errors import MediaError
from wan.media.video import VideoSpec, probe, write_mp4
from wan.plan.plan_json import read_plan

SMALL = ["--width", "320", "--height", "192", "--preset", "ultrafast"]


def wan(*args) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wan", *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def small_settings(write_settings, **extra):
    data = {
        "max_frames": 48,
        "fps": 24,
        "animation_mode": "2D",
        "W": 320,
        "H": 192,
        "seed": 3,
        "prompts": {"0": "a red door", "24": "a blue door"},
        "angle": "0: (0)",
        "zoom": "0: (1.0)",
        "translation_x": "0: (0)",
        "translation_y": "0: (0)",
        **extra,
    }
    return write_settings(data, "small_settings.txt")


def test_preview_of_the_3d_example(tmp_path):
    out = tmp_path / "harbor"
    result = wan("render", EXAMPLES / "harbor_3d.txt", "--engine", "preview", "--out", out, "--preset", "ultrafast")
    assert result.returncode == 0, result.stderr
    info = probe(str(out / "harbor_3d.mp4"))
    assert (info.frames, info.fps, info.width, info.height) == (240, 24.0, 832, 480)
    assert info.seconds == pytest.approx(10.0, abs=0.05)
    assert not info.has_audio
    plan = read_plan(out / "plan.json")
    assert json.loads(info.metadata["wan_weave_plan"]) == json.loads((out / "plan.json").read_text())
    assert json.loads(info.metadata["wan_weave_settings"]) == json.loads((EXAMPLES / "harbor_3d.txt").read_text())
    assert len(plan.clips) == 3
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["frames"] == 240 and manifest["engine"] == "preview"


def sine_wav(path, seconds=5.0, rate=22050):
    t = np.arange(int(seconds * rate)) / rate
    samples = (0.3 * np.sin(2 * np.pi * 440 * t) * 32767).astype(np.int16)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())


def test_soundtrack_is_muxed_and_trimmed(tmp_path, write_settings):
    sine_wav(tmp_path / "tone.wav", seconds=5.0)
    path = small_settings(write_settings, add_soundtrack="File", soundtrack_path="tone.wav")
    result = wan("render", path, "--out", tmp_path / "out", *SMALL)
    assert result.returncode == 0, result.stderr
    info = probe(str(tmp_path / "out" / "small_settings.mp4"))
    assert info.has_audio and info.frames == 48
    assert info.seconds == pytest.approx(2.0, abs=0.05)


def test_soundtrack_url_is_a_clear_error_and_nothing_is_left(tmp_path, write_settings):
    path = small_settings(write_settings, add_soundtrack="File", soundtrack_path="https://example.com/a.mp3")
    result = wan("render", path, "--out", tmp_path / "out", *SMALL)
    assert result.returncode == 2
    assert "URL" in result.stderr and "Traceback" not in result.stderr
    assert not list((tmp_path / "out").glob("*.mp4")) if (tmp_path / "out").exists() else True


def test_missing_init_image_warns_and_uses_a_test_card(tmp_path, write_settings):
    path = small_settings(write_settings, use_init=True, init_image="nowhere.png")
    result = wan("render", path, "--out", tmp_path / "out", "--mode", "t2v", *SMALL)
    assert result.returncode == 0, result.stderr
    assert "warning: init_image not found" in result.stderr
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert any("init_image not found" in w for w in manifest["warnings"])
    frame = first_frame(str(tmp_path / "out" / "small_settings.mp4"))
    # The test card: a hue sweep from left to right with a grid, not a flat or black frame.
    assert frame.std() > 30
    left, right = frame[:, :40].mean(axis=(0, 1)), frame[:, -40:].mean(axis=(0, 1))
    assert np.abs(left - right).max() > 40


def first_frame(mp4: str) -> np.ndarray:
    cap = cv2.VideoCapture(mp4)
    ok, frame = cap.read()
    cap.release()
    assert ok
    return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)


def test_init_image_is_the_first_frame(tmp_path, write_settings):
    image = np.zeros((192, 320, 3), np.uint8)
    image[:, :160] = (200, 30, 30)
    image[:, 160:] = (30, 30, 200)
    cv2.imwrite(str(tmp_path / "init.png"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    path = small_settings(write_settings, use_init=True, init_image="init.png")
    result = wan("render", path, "--out", tmp_path / "out", "--mode", "t2v", "--no-captions", *SMALL)
    assert result.returncode == 0, result.stderr
    frame = first_frame(str(tmp_path / "out" / "small_settings.mp4")).astype(int)
    assert np.abs(frame[20:170, 20:140].mean(axis=(0, 1)) - (200, 30, 30)).max() < 20
    assert np.abs(frame[20:170, 180:300].mean(axis=(0, 1)) - (30, 30, 200)).max() < 20


def frames_of(mp4: str) -> list[np.ndarray]:
    cap = cv2.VideoCapture(mp4)
    out = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        out.append(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY).astype(np.float32))
    return out


@pytest.mark.parametrize(
    ("key", "value", "dx", "dy"), [("translation_x", "0: (2)", 1, 0), ("translation_y", "0: (2)", 0, 1)]
)
def test_preview_moves_the_picture_as_deforum_does(tmp_path, write_settings, key, value, dx, dy):
    # translation_x > 0 is described as "truck left": the picture must slide right.
    path = small_settings(write_settings, **{key: value}, fps=16)
    result = wan("render", path, "--out", tmp_path / "out", "--no-captions", *SMALL)
    assert result.returncode == 0, result.stderr
    frames = frames_of(str(tmp_path / "out" / "small_settings.mp4"))
    (sx, sy), _ = cv2.phaseCorrelate(frames[10], frames[20])
    assert np.sign(round(sx)) == dx and np.sign(round(sy)) == dy
    assert abs(sx * dx + sy * dy - 20) < 3  # 10 frames x 2 px


def test_render_from_an_edited_plan(tmp_path, write_settings):
    path = small_settings(write_settings)
    plan_file = tmp_path / "plan.json"
    assert wan("plan", path, "--out", plan_file, "--width", "320", "--height", "192").returncode == 0
    data = json.loads(plan_file.read_text())
    data["clips"][0]["user_prompt"] = "an edited prompt"
    plan_file.write_text(json.dumps(data))
    result = wan("render", plan_file, "--out", tmp_path / "out", "--preset", "ultrafast", "--save-frames")
    assert result.returncode == 0, result.stderr
    plan = read_plan(tmp_path / "out" / "plan.json")
    assert plan.clips[0].effective_prompt == "an edited prompt"
    pngs = sorted((tmp_path / "out" / "clips").rglob("*.png"))
    assert len(pngs) == sum(c.num_frames for c in plan.clips)
    refused = wan("render", plan_file, "--out", tmp_path / "out2", "--steps", "4")
    assert refused.returncode == 2 and "edit the plan.json" in refused.stderr


def test_failed_encode_leaves_no_file(tmp_path):
    bad = (np.zeros((10, 10, 3), np.uint8) for _ in range(3))
    with pytest.raises(MediaError, match="expected"):
        write_mp4(bad, str(tmp_path / "v.mp4"), VideoSpec(16, 16, 10), expected_frames=3)
    assert list(tmp_path.iterdir()) == []


def test_plan_json_contract():
    result = wan("plan", EXAMPLES / "harbor_3d.txt", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert {"mode", "model", "fps_out", "fps_model", "width", "height", "clips"} <= set(data)
    for clip in data["clips"]:
        assert {
            "index",
            "start_frame",
            "end_frame",
            "num_frames",
            "overlap",
            "prompt",
            "negative_prompt",
            "movement",
            "motion_strength",
            "seed",
            "strength",
        } <= set(clip)


def test_a_killed_runs_hidden_temporary_files_are_removed(tmp_path):
    from wan.render.files import remove_leftovers

    (tmp_path / "clips").mkdir()
    left = [tmp_path / ".a1b2.partial.mp4", tmp_path / "clips" / ".x9y8.partial.mp4", tmp_path / "tmpq.ffmeta",
            tmp_path / "plan.json.partial", tmp_path / "clips" / "clip_001.frames.npz.partial"]  # fmt: skip
    kept = [tmp_path / "film.mp4", tmp_path / "clips" / "clip_000.mp4", tmp_path / "clips" / "clip_000.frames.npz"]
    for path in left + kept:
        path.write_bytes(b"x")
    remove_leftovers(str(tmp_path))
    assert [p.exists() for p in left] == [False] * len(left) and all(p.exists() for p in kept)
