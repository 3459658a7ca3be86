"""Model-fps clip frames -> the film's output frames, by time: each output frame is made at its own
moment from the model frames around it (the plan's post.interpolate: optical flow, a blend, or the
nearest frame); clips that share moments hand their shared frames to the joiner."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from wan.plan.build import GenerationPlan, clip_fps
from wan.plan.timeline import model_index
from wan.render.errors import RenderError


def shared_count(plan: GenerationPlan, index: int) -> int:
    """How many of clip `index`'s last output frames show times that clip `index + 1` also
    generated (its carried frames): they wait for the next clip, to be blended with it."""
    if index + 1 >= len(plan.clips):
        return 0
    nxt = plan.clips[index + 1]
    clip = plan.clips[index]
    count = 0
    for o in range(nxt.start_frame - 1, clip.start_frame - 1, -1):
        j = model_index(o - nxt.start_frame, plan.fps_out, clip_fps(plan, nxt), nxt.overlap)
        if not 0 <= j < nxt.overlap:
            break
        count += 1
    return count


def output_frames(
    plan: GenerationPlan,
    render_clip: Callable,
    on_clip: Callable | None = None,
    joiner=None,
    meter=None,
    interpolator=None,
) -> Iterator[np.ndarray]:
    """Model-fps clip frames -> exactly max_frames output frames, each at its time: the nearest
    model frame, or with an `interpolator` (wan/media/interpolate.py) a frame made between the two
    around it. With a joiner (wan/media/joins.py) each join is colour-matched and the shared frames
    blended; the meter (wan/media/seams.py) sees every finished frame."""
    held: list[np.ndarray] = []
    for clip in plan.clips:
        frames = render_clip(clip)
        if len(frames) != clip.num_frames:
            raise RenderError(f"engine returned {len(frames)} frames for clip {clip.index}, expected {clip.num_frames}")
        if on_clip:
            on_clip(clip, frames)
        fps = clip_fps(plan, clip)
        at = at_times(frames, plan.fps_out, fps, clip.overlap, interpolator)
        own = at(range(0, clip.end_frame - clip.start_frame))
        if joiner is not None:
            head = at(range(-len(held), 0))
            tail, own = joiner.join(clip.index, clip.start_frame, held, head, own)
            keep = shared_count(plan, clip.index)
            ready, held = tail + own[: len(own) - keep], own[len(own) - keep :]
            joiner.last = own[-1]
        else:
            ready = own
        for frame in ready:
            if meter is not None:
                meter.add(frame)
            yield frame
    for frame in held:
        if meter is not None:
            meter.add(frame)
        yield frame


def at_times(frames: list[np.ndarray], fps_out: float, fps: float, overlap: int, interpolator) -> Callable:
    """offsets (output frames from the clip's start) -> the clip's frames shown at those moments."""

    def nearest(offsets) -> list[np.ndarray]:
        return [frames[model_index(o, fps_out, fps, overlap)] for o in offsets]

    if interpolator is None or interpolator.name == "nearest":
        return nearest

    def between(offsets) -> list[np.ndarray]:
        from wan.media.interpolate import resample

        last = len(frames) - 1
        # An output frame can lie up to half a model frame outside the clip's frames (past the last
        # after 4n+1 rounding; before the first for a shared frame): it shows the edge frame, as
        # nearest did, never a frame made outside the clip.
        times = [min(max(overlap + o * fps / fps_out, 0.0), last) for o in offsets]
        return resample(frames, times, interpolator)

    return between
