"""Deforum output frames <-> WAN model frames, mapped on time.

Output frame f of a clip that starts at output frame a is shown at t = (f - a) / fps_out after the
clip's start. A clip's model frames are k = 0 .. num_frames-1 at fps_model; its first `overlap`
frames lie before the clip's start (shared with the previous clip, for continuity), so model frame
k is at t = (k - overlap) / fps_model. Output frame f takes the nearest model frame
k = overlap + round((f - a) * fps_model / fps_out). Every clip is anchored at its own start frame,
so rounding never accumulates into drift, and each clip is 4n+1 frames: rounded up, then trimmed.
"""

from __future__ import annotations

import math


def round_half_up(x: float) -> int:
    # Python's round() is banker's rounding; a time mapping wants ties to go forward.
    return math.floor(x + 0.5 + 1e-9)


def model_index(offset: int, fps_out: float, fps_model: float, overlap: int = 0) -> int:
    """Model frame shown at output frame `offset` (counted from the clip's start)."""
    return overlap + round_half_up(offset * fps_model / fps_out)


def frames_4n1(needed: int) -> int:
    """Smallest 4n+1 >= needed (WAN's VAE packs 4 frames per latent after the first)."""
    return 4 * math.ceil(max(needed - 1, 0) / 4) + 1


def model_frames_for(length: int, fps_out: float, fps_model: float, overlap: int = 0) -> int:
    """4n+1 model frames that cover `length` output frames after `overlap` carried frames."""
    return frames_4n1(model_index(length - 1, fps_out, fps_model, overlap) + 1)


def max_window(limit: int, fps_out: float, fps_model: float, overlap: int) -> int:
    """Most output frames one clip can cover within `limit` model frames (0 if none)."""
    lo, hi = 0, max(1, int(limit * fps_out / fps_model) + 2)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if model_frames_for(mid, fps_out, fps_model, overlap) <= limit:
            lo = mid
        else:
            hi = mid - 1
    return lo


def split_span(start: int, end: int, window: int) -> list[tuple[int, int]]:
    """[start, end) in the fewest windows of at most `window` frames, lengths differing by <= 1."""
    length = end - start
    count = math.ceil(length / window)
    base, extra = divmod(length, count)
    spans, at = [], start
    for i in range(count):
        size = base + (1 if i < extra else 0)
        spans.append((at, at + size))
        at += size
    return spans


def source_indices(start: int, end: int, fps_out: float, fps_model: float, overlap: int) -> list[int]:
    """For output frames start..end-1, the model frame each one shows."""
    return [model_index(f - start, fps_out, fps_model, overlap) for f in range(start, end)]
