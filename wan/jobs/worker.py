"""The generation worker: `python -m wan worker`, JSON lines over stdin/stdout.

The WebUI process never imports torch or diffusers: it sends jobs here (DESIGN.md, "Two stacks").
In, one JSON object per line:
  {"type": "render", "id": ID, "plan": {plan.json}, "out": DIR, "options": {RenderOptions fields},
   "enhance": null | "template" | "auto" | NAME | PATH}
  {"type": "enhance", "id": ID, "plan": {...}, "enhance": SPEC, "models": DIR}
  {"type": "cancel", "id": ID}            (read while a job runs)
  {"type": "ping", "id": ID}
Out, one JSON object per line, each with the job's "id" and an "event":
  started · progress {clip, clips, step, steps, eta} · clip_done {clip, clips, file} · log {message}
  · result {...} · cancelled {stopped_at_clip} · error {type, message}
Everything else the libraries print goes to stderr: the protocol owns stdout. The worker keeps its
loaded model between jobs (the next render starts at once); ending the process frees all VRAM.
"""

from __future__ import annotations

import json
import os
import queue
import sys
import threading
import traceback

from movement.errors import WanWeaveError
from wan.plan.plan_json import plan_from_dict, plan_to_dict
from wan.render.errors import RenderCancelled
from wan.render.request import EnhanceOptions, RenderOptions, RenderRequest
from wan.render.run import run_request


class Channel:
    """The protocol's stdout: a private copy of fd 1, while fd 1 itself now points at stderr."""

    def __init__(self):
        self._out = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
        os.dup2(2, 1)
        sys.stdout = sys.stderr
        self._lock = threading.Lock()

    def send(self, job_id, event: str, **data) -> None:
        line = json.dumps({"id": job_id, "event": event, **data}, ensure_ascii=False)
        with self._lock:
            self._out.write(line + "\n")
            self._out.flush()


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


def run_job(job: dict, channel: Channel, cancel: threading.Event) -> None:
    job_id, kind = job.get("id"), job.get("type")
    channel.send(job_id, "started", type=kind)
    try:
        if kind == "ping":
            channel.send(job_id, "result", pong=True, pid=os.getpid())
            return
        plan = plan_from_dict(job["plan"], where="job plan")
        if kind == "enhance":
            plan, prompts, model, reason = _enhance(
                plan, job.get("enhance") or "auto", job.get("models"), channel, job_id
            )
            channel.send(job_id, "result", plan=plan_to_dict(plan), prompts=[p.to_dict() for p in prompts],
                         model=model, model_reason=reason)  # fmt: skip
            return
        if kind != "render":
            raise WanWeaveError(f"unknown job type {kind!r}", hint="render, enhance, cancel or ping")
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
        with open(os.path.join(job["out"], "manifest.json"), encoding="utf-8") as fh:
            stopped = json.load(fh).get("stopped_at_clip")
        channel.send(job_id, "cancelled", stopped_at_clip=stopped)
    except Exception as exc:  # every failure becomes a readable event; the worker stays up
        traceback.print_exc(file=sys.stderr)
        channel.send(job_id, "error", **_error(exc))


def serve() -> int:
    channel = Channel()
    jobs: queue.Queue = queue.Queue()
    cancels: dict = {}

    def read() -> None:
        for line in sys.stdin:
            if not line.strip():
                continue
            try:
                message = json.loads(line)
            except ValueError as exc:
                channel.send(None, "error", type="ProtocolError", message=f"not JSON: {exc}")
                continue
            if message.get("type") == "cancel":
                cancels.setdefault(message.get("id"), threading.Event()).set()
            else:
                cancels.setdefault(message.get("id"), threading.Event())
                jobs.put(message)
        jobs.put(None)  # stdin closed: the host is gone, finish and exit

    threading.Thread(target=read, daemon=True, name="wan-weave-worker-stdin").start()
    channel.send(None, "ready", pid=os.getpid())
    for job in iter(jobs.get, None):
        run_job(job, channel, cancels[job.get("id")])
        cancels.pop(job.get("id"), None)
    return 0


def add_worker_command(commands) -> None:
    p = commands.add_parser(
        "worker",
        help="run the generation worker (JSON lines on stdin/stdout; used by the UI)",
        description="The generation worker: jobs in on stdin, events out on stdout, one JSON object per line.",
    )
    p.set_defaults(handler=lambda args: serve())
