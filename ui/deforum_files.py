"""Finding and reading the Deforum settings the tab loads (the shell beside ui/state.py)."""

from __future__ import annotations

import glob
import os
import re

from movement import load_settings
from movement.errors import SettingsError
from movement.settings import DeforumSettings
from ui.state import PlanChoices, UIState, plan_for
from wan.plan.build import GenerationPlan

# Deforum writes <output folder>/<batch name>/<timestring>_settings.txt, timestring being
# time.strftime("%Y%m%d%H%M%S"); the batch name may hold one sub-folder ("Deforum/{timestring}").
_DEFORUM_SETTINGS = re.compile(r"^\d{14}_settings\.txt$")
_DEPTHS = ("*", os.path.join("*", "*"))


def latest_deforum_settings(roots: list[str]) -> str:
    """The newest settings file Deforum wrote into one of its output folders (`roots`: the
    WebUI's img2img output folder, or the one --deforum-dir names). Only the batch folders inside
    them are looked at, and only names Deforum gives its files: never a walk of the WebUI."""
    found = [
        path
        for root in roots
        for depth in _DEPTHS
        for path in glob.glob(os.path.join(glob.escape(root), depth, "*_settings.txt"))
        if _DEFORUM_SETTINGS.match(os.path.basename(path))
    ]
    if not found:
        where = ", ".join(roots) or "no folder"
        raise SettingsError(
            f"no Deforum run found: no <batch>/<timestring>_settings.txt under {where}",
            hint="run Deforum once (its settings are saved with each run), or upload a settings file",
        )
    return max(found, key=os.path.getmtime)


def make_plan(path: str, choices: PlanChoices) -> tuple[UIState, GenerationPlan, DeforumSettings]:
    settings = load_settings(path)
    state, plan = plan_for(settings, choices)
    return state, plan, settings
