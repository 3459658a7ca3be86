"""The persistent render queue: SQLite (standard library, WAL) in the output root.

Jobs survive restarts and crashes: a job is queued, running, done, failed or cancelled, and is
never dropped before it completes or the user removes it. Clips and attempts are recorded per job.
The schema is versioned; `MIGRATIONS[n]` takes version n to n+1.

Several processes may share one root (two `batch` runs, `resume` during a batch, the app's API
runner beside a CLI batch). A job is owned by the process that holds its lock file
(<root>/.locks/job-N.lock) while it renders; the operating system releases the lock when that
process dies. So a `running` job whose lock is held is never taken, and one whose owner died is
taken once, by the first process that gets its lock.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from filelock import FileLock, Timeout

from wan.jobs.errors import JobError

DB_NAME = "queue.sqlite"
LOCKS = ".locks"
STATES = ("queued", "running", "done", "failed", "cancelled")
MIGRATIONS = (
    """
    CREATE TABLE jobs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        source TEXT NOT NULL,           -- the settings file (or 'api')
        payload TEXT NOT NULL,          -- the settings JSON or plan JSON, frozen at submission
        options TEXT NOT NULL,          -- render and plan options (JSON)
        out TEXT NOT NULL UNIQUE,       -- the job's folder, inside the output root
        state TEXT NOT NULL DEFAULT 'queued',
        attempts INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        video TEXT,
        created REAL NOT NULL,
        updated REAL NOT NULL
    );
    CREATE TABLE clips (
        job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
        clip INTEGER NOT NULL,
        state TEXT NOT NULL,
        file TEXT,
        PRIMARY KEY (job_id, clip)
    );
    CREATE TABLE attempts (
        job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
        n INTEGER NOT NULL,
        started REAL NOT NULL,
        ended REAL,
        outcome TEXT,
        error TEXT
    );
    """,
    # How many of the job's clips were finished when each attempt started: an interrupted attempt
    # that finished none made no progress (a job that takes its process down, not a power cut).
    "ALTER TABLE attempts ADD COLUMN clips_at_start INTEGER",
)


@dataclass(frozen=True)
class Job:
    id: int
    name: str
    source: str
    payload: str
    options: dict
    out: str
    state: str
    attempts: int
    error: str | None
    video: str | None


MAX_STALLED = 3  # renders of one job in a row that ended with their process and finished no clip


def safe_name(text: str) -> str:
    """A folder name from a user's file name: letters, digits, '-', '_' only (no traversal)."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", os.path.splitext(os.path.basename(text))[0]).strip("-_")
    return name[:60] or "render"


def _sqlite_error(exc: sqlite3.Error, path: str) -> JobError:
    """SQLite's failure as the one line a user can act on."""
    text = str(exc)
    if "disk is full" in text or "disk I/O error" in text:
        return JobError("the disk is full: the queue cannot be updated", where=path,
                        hint="free some space, then resume: python -m wan resume " + os.path.dirname(path))  # fmt: skip
    if isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError):
        return JobError(f"the queue file is damaged ({text})", where=path,
                        hint="move it aside; each job's folder still holds its plan.json to render from")  # fmt: skip
    return JobError(f"the queue cannot be used: {text}", where=path)


class Queue:
    def __init__(self, root: str):
        self.root = os.path.abspath(root)
        try:
            os.makedirs(os.path.join(self.root, LOCKS), exist_ok=True)
        except OSError as exc:
            raise JobError(f"cannot create the output root: {exc.strerror}", where=self.root) from None
        self.path = os.path.join(self.root, DB_NAME)
        self._lock = threading.RLock()
        self._held: dict[int, FileLock] = {}  # the jobs this process renders now
        try:
            self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.Error as exc:
            raise _sqlite_error(exc, self.path) from None

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        # One connection serves the API's handlers and the runner thread: one statement block at a
        # time (other processes are kept apart by SQLite's own locking).
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                    self._db.execute("COMMIT")
                except BaseException:
                    if self._db.in_transaction:  # SQLite already rolled back a failed COMMIT (disk full)
                        self._db.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise _sqlite_error(exc, self.path) from None

    def _read(self, sql: str, args: tuple = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                return self._db.execute(sql, args).fetchall()
            except sqlite3.Error as exc:
                raise _sqlite_error(exc, self.path) from None

    def _migrate(self) -> None:
        # Reading the version needs no write: a current queue opens on a full disk, and `queue` lists it.
        if self._db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) and self._has_tables():
            return
        with self._tx() as db:  # the whole schema in one transaction: never a queue without tables
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > len(MIGRATIONS):
                raise JobError(f"the queue was written by a newer Wan Weave (schema {version})", where=self.path)
            for n in range(version, len(MIGRATIONS)):
                for statement in filter(str.strip, MIGRATIONS[n].split(";")):
                    db.execute(statement)
            db.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")

    def _has_tables(self) -> bool:
        names = {r[0] for r in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return {"jobs", "clips", "attempts"} <= names

    def add(self, name: str, source: str, payload: str, options: dict) -> Job:
        return self.add_once(name, source, payload, options, None)[0]

    def add_once(self, name: str, source: str, payload: str, options: dict, digest: str | None) -> tuple[Job, bool]:
        """(job, True) for a newly queued job; (the earlier job, False) when a job with the same
        source and `digest` (options["settings_sha256"]) is queued already. Checked and inserted in
        one transaction: two processes submitting the same file queue it once."""
        now = time.time()
        with self._tx() as db:
            if digest is not None:
                for row in db.execute("SELECT * FROM jobs WHERE source = ? ORDER BY id", (source,)):
                    if json.loads(row["options"]).get("settings_sha256") == digest:
                        return self._job(row), False
            base = safe_name(name)
            out, n = os.path.join(self.root, base), 1
            while db.execute("SELECT 1 FROM jobs WHERE out = ?", (out,)).fetchone():
                n += 1
                out = os.path.join(self.root, f"{base}-{n}")
            cur = db.execute(
                "INSERT INTO jobs (name, source, payload, options, out, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (base, source, payload, json.dumps(options), out, now, now),
            )
        return self.get(cur.lastrowid), True

    def get(self, job_id: int) -> Job | None:
        rows = self._read("SELECT * FROM jobs WHERE id = ?", (job_id,))
        return self._job(rows[0]) if rows else None

    def jobs(self) -> list[Job]:
        return [self._job(r) for r in self._read("SELECT * FROM jobs ORDER BY id")]

    def next_job(self) -> Job | None:
        """The oldest unfinished job that no live process owns (one whose owner died first), marked
        running and owned by this process until `finish` or `release`. A job whose last MAX_STALLED
        renders ended with their process without finishing a clip (a crash it causes, the system's
        OOM killer) is failed with that reason instead of being taken again: it would block the
        queue for good. Interrupted renders that got somewhere (a power cut, a kill) go on. One
        transaction: a cancel or a removal from another thread or process sees all of it or none."""
        taken = None
        try:
            with self._tx() as db:
                rows = db.execute(
                    "SELECT * FROM jobs WHERE state IN ('running', 'queued') ORDER BY state = 'queued', id"
                ).fetchall()
                for row in rows:
                    if not self._own(row["id"]):
                        continue
                    taken = row["id"]
                    if row["state"] == "running" and self._stalled(db, row["id"]):
                        self._fail_stalled(db, row["id"])
                        self.release(row["id"])
                        taken = None
                        continue
                    db.execute(
                        "UPDATE jobs SET state = 'running', attempts = attempts + 1, updated = ? WHERE id = ?",
                        (time.time(), row["id"]),
                    )
                    db.execute(
                        "INSERT INTO attempts (job_id, n, started, clips_at_start) VALUES (?, ?, ?, ?)",
                        (row["id"], row["attempts"] + 1, time.time(), self._clips_done(db, row["id"])),
                    )
                    break
        except BaseException:
            if taken is not None:
                self.release(taken)  # not recorded as ours: never keep its lock
            raise
        return self.get(taken) if taken is not None else None

    def _fail_stalled(self, db: sqlite3.Connection, job_id: int) -> None:
        error = (f"its last {MAX_STALLED} renders ended with their process before finishing a clip (a crash it "
                 "causes, or the system's out-of-memory killer?); fix the cause, then "
                 f"`python -m wan resume {self.root}` tries it again")  # fmt: skip
        now = time.time()
        db.execute("UPDATE jobs SET state = 'failed', error = ?, updated = ? WHERE id = ?", (error, now, job_id))
        db.execute("UPDATE attempts SET ended = ?, outcome = 'failed', error = ? WHERE job_id = ? AND ended IS NULL",
                   (now, error, job_id))  # fmt: skip

    def interrupted(self, job_id: int) -> None:
        """The user stopped this render (Ctrl-C): its attempt ends as `interrupted`, which the stall
        cap does not count, and the job stays unfinished for the next run."""
        try:
            with self._tx() as db:
                db.execute("UPDATE attempts SET ended = ?, outcome = 'interrupted' WHERE job_id = ? AND ended IS NULL",
                           (time.time(), job_id))  # fmt: skip
        finally:
            self.release(job_id)

    @staticmethod
    def _clips_done(db: sqlite3.Connection, job_id: int) -> int:
        return db.execute("SELECT COUNT(*) FROM clips WHERE job_id = ? AND state = 'done'", (job_id,)).fetchone()[0]

    def _stalled(self, db: sqlite3.Connection, job_id: int) -> bool:
        """Whether the job's last MAX_STALLED attempts all ended with their process (never recorded
        an end) and finished no clip between them: it would take every next process down too."""
        last = db.execute("SELECT ended, clips_at_start FROM attempts WHERE job_id = ? ORDER BY n DESC LIMIT ?",
                          (job_id, MAX_STALLED)).fetchall()  # fmt: skip
        now = self._clips_done(db, job_id)
        return len(last) == MAX_STALLED and all(a["ended"] is None and a["clips_at_start"] == now for a in last)

    def _own(self, job_id: int) -> bool:
        """Take the job's lock if no live process holds it (never blocks)."""
        if job_id in self._held:
            return False  # this process renders it already (another thread)
        lock = self._lock_for(job_id)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            return False
        self._held[job_id] = lock
        return True

    def _lock_for(self, job_id: int) -> FileLock:
        return FileLock(os.path.join(self.root, LOCKS, f"job-{job_id}.lock"), thread_local=False)

    def release(self, job_id: int) -> None:
        """Stop owning a job (after it ended, or when this process gives it up)."""
        lock = self._held.pop(job_id, None)
        if lock is not None:
            lock.release()

    def finish(self, job_id: int, state: str, error: str | None = None, video: str | None = None) -> None:
        """Record how the job ended and stop owning it (also when the record cannot be written: the
        job then stays `running` with no owner, and the next run takes it again)."""
        assert state in STATES
        try:
            with self._tx() as db:
                db.execute(
                    "UPDATE jobs SET state = ?, error = ?, video = COALESCE(?, video), updated = ? WHERE id = ?",
                    (state, error, video, time.time(), job_id),
                )
                db.execute(
                    "UPDATE attempts SET ended = ?, outcome = ?, error = ? WHERE job_id = ? AND ended IS NULL",
                    (time.time(), state, error, job_id),
                )
        finally:
            self.release(job_id)

    def clip_done(self, job_id: int, clip: int, file: str | None) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO clips (job_id, clip, state, file) VALUES (?, ?, 'done', ?)",
                (job_id, clip, file),
            )

    def clips(self, job_id: int) -> list[dict]:
        rows = self._read("SELECT clip, state, file FROM clips WHERE job_id = ? ORDER BY clip", (job_id,))
        return [dict(r) for r in rows]

    def requeue_failed(self) -> int:
        """Failed renders go back in the queue (a fixed disk, a restored model); a file that could not
        be planned stays failed until it is submitted again."""
        with self._tx() as db:
            cur = db.execute("UPDATE jobs SET state = 'queued', updated = ? WHERE state = 'failed' AND payload != '{}'",
                             (time.time(),))  # fmt: skip
        return cur.rowcount

    def cancel(self, job_id: int) -> bool:
        with self._tx() as db:
            cur = db.execute(
                "UPDATE jobs SET state = 'cancelled', updated = ? WHERE id = ? AND state IN ('queued', 'running')",
                (time.time(), job_id),
            )
        return cur.rowcount > 0

    def remove(self, job_id: int) -> bool:
        with self._tx() as db:
            cur = db.execute("DELETE FROM jobs WHERE id = ? AND state != 'running'", (job_id,))
        return cur.rowcount > 0

    @staticmethod
    def _job(row: sqlite3.Row) -> Job:
        return Job(row["id"], row["name"], row["source"], row["payload"], json.loads(row["options"]), row["out"],
                   row["state"], row["attempts"], row["error"], row["video"])  # fmt: skip

    def close(self) -> None:
        for job_id in list(self._held):
            self.release(job_id)
        self._db.close()
