"""Camera movement analysis: per-frame increments -> structured movements over frame ranges.

Deforum's motion keys are increments applied to the previous frame, so a constant non-zero
value is a steady move. Rates are converted to physical units per second so the same move at
15 and 60 fps gets the same words. Directions follow Deforum's warp code (docs/movement.md):

2D: angle>0 turns the image counter-clockwise (camera rolls clockwise); zoom>1 zooms in;
    translation_x>0 shifts the image right (camera trucks left); translation_y>0 shifts it down
    (camera rises).
3D: rotation_3d_x>0 tilts up, rotation_3d_y>0 pans right, rotation_3d_z>0 rolls clockwise,
    translation_x>0 trucks right, translation_y>0 rises, translation_z>0 dollies in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import SettingsError
from .series import Schedules
from .vocabulary import DURATIONS, INTENSITIES, Movement
from .wording import describe_en, describe_zh

# Seconds of movement below which it is "brief", and from which it is "sustained".
BRIEF_S, SUSTAINED_S = 1.5, 4.0
# A direction that carries less than this share of an axis's travel in a range is noise.
MIN_SHARE = 0.25
# Runs shorter than this many seconds are merged into a neighbour by auto segmentation.
MIN_SEGMENT_S = 0.5
# Below a thousandth of the "gentle" rate a value is rounding noise (e.g. sin(2*3.14159)),
# not a move; anything above it, however small and steady, is a move.
STATIC_FRACTION = 1e-3


@dataclass(frozen=True)
class Axis:
    name: str
    positive: str  # movement type when the rate is positive
    negative: str
    unit: str
    thresholds: tuple[float, float, float]  # gentle, moderate, strong start here


ROTATION = (3.0, 10.0, 25.0)  # deg/s
SCALE = (2.0, 6.0, 15.0)  # % of the frame per second
DEPTH = (5.0, 20.0, 60.0)  # Deforum 3D translation units per second

AXES_2D = (
    Axis("roll", "roll_clockwise", "roll_counterclockwise", "deg/s", ROTATION),
    Axis("zoom", "zoom_in", "zoom_out", "%/s", SCALE),
    Axis("truck", "truck_left", "truck_right", "%w/s", SCALE),
    Axis("pedestal", "pedestal_up", "pedestal_down", "%h/s", SCALE),
)
AXES_3D = (
    Axis("pan", "pan_right", "pan_left", "deg/s", ROTATION),
    Axis("tilt", "tilt_up", "tilt_down", "deg/s", ROTATION),
    Axis("roll", "roll_clockwise", "roll_counterclockwise", "deg/s", ROTATION),
    Axis("dolly", "dolly_in", "dolly_out", "units/s", DEPTH),
    Axis("truck", "truck_right", "truck_left", "units/s", DEPTH),
    Axis("pedestal", "pedestal_up", "pedestal_down", "units/s", DEPTH),
)
MOTION_INPUTS_2D = ("angle", "zoom", "translation_x", "translation_y")
MOTION_INPUTS_3D = (
    "rotation_3d_x",
    "rotation_3d_y",
    "rotation_3d_z",
    "translation_x",
    "translation_y",
    "translation_z",
)


@dataclass(frozen=True, eq=False)
class CameraRates:
    """Signed physical rate per axis and frame; positive means the axis's `positive` move."""

    fps: float
    max_frames: int
    axes: tuple[Axis, ...]
    rates: tuple[np.ndarray, ...]


@dataclass(frozen=True)
class Segment:
    start_frame: int
    end_frame: int  # exclusive
    movements: tuple[Movement, ...]
    motion_strength: float
    description_en: str
    description_zh: str

    def description(self, lang: str = "en") -> str:
        return self.description_zh if lang == "zh" else self.description_en


@dataclass(frozen=True)
class MovementAnalysis:
    fps: float
    max_frames: int
    animation_mode: str
    segments: tuple[Segment, ...]


def motion_inputs(animation_mode: str) -> tuple[str, ...]:
    return {"2D": MOTION_INPUTS_2D, "3D": MOTION_INPUTS_3D}.get(animation_mode, ())


def camera_rates(schedules: Schedules) -> CameraRates:
    fps, mode = schedules.fps, schedules.animation_mode
    if mode == "2D":
        zoom = schedules["zoom"]
        bad = np.flatnonzero(zoom <= 0)
        if bad.size:
            raise SettingsError(
                f"zoom must stay above 0 (it is {zoom[bad[0]]:g})",
                key="zoom",
                frame=int(bad[0]),
                hint="1.0 is no zoom, 1.01 zooms in 1% per frame",
            )
        rates = (
            schedules["angle"] * fps,
            np.log(zoom) * fps * 100.0,
            schedules["translation_x"] * fps * 100.0 / schedules.width,
            schedules["translation_y"] * fps * 100.0 / schedules.height,
        )
        axes = AXES_2D
    elif mode == "3D":
        rates = (
            schedules["rotation_3d_y"] * fps,
            schedules["rotation_3d_x"] * fps,
            schedules["rotation_3d_z"] * fps,
            schedules["translation_z"] * fps,
            schedules["translation_x"] * fps,
            schedules["translation_y"] * fps,
        )
        axes = AXES_3D
    else:
        # Video Input / Interpolation / None apply no camera warp.
        rates, axes = (), ()
    return CameraRates(fps, schedules.max_frames, axes, tuple(np.asarray(r, np.float64) for r in rates))


def classify(value: float, thresholds: tuple[float, float, float]) -> str:
    level = int(np.searchsorted(np.asarray(thresholds), value, side="right"))
    return INTENSITIES[level]


def classify_duration(seconds: float) -> str:
    if seconds < BRIEF_S:
        return DURATIONS[0]
    return DURATIONS[1] if seconds < SUSTAINED_S else DURATIONS[2]


def describe_range(rates: CameraRates, start: int, end: int) -> Segment:
    """Structured movements and wording for frames [start, end)."""

    if not 0 <= start < end <= rates.max_frames:
        raise ValueError(f"range [{start}, {end}) outside 0..{rates.max_frames}")
    length = end - start
    scored: list[tuple[float, Movement, str]] = []
    strength_parts: list[float] = []
    for axis, rate in zip(rates.axes, rates.rates):
        window = rate[start:end]
        eps = axis.thresholds[0] * STATIC_FRACTION
        travel = {+1: float(np.sum(window[window > eps])), -1: float(-np.sum(window[window < -eps]))}
        total = travel[+1] + travel[-1]
        if total <= 0:
            continue
        for sign, kind in ((+1, axis.positive), (-1, axis.negative)):
            moving = window > eps if sign > 0 else window < -eps
            count = int(moving.sum())
            if count == 0 or travel[sign] < MIN_SHARE * total:
                continue
            magnitude = travel[sign] / count
            movement = Movement(
                type=kind,
                intensity=classify(magnitude, axis.thresholds),
                duration=classify_duration(count / rates.fps),
                rate=round(magnitude, 6),
                unit=axis.unit,
                frames=count,
            )
            share = count / length
            strength_parts.append(min(1.0, magnitude / (2 * axis.thresholds[2])) * share)
            scored.append((magnitude / axis.thresholds[2] * share, movement, axis.name))
    scored.sort(key=lambda item: -item[0])
    movements = tuple(m for _, m, _ in scored)
    strength = 1.0 - float(np.prod([1.0 - p for p in strength_parts])) if strength_parts else 0.0
    if not movements:
        movements = (Movement("static", "subtle", classify_duration(length / rates.fps), 0.0, "", length),)
    axis_of = tuple(name for _, _, name in scored)
    return Segment(
        start_frame=start,
        end_frame=end,
        movements=movements,
        motion_strength=round(strength, 4),
        description_en=describe_en(movements, axis_of),
        description_zh=describe_zh(movements, axis_of),
    )


def auto_ranges(rates: CameraRates) -> tuple[tuple[int, int], ...]:
    """Split the timeline where the set of moving directions changes.

    Intensity changes inside a direction (a ramp) do not split: the segment's words use its
    mean rate. Runs shorter than MIN_SEGMENT_S join the run before them (the first joins the next).
    """
    n = rates.max_frames
    moving = [
        (np.abs(rate) > axis.thresholds[0] * STATIC_FRACTION) * np.sign(rate).astype(np.int8)
        for axis, rate in zip(rates.axes, rates.rates)
    ]
    signature = np.stack(moving, axis=1) if moving else np.zeros((n, 0), np.int8)
    changes = [0, *(np.flatnonzero(np.any(signature[1:] != signature[:-1], axis=1)) + 1).tolist(), n]
    runs = [[a, b] for a, b in zip(changes[:-1], changes[1:])]
    min_len = max(1, round(MIN_SEGMENT_S * rates.fps))
    merged: list[list[int]] = []
    for run in runs:
        if merged and (run[1] - run[0] < min_len or (merged[-1][1] - merged[-1][0] < min_len and len(merged) == 1)):
            merged[-1][1] = run[1]
        else:
            merged.append(list(run))
    return tuple((a, b) for a, b in merged)


def analyze(schedules: Schedules, ranges: tuple[tuple[int, int], ...] | None = None) -> MovementAnalysis:
    """Describe the given frame ranges (default: automatic segments of the whole timeline)."""
    rates = camera_rates(schedules)
    spans = auto_ranges(rates) if ranges is None else ranges
    return MovementAnalysis(
        fps=schedules.fps,
        max_frames=schedules.max_frames,
        animation_mode=schedules.animation_mode,
        segments=tuple(describe_range(rates, a, b) for a, b in spans),
    )


def fixed_ranges(max_frames: int, size: int) -> tuple[tuple[int, int], ...]:
    if size < 1:
        raise ValueError("range size must be at least 1 frame")
    return tuple((a, min(a + size, max_frames)) for a in range(0, max_frames, size))
