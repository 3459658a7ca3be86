"""How a queued job ended, recorded the same way for every runner (`batch` in process, the API's
runner through the worker)."""

from __future__ import annotations

from collections.abc import Callable

from movement.errors import WanWeaveError
from wan.jobs.client import JobCancelled
from wan.jobs.queue import Job, Queue
from wan.render.errors import RenderCancelled


def record_outcome(queue: Queue, job: Job, work: Callable[[], str | None], log=print) -> str:
    """Run `work` (returns the video path) and record how the job ended: done, cancelled, or
    failed with its one-line error. Nothing escapes: the queue goes on with the next job."""
    try:
        video = work()
    except (RenderCancelled, JobCancelled):
        queue.finish(job.id, "cancelled")
        return "cancelled"
    except Exception as exc:
        error = exc.one_line() if isinstance(exc, WanWeaveError) else f"{type(exc).__name__}: {exc}"
        queue.finish(job.id, "failed", error)
        log(f"job {job.id} ({job.name}) failed: {error}")
        return "failed"
    queue.finish(job.id, "done", video=video)
    return "done"
