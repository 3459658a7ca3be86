"""The plan's post block at render time: the interpolator the frame mapping uses, and the upscale
and grade every finished film frame goes through on its way to the encoder (so they run on each
clip's frames as soon as that clip is done, not after the whole film)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Iterator

import numpy as np

from wan.media.grade import Grade, apply_grade
from wan.media.interpolate import make_interpolator
from wan.plan.post import Post


class Finisher:
    def __init__(self, post: Post, models_dir: str | None, profile: str, log=print, preview: bool = False) -> None:
        if preview:
            # The animatic shows the camera and the prompt timing, at hundreds of frames a second:
            # optical flow and an upscaler would make it a wait and show nothing it is for.
            if post.upscale:
                log("preview: no upscale and frames picked by time (the grade is shown)")
            post = dataclasses.replace(post, interpolate="nearest", upscale=None)
        self.post = post
        self.interpolator = make_interpolator(post.interpolate)
        self.grade = Grade(post.contrast, post.saturation, post.brightness, post.sharpen)
        self.upscaler = None
        self.seconds_upscaling = 0.0
        if post.upscale:
            # Only an upscale needs torch: a preview without one must not pay for importing it.
            from wan.media.upscale import Upscaler, find_upscaler, tile_for_profile
            from wan.models.discovery import models_dir as default_models_dir

            path = find_upscaler(default_models_dir(models_dir), post.upscale)
            self.upscaler = Upscaler(path, _device(), tile_for_profile(profile))
            log(f"upscaling {self.upscaler.scale}x with {self.upscaler.name} (tiles of {self.upscaler.tile or 'the whole'} px)")

    @property
    def scale(self) -> int:
        return self.upscaler.scale if self.upscaler is not None else 1

    def frames(self, frames: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        identity = self.grade.is_identity()
        for frame in frames:
            if self.upscaler is not None:
                started = time.perf_counter()
                frame = self.upscaler.upscale(frame)
                self.seconds_upscaling += time.perf_counter() - started
            yield frame if identity else apply_grade(frame, self.grade)

    def report(self) -> dict:
        return {
            "interpolator": self.interpolator.name,
            "upscaler": self.upscaler.name if self.upscaler is not None else None,
            "scale": self.scale,
            "grade": None if self.grade.is_identity() else {
                "contrast": self.post.contrast, "saturation": self.post.saturation,
                "brightness": self.post.brightness, "sharpen": self.post.sharpen,
            },
            "seconds_upscaling": round(self.seconds_upscaling, 3),
        }  # fmt: skip


def _device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"
