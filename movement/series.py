"""All schedules of a settings file as per-frame series."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from .keyframes import evaluate_schedule, evaluate_text_schedule
from .settings import TEXT_SCHEDULE_KEYS, DeforumSettings


@dataclass(frozen=True, eq=False)
class Schedules:
    max_frames: int
    fps: float
    animation_mode: str
    width: int
    height: int
    series: Mapping[str, np.ndarray]
    text_series: Mapping[str, tuple[str, ...]]

    def __getitem__(self, key: str) -> np.ndarray:
        return self.series[key]


def build_schedules(settings: DeforumSettings, keys: Iterable[str] | None = None) -> Schedules:
    """Evaluate the named schedules (all of them by default); `s` is the settings' seed."""
    wanted = None if keys is None else set(keys)
    series: dict[str, np.ndarray] = {}
    text: dict[str, tuple[str, ...]] = {}
    for key, value in settings.schedules:
        if wanted is not None and key not in wanted:
            continue
        common = {"max_frames": settings.max_frames, "seed": settings.seed, "key": key, "file": settings.source}
        if key in TEXT_SCHEDULE_KEYS:
            text[key] = evaluate_text_schedule(value, **common)
        else:
            series[key] = evaluate_schedule(value, **common)
    return Schedules(
        max_frames=settings.max_frames,
        fps=settings.fps,
        animation_mode=settings.animation_mode,
        width=settings.width,
        height=settings.height,
        series=MappingProxyType(series),
        text_series=MappingProxyType(text),
    )
