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
