"""Keyframe mode's plan: where keyframes go, and the Guided Images settings that FLF2V then plans."""

from __future__ import annotations

import json

from movement import load_settings, settings_from_mapping
from movement.settings import settings_from_text
from tests.conftest import EXAMPLES
from wan.plan.build import PlanOptions, build_plan
from wan.plan.keyframes import guided_settings, keyframe_frames, keyframe_window, plan_keyframes


def film(max_frames: int, prompts: dict, fps: float = 24) -> object:
    return settings_from_mapping({"max_frames": max_frames, "fps": fps, "prompts": prompts, "seed": 7},
                                 source="film.txt")  # fmt: skip


def test_keyframes_on_every_prompt_key_the_last_frame_and_within_one_clip_of_each_other():
    settings = film(400, {"0": "a fox", "50": "a fox running", "60": "a fox asleep"})
    window = keyframe_window(settings.fps)
    frames = keyframe_frames(settings, window)
    assert {0, 50, 60, 399} <= set(frames) and frames == sorted(set(frames))
    gaps = [b - a for a, b in zip(frames, frames[1:])]
    assert max(gaps[:-1]) <= window and 400 - frames[-2] <= window  # the last clip runs to max_frames
    keys = plan_keyframes(settings, window)
    assert [k.seed for k in keys] == [7 + k.frame for k in keys]
    assert [k.new_prompt for k in keys][:3] == [True, True, True] and not keys[-1].new_prompt
    assert keys[-1].prompt == "a fox asleep" and keys[1].prompt == "a fox running"


def test_the_guided_settings_plan_as_flf2v_with_a_clip_between_each_pair():
    settings = load_settings(EXAMPLES / "greenhouse_2d.txt")
    keys = plan_keyframes(settings, keyframe_window(settings.fps))
    text = guided_settings(settings.raw_json, keys, "/films/greenhouse")
    data = json.loads(text)
    assert data["use_looper"] is True and data["init_images"]["0"] == "keyframes/kf_00000.png"
    plan = build_plan(settings_from_text(text, source="guided.txt"), PlanOptions(mode="flf2v_keyframes"))
    assert [(c.start_frame, c.end_frame) for c in plan.clips] == [
        (a.frame, b.frame) for a, b in zip(keys, keys[1:-1])
    ] + [(keys[-2].frame, settings.max_frames)]


def test_the_settings_own_files_still_resolve_from_the_keyframes_folder():
    settings = settings_from_mapping({"max_frames": 48, "prompts": {"0": "a fox"}, "init_image": "fox.png",
                                      "soundtrack_path": "music/theme.mp3", "use_init": True, "seed": 5},
                                     source="f.txt")  # fmt: skip
    data = json.loads(guided_settings(settings.raw_json, plan_keyframes(settings, 40), "/films/fox"))
    assert data["init_image"] == "/films/fox/fox.png" and data["soundtrack_path"] == "/films/fox/music/theme.mp3"
    assert data["init_images"]["0"] == "keyframes/kf_00000.png"
