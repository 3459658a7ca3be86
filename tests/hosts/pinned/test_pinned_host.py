"""In a venv built from a WebUI's pinned packages, after install.py ran as the host runs it
(tools/pinned_host.py sets this up; WAN_WEAVE_HOST_LEG names the host): the host's pins are really
there, the worker's packages import over them, and a tiny-model render finishes through the worker
started with the host's python, exactly as the tab starts it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata

import cv2
import pytest

from movement import load_settings
from tests.conftest import EXAMPLES, ROOT
from wan.jobs.client import OVERLAY, WorkerClient
from wan.plan.build import PlanOptions, build_plan
from wan.plan.plan_json import plan_to_dict
from wan.plan.post import Post

HOST = os.environ.get("WAN_WEAVE_HOST_LEG")
pytestmark = pytest.mark.skipif(not HOST, reason="runs in tools/pinned_host.py's host venvs only")
PINS = ROOT / "tests" / "hosts" / "pins"


def pins() -> dict[str, str]:
    pinned = {}
    for line in (PINS / f"{HOST}-requirements_versions.txt").read_text().splitlines():
        name, _, version = line.split("#")[0].strip().partition("==")
        if version:
            pinned[name.lower()] = version
    return pinned


def worker_env() -> dict:
    """The worker's environment, as WorkerClient.start() builds it (the overlay first)."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join([OVERLAY, str(ROOT)]), "HF_HUB_OFFLINE": "1"}


def test_the_host_pins_the_packages_that_clash_with_the_worker():
    pinned = pins()
    # The clash this leg exists for: kornia 0.6.7 lacks what diffusers.guiders imports.
    for name in ("kornia", "gradio", "transformers", "numpy", "pillow", "protobuf", "safetensors"):
        assert metadata.version(name) == pinned[name], name
    assert not os.environ.get("WAN_WEAVE_WORKER_PYTHON")


def test_the_worker_imports_its_packages_over_the_host_pins():
    code = ("import json, kornia, diffusers, transformers, diffusers.guiders\n"
            "from diffusers import WanPipeline, WanVACEPipeline, WanImageToVideoPipeline\n"
            "print(json.dumps({'kornia': kornia.__version__, 'diffusers': diffusers.__version__,\n"
            "                  'transformers': transformers.__version__, 'file': kornia.__file__}))")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], env=worker_env(), cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.splitlines()[-1])
    overlay = {line.split("==")[0]: line.split("==")[1] for line in (ROOT / "requirements-overlay.txt").read_text()
               .splitlines() if "==" in line and not line.startswith("#")}  # fmt: skip
    assert seen["file"].startswith(OVERLAY)
    assert [seen[k] for k in ("kornia", "diffusers", "transformers")] == [overlay[k] for k in
                                                                          ("kornia", "diffusers", "transformers")]


def test_the_glue_finds_the_installed_worker_ready():
    sys.path.insert(0, str(ROOT / "tests" / "fake_webui"))  # scripts/wan_weave.py imports `modules`
    try:
        import runpy

        glue = runpy.run_path(str(ROOT / "scripts" / "wan_weave.py"))
        assert glue["worker_setup_problem"]() is None
    finally:
        sys.path.remove(str(ROOT / "tests" / "fake_webui"))


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    made = subprocess.run([sys.executable, "-m", "wan", "make-tiny-models", str(root)], env=worker_env(), cwd=ROOT,
                          capture_output=True, text=True)  # fmt: skip
    assert made.returncode == 0, made.stderr[-2000:]
    return root


def test_a_tiny_render_through_the_worker_with_the_host_python(tiny_models, tmp_path):
    settings = load_settings(EXAMPLES / "greenhouse_2d.txt")
    # The post block too: the host's own spandrel (pinned 0.3.4) upscales, the overlay's OpenCV flow
    # makes the frames between the model's.
    post = Post(upscale="tiny-esrgan-x2.safetensors")
    plan = build_plan(settings, PlanOptions(width=64, height=48, steps=2, post=post))
    job = {"type": "render", "plan": plan_to_dict(plan), "out": str(tmp_path / "out"),
           "options": {"engine": "wan", "models_dir": str(tiny_models), "profile": "auto"}}  # fmt: skip
    worker = WorkerClient()  # the host's python, as the tab starts it
    events = []
    try:
        result = worker.run(job, events.append)
    finally:
        worker.close()
    assert worker.python == sys.executable
    # The host's OpenCV reads it: the WebUI's process has no imageio-ffmpeg (only the worker's overlay).
    video = cv2.VideoCapture(result["video"])
    frames = 0
    while video.read()[0]:
        frames += 1
    assert (frames, video.get(cv2.CAP_PROP_FPS)) == (plan.max_frames, plan.fps_out)
    assert (video.get(cv2.CAP_PROP_FRAME_WIDTH), video.get(cv2.CAP_PROP_FRAME_HEIGHT)) == (128, 96)
    assert sum(e.get("event") == "clip_done" for e in events) == len(plan.clips)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["status"] == "done" and manifest["engine"] == "wan"
    assert manifest["post"]["interpolator"] == "opencv-dis" and manifest["post"]["upscaler"] == "tiny-esrgan-x2"
