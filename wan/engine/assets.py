"""A render's assets, read once: the init image, the Guided Images keyframes, the colour anchor and
the soundtrack. Every part of a render (the enhancer, the engines, the joiner, the muxer) gets this
one frozen value; nothing else in the product reads these files."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from movement.guided import keyframe_images
from movement.settings import DeforumSettings
from wan.engine.errors import EngineError
from wan.engine.images import cover, read_rgb
from wan.media.video import soundtrack_from_settings
from wan.plan.build import GenerationPlan
from wan.plan.inputs import input_paths


@dataclass(frozen=True, eq=False)
class RenderAssets:
    init_source: np.ndarray | None = None  # the init image as read (RGB), for engines that draw larger
    init_image: np.ndarray | None = None  # the init image fitted to the plan's frame
    init_problem: str | None = None  # why the init image the settings name cannot be used
    keyframes: Mapping[int, np.ndarray] = field(default_factory=lambda: MappingProxyType({}))  # fitted
    anchor: np.ndarray | None = None  # the colour anchor: --anchor, else the init image; None: frame 0
    soundtrack: str | None = None
    soundtrack_warning: str | None = None

    def require_init(self, mode: str) -> np.ndarray:
        if self.init_image is None:
            raise EngineError(
                f"{mode} starts from the init image, and there is none usable ({self.init_problem or 'use_init is off'})",
                hint="set use_init and init_image in the settings, or use --mode t2v",
            )
        return self.init_image

    def optional_init(self) -> np.ndarray | None:
        """The init image, None when there is none; one that is named but unusable is an error."""
        if self.init_problem:
            raise EngineError(self.init_problem, hint="fix init_image, or set use_init to false")
        return self.init_image


NO_ASSETS = RenderAssets()


def read_assets(plan: GenerationPlan, settings: DeforumSettings, inputs_root: str | None = None) -> RenderAssets:
    """Read every file a render of `plan` needs, once. Keyframes are read for flf2v_keyframes only
    (other modes ignore Guided Images); a bad keyframe, anchor or soundtrack is an error now, before
    any model loads. With `inputs_root` (jobs from the REST API) every file must be inside it: a
    path outside is refused before anything is opened, so errors never tell what exists elsewhere."""
    base = os.path.dirname(os.path.abspath(settings.source or plan.source or "."))
    if inputs_root is not None:
        confine(plan, settings, base, inputs_root)
    source, problem = _read_init(settings, base)
    init = cover(source, plan.width, plan.height) if source is not None else None
    keyframes = _read_keyframes(settings, base, plan.width, plan.height) if plan.mode == "flf2v_keyframes" else {}
    anchor = init
    if plan.continuity.anchor:
        full = _resolve(plan.continuity.anchor, os.path.dirname(os.path.abspath(plan.source or ".")))
        image = read_rgb(full)
        if image is None:
            raise EngineError("the continuity anchor image cannot be read", where=full, hint="fix --anchor")
        anchor = cover(image, plan.width, plan.height)
    audio, warning = soundtrack_from_settings(settings.get, base)
    return RenderAssets(source, init, problem, MappingProxyType(keyframes), anchor, audio, warning)


def confine(plan: GenerationPlan, settings: DeforumSettings, base: str, inputs_root: str) -> None:
    root = os.path.realpath(inputs_root)
    for key, path in input_paths(plan, settings):
        real = os.path.realpath(_resolve(path, base)) if "://" not in path else ""
        if not real.startswith(root + os.sep):
            raise EngineError(f"{key} {path!r} is outside the folder this job may read", where=inputs_root,
                              hint="put the file in that folder and name it relative to it")  # fmt: skip


def _resolve(path: str, base: str) -> str:
    return path if os.path.isabs(path) else os.path.join(base, path)


def _read_init(settings: DeforumSettings, base: str) -> tuple[np.ndarray | None, str | None]:
    """(RGB image, None), or (None, why it cannot be used); (None, None) when there is none."""
    path = settings.init_image
    if not path:
        return None, None
    if "://" in path:
        return None, f"init_image is a URL ({path}); Wan Weave never downloads at render time"
    full = _resolve(path, base)
    if not os.path.isfile(full):
        return None, f"init_image not found: {full}"
    image = read_rgb(full)
    if image is None:
        return None, f"init_image is not a readable image: {full}"
    return image, None


def _read_keyframes(settings: DeforumSettings, base: str, w: int, h: int) -> dict[int, np.ndarray]:
    """Deforum Guided Images keyframes (use_looper + init_images), read and fitted to w x h."""
    anchors = {}
    for frame, path in keyframe_images(settings):
        full = _resolve(path, base)
        image = read_rgb(full) if "://" not in path else None
        if image is None:
            raise EngineError(
                f"keyframe image at frame {frame} cannot be read: {full}",
                where=settings.source,
                hint="fix the path in init_images (Wan Weave never downloads at render time)",
            )
        anchors[frame] = cover(image, w, h)
    return anchors


