"""Render a plan: run an engine clip by clip, resample to Deforum's fps by time, write the MP4.

Output folder: <name>.mp4, plan.json, manifest.json (status, engine, model, warnings, per clip:
frames, seed, seconds, peak memory, file), clips/clip_NNN.mp4 (each written as soon as the clip is
done), and with `save_frames` each clip's model frames as PNGs under clips/. `progress` receives
{"event": "progress", clip, clips, step, steps, eta} per step and {"event": "clip_done", clip,
clips, file} per finished clip.
"""

from __future__ import annotations

import dataclasses
import errno
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from .errors import RenderError
from .faults import should_fail
from .plan import GenerationPlan
from .plan_io import plan_settings, plan_to_json
from .resume import load_frames, reusable_clips, save_frames
from .timeline import model_index, source_indices
from .video import VideoSpec, metadata_for, soundtrack_from_settings, write_mp4

ENGINES = ("preview", "wan")


@dataclass(frozen=True)
class RenderOptions:
    engine: str = "preview"
    crf: int = 18
    preset: str = "medium"
    captions: bool = True
    save_frames: bool = False
    models_dir: str | None = None
    profile: str = "auto"
    weights: str | None = None  # an explicit diffusers folder or single-file transformer
    resume: bool = False  # reuse the intact clips an earlier run of the same plan left in the folder
    allow_lower_resolution: bool = False  # the last resort after running out of GPU memory


@dataclass(frozen=True)
class RenderResult:
    video: str
    plan_path: str
    manifest: str
    frames: int
    seconds: float
    warnings: tuple[str, ...] = field(default=())


def write_text_atomic(path: str, text: str) -> None:
    tmp = f"{path}.partial"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def shared_count(plan: GenerationPlan, index: int) -> int:
    """How many of clip `index`'s last output frames show times that clip `index + 1` also
    generated (its carried frames): they wait for the next clip, to be blended with it."""
    if index + 1 >= len(plan.clips):
        return 0
    nxt = plan.clips[index + 1]
    clip = plan.clips[index]
    count = 0
    for o in range(nxt.start_frame - 1, clip.start_frame - 1, -1):
        j = model_index(o - nxt.start_frame, plan.fps_out, plan.fps_model, nxt.overlap)
        if not 0 <= j < nxt.overlap:
            break
        count += 1
    return count


def output_frames(
    plan: GenerationPlan,
    render_clip: Callable,
    on_clip: Callable | None = None,
    joiner=None,
    meter=None,
) -> Iterator[np.ndarray]:
    """Model-fps clip frames -> exactly max_frames output frames, nearest frame by time. With a
    joiner (wan/continuity.py) each join is colour-matched and the shared frames blended; the
    meter (wan/seams.py) sees every finished frame."""
    held: list[np.ndarray] = []
    for clip in plan.clips:
        frames = render_clip(clip)
        if len(frames) != clip.num_frames:
            raise RenderError(f"engine returned {len(frames)} frames for clip {clip.index}, expected {clip.num_frames}")
        if on_clip:
            on_clip(clip, frames)
        own = [frames[k] for k in source_indices(clip.start_frame, clip.end_frame, plan.fps_out, plan.fps_model,
                                                  clip.overlap)]  # fmt: skip
        if joiner is not None:
            first_held = clip.start_frame - len(held)
            head = [
                frames[model_index(o - clip.start_frame, plan.fps_out, plan.fps_model, clip.overlap)]
                for o in range(first_held, clip.start_frame)
            ]
            tail, own = joiner.join(clip.index, clip.start_frame, held, head, own)
            keep = shared_count(plan, clip.index)
            ready, held = tail + own[: len(own) - keep], own[len(own) - keep :]
            joiner.last = own[-1]
        else:
            ready = own
        for frame in ready:
            if meter is not None:
                meter.add(frame)
            yield frame
    for frame in held:
        if meter is not None:
            meter.add(frame)
        yield frame


class RenderCancelled(RenderError):
    """The user stopped the render; finished clips and the manifest stay on disk."""


def render(
    plan: GenerationPlan,
    out_dir: str,
    options: RenderOptions = RenderOptions(),
    log=print,
    *,
    cancel: threading.Event | None = None,
    progress: Callable[[dict], None] | None = None,
) -> RenderResult:
    """Render `plan` into `out_dir`. Each finished clip is written at once (clips/clip_NNN.mp4 for
    the wan engine) and recorded in manifest.json, so a crash or a cancel never loses it."""
    if options.engine not in ENGINES:
        raise RenderError(f"unknown engine {options.engine!r}", hint=f"use one of {', '.join(ENGINES)}")
    settings = plan_settings(plan)
    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as exc:
        raise RenderError(f"cannot create the output folder: {exc.strerror}", where=out_dir) from None
    if not os.access(out_dir, os.W_OK):
        raise RenderError("the output folder is not writable", where=out_dir)
    audio, audio_warning = soundtrack_from_settings(settings.get, os.path.dirname(os.path.abspath(plan.source)))
    cancel = cancel or threading.Event()
    engine = _make_engine(plan, settings, options, log)
    warnings = list(engine.warnings) + ([audio_warning] if audio_warning else [])
    for w in warnings:
        log(f"warning: {w}")
    plan_path = os.path.join(out_dir, "plan.json")
    plan_json = plan_to_json(plan)
    _remove_leftovers(out_dir)
    reuse = reusable_clips(out_dir, plan_json) if options.resume else {}
    if reuse:
        log(f"resuming: {len(reuse)} finished clip(s) on disk will be checked and reused")
    elif options.resume:
        log("resuming: no finished clips of this plan here; rendering every clip")
    write_text_atomic(plan_path, plan_json)
    manifest_path = os.path.join(out_dir, "manifest.json")
    video = os.path.join(out_dir, f"{plan.name}.mp4")
    manifest: dict = {
        "status": "rendering",
        "engine": options.engine,
        "model": plan.model,
        "model_path": getattr(getattr(engine, "model", None), "source", None),
        "video": None,
        "frames": plan.max_frames,
        "fps": plan.fps_out,
        "width": plan.width,
        "height": plan.height,
        "soundtrack": audio,
        "warnings": warnings,
        "clips": [],
        "options": {k: v for k, v in dataclasses.asdict(options).items() if k != "resume"},
    }

    def save_manifest() -> None:
        write_text_atomic(manifest_path, json.dumps(manifest, indent=2) + "\n")

    save_manifest()
    started = time.perf_counter()
    finished = [0]
    # Clip files are encoded on a writer thread while the next clip generates (the GPU works, a
    # CPU core encodes). A clip enters the manifest only once its files are on disk.
    writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wan-weave-clip-writer")
    written: list[Future] = []
    lock = threading.Lock()

    def on_step(clip, step: int, steps: int) -> None:
        if cancel.is_set():
            raise RenderCancelled(f"cancelled during clip {clip.index}", where=out_dir)
        if progress:
            done = finished[0] + step / steps
            elapsed = time.perf_counter() - started
            eta = elapsed / done * (len(plan.clips) - done) if done else None
            progress(
                {
                    "event": "progress",
                    "clip": clip.index,
                    "clips": len(plan.clips),
                    "step": step,
                    "steps": steps,
                    "eta": eta,
                }
            )

    if hasattr(engine, "on_step"):
        engine.on_step = on_step
    clip_started = [time.perf_counter()]

    def save_clip(entry: dict, clip, frames) -> None:
        if not entry.get("reused"):
            try:
                if should_fail("enospc", clip.index):
                    raise OSError(errno.ENOSPC, "No space left on device")
                entry.update(save_frames(out_dir, clip.index, frames))
                # Every engine keeps its clips: the UI shows the latest one, and nothing done is lost.
                entry["file"] = _save_clip(out_dir, clip.index, frames, plan, options)
                if options.save_frames:
                    _save_pngs(out_dir, clip.index, frames)
            except OSError as exc:
                full = exc.errno == errno.ENOSPC
                raise RenderError(
                    f"{'the disk is full' if full else 'cannot write'} while saving clip {clip.index}: {exc.strerror}",
                    where=out_dir,
                    hint="free some space, then resume: python -m wan resume " + out_dir
                    if full
                    else "check the folder's permissions, then resume",
                ) from None
        with lock:
            finished_clips[entry["index"]] = entry
            manifest["clips"] = [finished_clips[i] for i in sorted(finished_clips)]
            save_manifest()
        if progress:
            path = os.path.join(out_dir, entry["file"]) if entry["file"] else None
            progress({"event": "clip_done", "clip": clip.index, "clips": len(plan.clips), "file": path})

    def on_clip(clip, frames):
        for future in written:  # a clip that could not be written stops the render now, not at the end
            if future.done() and future.exception() is not None:
                raise future.exception()
        if clip.index in reused:
            entry = {**reuse[clip.index], "reused": True}
        else:
            entry = {
                "index": clip.index,
                "frames": len(frames),
                "seed": clip.seed,
                "seconds": round(time.perf_counter() - clip_started[0], 3),
                "file": None,
                "peak_memory_mb": _peak_memory_mb(),
                "attempts": list(getattr(engine, "attempts", {}).get(clip.index, [])),
            }
        finished[0] += 1
        written.append(writer.submit(save_clip, entry, clip, frames))
        log(f"clip {clip.index + 1}/{len(plan.clips)}: {clip.num_frames} frames at {plan.fps_model} fps")
        if cancel.is_set():
            raise RenderCancelled(f"cancelled after clip {clip.index}", where=out_dir)
        clip_started[0] = time.perf_counter()

    joiner, meter = _continuity(plan, settings, log)
    reused: set[int] = set()
    # A resumed run keeps listing the earlier finished clips from the start: killed again before
    # reaching them, the next run still finds them.
    finished_clips: dict[int, dict] = dict(reuse)
    manifest["clips"] = [finished_clips[i] for i in sorted(finished_clips)]
    save_manifest()

    def produce(clip):
        """The clip's frames: an intact earlier result when resuming, else the engine's."""
        if clip.index in reuse:
            frames = load_frames(out_dir, reuse[clip.index])
            if frames is not None:
                reused.add(clip.index)
                if hasattr(engine, "previous"):
                    engine.previous = (clip, frames)  # the next clip chains from these very frames
                return frames
            log(f"clip {clip.index}: the saved frames are missing or damaged; generating it again")
        return engine.render_clip(clip)

    try:
        try:
            write_mp4(
                output_frames(plan, produce, on_clip, joiner, meter),
                video,
                VideoSpec(plan.width, plan.height, plan.fps_out, options.crf, options.preset),
                expected_frames=plan.max_frames,
                audio=audio,
                metadata=metadata_for(plan_json, plan.settings_json),
            )
        finally:
            writer.shutdown(wait=True)  # whatever happened, every finished clip reaches the disk
        for future in written:
            future.result()  # a clip that could not be written fails the render
    except BaseException as exc:
        cancelled = isinstance(exc, (RenderCancelled, KeyboardInterrupt))
        manifest["status"] = "cancelled" if cancelled else "failed"
        manifest["stopped_at_clip"] = len(manifest["clips"])
        manifest["error"] = None if cancelled else f"{type(exc).__name__}: {exc}"
        save_manifest()
        raise
    seconds = time.perf_counter() - started
    manifest.update(
        profile=getattr(engine, "profile", None),
        profile_reason=getattr(engine, "profile_reason", None),
        status="done",
        video=os.path.basename(video),
        seconds=round(seconds, 3),
        seconds_in_pipeline=round(getattr(engine, "seconds_in_pipeline", 0.0), 3),
        seconds_loading=round(getattr(engine, "seconds_loading", 0.0), 3),
        continuity=dataclasses.asdict(plan.continuity),
        speed=getattr(engine, "speed", []),
        joins=joiner.report if joiner else [],
        seams=meter.report(),
    )
    save_manifest()
    return RenderResult(video, plan_path, manifest_path, plan.max_frames, seconds, tuple(warnings))


def _continuity(plan: GenerationPlan, settings, log):
    """The joiner (None when continuity is off) and the seam meter, sharing one colour anchor:
    the continuity anchor image, else the init image, else (None) the film's first frame."""
    from .continuity import Joiner
    from .images import cover, read_init_image
    from .seams import SeamMeter

    c = plan.continuity
    anchor = None
    if c.anchor:
        import cv2

        full = c.anchor if os.path.isabs(c.anchor) else os.path.join(os.path.dirname(plan.source), c.anchor)
        image = cv2.imread(full, cv2.IMREAD_COLOR)
        if image is None:
            raise RenderError("the continuity anchor image cannot be read", where=full, hint="fix --anchor")
        anchor = cover(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), plan.width, plan.height)
    else:
        image, _ = read_init_image(settings)
        anchor = cover(image, plan.width, plan.height) if image is not None else None
    boundaries = [clip.start_frame for clip in plan.clips[1:]]
    joiner = None if c.blend == "none" and c.color == "none" else Joiner(c, anchor, log)
    return joiner, SeamMeter(boundaries, anchor, sample=4)


def _remove_leftovers(out_dir: str) -> None:
    """Half-written temporary files of a run that was killed (never a finished file)."""
    import glob

    for pattern in (".*.partial.mp4", "*.ffmeta", "*.partial", os.path.join("clips", "*.partial*")):
        for path in glob.glob(os.path.join(out_dir, pattern)):
            try:
                os.remove(path)
            except OSError:
                pass


def _peak_memory_mb() -> float | None:
    # Only an engine that already imported torch can have GPU memory to report: the preview must
    # not pay for importing it.
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    if torch.cuda.is_available():
        return round(torch.cuda.max_memory_allocated() / 2**20, 1)
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # RAM on CPU (Linux: KiB)


def _save_clip(out_dir: str, index: int, frames: list[np.ndarray], plan: GenerationPlan, options: RenderOptions) -> str:
    name = os.path.join("clips", f"clip_{index:03d}.mp4")
    h, w = frames[0].shape[:2]
    write_mp4(iter(frames), os.path.join(out_dir, name), VideoSpec(w, h, plan.fps_model, options.crf, options.preset))
    return name


def _make_engine(plan: GenerationPlan, settings, options: RenderOptions, log):
    if options.engine == "wan":
        from .discovery import models_dir
        from .engine_wan import WanEngine

        return WanEngine(
            plan,
            models_dir(options.models_dir),
            settings,
            log=log,
            profile=options.profile,
            weights=options.weights,
            allow_lower_resolution=options.allow_lower_resolution,
        )
    from .preview import PreviewEngine

    return PreviewEngine(plan, settings, captions=options.captions)


def _save_pngs(out_dir: str, index: int, frames: list[np.ndarray]) -> None:
    import cv2

    folder = os.path.join(out_dir, "clips", f"clip_{index:03d}")
    os.makedirs(folder, exist_ok=True)
    for k, frame in enumerate(frames):
        path = os.path.join(folder, f"frame_{k:04d}.png")
        tmp = path + ".partial.png"
        if not cv2.imwrite(tmp, cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)):
            raise RenderError("cannot write a PNG frame", where=path)
        os.replace(tmp, path)
