"""Keyframe images with the tiny Wan model: cancelled between steps, the finished images stay and a
second run keeps them; settings moved to the keyframes folder still find their own files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES
from wan.render.errors import RenderCancelled
from wan.render.keyframes import KeyframeRequest, make_keyframes


def test_a_cancel_keeps_the_finished_keyframes_and_the_next_run_goes_on(tiny_models, tmp_path):
    out = tmp_path / "kf"
    req = KeyframeRequest(str(EXAMPLES / "greenhouse_2d.txt"), str(out), str(tiny_models), width=64, height=48,
                          steps=2)  # fmt: skip
    with pytest.raises(RenderCancelled):
        make_keyframes(req, log=lambda m: None, cancelled=lambda: (out / "keyframes" / "kf_00000.png").exists())
    assert sorted(p.name for p in (out / "keyframes").glob("*.png")) == ["kf_00000.png"]
    lines = []
    settings = make_keyframes(req, log=lines.append)
    made = [line for line in lines if line.startswith("keyframe ")]
    # The first is kept; the second, made from it, was never finished: it and those after are made.
    assert made[0] == "keyframe 0: kept keyframes/kf_00000.png" and len(made) == 4 and "kept" not in made[1]
    guided = json.loads(Path(settings).read_text(encoding="utf-8"))
    assert sorted(map(int, guided["init_images"])) == [0, 60, 120, 179]
    # Run again unchanged, all four are kept; with another step count every image is made again.
    lines.clear()
    make_keyframes(req, log=lines.append)
    assert sum("kept" in line for line in lines) == 4
    lines.clear()
    make_keyframes(KeyframeRequest(**{**req.__dict__, "steps": 3}), log=lines.append)
    assert not any("kept" in line for line in lines)
