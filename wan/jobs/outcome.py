"""How a queued job ended, recorded the same way for every runner (`batch` in process, the API's
runner through the worker)."""

from __future__ import annotations

from collections.abc import Callable

from movement.errors import WanWeaveError
from wan.jobs.client import JobCancelled
from wan.jobs.errors import JobError
from wan.jobs.queue import Job, Queue
from wan.render.errors import RenderCancelled


def record_outcome(queue: Queue, job: Job, work: Callable[[], str | None], log=print) -> str:
    """Run `work` (returns the video path) and record how the job ended: done, cancelled, or
    failed with its one-line error. Nothing escapes: the queue goes on with the next job."""
    try:
        video = work()
    except KeyboardInterrupt:
        queue.interrupted(job.id)
        raise
    except (RenderCancelled, JobCancelled):
        return _record(queue, job, "cancelled", log)
    except Exception as exc:
        error = exc.one_line() if isinstance(exc, WanWeaveError) else f"{type(exc).__name__}: {exc}"
        log(f"job {job.id} ({job.name}) failed: {error}")
        return _record(queue, job, "failed", log, error)
    return _record(queue, job, "done", log, video=video)


def _record(queue: Queue, job: Job, state: str, log, error: str | None = None, video: str | None = None) -> str:
    try:
        queue.finish(job.id, state, error, video)
    except JobError as exc:  # e.g. the disk is full: the job keeps no owner, and the next run takes it
        log(f"job {job.id} ({job.name}) {state}, but it could not be recorded: {exc.one_line()}")
    return state
