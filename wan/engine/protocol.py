"""What the render runner asks of an engine, declared once: every engine implements `Engine`, and
the runner calls nothing else (no probing for optional attributes)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from wan.plan.build import Clip

StepCallback = Callable[[Clip, int, int], None]  # (clip, step, steps); may raise to cancel


@dataclass(frozen=True)
class EngineReport:
    """What an engine did, for the manifest."""

    model_path: str | None = None
    profile: str | None = None
    profile_reason: str | None = None
    seconds_in_pipeline: float = 0.0
    seconds_loading: float = 0.0
    speed: tuple[str, ...] = ()
    attempts: Mapping[int, tuple[dict, ...]] = field(default_factory=dict)  # per clip: out-of-memory recoveries
    inputs: Mapping[int, dict] = field(default_factory=dict)  # per clip: what reached the pipeline besides text
    depth: str | None = None  # the 3D guide's depth model folder, "flat" without one


@runtime_checkable
class Engine(Protocol):
    name: str
    warnings: list[str]  # known before the first clip (e.g. a test card instead of the init image)

    def render_clip(self, clip: Clip, on_step: StepCallback | None = None) -> list[np.ndarray]:
        """The clip's `num_frames` model frames (RGB uint8), the first `overlap` before its start."""
        ...

    def continue_from(self, clip: Clip, frames: list[np.ndarray]) -> None:
        """The next clip chains from these frames of `clip` (resume hands over frames it reused)."""
        ...

    def guide(self, clip: Clip) -> list[np.ndarray] | None:
        """The camera guide the engine gave the model for `clip` (its model frames), None without one."""
        ...

    def report(self) -> EngineReport: ...
