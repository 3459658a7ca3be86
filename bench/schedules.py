"""Benchmark: evaluate every schedule of a long, math-heavy settings file.

    python bench/schedules.py [--frames 10000] [--runs 7]

Prints one JSON object: {"frames", "keys", "keyframes_per_key", "seconds", "best_seconds", "runs"}.
`seconds` is the median wall time of parsing + evaluating all series, parse cache cleared, (target: < 0.1 s at 10,000
frames on a 2-core machine).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from movement import build_schedules, settings_from_mapping
from movement.expr import clear_cache
from movement.settings import MOTION_KEYS, OPTIONAL_MOTION_KEYS

SCHEDULE_KEYS = ("strength_schedule", "noise_schedule", "cfg_scale_schedule", "fov_schedule", "contrast_schedule")
EXPRESSIONS = (
    "{a}+0.5*sin(2*3.14159*t/{p})",
    "{a}*cos(t/{p})**2+0.01*t/max_f",
    "where(t%{p}<{h}, {a}, -{a})",
    "{a}+abs(sin(t/{p}))*exp(-t/max_f)",
)


def schedule(frames: int, key_index: int, keyframes: int) -> str:
    parts = []
    step = max(1, frames // keyframes)
    for i, frame in enumerate(range(0, frames, step)):
        amp = round(0.2 + 0.1 * ((i + key_index) % 7), 3)
        if i % 2:
            expr = EXPRESSIONS[(i + key_index) % len(EXPRESSIONS)].format(a=amp, p=25 + i, h=12)
            parts.append(f"{frame}: ({expr})")
        else:
            parts.append(f"{frame}: ({amp})")
    return ", ".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--frames", type=int, default=10_000)
    parser.add_argument("--keyframes", type=int, default=40, help="keyframes per schedule")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    keys = (*MOTION_KEYS, *OPTIONAL_MOTION_KEYS, *SCHEDULE_KEYS)
    data = {"max_frames": args.frames, "fps": 30, "animation_mode": "3D", "prompts": {"0": "bench"}}
    data.update({key: schedule(args.frames, i, args.keyframes) for i, key in enumerate(keys)})
    settings = settings_from_mapping(data, source="<bench>")
    times = []
    for _ in range(args.runs):
        clear_cache()  # time parsing too, not only evaluation
        start = time.perf_counter()
        result = build_schedules(settings)
        times.append(time.perf_counter() - start)
    assert len(result.series) >= len(keys)
    print(
        json.dumps(
            {
                "frames": args.frames,
                "keys": len(result.series),
                "keyframes_per_key": args.keyframes,
                "seconds": round(statistics.median(times), 5),
                "best_seconds": round(min(times), 5),
                "runs": args.runs,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
