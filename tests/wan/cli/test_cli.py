"""The command line as a user runs it: a real `python -m wan` process."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import EXAMPLES, ROOT
from tests.movement.deforum_oracle import deforum_schedule

HARBOR = EXAMPLES / "harbor_3d.txt"
GREENHOUSE = EXAMPLES / "greenhouse_2d.txt"


def wan(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wan", *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("args", [["--help"], ["describe", "--help"], ["schedules", "--help"]])
def test_help_everywhere(args):
    result = wan(*args)
    assert result.returncode == 0
    assert "usage:" in result.stdout


def test_schedules_json_contract():
    result = wan("schedules", HARBOR, "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["max_frames"], data["fps"], data["animation_mode"]) == (240, 24.0, "3D")
    raw = json.loads(HARBOR.read_text())
    motion = {
        "angle",
        "zoom",
        "translation_x",
        "translation_y",
        "translation_z",
        "rotation_3d_x",
        "rotation_3d_y",
        "rotation_3d_z",
    }
    present = {k for k in raw if k.endswith("_schedule")}
    assert motion | present <= set(data["series"])
    for key, values in data["series"].items():
        assert len(values) == 240
        if isinstance(raw.get(key), str):
            # Against Deforum's own parser (pandas + numexpr, tests/movement/deforum_oracle.py), not
            # against the function the command calls.
            expected = deforum_schedule(raw[key], max_frames=240, seed=raw["seed"])
            np.testing.assert_allclose(values, expected, rtol=1e-12, atol=1e-12, err_msg=key)
    assert [p["frame"] for p in data["prompts"]] == [0, 96, 191]
    assert data["prompts"][1] == {
        "frame": 96,
        "positive": "cinematic, 35mm the quay with stacked crates and nets, fishermen at work",
        "negative": "cartoon  blurry, watermark",
    }


def test_describe_json_contract():
    result = wan("describe", HARBOR, "--json")
    assert result.returncode == 0, result.stderr
    segments = json.loads(result.stdout)["segments"]
    assert segments[0]["start_frame"] == 0 and segments[-1]["end_frame"] == 240
    for seg in segments:
        assert {"start_frame", "end_frame", "movements", "description", "motion_strength"} <= set(seg)
        assert 0 <= seg["motion_strength"] <= 1
        for move in seg["movements"]:
            assert set(move) == {"type", "intensity", "duration", "rate", "unit"}
    assert segments[0]["movements"][0]["type"] == "dolly_in"


def test_describe_ranges_and_language():
    prompts = json.loads(wan("describe", HARBOR, "--json", "--ranges", "prompts").stdout)["segments"]
    assert [(s["start_frame"], s["end_frame"]) for s in prompts] == [(0, 96), (96, 191), (191, 240)]
    whole = json.loads(wan("describe", GREENHOUSE, "--json", "--ranges", "whole", "--lang", "zh").stdout)["segments"]
    assert len(whole) == 1 and whole[0]["description"].startswith("镜头")
    chunks = json.loads(wan("describe", GREENHOUSE, "--json", "--ranges", "50").stdout)["segments"]
    assert [(s["start_frame"], s["end_frame"]) for s in chunks] == [(0, 50), (50, 100), (100, 150), (150, 180)]


def test_describe_text_output():
    result = wan("describe", HARBOR)
    assert result.returncode == 0
    assert "3D, 240 frames at 24 fps" in result.stdout
    assert "dolly in" in result.stdout


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["describe", "missing.txt"], "missing.txt: file not found"),
        (["describe", HARBOR, "--lang", "fr"], "invalid choice"),
        (["describe", HARBOR, "--ranges", "-2"], "--ranges"),
        (["schedules"], "required"),
        (["render-everything"], "invalid choice"),
        ([], "required"),
    ],
)
def test_bad_input_is_one_line_exit_2(args, fragment):
    result = wan(*args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert fragment in lines[0]


def test_bad_settings_value_names_file_key_and_frame(write_settings):
    path = write_settings({"max_frames": 50, "animation_mode": "3D", "translation_z": "0: (1), 20: (__import__('os'))"})
    result = wan("describe", path)
    assert result.returncode == 2
    line = result.stderr.strip()
    assert str(path) in line and "'translation_z'" in line and "frame 20" in line and "unknown function" in line
