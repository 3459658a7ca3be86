"""Set up once, then lint and run every test: `python3 tools/test.py [pytest args]`.

Also runs the pure core's tests on Python 3.10 with numpy 1.26 (the WebUI's stack) when a 3.10
interpreter is on this machine, and says so when it is not. Exits non-zero on any failure,
including "no tests collected".
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys

from devenv import ROOT, TORCH_PIN, ensure_venv  # tools/ is first on sys.path when run as a script

PY310_PINS = ["numpy==1.26.4", "pandas==2.2.3", "opencv-python-headless==4.10.0.84"]


def find_python310() -> str | None:
    for candidate in (
        shutil.which("python3.10"),
        *sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.10*/bin/python"))),
    ):
        if (
            candidate
            and subprocess.run(
                [candidate, "-c", "import sys; assert sys.version_info[:2] == (3, 10)"], capture_output=True
            ).returncode
            == 0
        ):
            return candidate
    return None


def run(cmd: list[str]) -> int:
    print("$", " ".join(cmd), flush=True)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.call(cmd, cwd=ROOT, env=env)


def main(argv: list[str]) -> int:
    py = str(ensure_venv(["requirements-dev.txt", "requirements-worker.txt"], extra=[TORCH_PIN]))
    failures = []
    if run([py, "-m", "ruff", "check", "."]) != 0:
        failures.append("ruff")
    code = run([py, "-m", "pytest", *(argv or ["-q"])])
    if code != 0:
        failures.append("pytest (no tests collected)" if code == 5 else "pytest")
    if not argv:
        py310 = find_python310()
        if py310 is None:
            print("python 3.10 not found: skipped the core tests on 3.10", flush=True)
        else:
            venv310 = ROOT / ".venv310"
            py310_env = str(ensure_venv("requirements-dev.txt", venv=venv310, python=py310, extra=PY310_PINS))
            code = run([py310_env, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/core"])
            if code != 0:
                failures.append("pytest on python 3.10" + (" (no tests collected)" if code == 5 else ""))
    if failures:
        print(f"FAILED: {', '.join(failures)}", flush=True)
        return 1
    print("all checks passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
