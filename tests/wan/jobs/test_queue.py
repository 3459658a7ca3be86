"""The persistent queue on its own: order, interrupted jobs first, never dropped, safe names,
schema versions."""

from __future__ import annotations

import sqlite3

import pytest

from wan.jobs.errors import JobError
from wan.jobs.queue import MIGRATIONS, Queue, safe_name


def test_jobs_run_oldest_first_and_an_interrupted_one_before_the_rest(tmp_path):
    queue = Queue(str(tmp_path))
    a, b, c = (queue.add(n, f"/s/{n}.txt", "{}", {"engine": "preview"}) for n in ("a", "b", "c"))
    assert queue.next_job().id == a.id  # a is now running ...
    queue.close()
    reopened = Queue(str(tmp_path))  # ... and the process died
    first = reopened.next_job()
    assert first.id == a.id and first.attempts == 2
    reopened.finish(a.id, "done", video=str(tmp_path / "a" / "a.mp4"))
    assert reopened.next_job().id == b.id
    reopened.finish(b.id, "failed", "disk full")
    assert reopened.requeue_failed() == 0  # b's payload is "{}": a file that could not be planned
    assert reopened.next_job().id == c.id and reopened.cancel(c.id)
    assert reopened.next_job() is None
    assert [j.state for j in reopened.jobs()] == ["done", "failed", "cancelled"]
    assert reopened.remove(b.id) and [j.id for j in reopened.jobs()] == [a.id, c.id]


def test_names_stay_inside_the_root(tmp_path):
    queue = Queue(str(tmp_path))
    assert safe_name("../../etc/passwd") == "passwd" and safe_name("a b!.txt") == "a-b" and safe_name("..") == "render"
    first, second = queue.add("../../x", "api", "{}", {}), queue.add("x", "api", "{}", {})
    assert first.out == str(tmp_path / "x") and second.out == str(tmp_path / "x-2")


def test_the_schema_is_versioned(tmp_path):
    Queue(str(tmp_path)).close()
    db = sqlite3.connect(tmp_path / "queue.sqlite")
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    db.commit()
    db.close()
    with pytest.raises(JobError, match="newer Wan Weave"):
        Queue(str(tmp_path))
