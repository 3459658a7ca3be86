"""The camera-adherence meter on synthetic videos with known motion: a texture moved exactly by the
schedule's matrices measures gain 1 and correlation 1, moved half as far gain 0.5, not moved gain 0;
components the schedule does not move say so. Plus the CLI contract."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from movement import build_schedules, settings_from_mapping
from movement.camera import CameraPath
from tests.synthetic_video import texture
from wan.cli.main import main
from wan.media.adherence import AdherenceMeter, adherence_of_video, fit_step, measure_step
from wan.media.errors import MediaError
from wan.media.video import VideoSpec, write_mp4

W, H, N = 208, 120, 20
COMPONENTS = ("x", "y", "scale", "roll")
CASES = {
    "pan_x": ({"translation_x": "0:(0), 10:(4)"}, {"x"}),
    "pan_y": ({"translation_y": "0:(0), 10:(3)"}, {"y"}),
    "zoom": ({"zoom": "0:(1.0), 10:(1.03)"}, {"scale"}),
    "roll": ({"angle": "0:(0), 10:(1.5)"}, {"roll"}),
    "combined": (
        {
            "translation_x": "0:(0), 10:(3)",
            "translation_y": "0:(2), 10:(-1)",
            "zoom": "0:(1.0), 10:(1.02)",
            "angle": "0:(0.5), 10:(-1)",
        },
        set(COMPONENTS),
    ),
}
TEXTURE = texture(int(H * 1.5), int(W * 1.5), seed=3)  # 3x the frame: room for the whole move


def settings_data(motion: dict, width: int = W, height: int = H, frames: int = N) -> dict:
    data = {"W": width, "H": height, "max_frames": frames, "fps": 15, "animation_mode": "2D", "angle": "0:(0)",
            "zoom": "0:(1)", "translation_x": "0:(0)", "translation_y": "0:(0)"}  # fmt: skip
    data.update(motion)
    return data


def camera(motion: dict, width: int = W, height: int = H) -> CameraPath:
    return CameraPath(build_schedules(settings_from_mapping(settings_data(motion))), width, height)


def shot(matrix: np.ndarray, tex: np.ndarray = TEXTURE, size: tuple[int, int] = (W, H)) -> np.ndarray:
    """The frame whose content sits at matrix @ p for the point p of frame 0 (the texture's centre)."""
    w, h = size
    th, tw = tex.shape[:2]
    crop = np.array([[1.0, 0.0, (tw - w) / 2], [0.0, 1.0, (th - h) / 2], [0.0, 0.0, 1.0]])
    inverse = (crop @ np.linalg.inv(matrix))[:2]
    return cv2.warpAffine(tex, inverse, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REFLECT)  # fmt: skip


def video(path: CameraPath, fraction: float, tex: np.ndarray = TEXTURE) -> list[np.ndarray]:
    """Frames moved by `fraction` of every scheduled step (0: a static video with sensor noise)."""
    if fraction == 0:
        rng = np.random.default_rng(0)
        still = shot(np.eye(3), tex).astype(np.float64)
        return [np.clip(still + rng.normal(0, 2, still.shape), 0, 255).astype(np.uint8) for _ in range(N)]
    frames, m = [], np.eye(3)
    for f in range(N):
        if f:
            m = path.step(f, fraction) @ m
        frames.append(shot(m, tex, (path.width, path.height)))
    return frames


def meter_report(path: CameraPath, frames: list[np.ndarray], **kw) -> dict:
    meter = AdherenceMeter(path.steps(), path.width, path.height, **kw)
    for frame in frames:
        meter.add(frame)
    return meter.report()


@pytest.mark.parametrize("kind", ["static", "exact", "half"])
@pytest.mark.parametrize("case", list(CASES))
def test_gain_and_correlation_on_synthetic_moves(case, kind):
    motion, scheduled = CASES[case]
    path = camera(motion)
    report = meter_report(path, video(path, {"static": 0.0, "exact": 1.0, "half": 0.5}[kind]))
    assert report["steps"] == N - 1 and report["unmeasured"] == 0
    for name in COMPONENTS:
        row = report[name]
        if name not in scheduled:
            assert row["note"] == "not scheduled" and row["gain"] is None and row["correlation"] is None
            continue
        assert "note" not in row and row["scheduled"] > 0
        if kind == "static":
            assert abs(row["gain"]) < 0.05, (name, row)
        elif kind == "exact":
            assert 0.95 <= row["gain"] <= 1.05 and row["correlation"] >= 0.99, (name, row)
            assert row["measured"] == pytest.approx(row["scheduled"], rel=0.06)
        else:
            assert 0.45 <= row["gain"] <= 0.55 and row["correlation"] >= 0.99, (name, row)


def test_measure_step_in_frame_pixels_above_the_working_width():
    big = texture(360, 640, seed=5)  # 1280x720: the 640x360 frame is measured at 320 px and scaled back
    moved = np.array([[1.0, 0.0, 8.0], [0.0, 1.0, -5.0], [0.0, 0.0, 1.0]])
    step = measure_step(shot(np.eye(3), big, (640, 360)), shot(moved, big, (640, 360)))
    assert step[:2, 2] == pytest.approx([8.0, -5.0], abs=0.3)
    assert step[:2, :2] == pytest.approx(np.eye(2), abs=0.01)


def test_flat_frames_are_unmeasured_not_static():
    grey = np.full((H, W, 3), 128, np.uint8)
    assert fit_step(grey, grey)[0] is None
    assert np.array_equal(measure_step(grey, grey), np.eye(3))
    path = camera(CASES["pan_x"][0])
    report = meter_report(path, [grey] * N)
    assert report["steps"] == 0 and report["unmeasured"] == N - 1
    assert report["x"]["gain"] is None


def test_skipped_steps_sampling_and_callable_schedule():
    path = camera(CASES["pan_x"][0])
    frames = video(path, 1.0)
    frames[10] = video(path, 1.0, texture(int(H * 1.5), int(W * 1.5), seed=9))[10]  # a cut in and out
    cut = meter_report(path, frames)
    spoiled = cut["x"]["correlation"] < 0.99 or not 0.95 <= cut["x"]["gain"] <= 1.05
    assert spoiled or cut["unmeasured"] > 0  # a cut is not camera motion
    meter = AdherenceMeter(path.step, W, H, skip={11})  # callable: path.step(i) is the step into frame i
    for i, frame in enumerate(frames):
        meter.add(frame, measure=i != 10)
    report = meter.report()
    assert report["steps"] == N - 3 and report["unmeasured"] == 0
    assert 0.95 <= report["x"]["gain"] <= 1.05 and report["x"]["correlation"] >= 0.99
    assert meter_report(path, video(path, 1.0), sample=3)["steps"] == len(range(1, N, 3))


def test_frames_of_another_size_are_compared_at_the_meter_size():
    motion = CASES["combined"][0]
    frames = video(camera(motion), 1.0)  # 208x120 frames
    report = meter_report(camera(motion, 2 * W, 2 * H), frames)  # the schedule at 416x240
    for name in COMPONENTS:
        assert 0.95 <= report[name]["gain"] <= 1.05, (name, report[name])
    assert report["x"]["scheduled"] == pytest.approx(2 * camera_total(motion, "x"), rel=0.01)


def camera_total(motion: dict, name: str) -> float:
    from movement.camera import components

    path = camera(motion)
    return sum(abs(components(s, W, H)[COMPONENTS.index(name)]) for s in path.steps()[1:])


def write_case(tmp_path, frames: list[np.ndarray], motion: dict) -> tuple[str, str]:
    video_path, settings_path = tmp_path / "v.mp4", tmp_path / "settings.txt"
    write_mp4(iter(frames), str(video_path), VideoSpec(W, H, 15, crf=10, preset="ultrafast"))
    settings_path.write_text(json.dumps(settings_data(motion)))
    return str(video_path), str(settings_path)


def test_adherence_command(tmp_path, capsys):
    motion = CASES["pan_x"][0]
    video_path, settings_path = write_case(tmp_path, video(camera(motion), 1.0), motion)
    assert main(["adherence", video_path, settings_path, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["steps"] == N - 1 and report["unmeasured"] == 0 and (report["width"], report["height"]) == (W, H)
    assert 0.95 <= report["x"]["gain"] <= 1.05 and report["x"]["correlation"] >= 0.99
    assert all(report[k]["note"] == "not scheduled" for k in ("y", "scale", "roll"))
    assert main(["adherence", video_path, settings_path]) == 0
    lines = capsys.readouterr().out.splitlines()
    (x_line,) = [line for line in lines if line.startswith("x ")]
    assert 0.95 <= float(x_line.split("gain ")[1].split()[0]) <= 1.05
    assert sum("not scheduled" in line for line in lines) == 3


def test_adherence_errors(tmp_path, capsys):
    motion = CASES["pan_x"][0]
    video_path, settings_path = write_case(tmp_path, video(camera(motion), 1.0)[:12], motion)
    with pytest.raises(MediaError, match=r"12 frames.*max_frames 20") as err:
        adherence_of_video(video_path, settings_path)
    assert err.value.where == video_path
    assert main(["adherence", video_path, settings_path]) == 2
    stderr = capsys.readouterr().err
    assert stderr.count("\n") == 1 and "12 frames" in stderr and "v.mp4" in stderr
    assert main(["adherence", str(tmp_path / "missing.mp4"), settings_path]) == 2
    assert "video not found" in capsys.readouterr().err
    assert main(["adherence", video_path, str(tmp_path / "missing.txt")]) == 2
    assert "missing.txt: file not found" in capsys.readouterr().err
    (tmp_path / "text.mp4").write_text("not a video")
    assert main(["adherence", str(tmp_path / "text.mp4"), settings_path]) == 2
    assert capsys.readouterr().err.count("\n") == 1
