"""One render request, the same way from every door (the CLI, a queued job, the worker): read the
assets once, write the prompts, render."""

from __future__ import annotations

import threading
from collections.abc import Callable

from prompt_enhance.enhance import fill_missing
from wan.engine.assets import read_assets
from wan.models.discovery import models_dir
from wan.plan.plan_json import plan_settings
from wan.render.prompts import enhance
from wan.render.request import RenderRequest, RenderResult
from wan.render.runner import render


def run_request(
    request: RenderRequest,
    log=print,
    *,
    cancel: threading.Event | None = None,
    progress: Callable[[dict], None] | None = None,
) -> RenderResult:
    plan = request.plan
    assets = read_assets(plan, plan_settings(plan), request.options.inputs_root)
    e = request.enhance
    if e.spec is None:
        plan = fill_missing(plan)  # a plan keeps its prompts; clips without one get the template
    else:
        plan, _, model, reason = enhance(
            plan, e.spec, models_dir(request.options.models_dir), e.cache_dir, e.lang, log, assets
        )
        log(f"prompts: {model or 'template'} ({e.why or reason})")
    return render(plan, request.out_dir, request.options, log, cancel=cancel, progress=progress, assets=assets)
