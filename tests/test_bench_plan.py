"""bench/plan.py runs and prints its JSON contract (timing targets are read, not asserted)."""

from __future__ import annotations

import json
import subprocess
import sys

from .conftest import ROOT


def test_plan_benchmark_prints_json():
    result = subprocess.run(
        [sys.executable, "bench/plan.py", "--frames", "600", "--runs", "1", "--preview-frames", "12"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["frames"] == 600 and data["clips"] >= 4
    assert data["preview_fps"] > 0 and data["plan_seconds"] > 0
