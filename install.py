"""WebUI install hook (Forge/A1111 run it at start-up, before the extension loads).

The WebUI's own process needs nothing new (the core is numpy + OpenCV, the tab is the host's
gradio). The generation worker needs newer diffusers/transformers than the WebUI pins, so they go
into a private overlay, `.worker-deps/` in this folder, installed with `pip --target --no-deps`
from requirements-overlay.txt: nothing the host pins is upgraded, the host's torch is reused, and
only the worker puts the overlay on its path (first, so the overlay's kornia wins over the host's
pinned one). A stamp makes the second start instant; `--skip-install` is honoured.

The host captures this script's output and shows it only when it fails, so every stage prints one
line at once, and any failure exits non-zero: the host then reports it with our message.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
OVERLAY = os.environ.get("WAN_WEAVE_OVERLAY_DIR") or os.path.join(HERE, ".worker-deps")
REQUIREMENTS = os.path.join(HERE, "requirements-overlay.txt")
STAMP = ".installed"
# What the worker imports first: a clash with a host pin shows up here, not at the first Render.
VERIFY = "import diffusers.guiders, transformers; from diffusers import WanPipeline, WanVACEPipeline; print('ok')"


def say(text: str) -> None:
    print(f"Wan Weave: {text}", flush=True)


def wanted_digest() -> str:
    with open(REQUIREMENTS, "rb") as fh:
        return hashlib.sha256(fh.read() + sys.version.encode()).hexdigest()


def decide(argv: list[str], overlay: str = OVERLAY) -> str:
    """'skip' (asked to), 'current' (stamp matches) or 'install'. The WebUI runs this file as a
    subprocess, so its own flags arrive in COMMANDLINE_ARGS, not in argv."""
    if "--skip-install" in argv or "--skip-install" in os.environ.get("COMMANDLINE_ARGS", "").split():
        return "skip"
    try:
        with open(os.path.join(overlay, STAMP), encoding="ascii") as fh:
            if fh.read().strip() == wanted_digest():
                return "current"
    except OSError:
        pass
    return "install"


def pip_command(overlay: str = OVERLAY) -> list[str]:
    return [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "--no-deps", "--upgrade",
            "--progress-bar", "off", "--target", overlay, "-r", REQUIREMENTS]  # fmt: skip


def host_torch() -> str | None:
    from importlib import metadata

    try:
        return metadata.version("torch")
    except metadata.PackageNotFoundError:
        return None


def torch_problem() -> str | None:
    sys.path.insert(0, HERE)  # wan.models.stack is pure: it imports nothing else of ours
    from wan.models.stack import torch_problem as problem

    return problem(host_torch())


def verify(overlay: str = OVERLAY) -> str | None:
    """None when the worker's packages import over the host's, else the error's last line."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([overlay, HERE])}
    done = subprocess.run([sys.executable, "-c", VERIFY], env=env, capture_output=True, text=True)
    if done.returncode == 0:
        return None
    lines = (done.stderr or done.stdout).strip().splitlines()
    return lines[-1] if lines else f"exit code {done.returncode}"


def main(argv: list[str]) -> int:
    action = decide(argv)
    if action == "skip":
        say("--skip-install given: the worker's packages were not checked. If Render says they are missing, "
            f"run once: {sys.executable} {os.path.abspath(__file__)}")  # fmt: skip
        return 0
    if action == "current":
        return 0
    problem = torch_problem()
    if problem:
        say(f"{problem}. Rendering with WAN will not work until then; the tab and Preview do.")
    started = time.monotonic()
    say(f"[1/3] installing the generation worker's packages into {OVERLAY} (once; about 450 MB, a few minutes)")
    if subprocess.call(pip_command(), stdout=sys.stdout, stderr=sys.stderr) != 0:
        say("the worker's packages could not be installed (see pip's message above); the tab works, Render "
            "does not. Fix the network or disk, then restart the WebUI.")  # fmt: skip
        return 1
    say(f"[2/3] installed in {time.monotonic() - started:.0f} s; checking that they import over the WebUI's own")
    failed = verify()
    if failed:
        say(f"the worker's packages do not import: {failed}")
        return 1
    with open(os.path.join(OVERLAY, STAMP), "w", encoding="ascii") as fh:
        fh.write(wanted_digest())
    say("[3/3] the generation worker is ready")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
