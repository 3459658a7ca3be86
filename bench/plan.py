"""Benchmark: plan a 10,000-frame film, and the preview engine's throughput.

    python bench/plan.py [--frames 10000] [--preview-frames 120]

Prints one JSON object: {"frames", "clips", "plan_seconds", "preview_width", "preview_height",
"preview_frames", "preview_fps", "preview_encode_fps"}. Targets: plan < 0.05 s (2-core machine);
preview_fps is frames warped per second at 832x480, preview_encode_fps includes H.264 encoding.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from movement import settings_from_mapping
from movement.expr import clear_cache
from wan.plan.build import PlanOptions, build_plan


def film(frames: int) -> dict:
    prompts = {str(f): f"scene {i}, a lighthouse in a storm" for i, f in enumerate(range(0, frames, 150))}
    return {
        "max_frames": frames,
        "fps": 24,
        "animation_mode": "3D",
        "W": 832,
        "H": 480,
        "seed": 42,
        "seed_behavior": "iter",
        "prompts": prompts,
        "translation_z": "0: (1.5), 600: (0.5+0.5*sin(t/50))",
        "rotation_3d_y": "0: (0), 300: (0.4), 900: (-0.4), 1500: (0.2*cos(t/30))",
        "translation_x": "0: (0), 2000: (1.2), 4000: (-1)",
        "strength_schedule": "0: (0.6), 5000: (0.5)",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--preview-frames", type=int, default=120)
    args = parser.parse_args(argv)
    settings = settings_from_mapping(film(args.frames), source="bench.txt")
    times = []
    for _ in range(args.runs):
        clear_cache()
        start = time.perf_counter()
        plan = build_plan(settings, PlanOptions())
        times.append(time.perf_counter() - start)

    from wan.engine.preview import PreviewEngine
    from wan.media.video import VideoSpec, write_mp4

    short = settings_from_mapping({**film(args.preview_frames)}, source="bench.txt")
    small_plan = build_plan(short, PlanOptions())
    engine = PreviewEngine(small_plan, short, captions=True)
    start = time.perf_counter()
    frames = [engine.frame_at(f) for f in range(args.preview_frames)]
    warp_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        write_mp4(
            iter(frames), os.path.join(tmp, "b.mp4"), VideoSpec(small_plan.width, small_plan.height, 24, 18, "medium")
        )
        encode_s = time.perf_counter() - start
    print(
        json.dumps(
            {
                "frames": args.frames,
                "clips": len(plan.clips),
                "plan_seconds": round(statistics.median(times), 5),
                "preview_width": small_plan.width,
                "preview_height": small_plan.height,
                "preview_frames": args.preview_frames,
                "preview_fps": round(args.preview_frames / warp_s, 1),
                "preview_encode_fps": round(args.preview_frames / (warp_s + encode_s), 1),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
