"""Enhanced prompts cached on disk, so re-planning or re-rendering a film asks the model only
for what changed. Keyed by everything that shapes the answer: the model (name and config), the
prompt, the camera words, the language, the images' pixels, the system prompt's version and the
previous shot given as context. One small JSON file per entry, written atomically.
"""

from __future__ import annotations

import hashlib
import json
import os

ENV_CACHE = "WAN_WEAVE_CACHE"


def default_dir() -> str:
    root = os.environ.get(ENV_CACHE) or os.path.join(os.path.expanduser("~"), ".cache", "wan-weave")
    return os.path.join(root, "prompts")


def image_hash(pixels) -> str:
    """A numpy image's identity: shape and bytes."""
    digest = hashlib.sha256(repr(pixels.shape).encode())
    digest.update(pixels.tobytes())
    return digest.hexdigest()[:16]


def cache_key(**parts) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


class PromptCache:
    def __init__(self, folder: str | None):
        self.folder = folder  # None: no cache

    def _path(self, key: str) -> str:
        return os.path.join(self.folder, key[:2], f"{key}.json")

    def get(self, key: str) -> str | None:
        if not self.folder:
            return None
        try:
            with open(self._path(key), encoding="utf-8") as fh:
                value = json.load(fh).get("enhanced")
        except (OSError, ValueError, AttributeError):
            return None  # a missing or damaged entry is a miss: the prompt is asked for again
        return value if isinstance(value, str) else None

    def put(self, key: str, enhanced: str, **about) -> None:
        """Store the model's (cleaned) answer for `key`; `about` is kept for people reading the file."""
        if not self.folder:
            return
        path = self._path(key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.partial"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump({"enhanced": enhanced, **about}, fh, ensure_ascii=False)
        os.replace(tmp, path)
