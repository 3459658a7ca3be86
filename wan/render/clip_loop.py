"""The clip loop: each clip comes from the engine (or, when resuming, from the intact frames an
earlier run saved), reports its steps, honours cancel, and goes to the clip writer."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable

import numpy as np

from wan.engine.protocol import Engine
from wan.plan.build import Clip, GenerationPlan, clip_fps
from wan.render.clip_writer import ClipWriter
from wan.render.errors import RenderCancelled
from wan.render.resume import load_frames


class ClipLoop:
    def __init__(self, plan: GenerationPlan, out_dir: str, engine: Engine, writer: ClipWriter,
                 reuse: dict[int, dict], cancel: threading.Event, progress: Callable[[dict], None] | None,
                 log, meters=None) -> None:  # fmt: skip
        self.plan, self.out_dir, self.engine, self.writer = plan, out_dir, engine, writer
        self.reuse, self.cancel, self.progress, self.log = reuse, cancel, progress, log
        self.meters = meters
        self.reused: set[int] = set()
        self.finished = 0
        self.started = self.clip_started = time.perf_counter()

    def produce(self, clip: Clip) -> list[np.ndarray]:
        """The clip's frames: an intact earlier result when resuming, else the engine's."""
        if clip.index in self.reuse:
            frames = load_frames(self.out_dir, self.reuse[clip.index])
            if frames is not None:
                self.reused.add(clip.index)
                self.engine.continue_from(clip, frames)  # the next clip chains from these very frames
                return frames
            self.log(f"clip {clip.index}: the saved frames are missing or damaged; generating it again")
        return self.engine.render_clip(clip, self.on_step)

    def on_step(self, clip: Clip, step: int, steps: int) -> None:
        if self.cancel.is_set():
            raise RenderCancelled(f"cancelled during clip {clip.index}", where=self.out_dir)
        if self.progress:
            done = self.finished + step / steps
            elapsed = time.perf_counter() - self.started
            eta = elapsed / done * (len(self.plan.clips) - done) if done else None
            self.progress({"event": "progress", "clip": clip.index, "clips": len(self.plan.clips),
                           "step": step, "steps": steps, "eta": eta})  # fmt: skip

    def on_clip(self, clip: Clip, frames: list[np.ndarray]) -> None:
        if clip.index in self.reused:
            entry = {**self.reuse[clip.index], "reused": True}
        else:
            report = self.engine.report()
            entry = {"index": clip.index, "frames": len(frames), "seed": clip.seed,
                     "seconds": round(time.perf_counter() - self.clip_started, 3), "file": None,
                     "peak_memory_mb": peak_memory_mb(), "attempts": list(report.attempts.get(clip.index, ()))}  # fmt: skip
            if clip.index in report.inputs:  # what reached the pipeline: strength mapping, guide, carried latents
                entry["inputs"] = report.inputs[clip.index]
        self.finished += 1
        if self.meters is not None:
            self.meters.add_clip(clip, None if clip.index in self.reused else self.engine.guide(clip), frames)
        self.writer.submit(entry, clip, frames)
        self.log(
            f"clip {clip.index + 1}/{len(self.plan.clips)}: {clip.num_frames} frames at {clip_fps(self.plan, clip):g} fps"
        )
        if self.cancel.is_set():
            raise RenderCancelled(f"cancelled after clip {clip.index}", where=self.out_dir)
        self.clip_started = time.perf_counter()


def peak_memory_mb() -> float | None:
    # Only an engine that already imported torch can have GPU memory to report: the preview must
    # not pay for importing it.
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    if torch.cuda.is_available():
        return round(torch.cuda.max_memory_allocated() / 2**20, 1)
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # RAM on CPU (Linux: KiB)
