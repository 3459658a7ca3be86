"""The camera guide: a start picture moved by the Deforum camera, one frame per model frame.

2D warps the picture with Deforum's own matrices, composed from the start time (one resample per
frame, so nothing blurs by repetition). 3D moves every pixel as Deforum's 3D warp does
(movement/camera.py), each pixel with its own depth from a depth map (1 everywhere without one):
the tracker follows where each source pixel has gone, step by step at the model frames' times,
and each guide frame samples the source backward through that map, inverted by a fixed-point
Newton iteration started from the closest similarity. A guide pixel is valid when its source lies inside
the picture and the inversion agrees with the forward map (not a disocclusion or a fold); the
mask of valid pixels goes with the frames. The preview and the WAN engine both draw with this.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from movement.camera import CameraPath, fit_similarity

INVERT_ITERATIONS = 3
AGREE_PX = 0.75  # forward and backward maps must agree this closely for a pixel to count as valid
BORDERS = {"replicate": cv2.BORDER_REPLICATE, "wrap": cv2.BORDER_WRAP, "constant": cv2.BORDER_CONSTANT}


@dataclass
class Guide:
    frames: list[np.ndarray]  # uint8 RGB, the plan's frame size
    valid: list[np.ndarray]  # bool HxW: where the frame shows the start picture


class CameraTracker:
    """The start picture at time `t_start` (Deforum frames, fractional), moved forward in time.
    `source` may be larger than the frame (drawn at `supersample` times the size, for sharp zooms)."""

    def __init__(self, path: CameraPath, source: np.ndarray, t_start: float, depth: np.ndarray | None = None,
                 border: str = "replicate", supersample: int = 1) -> None:  # fmt: skip
        self.path, self.source, self.time = path, source, float(t_start)
        self.border = BORDERS.get(border, cv2.BORDER_REPLICATE)
        self.w, self.h = path.width, path.height
        self.down = np.diag([1.0 / supersample, 1.0 / supersample, 1.0])
        self.matrix = np.eye(3)  # 2D: the composed map from the start picture to now
        self.points = None  # 3D: where each source pixel (frame size) is now, (h, w, 2) float32
        if path.mode == "3D":
            gx, gy = np.meshgrid(np.arange(self.w, dtype=np.float64), np.arange(self.h, dtype=np.float64))
            self.grid = np.stack([gx, gy], axis=-1)
            self.points = self.grid.copy()
            z = np.ones((self.h, self.w)) if depth is None else np.asarray(depth, dtype=np.float64)
            if z.shape != (self.h, self.w):
                z = cv2.resize(z, (self.w, self.h), interpolation=cv2.INTER_LINEAR)
            self.depth = z
            small = source if supersample == 1 else cv2.resize(source, (self.w, self.h), interpolation=cv2.INTER_AREA)
            self.frame_source = small

    def copy(self) -> CameraTracker:
        other = object.__new__(CameraTracker)
        other.__dict__.update(self.__dict__)
        if self.points is not None:
            other.points = self.points.copy()
        return other

    def advance(self, t: float) -> None:
        """Move the camera on to time t (never back: a guide runs forward from its start)."""
        for f, a in self.path.segments(self.time, t):
            if self.points is None:
                self.matrix = self.path.step(f, a) @ self.matrix
                self.matrix /= self.matrix[2, 2]
            else:
                p = self.points
                p += self.path.offsets_3d(f, a, p[..., 0], p[..., 1], self.depth)
        self.time = max(self.time, float(t))

    def frame(self) -> tuple[np.ndarray, np.ndarray]:
        """The picture now and its valid pixels."""
        size = (self.w, self.h)
        if self.points is None:
            m = self.matrix @ self.down
            image = cv2.warpPerspective(self.source, m, size, flags=cv2.INTER_LINEAR, borderMode=self.border)
            inside = cv2.warpPerspective(np.ones(self.source.shape[:2], np.uint8), m, size, flags=cv2.INTER_NEAREST,
                                         borderMode=cv2.BORDER_CONSTANT, borderValue=0)  # fmt: skip
            return image, inside.astype(bool)
        back, agree = self._inverse()
        maps = back.astype(np.float32)
        image = cv2.remap(self.frame_source, maps[..., 0], maps[..., 1], cv2.INTER_LINEAR, borderMode=self.border)
        inside = (back[..., 0] >= -0.5) & (back[..., 0] <= self.w - 0.5) & (back[..., 1] >= -0.5)
        inside &= back[..., 1] <= self.h - 0.5
        return image, inside & agree

    def _inverse(self) -> tuple[np.ndarray, np.ndarray]:
        """For every frame pixel d, the source position s with points(s) = d: Newton's method
        with the forward map's own Jacobian, started from the closest similarity."""
        step = 8
        sim = fit_similarity(self.grid[::step, ::step].reshape(-1, 2), self.points[::step, ::step].reshape(-1, 2))
        inv = np.linalg.inv(sim)
        d = self.grid.astype(np.float32)
        s = (self.grid @ inv[:2, :2].T + inv[:2, 2]).astype(np.float32)
        forward = self.points.astype(np.float32)
        gy, gx = np.gradient(forward, axis=(0, 1))  # d points / d row, d points / d column
        a, b, c, e = gx[..., 0], gy[..., 0], gx[..., 1], gy[..., 1]  # J = [[a, b], [c, e]]
        det = a * e - b * c
        det = np.where(np.abs(det) < 1e-6, 1e-6, det)
        jinv = np.stack([e / det, -b / det, -c / det, a / det], axis=-1).astype(np.float32)
        for _ in range(INVERT_ITERATIONS):
            f = cv2.remap(forward, s[..., 0], s[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            j = cv2.remap(jinv, s[..., 0], s[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            r = d - f
            s = s + np.stack([j[..., 0] * r[..., 0] + j[..., 1] * r[..., 1],
                              j[..., 2] * r[..., 0] + j[..., 3] * r[..., 1]], axis=-1)  # fmt: skip
        f = cv2.remap(forward, s[..., 0], s[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        return s, np.hypot(f[..., 0] - d[..., 0], f[..., 1] - d[..., 1]) < AGREE_PX


def render_guide(path: CameraPath, start: np.ndarray, t_start: float, times, depth: np.ndarray | None = None,
                 border: str = "replicate") -> Guide:  # fmt: skip
    """Guide frames at `times` (non-decreasing, Deforum frames) from `start`, the picture at t_start."""
    tracker = CameraTracker(path, start, t_start, depth, border)
    frames, valid = [], []
    for t in times:
        tracker.advance(t)
        image, ok = tracker.frame()
        frames.append(image)
        valid.append(ok)
    return Guide(frames, valid)


def model_times(start_frame: int, overlap: int, count: int, fps_out: float, fps_model: float) -> list[float]:
    """Deforum time (fractional output frames) of a clip's model frames 0..count-1."""
    return [start_frame + (k - overlap) * fps_out / fps_model for k in range(count)]
