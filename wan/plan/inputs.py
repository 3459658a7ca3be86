"""The files a plan reads (init image, Guided Images keyframes, soundtrack, colour anchor), as the
settings and the plan name them. Pure: what they are, not whether they exist."""

from __future__ import annotations

import os
import posixpath

from movement.guided import keyframe_images
from movement.settings import DeforumSettings
from wan.plan.build import GenerationPlan


def input_paths(plan: GenerationPlan, settings: DeforumSettings) -> list[tuple[str, str]]:
    """(settings key, path as written) for every file a render of `plan` would read."""
    found = []
    if settings.init_image:
        found.append(("init_image", settings.init_image))
    if plan.mode == "flf2v_keyframes":
        found += [(f"init_images[{frame}]", path) for frame, path in keyframe_images(settings)]
    if settings.get("add_soundtrack", "None") == "File" and isinstance(settings.get("soundtrack_path"), str):
        found.append(("soundtrack_path", settings.get("soundtrack_path").strip()))
    if plan.continuity.anchor:
        found.append(("continuity.anchor", plan.continuity.anchor))
    return found


def outside_problem(path: str) -> str | None:
    """Why `path` (relative to a job's input folder) would leave that folder, by its text alone."""
    if "://" in path:
        return "is a URL"
    if os.path.isabs(path) or posixpath.isabs(path.replace("\\", "/")) or (len(path) > 1 and path[1] == ":"):
        return "is an absolute path"
    if ".." in path.replace("\\", "/").split("/"):
        return "climbs out with '..'"
    return None
