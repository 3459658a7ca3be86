from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import settings

# CI replays the same examples every run (a red CI must mean a real change); local runs explore.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


@pytest.fixture
def write_settings(tmp_path):
    """Write a settings dict (or raw text) to a file and return its path."""

    def write(data, name: str = "settings.txt") -> Path:
        path = tmp_path / name
        if isinstance(data, (bytes, str)):
            path.write_bytes(data if isinstance(data, bytes) else data.encode())
        else:
            path.write_text(json.dumps(data))
        return path

    return write


def run_bench(script: str, *args: str) -> dict:
    """Run a benchmark as a user would and return the JSON object it prints."""
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, f"bench/{script}", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory):
    """Every tiny WAN model, written once per session."""
    pytest.importorskip("diffusers")
    from wan.testing.tiny_models import make_tiny_models

    root = tmp_path_factory.mktemp("models")
    make_tiny_models(str(root))
    return root


@pytest.fixture(scope="session")
def single_files(tiny_models, tmp_path_factory):
    """A models folder with the tiny single-file transformers and the folders they complete from."""
    from wan.testing.tiny_models import make_tiny_single_files

    root = tmp_path_factory.mktemp("single-files")
    for name in ("wan2.1-t2v-tiny", "wan2.2-t2v-a14b-tiny", "wan2.1-flf2v-tiny"):
        os.symlink(tiny_models / name, root / name)
    make_tiny_single_files(str(root))
    return root


def wan(*args, env: dict | None = None):
    """`python -m wan ...` as a user runs it, offline."""
    import subprocess
    import sys

    env = {**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "wan", *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=600, env=env
    )
