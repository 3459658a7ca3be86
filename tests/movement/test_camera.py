"""Deforum's camera as image motion: directions agree with the movement words, 2D composes Deforum's
own matrices exactly, fractional steps add up to whole ones, and 3D scales with the frame size."""

from __future__ import annotations

import numpy as np
import pytest

from movement import build_schedules, settings_from_mapping
from movement.camera import CameraPath, components, frame_matrices, matrix_2d

W, H = 832, 480
CENTER = np.array([W / 2, H / 2, 1.0])
RIGHT = np.array([W / 2 + 100, H / 2, 1.0])
ZERO_3D = {"translation_z": "0: (0)", "translation_x": "0: (0)", "translation_y": "0: (0)"}


def path_of(mode: str = "3D", size: tuple[int, int] | None = None, **schedules) -> CameraPath:
    s = settings_from_mapping({"max_frames": 40, "animation_mode": mode, "W": W, "H": H, "prompts": {"0": "a"},
                               **({**ZERO_3D} if mode == "3D" else {}), **schedules})  # fmt: skip
    return CameraPath(build_schedules(s), *(size or (None, None)))


def moved(h: np.ndarray, p: np.ndarray) -> np.ndarray:
    q = h @ p
    return q[:2] / q[2] - p[:2]


@pytest.mark.parametrize(
    ("schedule", "point", "direction"),
    [
        ({"translation_x": "0: (10)"}, CENTER, (-1, 0)),  # camera trucks right: content slides left
        ({"translation_y": "0: (10)"}, CENTER, (0, 1)),  # camera rises: content slides down
        ({"translation_z": "0: (10)"}, RIGHT, (1, 0)),  # dolly in: content spreads out from the centre
        ({"rotation_3d_x": "0: (5)"}, CENTER, (0, 1)),  # tilt up: content slides down
        ({"rotation_3d_y": "0: (5)"}, CENTER, (-1, 0)),  # pan right: content slides left
        ({"rotation_3d_z": "0: (5)"}, RIGHT, (0, -1)),  # roll clockwise: a point right of centre rises
    ],
)
def test_3d_directions_match_deforum(schedule, point, direction):
    delta = moved(path_of(**schedule).step(1), point)
    for axis, sign in enumerate(direction):
        if sign:
            assert np.sign(delta[axis]) == sign
        else:
            assert abs(delta[axis]) < 0.1 * abs(delta).max()


def test_3d_offsets_follow_deforums_projection():
    """translation_x moves a point at depth z by tx/200 / (z tan(fov/2)) half-heights, as Deforum's
    FoV camera does; nearer points move more (parallax)."""
    path = path_of(translation_x="0: (10)", fov_schedule="0: (60)")
    near, far = path.offsets_3d(1, 1.0, np.array([W / 2, W / 2]), np.array([H / 2, H / 2]), np.array([1.0, 2.0]))
    expected = -(10 / 200) / np.tan(np.radians(30)) * H / 2
    assert near[0] == pytest.approx(expected) and far[0] == pytest.approx(expected / 2)
    assert near[1] == pytest.approx(0, abs=1e-9)


def test_3d_step_scales_with_the_frame_size():
    """The preview once applied settings-size pixels at the plan's size (1.9x too fast at half size)."""
    full = components(path_of(translation_x="0: (10)").step(1), W, H)[0]
    half = components(path_of(size=(W // 2, H // 2), translation_x="0: (10)").step(1), W // 2, H // 2)[0]
    assert half == pytest.approx(full / 2, rel=1e-6)


def test_2d_frames_compose_deforums_per_frame_warps():
    s = settings_from_mapping(
        {
            "max_frames": 6,
            "animation_mode": "2D",
            "W": 200,
            "H": 100,
            "prompts": {"0": "a"},
            "angle": "0: (1)",
            "zoom": "0: (1.01)",
            "translation_x": "0: (2)",
            "translation_y": "0: (-1)",
            "transform_center_x": "0: (0.5)",
            "transform_center_y": "0: (0.5)",
        }
    )
    mats = frame_matrices(build_schedules(s))
    step = matrix_2d(1, 1.01, 2, -1, 100, 50)
    assert np.allclose(mats[0], np.eye(3))
    np.testing.assert_allclose(mats[5], np.linalg.matrix_power(step, 5), rtol=1e-12)
    # At another frame size the same move, in that size's pixels.
    half = CameraPath(build_schedules(s), 100, 50).matrix_between(0, 5)
    s_ = np.diag([0.5, 0.5, 1.0])
    np.testing.assert_allclose(half, s_ @ mats[5] @ np.linalg.inv(s_), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("mode", ["2D", "3D"])
def test_fractional_steps_add_up_to_whole_frames(mode):
    """A 16 fps clip in a 24 fps film samples the camera between Deforum's frames: the pieces of
    the path between model frames compose to the same move as Deforum's whole frames."""
    extra = {"translation_x": "0: (3)", "angle": "0: (0.5)", "zoom": "0: (1.01)"} if mode == "2D" else {
        "translation_x": "0: (3)", "rotation_3d_z": "0: (0.5)", "translation_z": "0: (2)"}  # fmt: skip
    path = path_of(mode, **extra)
    whole = path.matrix_between(0, 9)
    pieces = np.eye(3)
    times = [k * 1.5 for k in range(7)]  # 0, 1.5, ..., 9
    for a, b in zip(times, times[1:]):
        pieces = path.matrix_between(a, b) @ pieces
    np.testing.assert_allclose(pieces / pieces[2, 2], whole, atol=1e-6)
    assert path.segments(1.5, 3.0) == [(2, 0.5), (3, 1.0)]


def test_long_3d_pan_slides_steadily():
    path = path_of(rotation_3d_y="0: (1)")
    shifts = [components(path.step(f), W, H)[0] for f in range(1, 40)]
    assert all(s < 0 for s in shifts) and np.std(shifts) < 1e-9 + 1e-6 * abs(np.mean(shifts))
