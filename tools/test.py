"""Set up once, then lint and run every test: `python3 tools/test.py [pytest args]`.

1. ruff, the import contracts (lint-imports) and pytest in .venv (torch CPU, diffusers,
   transformers): the tests that mirror the packages, tests/hosts aside;
2. tests/hosts in .venv-ui (gradio 4.40, Playwright with Debian's chromium, no torch), whose worker
   runs in .venv: the two stacks of the WebUI;
3. the core tests and the tab's build on Python 3.10 with numpy 1.26 and gradio 3.41.2 (A1111's
   stack) when a 3.10 interpreter is on this machine, and says so when it is not;
4. the pinned-host legs (tools/pinned_host.py): Forge's and A1111's pinned packages, install.py run
   as the host runs it, a tiny render through the worker with the host's python, the tab's glue.
With pytest args only step 1 runs, with them. Exits non-zero on any failure, including "no tests
collected".
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys

from devenv import ROOT, ensure_venv, ensure_worker_venv  # tools/ is first on sys.path when run as a script
from pinned_host import HOSTS, run_leg

PY310_PINS = ["numpy==1.26.4", "pandas==2.2.3", "opencv-python-headless==4.10.0.84"]
CHROMIUM = "/usr/bin/chromium"
# The tests of the pure core and the tab's decisions, which must also pass on A1111's Python 3.10
# stack (no torch there).
CORE_TESTS = [
    "tests/movement",
    "tests/wan/plan",
    "tests/wan/cli/test_cli.py",
    "tests/wan/jobs/test_queue.py",
    "tests/prompt_enhance/test_prompt_enhance.py",
    "tests/prompt_enhance/test_storyboard.py",
    "tests/ui/test_state.py",
    "tests/bench/test_bench.py",
]


def ensure_chromium() -> bool:
    """Debian's chromium for the browser tests (no browser download from Playwright)."""
    if os.path.exists(CHROMIUM):
        return True
    print("installing Debian's chromium for the browser tests...", flush=True)
    apt = ["apt-get"] if os.geteuid() == 0 else ["sudo", "-n", "apt-get"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.call([*apt, "update", "-q"], env=env, stdout=subprocess.DEVNULL)
    subprocess.call([*apt, "install", "-y", "-q", "chromium"], env=env, stdout=subprocess.DEVNULL)
    return os.path.exists(CHROMIUM)


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


def run(cmd: list[str], **env_extra: str) -> int:
    print("$", " ".join(cmd), flush=True)
    # CI=1 makes hypothesis replay the same examples every run (tests/conftest.py): a red run means a
    # change, not a lucky draw. Plain `pytest` keeps exploring new examples.
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT), "CI": os.environ.get("CI", "1"), **env_extra}
    return subprocess.call(cmd, cwd=ROOT, env=env)


def main(argv: list[str]) -> int:
    py = str(ensure_worker_venv(["requirements-dev.txt", "requirements-worker.txt"]))
    failures = []
    if run([py, "-m", "ruff", "check", "."]) != 0:
        failures.append("ruff")
    if run([os.path.join(os.path.dirname(py), "lint-imports")]) != 0:  # the layering (pyproject.toml)
        failures.append("import contracts (lint-imports)")
    code = run([py, "-m", "pytest", "--ignore=tests/hosts", *(argv or ["-q"])])
    if code != 0:
        failures.append("pytest (no tests collected)" if code == 5 else "pytest")
    if argv:
        return _report(failures)
    # The tab, in the standalone app's own environment (gradio 4.40, no torch), in a real browser;
    # its generation worker runs in .venv.
    ui = str(ensure_venv("requirements-ui-test.txt", venv=ROOT / ".venv-ui"))
    if not ensure_chromium():
        failures.append(f"browser tests: {CHROMIUM} missing and apt could not install it")
    code = run([ui, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/hosts",
                "--ignore=tests/hosts/pinned"], WAN_WEAVE_WORKER_PYTHON=py)  # fmt: skip
    if code != 0:
        failures.append("ui tests (gradio 4.40)" + (" (no tests collected)" if code == 5 else ""))
    py310 = find_python310()
    if py310 is None:
        print("python 3.10 not found: skipped the core and gradio 3.41.2 tests on 3.10", flush=True)
    else:
        venv310 = ROOT / ".venv310"
        reqs = ["requirements-dev.txt", "requirements-a1111.txt"]
        py310_env = str(ensure_venv(reqs, venv=venv310, python=py310, extra=PY310_PINS))
        code = run(
            [
                py310_env,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                *CORE_TESTS,
                "tests/hosts/test_blocks.py",
                "tests/hosts/test_webui_glue.py",
            ]
        )
        if code != 0:
            failures.append("pytest on python 3.10 with gradio 3.41.2" + (" (no tests collected)" if code == 5 else ""))
    failures += [problem for problem in map(run_leg, HOSTS) if problem]
    return _report(failures)


def _report(failures: list[str]) -> int:
    if failures:
        print(f"FAILED: {', '.join(failures)}", flush=True)
        return 1
    print("all checks passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
