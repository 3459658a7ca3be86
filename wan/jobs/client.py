"""Talking to the generation worker from the WebUI process (or the standalone app): start it,
send a job, stream its events, cancel it, and turn a crash into a readable error. Imports neither
torch nor gradio.
"""

from __future__ import annotations

import collections
import itertools
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable

from wan.jobs.errors import JobError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the extension folder
ENV_PYTHON = "WAN_WEAVE_WORKER_PYTHON"
OVERLAY = os.path.join(ROOT, ".worker-deps")  # install.py puts the worker's newer packages here


class WorkerError(JobError):
    """A job failed inside the worker; `kind` is the worker's error type."""

    def __init__(self, message: str, kind: str = "InternalError", **kwargs):
        super().__init__(message, **kwargs)
        self.kind = kind


class WorkerCrashed(WorkerError):
    """The worker process ended in the middle of a job."""


class JobCancelled(WorkerError):
    """The user cancelled; finished clips are on disk."""


def worker_python(explicit: str | None = None) -> str:
    return explicit or os.environ.get(ENV_PYTHON) or sys.executable


class WorkerClient:
    """One worker process, one job at a time; it is started on first use and kept between jobs."""

    def __init__(self, python: str | None = None, log: Callable[[str], None] | None = None):
        self.python = worker_python(python)
        self.log = log or (lambda m: None)
        self.proc: subprocess.Popen | None = None
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=40)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()  # one job at a time
        self.current: int | None = None

    def start(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            return
        paths = [p for p in (OVERLAY if os.path.isdir(OVERLAY) else None, ROOT, os.environ.get("PYTHONPATH")) if p]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths), "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [self.python, "-m", "wan", "worker"], cwd=ROOT, env=env, text=True, encoding="utf-8",
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=1,
        )  # fmt: skip
        self.stderr_tail.clear()
        threading.Thread(target=self._drain_stderr, args=(self.proc,), daemon=True).start()
        ready = self._next_event()
        if ready.get("event") != "ready":
            raise self._crashed("while starting")

    def _drain_stderr(self, proc: subprocess.Popen) -> None:
        for line in proc.stderr:
            self.stderr_tail.append(line.rstrip())

    def _next_event(self) -> dict:
        while True:
            line = self.proc.stdout.readline()
            if not line:
                return {}
            try:
                return json.loads(line)
            except ValueError:
                self.stderr_tail.append(f"(stdout) {line.rstrip()}")

    def _crashed(self, during: str) -> WorkerCrashed:
        try:
            code = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self.proc = None
        why = " (killed: out of memory?)" if code in (-9, 137) else ""
        tail = " | ".join(list(self.stderr_tail)[-3:]) or "no output"
        return WorkerCrashed(f"the generation worker stopped {during} with exit code {code}{why}: {tail}", "Crashed",
                             hint="the WebUI is fine; see the console for the worker's log, then try again")  # fmt: skip

    def _send(self, message: dict) -> None:
        self.proc.stdin.write(json.dumps(message) + "\n")
        self.proc.stdin.flush()

    def run(self, job: dict, on_event: Callable[[dict], None] | None = None) -> dict:
        """Send `job` and block until it ends; every event goes to `on_event`. Returns the result
        event; raises JobCancelled, WorkerError or WorkerCrashed."""
        with self._lock:
            self.start()
            job_id = next(self._ids)
            self.current = job_id
            try:
                self._send({**job, "id": job_id})
                while True:
                    event = self._next_event()
                    if not event:
                        raise self._crashed(f"during job {job_id}")
                    if event.get("id") != job_id:
                        continue
                    if on_event:
                        on_event(event)
                    kind = event.get("event")
                    if kind == "log":
                        self.log(event["message"])
                    elif kind == "result":
                        return event
                    elif kind == "cancelled":
                        raise JobCancelled(f"cancelled; {event.get('stopped_at_clip')} clip(s) finished", "Cancelled")
                    elif kind == "error":
                        raise WorkerError(event["message"], event.get("type", "InternalError"))
            finally:
                self.current = None

    def cancel(self) -> bool:
        """Ask the running job to stop (between denoising steps); False when nothing runs."""
        job_id, proc = self.current, self.proc
        if job_id is None or proc is None or proc.poll() is not None:
            return False
        try:
            self.proc.stdin.write(json.dumps({"type": "cancel", "id": job_id}) + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError):
            return False
        return True

    def close(self) -> None:
        """End the worker; the OS frees everything it held (VRAM included)."""
        if self.proc is None:
            return
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=15)
        except (subprocess.TimeoutExpired, BrokenPipeError, OSError):
            self.proc.kill()
        self.proc = None
