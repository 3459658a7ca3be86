"""Writes each finished clip while the next one generates (the GPU works, a CPU core encodes):
lossless frames for resume, clips/clip_NNN.mp4, optional PNGs; a clip enters the manifest only once
its files are on disk."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from wan.engine.faults import should_fail
from wan.media.video import VideoSpec, write_mp4
from wan.plan.build import Clip, GenerationPlan, clip_fps
from wan.render.errors import RenderError
from wan.render.files import save_pngs
from wan.render.manifest import Manifest
from wan.render.request import RenderOptions
from wan.render.resume import save_frames


class ClipWriter:
    def __init__(self, out_dir: str, plan: GenerationPlan, options: RenderOptions, manifest: Manifest,
                 progress: Callable[[dict], None] | None) -> None:  # fmt: skip
        self.out_dir, self.plan, self.options = out_dir, plan, options
        self.manifest, self.progress = manifest, progress
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wan-weave-clip-writer")
        self._written: list[Future] = []

    def submit(self, entry: dict, clip: Clip, frames: list[np.ndarray]) -> None:
        self.raise_failure()  # a clip that could not be written stops the render now, not at the end
        self._written.append(self._pool.submit(self._save, entry, clip, frames))

    def raise_failure(self) -> None:
        for future in self._written:
            if future.done() and future.exception() is not None:
                raise future.exception()

    def close(self) -> None:
        """Wait for every clip: whatever happened, each finished clip reaches the disk."""
        self._pool.shutdown(wait=True)

    def check(self) -> None:
        for future in self._written:
            future.result()  # a clip that could not be written fails the render

    def _save(self, entry: dict, clip: Clip, frames: list[np.ndarray]) -> None:
        if not entry.get("reused"):
            try:
                self._write_files(entry, clip, frames)
            except OSError as exc:
                raise _write_error(exc, clip, self.out_dir) from None
        self.manifest.record_clips({entry["index"]: entry})
        if self.progress:
            path = os.path.join(self.out_dir, entry["file"]) if entry["file"] else None
            self.progress({"event": "clip_done", "clip": clip.index, "clips": len(self.plan.clips), "file": path})

    def _write_files(self, entry: dict, clip: Clip, frames: list[np.ndarray]) -> None:
        if should_fail("enospc", clip.index):
            raise OSError(errno.ENOSPC, "No space left on device")
        entry.update(save_frames(self.out_dir, clip.index, frames))
        # Every engine keeps its clips: the UI shows the latest one, and nothing done is lost.
        name = os.path.join("clips", f"clip_{clip.index:03d}.mp4")
        h, w = frames[0].shape[:2]
        spec = VideoSpec(w, h, clip_fps(self.plan, clip), self.options.crf, self.options.preset)
        write_mp4(iter(frames), os.path.join(self.out_dir, name), spec)
        entry["file"] = name
        if self.options.save_frames:
            save_pngs(self.out_dir, clip.index, frames)


def _write_error(exc: OSError, clip: Clip, out_dir: str) -> RenderError:
    full = exc.errno == errno.ENOSPC
    return RenderError(
        f"{'the disk is full' if full else 'cannot write'} while saving clip {clip.index}: {exc.strerror}",
        where=out_dir,
        hint="free some space, then resume: python -m wan resume " + out_dir
        if full
        else "check the folder's permissions, then resume",
    )
