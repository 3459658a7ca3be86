"""The generation worker: `python -m wan worker`, JSON lines over stdin/stdout.

The WebUI process never imports torch or diffusers: it sends jobs here (DESIGN.md, "Two stacks").
In, one JSON object per line:
  {"type": "render", "id": ID, "plan": {plan.json}, "out": DIR, "options": {RenderOptions fields},
   "enhance": null | "template" | "auto" | NAME | PATH}
  {"type": "enhance", "id": ID, "plan": {...}, "enhance": SPEC, "models": DIR}
  {"type": "keyframes", "id": ID, "out": DIR, "settings": FILE | "paragraph": TEXT, "seconds": S, "fps": F,
   "storyboard": "template" | "auto" | NAME, "models": DIR, "width", "height", "steps", "seed", "keep", "guidance",
   "image_model"}
     -> result {settings: the Guided Images settings file, storyboard: the settings it wrote, or null}
  {"type": "cancel", "id": ID}            (read while a job runs)
  {"type": "ping", "id": ID}
Out, one JSON object per line, each with the job's "id" and an "event":
  started · progress {clip, clips, step, steps, eta} · clip_done {clip, clips, file} · log {message}
  · result {...} · cancelled {stopped_at_clip} · error {type, message}
and, with "id": null: ready {pid} at start, alive every 5 s (a silent worker is a hung one), and
error {type: "ProtocolError"} for a line that is not a JSON object (the worker reads on).
When the host goes (stdin closes, the events pipe breaks, or the parent process dies) the worker
cancels its job and exits within a second.
Everything else the libraries print goes to stderr: the protocol owns stdout. The worker keeps its
loaded model between jobs (the next render starts at once); ending the process frees all VRAM.
"""

from __future__ import annotations

import json
import os
import queue
import sys
import threading
import time
import traceback

from movement.errors import WanWeaveError
from wan.plan.plan_json import plan_from_dict, plan_to_dict
from wan.render.errors import RenderCancelled
from wan.render.request import EnhanceOptions, RenderOptions, RenderRequest
from wan.render.run import run_request

HEARTBEAT_S = 5.0  # an "alive" event this often, so the client can tell a busy worker from a hung one
PARENT_POLL_S = 0.25
EXIT_GRACE_S = 0.6  # after the host is gone, this long for the current step to stop, then exit
JOB_TYPES = ("render", "enhance", "keyframes", "ping")


class Channel:
    """The protocol's stdout: a private copy of fd 1, while fd 1 itself now points at stderr."""

    def __init__(self, on_gone):
        self._out = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
        os.dup2(2, 1)
        sys.stdout = sys.stderr
        self._lock = threading.Lock()
        self._on_gone = on_gone

    def send(self, job_id, event: str, **data) -> None:
        line = json.dumps({"id": job_id, "event": event, **data}, ensure_ascii=False)
        with self._lock:
            try:
                self._out.write(line + "\n")
                self._out.flush()
            except (BrokenPipeError, OSError, ValueError):
                # The host is gone. Never raise into the render: a frame producer that raised here
                # once looked like ffmpeg's broken pipe, and worker and ffmpeg waited on each other.
                self._on_gone("the host closed the events pipe")


def _error(exc: BaseException) -> dict:
    if isinstance(exc, WanWeaveError):
        return {"type": type(exc).__name__, "message": exc.one_line()}
    name = type(exc).__name__
    if "OutOfMemory" in name:
        return {"type": "OutOfMemory", "message": f"out of GPU memory: {exc}; try --profile low or a smaller size"}
    return {"type": "InternalError", "message": f"{name}: {exc}"}


def _enhance(plan, spec: str, models: str | None, channel: Channel, job_id):
    from prompt_enhance.cache import default_dir
    from wan.engine.assets import NO_ASSETS, read_assets
    from wan.models.discovery import models_dir
    from wan.plan.plan_json import plan_settings
    from wan.render.prompts import enhance

    log = lambda m: channel.send(job_id, "log", message=m)  # noqa: E731
    assets = read_assets(plan, plan_settings(plan)) if spec != "template" else NO_ASSETS
    return enhance(plan, spec, models_dir(models), default_dir(), None, log, assets)


def _keyframes(job: dict, log, cancel: threading.Event) -> dict:
    """A paragraph (storyboarded: the template, or a local Qwen model) or a settings file -> the
    keyframe images and their Guided Images settings, in job["out"]."""
    from wan.render.keyframes import KeyframeRequest, make_keyframes

    out = job.get("out")
    if not isinstance(out, str) or not (isinstance(job.get("settings"), str) or isinstance(job.get("paragraph"), str)):
        raise WanWeaveError("a keyframes job needs an 'out' folder and a 'settings' file or a 'paragraph'")
    settings, written = job.get("settings"), None
    if settings is None:
        settings = written = _storyboard(job, out, log)
    numbers = {k: job[k] for k in ("width", "height", "steps", "seed", "keep", "guidance")
               if isinstance(job.get(k), (int, float)) and not isinstance(job.get(k), bool)}  # fmt: skip
    numbers = {k: float(v) if k in ("keep", "guidance") else int(v) for k, v in numbers.items()}
    image_model = job.get("image_model") if isinstance(job.get("image_model"), str) else None
    req = KeyframeRequest(settings, out, job.get("models"), image_model=image_model, **numbers)
    return {"settings": make_keyframes(req, log, cancel.is_set), "storyboard": written}


def _storyboard(job: dict, out: str, log) -> str:
    from wan.models.discovery import models_dir
    from wan.render.files import prepare_folder, write_text_atomic
    from wan.render.storyboard import film_settings

    settings = film_settings(job["paragraph"], float(job.get("seconds") or 8), float(job.get("fps") or 24),
                             job.get("storyboard") or "template", models_dir(job.get("models")), log)  # fmt: skip
    prepare_folder(out)
    path = os.path.join(out, "storyboard.txt")
    write_text_atomic(path, json.dumps(settings, ensure_ascii=False, indent=2) + "\n")
    log(f"storyboard: {len(settings['prompts'])} shots, {settings['max_frames']} frames")
    return path


def run_job(job: dict, channel: Channel, cancel: threading.Event) -> None:
    job_id, kind = job.get("id"), job.get("type")
    channel.send(job_id, "started", type=kind)
    try:
        if kind not in JOB_TYPES:
            raise WanWeaveError(f"unknown job type {kind!r}", hint="render, enhance, keyframes, cancel or ping")
        if kind == "ping":
            channel.send(job_id, "result", pong=True, pid=os.getpid())
            return
        if kind == "keyframes":
            channel.send(job_id, "result", **_keyframes(job, lambda m: channel.send(job_id, "log", message=m), cancel))
            return
        if not isinstance(job.get("plan"), dict) or (kind == "render" and not isinstance(job.get("out"), str)):
            raise WanWeaveError(f"a {kind} job needs a 'plan' object" + (" and an 'out' folder" if kind == "render" else ""))
        plan = plan_from_dict(job["plan"], where="job plan")
        if kind == "enhance":
            plan, prompts, model, reason = _enhance(
                plan, job.get("enhance") or "auto", job.get("models"), channel, job_id
            )
            channel.send(job_id, "result", plan=plan_to_dict(plan), prompts=[p.to_dict() for p in prompts],
                         model=model, model_reason=reason)  # fmt: skip
            return
        from prompt_enhance.cache import default_dir

        options = RenderOptions.from_dict(job.get("options") or {})
        request = RenderRequest(plan, job["out"], options, EnhanceOptions(job.get("enhance") or None, default_dir()))
        result = run_request(
            request,
            log=lambda m: channel.send(job_id, "log", message=m),
            cancel=cancel,
            progress=lambda e: channel.send(job_id, e.pop("event"), **e),
        )
        channel.send(job_id, "result", video=os.path.abspath(result.video), manifest=os.path.abspath(result.manifest),
                     plan=os.path.abspath(result.plan_path), frames=result.frames, seconds=round(result.seconds, 3),
                     warnings=list(result.warnings))  # fmt: skip
    except RenderCancelled:
        try:
            with open(os.path.join(job["out"], "manifest.json"), encoding="utf-8") as fh:
                stopped = json.load(fh).get("stopped_at_clip")
        except (OSError, ValueError, AttributeError):
            stopped = None
        channel.send(job_id, "cancelled", stopped_at_clip=stopped)
    except Exception as exc:  # every failure becomes a readable event; the worker stays up
        traceback.print_exc(file=sys.stderr)
        channel.send(job_id, "error", **_error(exc))


class Worker:
    """The worker's state: the job queue, each job's cancel event, and how it ends when the host goes."""

    def __init__(self) -> None:
        self.jobs: queue.Queue = queue.Queue()
        self.cancels: dict = {}
        self.channel = Channel(self.host_gone)
        self._leaving = threading.Event()

    def read(self, stream) -> None:
        """Messages from the host, one JSON object per line; anything else is answered and skipped."""
        for line in stream:
            if line.strip():
                self._take(line)
        self.host_gone("stdin closed")

    def _take(self, line: str) -> None:
        try:
            message = json.loads(line)
        except (ValueError, RecursionError) as exc:
            self.channel.send(None, "error", type="ProtocolError", message=f"not JSON: {str(exc)[:200]}")
            return
        if not isinstance(message, dict) or not isinstance(message.get("id"), (int, str, type(None))):
            self.channel.send(None, "error", type="ProtocolError",
                              message="each line must be a JSON object with an integer or string 'id'")  # fmt: skip
            return
        job_id = message.get("id")
        if message.get("type") == "cancel":
            self.cancels.setdefault(job_id, threading.Event()).set()
        else:
            self.cancels.setdefault(job_id, threading.Event())
            self.jobs.put(message)

    def host_gone(self, why: str) -> None:
        """The host died or closed the pipe: stop the current job, and leave even if it does not
        stop in time (a GPU step can take seconds). Finished clips are on disk already; leaving
        frees the GPU, and our ffmpeg children see their input close and end."""
        if self._leaving.is_set():
            return
        self._leaving.set()
        threading.Timer(EXIT_GRACE_S, os._exit, args=(0,)).start()
        for event in list(self.cancels.values()):
            event.set()
        self.jobs.put(None)
        try:
            print(f"wan-weave worker: {why}; stopping", file=sys.stderr, flush=True)
        except (OSError, ValueError):  # stderr went with the host
            pass

    def watch(self) -> None:
        """Heartbeats for the client; and the parent's death noticed within a second, even when
        something else still holds our stdin open (a parent's death re-parents us)."""
        parent, last = os.getppid(), time.monotonic()
        while not self._leaving.wait(PARENT_POLL_S):
            if os.getppid() != parent:
                self.host_gone(f"the host process {parent} is gone")
            elif time.monotonic() - last >= HEARTBEAT_S:
                self.channel.send(None, "alive")
                last = time.monotonic()

    def serve(self) -> int:
        threading.Thread(target=self.read, args=(sys.stdin,), daemon=True, name="wan-weave-worker-stdin").start()
        threading.Thread(target=self.watch, daemon=True, name="wan-weave-worker-watch").start()
        self.channel.send(None, "ready", pid=os.getpid())
        for job in iter(self.jobs.get, None):
            run_job(job, self.channel, self.cancels[job.get("id")])
            self.cancels.pop(job.get("id"), None)
        return 0


def serve() -> int:
    return Worker().serve()


def add_worker_command(commands) -> None:
    p = commands.add_parser(
        "worker",
        help="run the generation worker (JSON lines on stdin/stdout; used by the UI)",
        description="The generation worker: jobs in on stdin, events out on stdout, one JSON object per line.",
    )
    p.set_defaults(handler=lambda args: serve())
