"""Create and fill the project's virtual environment; shared by tools/run.py and tools/test.py.

Stdlib only: it runs on a fresh machine before anything is installed.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _digest(files: list[Path], extra: list[str]) -> str:
    h = hashlib.sha256()
    for f in files:
        h.update(f.read_bytes())
    h.update("\n".join(extra).encode())
    return h.hexdigest()


def _requirement_files(path: Path) -> list[Path]:
    files = [path]
    for line in path.read_text().splitlines():
        if line.startswith("-r "):
            files += _requirement_files(path.parent / line[3:].strip())
    return files


# The CPU build of torch this project's machines carry as a local file; a bare "torch" would pull
# the newest CUDA build (gigabytes). On a GPU machine pip picks the matching wheel of this version.
TORCH_PIN = "torch==2.13.0"
# spandrel (the upscalers) imports torchvision; 0.28 is the release paired with torch 2.13. The
# WebUIs always carry one, so the worker's own venv gets one too, guarded as below.
TORCHVISION_PIN = "torchvision==0.28.0"
WORKER_PINS = [TORCH_PIN, TORCHVISION_PIN]


def ensure_worker_venv(requirements: list[str], venv: Path | None = None) -> Path:
    """The generation worker's venv (torch, torchvision, diffusers...), torchvision importable."""
    py = ensure_venv(requirements, venv=venv, extra=WORKER_PINS)
    guard_torchvision(venv or ROOT / ".venv")
    return py


def guard_torchvision(venv: Path) -> str:
    """PyPI's torchvision 0.28 is a CUDA build: its _C.so needs libtorch_cuda.so, absent beside the
    CPU torch, so its ops are never registered, and two unguarded `register_fake("torchvision::nms")`
    decorators then fail the import ('operator torchvision::nms does not exist'). Guard those two
    the way torchvision guards its other Meta registrations (only when its ops loaded). torchvision
    imports then; its compiled ops (nms, roi_align) stay unavailable, which the WebUIs don't need
    to start."""
    found = list((venv / "lib").glob("python3*/site-packages/torchvision/_meta_registrations.py"))
    if not found:
        return "torchvision not found"
    path = found[0]
    text = path.read_text(encoding="utf-8")
    guarded = re.sub(
        r'^@torch\.library\.register_fake\("torchvision::(q?nms)"\)$',
        r'@(torch.library.register_fake("torchvision::\1") if torchvision.extension._has_ops() else (lambda fn: fn))',
        text,
        flags=re.M,
    )
    if guarded == text:
        return "already guarded"
    path.write_text(guarded, encoding="utf-8")
    return f"guarded register_fake(nms, qnms) in {path}"




def ensure_venv(
    requirements: str | list[str],
    *,
    venv: Path | None = None,
    python: str | None = None,
    extra: list[str] | None = None,
    quiet: bool = True,
) -> Path:
    """Return the venv's python, creating the venv and installing `requirements` when they changed."""
    venv = venv or ROOT / ".venv"
    extra = extra or []
    reqs = [ROOT / r for r in ([requirements] if isinstance(requirements, str) else requirements)]
    stamp = venv / f".installed-{'+'.join(r.stem for r in reqs)}"
    digest = _digest([f for r in reqs for f in _requirement_files(r)], extra)
    py = venv_python(venv)
    if not py.exists():
        print(f"setting up {venv.name} (one time)...", file=sys.stderr, flush=True)
        subprocess.run([python or sys.executable, "-m", "venv", str(venv)], check=True)
    if stamp.exists() and stamp.read_text() == digest:
        return py
    names = " ".join(r.name for r in reqs)
    print(f"installing {names} {' '.join(extra)} into {venv.name}...", file=sys.stderr, flush=True)
    flags = ["-q"] if quiet else []
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    args = [a for r in reqs for a in ("-r", str(r))]
    subprocess.run([str(py), "-m", "pip", "install", *flags, *args, *extra], check=True, env=env)
    stamp.write_text(digest)
    return py
