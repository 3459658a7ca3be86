"""The pinned-host CI legs: Forge and A1111 reproduced without their source, from the package lists
they pin (tests/hosts/pins/, copied verbatim from the checkouts named in HOSTS). For each host:

1. a venv built from its requirements_versions.txt, with this machine's CPU torch 2.13 in place of
   the host's CUDA torch (see CPU_STAND_INS for what else differs, and why);
2. this repository copied into <webui>/extensions/wan-weave and its install.py run the way the host
   runs it (`python install.py` from the WebUI root, PYTHONPATH = the WebUI root, output captured);
3. tests/hosts/pinned (the worker's packages over the host's pins, a tiny-model render through the
   worker with the host's python) and the tab's build, serve and glue tests, run with the host's
   python inside that copy.

Stdlib only: tools/test.py runs it before anything else is installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from devenv import ROOT, TORCH_PIN, ensure_venv, guard_torchvision
from webui_host import SETUPTOOLS, install_extension, without_torch

PINS = ROOT / "tests" / "hosts" / "pins"
HOSTS = {
    # host: (pinned list, where it was copied from)
    "forge": (PINS / "forge-requirements_versions.txt", "lllyasviel/stable-diffusion-webui-forge dfdcbab6"),
    "a1111": (PINS / "a1111-requirements_versions.txt", "AUTOMATIC1111/stable-diffusion-webui v1.10.1"),
}
# What these venvs hold that the hosts' do not: the torch wheel on this machine's disk is a CPU build
# for Python 3.11, so A1111 (3.10 upstream) runs on 3.11 too; setuptools 69.5.1 cannot serve torch
# 2.13; PyPI's torchvision 0.28 is a CUDA build whose ops cannot load beside the CPU torch, so two of
# its registrations are guarded (tools/webui_host.py). pytest and hypothesis run the tests.
CPU_STAND_INS = [TORCH_PIN, SETUPTOOLS, "pytest>=8", "hypothesis>=6.100"]
TESTS = ["tests/hosts/pinned", "tests/hosts/test_blocks.py", "tests/hosts/test_webui_glue.py"]


def pinned_requirements(host: str, work: Path) -> Path:
    """The host's list as a requirements file, torch and setuptools replaced (see CPU_STAND_INS)."""
    path = work / f"{host}-requirements.txt"
    path.write_text("\n".join(without_torch(HOSTS[host][0])) + "\n")
    return path


def host_venv(host: str, work: Path) -> Path:
    venv = ROOT / f".venv-{host}"
    # torch first on its own: with it installed, the pinned list's torch-dependent packages (and
    # torchvision) resolve against 2.13 instead of pulling a CUDA build.
    python = ensure_venv([], venv=venv, extra=CPU_STAND_INS)
    reqs = pinned_requirements(host, work)
    python = ensure_venv([str(reqs.relative_to(ROOT))], venv=venv, extra=[TORCH_PIN])
    print(f"{host}: {guard_torchvision(venv)}", flush=True)
    return python


def run_installer(python: Path, webui: Path, ext: Path) -> str | None:
    """install.py as launch_utils.run_extension_installer runs it; None when it succeeded."""
    env = {**os.environ, "PYTHONPATH": str(webui), "COMMANDLINE_ARGS": ""}
    done = subprocess.run([str(python), str(ext / "install.py")], cwd=webui, env=env, capture_output=True, text=True)
    print("\n".join(line for line in done.stdout.splitlines() if line.startswith("Wan Weave:")), flush=True)
    stages = [line for line in done.stdout.splitlines() if line.startswith("Wan Weave: [")]
    if done.returncode != 0:
        print("\n".join((done.stdout + done.stderr).splitlines()[-40:]), flush=True)  # pip's own words
        return f"install.py exited {done.returncode}"
    if len(stages) != 3:
        return f"install.py printed {len(stages)} of its 3 stage lines"
    return None


def run_leg(host: str) -> str | None:
    """One host's leg; None when it passed, else what failed."""
    work = ROOT / f".host-{host}"
    work.mkdir(exist_ok=True)
    python = host_venv(host, work)
    webui = work / "webui"
    shutil.rmtree(webui, ignore_errors=True)  # a fresh install each time: install.py runs as on a first start
    ext = Path(install_extension(webui)["path"])
    failed = run_installer(python, webui, ext)
    if failed:
        return f"{host}: {failed}"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "CI": os.environ.get("CI", "1"), "WAN_WEAVE_HOST_LEG": host,
           "PYTHONPATH": str(ext)}  # fmt: skip
    env.pop("WAN_WEAVE_WORKER_PYTHON", None)  # the worker runs with the host's python, as in the WebUI
    cmd = [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", *TESTS]
    print("$", " ".join(cmd), f"(in {ext})", flush=True)
    code = subprocess.call(cmd, cwd=ext, env=env)
    return None if code == 0 else f"{host}: pytest exited {code}"


if __name__ == "__main__":
    problems = [p for p in (run_leg(h) for h in (sys.argv[1:] or HOSTS)) if p]
    print("\n".join(problems) or "pinned hosts passed", flush=True)
    sys.exit(1 if problems else 0)
