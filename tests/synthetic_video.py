"""Synthetic videos with known motion, cut into overlapping chunks with injected drift: the ground
truth for the continuity tests and the benchmark."""

from __future__ import annotations

import cv2
import numpy as np


def texture(h: int, w: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.random((h // 8 + 2, w // 8 + 2, 3))
    big = cv2.resize(base, (w * 2, h * 2), interpolation=cv2.INTER_CUBIC)
    return np.clip(big * 180 + 40, 0, 255).astype(np.uint8)


def moving(n: int, h: int = 120, w: int = 208, motion: str = "pan", seed: int = 0) -> list[np.ndarray]:
    """n frames of a textured scene under a known camera move: pan, zoom or rotate."""
    tex = texture(h, w, seed)
    cy, cx = tex.shape[0] / 2, tex.shape[1] / 2
    frames = []
    for i in range(n):
        if motion == "pan":
            m = np.float32([[1, 0, -(w / 2) + 1.5 * i - 60], [0, 1, -(h / 2)]])
        else:
            angle = 0.6 * i if motion == "rotate" else 0.0
            scale = 1.0 + 0.004 * i if motion == "zoom" else 1.0
            m = cv2.getRotationMatrix2D((cx, cy), angle, scale)
            m[0, 2] -= cx - w / 2
            m[1, 2] -= cy - h / 2
        frames.append(cv2.warpAffine(tex, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT))
    return frames


def drift(frame: np.ndarray, amount: float, offset: int) -> np.ndarray:
    """A generator's drift: brighter, warmer and shifted by `offset` pixels, growing with `amount`."""
    lab = cv2.cvtColor(frame, cv2.COLOR_RGB2LAB).astype(np.float32)
    lab[..., 0] = lab[..., 0] * (1 + 0.04 * amount)
    lab[..., 1] += 1.5 * amount
    lab[..., 2] += 3.0 * amount
    out = cv2.cvtColor(np.clip(lab, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)
    return np.roll(out, offset, axis=1) if offset else out


def chunked(frames: list[np.ndarray], size: int, overlap: int) -> list[list[np.ndarray]]:
    """Overlapping chunks; chunk i drifted by i steps (as each generated clip drifts from the last)."""
    chunks, start, i = [], 0, 0
    while start + overlap < len(frames):
        chunk = frames[start : start + size]
        chunks.append([drift(f, i, i % 2) for f in chunk])
        start += size - overlap
        i += 1
    return chunks
