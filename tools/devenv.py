"""Create and fill the project's virtual environment; shared by tools/run.py and tools/test.py.

Stdlib only: it runs on a fresh machine before anything is installed.
"""

from __future__ import annotations

import hashlib
import os
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


def ensure_venv(
    requirements: str,
    *,
    venv: Path | None = None,
    python: str | None = None,
    extra: list[str] | None = None,
    quiet: bool = True,
) -> Path:
    """Return the venv's python, creating the venv and installing `requirements` when they changed."""
    venv = venv or ROOT / ".venv"
    extra = extra or []
    req = ROOT / requirements
    stamp = venv / f".installed-{req.stem}"
    digest = _digest(_requirement_files(req), extra)
    py = venv_python(venv)
    if not py.exists():
        print(f"setting up {venv.name} (one time)...", file=sys.stderr, flush=True)
        subprocess.run([python or sys.executable, "-m", "venv", str(venv)], check=True)
    if stamp.exists() and stamp.read_text() == digest:
        return py
    print(f"installing {requirements} {' '.join(extra)} into {venv.name}...", file=sys.stderr, flush=True)
    flags = ["-q"] if quiet else []
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    subprocess.run([str(py), "-m", "pip", "install", *flags, "-r", str(req), *extra], check=True, env=env)
    stamp.write_text(digest)
    return py
