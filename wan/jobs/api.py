"""The REST API, `/wan-weave/v1`, mounted in the WebUI (`on_app_started`) and in the standalone app.

Jobs go into the persistent queue (queue.py) in the output root; one runner thread hands them,
one at a time, to the generation worker that the tab also uses, so two submissions never share the
GPU. Bodies are limited in size and checked against a JSON schema; job folders get sanitised names
inside the output root; `--api-auth user:pass[,user:pass]` (the WebUI's flag) turns on HTTP Basic
auth. FastAPI publishes the OpenAPI schema at /openapi.json.
"""

# No `from __future__ import annotations`: FastAPI reads the route functions' annotations as objects.

import base64
import dataclasses
import json
import os
import secrets
import threading
import traceback

import jsonschema

from movement.errors import WanWeaveError
from wan.jobs.errors import JobError
from wan.jobs.queue import Queue, safe_name
from wan.plan.plan_json import depth
from wan.render.request import RenderOptions

PREFIX = "/wan-weave/v1"
RETRY_S = 5.0  # the queue thread's pause after the queue could not be read
MAX_BODY = 1 << 20  # 1 MiB: a settings file is a few KiB
RENDER_KEYS = ("engine", "profile")  # how to render; the rest are plan options
RENDER_FIELDS = tuple(f.name for f in dataclasses.fields(RenderOptions) if f.name != "resume")
INPUTS = "inputs"  # <root>/inputs: the only folder an API job's files (init image, keyframes, audio) come from
MAX_DEPTH = 32  # a job is a few levels deep; deeper is an attack on the validator's stack
JOB_ID = {"ge": 1, "le": 2**63 - 1}  # SQLite's integer range
PLAN_KEYS = ("model", "mode", "width", "height", "steps", "max_clip_frames", "overlap")
JOB_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "maxLength": 200},
        "settings": {"type": "object"},
        "plan": {"type": "object"},
        "options": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "engine": {"enum": ["wan", "preview"]},
                "profile": {"enum": ["auto", "full", "balanced", "low", "minimal"]},
                "model": {"type": "string"},
                "mode": {"type": "string"},
                "width": {"type": "integer", "minimum": 16, "maximum": 4096},
                "height": {"type": "integer", "minimum": 16, "maximum": 4096},
                "steps": {"type": "integer", "minimum": 1, "maximum": 1000},
                "seed": {"type": "integer", "minimum": -1},
                "max_clip_frames": {"type": "integer", "minimum": 5},
                "overlap": {"type": "integer", "minimum": 0},
                "post": {"type": "string", "maxLength": 500},  # as --post writes it (wan/plan/post.py)
            },
        },
    },
    "oneOf": [{"required": ["settings"]}, {"required": ["plan"]}],
}


class QueueRunner:
    """Runs the queue's jobs one at a time through the worker; wakes up on each submission."""

    def __init__(self, root: str, worker, models_dir: str, log=print):
        self.queue = Queue(root)
        self.worker, self.models_dir, self.log = worker, models_dir, log
        self.progress: dict[int, dict] = {}
        self.running: int | None = None
        self.error: str | None = None  # why the queue cannot be read now (GET /jobs shows it)
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="wan-weave-queue")
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        while True:
            try:
                self._run_next()
            except Exception as exc:  # the thread must outlive a locked or damaged queue file
                error = f"{type(exc).__name__}: {exc}"
                if error != self.error:  # the whole story once, not every few seconds
                    self.log(f"wan-weave queue: {error}; trying again every {RETRY_S:.0f} s\n{traceback.format_exc()}")
                self.error = error
                self._wake.wait(timeout=RETRY_S)
                self._wake.clear()

    def _run_next(self) -> None:
        from wan.jobs.outcome import record_outcome

        job = self.queue.next_job()
        self.error = None  # the queue reads again
        if job is None:
            self._wake.wait(timeout=5)
            self._wake.clear()
            return
        self.running = job.id
        # The job renders as it was queued (by the API or by `batch`): its own options, and the
        # app's models folder only where the job named none.
        saved = {k: v for k, v in job.options.items() if k in RENDER_FIELDS}
        options = {**saved, "models_dir": saved.get("models_dir") or self.models_dir, "resume": True}

        def on_event(event, job_id=job.id):
            if event.get("event") in ("progress", "clip_done"):
                self.progress[job_id] = {k: event.get(k) for k in ("clip", "clips", "step", "steps", "eta")}
            if event.get("event") == "clip_done":
                self.queue.clip_done(job_id, event["clip"], event.get("file"))

        def work():
            # Parsed inside the recorded work: a damaged payload fails this job, not the thread.
            request = {"type": "render", "plan": json.loads(job.payload), "out": job.out, "options": options}
            return self.worker.run(request, on_event)["video"]

        try:
            record_outcome(self.queue, job, work, self.log)
        finally:
            self.running = None

    def cancel(self, job_id: int) -> bool:
        if self.running == job_id:
            self.worker.cancel()
            return True
        return self.queue.cancel(job_id)


def parse_auth(spec: str | None) -> dict[str, str]:
    pairs = [p.split(":", 1) for p in (spec or "").split(",") if ":" in p]
    return {user.strip(): password for user, password in pairs}


def authorized(header: str, users: dict[str, str]) -> bool:
    """An HTTP Basic `Authorization` header that names a user with the right password."""
    try:
        user, _, password = base64.b64decode(header.removeprefix("Basic "), validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):  # binascii.Error is a ValueError; so is a non-ASCII header
        return False
    return header.startswith("Basic ") and secrets.compare_digest(users.get(user, "\0"), password)


class BasicAuthMiddleware:
    """HTTP Basic auth on every route of an ASGI app (the standalone app under --api-auth: the page,
    gradio's routes, /openapi.json and /wan-weave/v1 alike)."""

    def __init__(self, app, users: dict[str, str]):
        self.app, self.users = app, users

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        header = dict(scope.get("headers") or []).get(b"authorization", b"").decode("latin-1")
        # gradio 4's launch() starts its own queue by calling this route without credentials; it
        # only starts the queue (once), so it stays open.
        if authorized(header, self.users) or scope.get("path") == "/startup-events":
            return await self.app(scope, receive, send)
        if scope["type"] == "websocket":
            return await send({"type": "websocket.close", "code": 1008})
        await send({"type": "http.response.start", "status": 401,
                    "headers": [(b"www-authenticate", b'Basic realm="Wan Weave"'), (b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})


def plan_json_for(body: dict, root: str) -> tuple[str, str]:
    """(name, plan JSON) for a submission, its prompts filled in as every render fills them (the
    same plan as `batch` queues); WanWeaveError when the settings or plan are not valid, or name a
    file outside <root>/inputs."""
    from movement import settings_from_mapping
    from prompt_enhance.enhance import fill_missing
    from wan.plan.build import PlanOptions, plan_with_seed
    from wan.plan.plan_json import plan_from_dict, plan_settings, plan_to_json

    name = safe_name(body.get("name") or "api-job")
    options = body.get("options", {})
    # Relative paths in the job resolve in <root>/inputs, whatever source the client claims.
    source = os.path.join(root, INPUTS, f"{name}.txt")
    if "plan" in body:
        plan = dataclasses.replace(plan_from_dict(body["plan"], where="the submitted plan"), source=source)
        settings = plan_settings(plan)
    else:
        settings = settings_from_mapping(body["settings"], source=source)
        from wan.plan.post import parse_post

        post = parse_post(options["post"], where="options.post") if options.get("post") else None
        plan_options = PlanOptions(**{k: options[k] for k in PLAN_KEYS if k in options}, seed=options.get("seed"),
                                   post=post)  # fmt: skip
        plan = plan_with_seed(settings, plan_options)
    _check_inputs(plan, settings)
    return name, plan_to_json(fill_missing(plan))


def _check_inputs(plan, settings) -> None:
    from wan.plan.inputs import input_paths, outside_problem

    for key, path in input_paths(plan, settings):
        problem = outside_problem(path)
        if problem:
            raise JobError(f"{key} {path!r} {problem}", where="the submitted job",
                           hint=f"put the file in the output root's {INPUTS}/ folder and name it relative to it")  # fmt: skip


def read_job(body: bytes) -> tuple[dict | None, str | None, int]:
    """(the job, None, 200), or (None, why not, HTTP status) for a body that is not a valid job."""
    if len(body) > MAX_BODY:
        return None, f"payload larger than {MAX_BODY} bytes", 413
    try:
        data = json.loads(body)
        if depth(data, MAX_DEPTH) > MAX_DEPTH:
            return None, f"the job nests more than {MAX_DEPTH} levels deep", 422
        jsonschema.validate(data, JOB_SCHEMA)
    except (ValueError, RecursionError) as exc:
        return None, f"not valid JSON: {str(exc)[:200]}", 400
    except jsonschema.ValidationError as exc:
        return None, f"invalid job: {exc.message[:300]}", 422
    return data, None, 200


def _router(auth: str | None):
    """A router for /wan-weave/v1 whose every route asks for the credentials when `auth` is set."""
    from fastapi import APIRouter, Depends, HTTPException, Request

    users = parse_auth(auth)

    def check_auth(request: Request) -> None:
        if users and not authorized(request.headers.get("authorization", ""), users):
            raise HTTPException(401, "authentication required", headers={"WWW-Authenticate": "Basic"})

    return APIRouter(prefix=PREFIX, tags=["wan-weave"], dependencies=[Depends(check_auth)])


def mount_status(app, status, auth: str | None = None) -> None:
    """GET /wan-weave/v1/status (the WebUI's), under the same credentials as the other routes."""
    router = _router(auth)
    router.add_api_route("/status", status, methods=["GET"])
    app.include_router(router)


def mount(app, runner: QueueRunner, auth: str | None = None) -> None:
    """Add the /wan-weave/v1 routes to a FastAPI app (the WebUI's or the standalone app's)."""
    from fastapi import HTTPException, Path, Request
    from fastapi.concurrency import run_in_threadpool
    from fastapi.responses import FileResponse, JSONResponse

    router = _router(auth)
    queue, root = runner.queue, runner.queue.root

    def describe(job) -> dict:
        video = f"{PREFIX}/jobs/{job.id}/video" if job.state == "done" and job.video else None
        return {"job_id": job.id, "name": job.name, "state": job.state, "attempts": job.attempts,
                "error": job.error, "clips": queue.clips(job.id), "progress": runner.progress.get(job.id),
                "output_url": video}  # fmt: skip

    @router.post("/jobs", status_code=202)
    async def submit(request: Request):
        data, error, status = read_job(await request.body())
        if error:
            return JSONResponse({"error": error}, status_code=status)
        try:
            # Planning a long film takes seconds: off the event loop, so other requests go on.
            name, plan_json = await run_in_threadpool(plan_json_for, data, root)
        except WanWeaveError as exc:
            return JSONResponse({"error": exc.one_line()}, status_code=422)
        options = {k: v for k, v in data.get("options", {}).items() if k in RENDER_KEYS}
        options["inputs_root"] = os.path.join(root, INPUTS)
        job = queue.add(name, "api", plan_json, options)  # safe_name keeps its folder inside the root
        runner.wake()
        return {"job_id": job.id}

    @router.get("/jobs")
    def jobs():
        return {"jobs": [describe(j) for j in queue.jobs()], "queue_error": runner.error}

    @router.get("/jobs/{job_id}")
    def job(job_id: int = Path(**JOB_ID)):
        found = queue.get(job_id)
        if found is None:
            raise HTTPException(404, f"no job {job_id}")
        return describe(found)

    @router.delete("/jobs/{job_id}", status_code=202)
    def cancel(job_id: int = Path(**JOB_ID)):
        if queue.get(job_id) is None:
            raise HTTPException(404, f"no job {job_id}")
        return {"job_id": job_id, "cancelled": runner.cancel(job_id)}

    @router.get("/jobs/{job_id}/video")
    def video(job_id: int = Path(**JOB_ID)):
        found = queue.get(job_id)
        if found is None or not found.video:
            raise HTTPException(404, f"no video for job {job_id}")
        path = os.path.realpath(found.video)
        if not path.startswith(os.path.realpath(root) + os.sep):
            raise HTTPException(404, "not in the output root")
        return FileResponse(path, media_type="video/mp4")

    @router.get("/models")
    def models():
        from wan.models.discovery import discover

        return {"models_dir": runner.models_dir, "models": [
            {"name": m.name, "family": m.family, "size": m.size, "path": m.source, "problem": m.problem}
            for m in discover(runner.models_dir)
        ]}  # fmt: skip

    app.include_router(router)
