"""Prompt enhancement without a model: SD syntax removal, the template, answer validation, the
cache and the order of sources (edit, cache, model, template), edits surviving re-planning."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from movement import settings_from_mapping
from prompt_enhance.cache import PromptCache
from prompt_enhance.enhance import apply, enhance_plan
from prompt_enhance.models import EnhancerError, QwenModel, choose
from prompt_enhance.text import strip_weights, template_prompt
from prompt_enhance.validate import clean, problem
from wan.plan.build import PlanOptions, build_plan
from wan.plan.plan_json import carry_edits

GOOD = (
    "A red and white lighthouse stands on a rocky point above a calm sea while the camera slowly dollies in "
    "and drifts to the right. Warm afternoon light rakes across the painted stripes, gulls circle the lantern "
    "room and a small wooden boat rocks gently in the swell below. Soft haze on the horizon, fine spray on the "
    "rocks, shallow depth of field with a 35mm lens, natural colours and smooth, steady motion throughout the shot."
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a (red:1.3) door", "a red door"),
        ("((old:1.1) boat:1.2), sea", "old boat, sea"),
        ("a door, [blurry], (masterpiece)", "a door, blurry, masterpiece"),
        ("<lora:film:0.8> a harbour , , gulls", "a harbour, gulls"),
        ('a sign reading "OPEN" (neon:1.4)', 'a sign reading "OPEN" neon'),
    ],
)
def test_sd_syntax_is_removed_and_words_kept(text, expected):
    assert strip_weights(text) == expected


@given(st.text(max_size=200))
def test_strip_weights_leaves_no_syntax_and_is_idempotent(text):
    once = strip_weights(text)
    assert not set(once) & set("()[]{}") and "<lora:" not in once.lower()
    assert strip_weights(once) == once


def test_template_weaves_subject_camera_motion_and_style():
    en = template_prompt("a (lighthouse:1.2) at dusk", "slow pan right", 0.5)
    assert en.startswith("a lighthouse at dusk. Slow pan right, steady motion. Cinematic")
    zh = template_prompt("海边的灯塔", "镜头缓慢向右摇", 0.05, "zh")
    assert zh.startswith("海边的灯塔。镜头缓慢向右摇，平静，几乎静止。") and "镜头镜头" not in zh


@pytest.mark.parametrize(
    ("answer", "lang", "reason"),
    [
        ("", "en", "empty answer"),
        ("Sure, here is your prompt: " + GOOD, "en", "chat artifact"),
        ("<|im_start|>assistant " + GOOD, "en", "chat artifact"),
        (GOOD, "zh", "wrong language"),
        ("灯塔" * 60, "en", "wrong language"),
        ("a lighthouse", "en", "too short"),
        (" ".join([GOOD] * 3), "en", "too long"),
        ("lighthouse on the sea and " * 12, "en", "repetitive"),
        (GOOD.replace("lighthouse", "tower"), "en", "lost the subject"),
    ],
)
def test_bad_answers_are_refused_with_a_reason(answer, lang, reason):
    assert reason in problem(answer, "a lighthouse on the sea", lang)


def test_a_good_answer_passes_and_quoted_text_must_survive():
    assert problem(GOOD, "a (lighthouse:1.2) on the sea", "en") is None
    assert "quoted text 'KEEP OUT'" in problem(GOOD, 'a lighthouse with a sign "KEEP OUT"', "en")
    assert clean('<think>hmm</think>\n Prompt: "' + GOOD + '"') == GOOD


@given(st.text(max_size=300), st.sampled_from(["en", "zh"]))
def test_validation_never_crashes(answer, lang):
    result = problem(clean(answer), "a lighthouse", lang)
    assert result is None or isinstance(result, str)


def film(**extra):
    data = {"max_frames": 96, "fps": 16, "animation_mode": "3D", "translation_z": "0: (1)", "seed": 3,
            "prompts": {"0": "a (lighthouse:1.2) on the sea", "48": "the lighthouse at night"}, **extra}  # fmt: skip
    return settings_from_mapping(data, source="film.txt")


class ScriptedChat:
    """The model boundary, scripted: everything behind it (validation, cache, sources) is real."""

    def __init__(self, answers, name="scripted"):
        self.info = QwenModel(name, ".", "qwen2", 3.0)
        self.answers = list(answers)
        self.asked = []

    def answer(self, messages, images=()):
        self.asked.append(messages)
        return self.answers.pop(0)


def test_sources_in_order_edit_cache_model_template(tmp_path, monkeypatch):
    import prompt_enhance.enhance as enhance

    monkeypatch.setattr(enhance, "model_identity", lambda model: model.name)  # no model folder to hash
    plan = build_plan(film(), PlanOptions())
    cache = PromptCache(str(tmp_path))
    chat = ScriptedChat([GOOD, "Sure! " + GOOD])
    first = enhance_plan(plan, chat, cache, log=lambda m: None)
    assert [p.source for p in first] == ["qwen:scripted", "template"]
    assert first[0].enhanced == GOOD and "chat artifact" in first[1].fallback_reason
    assert "Previous shot" in chat.asked[1][1]["content"]  # each clip sees the previous shot
    again = enhance_plan(plan, ScriptedChat([]), cache, log=lambda m: None)  # no model call at all
    assert [p.source for p in again] == ["cache", "template"] and "(cached answer)" in again[1].fallback_reason
    edited = dataclasses.replace(plan, clips=(dataclasses.replace(plan.clips[0], user_prompt="mine"), plan.clips[1]))
    third = enhance_plan(edited, ScriptedChat([]), cache, log=lambda m: None)
    assert (third[0].source, third[0].enhanced) == ("user", "mine")
    applied = apply(edited, third)
    assert applied.clips[0].effective_prompt == "mine" and applied.clips[1].prompt_source == "template"


def test_template_alone_and_the_engine_reads_the_enhanced_prompt():
    plan = build_plan(film(), PlanOptions())
    prompts = enhance_plan(plan)
    assert [p.source for p in prompts] == ["template", "template"]
    assert apply(plan, prompts).clips[0].effective_prompt == prompts[0].enhanced != plan.clips[0].prompt


def test_a_users_edit_survives_replanning():
    plan = build_plan(film(), PlanOptions())
    old = dataclasses.replace(plan, clips=(plan.clips[0], dataclasses.replace(plan.clips[1], user_prompt="my words")))
    replanned, kept = carry_edits(build_plan(film(translation_x="0: (2)"), PlanOptions()), old)
    assert kept == 1 and replanned.clips[1].effective_prompt == "my words"
    changed = build_plan(film(prompts={"0": "a lighthouse", "48": "something else"}), PlanOptions())
    assert carry_edits(changed, old)[1] == 0  # the Deforum prompt changed: the edit was for another shot


def test_auto_takes_the_largest_that_fits_and_says_why():
    small, big = QwenModel("q3b", "/a", "qwen2", 3.1), QwenModel("q7b", "/b", "qwen2", 7.6)
    vl = QwenModel("vl7b", "/c", "qwen2_5_vl", 8.3)
    model, why = choose((small, big, vl), free_gb=20.0, gpu=True, want_vision=False)
    assert model is big and "20.0 GB of free VRAM" in why
    assert choose((small, big, vl), free_gb=20.0, gpu=True, want_vision=True)[0] is vl
    assert choose((small, big), free_gb=10.0, gpu=True, want_vision=False)[0] is small
    with pytest.raises(EnhancerError, match=r"no Qwen model fits in 4\.0 GB of free RAM"):
        choose((small,), free_gb=4.0, gpu=False, want_vision=False)
