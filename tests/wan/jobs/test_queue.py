"""The persistent queue on its own: order, interrupted jobs first, never dropped, safe names,
schema versions."""

from __future__ import annotations

import sqlite3

import pytest

from wan.jobs.errors import JobError
from wan.jobs.queue import MAX_STALLED, MIGRATIONS, Queue, safe_name


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


def test_a_running_job_is_taken_by_no_other_owner_while_its_owner_lives(tmp_path):
    owner, other = Queue(str(tmp_path)), Queue(str(tmp_path))  # two processes, as far as locks go
    a, b = (owner.add(n, f"/s/{n}.txt", "{}", {}) for n in ("a", "b"))
    assert owner.next_job().id == a.id
    taken = other.next_job()
    assert taken.id == b.id and other.get(a.id).state == "running"  # a is skipped: its owner is alive
    assert other.next_job() is None and other.get(a.id).attempts == 1
    owner.close()  # the owner dies (the OS releases its lock)
    again = other.next_job()
    assert again.id == a.id and again.attempts == 2  # taken once more, by one process


def test_the_same_file_submitted_twice_is_queued_once(tmp_path):
    one, two = Queue(str(tmp_path)), Queue(str(tmp_path))
    first, new = one.add_once("film", "/s/film.txt", "{}", {"settings_sha256": "abc"}, "abc")
    second, again = two.add_once("film", "/s/film.txt", "{}", {"settings_sha256": "abc"}, "abc")
    assert new and not again and first.id == second.id and len(one.jobs()) == 1


def test_a_damaged_queue_file_is_one_line(tmp_path):
    from tests.conftest import wan

    (tmp_path / "queue.sqlite").write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 8)
    with pytest.raises(JobError, match="damaged"):
        Queue(str(tmp_path))
    for command in ("queue", "resume"):
        result = wan(command, tmp_path)
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
        assert "queue file is damaged" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_queue_file_without_tables_is_completed_and_an_empty_queue_says_so(tmp_path):
    from tests.conftest import wan

    sqlite3.connect(tmp_path / "queue.sqlite").close()  # what a full disk left at creation
    assert Queue(str(tmp_path)).jobs() == []
    result = wan("resume", tmp_path)
    assert result.returncode == 2 and "holds no jobs" in result.stderr


def test_batch_and_the_api_queue_the_same_plan_for_the_same_job(tmp_path):
    import json

    from tests.conftest import EXAMPLES
    from wan.jobs.api import plan_json_for
    from wan.jobs.batch import submit
    from wan.plan.build import PlanOptions

    path = EXAMPLES / "harbor_3d.txt"
    queued = submit(Queue(str(tmp_path / "cli")), str(path), PlanOptions(width=64, height=48, steps=2), {},
                    log=lambda m: None)  # fmt: skip
    _, api_json = plan_json_for({"name": "harbor_3d", "settings": json.loads(path.read_text()),
                                 "options": {"width": 64, "height": 48, "steps": 2}}, str(tmp_path / "api"))  # fmt: skip
    cli, api = json.loads(queued.payload), json.loads(api_json)
    assert cli["clips"] == api["clips"]  # the same prompts (filled), seeds, frames
    assert all(c["enhanced_prompt"] for c in api["clips"])
    assert {k: v for k, v in cli.items() if k not in ("source", "settings_json")} == {
        k: v for k, v in api.items() if k not in ("source", "settings_json")
    }


def test_a_job_that_kills_its_process_every_time_is_failed_and_the_queue_goes_on(tmp_path):
    queue = Queue(str(tmp_path))
    killer, next_one = (queue.add(n, f"/s/{n}.txt", "{}", {}) for n in ("killer", "next"))
    for _ in range(MAX_STALLED):
        assert queue.next_job().id == killer.id
        queue.close()  # the render took the process down with it
        queue = Queue(str(tmp_path))
    taken = queue.next_job()
    assert taken.id == next_one.id  # no longer blocked
    failed = queue.get(killer.id)
    assert failed.state == "failed" and f"last {MAX_STALLED} renders" in failed.error and "resume" in failed.error and "tries it again" in failed.error
    assert failed.attempts == MAX_STALLED


def test_an_interrupted_job_that_gets_somewhere_is_never_given_up(tmp_path):
    queue = Queue(str(tmp_path))
    job = queue.add("film", "/s/film.txt", "{}", {})
    for clip in range(2 * MAX_STALLED):  # killed again and again, one clip further each time
        assert queue.next_job().id == job.id
        queue.clip_done(job.id, clip, None)
        queue.close()
        queue = Queue(str(tmp_path))
    assert queue.next_job().id == job.id and queue.get(job.id).attempts == 2 * MAX_STALLED + 1


def test_the_api_queue_thread_outlives_a_queue_it_cannot_read(tmp_path, monkeypatch):
    """A locked or damaged queue file must not kill the API's queue thread in silence."""
    import threading
    import time

    from wan.jobs import api

    monkeypatch.setattr(api, "RETRY_S", 0.05)
    logged = []
    runner = api.QueueRunner(str(tmp_path), worker=None, models_dir=str(tmp_path), log=logged.append)
    real, calls = runner.queue.next_job, []

    def locked_then_fine():
        calls.append(1)
        if len(calls) <= 2:
            raise sqlite3.OperationalError("database is locked")
        return real()

    runner.queue.next_job = locked_then_fine
    runner.wake()
    deadline = time.time() + 10
    while (len(calls) < 3 or runner.error is not None) and time.time() < deadline:
        runner.wake()
        time.sleep(0.02)
    assert len(calls) >= 3 and runner._thread.is_alive() and runner.error is None
    assert any("database is locked" in m and "Traceback" in m for m in logged)
    assert any(t.name == "wan-weave-queue" for t in threading.enumerate())


def test_ctrl_c_is_not_counted_as_a_crash(tmp_path):
    queue = Queue(str(tmp_path))
    job = queue.add("film", "/s/film.txt", "{}", {})
    for _ in range(MAX_STALLED + 1):  # the user stops it before its first clip, again and again
        assert queue.next_job().id == job.id
        queue.interrupted(job.id)
    assert queue.next_job().id == job.id and queue.get(job.id).state == "running"
