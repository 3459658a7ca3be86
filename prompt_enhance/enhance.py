"""Enhance every clip's prompt of a plan: the user's edit, a cached answer, a fresh Qwen answer
that passes validation, or the template, in that order; the reason is kept whenever a model's
answer was refused. Each clip is written in the context of the previous shot.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from wan.plan.build import Clip, GenerationPlan

from . import system_prompts
from .cache import PromptCache, cache_key, image_hash
from .models import QwenModel
from .text import motion_words, strip_weights, template_prompt
from .validate import clean, problem


@dataclass(frozen=True)
class ClipPrompt:
    index: int
    base: str
    movement: str
    enhanced: str
    source: str  # "qwen:<name>", "template", "cache" or "user"
    fallback_reason: str | None = None

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        if data["fallback_reason"] is None:
            del data["fallback_reason"]
        return data


def clip_images(
    plan: GenerationPlan, init: np.ndarray | None, anchors: Mapping[int, np.ndarray]
) -> dict[int, list[np.ndarray]]:
    """The images a clip is conditioned on that exist before rendering: the init image for the
    first clip of i2v_chain / vace_continue, the first and last keyframes for flf2v_keyframes.
    (Later chained clips start from frames not yet rendered: they are enhanced from text.) The
    images come already read and fitted to the frame (the render's assets)."""
    if plan.mode == "flf2v_keyframes":
        out = {}
        for clip in plan.clips:
            first = anchors.get(clip.start_frame, anchors.get(clip.start_frame - 1, init))
            last = anchors.get(clip.end_frame, anchors.get(clip.end_frame - 1))
            out[clip.index] = [i for i in (first, last) if i is not None]
        return out
    if plan.mode in ("i2v_chain", "vace_continue") and init is not None:
        return {0: [init]}
    return {}


def model_identity(model: QwenModel) -> str:
    """Name plus a digest of the config and the weight files' names and sizes: another download of
    the same name is another model for the cache."""
    digest = hashlib.sha256()
    for entry in sorted(os.scandir(model.path), key=lambda e: e.name):
        if entry.is_file() and (entry.name.endswith((".json", ".safetensors", ".bin"))):
            digest.update(f"{entry.name}:{entry.stat().st_size}".encode())
            if entry.name == "config.json":
                with open(entry.path, "rb") as fh:
                    digest.update(fh.read())
    return f"{model.name}@{digest.hexdigest()[:12]}"


def enhance_plan(
    plan: GenerationPlan,
    chat=None,
    cache: PromptCache | None = None,
    images: dict[int, list[np.ndarray]] | None = None,
    lang: str | None = None,
    log=print,
) -> list[ClipPrompt]:
    """One ClipPrompt per clip. `chat` is a loaded-on-demand prompt_enhance.qwen.QwenChat, or
    None for the template alone."""
    lang = lang or plan.lang
    cache = cache or PromptCache(None)
    images = images or {}
    identity = model_identity(chat.info) if chat is not None else None
    out: list[ClipPrompt] = []
    previous: str | None = None
    for clip in plan.clips:
        out.append(_enhance_clip(clip, chat, identity, cache, images.get(clip.index, []), lang, previous, log))
        previous = strip_weights(clip.prompt)
    return out


def _enhance_clip(clip: Clip, chat, identity, cache, images, lang, previous, log) -> ClipPrompt:
    base, movement = clip.prompt, clip.movement
    if clip.user_prompt is not None:
        return ClipPrompt(clip.index, base, movement, clip.user_prompt, "user")
    template = template_prompt(base, movement, clip.motion_strength, lang)
    if chat is None:
        return ClipPrompt(clip.index, base, movement, template, "template")
    images = images if chat.info.vision else []
    task = system_prompts.task_for(len(images))
    motion = motion_words(clip.motion_strength, lang)
    hashes = [image_hash(i) for i in images]
    key = cache_key(
        model=identity,
        base=base,
        movement=movement,
        motion=motion,
        lang=lang,
        task=task,
        previous=previous,
        images=hashes,
        system=system_prompts.VERSION,
    )
    answer = cache.get(key)
    cached = answer is not None
    if not cached:
        messages = system_prompts.messages(lang, task, strip_weights(base), movement, motion, previous)
        answer = clean(chat.answer(messages, images))
        # The answer is cached even when refused: decoding is greedy, so asking again would give the
        # same words; validation runs again on every read, so a change of rules applies at once.
        cache.put(key, answer, model=identity, base=base)
    reason = problem(answer, base, lang)
    if reason:
        reason += " (cached answer)" if cached else ""
        log(f"clip {clip.index}: {chat.info.name}'s prompt refused ({reason}); using the template")
        return ClipPrompt(clip.index, base, movement, template, "template", reason)
    return ClipPrompt(clip.index, base, movement, answer, "cache" if cached else f"qwen:{chat.info.name}")


def apply(plan: GenerationPlan, prompts: list[ClipPrompt]) -> GenerationPlan:
    """The plan with each clip's enhanced prompt and its source (a user's edit stays as it is)."""
    clips = tuple(
        dataclasses.replace(
            c, enhanced_prompt=p.enhanced if p.source != "user" else c.enhanced_prompt, prompt_source=p.source
        )
        for c, p in zip(plan.clips, prompts)
    )
    return dataclasses.replace(plan, clips=clips)


def fill_missing(plan: GenerationPlan) -> GenerationPlan:
    """Template prompts for the clips that have neither an edit nor an enhanced prompt (a plan.json
    written before enhancement); clips that have one keep it."""
    prompts = enhance_plan(plan)
    clips = tuple(
        c
        if c.user_prompt is not None or c.enhanced_prompt is not None
        else dataclasses.replace(c, enhanced_prompt=p.enhanced, prompt_source=p.source)
        for c, p in zip(plan.clips, prompts)
    )
    return dataclasses.replace(plan, clips=clips)
