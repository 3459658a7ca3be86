"""Deforum's camera as image-space matrices: where the content of frame 0 sits in frame f.

Deforum warps frame f-1 by frame f's values to start frame f (frame 0 is not warped), so the
forward map from frame 0 to frame f is M(f) @ ... @ M(1). Composing the matrices lets a preview
warp the original picture once per frame instead of re-warping (and blurring) its own output.

2D is exact: M = getRotationMatrix2D(center, angle, zoom) @ translate(tx, ty), as Deforum builds it.

3D is an approximation, documented in docs/preview.md: Deforum moves every pixel by a depth map; we
use a plane facing the camera at depth 1 (Deforum's flat-depth value) and the homography it induces,
H = K (R^T + T n^T / d) K^-1 with R = euler_xyz(rx, ry, rz), T = [-tx, ty, -tz] / 200 (Deforum's
conventions) and K from `fov_schedule` (vertical field of view), with x right and y down. Each
frame's step keeps only what the homography does at the frame centre (shift, turn) plus the dolly's
scale: Deforum repaints every frame, so its picture faces the camera again at the next step, while
composing full homographies would tilt one plane further and further (a 90 degree pan would look at
it edge-on, and pans would slowly zoom).
"""

from __future__ import annotations

import numpy as np

from .series import Schedules

TRANSLATION_SCALE = 1.0 / 200.0
PLANE_DEPTH = 1.0


def matrix_2d(angle: float, zoom: float, tx: float, ty: float, cx: float, cy: float) -> np.ndarray:
    a = zoom * np.cos(np.radians(angle))
    b = zoom * np.sin(np.radians(angle))
    rot = np.array([[a, b, (1 - a) * cx - b * cy], [-b, a, b * cx + (1 - a) * cy], [0.0, 0.0, 1.0]])
    return rot @ np.array([[1.0, 0.0, tx], [0.0, 1.0, ty], [0.0, 0.0, 1.0]])


def _euler_xyz(rx: float, ry: float, rz: float) -> np.ndarray:
    cx_, sx = np.cos(rx), np.sin(rx)
    cy_, sy = np.cos(ry), np.sin(ry)
    cz, sz = np.cos(rz), np.sin(rz)
    rot_x = np.array([[1, 0, 0], [0, cx_, -sx], [0, sx, cx_]])
    rot_y = np.array([[cy_, 0, sy], [0, 1, 0], [-sy, 0, cy_]])
    rot_z = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return rot_x @ rot_y @ rot_z


def matrix_3d(
    rx: float, ry: float, rz: float, tx: float, ty: float, tz: float, fov_deg: float, width: int, height: int
) -> np.ndarray:
    focal = (height / 2.0) / np.tan(np.radians(fov_deg) / 2.0)
    k = np.array([[focal, 0, width / 2.0], [0, focal, height / 2.0], [0, 0, 1.0]])
    rot = _euler_xyz(*np.radians([rx, ry, rz]))
    t = np.array([-tx, ty, -tz]) * TRANSLATION_SCALE
    normal = np.array([0.0, 0.0, 1.0])
    h = k @ (rot.T + np.outer(t, normal) / PLANE_DEPTH) @ np.linalg.inv(k)
    return h / h[2, 2]


def repainted_step(h: np.ndarray, x: float, y: float, tz: float) -> np.ndarray:
    """The similarity that moves the centre (x, y) as `h` does, turns as `h` does there, and scales
    only by the dolly, so pans and tilts slide the picture instead of tilting a plane away."""
    p = np.array([x, y, 1.0])
    q = h @ p
    target = q[:2] / q[2]
    jac = (h[:2, :2] - np.outer(target, h[2, :2])) / q[2]
    angle = np.arctan2(jac[1, 0] - jac[0, 1], jac[0, 0] + jac[1, 1])
    scale = 1.0 / (1.0 - tz * TRANSLATION_SCALE / PLANE_DEPTH)
    c, s = scale * np.cos(angle), scale * np.sin(angle)
    out = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    out[:2, 2] = target - out[:2, :2] @ p[:2]
    return out


def frame_matrices(schedules: Schedules) -> np.ndarray:
    """(max_frames, 3, 3) forward maps from frame 0 to each frame, in output pixels."""
    n, w, h = schedules.max_frames, schedules.width, schedules.height
    out = np.empty((n, 3, 3))
    out[0] = np.eye(3)
    s = schedules.series
    for f in range(1, n):
        if schedules.animation_mode == "2D":
            step = matrix_2d(
                s["angle"][f],
                s["zoom"][f],
                s["translation_x"][f],
                s["translation_y"][f],
                w * s["transform_center_x"][f],
                h * s["transform_center_y"][f],
            )
        elif schedules.animation_mode == "3D":
            fov = s["fov_schedule"][f] if "fov_schedule" in s else 70.0
            homography = matrix_3d(
                s["rotation_3d_x"][f],
                s["rotation_3d_y"][f],
                s["rotation_3d_z"][f],
                s["translation_x"][f],
                s["translation_y"][f],
                s["translation_z"][f],
                fov,
                w,
                h,
            )
            step = repainted_step(homography, w / 2.0, h / 2.0, s["translation_z"][f])
        else:
            step = np.eye(3)
        out[f] = step @ out[f - 1]
        out[f] /= out[f][2, 2]
    return out
