"""Keyframe mode: which film frames get a keyframe image, with which prompt and seed, and the Deforum
Guided Images settings that hand them to `render --mode flf2v_keyframes`.

A keyframe goes on every prompt key, on the film's last frame (FLF2V ends each clip on one), and
in between wherever two would lie further apart than one FLF2V clip holds. Pure: no images here.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass

from movement import build_prompt_schedule
from movement.settings import DeforumSettings
from wan.plan.errors import PlanError
from wan.plan.registry import DEFAULT_MODEL, get_model
from wan.plan.timeline import max_window

IMAGE_DIR = "keyframes"


@dataclass(frozen=True)
class Keyframe:
    frame: int
    prompt: str
    negative_prompt: str
    seed: int
    new_prompt: bool  # a prompt key starts here (else it fills a gap in the same prompt)

    @property
    def file(self) -> str:
        return f"{IMAGE_DIR}/kf_{self.frame:05d}.png"


def keyframe_window(fps_out: float, model: str | None = None) -> int:
    """Most film frames between two keyframes that one FLF2V clip of `model` spans."""
    spec = get_model(model or DEFAULT_MODEL["flf2v_keyframes"])
    if spec is None or "flf2v_keyframes" not in spec.modes:
        raise PlanError(f"{model!r} does not serve flf2v_keyframes", hint="use the FLF2V model (--model)")
    return max_window(spec.max_frames, fps_out, spec.fps, 0)


def keyframe_frames(settings: DeforumSettings, window: int) -> list[int]:
    """Prompt keys, the last frame, and evenly spaced frames between any two further apart than
    `window` (the last clip runs to max_frames, one past the last keyframe: it counts too)."""
    last = settings.max_frames - 1
    keys = {r.start_frame for r in build_prompt_schedule(settings).ranges()}
    frames = sorted({*keys, 0, last})
    out: list[int] = []
    for a, b in zip(frames, [*frames[1:], None]):
        out.append(a)
        if b is None:
            break
        span = (settings.max_frames if b == last else b) - a
        pieces = math.ceil(span / window)
        out += [a + round(span * i / pieces) for i in range(1, pieces) if a + round(span * i / pieces) < b]
    return sorted(set(out))


def plan_keyframes(settings: DeforumSettings, window: int, seed: int | None = None) -> list[Keyframe]:
    """The keyframes of `settings`: each with the prompt in force at its frame and its own seed."""
    schedule = build_prompt_schedule(settings)
    starts = {r.start_frame for r in schedule.ranges()}
    base = settings.seed if seed is None else seed
    if base < 0:
        raise PlanError("keyframes need a fixed seed (the settings say -1)", hint="pass --seed N")
    out = []
    for frame in keyframe_frames(settings, window):
        text = schedule.prompt_at(frame)
        # Seeded by frame, as Deforum's iter seeds are: a keyframe added elsewhere reseeds no other.
        out.append(Keyframe(frame, text.positive, text.negative, (base + frame) % 2**32, frame in starts))
    return out


FILE_KEYS = ("init_image", "soundtrack_path")  # the settings' own files a render reads


def guided_settings(raw_json: str, keyframes: list[Keyframe], source_dir: str) -> str:
    """The settings with Deforum's Guided Images on: each keyframe's image at its frame (relative
    to the new settings file, which sits beside the images, so that folder moves as one). The
    settings' own files (init image, soundtrack) were relative to `source_dir`: they become
    absolute, or the new file would look for them beside the keyframes."""
    data = json.loads(raw_json)
    for key in FILE_KEYS:
        value = data.get(key)
        if isinstance(value, str) and value.strip() and "://" not in value and not os.path.isabs(value):
            data[key] = os.path.normpath(os.path.join(source_dir, value.strip()))
    data["use_looper"] = True
    data["init_images"] = {str(k.frame): k.file for k in keyframes}
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
