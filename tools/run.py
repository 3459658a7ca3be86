"""Set up once, then run `python -m wan ...`: `python3 tools/run.py describe examples/lighthouse_3d.txt`."""

from __future__ import annotations

import os
import subprocess
import sys

from devenv import ROOT, TORCH_PIN, ensure_venv  # tools/ is first on sys.path when run as a script


def needs_worker(argv: list[str]) -> bool:
    """Commands that run models need torch and diffusers; the rest need numpy, OpenCV and ffmpeg."""
    joined = " ".join(argv)
    return "make-tiny-models" in argv or "--engine wan" in joined or "--engine=wan" in joined


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
