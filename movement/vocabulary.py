"""The fixed camera-movement vocabulary (DESIGN.md): movement types, intensities, durations, and
one structured movement. Analysis (motion.py) produces these; wording.py turns them into phrases."""

from __future__ import annotations

from dataclasses import dataclass

INTENSITIES = ("subtle", "gentle", "moderate", "strong")
DURATIONS = ("brief", "extended", "sustained")
MOVEMENT_TYPES = (
    "static",
    "pan_left",
    "pan_right",
    "tilt_up",
    "tilt_down",
    "roll_clockwise",
    "roll_counterclockwise",
    "dolly_in",
    "dolly_out",
    "truck_left",
    "truck_right",
    "pedestal_up",
    "pedestal_down",
    "zoom_in",
    "zoom_out",
)


@dataclass(frozen=True)
class Movement:
    type: str
    intensity: str
    duration: str
    rate: float  # mean magnitude over the frames that move this way
    unit: str
    frames: int  # frames of the range that move this way
