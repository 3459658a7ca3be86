"""Deforum prompt text -> what a WAN model should read, and the deterministic template enhancer.

Pure (no torch). Deforum prompts carry Stable Diffusion syntax that WAN's T5 encoder would read
literally: `(word:1.2)` weights, `(word)`/`[word]` emphasis, `<lora:name:0.8>` tags. We keep the
words and drop the syntax. The negative part (`--neg`) was already split off by the prompt
schedule and goes to the negative prompt.
"""

from __future__ import annotations

import re

_TAG = re.compile(r"<(?:lora|lyco|hypernet|embedding):[^>]*>", re.IGNORECASE)
_WEIGHT = re.compile(r"\(([^():]+):\s*-?\d+(?:\.\d+)?\s*\)")
_BRACKETS = re.compile(r"[()\[\]{}]")
_QUOTED = re.compile(r"\"([^\"]+)\"|“([^”]+)”|「([^」]+)」")
_SPACES = re.compile(r"\s+")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.;:!?，。；：！？])")
_DOUBLE_COMMA = re.compile(r"([,，])\s*(?:[,，]\s*)+")

STYLE = {
    # Not "film still": Wan's default negative prompt (wan/plan/negative.py) rejects 静止/静态 ("still",
    # "static"), and a positive that asks for a still fights it.
    "en": "Cinematic shot, natural light, rich detail, smooth coherent motion",
    "zh": "电影质感，自然光线，细节丰富，运动流畅连贯",
}


def strip_weights(prompt: str) -> str:
    """`a (red:1.3) door, [blurry], <lora:x:0.8>` -> `a red door, blurry`."""
    text = _TAG.sub("", prompt)
    previous = None
    while previous != text:  # nested weights: ((a:1.1):1.2)
        previous, text = text, _WEIGHT.sub(r"\1", text)
    text = _BRACKETS.sub("", text)
    text = _DOUBLE_COMMA.sub(r"\1 ", text)
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", _SPACES.sub(" ", text))
    return text.strip(" ,，")


def quoted_spans(text: str) -> list[str]:
    """Text the user put in quotation marks (a sign, a title): kept verbatim by every enhancer."""
    return [next(g for g in m.groups() if g) for m in _QUOTED.finditer(text)]


def motion_words(strength: float, lang: str = "en") -> str:
    """How much the picture moves, from the plan's motion strength (0..1)."""
    levels = (
        (0.12, "calm, almost still", "平静，几乎静止"),
        (0.35, "gentle motion", "运动轻缓"),
        (0.65, "steady motion", "运动平稳"),
        (float("inf"), "fast, dynamic motion", "快速而有力的运动"),
    )
    for limit, en, zh in levels:
        if strength < limit:
            return zh if lang == "zh" else en
    raise AssertionError("unreachable")


def template_prompt(base: str, movement: str, motion_strength: float, lang: str = "en") -> str:
    """The deterministic enhancer: the user's words, the camera words, motion and style words."""
    subject = strip_weights(base)
    if lang == "zh":
        camera = movement if movement.startswith("镜头") else f"镜头{movement}"
        parts = [subject.rstrip("。."), f"{camera}，{motion_words(motion_strength, 'zh')}", STYLE["zh"]]
        return "。".join(p for p in parts if p) + "。"
    camera = movement[0].upper() + movement[1:] if movement else ""
    parts = [subject.rstrip("."), f"{camera}, {motion_words(motion_strength)}" if camera else "", STYLE["en"]]
    return ". ".join(p for p in parts if p) + "."
