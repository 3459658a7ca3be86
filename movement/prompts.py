"""The prompt in force at every frame, as Deforum's 2D/3D renderer picks it.

Deforum (render.py) puts each prompt at its key frame, then fills forwards and backwards, so a
prompt holds until the next key and the first one also covers the frames before it. Keys are
digits or expressions of `max_f` (= max_frames - 1, as Deforum defined it for prompt keys before
its 2023 rewrite dropped the variable; its schedules still use that value). Keys outside
[0, max_frames) never start a prompt, but if no key lies inside, Deforum's backward fill takes the
first such key in file order, and so do we.

Before rendering, Deforum joins every prompt with `animation_prompts_positive/negative`:
"{positive} {prompt} --neg {negative}" (no second --neg when the prompt has one). At each frame it
evaluates backtick math (`t` = frame, `max_f` = max_frames - 1) and splits on --neg. `(word:1.2)`
weights are kept verbatim: they belong to the user, and the prompt enhancer decides what to do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .errors import ExpressionError, SettingsError
from .expr import compile_expression
from .settings import DeforumSettings

_BACKTICK = re.compile(r"`.*?`")


@dataclass(frozen=True)
class PromptKey:
    key: str
    frame: int
    text: str


@dataclass(frozen=True)
class FramePrompt:
    frame: int
    positive: str
    negative: str


@dataclass(frozen=True)
class PromptRange:
    start_frame: int
    end_frame: int  # exclusive
    key_index: int


@dataclass(frozen=True)
class PromptSchedule:
    max_frames: int
    keys: tuple[PromptKey, ...]
    source: str = ""

    def key_index_at(self, frame: int) -> int:
        """Index into `keys` of the prompt in force at `frame`."""
        if not 0 <= frame < self.max_frames:
            raise IndexError(f"frame {frame} outside 0..{self.max_frames - 1}")
        if not self.keys:
            raise SettingsError("the settings have no prompts", file=self.source, key="prompts")
        before = [i for i, k in enumerate(self.keys) if 0 <= k.frame <= frame]
        if before:
            return max(before, key=lambda i: self.keys[i].frame)
        after = [i for i, k in enumerate(self.keys) if frame < k.frame < self.max_frames]
        if after:
            return min(after, key=lambda i: self.keys[i].frame)
        return 0

    def prompt_at(self, frame: int) -> FramePrompt:
        return render_prompt(self.keys[self.key_index_at(frame)].text, frame, self.max_frames, self.source)

    def ranges(self, start: int = 0, end: int | None = None) -> tuple[PromptRange, ...]:
        """Contiguous frame ranges in [start, end) over which one prompt key is in force."""
        end = self.max_frames if end is None else end
        if not self.keys or start >= end:
            return ()
        boundaries = sorted({k.frame for k in self.keys if start < k.frame < end})
        out: list[PromptRange] = []
        for lo, hi in zip([start, *boundaries], [*boundaries, end]):
            index = self.key_index_at(lo)
            if out and out[-1].key_index == index:
                out[-1] = PromptRange(out[-1].start_frame, hi, index)
            else:
                out.append(PromptRange(lo, hi, index))
        return tuple(out)

    def keyframes(self) -> tuple[FramePrompt, ...]:
        """One entry per key frame inside [0, max_frames), in frame order."""
        frames = sorted({k.frame for k in self.keys if 0 <= k.frame < self.max_frames})
        return tuple(self.prompt_at(f) for f in frames)


def build_prompt_schedule(settings: DeforumSettings) -> PromptSchedule:
    negative = settings.prompts_negative.replace("--neg", "")
    keys: dict[int, PromptKey] = {}
    for key, value in settings.prompts:
        frame = resolve_key(key, settings)
        if settings.prompts_premerged:
            text = value
        else:
            text = f"{settings.prompts_positive} {value} {'' if '--neg' in value else '--neg'} {negative}"
        # A later duplicate replaces the text but, like a pandas label, keeps the first position.
        keys[frame] = PromptKey(key, frame, text)
    return PromptSchedule(settings.max_frames, tuple(keys.values()), settings.source)


def resolve_key(key: str, settings: DeforumSettings, field: str = "prompts") -> int:
    """A frame key as Deforum reads prompt keys: digits, or an expression of max_f (truncated)."""
    if key.isdigit():
        try:
            return int(key)
        except ValueError:
            pass
    try:
        value = compile_expression(key, ("max_f",)).evaluate({"max_f": settings.max_frames - 1})
    except ExpressionError as exc:
        raise SettingsError(
            f"key {key!r}: {exc.one_line()}",
            file=settings.source,
            key=field,
            hint="keys are frame numbers or expressions of max_f such as max_f-60",
        ) from None
    value = float(value)
    if not np.isfinite(value):
        raise SettingsError(f"key {key!r} is not a finite number", file=settings.source, key=field)
    return int(value)


def render_prompt(text: str, frame: int, max_frames: int, source: str = "") -> FramePrompt:
    """Backtick math at `frame`, then Deforum's --neg split."""

    def evaluate(match: re.Match[str]) -> str:
        inner = match.group(0)[1:-1]
        try:
            value = compile_expression(inner, ("t", "max_f")).evaluate_value({"t": frame, "max_f": max_frames - 1})
        except ExpressionError as exc:
            raise SettingsError(
                f"backtick math {match.group(0)!r}: {exc.one_line()}", file=source, key="prompts", frame=frame
            ) from None
        return str(value)

    rendered = _BACKTICK.sub(evaluate, text)
    positive, *after = rendered.strip().split("--neg")
    return FramePrompt(frame, positive.strip(), "".join(after).strip())
