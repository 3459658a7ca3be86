"""What the tab shows and edits, as pure functions of frozen values (no gradio, no torch).

The tab keeps one immutable `UIState` per browser session; every handler takes the state and the
widgets' values and returns a new state plus what to display.
"""

from __future__ import annotations

import dataclasses
import glob
import os
from dataclasses import dataclass

import cv2
import numpy as np

from movement import build_schedules, load_settings
from movement.errors import SettingsError, WanWeaveError
from movement.motion import motion_inputs
from movement.settings import DeforumSettings
from wan.acceleration_settings import Acceleration, parse_lora
from wan.commands_plan import plan_with_seed
from wan.continuity_settings import continuity_from
from wan.plan import GenerationPlan, PlanOptions
from wan.plan_io import plan_from_dict, plan_to_dict

COLUMNS = ["clip", "time (s)", "frames", "Deforum prompt", "camera", "prompt for WAN (edit me)", "seed"]
DATATYPES = ["number", "str", "number", "str", "str", "str", "number"]
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
    continuity: str = "standard"  # a preset of wan/continuity_settings.py
    attention: str = "native"
    step_cache: str = "none"
    compile: bool = False
    fp8: bool = False
    loras: str = ""  # "path:weight, path:weight"
    distill: str = "none"

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
    plan = plan_with_seed(settings, choices.options())
    return UIState(path, plan_to_dict(plan)), plan, settings


def plan_rows(plan: GenerationPlan) -> list[list]:
    return [
        [
            c.index,
            f"{c.start_frame / plan.fps_out:.2f}-{c.end_frame / plan.fps_out:.2f}",
            c.num_frames,
            c.prompt,
            c.movement,
            c.effective_prompt,
            c.seed,
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
        text, seed = str(row[5]).strip(), row[6]
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
    )


PLOT_W, PLOT_H, MARGIN, TOP, BOTTOM = 720, 240, 30, 34, 50  # TOP clears gradio's label
COLOURS = [(230, 57, 70), (29, 53, 87), (42, 157, 143), (233, 196, 106), (244, 162, 97), (69, 123, 157),
           (131, 56, 236)]  # fmt: skip


def camera_plot(settings: DeforumSettings, plan: GenerationPlan) -> np.ndarray:
    """The camera schedules over time (each scaled to its own range), clip boundaries as grey lines,
    a legend of the keys that move: an RGB image, drawn with OpenCV (no plotting library needed)."""
    keys = [k for k in motion_inputs(settings.animation_mode)]
    image = np.full((PLOT_H, PLOT_W, 3), 255, np.uint8)
    if not keys:
        cv2.putText(image, "no camera motion in this mode", (MARGIN, PLOT_H // 2), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                    (90, 90, 90), 1, cv2.LINE_AA)  # fmt: skip
        return image
    series = build_schedules(settings, keys).series
    n = plan.max_frames
    x = MARGIN + np.arange(n) * (PLOT_W - 2 * MARGIN) / max(1, n - 1)
    for clip in plan.clips[1:]:
        cx = int(MARGIN + clip.start_frame * (PLOT_W - 2 * MARGIN) / max(1, n - 1))
        cv2.line(image, (cx, TOP), (cx, PLOT_H - BOTTOM), (200, 200, 200), 1)
    moving = [k for k in keys if float(np.ptp(series[k])) > 0 or float(np.abs(series[k]).max()) > 0]
    for i, key in enumerate(moving or keys[:1]):
        values = series[key].astype(float)
        lo, hi = float(values.min()), float(values.max())
        span = hi - lo or 1.0
        y = PLOT_H - BOTTOM - (values - lo) / span * (PLOT_H - TOP - BOTTOM) * (1 if hi > lo else 0.5)
        points = np.stack([x, y], axis=1).astype(np.int32).reshape(-1, 1, 2)
        colour = COLOURS[i % len(COLOURS)]
        cv2.polylines(image, [points], False, colour, 2, cv2.LINE_AA)
        cv2.putText(image, key, (MARGIN + 60 + 105 * (i % 5), PLOT_H - 24 + 14 * (i // 5)), cv2.FONT_HERSHEY_SIMPLEX,
                    0.4, colour, 1, cv2.LINE_AA)  # fmt: skip
    cv2.putText(image, "0 s", (MARGIN, PLOT_H - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (90, 90, 90), 1, cv2.LINE_AA)
    cv2.putText(image, f"{plan.duration_s:.1f} s", (PLOT_W - MARGIN - 30, PLOT_H - 30), cv2.FONT_HERSHEY_SIMPLEX, 0.4,
                (90, 90, 90), 1, cv2.LINE_AA)  # fmt: skip
    return image


def progress_text(event: dict) -> str:
    if event.get("event") == "progress":
        eta = f", about {event['eta']:.0f} s left" if event.get("eta") is not None else ""
        return f"clip {event['clip'] + 1}/{event['clips']} · step {event['step']}/{event['steps']}{eta}"
    if event.get("event") == "clip_done":
        return f"clip {event['clip'] + 1}/{event['clips']} done"
    if event.get("event") == "log":
        return event["message"]
    return ""


def queue_rows(root: str) -> list[list]:
    """The persistent queue's jobs for the tab (the same queue `batch` and the API use)."""
    from wan.queue_db import DB_NAME, Queue

    if not os.path.isfile(os.path.join(root, DB_NAME)):
        return []
    queue = Queue(root)
    try:
        return [[j.id, j.name, j.state, j.attempts, len(queue.clips(j.id)), j.error or j.video or ""]
                for j in queue.jobs()]  # fmt: skip
    finally:
        queue.close()
