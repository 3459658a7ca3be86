"""Set up once, then run `python -m wan ...`: `python3 tools/run.py describe examples/harbor_3d.txt`."""

from __future__ import annotations

import os
import subprocess
import sys

from devenv import ROOT, TORCH_PIN, ensure_venv  # tools/ is first on sys.path when run as a script


def needs_worker(argv: list[str]) -> bool:
    """Commands that run models need torch, diffusers and transformers; the rest need numpy, OpenCV
    and ffmpeg. `enhance` and `storyboard` may load a Qwen model; render's --enhance too."""
    joined = " ".join(argv)
    models = ("make-tiny-models", "enhance", "storyboard")
    return any(a in models for a in argv) or any(f in joined for f in ("--engine wan", "--engine=wan", "--enhance"))


def main() -> int:
    argv = sys.argv[1:]
    if needs_worker(argv):
        py = ensure_venv(["requirements.txt", "requirements-worker.txt"], extra=[TORCH_PIN])
    else:
        py = ensure_venv("requirements.txt")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.call([str(py), "-m", "wan", *argv], env=env)


if __name__ == "__main__":
    sys.exit(main())
