"""The engine a render asks for, built from the plan, its assets and the render options."""

from __future__ import annotations

from movement.settings import DeforumSettings
from wan.engine.assets import RenderAssets
from wan.engine.protocol import Engine
from wan.plan.build import GenerationPlan
from wan.render.errors import RenderError
from wan.render.request import ENGINES, RenderOptions


def make_engine(plan: GenerationPlan, settings: DeforumSettings, assets: RenderAssets, options: RenderOptions,
                log) -> Engine:  # fmt: skip
    if options.engine == "wan":
        from wan.engine.wan_engine import WanEngine
        from wan.models.discovery import models_dir

        return WanEngine(plan, models_dir(options.models_dir), assets, log=log, profile=options.profile,
                         weights=options.weights, allow_lower_resolution=options.allow_lower_resolution,
                         settings=settings)  # fmt: skip
    if options.engine == "preview":
        from wan.engine.preview import PreviewEngine

        return PreviewEngine(plan, settings, assets, captions=options.captions)
    raise RenderError(f"unknown engine {options.engine!r}", hint=f"use one of {', '.join(ENGINES)}")
