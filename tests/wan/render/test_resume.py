"""Crash safety with real processes: a batch of three examples killed with SIGKILL at ten random
moments resumes to output identical to an uninterrupted run, without recomputing finished clips;
an injected out-of-memory is recovered and recorded; a full disk fails the job clearly and keeps
what was finished; a bad file fails alone."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import EXAMPLES, ROOT, wan
from wan.jobs.queue import Queue
from wan.media.video import read_frames

pytest.importorskip("diffusers")

FILES = [EXAMPLES / "greenhouse_2d.txt", EXAMPLES / "harbor_3d.txt", EXAMPLES / "lighthouse_init.txt"]


def batch_args(models, out) -> list[str]:
    return [*map(str, FILES), "--out", str(out), "--models", str(models), "--width", "64", "--height", "48",
            "--steps", "3", "--max-clip-frames", "17", "--preset", "ultrafast"]  # fmt: skip


def videos(root: Path) -> dict[str, list[np.ndarray]]:
    return {p.parent.name: read_frames(str(p))[0] for p in sorted(root.glob("*/*.mp4"))}


def popen(*args) -> subprocess.Popen:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-u", "-m", "wan", *args], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)  # fmt: skip


def test_a_batch_killed_ten_times_resumes_to_identical_output(tiny_models, tmp_path):
    reference = wan("batch", *batch_args(tiny_models, tmp_path / "ref"))
    assert reference.returncode == 0, reference.stderr
    expected = videos(tmp_path / "ref")
    assert len(expected) == 3

    root, rng, kills, runs = tmp_path / "crashed", random.Random(20261121), 0, 0
    while kills < 10 and runs < 30:
        proc = popen("batch", *batch_args(tiny_models, root)) if runs == 0 else popen("resume", str(root))
        runs += 1
        # A random moment inside the work: after the run's first finished clip, 0-0.5 s later (in
        # the next clip's denoising, its file writes, or the final encode).
        for line in proc.stdout:
            if line.startswith("clip "):
                time.sleep(rng.uniform(0.0, 0.5))
                break
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
        proc.stdout.close()
    assert kills >= 10
    recorded = [root / m.parent.name / c["frames_file"] for m in root.glob("*/manifest.json")
                for c in json.loads(m.read_text())["clips"] if "frames_file" in c]  # fmt: skip
    saved = {p: p.stat().st_mtime_ns for p in recorded}
    final = wan("resume", root)
    assert final.returncode == 0, final.stderr
    assert {p: p.stat().st_mtime_ns for p in saved} == saved  # finished clips were not computed again
    # No temporary file survives, hidden ones (write_mp4's '.XXXX.partial.mp4') included.
    assert not [p for p in root.rglob("*") if ".partial" in p.name or p.name.endswith(".ffmeta")]
    got = videos(root)
    assert got.keys() == expected.keys()
    for name in expected:
        assert len(got[name]) == len(expected[name]) and all(
            np.array_equal(a, b) for a, b in zip(got[name], expected[name])
        )
    queue = Queue(str(root))
    assert [j.state for j in queue.jobs()] == ["done"] * 3 and sum(j.attempts for j in queue.jobs()) > 3
    reused = [c for m in root.glob("*/manifest.json") for c in json.loads(m.read_text())["clips"] if c.get("reused")]
    assert len(reused) >= len(saved) > 0


def test_out_of_memory_is_recovered_and_recorded(tiny_models, tmp_path):
    out = tmp_path / "oom"
    result = wan("render", FILES[0], "--engine", "wan", "--models", tiny_models, "--width", "64", "--height", "48",
                 "--steps", "2", "--preset", "ultrafast", "--out", out, env={"WAN_WEAVE_FAULT": "oom@1"})  # fmt: skip
    assert result.returncode == 0, result.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    attempts = {c["index"]: c["attempts"] for c in manifest["clips"]}
    assert attempts[0] == [] and len(attempts[1]) == 1
    assert "out of memory" in attempts[1][0]["error"].lower() and "trying 'balanced'" in attempts[1][0]["next"]


def test_a_full_disk_fails_the_job_clearly_and_the_rest_of_the_batch_goes_on(tiny_models, tmp_path):
    broken = tmp_path / "broken_settings.txt"
    broken.write_text('{"max_frames": 30, "prompts": {"0": "a sea"}, "translation_x": "0: (1+"}')
    root = tmp_path / "batch"
    args = [str(FILES[0]), str(broken), str(FILES[1]), "--out", str(root), "--models", str(tiny_models), "--width",
            "64", "--height", "48", "--steps", "2", "--preset", "ultrafast"]  # fmt: skip
    result = wan("batch", *args, env={"WAN_WEAVE_FAULT": "enospc@1"})
    assert result.returncode == 1
    jobs = {j.name: j for j in Queue(str(root)).jobs()}
    assert (
        jobs["greenhouse_2d"].state == "failed"
        and "the disk is full while saving clip 1" in jobs["greenhouse_2d"].error
    )
    assert jobs["broken_settings"].state == "failed" and "translation_x" in jobs["broken_settings"].error
    assert jobs["harbor_3d"].state == "done"
    manifest = json.loads((root / "greenhouse_2d" / "manifest.json").read_text())
    assert manifest["status"] == "failed" and [c["index"] for c in manifest["clips"]] == [0]
    assert (root / "greenhouse_2d" / manifest["clips"][0]["frames_file"]).is_file()  # nothing finished lost
    again = wan("resume", root)  # the disk has space again: the failed render resumes
    assert again.returncode == 1  # the bad settings file stays failed
    assert {j.name: j.state for j in Queue(str(root)).jobs()}["greenhouse_2d"] == "done"
    manifest = json.loads((root / "greenhouse_2d" / "manifest.json").read_text())
    assert [c.get("reused", False) for c in manifest["clips"]] == [True, False, False]
