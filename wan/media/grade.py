"""A finishing colour grade and sharpening for RGB uint8 frames (numpy and OpenCV, no torch).

Order: contrast, saturation, brightness, then the unsharp mask, so the sharpening sees the final
tones and its halos are not stretched again by the contrast. Values are worked in float32 on the
0-255 scale and rounded once at the end.

- contrast scales the distance from mid-grey (127.5), so mid-grey stays put and 1.0 is neutral;
- saturation mixes each pixel with its Rec.709 luma (0.2126 R + 0.7152 G + 0.0722 B): 0 gives
  grey at the pixel's own luma, above 1 pushes away from it. A luma mix rather than HSV keeps the
  luma of every pixel unchanged and has no hue seam, so it cannot flicker between frames;
- brightness adds a fraction of full scale (-1..1);
- sharpen adds `amount` x (frame - Gaussian blur of radius `sharpen_radius`): flat areas have no
  difference from their blur and stay exactly as they were.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import cv2
import numpy as np

from wan.media.errors import GradeError

__all__ = ["LUMA_709", "Grade", "GradeError", "apply_grade"]

LUMA_709 = np.array([0.2126, 0.7152, 0.0722], np.float32)
# (lowest, highest) allowed per field; None is unbounded.
LIMITS = {
    "contrast": (0.0, None),
    "saturation": (0.0, None),
    "brightness": (-1.0, 1.0),
    "sharpen": (0.0, None),
    "sharpen_radius": (0.1, 50.0),
}


@dataclass(frozen=True)
class Grade:
    contrast: float = 1.0
    saturation: float = 1.0
    brightness: float = 0.0
    sharpen: float = 0.0
    sharpen_radius: float = 1.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            low, high = LIMITS[f.name]
            if not np.isfinite(value) or value < low or (high is not None and value > high):
                allowed = f"{low}..{high}" if high is not None else f">= {low}"
                raise GradeError(f"{f.name} {value} is out of range", where="grade", hint=f"use {allowed}")

    def is_identity(self) -> bool:
        return self.contrast == 1.0 and self.saturation == 1.0 and self.brightness == 0.0 and self.sharpen == 0.0


def apply_grade(frame: np.ndarray, grade: Grade) -> np.ndarray:
    """The graded (H, W, 3) uint8 RGB frame; an identity grade returns `frame` itself, untouched."""
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) uint8 frame, got {frame.shape} {frame.dtype}")
    if grade.is_identity():
        return frame
    x = frame.astype(np.float32)
    if grade.contrast != 1.0:
        x = (x - 127.5) * grade.contrast + 127.5
    if grade.saturation != 1.0:
        luma = (x @ LUMA_709)[..., None]
        x = luma + (x - luma) * grade.saturation
    if grade.brightness != 0.0:
        x = x + grade.brightness * 255.0
    if grade.sharpen != 0.0:
        # Blur the unclipped values: clipping first would turn a graded-away highlight into an edge.
        blur = cv2.GaussianBlur(x, (0, 0), sigmaX=grade.sharpen_radius, borderType=cv2.BORDER_REFLECT)
        x = x + grade.sharpen * (x - blur)
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)
