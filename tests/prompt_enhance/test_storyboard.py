"""The storyboard planner with scripted model answers at the boundary: schema and meaning checks,
the retry loop that hands the error back, and settings that our own analysis reads back."""

from __future__ import annotations

import json

import pytest

from movement import build_schedules, camera_rates, describe_range, settings_from_mapping
from prompt_enhance.storyboard import StoryboardError, check, extract_json, parse_camera, storyboard

SEGMENTS = {
    "title": "Harbour",
    "segments": [
        {"start": 0, "prompt": "a harbour at dawn, fishing boats", "keyframe": "boats at the quay", "camera": "slow dolly in"},
        {"start": 4, "prompt": "gulls over the nets", "keyframe": "gulls", "camera": "pan right while pedestal up"},
        {"start": 8, "prompt": "the lighthouse at dusk", "keyframe": "the lighthouse", "camera": "static"},
    ],
}  # fmt: skip


class ScriptedChat:
    def __init__(self, answers):
        self.answers = list(answers)
        self.asked = []

    def answer(self, messages, images=()):
        self.asked.append(messages)
        return self.answers.pop(0)


def test_camera_intents_become_signed_rates():
    assert parse_camera("static") == ()
    assert parse_camera("slow pan left while dollying in") == (("rotation_3d_y", -4.0), ("translation_z", 15.0))
    assert parse_camera("fast push in, crane up") == (("translation_z", 37.5), ("translation_y", 15.0))
    with pytest.raises(ValueError, match="unknown camera move 'spin around'"):
        parse_camera("spin around")


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["segments"][0].update(start=1), "first segment must start at 0"),
        (lambda d: d["segments"][2].update(start=4), "segment 2 starts at 4.0 s, not after segment 1"),
        (lambda d: d["segments"][2].update(start=12), "the film is 12.0 s long"),
        (lambda d: d["segments"][1].update(camera="barrel roll"), "segment 1 camera: unknown camera move"),
        (lambda d: d["segments"][1].pop("prompt"), "'prompt' is a required property"),
        (lambda d: d["segments"][1].update(extra=1), "Additional properties"),
    ],
)
def test_invalid_storyboards_say_what_to_fix(mutate, message):
    data = json.loads(json.dumps(SEGMENTS))
    mutate(data)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(".", r"\.")):
        check(data, seconds=12.0)


def test_the_retry_loop_hands_the_error_back_and_the_settings_read_back_as_the_intents():
    fenced = "Here you go:\n```json\n" + json.dumps(SEGMENTS) + "\n```"
    bad_camera = json.loads(json.dumps(SEGMENTS))
    bad_camera["segments"][1]["camera"] = "whip around"
    chat = ScriptedChat(["I think the film should feel calm.", json.dumps(bad_camera), fenced])
    settings = storyboard(chat, "a harbour from dawn to dusk", seconds=12, fps=24, log=lambda m: None)
    assert len(chat.asked) == 3
    assert "no JSON object" in chat.asked[1][-1]["content"]
    assert "unknown camera move 'whip around'" in chat.asked[2][-1]["content"]
    assert settings["prompts"] == {"0": SEGMENTS["segments"][0]["prompt"], "96": "gulls over the nets",
                                   "192": "the lighthouse at dusk"}  # fmt: skip
    assert settings["max_frames"] == 288 and settings["animation_mode"] == "3D"
    parsed = settings_from_mapping(settings, source="storyboard.txt")
    rates = camera_rates(build_schedules(parsed))
    words = [{m.type for m in describe_range(rates, a, b).movements} for a, b in ((0, 96), (96, 192), (192, 288))]
    assert words[0] == {"dolly_in"}
    assert words[1] == {"pan_right", "pedestal_up"}
    assert words[2] == {"static"}


def test_no_valid_answer_is_a_typed_error():
    chat = ScriptedChat(["nonsense"] * 3)
    with pytest.raises(StoryboardError, match="no valid storyboard in 3 attempts"):
        storyboard(chat, "a film", seconds=10, fps=24, log=lambda m: None)
    assert extract_json('prefix {"a": 1} suffix') == {"a": 1}
