"""A plan's name becomes a file name (<name>.mp4 in the output folder): it must be one, and never
a path. Pure: no file system access."""

from __future__ import annotations

import re

MAX_NAME = 120
_BAD = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]")  # separators, and what Windows refuses in names


def name_problem(name: str) -> str | None:
    """Why `name` cannot be an output file name; None when it can."""
    if not name or not name.strip():
        return "is empty"
    if len(name) > MAX_NAME:
        return f"is longer than {MAX_NAME} characters"
    if name.startswith("."):
        return "starts with '.' (a hidden file, or a path)"
    if _BAD.search(name):
        return "holds a path separator or a character file names cannot hold"
    return None


def name_from_source(source: str) -> str:
    """The plan name for a settings file: its file name without the extension, made a valid name."""
    stem = source.replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
    name = _BAD.sub("-", stem).lstrip(".").strip()[:MAX_NAME]
    return name or "render"
