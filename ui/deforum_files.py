"""Finding and reading the Deforum settings the tab loads (the shell beside ui/state.py)."""

from __future__ import annotations

import glob
import os

from movement import load_settings
from movement.errors import SettingsError
from movement.settings import DeforumSettings
from ui.state import PlanChoices, UIState, plan_for
from wan.plan.build import GenerationPlan


def latest_deforum_settings(roots: list[str]) -> str:
    """The newest `*_settings.txt` under Deforum's output folders, or Deforum's persistent
    `deforum_settings.txt`, whichever is newer."""
    found = []
    for root in roots:
        found += glob.glob(os.path.join(root, "**", "*_settings.txt"), recursive=True)
        found += glob.glob(os.path.join(root, "deforum_settings.txt"))
    if not found:
        raise SettingsError(
            f"no Deforum settings found under {', '.join(roots) or 'no folders'}",
            hint="run Deforum once, or upload a settings file",
        )
    return max(found, key=os.path.getmtime)


def make_plan(path: str, choices: PlanChoices) -> tuple[UIState, GenerationPlan, DeforumSettings]:
    settings = load_settings(path)
    state, plan = plan_for(settings, choices)
    return state, plan, settings
