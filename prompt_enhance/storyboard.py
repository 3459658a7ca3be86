"""The storyboard: a paragraph about a whole film -> a Deforum settings file, planned by a local
Qwen model as JSON, checked against a schema, and asked again with the error when it is wrong.

Pure apart from the chat object it is given (anything with `answer(messages) -> str`). Camera
intents use our movement vocabulary (docs/movement.md), so `python -m wan describe` reads the
written schedules back as the same words.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import jsonschema

from .errors import EnhanceError

SCHEMA = {
    "type": "object",
    "required": ["segments"],
    "properties": {
        "title": {"type": "string"},
        "segments": {
            "type": "array",
            "minItems": 1,
            "maxItems": 64,
            "items": {
                "type": "object",
                "required": ["start", "prompt", "keyframe", "camera"],
                "additionalProperties": False,
                "properties": {
                    "start": {"type": "number", "minimum": 0},
                    "prompt": {"type": "string", "minLength": 3, "maxLength": 1500},
                    "keyframe": {"type": "string"},
                    "camera": {"type": "string"},
                },
            },
        },
    },
}

# intent -> (Deforum 3D key, sign); rates are per second and become per-frame values at the film's fps.
MOVES = {
    "pan left": ("rotation_3d_y", -1), "pan right": ("rotation_3d_y", 1),
    "tilt up": ("rotation_3d_x", 1), "tilt down": ("rotation_3d_x", -1),
    "roll clockwise": ("rotation_3d_z", 1), "roll counterclockwise": ("rotation_3d_z", -1),
    "truck left": ("translation_x", -1), "truck right": ("translation_x", 1),
    "pedestal up": ("translation_y", 1), "pedestal down": ("translation_y", -1),
    "dolly in": ("translation_z", 1), "dolly out": ("translation_z", -1),
}  # fmt: skip
SYNONYMS = {
    "push in": "dolly in", "pull out": "dolly out", "pull back": "dolly out", "zoom in": "dolly in",
    "zoom out": "dolly out", "track left": "truck left", "track right": "truck right", "crane up": "pedestal up",
    "crane down": "pedestal down", "rise": "pedestal up", "descend": "pedestal down",
    "rotate clockwise": "roll clockwise", "rotate counterclockwise": "roll counterclockwise",
}  # fmt: skip
STATIC = ("static", "still", "locked off", "locked-off", "none")
RATE = {"rotation": 8.0, "translation": 15.0}  # per second: "gentle" in docs/movement.md
SPEED = {"slow": 0.5, "slowly": 0.5, "gentle": 0.5, "gently": 0.5, "fast": 2.5, "quick": 2.5, "quickly": 2.5}
CAMERA_KEYS = sorted({key for key, _ in MOVES.values()})


class StoryboardError(EnhanceError):
    """The storyboard could not be made."""


@dataclass(frozen=True)
class Segment:
    start: float  # seconds
    prompt: str
    keyframe: str
    camera: str
    moves: tuple[tuple[str, float], ...]  # (key, per-second rate with sign)


def parse_camera(intent: str) -> tuple[tuple[str, float], ...]:
    """'slow pan left while dollying in' -> ((rotation_3d_y, -4.0), (translation_z, 15.0)).
    Raises ValueError naming what it does not understand."""
    text = intent.lower().strip().replace("dollying", "dolly").replace("panning", "pan").replace("tilting", "tilt")
    if not text or text in STATIC:
        return ()
    moves = []
    for part in re.split(r"\s*(?:,|\band\b|\bwhile\b|\+)\s*", text):
        words = part.split()
        if not words or " ".join(words) in STATIC:
            continue
        speed = 1.0
        if words[0] in SPEED:
            speed, words = SPEED[words[0]], words[1:]
        phrase = " ".join(words)
        phrase = SYNONYMS.get(phrase, phrase)
        if phrase not in MOVES:
            raise ValueError(f"unknown camera move {part!r}")
        key, sign = MOVES[phrase]
        base = RATE["rotation" if key.startswith("rotation") else "translation"]
        moves.append((key, sign * base * speed))
    return tuple(moves)


def extract_json(answer: str):
    """The JSON object in a model's answer (models like to wrap it in ``` fences or prose)."""
    start, end = answer.find("{"), answer.rfind("}")
    if start < 0 or end <= start:
        raise ValueError("the answer holds no JSON object")
    try:
        return json.loads(answer[start : end + 1])
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON: {exc.msg} at character {exc.pos}") from None


def check(data, seconds: float) -> list[Segment]:
    """Schema, then meaning: the first segment starts at 0, starts increase and lie inside the film,
    the camera intents are in the vocabulary. Raises ValueError with a message a model can act on."""
    try:
        jsonschema.validate(data, SCHEMA)
    except jsonschema.ValidationError as exc:
        path = "/".join(str(p) for p in exc.absolute_path) or "the object"
        raise ValueError(f"schema: at {path}: {exc.message}") from None
    segments = []
    for i, raw in enumerate(data["segments"]):
        start = float(raw["start"])
        if i == 0 and start != 0:
            raise ValueError("the first segment must start at 0")
        if segments and start <= segments[-1].start:
            raise ValueError(f"segment {i} starts at {start} s, not after segment {i - 1} ({segments[-1].start} s)")
        if start >= seconds:
            raise ValueError(f"segment {i} starts at {start} s, but the film is {seconds} s long")
        try:
            moves = parse_camera(raw["camera"])
        except ValueError as exc:
            allowed = ", ".join([*MOVES, "static"])
            raise ValueError(f"segment {i} camera: {exc}; use: {allowed} (optionally slow/fast)") from None
        segments.append(Segment(start, raw["prompt"].strip(), raw["keyframe"].strip(), raw["camera"], moves))
    return segments


def _schedule(values: list[tuple[int, float]]) -> str:
    # Deforum interpolates between keys, so each change is a step: the old value up to the frame
    # before, the new one from the segment's first frame.
    keys: list[tuple[int, float]] = []
    for frame, value in values:
        if keys and frame > 0:
            keys.append((frame - 1, keys[-1][1]))
        keys.append((frame, value))
    return ", ".join(f"{f}: ({round(v, 4):g})" for f, v in keys)


def to_settings(segments: list[Segment], seconds: float, fps: float, title: str = "") -> dict:
    """A Deforum 3D settings dict: a prompt per segment, step camera schedules per segment."""
    max_frames = max(1, round(seconds * fps))
    frames = [min(max_frames - 1, round(s.start * fps)) for s in segments]
    settings: dict = {
        "animation_mode": "3D",
        "max_frames": max_frames,
        "fps": fps,
        "W": 832,
        "H": 480,
        "seed": 1,
        "seed_behavior": "iter",
        "prompts": {str(f): s.prompt for f, s in zip(frames, segments)},
        "wan_weave_storyboard": {
            "title": title,
            "segments": [{"frame": f, "keyframe": s.keyframe, "camera": s.camera} for f, s in zip(frames, segments)],
        },
    }
    for key in CAMERA_KEYS:
        per_frame = [(f, sum(rate for k, rate in s.moves if k == key) / fps) for f, s in zip(frames, segments)]
        settings[key] = _schedule(per_frame)
    return settings


def template_storyboard(paragraph: str, seconds: float, fps: float) -> dict:
    """Without a language model: one segment per sentence, evenly over the film, each sentence its
    prompt and its keyframe; a camera move a sentence names in our vocabulary ("slow pan left",
    "push in") becomes that segment's camera, else it is static."""
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", paragraph.strip()) if re.search(r"\w", s)]
    if not sentences:
        raise StoryboardError("the paragraph has no sentence to make a shot of", hint="write a few sentences")
    count = min(len(sentences), max(1, int(seconds // 2)), SCHEMA["properties"]["segments"]["maxItems"])
    # More sentences than shots fit: the extra ones join the shot before (no sentence is dropped).
    groups = [" ".join(sentences[round(i * len(sentences) / count) : round((i + 1) * len(sentences) / count)])
              for i in range(count)]  # fmt: skip
    segments = []
    for i, text in enumerate(groups):
        camera = _named_move(text)
        segments.append(Segment(round(i * seconds / count, 3), text, text, camera, parse_camera(camera)))
    return to_settings(segments, seconds, fps, sentences[0][:80])


def _named_move(text: str) -> str:
    lowered = text.lower()
    phrases = sorted([*MOVES, *SYNONYMS], key=len, reverse=True)  # "dolly in" before "in"-like overlaps
    for phrase in phrases:
        if re.search(rf"\b{re.escape(phrase)}\b", lowered):
            speed = re.search(rf"\b({'|'.join(SPEED)})\s+{re.escape(phrase)}\b", lowered)
            return f"{speed.group(1)} {phrase}" if speed else phrase
    return "static"


SYSTEM = (
    "You plan short films for a video generator. Split the user's film into segments and answer with only "
    'one JSON object: {{"title": str, "segments": [{{"start": seconds, "prompt": a concrete shot '
    'description of 40-80 words, "keyframe": what the first frame of the segment shows, "camera": a camera '
    "move}}]}}. The film lasts {seconds} seconds; the first segment starts at 0 and starts increase; use one "
    "segment per 3 to 8 seconds. Camera moves: {moves}, static; each may start with slow or fast, and two may "
    "be joined with 'while'. No text outside the JSON."
)


def storyboard(chat, paragraph: str, seconds: float, fps: float, attempts: int = 3, log=print) -> dict:
    """Ask `chat` for the film's segments; on an invalid answer, ask again with the error."""
    messages = [
        {"role": "system", "content": SYSTEM.format(seconds=seconds, moves=", ".join(MOVES))},
        {"role": "user", "content": paragraph},
    ]
    errors = []
    for attempt in range(1, attempts + 1):
        answer = chat.answer(messages)
        try:
            data = extract_json(answer)
            segments = check(data, seconds)
        except ValueError as exc:
            errors.append(str(exc))
            log(f"storyboard attempt {attempt}/{attempts} refused: {exc}")
            messages = [
                *messages,
                {"role": "assistant", "content": answer},
                {
                    "role": "user",
                    "content": f"That answer is not valid: {exc}. Answer again with only the corrected JSON.",
                },
            ]
            continue
        return to_settings(segments, seconds, fps, str(data.get("title", "")))
    raise StoryboardError(
        f"the model gave no valid storyboard in {attempts} attempts (last problem: {errors[-1]})",
        hint="try again with a larger Qwen model, or write the prompts yourself",
    )
