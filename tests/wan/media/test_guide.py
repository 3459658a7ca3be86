"""The camera guide: 2D is Deforum's matrices exactly, 3D moves each pixel by its depth, the mask
marks what the start picture does not cover, and the guide follows the schedule by the meter."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from movement import build_schedules, settings_from_mapping
from movement.camera import CameraPath
from tests.synthetic_video import texture
from wan.media.adherence import AdherenceMeter
from wan.media.guide import CameraTracker, model_times, render_guide

W, H = 320, 192
FLAT_3D = {"translation_z": "0: (0)", "translation_x": "0: (0)", "translation_y": "0: (0)"}


def path_of(mode: str, frames: int = 40, **schedules) -> CameraPath:
    s = settings_from_mapping({"max_frames": frames, "animation_mode": mode, "W": W, "H": H, "prompts": {"0": "a"},
                               **(FLAT_3D if mode == "3D" else {}), **schedules})  # fmt: skip
    return CameraPath(build_schedules(s))


def test_2d_guide_is_the_composed_deforum_warp_and_masks_the_uncovered_strip():
    path = path_of("2D", translation_x="0: (4)", zoom="0: (1)")
    start = texture(H // 2, W // 2)
    guide = render_guide(path, start, 0.0, [0, 5, 10])
    expected = cv2.warpPerspective(start, path.matrix_between(0, 10), (W, H), borderMode=cv2.BORDER_REPLICATE)
    np.testing.assert_array_equal(guide.frames[2], expected)
    np.testing.assert_array_equal(guide.frames[0], start)
    # 10 frames of 4 px to the right: the left 40 columns have no source, the rest do.
    valid = guide.valid[2]
    assert not valid[:, :39].any() and valid[:, 41:].all()
    assert guide.valid[0].all()


def test_3d_flat_translation_is_a_shift_and_depth_gives_parallax():
    path = path_of("3D", translation_x="0: (2)")
    start = texture(H // 2, W // 2)
    flat = CameraTracker(path, start, 0.0)
    flat.advance(10)
    shift = flat.points[..., 0] - np.arange(W)
    assert np.allclose(shift, shift.mean(), atol=1e-6) and shift.mean() < -5
    image, valid = flat.frame()
    moved = cv2.warpAffine(
        start, np.float32([[1, 0, shift.mean()], [0, 1, 0]]), (W, H), borderMode=cv2.BORDER_REPLICATE
    )
    inner = valid.copy()
    inner[:, -int(-shift.mean()) - 2 :] = False
    assert np.abs(image.astype(int) - moved)[inner].mean() < 1.0
    # Left half near (z = 1), right half far (z = 2): near content moves twice as far.
    depth = np.ones((H, W))
    depth[:, W // 2 :] = 2.0
    deep = CameraTracker(path, start, 0.0, depth)
    deep.advance(10)
    near = deep.points[H // 2, W // 4, 0] - W // 4
    far = deep.points[H // 2, 3 * W // 4, 0] - 3 * W // 4
    assert near == pytest.approx(2 * far, rel=1e-6) and near < 0


def test_3d_guide_marks_disocclusions_as_invalid():
    """A near half sliding over a far half uncovers background no pixel of the start shows."""
    path = path_of("3D", translation_x="0: (-3)")  # camera trucks left: content slides right
    depth = np.full((H, W), 2.0)
    depth[:, : W // 2] = 1.0  # the near left half slides right faster, over the far half
    tracker = CameraTracker(path, texture(H // 2, W // 2), 0.0, depth)
    tracker.advance(10)
    _, valid = tracker.frame()
    near_shift = tracker.points[H // 2, 10, 0] - 10
    assert near_shift > 10
    assert not valid[:, : int(near_shift) // 2 - 2].any()  # the left edge: nothing came in from outside
    assert valid[:, W // 2 + int(near_shift) + 4 :].mean() > 0.95  # far content, unoccluded


@pytest.mark.parametrize(
    ("mode", "schedule"),
    [
        ("2D", {"translation_x": "0: (0), 30: (4)", "zoom": "0: (1)"}),
        ("2D", {"translation_y": "0: (3), 30: (-2)", "zoom": "0: (1)"}),
        ("2D", {"zoom": "0: (1.0), 30: (1.03)"}),
        ("2D", {"angle": "0: (0), 30: (1.5)", "zoom": "0: (1)"}),
        ("3D", {"translation_x": "0: (0), 30: (6)"}),
        ("3D", {"translation_z": "0: (0), 30: (6)"}),
        ("3D", {"rotation_3d_z": "0: (0), 30: (1.5)"}),
    ],
)
def test_guide_follows_the_schedule_by_the_meter(mode, schedule):
    """The guide at model times (16 fps in a 24 fps film) resampled to the film's frames as a render
    does: gain within 0.95..1.05 and correlation >= 0.99 on every scheduled component (3D at flat depth)."""
    path = path_of(mode, **schedule)
    fps_out, fps_model = 24.0, 16.0
    n = 40
    times = model_times(0, 0, int(n * fps_model / fps_out) + 2, fps_out, fps_model)
    big = texture(H, W, seed=3)
    start = cv2.resize(big, (W, H), interpolation=cv2.INTER_AREA)
    guide = render_guide(path, start, 0.0, times)
    # The meter compares whole Deforum frames: measure the guide at the model frames that land on them.
    exact = [k for k, t in enumerate(times) if abs(t - round(t)) < 1e-9 and round(t) < n]
    steps = {}
    for a, b in zip(exact, exact[1:]):
        steps[len(steps) + 1] = path.matrix_between(times[a], times[b])
    meter = AdherenceMeter(lambda i: steps[i], W, H)
    for k in exact:
        meter.add(guide.frames[k])
    report = meter.report()
    # 3D moves pixels by a perspective warp: only its clearly scheduled parts are compared with
    # the meter's similarity, and a dolly's scale reads a little low (the warp is not a pure zoom).
    least = {"x": 2.0, "y": 2.0, "scale": 0.003, "roll": 1.0} if mode == "3D" else {}
    scheduled = [c for c in ("x", "y", "scale", "roll")
                 if report[c]["gain"] is not None and report[c]["scheduled"] >= least.get(c, 0)]  # fmt: skip
    assert scheduled
    low, high, corr = (0.95, 1.05, 0.99) if mode == "2D" else (0.93, 1.05, 0.98)
    for c in scheduled:
        assert low <= report[c]["gain"] <= high, (c, report[c])
        assert report[c]["correlation"] >= corr, (c, report[c])
