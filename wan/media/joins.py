"""Joining clips without seams or colour drift (OpenCV).

At each join the new clip's colour is mapped, per CIELAB channel, so that the frame at the join
matches the previous clip's frame there (already corrected), pulled a little toward the anchor's
colour: one lookup table per clip, applied to every frame of it, so the correction cannot compound
from clip to clip and the clip's own light changes survive. Then the frames the two clips share in
time are blended with a ramp (linear or cosine), optionally motion-compensated: DIS optical flow
between the pair, both frames warped toward the in-between position, mixed with a spatial Gaussian
weighted by flow confidence. Unreliable flow falls back to a plain crossfade, and says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from wan.media.seams import flow, warp
from wan.plan.continuity import Continuity

CONFIDENT = 0.5  # below this mean flow confidence the aligned blend is not trusted
TAU = 12.0  # grey levels: photometric error at which confidence falls to 1/e


def _lab(frame: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(frame, cv2.COLOR_RGB2LAB)


def _stats(lab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean, std = cv2.meanStdDev(lab)
    return mean.ravel(), np.maximum(std.ravel(), 1.0)


def _cdf(channel: np.ndarray) -> np.ndarray:
    hist = np.bincount(channel.ravel(), minlength=256).astype(np.float64)
    return np.cumsum(hist) / hist.sum()


def colour_lut(source: np.ndarray, target: np.ndarray, anchor: np.ndarray | None, mode: str, strength: float,
               anchor_weight: float) -> np.ndarray | None:  # fmt: skip
    """A (1, 256, 3) LAB lookup table taking `source`'s colours to `target`'s (pulled toward
    `anchor` by `anchor_weight`), mixed with the identity by `strength`; None for no change."""
    if mode == "none" or strength <= 0:
        return None
    src, tgt = _lab(source), _lab(target)
    ramp = np.arange(256, dtype=np.float64)
    lut = np.empty((256, 3))
    if mode == "lab":
        (ms, ss), (mt, st) = _stats(src), _stats(tgt)
        if anchor is not None and anchor_weight > 0:
            ma, sa = _stats(_lab(anchor))
            mt, st = (1 - anchor_weight) * mt + anchor_weight * ma, (1 - anchor_weight) * st + anchor_weight * sa
        for c in range(3):
            lut[:, c] = (ramp - ms[c]) * (st[c] / ss[c]) + mt[c]
    else:  # histogram matching, channel by channel, through the cumulative distributions
        anchor_lab = _lab(anchor) if anchor is not None and anchor_weight > 0 else None
        for c in range(3):
            cdf_t = _cdf(tgt[..., c])
            if anchor_lab is not None:
                cdf_t = (1 - anchor_weight) * cdf_t + anchor_weight * _cdf(anchor_lab[..., c])
            lut[:, c] = np.interp(_cdf(src[..., c]), cdf_t, ramp)
    lut = (1 - strength) * ramp[:, None] + strength * lut
    return np.clip(lut + 0.5, 0, 255).astype(np.uint8).reshape(1, 256, 3)


def apply_lut(frame: np.ndarray, lut: np.ndarray | None) -> np.ndarray:
    if lut is None:
        return frame
    return cv2.cvtColor(cv2.LUT(_lab(frame), lut), cv2.COLOR_LAB2RGB)


def ramp(n: int, shape: str) -> np.ndarray:
    """Weights of the new clip across n shared frames, strictly between 0 and 1."""
    x = (np.arange(n) + 1) / (n + 1)
    return 0.5 - 0.5 * np.cos(math.pi * x) if shape == "cosine" else x


def _mask(h: int, w: int, sigma: float) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    s = max(1e-3, sigma) * math.hypot(h, w)
    return np.exp(-((xx - w / 2) ** 2 + (yy - h / 2) ** 2) / (2 * s * s))


def blend_pair(previous: np.ndarray, new: np.ndarray, weight: float, settings: Continuity) -> tuple[np.ndarray, bool]:
    """`weight` of `new`, the rest of `previous`; returns the frame and whether flow was used."""
    w_prev = settings.blend_strength * (1 - weight)
    fade = cv2.addWeighted(previous, w_prev, new, 1 - w_prev, 0)
    if settings.blend != "flow" or settings.motion_weight <= 0:
        return fade, False
    h, w = new.shape[:2]
    grey_p, grey_n = cv2.cvtColor(previous, cv2.COLOR_RGB2GRAY), cv2.cvtColor(new, cv2.COLOR_RGB2GRAY)
    small = (max(16, w // 2), max(16, h // 2))
    field = flow(cv2.resize(grey_p, small), cv2.resize(grey_n, small))  # new(x) ≈ previous(x + field)
    field = cv2.resize(field, (w, h)) * np.float32(w / small[0])
    error = np.abs(warp(grey_p, field).astype(np.float32) - grey_n.astype(np.float32))
    confidence = np.exp(-error / TAU)
    if float(confidence.mean()) < CONFIDENT:
        return fade, False
    # Both frames move toward the in-between position the ramp has reached.
    prev_mid = warp(previous, field * np.float32(weight))
    new_mid = warp(new, -field * np.float32(1 - weight))
    aligned = cv2.addWeighted(prev_mid, w_prev, new_mid, 1 - w_prev, 0)
    strength = (settings.motion_weight * confidence * _mask(h, w, settings.mask_sigma))[..., None]
    return (fade * (1 - strength) + aligned * strength + 0.5).astype(np.uint8), True


@dataclass
class Joiner:
    """Joins clips as they arrive. `join` takes the previous clip's held-back frames and the new
    clip's frames for the same times, plus the new clip's other frames, and returns both, finished."""

    settings: Continuity
    anchor: np.ndarray | None = None
    log: object = print
    report: list[dict] = field(default_factory=list)
    last: np.ndarray | None = None  # the last finished frame of the previous clip

    def join(self, index: int, start_frame: int, tail: list, head: list, rest: list) -> tuple[list, list]:
        s = self.settings
        entry = {"clip": index, "frame": start_frame, "color": s.color, "blend": s.blend if tail else "none"}
        if start_frame in s.cuts or (self.last is None and not tail):
            entry.update(color="none", blend="none", reason="cut" if start_frame in s.cuts else "first clip")
            self.report.append(entry)
            return tail, rest
        target = tail[-1] if tail else self.last
        source = head[-1] if head else rest[0]
        lut = colour_lut(source, target, self.anchor, s.color, s.color_strength, s.anchor_weight)
        head = [apply_lut(f, lut) for f in head]
        rest = [apply_lut(f, lut) for f in rest]
        if tail and s.blend != "none":
            weights = ramp(len(tail), "cosine" if s.blend == "cosine" else "linear")
            mixed = [blend_pair(p, n, float(wt), s) for p, n, wt in zip(tail, head, weights)]
            tail = [m for m, _ in mixed]
            if s.blend == "flow" and not all(used for _, used in mixed):
                entry.update(blend="crossfade", reason="optical flow unreliable here: plain crossfade")
                self.log(f"clip {index}: {entry['reason']}")
        self.report.append(entry)
        return tail, rest


def stitch(chunks: list[list[np.ndarray]], overlap: int, settings: Continuity, anchor=None, log=print):
    """Chunks that share `overlap` frames with their neighbours -> one frame list, and the joins'
    report. With blend none, each chunk's shared head is dropped (the previous tail is kept)."""
    joiner = Joiner(settings, anchor if anchor is not None else chunks[0][0], log)
    frames: list[np.ndarray] = []
    boundaries = []
    for i, chunk in enumerate(chunks):
        k = overlap if i else 0
        if k > len(chunk) or (i and k > len(frames)):
            raise ValueError(f"chunk {i} is shorter than the overlap {overlap}")
        tail = frames[len(frames) - k :] if k else []
        del frames[len(frames) - k :]
        tail, rest = joiner.join(i, len(frames) + k, tail, list(chunk[:k]), list(chunk[k:]))
        if i:
            boundaries.append(len(frames) + len(tail))
        frames += tail + rest
        joiner.last = frames[-1]
    return frames, boundaries, joiner.report
