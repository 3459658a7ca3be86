"""The generation worker's protocol through the real client and a real subprocess: a job with its
events, a cancel that keeps finished clips, a crash that becomes a readable error, and a worker
that keeps going after a failed job."""

from __future__ import annotations

import json
import os
import signal
import threading
from pathlib import Path

import pytest

from movement import load_settings
from tests.conftest import EXAMPLES
from wan.jobs.client import JobCancelled, WorkerClient, WorkerCrashed, WorkerError
from wan.media.video import probe
from wan.plan.build import PlanOptions, build_plan
from wan.plan.plan_json import plan_to_dict


@pytest.fixture
def client():
    worker = WorkerClient()
    yield worker
    worker.close()


def job(tmp_path, engine="preview", models=None, **plan_options):
    settings = load_settings(EXAMPLES / "greenhouse_2d.txt")
    plan = build_plan(settings, PlanOptions(width=64, height=48, steps=2, **plan_options))
    options = {"engine": engine, "preset": "ultrafast", "models_dir": str(models) if models else None}
    return {"type": "render", "plan": plan_to_dict(plan), "out": str(tmp_path / "out"), "options": options}, plan


def test_a_render_job_streams_progress_and_returns_the_video(client, tiny_models, tmp_path):
    request, plan = job(tmp_path, engine="wan", models=tiny_models)
    events = []
    result = client.run(request, events.append)
    kinds = [e["event"] for e in events]
    assert kinds[0] == "started" and kinds[-1] == "result"
    steps = [e for e in events if e["event"] == "progress"]
    assert len(steps) == len(plan.clips) * plan.steps and steps[-1]["clip"] == len(plan.clips) - 1
    done = [e for e in events if e["event"] == "clip_done"]
    assert [e["clip"] for e in done] == list(range(len(plan.clips))) and all(os.path.isfile(e["file"]) for e in done)
    info = probe(result["video"])
    assert (info.frames, info.fps) == (plan.max_frames, plan.fps_out)
    manifest = json.loads(Path(result["manifest"]).read_text())
    clips = json.loads(Path(result["plan"]).read_text())["clips"]
    assert manifest["status"] == "done" and all(c["prompt_source"] == "template" for c in clips)
    assert client.run({"type": "ping"})["pid"] == client.proc.pid  # the same worker serves the next job


def test_cancel_stops_the_job_and_keeps_finished_clips(client, tiny_models, tmp_path):
    request, plan = job(tmp_path, engine="wan", models=tiny_models, max_clip_frames=17)
    assert len(plan.clips) > 3

    def on_event(event):
        if event["event"] == "clip_done" and event["clip"] == 1:
            threading.Thread(target=client.cancel).start()

    with pytest.raises(JobCancelled, match="cancelled"):
        client.run(request, on_event)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["status"] == "cancelled" and 2 <= manifest["stopped_at_clip"] < len(plan.clips)
    assert all((tmp_path / "out" / c["file"]).is_file() for c in manifest["clips"])
    assert client.run({"type": "ping"})["pong"]  # still alive


def test_a_failed_job_is_a_typed_error_and_the_worker_carries_on(client, tmp_path):
    request, _ = job(tmp_path, engine="wan", models=tmp_path / "nothing")
    with pytest.raises(WorkerError) as info:
        client.run(request)
    assert info.value.kind == "ModelNotFoundError" and "no folder for wan2.1-t2v-1.3b" in str(info.value)
    broken = {**request, "plan": {**request["plan"], "max_frames": "many"}}
    with pytest.raises(WorkerError, match="max_frames"):
        client.run(broken)
    assert client.run({"type": "ping"})["pong"]


def test_a_crash_is_a_readable_error_and_a_new_worker_starts(client, tmp_path):
    request, _ = job(tmp_path)
    first = client.run({"type": "ping"})["pid"]

    def kill_on_start(event):
        if event["event"] == "started":
            os.kill(client.proc.pid, signal.SIGKILL)

    with pytest.raises(WorkerCrashed, match="killed by SIGKILL"):
        client.run(request, kill_on_start)
    result = client.run(request)  # the next job starts a fresh worker
    assert client.proc.pid != first and probe(result["video"]).frames == 180


def _children(pid: int) -> list[tuple[int, str]]:
    """(pid, command) of the processes whose parent is `pid` (Linux /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                cmd = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append((int(entry), cmd))
    return found


def test_lines_that_are_not_objects_are_answered_and_the_worker_reads_on(client):
    client.start()
    for line in ("[1]", '"x"', "42", "null", '{"id": [1], "type": "ping"}', "{not json", "[" * 5000):
        client.proc.stdin.write(line + "\n")
    client.proc.stdin.flush()
    assert client.run({"type": "ping"})["pong"]  # still reading, still answering
    with pytest.raises(WorkerError, match="unknown job type 'paint'"):
        client.run({"type": "paint"})
    with pytest.raises(WorkerError, match="needs a 'plan' object"):
        client.run({"type": "render"})


def test_a_silent_worker_is_stopped_instead_of_waited_for_forever(monkeypatch):
    import wan.jobs.client as client_module

    silent = WorkerClient()
    silent.start()
    monkeypatch.setattr(client_module, "SILENCE_S", 1.0)
    os.kill(silent.proc.pid, signal.SIGSTOP)  # alive but saying nothing, as a hung worker would
    try:
        with pytest.raises(WorkerCrashed, match="stopped answering"):
            silent.run({"type": "ping"})
    finally:
        silent.close()


def test_cancel_and_failure_leave_no_ffmpeg_running(client, tmp_path):
    request, _ = job(tmp_path)
    pid = client.run({"type": "ping"})["pid"]

    def cancel_after_first_clip(event):
        if event["event"] == "clip_done":
            client.cancel()

    with pytest.raises(JobCancelled):
        client.run(request, cancel_after_first_clip)
    assert not [c for c in _children(pid) if "ffmpeg" in c[1]]
    broken = {**request, "out": str(tmp_path / "out2"), "options": {**request["options"], "preset": "no-such"}}
    with pytest.raises(WorkerError):
        client.run(broken)
    assert not [c for c in _children(pid) if "ffmpeg" in c[1]]


def test_the_worker_leaves_within_a_second_when_its_host_dies(tmp_path):
    # A host process that starts the worker mid-render and is then killed, as a WebUI killed with
    # kill -TERM would be: the worker must not outlive it (nor keep the GPU).
    import subprocess
    import sys
    import time

    request, _ = job(tmp_path, max_clip_frames=17)
    host = subprocess.Popen([sys.executable, "-c", f"""
import json, sys
from wan.jobs.client import WorkerClient
w = WorkerClient()
def on(e):
    if e["event"] == "started":
        print("PID", w.proc.pid, flush=True)
w.run(json.loads({json.dumps(json.dumps(request))}), on)
"""], stdout=subprocess.PIPE, text=True, cwd=str(Path(__file__).resolve().parents[3]))
    line = host.stdout.readline()
    assert line.startswith("PID"), line
    worker_pid = int(line.split()[1])
    host.kill()
    host.wait()
    killed = time.monotonic()
    while _alive(worker_pid) and time.monotonic() - killed < 5:
        time.sleep(0.05)
    assert not _alive(worker_pid), "the worker outlived its host"
    assert time.monotonic() - killed < 2.0


def _alive(pid: int) -> bool:
    try:
        return "zombie" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
