"""What the tab shows and edits, as pure functions of frozen values (no gradio, no torch).

The tab keeps one immutable `UIState` per browser session; every handler takes the state and the
widgets' values and returns a new state plus what to display.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

import numpy as np

from movement import build_schedules
from movement.errors import SettingsError, WanWeaveError
from movement.motion import motion_inputs
from movement.settings import DeforumSettings
from wan.plan.build import GenerationPlan, PlanOptions, plan_with_seed
from wan.plan.continuity import continuity_from
from wan.plan.plan_json import plan_from_dict, plan_to_dict
from wan.plan.post import Post, parse_post
from wan.plan.speed import Acceleration, parse_lora

# The editable columns come right after the clip's place in time, the short seed first: a long
# prompt column fills the width, and what stands to its right is off-screen.
COLUMNS = ["clip", "time (s)", "frames", "seed", "prompt for WAN (edit me)", "camera", "Deforum prompt"]
DATATYPES = ["number", "str", "number", "number", "str", "str", "str"]
PROMPT_COL, SEED_COL = COLUMNS.index("prompt for WAN (edit me)"), COLUMNS.index("seed")
AUTO = "auto"


@dataclass(frozen=True)
class UIState:
    settings_path: str | None = None
    plan: dict | None = None  # plan.json content: frozen by convention, replaced, never mutated

    def plan_value(self) -> GenerationPlan | None:
        return plan_from_dict(self.plan, where="the tab's plan") if self.plan else None


@dataclass(frozen=True)
class PlanChoices:
    model: str = AUTO
    mode: str = AUTO
    steps: int = 0  # 0: the model's
    width: int = 0  # 0 (with height 0): the model's native area at the settings' aspect ratio
    height: int = 0
    continuity: str = "standard"  # a preset of wan/plan/continuity.py
    attention: str = "native"
    step_cache: str = "none"
    compile: bool = False
    fp8: bool = False
    loras: str = ""  # "path:weight, path:weight"
    distill: str = "none"
    post: str = ""  # the plan's post block as --post writes it (wan/plan/post.py)
    available: tuple[str, ...] | None = None  # what the models folder serves: a guided model there is the default

    def options(self) -> PlanOptions:
        sized = self.width > 0 and self.height > 0
        return PlanOptions(
            model=None if self.model == AUTO else self.model,
            mode=None if self.mode == AUTO else self.mode,
            steps=int(self.steps) if self.steps and self.steps > 0 else None,
            width=int(self.width) if sized else None,
            height=int(self.height) if sized else None,
            continuity=continuity_from(self.continuity or "standard"),
            acceleration=self.acceleration(),
            post=parse_post(self.post, where="post") if (self.post or "").strip() else None,
            available=self.available,
        )

    def acceleration(self) -> Acceleration:
        loras = tuple(parse_lora(x.strip()) for x in (self.loras or "").split(",") if x.strip())
        acc = Acceleration(attention=self.attention or "native", compile=bool(self.compile),
                           cache=self.step_cache or "none", fp8=bool(self.fp8), loras=loras,
                           distill=None if self.distill in (None, "", "none") else self.distill)  # fmt: skip
        try:
            acc.check()
        except ValueError as exc:
            raise WanWeaveError(f"speed options: {exc}") from None
        return acc


def settings_source(upload, path: str | None) -> str:
    """The file to read: an upload (gradio 3 gives a tempfile object, gradio 4 a path) or a path."""
    if upload is not None:
        return getattr(upload, "name", upload)
    if path and path.strip():
        return os.path.expanduser(path.strip())
    raise SettingsError("no settings file", hint="upload a Deforum settings file, type its path, or use the latest run")


def plan_for(settings: DeforumSettings, choices: PlanChoices) -> tuple[UIState, GenerationPlan]:
    plan = plan_with_seed(settings, choices.options())
    return UIState(settings.source, plan_to_dict(plan)), plan


@dataclass(frozen=True, eq=False)
class CameraSeries:
    """What the camera plot shows: each moving camera key over the film's seconds, and the clip starts."""

    seconds: np.ndarray
    values: dict[str, np.ndarray]  # key -> per-frame value, in the schedule's own units
    boundaries: tuple[float, ...]  # seconds at which clips after the first start
    duration_s: float


def camera_series(settings: DeforumSettings, plan: GenerationPlan) -> CameraSeries:
    keys = list(motion_inputs(settings.animation_mode))
    seconds = np.arange(plan.max_frames) / plan.fps_out
    bounds = tuple(c.start_frame / plan.fps_out for c in plan.clips[1:])
    if not keys:
        return CameraSeries(seconds, {}, bounds, plan.duration_s)
    series = build_schedules(settings, keys).series
    moving = [k for k in keys if float(np.ptp(series[k])) > 0 or float(np.abs(series[k]).max()) > 0]
    values = {k: series[k].astype(float) for k in (moving or keys[:1])}
    return CameraSeries(seconds, values, bounds, plan.duration_s)


def plan_rows(plan: GenerationPlan) -> list[list]:
    return [
        [
            c.index,
            f"{c.start_frame / plan.fps_out:.2f}-{c.end_frame / plan.fps_out:.2f}",
            c.num_frames,
            c.seed,
            c.effective_prompt,
            c.movement,
            c.prompt,
        ]
        for c in plan.clips
    ]


def apply_rows(state: UIState, rows) -> UIState:
    """The table's edits into the plan: a changed 'prompt for WAN' becomes the clip's user_prompt
    (it wins over enhancement and survives re-planning), a changed seed the clip's seed."""
    plan = state.plan_value()
    if plan is None or rows is None:
        return state
    rows = rows.values.tolist() if hasattr(rows, "values") else list(rows)
    if len(rows) != len(plan.clips):
        raise WanWeaveError(f"the table has {len(rows)} rows for {len(plan.clips)} clips", hint="reload the settings")
    clips = []
    for clip, row in zip(plan.clips, rows):
        text, seed = str(row[PROMPT_COL]).strip(), row[SEED_COL]
        if text and text != clip.effective_prompt:
            clip = dataclasses.replace(clip, user_prompt=text, prompt_source="user")
        try:
            seed = int(float(seed))
        except (TypeError, ValueError):
            raise WanWeaveError(f"clip {clip.index}: seed {seed!r} is not a whole number") from None
        if seed != clip.seed:
            if not 0 <= seed < 2**32:
                raise WanWeaveError(f"clip {clip.index}: seed {seed} is outside 0..2^32-1")
            clip = dataclasses.replace(clip, seed=seed)
        clips.append(clip)
    return dataclasses.replace(state, plan=plan_to_dict(dataclasses.replace(plan, clips=tuple(clips))))


def summary(plan: GenerationPlan) -> str:
    return (
        f"**{plan.name}**: {plan.max_frames} frames at {plan.fps_out:g} fps ({plan.duration_s:.2f} s) · "
        f"{len(plan.clips)} clips · {plan.mode} with {plan.model} · {plan.width}x{plan.height} · {plan.steps} steps"
        f" · continuity {plan.continuity.preset}" + ("" if plan.acceleration.plain else " · speed options on")
        + (f" · {plan.post.describe()}" if plan.post != Post() else "")
    )


def progress_text(event: dict) -> str:
    if event.get("event") == "progress":
        eta = f", about {event['eta']:.0f} s left" if event.get("eta") is not None else ""
        return f"clip {event['clip'] + 1}/{event['clips']} · step {event['step']}/{event['steps']}{eta}"
    if event.get("event") == "clip_done":
        return f"clip {event['clip'] + 1}/{event['clips']} done"
    if event.get("event") == "log":
        return event["message"]
    return ""


