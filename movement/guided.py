"""Deforum's Guided Images: keyframe images at given frames (`use_looper` + `init_images`).

`init_images` is a JSON object (or its text) of frame key -> image path, with keys like prompt keys
(digits or expressions of max_f). Wan Weave uses them as FLF2V anchor keyframes. Pure: paths are
not opened here.
"""

from __future__ import annotations

import json

from .errors import SettingsError
from .prompts import resolve_key
from .settings import DeforumSettings


def keyframe_images(settings: DeforumSettings) -> tuple[tuple[int, str], ...]:
    """(frame, path) pairs inside [0, max_frames), in frame order; () when Guided Images is off."""
    if settings.get("use_looper") is not True:
        return ()
    raw = settings.get("init_images")
    if isinstance(raw, str):
        try:
            raw = json.loads(raw) if raw.strip() else {}
        except json.JSONDecodeError as exc:
            raise SettingsError(f"not a JSON object: {exc.msg}", file=settings.source, key="init_images") from None
        items = list(raw.items()) if isinstance(raw, dict) else None
    elif isinstance(raw, tuple):  # frozen by the settings loader: a tuple of (key, value) pairs
        items = list(raw)
    else:
        items = None
    if items is None:
        raise SettingsError(
            "expected an object of frame: image path", file=settings.source, key="init_images",
            hint='write {"0": "first.png", "48": "second.png"}',
        )  # fmt: skip
    found: dict[int, str] = {}
    for key, path in items:
        if not isinstance(path, str) or not path.strip():
            raise SettingsError(f"image at {key!r} must be a path", file=settings.source, key="init_images")
        frame = resolve_key(str(key), settings, field="init_images")
        if 0 <= frame < settings.max_frames:
            found[frame] = path.strip()
    return tuple(sorted(found.items()))
