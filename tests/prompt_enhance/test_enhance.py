"""Prompt enhancement through the tiny Qwen models: messages -> chat template -> generate -> decode
-> validate -> template fallback on the tiny model's gibberish; images really reach the VL model;
the cache spares the model; unloading frees it; the CLI contracts."""

from __future__ import annotations

import gc
import json
import weakref

import pytest

from movement import load_settings
from prompt_enhance.cache import PromptCache
from prompt_enhance.enhance import clip_images, enhance_plan
from prompt_enhance.models import discover
from prompt_enhance.qwen import QwenChat
from tests.conftest import EXAMPLES, wan
from tests.spy import spy
from wan.engine.assets import read_assets
from wan.plan.build import PlanOptions, build_plan

pytest.importorskip("transformers")


def qwen(tiny_models, name: str) -> QwenChat:
    model = next(m for m in discover(str(tiny_models)) if m.name == name)
    return QwenChat(model, log=lambda m: None)


def call(seen: list, i: int) -> dict:
    """The i-th input that reached the Qwen model: its text, and its image tensors on the CPU."""
    text, extra = seen[i][2]
    return {"text": text, **{k: v.detach().cpu() for k, v in extra.items()}}


def test_text_model_full_path_falls_back_visibly_on_gibberish(tiny_models, tmp_path, monkeypatch):
    plan = build_plan(load_settings(EXAMPLES / "greenhouse_2d.txt"), PlanOptions())
    chat = qwen(tiny_models, "qwen2-tiny")
    calls = spy(monkeypatch, QwenChat, "model_input")
    prompts = enhance_plan(plan, chat, PromptCache(str(tmp_path)), log=lambda m: None)
    assert len(calls) == len(plan.clips)
    first = call(calls, 0)["text"]
    assert first.startswith("<|im_start|>system\nYou write prompts for the WAN text-to-video model")
    assert "Shot: a glass greenhouse full of ferns" in first and first.endswith("<|im_start|>assistant\n")
    assert "(dew drops:1.2)" not in call(calls, 1)["text"] and "dew drops" in call(calls, 1)["text"]
    assert all(p.source == "template" and p.fallback_reason for p in prompts)
    # Second time: every answer comes from the cache; the model is not even loaded.
    again = qwen(tiny_models, "qwen2-tiny")
    asked = len(calls)
    cached = enhance_plan(plan, again, PromptCache(str(tmp_path)), log=lambda m: None)
    assert again.model is None and len(calls) == asked
    assert [p.enhanced for p in cached] == [p.enhanced for p in prompts]
    assert all("(cached answer)" in p.fallback_reason for p in cached)


def test_vision_model_receives_the_keyframes(tiny_models, monkeypatch):
    settings = load_settings(EXAMPLES / "lighthouse_keyframes.txt")
    plan = build_plan(settings, PlanOptions(mode="flf2v_keyframes", width=64, height=48))
    assets = read_assets(plan, settings)
    images = clip_images(plan, assets.init_image, assets.keyframes)
    assert [len(images[c.index]) for c in plan.clips] == [2] * len(plan.clips)
    chat = qwen(tiny_models, "qwen2.5-vl-tiny")
    calls = spy(monkeypatch, QwenChat, "model_input")
    enhance_plan(plan, chat, None, images, log=lambda m: None)
    first = call(calls, 0)
    assert first["text"].count("<|vision_start|>") == 2 and "first-last-frame-to-video" in first["text"]
    assert first["image_grid_thw"].shape == (2, 3)
    pads = int(first["image_grid_thw"].prod(dim=1).sum()) // 4
    assert first["text"].count("<|image_pad|>") == pads
    assert first["pixel_values"].shape[0] == int(first["image_grid_thw"].prod(dim=1).sum())
    # Clip 0 flies day -> dusk, clip 1 dusk -> night: different pixels reach the model.
    assert not call(calls, 0)["pixel_values"].equal(call(calls, 1)["pixel_values"])


def test_unloading_frees_the_model(tiny_models):
    chat = qwen(tiny_models, "qwen2-tiny")
    chat.load()
    ref = weakref.ref(chat.model)
    chat.unload()
    gc.collect()
    assert chat.model is None and ref() is None


def test_enhance_command_json_contract(tiny_models, tmp_path):
    template = wan("enhance", EXAMPLES / "greenhouse_2d.txt", "--model", "template", "--json")
    assert template.returncode == 0, template.stderr
    data = json.loads(template.stdout)
    assert data["model"] is None and len(data["clips"]) == 3
    assert set(data["clips"][0]) == {"index", "base", "movement", "enhanced", "source"}
    assert "(dew drops:1.2)" in data["clips"][1]["base"] and "dew drops" in data["clips"][1]["enhanced"]
    auto = wan("enhance", EXAMPLES / "lighthouse_init.txt", "--json", "--models", tiny_models,
               "--cache", tmp_path / "cache", "--out", tmp_path / "plan.json")  # fmt: skip
    assert auto.returncode == 0, auto.stderr
    data = json.loads(auto.stdout)
    assert data["model"] == "qwen2.5-vl-tiny" and "vision-language models first" in data["model_reason"]
    assert all(c["source"] == "template" and c["fallback_reason"] for c in data["clips"])
    plan = json.loads((tmp_path / "plan.json").read_text())
    assert [c["enhanced_prompt"] for c in plan["clips"]] == [c["enhanced"] for c in data["clips"]]
    missing = wan("enhance", EXAMPLES / "greenhouse_2d.txt", "--model", "qwen9-huge", "--models", tiny_models)
    assert missing.returncode == 2 and "qwen2-tiny" in missing.stderr and "Traceback" not in missing.stderr


def test_render_uses_the_enhanced_prompts_and_keeps_edits(tiny_models, tmp_path):
    out = tmp_path / "out"
    args = ["render", EXAMPLES / "greenhouse_2d.txt", "--engine", "preview", "--out", out, "--preset", "ultrafast"]
    assert wan(*args).returncode == 0
    plan = json.loads((out / "plan.json").read_text())
    assert all(c["prompt_source"] == "template" for c in plan["clips"])
    plan["clips"][1]["user_prompt"] = "my own shot"
    (out / "plan.json").write_text(json.dumps(plan))
    again = wan(*args, "--seed", "9")  # re-planned from the settings: the edit stays
    assert again.returncode == 0 and "kept 1 prompt edit" in again.stderr
    replanned = json.loads((out / "plan.json").read_text())
    assert replanned["clips"][1]["user_prompt"] == "my own shot" and replanned["clips"][1]["prompt_source"] == "user"


def test_storyboard_without_a_model_exits_2(tmp_path):
    result = wan("storyboard", "a harbour at dawn", "--seconds", "10", "--models", tmp_path)
    assert result.returncode == 2 and "needs a local Qwen model" in result.stderr


def test_storyboard_with_the_tiny_model_retries_then_says_so(tiny_models, tmp_path):
    result = wan(
        "storyboard", "a harbour at dawn", "--seconds", "10", "--models", tiny_models, "--out", tmp_path / "s.txt"
    )
    assert result.returncode == 2 and "no valid storyboard in 3 attempts" in result.stderr
    assert result.stderr.count("refused") == 3 and not (tmp_path / "s.txt").exists()
