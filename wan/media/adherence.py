"""Camera adherence: does a video move the way the Deforum schedule says?

For each step (frame i-1 -> frame i) the meter fits the image motion of the video with a similarity
(shift, turn, scale) and compares it with the schedule's step (`movement.camera.CameraPath.steps`),
both reduced to four components by `movement.camera.components`: x and y (how the frame's centre
moves, in pixels), scale (log of the scale change) and roll (degrees). Over the steps, per component:

- `gain`: least-squares slope of measured on scheduled through the origin, sum(m*s) / sum(s*s).
  0 for a static video, 1 for one that moves exactly as scheduled, 0.5 for one that moves half as far.
- `correlation`: Pearson's r of the two per-step series (does the motion change when the schedule
  does). None when either series is constant.
- `scheduled` / `measured`: total absolute motion of each.
A component the schedule barely moves is "not scheduled": gain and correlation are None then.

The image motion is DIS optical flow on grey frames at a working width of at most 320 px, checked
forward-backward and kept only where the picture has texture, then fitted with RANSAC
(`cv2.estimateAffinePartial2D`). OpenCV and numpy only.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import cv2
import numpy as np

from movement.camera import CameraPath, components
from movement.settings import DeforumSettings
from wan.media.errors import MediaError

WORK_WIDTH = 320  # flow is computed at this width at most
BORDER = 0.08  # fraction of each side left out (content enters and leaves there)
GRID = 6  # working pixels between sampled points
FB_TOLERANCE = 0.5  # working pixels (plus 5% of the flow) a forward-backward round trip may miss by
MIN_TEXTURE = 0.1  # smallest eigenvalue of the 7x7 structure tensor (grey levels²/px²): flat areas are left out
RANSAC_THRESHOLD = 1.0  # working pixels
MIN_POINTS = 12  # fewer inliers than this: the step is unmeasured

COMPONENTS = ("x", "y", "scale", "roll")
UNITS = {"x": "px", "y": "px", "scale": "log", "roll": "deg"}
# Total scheduled motion below which a component counts as not scheduled.
# A component moving less than this per step on average is below what flow resolves (about a
# tenth of a pixel): its gain would be noise, so it is reported as not scheduled.
NOT_SCHEDULED = {"x": 0.1, "y": 0.1, "scale": 0.0005, "roll": 0.02}


@functools.lru_cache(maxsize=1)
def _dis():
    return cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)


def _work_grey(frame: np.ndarray) -> np.ndarray:
    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY) if frame.ndim == 3 else frame
    h, w = grey.shape
    if w <= WORK_WIDTH:
        return grey
    size = (WORK_WIDTH, max(16, round(h * WORK_WIDTH / w)))
    return cv2.resize(grey, size, interpolation=cv2.INTER_AREA)


def _texture(grey: np.ndarray) -> np.ndarray:
    """Smallest eigenvalue of the structure tensor over 7x7 windows: where flow is constrained."""
    g = grey.astype(np.float32)
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3) / 8.0
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3) / 8.0
    xx = cv2.boxFilter(gx * gx, -1, (7, 7))
    yy = cv2.boxFilter(gy * gy, -1, (7, 7))
    xy = cv2.boxFilter(gx * gy, -1, (7, 7))
    return (xx + yy) / 2.0 - np.sqrt(((xx - yy) / 2.0) ** 2 + xy * xy)


def _correspondences(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reliable point pairs (in working pixels): where a grid point of grey frame `b` came from in `a`."""
    dis = _dis()
    back = dis.calc(b, a, None)  # b(x) ≈ a(x + back(x))
    fwd = dis.calc(a, b, None)  # a(x) ≈ b(x + fwd(x))
    h, w = b.shape
    my, mx = max(2, round(h * BORDER)), max(2, round(w * BORDER))
    ys, xs = np.mgrid[my : h - my : GRID, mx : w - mx : GRID]
    xs, ys = xs.ravel(), ys.ravel()
    d = back[ys, xs]
    src = np.column_stack([xs + d[:, 0], ys + d[:, 1]]).astype(np.float32)
    inside = (src[:, 0] >= 0) & (src[:, 0] <= w - 1) & (src[:, 1] >= 0) & (src[:, 1] <= h - 1)
    # forward flow at the source point should lead back to the grid point
    rx, ry = np.clip(np.rint(src[:, 0]), 0, w - 1).astype(int), np.clip(np.rint(src[:, 1]), 0, h - 1).astype(int)
    miss = np.hypot(d[:, 0] + fwd[ry, rx, 0], d[:, 1] + fwd[ry, rx, 1])
    consistent = miss <= FB_TOLERANCE + 0.05 * np.hypot(d[:, 0], d[:, 1])
    textured = _texture(b)[ys, xs] >= MIN_TEXTURE
    keep = inside & consistent & textured
    dst = np.column_stack([xs, ys]).astype(np.float32)
    return src[keep], dst[keep]


def fit_step(prev: np.ndarray, cur: np.ndarray) -> tuple[np.ndarray | None, int]:
    """The similarity taking frame `prev` to frame `cur` (3x3, in the frames' pixels) and the number
    of points that agree with it; None when fewer than MIN_POINTS do."""
    if prev.shape != cur.shape:
        raise MediaError(f"frame sizes differ: {prev.shape[1]}x{prev.shape[0]} then {cur.shape[1]}x{cur.shape[0]}")
    a, b = _work_grey(prev), _work_grey(cur)
    src, dst = _correspondences(a, b)
    if len(src) < MIN_POINTS:
        return None, len(src)
    m, inliers = cv2.estimateAffinePartial2D(
        src, dst, method=cv2.RANSAC, ransacReprojThreshold=RANSAC_THRESHOLD, maxIters=2000, confidence=0.995
    )
    count = int(inliers.sum()) if inliers is not None else 0
    if m is None or count < MIN_POINTS:
        return None, count
    h, w = prev.shape[:2]
    to_frame = np.diag([w / a.shape[1], h / a.shape[0], 1.0])
    step = to_frame @ np.vstack([m, [0.0, 0.0, 1.0]]) @ np.linalg.inv(to_frame)
    return step, count


def measure_step(prev: np.ndarray, cur: np.ndarray) -> np.ndarray:
    """The image motion from `prev` to `cur` (RGB uint8) as a 3x3 similarity in the frames' pixels:
    a point at p in `prev` shows at step @ p in `cur`. The identity when it cannot be measured."""
    step, _ = fit_step(prev, cur)
    return np.eye(3) if step is None else step


def _r(value: float) -> float:
    return round(float(value), 4)


def _pearson(a: np.ndarray, b: np.ndarray) -> float | None:
    if len(a) < 2:
        return None
    da, db = a - a.mean(), b - b.mean()
    na, nb = math.sqrt(float(da @ da)), math.sqrt(float(db @ db))
    if na <= 1e-9 * (1.0 + float(np.abs(a).max())) or nb <= 1e-9 * (1.0 + float(np.abs(b).max())):
        return None
    return float(da @ db) / (na * nb)


def compare(scheduled: np.ndarray, measured: np.ndarray) -> dict[str, dict[str, Any]]:
    """Per component, the figures of two (steps, 4) series of (x, y, scale, roll)."""
    out: dict[str, dict[str, Any]] = {}
    for k, name in enumerate(COMPONENTS):
        s = scheduled[:, k] if len(scheduled) else np.zeros(0)
        m = measured[:, k] if len(measured) else np.zeros(0)
        total_s, total_m = float(np.abs(s).sum()), float(np.abs(m).sum())
        row: dict[str, Any] = {"correlation": None, "gain": None, "scheduled": _r(total_s), "measured": _r(total_m)}
        if total_s < NOT_SCHEDULED[name] * max(len(s), 1):
            row["note"] = "not scheduled"
        else:
            gain = float(m @ s) / float(s @ s)
            corr = _pearson(s, m)
            row["gain"] = _r(gain)
            row["correlation"] = None if corr is None else _r(corr)
        row["unit"] = UNITS[name]
        out[name] = row
    return out


class AdherenceMeter:
    """Fed a video's frames in order; compares each step's image motion with the schedule's.

    `expected_steps[i]` (or `expected_steps(i)`) is the scheduled 3x3 map from frame i-1 to frame i in
    pixels of `width` x `height` (`CameraPath(...).steps()`); frames of another size are measured in
    their own pixels and rescaled. Every `sample`-th step is measured (steps 1, 1 + sample, ...);
    steps in `skip`, or added with `measure=False`, are not (a cut, a clip boundary of a guide).
    Only the previous frame is kept."""

    def __init__(
        self,
        expected_steps: Sequence[np.ndarray] | Callable[[int], np.ndarray],
        width: int,
        height: int,
        sample: int = 1,
        skip: Iterable[int] = (),
    ) -> None:
        self.expected = expected_steps
        self.width, self.height = int(width), int(height)
        self.sample = max(1, int(sample))
        self.skip = set(skip)
        self.scheduled: list[tuple[float, float, float, float]] = []
        self.measured: list[tuple[float, float, float, float]] = []
        self.measured_steps: list[int] = []
        self.unmeasured = 0
        self._previous: np.ndarray | None = None
        self._index = 0

    def _expected(self, i: int) -> np.ndarray:
        if callable(self.expected):
            return np.asarray(self.expected(i), dtype=np.float64)
        if i >= len(self.expected):
            raise MediaError(
                f"frame {i} has no scheduled step: the schedule has {len(self.expected)} frames",
                hint="feed as many frames as the settings' max_frames",
            )
        return np.asarray(self.expected[i], dtype=np.float64)

    def add(self, frame: np.ndarray, measure: bool = True) -> None:
        i = self._index
        if self._previous is not None and measure and i not in self.skip and (i - 1) % self.sample == 0:
            expected = self._expected(i)
            step, _ = fit_step(self._previous, frame)
            if step is None:
                self.unmeasured += 1
            else:
                h, w = frame.shape[:2]
                if (w, h) != (self.width, self.height):
                    to_meter = np.diag([self.width / w, self.height / h, 1.0])
                    step = to_meter @ step @ np.linalg.inv(to_meter)
                self.scheduled.append(components(expected, self.width, self.height))
                self.measured.append(components(step, self.width, self.height))
                self.measured_steps.append(i)
        self._previous = frame
        self._index += 1

    @property
    def frames(self) -> int:
        return self._index

    def report(self) -> dict[str, Any]:
        out: dict[str, Any] = compare(np.array(self.scheduled), np.array(self.measured))
        out["steps"] = len(self.measured)
        out["unmeasured"] = self.unmeasured
        out["width"], out["height"] = self.width, self.height
        return out


def _camera_keys(mode: str) -> tuple[str, ...]:
    from movement.motion import motion_inputs

    return (*motion_inputs(mode), "transform_center_x", "transform_center_y", "fov_schedule")


def adherence_of_video(
    path: str | os.PathLike[str],
    settings: DeforumSettings | str | os.PathLike[str],
    width: int | None = None,
    height: int | None = None,
    sample: int = 1,
) -> dict[str, Any]:
    """Adherence of a video file to the settings' camera: frame i of the video is Deforum frame i, so
    the video must have exactly max_frames frames. Figures in pixels of `width` x `height` (default:
    the video's size)."""
    from movement import build_schedules, load_settings

    name = os.fspath(path)
    if not os.path.isfile(name):
        raise MediaError("video not found", where=name, hint="check the path")
    if not isinstance(settings, DeforumSettings):
        settings = load_settings(settings)
    # OpenCV forwards ffmpeg's own log lines to stderr; the typed errors below say what went wrong.
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    cap = cv2.VideoCapture(name)
    try:
        ok, bgr = cap.read() if cap.isOpened() else (False, None)
        if not ok or bgr is None:
            raise MediaError("cannot read the video (no frames or not a video file)", where=name)
        vh, vw = bgr.shape[:2]
        width, height = width or vw, height or vh
        schedules = build_schedules(settings, keys=_camera_keys(settings.animation_mode))
        steps = CameraPath(schedules, width, height).steps()
        meter = AdherenceMeter(steps, width, height, sample=sample)
        count = 0
        while ok:
            if count < len(steps):
                meter.add(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            count += 1
            if count < len(steps):
                ok, bgr = cap.read()
            else:  # past the schedule: only count the rest
                ok = cap.grab()
    finally:
        cap.release()
    if count != settings.max_frames:
        raise MediaError(
            f"the video has {count} frames, the settings have max_frames {settings.max_frames}",
            where=name,
            hint=f"measure the video made from {os.path.basename(settings.source) or 'these settings'}",
        )
    return meter.report()
