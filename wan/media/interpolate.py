"""Frames between model frames: WAN renders at 16 fps (24 for one family) while Deforum films run
at 24/30/60 fps, and picking the nearest model frame for every output frame judders.

`FlowInterpolator` is motion-compensated and needs no weights: DIS optical flow both ways between
the two model frames, the flows from the in-between time t approximated from them as Super-SloMo
does (Jiang et al. 2018, eq. 4), both frames backward-warped to t and blended by (1 - t, t) times
a visibility weight from forward-backward consistency, so that a pixel one of the frames cannot
see (covered, uncovered or outside it) comes from the other. `BlendInterpolator` (crossfade) and
`NearestInterpolator` (frame picking, as renders did before the post block) are there to compare against.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Protocol

import cv2
import numpy as np

from wan.media.errors import MediaError

CHOICES = ("opencv-dis", "opencv", "blend", "nearest")
NOT_YET = ("rife", "film")
WHOLE = 1e-6  # times this close to a whole model frame are that frame
# Sundaram et al. (2010): a forward-backward round trip may miss by 1% of the motion plus half a
# pixel before the point counts as occluded; the weight falls off smoothly past it.
FB_RELATIVE, FB_PIXELS = 0.01, 0.5
FLOOR = 0.02  # weight kept where both frames look occluded, so the pixel falls back to the crossfade


class Interpolator(Protocol):
    """The frame at fraction t (0 < t < 1) of the way from RGB uint8 frame a to frame b."""

    name: str

    def between(self, a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray: ...


class NearestInterpolator:
    """Frame picking: whichever model frame is nearer in time (a tie goes to b, as
    wan/plan/timeline.py rounds half up)."""

    name = "nearest"

    def between(self, a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
        return a if t < 0.5 else b


class BlendInterpolator:
    """A crossfade: no motion, so moving edges double rather than jump."""

    name = "blend"

    def between(self, a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
        return cv2.addWeighted(a, 1.0 - t, b, t, 0.0)


class _Pair:
    """Everything about two frames that does not depend on t, computed once per pair."""

    def __init__(self, a: np.ndarray, b: np.ndarray, dis) -> None:
        self.a, self.b = a, b  # held so that their ids cannot be reused while cached
        self.grid = _grid(*a.shape[:2])
        grey_a, grey_b = _grey(a), _grey(b)
        # DIS calc(I0, I1) gives f with I0(x) ≈ I1(x + f(x)): f01 lives on a's grid, f10 on b's.
        self.f01 = _flow(dis, grey_a, grey_b)
        self.f10 = _flow(dis, grey_b, grey_a)
        ones = np.ones(a.shape[:2], np.float32)
        # Per frame, two planes sampled together: 1 inside the frame (a constant 0 border says
        # "outside"), and how surely each pixel is also seen by the other frame.
        self.planes_a = cv2.merge([ones, _consistency(self.f01, self.f10, self.grid)])
        self.planes_b = cv2.merge([ones, _consistency(self.f10, self.f01, self.grid)])
        self.fa, self.fb = a.astype(np.float32), b.astype(np.float32)


class FlowInterpolator:
    """Motion-compensated in-betweens with OpenCV's DIS optical flow (no weights).

    The FAST preset, measured on bench/post.py's scenes at 832x480 (16 -> 30 fps): MEDIUM's denser
    patches gain 0.3 dB only round a moving object and nothing on pans or zooms, for 80 ms per flow
    against 15 ms (1.3-1.9x the whole interpolation); ULTRAFAST, without variational refinement, loses
    0.65 dB round the object for 7 ms. Coarse-to-fine search follows large motions at any preset.
    The cache holds the frames themselves, so the key is identity: frames must not change in place.
    """

    name = "opencv-dis"

    def __init__(self, preset: int = cv2.DISOPTICAL_FLOW_PRESET_FAST) -> None:
        self._dis = cv2.DISOpticalFlow_create(preset)
        self._pair: _Pair | None = None

    def flows(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The flow pair (a->b on a's grid, b->a on b's grid), from the cache when (a, b) is the
        last pair asked: several output frames fall between the same two model frames."""
        pair = self._for(a, b)
        return pair.f01, pair.f10

    def between(self, a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
        if a.shape != b.shape:
            raise MediaError(f"frame sizes differ: {a.shape[1]}x{a.shape[0]} and {b.shape[1]}x{b.shape[0]}")
        pair = self._for(a, b)
        # Super-SloMo's approximation of the flows from t to each end, read at the same pixel
        # (no splatting): exact for steady motion, blurred only where motions meet.
        map_0 = cv2.scaleAdd(pair.f10, t * t, cv2.scaleAdd(pair.f01, -(1.0 - t) * t, pair.grid))
        map_1 = cv2.scaleAdd(pair.f10, -t * (1.0 - t), cv2.scaleAdd(pair.f01, (1.0 - t) ** 2, pair.grid))
        warped_a = cv2.remap(pair.fa, map_0, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        warped_b = cv2.remap(pair.fb, map_1, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        inside_a, a_also_in_b = cv2.split(_sample(pair.planes_a, map_0))
        inside_b, b_also_in_a = cv2.split(_sample(pair.planes_b, map_1))
        # a's sample is trusted when it lies inside a and b's sample is not a point that a cannot
        # see (b's round trip failed there: the point is covered in a); and the other way round.
        w0 = (1.0 - t) * (inside_a * b_also_in_a + FLOOR)
        w1 = t * (inside_b * a_also_in_b + FLOOR)
        share_a = cv2.merge([w0 / (w0 + w1)] * 3)
        out = cv2.add(warped_b, cv2.multiply(cv2.subtract(warped_a, warped_b), share_a))
        # A convex mix of non-negative samples: convertScaleAbs only rounds and saturates here.
        return cv2.convertScaleAbs(out)

    def _for(self, a: np.ndarray, b: np.ndarray) -> _Pair:
        if self._pair is None or self._pair.a is not a or self._pair.b is not b:
            self._pair = _Pair(a, b, self._dis)
        return self._pair


def make_interpolator(name: str) -> Interpolator:
    """The interpolator called `name`: "opencv" (= "opencv-dis"), "blend" or "nearest"."""
    key = name.strip().lower()
    if key in ("opencv", "opencv-dis"):
        return FlowInterpolator()
    if key == "blend":
        return BlendInterpolator()
    if key == "nearest":
        return NearestInterpolator()
    choices = ", ".join(CHOICES)
    if key in NOT_YET:
        raise MediaError(
            f"interpolator {name!r} is not supported yet (it needs model weights)", hint=f"use one of {choices}"
        )
    raise MediaError(f"unknown interpolator {name!r}", hint=f"use one of {choices}")


def resample(frames: Sequence[np.ndarray], times: Sequence[float], interpolator: Interpolator) -> list[np.ndarray]:
    """The frame at each fractional model-frame index in `times` (2.5 = halfway between frames 2
    and 3): a whole index gives that frame itself (the same object), any other the interpolator's
    in-between. A time outside the frames is a bug upstream, never clamped."""
    last = len(frames) - 1
    out = []
    for time in times:
        if not (-WHOLE <= time <= last + WHOLE):  # also refuses NaN
            raise MediaError(
                f"time {time} is outside the model frames 0..{last}",
                where="resample",
                hint="the output times must lie within the clip's model frames",
            )
        whole = math.floor(time + 0.5)
        if abs(time - whole) <= WHOLE:
            out.append(frames[whole])
            continue
        low = math.floor(time)
        out.append(interpolator.between(frames[low], frames[low + 1], time - low))
    return out


def _grey(frame: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)


def _flow(dis, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """DIS flow on frames of any size: small frames are padded with their edges and the flow
    cropped back (see _dis_sides)."""
    h, w = first.shape
    short, long = _dis_sides(dis)
    pad_y, pad_x = max(0, short - h), max(0, short - w)
    pad_x += max(0, long - max(h + pad_y, w + pad_x))
    if pad_y or pad_x:
        first, second = (cv2.copyMakeBorder(g, 0, pad_y, 0, pad_x, cv2.BORDER_REPLICATE) for g in (first, second))
    return np.ascontiguousarray(dis.calc(first, second, None)[:h, :w])


def _dis_sides(dis) -> tuple[int, int]:
    """The smallest frame OpenCV's DIS takes as configured: a shorter side than patch << finest
    scale is refused under 12 px and crashes (segfault) above; a longer side under
    patch * 2^(finest + 1.5) makes DIS pick coarser scales for itself and keep them for every later
    frame (both seen with OpenCV 5.0)."""
    patch, finest = dis.getPatchSize(), dis.getFinestScale()
    return patch << finest, math.ceil(patch * 2 ** (finest + 1.5))


def _consistency(forward: np.ndarray, backward: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """1 where following `forward` and then `backward` returns to the start, falling toward 0
    where the round trip misses (the point is covered on the other side, or the flow is wrong).
    Targets outside the frame keep 1: they have no return flow to check, and between() weighs
    out-of-frame samples by itself."""
    back = cv2.remap(backward, cv2.add(grid, forward), None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                     borderValue=(np.nan, np.nan))  # fmt: skip
    miss = _norm2(cv2.add(forward, back))
    allowed = FB_RELATIVE * (_norm2(forward) + _norm2(back)) + FB_PIXELS
    return np.nan_to_num(np.exp(-miss / allowed), nan=1.0).astype(np.float32)


def _norm2(field: np.ndarray) -> np.ndarray:
    x, y = cv2.split(field)
    return x * x + y * y


def _sample(planes: np.ndarray, coords: np.ndarray) -> np.ndarray:
    """`planes` (inside, consistency) at `coords`; outside the frame (0, 1): not seen there, and
    no veto on the other frame."""
    return cv2.remap(planes, coords, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 1))


@functools.lru_cache(maxsize=4)
def _grid(h: int, w: int) -> np.ndarray:
    grid = np.ascontiguousarray(np.indices((h, w), dtype=np.float32)[::-1].transpose(1, 2, 0))
    grid.flags.writeable = False
    return grid
