"""Deforum's camera as image motion: where the content of one moment sits at a later one.

Deforum warps frame f-1 by frame f's values to start frame f (frame 0 is not warped). A `CameraPath`
answers that at any frame size and at fractional times: a WAN clip runs at 16 or 24 fps while the
film runs at the settings' fps, so its frames fall between Deforum's. A fraction `a` of frame f's
step is the step's a-th power: the same steady motion run for that share of the frame, so the
pieces compose to the whole step (exactly for the similarities; the 3D pixel warp scales each
value by `a`: angles, translations).

2D is exact: step = getRotationMatrix2D(center, angle, zoom) @ translate(tx, ty), as Deforum builds
it, in the settings' pixels; at another frame size it is conjugated by the scale.

3D follows Deforum's `transform_image_3d_new`: every pixel is a point (x, y, z) with x, y its
position in [-1, 1] (linspace over the width and height) and z its depth (1 without a depth map);
the new camera sees it at X' = R^T X + T, R = euler_xyz(rx, ry, rz), T = (-tx, ty, -tz) / 200,
projected by a field-of-view camera (x / (z tan(fov/2))); the pixel moves by the difference of the
two projections, in grid units (half the frame's height per unit). One deliberate difference: our
pixels are square (x spans -w/h..w/h). Deforum's default aspect of 1 spans -1..1 on both axes,
so on a wide frame its rolls squash the picture and its sideways moves run w/h times faster than
its vertical ones; here a roll turns the picture and 1 unit moves as far either way. The
offsets are in units of the frame, so they scale with the frame size (the preview once applied
settings-size pixels at the plan's size, 1.9x too fast at half size).
"""

from __future__ import annotations

import math

import numpy as np

from .series import Schedules

TRANSLATION_SCALE = 1.0 / 200.0
DEFAULT_FOV = 70.0


def matrix_2d(angle: float, zoom: float, tx: float, ty: float, cx: float, cy: float) -> np.ndarray:
    a = zoom * np.cos(np.radians(angle))
    b = zoom * np.sin(np.radians(angle))
    rot = np.array([[a, b, (1 - a) * cx - b * cy], [-b, a, b * cx + (1 - a) * cy], [0.0, 0.0, 1.0]])
    return rot @ np.array([[1.0, 0.0, tx], [0.0, 1.0, ty], [0.0, 0.0, 1.0]])


def euler_xyz(rx: float, ry: float, rz: float) -> np.ndarray:
    """pytorch3d's euler_angles_to_matrix(..., "XYZ") (radians), which Deforum uses."""
    cx_, sx = np.cos(rx), np.sin(rx)
    cy_, sy = np.cos(ry), np.sin(ry)
    cz, sz = np.cos(rz), np.sin(rz)
    rot_x = np.array([[1, 0, 0], [0, cx_, -sx], [0, sx, cx_]])
    rot_y = np.array([[cy_, 0, sy], [0, 1, 0], [-sy, 0, cy_]])
    rot_z = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return rot_x @ rot_y @ rot_z


def fit_similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity (shift, turn, scale) taking points src (N, 2) to dst (N, 2)."""
    n = len(src)
    a = np.zeros((2 * n, 4))
    a[0::2] = np.column_stack([src[:, 0], -src[:, 1], np.ones(n), np.zeros(n)])
    a[1::2] = np.column_stack([src[:, 1], src[:, 0], np.zeros(n), np.ones(n)])
    (p, q, tx, ty), *_ = np.linalg.lstsq(a, dst.reshape(-1), rcond=None)
    return np.array([[p, -q, tx], [q, p, ty], [0.0, 0.0, 1.0]])


def similarity_power(m: np.ndarray, a: float) -> np.ndarray:
    """m**a for a similarity m: the move a times as far along the same steady motion (scale z and
    turn t become z**a and a*t about the same fixed point), so fractions of a step compose exactly."""
    if a == 1.0:
        return m.copy()
    lin, t = m[:2, :2], m[:2, 2]
    scale = math.sqrt(abs(np.linalg.det(lin)))
    angle = math.atan2(lin[1, 0], lin[0, 0])
    c, s = scale**a * math.cos(a * angle), scale**a * math.sin(a * angle)
    lin_a = np.array([[c, -s], [s, c]])
    eye = np.eye(2)
    if np.allclose(lin, eye, atol=1e-12):
        t_a = a * t
    else:  # the fixed point p = (I - lin)^-1 t stays put: t_a = (I - lin_a) p
        t_a = (eye - lin_a) @ np.linalg.solve(eye - lin, t)
    out = np.eye(3)
    out[:2, :2], out[:2, 2] = lin_a, t_a
    return out


def components(step: np.ndarray, width: int, height: int) -> tuple[float, float, float, float]:
    """(x, y, log scale, roll in degrees) of a step: how it moves the frame's centre, how much it
    scales and turns there. The meter compares these between the schedule and a video."""
    cx, cy = width / 2.0, height / 2.0
    q = step @ np.array([cx, cy, 1.0])
    jac = (step[:2, :2] - np.outer(q[:2] / q[2], step[2, :2])) / q[2]
    scale = math.sqrt(abs(np.linalg.det(jac)))
    roll = math.degrees(math.atan2(jac[1, 0] - jac[0, 1], jac[0, 0] + jac[1, 1]))
    return q[0] / q[2] - cx, q[1] / q[2] - cy, math.log(max(scale, 1e-9)), roll


class CameraPath:
    """The settings' camera at a frame size (default: the settings' own)."""

    def __init__(self, schedules: Schedules, width: int | None = None, height: int | None = None) -> None:
        self.schedules = schedules
        self.mode = schedules.animation_mode
        self.width = width or schedules.width
        self.height = height or schedules.height
        self.max_frames = schedules.max_frames
        s = np.diag([self.width / schedules.width, self.height / schedules.height, 1.0])
        self._to_size, self._from_size = s, np.linalg.inv(s)

    def _value(self, key: str, f: int, default: float = 0.0) -> float:
        series = self.schedules.series.get(key)
        return float(series[f]) if series is not None else default

    def step_2d(self, f: int, a: float = 1.0) -> np.ndarray:
        """Fraction `a` of frame f's 2D warp, in pixels of this path's size."""
        v = self._value
        w, h = self.schedules.width, self.schedules.height
        m = matrix_2d(v("angle", f), max(v("zoom", f, 1.0), 1e-9), v("translation_x", f), v("translation_y", f),
                      w * v("transform_center_x", f, 0.5), h * v("transform_center_y", f, 0.5))  # fmt: skip
        return self._to_size @ similarity_power(m, a) @ self._from_size

    def offsets_3d(self, f: int, a: float, px: np.ndarray, py: np.ndarray, z: np.ndarray | float) -> np.ndarray:
        """Fraction `a` of frame f's 3D warp: how far (dx, dy, in pixels) the content at pixel
        positions (px, py) with depth z moves. Returns an array shaped (..., 2)."""
        v = self._value
        w, h = self.width, self.height
        rot = euler_xyz(*np.radians([v("rotation_3d_x", f) * a, v("rotation_3d_y", f) * a, v("rotation_3d_z", f) * a]))
        t = np.array([-v("translation_x", f), v("translation_y", f), -v("translation_z", f)]) * a * TRANSLATION_SCALE
        tan = math.tan(math.radians(v("fov_schedule", f, DEFAULT_FOV)) / 2.0)
        aspect = w / h  # square pixels: the world spans the frame's aspect ratio (see the module's note)
        x = (px * (2.0 / max(w - 1, 1)) - 1.0) * aspect
        y = py * (2.0 / max(h - 1, 1)) - 1.0
        z = np.broadcast_to(np.asarray(z, dtype=np.float64), np.shape(x))
        xn = rot[0, 0] * x + rot[1, 0] * y + rot[2, 0] * z + t[0]  # R^T X + T
        yn = rot[0, 1] * x + rot[1, 1] * y + rot[2, 1] * z + t[1]
        zn = rot[0, 2] * x + rot[1, 2] * y + rot[2, 2] * z + t[2]
        zn = np.where(np.abs(zn) < 1e-6, 1e-6, zn)
        dx = (xn / zn - x / z) / tan * (h / 2.0)
        dy = (yn / zn - y / z) / tan * (h / 2.0)
        return np.stack([dx, dy], axis=-1)

    def step(self, f: int, a: float = 1.0) -> np.ndarray:
        """Fraction `a` of frame f's move as one 3x3 map of pixels. 2D: Deforum's matrix. 3D: the
        similarity the flat-depth (z = 1) warp is at the frame's centre (its shift, and the turn and
        scale of its Jacobian there): a 3D pan or tilt is a perspective warp that moves the edges
        more than the centre, so no one similarity matches it everywhere; the centre is the point
        the movement words and the meter's components describe."""
        if self.mode == "2D":
            return self.step_2d(f, a)
        if self.mode != "3D":
            return np.eye(3)
        cx, cy = (self.width - 1) / 2.0, (self.height - 1) / 2.0
        px = np.array([cx, cx + 1.0, cx])
        py = np.array([cy, cy, cy + 1.0])
        moved = self.offsets_3d(f, 1.0, px, py, 1.0)
        jac = np.column_stack([moved[1] - moved[0], moved[2] - moved[0]]) + np.eye(2)
        p, q = (jac[0, 0] + jac[1, 1]) / 2.0, (jac[1, 0] - jac[0, 1]) / 2.0  # the Jacobian's similarity part
        out = np.array([[p, -q, 0.0], [q, p, 0.0], [0.0, 0.0, 1.0]])
        out[:2, 2] = np.array([cx, cy]) + moved[0] - out[:2, :2] @ np.array([cx, cy])
        return similarity_power(out, a)

    def segments(self, t0: float, t1: float) -> list[tuple[int, float]]:
        """The steps (frame, fraction) that carry the camera from time t0 to t1 (in frames, t0 <= t1):
        frame f's step spans the time from f-1 to f. Times are clamped to the film."""
        last = self.max_frames - 1
        t0, t1 = min(max(t0, 0.0), last), min(max(t1, 0.0), last)
        out = []
        for f in range(math.floor(t0) + 1, math.ceil(t1) + 1):
            a = min(t1, f) - max(t0, f - 1)
            if a > 1e-9:
                out.append((f, a))
        return out

    def matrix_between(self, t0: float, t1: float) -> np.ndarray:
        """The map from the picture at time t0 to the one at t1, composed step by step."""
        out = np.eye(3)
        for f, a in self.segments(t0, t1):
            out = self.step(f, a) @ out
            out /= out[2, 2]
        return out

    def steps(self) -> np.ndarray:
        """(max_frames, 3, 3): entry f maps frame f-1 to frame f (entry 0 is the identity)."""
        out = np.empty((self.max_frames, 3, 3))
        out[0] = np.eye(3)
        for f in range(1, self.max_frames):
            out[f] = self.step(f)
        return out


def frame_matrices(schedules: Schedules, width: int | None = None, height: int | None = None) -> np.ndarray:
    """(max_frames, 3, 3) maps from frame 0 to each frame (3D: the flat-depth similarity steps)."""
    path = CameraPath(schedules, width, height)
    steps = path.steps()
    out = np.empty_like(steps)
    out[0] = np.eye(3)
    for f in range(1, len(steps)):
        out[f] = steps[f] @ out[f - 1]
        out[f] /= out[f][2, 2]
    return out
