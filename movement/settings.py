"""Deforum saved-settings files -> an immutable DeforumSettings.

A settings file is one JSON object (Deforum writes `*_settings.txt`; people also save `.json`).
Keys we do not use are kept in `extra`. Keys Deforum has a default for and the file lacks take
Deforum's default (as Deforum's loader does), and are listed in `defaults_used` so the user sees it.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from typing import Any

from .errors import SettingsError

# Deforum's own defaults (deforum_helpers/args.py), used when a legacy file lacks the key.
DEFAULT_FPS = 15.0
MIN_FPS = 0.01  # below it a film's frame count per second is damage (5e-324 overflows every duration)
DEFAULTS: dict[str, Any] = {
    "max_frames": 120,
    "fps": DEFAULT_FPS,
    "animation_mode": "2D",
    "W": 512,
    "H": 512,
    "seed": -1,
    "seed_behavior": "iter",
    "seed_iter_N": 1,
    "diffusion_cadence": 2,
}
MOTION_DEFAULTS: dict[str, str] = {
    "angle": "0: (0)",
    "zoom": "0: (1.0025+0.002*sin(1.25*3.14*t/30))",
    "translation_x": "0: (0)",
    "translation_y": "0: (0)",
    "translation_z": "0: (1.75)",
    "rotation_3d_x": "0: (0)",
    "rotation_3d_y": "0: (0)",
    "rotation_3d_z": "0: (0)",
    "transform_center_x": "0: (0.5)",
    "transform_center_y": "0: (0.5)",
}
MOTION_KEYS: tuple[str, ...] = tuple(MOTION_DEFAULTS)
OPTIONAL_MOTION_KEYS: tuple[str, ...] = (
    "perspective_flip_theta",
    "perspective_flip_phi",
    "perspective_flip_gamma",
    "perspective_flip_fv",
)
SCHEDULE_DEFAULTS: dict[str, str] = {
    "strength_schedule": "0: (0.65)",
    "seed_schedule": '0:(s), 1:(-1), "max_f-2":(-1), "max_f-1":(s)',
}
# Deforum evaluates these as text, not numbers.
TEXT_SCHEDULE_KEYS = frozenset(
    {"sampler_schedule", "scheduler_schedule", "checkpoint_schedule", "mask_schedule", "noise_mask_schedule"}
)
ANIMATION_MODES = ("2D", "3D", "Video Input", "Interpolation", "None")
SEED_BEHAVIORS = ("iter", "fixed", "random", "ladder", "alternate", "schedule")
MAX_FILE_BYTES = 32 * 1024 * 1024
MAX_FRAMES_LIMIT = 1_000_000


@dataclass(frozen=True)
class DeforumSettings:
    source: str
    max_frames: int
    fps: float
    animation_mode: str
    width: int
    height: int
    seed: int
    seed_behavior: str
    seed_iter_n: int
    diffusion_cadence: int
    prompts: tuple[tuple[str, str], ...]
    prompts_positive: str
    prompts_negative: str
    prompts_premerged: bool
    schedules: tuple[tuple[str, str | float], ...]
    defaults_used: tuple[str, ...]
    extra: tuple[tuple[str, Any], ...]
    raw_json: str = "{}"  # the file's object as compact JSON: plans embed it to stay self-contained

    def schedule(self, key: str) -> str | float:
        for name, text in self.schedules:
            if name == key:
                return text
        raise KeyError(key)

    def has_schedule(self, key: str) -> bool:
        return any(name == key for name, _ in self.schedules)

    def get(self, key: str, default: Any = None) -> Any:
        """An unused key of the original file, frozen (dicts become tuples of pairs)."""
        for name, value in self.extra:
            if name == key:
                return value
        return default

    @property
    def init_image(self) -> str:
        """The init image Deforum would use ("" when use_init is off or none is set)."""
        image = self.get("init_image")
        return image.strip() if self.get("use_init") is True and isinstance(image, str) else ""

    @property
    def duration_s(self) -> float:
        return self.max_frames / self.fps


def load_settings(path: str | os.PathLike[str]) -> DeforumSettings:
    """Read a Deforum settings file (.txt or .json; BOM and CRLF are fine)."""
    name = os.fspath(path)
    if not os.path.exists(name):
        raise SettingsError("file not found", file=name, hint="check the path")
    if os.path.isdir(name):
        raise SettingsError("is a folder, not a settings file", file=name, hint="pass a *_settings.txt or .json file")
    size = os.path.getsize(name)
    if size > MAX_FILE_BYTES:
        raise SettingsError(f"file is {size} bytes; settings files are small JSON files", file=name)
    try:
        with open(name, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise SettingsError(f"cannot read: {exc.strerror}", file=name) from None
    return settings_from_text(raw, source=name)


def settings_from_text(raw: bytes | str, *, source: str = "<text>") -> DeforumSettings:
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise SettingsError(
                f"not UTF-8 text (byte {exc.start})", file=source, hint="save the file as UTF-8"
            ) from None
    else:
        text = raw.lstrip("\ufeff")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SettingsError(
            f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
            file=source,
            hint="a Deforum settings file is one JSON object",
        ) from None
    except RecursionError:
        raise SettingsError("not valid JSON: nested too deeply", file=source) from None
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise SettingsError(f"not valid JSON: {exc}", file=source) from None
    return settings_from_mapping(data, source=source)


def settings_from_mapping(data: Any, *, source: str = "<settings>") -> DeforumSettings:
    if not isinstance(data, dict):
        raise SettingsError(
            f"expected a JSON object at the top level, got {_json_type(data)}",
            file=source,
            hint="a Deforum settings file is one JSON object",
        )
    used: set[str] = set()
    defaults_used: list[str] = []

    def take(key: str, default: Any) -> Any:
        used.add(key)
        if key in data and data[key] is not None:
            return data[key]
        defaults_used.append(key)
        return default

    def err(key: str, reason: str, hint: str = "") -> SettingsError:
        return SettingsError(reason, file=source, key=key, hint=hint)

    max_frames = _as_int(take("max_frames", DEFAULTS["max_frames"]), "max_frames", err)
    if max_frames < 1:
        raise err("max_frames", f"must be at least 1, got {max_frames}")
    if max_frames > MAX_FRAMES_LIMIT:
        raise err("max_frames", f"{max_frames} is more than {MAX_FRAMES_LIMIT} frames")
    fps = _as_float(take("fps", DEFAULTS["fps"]), "fps", err)
    if not MIN_FPS <= fps <= 1000:
        raise err("fps", f"must be above 0 (at least {MIN_FPS}) and at most 1000, got {fps:g}")
    mode = take("animation_mode", DEFAULTS["animation_mode"])
    if mode not in ANIMATION_MODES:
        raise err("animation_mode", f"unknown mode {mode!r}", hint=f"use one of {', '.join(ANIMATION_MODES)}")
    width = _as_int(take("W", DEFAULTS["W"]), "W", err)
    height = _as_int(take("H", DEFAULTS["H"]), "H", err)
    for key, value in (("W", width), ("H", height)):
        if not 8 <= value <= 16384:
            raise err(key, f"must be between 8 and 16384 pixels, got {value}")
    seed = _as_int(take("seed", DEFAULTS["seed"]), "seed", err)
    behavior = take("seed_behavior", DEFAULTS["seed_behavior"])
    if behavior not in SEED_BEHAVIORS:
        raise err("seed_behavior", f"unknown value {behavior!r}", hint=f"use one of {', '.join(SEED_BEHAVIORS)}")
    seed_iter_n = _as_int(take("seed_iter_N", DEFAULTS["seed_iter_N"]), "seed_iter_N", err)
    if seed_iter_n < 1:
        raise err("seed_iter_N", f"must be at least 1, got {seed_iter_n}")
    cadence = _as_int(take("diffusion_cadence", DEFAULTS["diffusion_cadence"]), "diffusion_cadence", err)
    if cadence < 1:
        raise err("diffusion_cadence", f"must be at least 1, got {cadence}")

    prompts = _prompts(data, source, used)
    positive, negative, legacy_names = _prompt_affixes(data, source, used)
    premerged = legacy_names and _looks_premerged(prompts, positive, negative)

    schedules: list[tuple[str, str | float]] = []
    for key, default in {**MOTION_DEFAULTS, **SCHEDULE_DEFAULTS}.items():
        schedules.append((key, _schedule_value(take(key, default), key, err)))
    for key in (*OPTIONAL_MOTION_KEYS, *sorted(k for k in data if k.endswith("_schedule"))):
        if key in data and key not in used and data[key] is not None:
            used.add(key)
            if key in TEXT_SCHEDULE_KEYS:
                if not isinstance(data[key], str):
                    raise err(key, f"expected text, got {_json_type(data[key])}")
                schedules.append((key, data[key]))
            else:
                schedules.append((key, _schedule_value(data[key], key, err)))
    try:
        extra = tuple((k, _freeze(v)) for k, v in data.items() if k not in used)
    except RecursionError:
        raise SettingsError("a value is nested too deeply", file=source) from None
    return DeforumSettings(
        source=source,
        max_frames=max_frames,
        fps=fps,
        animation_mode=mode,
        width=width,
        height=height,
        seed=seed,
        seed_behavior=behavior,
        seed_iter_n=seed_iter_n,
        diffusion_cadence=cadence,
        prompts=prompts,
        prompts_positive=positive,
        prompts_negative=negative,
        prompts_premerged=premerged,
        schedules=tuple(schedules),
        defaults_used=tuple(defaults_used),
        extra=extra,
        raw_json=json.dumps(data, ensure_ascii=False, separators=(",", ":")),
    )


def _json_type(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "true/false", type(None): "null"}.get(
        type(value), "a number"
    )


def _as_int(value: Any, key: str, err) -> int:
    number = _as_float(value, key, err)
    if number != int(number):
        raise err(key, f"expected a whole number, got {value!r}")
    return int(number)


def _as_float(value: Any, key: str, err) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise err(key, f"expected a number, got {_json_type(value)}")
    try:
        value = float(value.strip() if isinstance(value, str) else value)
    except ValueError:
        raise err(key, f"expected a number, got {value!r}") from None
    except OverflowError:
        raise err(key, "the number is too large") from None
    if not math.isfinite(value):
        raise err(key, f"expected a finite number, got {value!r}")
    return float(value)


def _schedule_value(value: Any, key: str, err) -> str | float:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise err(key, f'expected a schedule string like "0: (1.0)", got {_json_type(value)}')
    if isinstance(value, str):
        return value
    try:
        number = float(value)
    except OverflowError:
        raise err(key, "the number is too large") from None
    if not math.isfinite(number):
        raise err(key, f"expected a finite number, got {value!r}")
    return number


def _prompts(data: dict, source: str, used: set[str]) -> tuple[tuple[str, str], ...]:
    key = "prompts" if "prompts" in data else "animation_prompts"
    used.update({"prompts", "animation_prompts"})
    value = data.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        # The WebUI keeps the prompt box as JSON text; some exports store it that way.
        try:
            value = json.loads(value) if value.strip() else {}
        except json.JSONDecodeError as exc:
            raise SettingsError(f"prompt text is not a JSON object: {exc.msg}", file=source, key=key) from None
    if not isinstance(value, dict):
        raise SettingsError(
            f"expected an object of frame: prompt, got {_json_type(value)}",
            file=source,
            key=key,
            hint='write {"0": "a prompt", "60": "another"}',
        )
    out = []
    for frame, text in value.items():
        if not isinstance(text, str):
            raise SettingsError(f"prompt at {frame!r} must be text, got {_json_type(text)}", file=source, key=key)
        out.append((str(frame), text))
    return tuple(out)


def _prompt_affixes(data: dict, source: str, used: set[str]) -> tuple[str, str, bool]:
    values = []
    legacy = False
    for modern, old in (
        ("animation_prompts_positive", "positive_prompts"),
        ("animation_prompts_negative", "negative_prompts"),
    ):
        used.update({modern, old})
        if data.get(modern) is not None:
            value, key = data[modern], modern
        elif data.get(old) is not None:
            value, key, legacy = data[old], old, True
        else:
            value, key = "", modern
        if not isinstance(value, str):
            raise SettingsError(f"expected text, got {_json_type(value)}", file=source, key=key)
        values.append(value)
    return values[0], values[1], legacy


def _looks_premerged(prompts: tuple[tuple[str, str], ...], positive: str, negative: str) -> bool:
    # Deforum's per-run *_settings.txt stores prompts already joined with positive/negative
    # (and names those positive_prompts/negative_prompts); joining again would double them.
    if not prompts or not (positive or negative):
        return False
    neg = negative.replace("--neg", "")
    return all(text.startswith(f"{positive} ") and "--neg" in text and text.endswith(f" {neg}") for _, text in prompts)


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple((k, _freeze(v)) for k, v in value.items())
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value
