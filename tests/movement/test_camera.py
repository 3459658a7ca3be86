"""Deforum's camera as matrices: directions agree with the movement words, composition is exact in 2D."""

from __future__ import annotations

import numpy as np
import pytest

from movement import build_schedules, settings_from_mapping
from movement.camera import frame_matrices, matrix_2d, matrix_3d, repainted_step

W, H = 832, 480
CENTER = np.array([W / 2, H / 2, 1.0])
RIGHT = np.array([W / 2 + 100, H / 2, 1.0])


def moved(h: np.ndarray, p: np.ndarray) -> np.ndarray:
    q = h @ p
    return q[:2] / q[2] - p[:2]


@pytest.mark.parametrize(
    ("args", "point", "direction"),
    [
        ({"tx": 10}, CENTER, (-1, 0)),  # camera trucks right: content slides left
        ({"ty": 10}, CENTER, (0, 1)),  # camera rises: content slides down
        ({"tz": 10}, RIGHT, (1, 0)),  # dolly in: content spreads out from the centre
        ({"rx": 5}, CENTER, (0, 1)),  # tilt up: content slides down
        ({"ry": 5}, CENTER, (-1, 0)),  # pan right: content slides left
        ({"rz": 5}, RIGHT, (0, -1)),  # roll clockwise: a point right of centre rises (content turns CCW)
    ],
)
def test_3d_directions_match_deforum(args, point, direction):
    params = {"rx": 0, "ry": 0, "rz": 0, "tx": 0, "ty": 0, "tz": 0, **args}
    h = matrix_3d(params["rx"], params["ry"], params["rz"], params["tx"], params["ty"], params["tz"], 70, W, H)
    delta = moved(h, point)
    for axis, sign in enumerate(direction):
        if sign:
            assert np.sign(delta[axis]) == sign
        else:
            assert abs(delta[axis]) < 0.1 * abs(delta).max()


def test_repainted_step_moves_and_turns_the_centre_like_the_homography():
    h = matrix_3d(2, -3, 4, 5, -4, 8, 60, W, H)
    step = repainted_step(h, W / 2, H / 2, 8)
    np.testing.assert_allclose(moved(step, CENTER), moved(h, CENTER), atol=1e-9)
    assert np.allclose(step[2], [0, 0, 1])
    # Translation-only homographies of a facing plane are similarities already: nothing is lost.
    pure = matrix_3d(0, 0, 0, 5, -4, 8, 60, W, H)
    np.testing.assert_allclose(repainted_step(pure, W / 2, H / 2, 8), pure, atol=1e-9)


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


def test_long_3d_pan_stays_a_valid_affine_map():
    s = settings_from_mapping(
        {
            "max_frames": 721,
            "animation_mode": "3D",
            "prompts": {"0": "a"},
            "rotation_3d_y": "0: (1)",
            "translation_z": "0: (0)",
        }
    )
    mats = frame_matrices(build_schedules(s))
    assert np.isfinite(mats).all()
    assert np.allclose(mats[:, 2], [0, 0, 1])
    # A full turn slides the picture steadily left, frame after frame.
    shifts = np.diff(mats[:, 0, 2])
    assert (shifts < 0).all() and shifts.std() < 1e-6 * abs(shifts.mean()) + 1e-9
