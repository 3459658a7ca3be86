"""WebUI install hook (Forge/A1111 run it at start-up, before the extension loads).

The WebUI's own process needs nothing new (the core is numpy + OpenCV, the tab is the host's
gradio). The generation worker needs newer diffusers/transformers than the WebUI pins, so they go
into a private overlay, `.worker-deps/` in this folder, installed with `pip --target --no-deps`
from requirements-overlay.txt: nothing the host pins is upgraded, the host's torch is reused, and
only the worker puts the overlay on its path. A stamp makes the second start instant;
`--skip-install` is honoured.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OVERLAY = os.environ.get("WAN_WEAVE_OVERLAY_DIR") or os.path.join(HERE, ".worker-deps")
REQUIREMENTS = os.path.join(HERE, "requirements-overlay.txt")
STAMP = ".installed"


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
            "--target", overlay, "-r", REQUIREMENTS]  # fmt: skip


def main(argv: list[str]) -> int:
    action = decide(argv)
    if action == "skip":
        print("Wan Weave: --skip-install given; the worker overlay was not checked", flush=True)
        return 0
    if action == "current":
        return 0
    print(f"Wan Weave: installing the generation worker's packages into {OVERLAY} (once)...", flush=True)
    if subprocess.call(pip_command()) != 0:
        print("Wan Weave: the worker overlay could not be installed; the tab works, rendering will report "
              "what is missing. Re-run after fixing the network.", flush=True)  # fmt: skip
        return 1
    with open(os.path.join(OVERLAY, STAMP), "w", encoding="ascii") as fh:
        fh.write(wanted_digest())
    return 0


if __name__ == "__main__":
    main(sys.argv)
