"""The benchmark runs and prints its JSON contract (its timing target is checked by reading it, not here)."""

from __future__ import annotations

import json
import subprocess
import sys

from ..conftest import ROOT


def test_schedules_benchmark_prints_json():
    result = subprocess.run(
        [sys.executable, "bench/schedules.py", "--frames", "300", "--runs", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["frames"] == 300 and data["keys"] >= 14
    assert data["seconds"] > 0
