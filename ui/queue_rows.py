"""The persistent queue's jobs as rows for the tab (SQLite: the shell, not ui/state.py)."""

from __future__ import annotations

import os


def queue_rows(root: str) -> list[list]:
    """The persistent queue's jobs for the tab (the same queue `batch` and the API use)."""
    from wan.jobs.queue import DB_NAME, Queue

    if not os.path.isfile(os.path.join(root, DB_NAME)):
        return []
    queue = Queue(root)
    try:
        return [[j.id, j.name, j.state, j.attempts, len(queue.clips(j.id)), j.error or j.video or ""]
                for j in queue.jobs()]  # fmt: skip
    finally:
        queue.close()
