"""`python -m wan post VIDEO`: the post block on a finished video (any video, a render's or not):
frames at a new rate by interpolation, upscaled, graded, with its soundtrack.

Written in parts of a few seconds next to the target (`.<name>.parts/`), each complete before the
next starts: stopped and run again with the same settings, it keeps the finished parts and goes on
from the first missing one, as a render keeps its finished clips."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil

import numpy as np

from wan.media.errors import MediaError
from wan.media.video import VideoSpec, concat_mp4, iter_frames, probe, write_mp4
from wan.plan.post import Post
from wan.plan.timeline import round_half_up
from wan.render.errors import RenderError
from wan.render.files import write_text_atomic
from wan.render.finish import Finisher

PART_SECONDS = 4.0


class _Decoded:
    """The source's frames by index, read once and in order; only the two last are held."""

    def __init__(self, frames) -> None:
        self.frames, self.held, self.next = frames, {}, 0

    def get(self, index: int) -> np.ndarray:
        while index >= self.next:
            frame = next(self.frames, None)
            if frame is None:
                raise RenderError(f"the video ended before frame {index}")
            self.held = {k: v for k, v in self.held.items() if k >= self.next - 1}
            self.held[self.next] = frame
            self.next += 1
        if index not in self.held:
            raise RenderError(f"frame {index} was asked for after later ones (a bug)")
        return self.held[index]


def post_video(source: str, target: str, post: Post, fps: float | None = None, models_dir: str | None = None,
               profile: str = "auto", crf: int = 18, preset: str = "medium", log=print) -> dict:  # fmt: skip
    """Write `source` through `post` to `target` at `fps` (default: the source's). Returns what ran."""
    if not os.path.isfile(source):
        raise RenderError("video not found", where=source)
    info = probe(source)
    fps_out = fps or info.fps
    count = max(1, round(info.frames * fps_out / info.fps))
    finisher = Finisher(post, models_dir, profile, log)
    spec = VideoSpec(info.width * finisher.scale, info.height * finisher.scale, fps_out, crf, preset)
    parts_dir = os.path.join(os.path.dirname(os.path.abspath(target)), f".{os.path.basename(target)}.parts")
    stat = os.stat(source)  # the same file, not only the same name: a re-render at that path is another video
    wanted = {"source": os.path.abspath(source), "bytes": stat.st_size, "mtime_ns": stat.st_mtime_ns,
              "frames": info.frames, "fps": fps_out, "crf": crf, "preset": preset, "post": dataclasses.asdict(post)}  # fmt: skip
    _start_parts(parts_dir, wanted, log)
    _, frames = iter_frames(source)
    decoded = _Decoded(frames)
    last = info.frames - 1

    def frame_at(j: int) -> np.ndarray:
        t = min(j * info.fps / fps_out, last)
        if finisher.interpolator.name == "nearest":
            return decoded.get(min(round_half_up(t), last))
        lower = math.floor(t + 1e-6)
        if t - lower < 1e-6 or lower >= last:
            return decoded.get(min(lower, last))
        a = decoded.get(lower)
        return finisher.interpolator.between(a, decoded.get(lower + 1), t - lower)

    per_part = max(1, round(PART_SECONDS * fps_out))
    parts, kept = [], 0
    for k, start in enumerate(range(0, count, per_part)):
        size = min(per_part, count - start)
        part = os.path.join(parts_dir, f"part_{k:05d}.mp4")
        parts.append(part)
        if os.path.isfile(part) and _frames(part) == size:
            kept += 1
            continue
        write_mp4(finisher.frames(frame_at(j) for j in range(start, start + size)), part, spec, expected_frames=size)
        log(f"post: part {k + 1}/{math.ceil(count / per_part)} ({size} frames)")
    concat_mp4(parts, target, count / fps_out, audio_from=source if info.has_audio else None)
    shutil.rmtree(parts_dir, ignore_errors=True)
    return {**finisher.report(), "frames": count, "fps": fps_out, "width": spec.width, "height": spec.height,
            "parts_kept": kept}  # fmt: skip


def _start_parts(folder: str, wanted: dict, log) -> None:
    """Keep the parts of an earlier run of exactly this job; anything else there goes."""
    record = os.path.join(folder, "post.json")
    try:
        with open(record, encoding="utf-8") as fh:
            same = json.load(fh) == json.loads(json.dumps(wanted))
    except (OSError, ValueError):
        same = False
    if not same and os.path.isdir(folder):
        log("post: the parts there are of another job: starting over")
        shutil.rmtree(folder)
    os.makedirs(folder, exist_ok=True)
    write_text_atomic(record, json.dumps(wanted, indent=2) + "\n")


def _frames(path: str) -> int:
    try:
        return probe(path).frames
    except (MediaError, RuntimeError, OSError):  # a part cut short by a crash: made again
        return -1
