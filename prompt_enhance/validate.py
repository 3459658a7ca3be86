"""Is a model's answer a usable WAN prompt? Pure checks that name what is wrong.

Small local models fail in recognisable ways: nothing, a chat reply ("Sure, here is..."), the
other language, a loop of the same words, a lost subject or quoted text, or a rambling essay.
Each check returns the reason in words, which the user sees next to the template fallback.
"""

from __future__ import annotations

import re

from .text import quoted_spans, strip_weights

_THINK = re.compile(r"<think>.*?</think>", re.DOTALL)
_LABEL = re.compile(r"^\s*(?:\*\*)?(?:prompt|enhanced prompt|提示词)(?:\*\*)?\s*[:：]\s*", re.IGNORECASE)
_ARTIFACT = re.compile(
    r"^\s*(?:sure|certainly|of course|okay|ok,|here is|here's|i can|i cannot|i can't|as an ai|"
    r"好的|当然|以下是|这是您|这是你)",
    re.IGNORECASE,
)
_MARKUP = ("<|im_", "```", "assistant:", "user:", "<|endoftext|>")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]+(?:'[a-z]+)?")
_STOP = set("a an the of and in on at with to from over under into onto by for as is are its this that".split())

LIMITS = {"en": (15, 200), "zh": (20, 400)}  # words / CJK characters; the target is 80-120 words


def clean(answer: str) -> str:
    """Harmless wrapping removed: thinking blocks, a 'Prompt:' label, surrounding quotes."""
    text = _THINK.sub("", answer).strip()
    text = _LABEL.sub("", text).strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1].strip()
    return text


def _tokens(text: str, lang: str) -> list[str]:
    return _CJK.findall(text) if lang == "zh" else [w.lower() for w in _LATIN_WORD.findall(text)]


def problem(answer: str, base: str, lang: str) -> str | None:
    """Why `answer` (already cleaned) cannot be used for `base`, or None when it can."""
    if not answer.strip():
        return "empty answer"
    for mark in _MARKUP:
        if mark in answer:
            return f"chat artifact: {mark!r} in the answer"
    start = _ARTIFACT.match(answer)
    if start:
        return f"chat artifact: starts with {answer[: max(start.end(), 12)]!r}"
    cjk, latin = len(_CJK.findall(answer)), sum(len(w) for w in _LATIN_WORD.findall(answer))
    if lang == "zh" and cjk < 0.5 * (cjk + latin):
        return "wrong language: asked for Chinese"
    if lang == "en" and cjk > 0.2 * (cjk + latin):
        return "wrong language: asked for English"
    tokens = _tokens(answer, lang)
    low, high = LIMITS[lang]
    unit = "characters" if lang == "zh" else "words"
    if len(tokens) < low:
        return f"too short ({len(tokens)} {unit})"
    if len(tokens) > high:
        return f"too long ({len(tokens)} {unit})"
    trigrams = list(zip(tokens, tokens[1:], tokens[2:]))
    if trigrams and len(set(trigrams)) < 0.6 * len(trigrams):
        return "repetitive: the same phrases again and again"
    for quote in quoted_spans(base):
        if quote not in answer:
            return f"dropped the quoted text {quote!r}"
    if lang == "en":
        content = [w for w in _tokens(strip_weights(base), "en") if len(w) > 3 and w not in _STOP]
        if content and not set(content) & set(tokens):
            return f"lost the subject (none of: {', '.join(content[:5])})"
    return None
