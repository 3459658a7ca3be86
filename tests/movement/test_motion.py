from __future__ import annotations

import numpy as np
import pytest

from movement import MOVEMENT_TYPES, SettingsError, analyze, build_schedules, camera_rates, describe_range
from movement import settings_from_mapping as from_mapping
from movement.motion import AXES_2D, AXES_3D, fixed_ranges
from movement.vocabulary import DURATIONS, INTENSITIES

NEUTRAL_2D = {"angle": "0: (0)", "zoom": "0: (1.0)", "translation_x": "0: (0)", "translation_y": "0: (0)"}
NEUTRAL_3D = {f"rotation_3d_{a}": "0: (0)" for a in "xyz"} | {f"translation_{a}": "0: (0)" for a in "xyz"}


def whole(mode: str, fps: float = 24, max_frames: int = 120, **keys: str):
    neutral = NEUTRAL_2D if mode == "2D" else NEUTRAL_3D
    settings = from_mapping(
        {"animation_mode": mode, "fps": fps, "max_frames": max_frames, "W": 800, "H": 400, **neutral, **keys}
    )
    return analyze(build_schedules(settings), ((0, max_frames),)).segments[0]


CASES_2D = [
    ("angle", "0: (0.5)", "roll_clockwise"),  # content turns counter-clockwise on screen
    ("angle", "0: (-0.5)", "roll_counterclockwise"),
    ("zoom", "0: (1.01)", "zoom_in"),
    ("zoom", "0: (0.99)", "zoom_out"),
    ("translation_x", "0: (3)", "truck_left"),  # content shifts right
    ("translation_x", "0: (-3)", "truck_right"),
    ("translation_y", "0: (3)", "pedestal_up"),  # content shifts down
    ("translation_y", "0: (-3)", "pedestal_down"),
]
CASES_3D = [
    ("rotation_3d_y", "0: (0.5)", "pan_right"),
    ("rotation_3d_y", "0: (-0.5)", "pan_left"),
    ("rotation_3d_x", "0: (0.5)", "tilt_up"),
    ("rotation_3d_x", "0: (-0.5)", "tilt_down"),
    ("rotation_3d_z", "0: (0.5)", "roll_clockwise"),
    ("rotation_3d_z", "0: (-0.5)", "roll_counterclockwise"),
    ("translation_z", "0: (1.5)", "dolly_in"),
    ("translation_z", "0: (-1.5)", "dolly_out"),
    ("translation_x", "0: (1.5)", "truck_right"),  # opposite of 2D: Deforum negates x in 3D
    ("translation_x", "0: (-1.5)", "truck_left"),
    ("translation_y", "0: (1.5)", "pedestal_up"),
    ("translation_y", "0: (-1.5)", "pedestal_down"),
]


@pytest.mark.parametrize(("key", "value", "expected"), CASES_2D)
def test_every_2d_movement(key, value, expected):
    seg = whole("2D", **{key: value})
    assert [m.type for m in seg.movements] == [expected]
    assert seg.movements[0].duration == "sustained"
    assert 0 < seg.motion_strength <= 1


@pytest.mark.parametrize(("key", "value", "expected"), CASES_3D)
def test_every_3d_movement(key, value, expected):
    seg = whole("3D", **{key: value})
    assert [m.type for m in seg.movements] == [expected]
    assert 0 < seg.motion_strength <= 1


def test_vocabulary_is_covered():
    covered = {c[2] for c in CASES_2D + CASES_3D} | {"static"}
    assert covered == set(MOVEMENT_TYPES)


@pytest.mark.parametrize("mode", ["2D", "3D"])
def test_static(mode):
    seg = whole(mode)
    assert [m.type for m in seg.movements] == ["static"]
    assert seg.motion_strength == 0
    assert seg.description_en == "static camera" and seg.description_zh == "固定镜头"


def test_constant_small_value_is_a_steady_move_not_static():
    # The values are per-frame increments: a constant 0.02 deg/frame keeps turning the camera.
    seg = whole("3D", fps=15, rotation_3d_y="0: (0.02)")
    assert [(m.type, m.intensity, m.duration) for m in seg.movements] == [("pan_right", "subtle", "sustained")]


def test_increments_not_positions():
    # A position reading would call this static after frame 30 (the value stops changing).
    seg = whole("3D", translation_z="0: (0), 30: (2)")
    assert seg.movements[0].type == "dolly_in"
    assert seg.movements[0].frames == 119


def test_intensity_follows_physical_rate():
    levels = [whole("3D", fps=10, rotation_3d_y=f"0: ({rate / 10})").movements[0].intensity for rate in (1, 5, 15, 40)]
    assert levels == list(INTENSITIES)


def test_duration_in_seconds():
    def duration(frames: int) -> str:
        return whole("3D", fps=10, max_frames=100, rotation_3d_y=f"0: (1), {frames}: (0)").movements[0].duration

    assert [duration(10), duration(30), duration(60)] == list(DURATIONS)


# Each builds the same motion per second at a given fps: per-frame values scale with 1/fps,
# key frames and the frame variable t with fps.
SAME_MOTION = [
    lambda fps: {"translation_z": f"0: ({9 / fps})", "rotation_3d_y": f"0: ({-4.5 / fps})"},
    lambda fps: {"rotation_3d_x": f"0: ({16.5 / fps})", "translation_x": f"0: ({-3 / fps}), {4 * fps}: ({30 / fps})"},
    lambda fps: {"rotation_3d_z": f"0: ({1.5 / fps}*sin(t/{fps}/0.33))", "translation_z": f"0: ({45 / fps})"},
]


@pytest.mark.parametrize("motion", SAME_MOTION)
def test_same_physical_motion_gets_same_words_at_any_fps(motion):
    slow, fast = (whole("3D", fps=fps, max_frames=8 * fps, **motion(fps)) for fps in (15, 60))
    assert slow.description_en == fast.description_en
    assert slow.description_zh == fast.description_zh
    assert [(m.type, m.intensity, m.duration) for m in slow.movements] == [
        (m.type, m.intensity, m.duration) for m in fast.movements
    ]
    assert slow.motion_strength == pytest.approx(fast.motion_strength, abs=0.02)
    for a, b in zip(slow.movements, fast.movements):
        assert a.rate == pytest.approx(b.rate, rel=0.05)


def test_combined_moves_are_worded_together():
    seg = whole("3D", fps=15, translation_z="0: (0.8)", rotation_3d_y="0: (-0.3)")
    assert seg.description_en == "continuous slow dolly in while slowly panning left"
    assert seg.description_zh == "镜头持续缓慢推进，同时缓慢向左摇"
    assert [m.type for m in seg.movements] == ["dolly_in", "pan_left"]


def test_back_and_forth_is_one_move():
    seg = whole("2D", fps=15, max_frames=150, angle="0: (2*sin(2*3.14159*t/50))")
    assert {m.type for m in seg.movements} == {"roll_clockwise", "roll_counterclockwise"}
    assert "rocking" in seg.description_en


def test_any_range_can_be_described():
    settings = from_mapping(
        {
            "animation_mode": "3D",
            "fps": 10,
            "max_frames": 100,
            **NEUTRAL_3D,
            "rotation_3d_y": "0: (0), 50: (0), 51: (1)",
        }
    )
    rates = camera_rates(build_schedules(settings))
    assert describe_range(rates, 0, 50).movements[0].type == "static"
    assert describe_range(rates, 60, 100).movements[0].type == "pan_right"
    assert describe_range(rates, 40, 70).movements[0].type == "pan_right"
    with pytest.raises(ValueError):
        describe_range(rates, 50, 101)


def test_auto_segments_cover_the_timeline_and_split_where_motion_changes():
    settings = from_mapping(
        {
            "animation_mode": "3D",
            "fps": 10,
            "max_frames": 100,
            **NEUTRAL_3D,
            "translation_z": "0: (2), 40: (2), 41: (0)",
            "rotation_3d_y": "0: (0), 60: (0), 61: (-1)",
        }
    )
    segments = analyze(build_schedules(settings)).segments
    assert segments[0].start_frame == 0 and segments[-1].end_frame == 100
    assert all(a.end_frame == b.start_frame for a, b in zip(segments, segments[1:]))
    assert [s.movements[0].type for s in segments] == ["dolly_in", "static", "pan_left"]


def test_fixed_ranges():
    assert fixed_ranges(10, 4) == ((0, 4), (4, 8), (8, 10))


def test_non_camera_modes_are_static():
    settings = from_mapping({"animation_mode": "Video Input", "max_frames": 20, "translation_x": "0: (5)"})
    assert analyze(build_schedules(settings)).segments[0].movements[0].type == "static"


def test_zoom_must_stay_positive():
    with pytest.raises(SettingsError, match="zoom") as info:
        whole("2D", zoom="0: (1), 10: (-1)")
    assert info.value.frame is not None


def _deforum_2d_forward(angle: float, zoom: float, tx: float, ty: float, center=(400.0, 200.0)) -> np.ndarray:
    """Deforum's 2D warp matrix: getRotationMatrix2D(center, angle, zoom) @ translation (OpenCV's formula)."""
    a, b = zoom * np.cos(np.radians(angle)), zoom * np.sin(np.radians(angle))
    cx, cy = center
    rot = np.array([[a, b, (1 - a) * cx - b * cy], [-b, a, b * cx + (1 - a) * cy], [0, 0, 1]])
    return rot @ np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]])


def test_2d_conventions_match_deforums_warp_matrix():
    right_of_center = np.array([500.0, 200.0, 1.0])
    # translation_x > 0 shifts content right: the camera trucks left.
    assert (_deforum_2d_forward(0, 1, 3, 0) @ right_of_center)[0] > 500
    # translation_y > 0 shifts content down (y grows downwards): the camera rises.
    assert (_deforum_2d_forward(0, 1, 0, 3) @ right_of_center)[1] > 200
    # angle > 0 lifts a point right of the centre: content turns counter-clockwise on screen.
    assert (_deforum_2d_forward(5, 1, 0, 0) @ right_of_center)[1] < 200
    # zoom > 1 pushes points away from the centre: zoom in.
    assert (_deforum_2d_forward(0, 1.1, 0, 0) @ right_of_center)[0] > 500
    assert [a.positive for a in AXES_2D] == ["roll_clockwise", "zoom_in", "truck_left", "pedestal_up"]
    assert [a.positive for a in AXES_3D] == [
        "pan_right",
        "tilt_up",
        "roll_clockwise",
        "dolly_in",
        "truck_right",
        "pedestal_up",
    ]
