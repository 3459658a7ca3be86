"""Benchmark: the camera guide. How fast it renders, and how closely it follows the schedule.

    python bench/guide.py [--size 832x480] [--frames 33] [--skip-examples]

Prints one JSON object:
- "speed": guide frames per second at --size, for 2D, 3D at flat depth and 3D with a depth map
  (a synthetic near-to-far ramp; the depth model's own time is not included);
- "synthetic": per schedule (pure pans, tilts, zooms, rolls, dollies, orbits, 2D and 3D), the
  guide's adherence (gain and correlation per component) over 40 film frames, the guide drawn at
  16 fps model times in a 24 fps film and measured at the frames that land on whole film frames;
- "examples": per example settings file, the guide film a guided render would make (each clip's
  guide from the previous clip's carried frame, a test card to start), measured on the output's
  frames exactly as a render's manifest measures it.
Targets (issue [J]): 2D gain 0.95..1.05 and correlation >= 0.99 on every scheduled component.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import cv2
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from movement import build_schedules, load_settings, settings_from_mapping
from movement.camera import CameraPath
from tests.synthetic_video import texture
from wan.engine.preview import test_card
from wan.engine.wan_engine import carried_frame_indices
from wan.media.adherence import AdherenceMeter
from wan.media.guide import model_times, render_guide
from wan.plan.build import PlanOptions, build_plan
from wan.render.meters import FilmMeters

EXAMPLES = ("greenhouse_2d.txt", "harbor_3d.txt", "lighthouse_init.txt")
FLAT_3D = {"translation_x": "0: (0)", "translation_y": "0: (0)", "translation_z": "0: (0)"}
SYNTHETIC = {
    "2d_pan_x": ("2D", {"translation_x": "0: (0), 30: (4)", "zoom": "0: (1)"}),
    "2d_pan_y": ("2D", {"translation_y": "0: (3), 30: (-2)", "zoom": "0: (1)"}),
    "2d_zoom": ("2D", {"zoom": "0: (1.0), 30: (1.03)"}),
    "2d_roll": ("2D", {"angle": "0: (0), 30: (1.5)", "zoom": "0: (1)"}),
    "2d_combined": ("2D", {"translation_x": "0: (2), 30: (-2)", "zoom": "0: (1.0), 30: (1.02)", "angle": "0: (0.5)"}),
    "3d_truck": ("3D", {"translation_x": "0: (0), 30: (6)"}),
    "3d_pedestal": ("3D", {"translation_y": "0: (0), 30: (5)"}),
    "3d_dolly": ("3D", {"translation_z": "0: (0), 30: (6)"}),
    "3d_pan": ("3D", {"rotation_3d_y": "0: (0), 30: (0.8)"}),
    "3d_roll": ("3D", {"rotation_3d_z": "0: (0), 30: (1.5)"}),
    "3d_orbit": ("3D", {"rotation_3d_y": "0: (0.6)", "translation_x": "0: (-4)"}),
}


def _settings(mode: str, w: int, h: int, frames: int, schedule: dict):
    return settings_from_mapping({"max_frames": frames, "animation_mode": mode, "W": w, "H": h, "fps": 24,
                                  "prompts": {"0": "a"}, **(FLAT_3D if mode == "3D" else {}), **schedule})  # fmt: skip


def speed(w: int, h: int, frames: int) -> dict:
    start = cv2.resize(texture(h, w, seed=1), (w, h), interpolation=cv2.INTER_AREA)
    times = model_times(0, 0, frames, 24.0, 16.0)
    ramp = np.tile(np.linspace(1.0, 2.0, w), (h, 1))
    out = {}
    for name, mode, depth in (("2d", "2D", None), ("3d_flat", "3D", None), ("3d_depth", "3D", ramp)):
        schedule = {"translation_x": "0: (2)", "zoom": "0: (1.01)", "translation_z": "0: (1)"}
        path = CameraPath(build_schedules(_settings(mode, w, h, frames * 2, schedule)))
        began = time.perf_counter()
        render_guide(path, start, 0.0, times, depth)
        out[f"{name}_fps"] = round(frames / (time.perf_counter() - began), 2)
    return out


def synthetic(w: int, h: int) -> dict:
    n, fps_out, fps_model = 40, 24.0, 16.0
    start = cv2.resize(texture(h, w, seed=3), (w, h), interpolation=cv2.INTER_AREA)
    out = {}
    for name, (mode, schedule) in SYNTHETIC.items():
        path = CameraPath(build_schedules(_settings(mode, w, h, n, schedule)))
        times = model_times(0, 0, int(n * fps_model / fps_out) + 2, fps_out, fps_model)
        guide = render_guide(path, start, 0.0, times)
        exact = [k for k, t in enumerate(times) if abs(t - round(t)) < 1e-9 and round(t) < n]
        steps = {i + 1: path.matrix_between(times[a], times[b]) for i, (a, b) in enumerate(zip(exact, exact[1:]))}
        meter = AdherenceMeter(lambda i, steps=steps: steps[i], w, h)
        for k in exact:
            meter.add(guide.frames[k])
        out[name] = _brief(meter.report())
    return out


def guide_film(path: str) -> dict:
    """The guides a guided render of the example would hand the model, chained through carried
    frames, measured as a render's manifest measures them."""
    settings = load_settings(path)
    plan = build_plan(settings, PlanOptions(mode="v2v_guide", seed=1))
    camera = CameraPath(build_schedules(settings), plan.width, plan.height)
    meters = FilmMeters(plan, settings, None)
    previous = None
    for clip in plan.clips:
        times = model_times(clip.start_frame, clip.overlap, clip.num_frames, plan.fps_out, plan.fps_model)
        if previous is None:
            carried, start, t0 = [], test_card(plan.width, plan.height), float(clip.start_frame)
        else:
            prev_clip, frames = previous
            picks = carried_frame_indices(prev_clip, clip, plan.fps_out, plan.fps_model, clip.overlap)
            carried = [frames[k] for k in picks]
            start, t0 = carried[-1], times[clip.overlap - 1]
        guide = render_guide(camera, start, t0, times[len(carried) :])
        frames = [*carried, *guide.frames]
        meters.add_clip(clip, frames, frames)
        previous = (clip, frames)
    report = meters.report()
    return {"mode": settings.animation_mode, "size": f"{plan.width}x{plan.height}", "clips": len(plan.clips),
            **_brief(report["guide"])}  # fmt: skip


def _brief(report: dict) -> dict:
    return {c: {"gain": report[c]["gain"], "correlation": report[c]["correlation"]}
            for c in ("x", "y", "scale", "roll") if report[c]["gain"] is not None}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="832x480")
    parser.add_argument("--frames", type=int, default=33)
    parser.add_argument("--skip-examples", action="store_true")
    args = parser.parse_args(argv)
    w, h = (int(v) for v in args.size.split("x"))
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples")
    result = {"size": args.size, "speed": speed(w, h, args.frames), "synthetic": synthetic(w, h)}
    if not args.skip_examples:
        result["examples"] = {name: guide_film(os.path.join(root, name)) for name in EXAMPLES}
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
