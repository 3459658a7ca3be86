"""Render a plan: run an engine clip by clip, resample to Deforum's fps by time, write the MP4.

Output folder: <name>.mp4, plan.json, manifest.json (status, engine, model, warnings, per clip:
frames, seed, seconds, peak memory, file), clips/clip_NNN.mp4 (each written as soon as the clip is
done), and with `save_frames` each clip's model frames as PNGs under clips/. `progress` receives
{"event": "progress", clip, clips, step, steps, eta} per step and {"event": "clip_done", clip,
clips, file} per finished clip.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

from wan.engine.assets import RenderAssets, read_assets
from wan.media.joins import Joiner
from wan.media.video import VideoSpec, metadata_for, write_mp4
from wan.plan.build import GenerationPlan
from wan.plan.plan_json import plan_settings, plan_to_json
from wan.render.clip_loop import ClipLoop
from wan.render.clip_writer import ClipWriter
from wan.render.engines import make_engine
from wan.render.files import folder_lock, inside, prepare_folder, remove_leftovers, write_text_atomic
from wan.render.finish import Finisher
from wan.render.frames import output_frames
from wan.render.manifest import Manifest
from wan.render.meters import FilmMeters
from wan.render.request import RenderOptions, RenderResult
from wan.render.resume import reusable_clips


def render(
    plan: GenerationPlan,
    out_dir: str,
    options: RenderOptions = RenderOptions(),
    log=print,
    *,
    cancel: threading.Event | None = None,
    progress: Callable[[dict], None] | None = None,
    assets: RenderAssets | None = None,
) -> RenderResult:
    """Render `plan` into `out_dir`. Each finished clip is written at once (clips/clip_NNN.mp4)
    and recorded in manifest.json, so a crash or a cancel never loses it. `assets` are the files
    the render needs, read once (read here when not given)."""
    prepare_folder(out_dir)
    with folder_lock(out_dir):
        return _render(plan, out_dir, options, log, cancel, progress, assets)


def _render(plan, out_dir, options, log, cancel, progress, assets) -> RenderResult:
    settings = plan_settings(plan)
    assets = assets if assets is not None else read_assets(plan, settings, options.inputs_root)
    engine = make_engine(plan, settings, assets, options, log)
    warnings = [*engine.warnings, *([assets.soundtrack_warning] if assets.soundtrack_warning else [])]
    known = len(engine.warnings)  # an engine may find more on the way (no depth model for a 3D guide)
    for w in warnings:
        log(f"warning: {w}")
    # Before anything is written: a missing upscaler is an error now, not a manifest left "rendering".
    finisher = Finisher(plan.post, options.models_dir, options.profile, log, preview=options.engine == "preview")
    spec = VideoSpec(plan.width * finisher.scale, plan.height * finisher.scale, plan.fps_out, options.crf, options.preset)
    plan_json = plan_to_json(plan)
    reuse = _reusable(out_dir, plan_json, options.resume, log)
    plan_path = os.path.join(out_dir, "plan.json")
    write_text_atomic(plan_path, plan_json)
    manifest = Manifest(out_dir, plan, options, engine.report().model_path, assets.soundtrack, warnings)
    manifest.save()
    # A resumed run keeps listing the earlier finished clips from the start: killed again before
    # reaching them, the next run still finds them.
    manifest.record_clips(reuse)
    writer = ClipWriter(out_dir, plan, options, manifest, progress)
    joiner = _joiner(plan, assets, log)
    meters = FilmMeters(plan, settings, assets.anchor)
    manifest.data.update(post=finisher.report(), width=spec.width, height=spec.height)
    loop = ClipLoop(plan, out_dir, engine, writer, reuse, cancel or threading.Event(), progress, log, meters)
    video = inside(out_dir, f"{plan.name}.mp4")
    started = time.perf_counter()
    try:
        try:
            write_mp4(
                finisher.frames(output_frames(plan, loop.produce, loop.on_clip, joiner, meters, finisher.interpolator)),
                video,
                spec,
                expected_frames=plan.max_frames,
                audio=assets.soundtrack,
                metadata=metadata_for(plan_json, plan.settings_json),
            )
        finally:
            writer.close()
        writer.check()
    except BaseException as exc:
        manifest.stopped(exc)
        raise
    seconds = time.perf_counter() - started
    warnings += engine.warnings[known:]
    manifest.data["post"] = finisher.report()
    manifest.done(video, seconds, engine.report(), joiner.report if joiner else [], meters, warnings)
    return RenderResult(video, plan_path, manifest.path, plan.max_frames, seconds, tuple(warnings))


def _reusable(out_dir: str, plan_json: str, resume: bool, log) -> dict[int, dict]:
    remove_leftovers(out_dir)
    if not resume:
        return {}
    reuse = reusable_clips(out_dir, plan_json)
    if reuse:
        log(f"resuming: {len(reuse)} finished clip(s) on disk will be checked and reused")
    else:
        log("resuming: no finished clips of this plan here; rendering every clip")
    return reuse


def _joiner(plan: GenerationPlan, assets: RenderAssets, log) -> Joiner | None:
    """The joiner (None when continuity is off). It and the meters share one colour anchor: the
    continuity anchor image, else the init image, else (None) the film's first frame."""
    c = plan.continuity
    return None if c.blend == "none" and c.color == "none" else Joiner(c, assets.anchor, log)
