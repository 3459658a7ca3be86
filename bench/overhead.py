"""Benchmark: how much of a WAN render is not the model (tiny random models, CPU).

    python bench/overhead.py [--clips 6] [--steps 4]

Prints one JSON object: {"clips", "frames", "size", "steps", "total_seconds", "pipeline_seconds",
"loading_seconds", "overhead_fraction", "overhead_fraction_without_loading"}. `overhead_fraction` =
(total - pipeline calls) / total, where total excludes building the tiny models but includes loading
them, resampling, encoding and writing; the second figure leaves the one-off load out.
Target: <= 0.03 with real models. Tiny models make each call so cheap that this figure is an upper
bound: the fixed costs (load, encode) weigh far more against them than against a real model.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from movement import settings_from_mapping
from wan.plan.build import PlanOptions, build_plan
from wan.render.request import RenderOptions
from wan.render.runner import render


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clips", type=int, default=6)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--size", default="64x48")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.split("x"))
    from wan.testing.tiny_models import make_tiny_t2v

    with tempfile.TemporaryDirectory() as tmp:
        make_tiny_t2v(os.path.join(tmp, "models", "wan2.1-t2v-tiny"))
        fps, per_clip = 16, 80
        settings = settings_from_mapping(
            {
                "max_frames": args.clips * per_clip,
                "fps": fps,
                "animation_mode": "3D",
                "seed": 1,
                "prompts": {str(i * per_clip): f"a lighthouse, scene {i}" for i in range(args.clips)},
                "translation_z": "0: (1)",
            },
            source=os.path.join(tmp, "bench.txt"),
        )
        # One 81-frame clip per prompt (no carried frames), as the overhead was defined.
        plan = build_plan(settings, PlanOptions(mode="t2v", overlap=0, width=width, height=height, steps=args.steps))
        options = RenderOptions(engine="wan", preset="ultrafast", models_dir=os.path.join(tmp, "models"))
        start = time.perf_counter()
        result = render(plan, os.path.join(tmp, "out"), options, log=lambda m: None)
        total = time.perf_counter() - start
        with open(result.manifest) as fh:
            manifest = json.load(fh)
    pipeline, loading = manifest["seconds_in_pipeline"], manifest["seconds_loading"]
    print(
        json.dumps(
            {
                "clips": len(plan.clips),
                "frames": plan.max_frames,
                "size": args.size,
                "steps": args.steps,
                "total_seconds": round(total, 3),
                "pipeline_seconds": pipeline,
                "loading_seconds": loading,
                "overhead_fraction": round((total - pipeline) / total, 4),
                "overhead_fraction_without_loading": round((total - pipeline - loading) / total, 4),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
