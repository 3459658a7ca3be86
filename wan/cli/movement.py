"""The `schedules` and `describe` commands: Deforum settings in, JSON or a table out."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from movement import analyze, build_prompt_schedule, build_schedules, load_settings
from movement.errors import WanWeaveError
from movement.motion import fixed_ranges, motion_inputs
from movement.settings import DeforumSettings
from wan.cli.args import settings_command

RANGE_MODES = ("auto", "prompts", "whole")


def add_movement_commands(commands: Any) -> None:
    settings_command(
        commands,
        "schedules",
        help="evaluate every schedule of a Deforum settings file, frame by frame",
        description="Evaluate every motion and *_schedule key exactly as Deforum does.",
        handler=run_schedules,
    )
    desc = settings_command(
        commands,
        "describe",
        help="describe the camera movement of a Deforum settings file in words",
        description="Describe the camera movement frame range by frame range.",
        handler=run_describe,
    )
    desc.add_argument("--lang", choices=("en", "zh"), default="en", help="language of the descriptions")
    desc.add_argument(
        "--ranges",
        default="auto",
        type=_ranges_arg,
        help="auto (where the movement changes, default), prompts (one per prompt), whole, or N (chunks of N frames)",
    )


class RangeArgError(WanWeaveError):
    pass


def _ranges_arg(value: str) -> str | int:
    if value in RANGE_MODES:
        return value
    try:
        size = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid value {value!r}: use auto, prompts, whole or a frame count"
        ) from None
    if size < 1:
        raise argparse.ArgumentTypeError(f"frame count must be at least 1, got {size}")
    return size


def _dump(obj: Any) -> None:
    json.dump(obj, sys.stdout, ensure_ascii=False, allow_nan=False)
    sys.stdout.write("\n")


def run_schedules(args: argparse.Namespace) -> int:
    settings = load_settings(args.settings)
    schedules = build_schedules(settings)
    prompts = build_prompt_schedule(settings).keyframes()
    if args.json:
        _dump(
            {
                "max_frames": settings.max_frames,
                "fps": settings.fps,
                "animation_mode": settings.animation_mode,
                "series": {k: v.tolist() for k, v in schedules.series.items()},
                "text_series": {k: list(v) for k, v in schedules.text_series.items()},
                "prompts": [{"frame": p.frame, "positive": p.positive, "negative": p.negative} for p in prompts],
                "defaults_used": list(settings.defaults_used),
            }
        )
        return 0
    print(_headline(settings))
    width = max(len(k) for k in schedules.series)
    print(f"{'key':<{width}}  {'frame 0':>10}  {'last':>10}  {'min':>10}  {'max':>10}")
    for key, values in schedules.series.items():
        print(f"{key:<{width}}  {values[0]:>10.4g}  {values[-1]:>10.4g}  {values.min():>10.4g}  {values.max():>10.4g}")
    for p in prompts:
        neg = f"  --neg {p.negative}" if p.negative else ""
        print(f"prompt @ {p.frame}: {p.positive}{neg}")
    _note_defaults(settings)
    return 0


def run_describe(args: argparse.Namespace) -> int:
    settings = load_settings(args.settings)
    schedules = build_schedules(settings, keys=motion_inputs(settings.animation_mode))
    if args.ranges == "auto":
        ranges = None
    elif args.ranges == "whole":
        ranges = ((0, settings.max_frames),)
    elif args.ranges == "prompts":
        prompt_ranges = build_prompt_schedule(settings).ranges()
        ranges = tuple((r.start_frame, r.end_frame) for r in prompt_ranges) or ((0, settings.max_frames),)
    else:
        ranges = fixed_ranges(settings.max_frames, args.ranges)
    analysis = analyze(schedules, ranges)
    fps = settings.fps
    if args.json:
        _dump(
            {
                "fps": fps,
                "max_frames": settings.max_frames,
                "animation_mode": settings.animation_mode,
                "lang": args.lang,
                "segments": [
                    {
                        "start_frame": s.start_frame,
                        "end_frame": s.end_frame,
                        "start_s": round(s.start_frame / fps, 6),
                        "end_s": round(s.end_frame / fps, 6),
                        "movements": [
                            {
                                "type": m.type,
                                "intensity": m.intensity,
                                "duration": m.duration,
                                "rate": m.rate,
                                "unit": m.unit,
                            }
                            for m in s.movements
                        ],
                        "description": s.description(args.lang),
                        "motion_strength": s.motion_strength,
                    }
                    for s in analysis.segments
                ],
                "defaults_used": _motion_defaults(settings),
            }
        )
        return 0
    print(_headline(settings))
    for s in analysis.segments:
        span = f"frames {s.start_frame:>5}-{s.end_frame - 1:<5} {s.start_frame / fps:7.2f}-{s.end_frame / fps:.2f} s"
        print(f"{span}  {s.description(args.lang)}  [motion {s.motion_strength:.2f}]")
    _note_defaults(settings)
    return 0


def _headline(settings: DeforumSettings) -> str:
    name = os.path.basename(settings.source)
    return (
        f"{name}: {settings.animation_mode}, {settings.max_frames} frames at {settings.fps:g} fps "
        f"({settings.duration_s:.2f} s), {settings.width}x{settings.height}"
    )


def _motion_defaults(settings: DeforumSettings) -> list[str]:
    inputs = set(motion_inputs(settings.animation_mode)) | {"fps", "max_frames", "animation_mode"}
    return [k for k in settings.defaults_used if k in inputs]


def _note_defaults(settings: DeforumSettings) -> None:
    missing = _motion_defaults(settings)
    if missing:
        print(f"note: not in the file, Deforum's defaults used for: {', '.join(missing)}")
