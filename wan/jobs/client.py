"""Talking to the generation worker from the WebUI process (or the standalone app): start it,
send a job, stream its events, cancel it, and turn a crash into a readable error. Imports neither
torch nor gradio.
"""

from __future__ import annotations

import collections
import itertools
import json
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable

from wan.jobs.errors import JobError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the extension folder
ENV_PYTHON = "WAN_WEAVE_WORKER_PYTHON"
START_S = 300.0  # importing torch and diffusers on a cold disk can take minutes
SILENCE_S = float(os.environ.get("WAN_WEAVE_WORKER_SILENCE_S", 60))  # the worker says "alive" every 5 s
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
        self._lines: queue.Queue = queue.Queue()
        self._killed = False  # we ended it (a silent worker), so a SIGKILL is ours, not the system's

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
        self._lines, self._killed = queue.Queue(), False
        threading.Thread(target=self._drain_stderr, args=(self.proc,), daemon=True).start()
        threading.Thread(target=self._read_stdout, args=(self.proc, self._lines), daemon=True).start()
        ready = self._next_event(START_S)
        if ready.get("event") != "ready":
            raise self._crashed("while starting")

    def _drain_stderr(self, proc: subprocess.Popen) -> None:
        # The worker's log and tracebacks go to the host's console as they come: the page shows one
        # line, the console keeps the whole story.
        for line in proc.stderr:
            self.stderr_tail.append(line.rstrip())
            try:
                sys.stderr.write(f"[wan-weave worker] {line}")
                sys.stderr.flush()
            except (OSError, ValueError):
                pass

    @staticmethod
    def _read_stdout(proc: subprocess.Popen, lines: queue.Queue) -> None:
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    def _next_event(self, timeout: float = SILENCE_S) -> dict:
        """The worker's next event; {} when it ended. A worker silent for `timeout` (no event, not
        even its heartbeat) is hung: it is stopped, and {} returned."""
        while True:
            try:
                line = self._lines.get(timeout=timeout)
            except queue.Empty:
                self.stderr_tail.append(f"(no word from the worker for {timeout:.0f} s: stopped it)")
                self._killed = True
                self.proc.kill()
                return {}
            if line is None:
                return {}
            try:
                event = json.loads(line)
            except ValueError:
                self.stderr_tail.append(f"(stdout) {line.rstrip()}")
                continue
            if isinstance(event, dict) and event.get("event") != "alive":
                return event

    def _crashed(self, during: str) -> WorkerCrashed:
        try:
            code = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self.proc = None
        tail = " | ".join(list(self.stderr_tail)[-3:]) or "no output"
        return WorkerCrashed(f"the generation worker stopped {during}: {self._how(code)}: {tail}", "Crashed",
                             hint="the WebUI is fine; see the console for the worker's log, then try again")  # fmt: skip

    def _how(self, code: int) -> str:
        if self._killed:
            return "it stopped answering and was ended"
        if code in (-9, 137):
            return "killed by SIGKILL (often the system's out-of-memory killer)"
        if code < 0:
            try:
                return f"killed by {signal.Signals(-code).name}"
            except ValueError:
                return f"killed by signal {-code}"
        return f"exit code {code}"

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
                try:
                    self._send({**job, "id": job_id})
                except (BrokenPipeError, OSError):
                    raise self._crashed(f"before job {job_id}") from None
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
