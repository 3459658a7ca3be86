"""Measuring joins: how much a clip boundary stands out, and how far the colour has drifted.

- `discontinuity_ratio` of a boundary: the flow-compensated difference between the frame before and
  the frame at the boundary, divided by the median of the same difference between consecutive
  frames inside clips. About 1 means the join looks like any other frame step.
- `delta_e`: CIEDE2000 between the mean CIELAB colour of the frame at the boundary and that of the
  anchor (the first frame unless given). The means make it a colour-drift measure that camera
  motion does not disturb.
Flow is OpenCV's DIS on half-size grey frames; CIEDE2000 is scikit-image's.
"""

from __future__ import annotations

import functools
import statistics
from collections.abc import Iterable, Sequence

import cv2
import numpy as np

FLOOR = 0.25  # grey levels: a near-static video's median step is noise; never divide by less


def _grey(frame: np.ndarray) -> np.ndarray:
    h, w = frame.shape[:2]
    return cv2.resize(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY), (max(16, w // 2), max(16, h // 2)),
                      interpolation=cv2.INTER_AREA)  # fmt: skip


def flow(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Dense flow on grey images: dst(x) ≈ src(x + flow(x))."""
    return _dis().calc(dst, src, None)


@functools.lru_cache(maxsize=1)
def _dis():
    return cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)


def warp(image: np.ndarray, field: np.ndarray) -> np.ndarray:
    """Sample `image` at x + field(x) (backward warp), edges replicated."""
    h, w = field.shape[:2]
    grid = np.indices((h, w), dtype=np.float32)
    map_x, map_y = grid[1] + field[..., 0], grid[0] + field[..., 1]
    return cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def step_difference(before: np.ndarray, after: np.ndarray) -> float:
    """Mean absolute grey difference after aligning `before` onto `after` with optical flow,
    ignoring a 5% border (where content enters the frame)."""
    a, b = _grey(before), _grey(after)
    aligned = warp(a, flow(a, b))
    h, w = b.shape
    my, mx = max(1, h // 20), max(1, w // 20)
    return float(np.abs(aligned.astype(np.float32) - b.astype(np.float32))[my:-my, mx:-mx].mean())


def mean_lab(frame: np.ndarray) -> np.ndarray:
    from skimage.color import rgb2lab

    small = cv2.resize(frame, (64, max(1, 64 * frame.shape[0] // frame.shape[1])), interpolation=cv2.INTER_AREA)
    return rgb2lab(small).reshape(-1, 3).mean(axis=0)


def delta_e(frame: np.ndarray, anchor_lab: np.ndarray) -> float:
    from skimage.color import deltaE_ciede2000

    return float(deltaE_ciede2000(mean_lab(frame)[None], anchor_lab[None])[0])


class SeamMeter:
    """Fed the output frames in order (as a render writes them); reports every boundary. During a
    render it measures every `sample`-th step inside clips for the median (the boundaries always),
    so measuring costs a fraction of a millisecond per frame."""

    def __init__(self, boundaries: Iterable[int], anchor: np.ndarray | None = None, sample: int = 1):
        self.boundaries = sorted(set(b for b in boundaries if b > 0))
        self.anchor_lab = mean_lab(anchor) if anchor is not None else None
        self.sample = max(1, sample)
        self.steps: dict[int, float] = {}  # steps[i]: frame i -> i + 1
        self.at_boundary: dict[int, float] = {}
        self._previous: np.ndarray | None = None
        self._index = 0

    def add(self, frame: np.ndarray) -> None:
        if self.anchor_lab is None:
            self.anchor_lab = mean_lab(frame)
        step = self._index - 1
        if self._previous is not None and (self._index in self.boundaries or step % self.sample == 0):
            self.steps[step] = step_difference(self._previous, frame)
        if self._index in self.boundaries:
            self.at_boundary[self._index] = delta_e(frame, self.anchor_lab)
        self._previous = frame
        self._index += 1

    def report(self) -> dict:
        inside = [d for i, d in self.steps.items() if i + 1 not in self.boundaries]
        median = statistics.median(inside) if inside else 0.0
        rows = [
            {
                "frame": b,
                "discontinuity_ratio": round(self.steps[b - 1] / max(median, FLOOR), 3),
                "delta_e": round(self.at_boundary[b], 3),
            }
            for b in self.boundaries
            if b - 1 in self.steps
        ]
        return {"boundaries": rows, "median_in_clip": round(median, 4)}


def measure(frames: Sequence[np.ndarray], boundaries: Iterable[int], anchor: np.ndarray | None = None) -> dict:
    meter = SeamMeter(boundaries, anchor)
    for frame in frames:
        meter.add(frame)
    return meter.report()
