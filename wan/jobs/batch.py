"""Batch renders through the persistent queue: submit settings files, run the queue one job at a
time (one GPU), resume what was interrupted. A failing job is recorded and the others continue."""

from __future__ import annotations

import glob
import hashlib
import json
import os
import threading
from collections.abc import Callable

from movement import load_settings
from movement.errors import WanWeaveError
from prompt_enhance.enhance import fill_missing
from wan.jobs.errors import JobError
from wan.jobs.outcome import record_outcome
from wan.jobs.queue import Job, Queue
from wan.plan.build import PlanOptions
from wan.plan.plan_json import plan_from_dict, plan_to_json, read_plan
from wan.render.request import RenderOptions, RenderRequest
from wan.render.resume import read_manifest
from wan.render.run import run_request


def expand_inputs(items: list[str]) -> list[str]:
    """Files, folders (their *.txt and *.json settings) and glob patterns -> settings files."""
    found: list[str] = []
    for item in items:
        if os.path.isdir(item):
            matches = sorted(glob.glob(os.path.join(item, "*.txt")) + glob.glob(os.path.join(item, "*.json")))
        elif any(c in item for c in "*?["):
            matches = sorted(glob.glob(item, recursive=True))
        else:
            matches = [item]
        if not matches:
            raise JobError(f"nothing matches {item!r}", hint="give settings files, a folder or a glob pattern")
        found += [os.path.abspath(m) for m in matches if os.path.basename(m) not in ("plan.json", "manifest.json")]
    return list(dict.fromkeys(found))


def submit(queue: Queue, path: str, plan_options: PlanOptions, render_options: dict, log=print) -> Job:
    """Plan the file now (a drawn seed is frozen with the job) and queue it; a file already queued
    with the same content is not queued twice. A bad file becomes a failed job with its error."""
    from wan.plan.build import plan_with_seed

    try:
        with open(path, "rb") as fh:
            digest = hashlib.sha256(fh.read()).hexdigest()
    except OSError as exc:
        raise JobError(f"cannot read: {exc.strerror}", where=path) from None
    options = {**render_options, "settings_sha256": digest}
    try:
        # The prompts are filled now, as every render fills them: the queued plan is the rendered
        # plan, whichever process (batch, resume, the app's API runner) picks the job up.
        plan = fill_missing(plan_with_seed(load_settings(path), plan_options))
    except WanWeaveError as exc:
        job, new = queue.add_once(os.path.basename(path), path, "{}", options, digest)
        if new:
            queue.finish(job.id, "failed", exc.one_line())
        log(f"{os.path.basename(path)}: not queued: {exc.one_line()}")
        return queue.get(job.id)
    job, new = queue.add_once(os.path.basename(path), path, plan_to_json(plan), options, digest)
    if not new:
        log(f"{os.path.basename(path)}: already in the queue as job {job.id} ({job.state})")
    return job


def run_job(queue: Queue, job: Job, log=print, cancel: threading.Event | None = None,
            progress: Callable[[dict], None] | None = None) -> str:  # fmt: skip
    """Render one job in this process (resuming its finished clips); returns its final state."""

    def on_event(event: dict) -> None:
        if event["event"] == "clip_done":
            queue.clip_done(job.id, event["clip"], event.get("file"))
        if progress:
            progress({**event, "job": job.id})

    def work() -> str:
        plan = plan_from_dict(json.loads(job.payload), where=f"job {job.id}")
        request = RenderRequest(plan, job.out, RenderOptions.from_dict(job.options, resume=True))
        return run_request(request, log, cancel=cancel, progress=on_event).video

    return record_outcome(queue, job, work, log)


def run_queue(queue: Queue, log=print, cancel: threading.Event | None = None) -> dict[str, int]:
    """Every unfinished job, oldest first, an interrupted one before the rest."""
    counts: dict[str, int] = {}
    while not (cancel and cancel.is_set()) and (job := queue.next_job()) is not None:
        log(f"job {job.id} ({job.name}): attempt {job.attempts} -> {job.out}")
        state = run_job(queue, job, log, cancel)
        counts[state] = counts.get(state, 0) + 1
    return counts


def resume_folder(folder: str, log=print) -> int:
    """`resume DIR`: a queue root runs its queue; a render folder finishes its render."""
    if os.path.isfile(os.path.join(folder, "queue.sqlite")):
        queue = Queue(folder)
        if not queue.jobs():
            raise JobError("this queue holds no jobs: nothing was queued here", where=folder,
                           hint="queue settings files with: python -m wan batch FILES --out " + folder)  # fmt: skip
        retried = queue.requeue_failed()
        if retried:
            log(f"retrying {retried} failed job(s)")
        counts = run_queue(queue, log)
        failed = [j for j in queue.jobs() if j.state == "failed"]
        for job in failed:
            log(f"failed: job {job.id} ({job.name}): {job.error}")
        log(f"queue: {', '.join(f'{n} {s}' for s, n in counts.items()) or 'nothing left to do'}")
        return 1 if failed else 0
    plan_path = os.path.join(folder, "plan.json")
    if not os.path.isfile(plan_path):
        raise JobError("neither a queue (queue.sqlite) nor a render (plan.json) here", where=folder)
    plan = read_plan(plan_path)
    manifest = read_manifest(folder) or {}
    saved = RenderOptions.from_dict(manifest.get("options", {}), os.path.join(folder, "manifest.json"), resume=True)
    request = RenderRequest(plan, folder, saved)
    result = run_request(request, log)
    log(f"video: {result.video}")
    return 0
