"""Two processes on one output root: each job is rendered once, by one of them, and every video
equals a single process's; a full disk ends a job with one line and the queue stays usable."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from movement.errors import WanWeaveError
from tests.conftest import EXAMPLES, ROOT, wan
from wan.jobs.queue import Queue
from wan.media.video import read_frames

FILES = [EXAMPLES / n for n in ("greenhouse_2d.txt", "harbor_3d.txt", "legacy_no_fps.json", "lighthouse_init.txt")]
OPTIONS = ["--engine", "preview", "--width", "64", "--height", "48", "--preset", "ultrafast"]


def popen(*args) -> subprocess.Popen:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "wan", *map(str, args)], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip


def videos(root: Path) -> dict[str, np.ndarray]:
    return {p.parent.name: np.stack(read_frames(str(p))[0]) for p in sorted(root.glob("*/*.mp4"))}


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict[str, np.ndarray]:
    root = tmp_path_factory.mktemp("single")
    result = wan("batch", *FILES, "--out", root, *OPTIONS)
    assert result.returncode == 0, result.stderr
    return videos(root)


def _rendering(root: Path) -> bool:
    if not (root / "queue.sqlite").exists():
        return False
    try:
        return any(j.state == "running" for j in Queue(str(root)).jobs())
    except WanWeaveError:  # the batch is still creating the queue
        return False


def assert_each_job_ran_once(root: Path, reference) -> None:
    jobs = Queue(str(root)).jobs()
    assert sorted(j.name for j in jobs) == sorted(reference)  # each file queued once
    assert [(j.state, j.attempts) for j in jobs] == [("done", 1)] * len(jobs), jobs
    got = videos(root)
    assert got.keys() == reference.keys()
    for name, frames in reference.items():
        assert np.array_equal(got[name], frames), name


def test_two_batches_on_one_root(tmp_path, reference):
    root = tmp_path / "root"
    first, second = popen("batch", *FILES, "--out", root, *OPTIONS), popen("batch", *FILES, "--out", root, *OPTIONS)
    outputs = [p.communicate(timeout=600) for p in (first, second)]
    assert [p.returncode for p in (first, second)] == [0, 0], outputs
    assert all("Traceback" not in err for _, err in outputs)
    assert_each_job_ran_once(root, reference)


def test_resume_during_a_batch(tmp_path, reference):
    root = tmp_path / "root"
    batch = popen("batch", *FILES, "--out", root, *OPTIONS)
    deadline = time.time() + 120
    while time.time() < deadline and not _rendering(root):  # resume starts while the batch holds a job
        time.sleep(0.05)
    resume = popen("resume", root)
    outputs = [p.communicate(timeout=600) for p in (batch, resume)]
    assert batch.returncode == 0 and resume.returncode in (0, 1), outputs
    assert_each_job_ran_once(root, reference)


def test_a_batch_beside_the_apps_queue_runner(tmp_path, reference):
    from wan.jobs.api import QueueRunner
    from wan.jobs.client import WorkerClient

    root = tmp_path / "root"
    queued = wan("batch", *FILES, "--out", root, *OPTIONS, "--no-run")
    assert queued.returncode == 0, queued.stderr
    worker = WorkerClient(sys.executable)
    QueueRunner(str(root), worker, str(tmp_path / "models"), log=lambda m: None)  # its thread takes jobs from the same queue
    batch = popen("resume", root)  # the CLI takes jobs while the app's runner takes others
    try:
        _, err = batch.communicate(timeout=600)
        deadline = time.time() + 300
        while time.time() < deadline and any(j.state != "done" for j in Queue(str(root)).jobs()):
            time.sleep(0.2)
    finally:
        worker.close()
    assert batch.returncode == 0, err
    assert_each_job_ran_once(root, reference)


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs", str(mount)],
                      capture_output=True).returncode != 0:  # fmt: skip
        pytest.skip("mounting a tmpfs needs root (CI runs as root); the fault-injected disk test covers the rest")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def test_a_full_disk_is_one_line_and_the_queue_stays_usable(small_disk, tmp_path):
    root = small_disk / "root"
    result = wan("batch", *FILES, "--out", root, *OPTIONS)
    assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
    assert "disk is full" in result.stderr + result.stdout
    listing = wan("queue", root, "--json")  # the queue still opens and lists, even on the full disk
    assert listing.returncode == 0 and "Traceback" not in listing.stderr, listing.stderr
    subprocess.run(["mount", "-o", "remount,size=64m", str(small_disk)], check=True)
    again = wan("resume", root)
    assert again.returncode == 0, again.stderr + again.stdout
    jobs = Queue(str(root)).jobs()
    assert len(jobs) == len(FILES) and all(j.state == "done" for j in jobs), jobs
    assert len(list(root.glob("*/*.mp4"))) == len(FILES)
    shutil.rmtree(root, ignore_errors=True)

