from __future__ import annotations

import json

import pytest

from movement import SettingsError, build_prompt_schedule, load_settings, settings_from_mapping
from movement.settings import DEFAULT_FPS, MOTION_KEYS
from tests.conftest import EXAMPLES

BASE = {"max_frames": 60, "fps": 24, "animation_mode": "3D", "prompts": {"0": "a cat"}}


def test_examples_load():
    paths = [p for p in EXAMPLES.iterdir() if p.suffix in (".txt", ".json")]
    assert len(paths) >= 5
    for path in paths:
        settings = load_settings(path)
        assert settings.max_frames >= 1 and settings.fps > 0
        assert settings.prompts


def test_bom_and_crlf_are_accepted(write_settings):
    text = json.dumps(BASE, indent=2).replace("\n", "\r\n")
    path = write_settings(b"\xef\xbb\xbf" + text.encode())
    settings = load_settings(path)
    assert settings.max_frames == 60 and settings.fps == 24.0


def test_numbers_stored_as_strings():
    s = settings_from_mapping({**BASE, "max_frames": "120", "fps": "23.976", "W": "640", "seed": "-1"})
    assert (s.max_frames, s.fps, s.width, s.seed) == (120, 23.976, 640, -1)


def test_legacy_file_without_fps_uses_deforum_default():
    data = dict(BASE)
    del data["fps"]
    s = settings_from_mapping(data)
    assert s.fps == DEFAULT_FPS == 15.0
    assert "fps" in s.defaults_used


def test_animation_prompts_alias_and_prompt_text():
    s = settings_from_mapping({"max_frames": 10, "animation_prompts": {"0": "a", "5": "b"}})
    assert s.prompts == (("0", "a"), ("5", "b"))
    s = settings_from_mapping({"max_frames": 10, "animation_prompts": '{"0": "from text"}'})
    assert s.prompts == (("0", "from text"),)


def test_positive_negative_aliases():
    modern = settings_from_mapping({**BASE, "animation_prompts_positive": "P", "animation_prompts_negative": "N"})
    legacy = settings_from_mapping({**BASE, "positive_prompts": "P", "negative_prompts": "N"})
    assert (modern.prompts_positive, modern.prompts_negative) == ("P", "N")
    assert (legacy.prompts_positive, legacy.prompts_negative) == ("P", "N")
    assert not legacy.prompts_premerged


def test_run_settings_with_merged_prompts_are_not_merged_twice():
    # Deforum's *_settings.txt stores prompts already joined with positive/negative.
    merged = {"0": "P a cat --neg N", "10": "P a dog --neg N2  N"}
    s = settings_from_mapping({**BASE, "prompts": merged, "positive_prompts": "P", "negative_prompts": "N"})
    assert s.prompts_premerged
    first, second = build_prompt_schedule(s).keyframes()
    assert (first.positive, first.negative) == ("P a cat", "N")
    assert (second.positive, second.negative) == ("P a dog", "N2  N")


def test_unknown_keys_are_kept_frozen():
    s = settings_from_mapping({**BASE, "my_tool": {"a": [1, 2]}, "border": "wrap"})
    assert s.get("my_tool") == (("a", (1, 2)),)
    assert s.get("border") == "wrap"
    assert s.get("missing", 5) == 5


def test_settings_are_immutable():
    s = settings_from_mapping(BASE)
    with pytest.raises(AttributeError):
        s.max_frames = 5  # type: ignore[misc]


def test_missing_motion_keys_take_deforum_defaults():
    s = settings_from_mapping(BASE)
    for key in MOTION_KEYS:
        assert s.has_schedule(key)
    assert s.schedule("translation_z") == "0: (1.75)"
    assert "translation_z" in s.defaults_used


@pytest.mark.parametrize(
    ("patch", "key", "fragment"),
    [
        ({"max_frames": 0}, "max_frames", "at least 1"),
        ({"max_frames": -3}, "max_frames", "at least 1"),
        ({"max_frames": 2.5}, "max_frames", "whole number"),
        ({"max_frames": "many"}, "max_frames", "expected a number"),
        ({"max_frames": True}, "max_frames", "expected a number"),
        ({"max_frames": [1]}, "max_frames", "expected a number"),
        ({"fps": 0}, "fps", "above 0"),
        ({"fps": -24}, "fps", "above 0"),
        ({"fps": 5e-324}, "fps", "at least 0.01"),
        ({"fps": "NaN"}, "fps", "finite"),
        ({"animation_mode": "4D"}, "animation_mode", "unknown mode"),
        ({"seed_behavior": "wild"}, "seed_behavior", "unknown value"),
        ({"seed_iter_N": 0}, "seed_iter_N", "at least 1"),
        ({"W": 3}, "W", "between"),
        ({"zoom": ["0: (1)"]}, "zoom", "schedule string"),
        ({"strength_schedule": {"0": 1}}, "strength_schedule", "schedule string"),
        ({"prompts": ["a"]}, "prompts", "frame: prompt"),
        ({"prompts": {"0": 5}}, "prompts", "must be text"),
        ({"animation_prompts_negative": 3}, "animation_prompts_negative", "expected text"),
    ],
)
def test_bad_values_name_the_key(write_settings, patch, key, fragment):
    path = write_settings({**BASE, **patch})
    with pytest.raises(SettingsError) as info:
        load_settings(path)
    assert info.value.key == key
    assert fragment in str(info.value)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("", "not valid JSON"),
        ("{'single': 'quotes'}", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ('"text"', "JSON object"),
        (b"\xff\xfe{", "not UTF-8"),
    ],
)
def test_not_a_settings_file(write_settings, content, fragment):
    path = write_settings(content)
    with pytest.raises(SettingsError) as info:
        load_settings(path)
    assert fragment in str(info.value)
    assert info.value.file == str(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(SettingsError, match="file not found"):
        load_settings(tmp_path / "nope.txt")
    with pytest.raises(SettingsError, match="folder"):
        load_settings(tmp_path)
