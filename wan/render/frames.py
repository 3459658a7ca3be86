"""Model-fps clip frames -> the film's output frames, by time: each output frame takes the nearest
model frame; clips that share moments hand their shared frames to the joiner."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from wan.plan.build import GenerationPlan, clip_fps
from wan.plan.timeline import model_index, source_indices
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
) -> Iterator[np.ndarray]:
    """Model-fps clip frames -> exactly max_frames output frames, nearest frame by time. With a
    joiner (wan/media/joins.py) each join is colour-matched and the shared frames blended; the
    meter (wan/media/seams.py) sees every finished frame."""
    held: list[np.ndarray] = []
    for clip in plan.clips:
        frames = render_clip(clip)
        if len(frames) != clip.num_frames:
            raise RenderError(f"engine returned {len(frames)} frames for clip {clip.index}, expected {clip.num_frames}")
        if on_clip:
            on_clip(clip, frames)
        fps = clip_fps(plan, clip)
        own = [frames[k] for k in source_indices(clip.start_frame, clip.end_frame, plan.fps_out, fps, clip.overlap)]
        if joiner is not None:
            first_held = clip.start_frame - len(held)
            head = [
                frames[model_index(o - clip.start_frame, plan.fps_out, fps, clip.overlap)]
                for o in range(first_held, clip.start_frame)
            ]
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
