"""Benchmark: the cost of joining clips, per output frame, at 832x480 on this CPU.

    python bench/continuity.py [--chunks 4] [--size 832x480]

Synthetic panning texture cut into 41-frame chunks sharing 16 frames (the standard preset's reach),
with drift injected. Prints one JSON object: {"size", "frames", "color_blend_ms_per_frame",
"flow_blend_ms_per_frame", "seam_meter_ms_per_frame", and the same per blended (shared) frame}. Targets: colour + blend <= 25 ms, flow-based
blending <= 60 ms per output frame.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from tests.synthetic_video import chunked, moving
from wan.media.joins import stitch
from wan.media.seams import SeamMeter
from wan.plan.continuity import continuity_from


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=4)
    parser.add_argument("--size", default="832x480")
    args = parser.parse_args(argv)
    w, h = (int(v) for v in args.size.split("x"))
    frames = moving(args.chunks * 25 + 16, h=h, w=w, motion="pan")
    chunks = chunked(frames, 41, 16)[: args.chunks]
    timings = {}
    for name, settings in (
        ("color_blend", continuity_from("standard", blend="linear")),
        ("flow_blend", continuity_from("standard", blend="flow")),
    ):
        start = time.perf_counter()
        out, boundaries, _ = stitch(chunks, 16, settings, anchor=frames[0], log=lambda m: None)
        spent = (time.perf_counter() - start) * 1000
        timings[name] = spent / len(out)
        timings[f"{name}_shared"] = spent / max(1, len(boundaries) * 16)  # per frame two clips share
    start = time.perf_counter()
    meter = SeamMeter(boundaries, frames[0])
    for frame in out:
        meter.add(frame)
    meter.report()
    timings["seam_meter"] = (time.perf_counter() - start) * 1000 / len(out)
    result = {"size": args.size, "frames": len(out)}
    for key, value in timings.items():
        name = f"{key[:-7]}_ms_per_shared_frame" if key.endswith("_shared") else f"{key}_ms_per_frame"
        result[name] = round(value, 2)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
