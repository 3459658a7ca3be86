"""The `adherence` command: how closely a video follows the settings' camera."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

LABELS = {"x": "x", "y": "y", "scale": "scale", "roll": "roll"}


def add_adherence_command(commands: Any) -> None:
    p = commands.add_parser(
        "adherence",
        help="measure how closely a video follows the camera of its Deforum settings",
        description=(
            "Fit the image motion of every frame step of VIDEO (optical flow, a similarity per step) and "
            "compare it with the camera step SETTINGS schedules: per component (x, y, scale, roll) the "
            "correlation and the gain (1: as scheduled, 0: static, 0.5: half as far). Frame i of the "
            "video is Deforum frame i, so the video must have max_frames frames."
        ),
    )
    p.add_argument("video", metavar="VIDEO", help="the video (mp4 or anything OpenCV reads)")
    p.add_argument("settings", metavar="SETTINGS", help="Deforum settings file (.txt or .json)")
    p.add_argument("--sample", type=int, default=1, metavar="N", help="measure every N-th step (default 1: all)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=run_adherence)


def _number(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def format_report(report: dict) -> list[str]:
    lines = [f"{report['steps']} steps measured, {report['unmeasured']} unmeasured"]
    for name, label in LABELS.items():
        row = report[name]
        unit = row.get("unit", "")
        totals = f"scheduled {row['scheduled']:g} {unit}, measured {row['measured']:g} {unit}"
        if row.get("note"):
            lines.append(f"{label:<6} {row['note']:<32} {totals}")
        else:
            figures = f"gain {_number(row['gain'])}  correlation {_number(row['correlation'])}"
            lines.append(f"{label:<6} {figures:<32} {totals}")
    return lines


def run_adherence(args: argparse.Namespace) -> int:
    from wan.cli.errors import UsageError
    from wan.media.adherence import adherence_of_video

    if args.sample < 1:
        raise UsageError(f"--sample must be at least 1, got {args.sample}")
    report = adherence_of_video(args.video, args.settings, sample=args.sample)
    if args.json:
        print(json.dumps(report, allow_nan=False))
        return 0
    print(f"{os.path.basename(args.video)}: {report['width']}x{report['height']}")
    for line in format_report(report):
        print(line)
    return 0
