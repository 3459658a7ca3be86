"""Set up once, then run `python -m wan ...`: `python3 tools/run.py describe examples/harbor_3d.txt`."""

from __future__ import annotations

import os
import subprocess
import sys

from devenv import ROOT, ensure_venv, ensure_worker_venv  # tools/ is first on sys.path when run as a script


def needs_worker(argv: list[str]) -> bool:
    """Commands that run models need torch, diffusers and transformers; the rest need numpy, OpenCV
    and ffmpeg. `enhance` and `storyboard` may load a Qwen model; render's --enhance too."""
    joined = " ".join(argv)
    models = ("make-tiny-models", "enhance", "storyboard", "keyframes", "post", "batch", "resume")
    return any(a in models for a in argv) or any(f in joined for f in ("--engine wan", "--engine=wan", "--enhance"))


def main() -> int:
    argv = sys.argv[1:]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    if argv[:1] == ["ui"]:
        # Two stacks, as in the WebUI: the app's process has gradio and no torch; its generation
        # worker runs in .venv with torch and diffusers.
        worker = ensure_worker_venv(["requirements.txt", "requirements-worker.txt"])
        app = ensure_venv("requirements-ui.txt", venv=ROOT / ".venv-ui")
        return subprocess.call([str(app), "-m", "wan", *argv, "--worker-python", str(worker)], env=env)
    if needs_worker(argv):
        py = ensure_worker_venv(["requirements.txt", "requirements-worker.txt"])
    else:
        py = ensure_venv("requirements.txt")
    return subprocess.call([str(py), "-m", "wan", *argv], env=env)


if __name__ == "__main__":
    sys.exit(main())
