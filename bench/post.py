"""Benchmark: post-processing of model frames. Interpolation to the film's rate, and upscaling.

    python bench/post.py [--size 832x480] [--frames 17] [--fps-model 16] [--fps-out 30]
                         [--skip-upscale] [--device cpu] [--upscale-frames 4]

Prints one JSON object:
- "interpolation": output frames per second when --frames model frames at --fps-model become
  --fps-out output frames at --size (every output frame counted, flow time included), for the
  optical-flow interpolator ("opencv-dis") and a crossfade ("blend");
- "quality": per synthetic scene with known motion ("pan", "zoom", "pan_object": a pan with a
  square moving against it), the model frames drawn at the model's times and each output frame
  compared with the scene drawn directly at its time: PSNR in dB, mean and min over the in-between
  output frames (those not on a whole model frame), for "opencv-dis", "blend" and "nearest" (the
  nearest model frame, as renders picked frames before the post block);
- "upscale": frames per second of the upscaler (wan/media/upscale.py) from --size to 2x, with the
  tiny random ESRGAN (wan/testing/tiny_upscaler.py) on --device; left out with --skip-upscale.
Motions scale with the frame width, so a small --size sees the same scenes in fewer pixels.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

import cv2
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from movement.errors import WanWeaveError
from tests.synthetic_video import texture
from wan.media.interpolate import WHOLE, make_interpolator, resample

NAMES = ("opencv-dis", "blend", "nearest")
PAN = (0.008, 0.0025)  # per model frame, in frame widths: 6.7 x 2.1 px at 832x480
ZOOM = 1.006  # per model frame: Deforum's zoom 1.004 per frame at 24 fps
TILE = 256  # the upscaler's default tile
SQUARE = 0.02  # the square's speed per model frame, in frame widths, against the pan


def scenery(w: int, h: int, seed: int) -> np.ndarray:
    """A (2h, 2w) texture with detail at two scales: the coarse blobs alone are too easy to match."""
    rng = np.random.default_rng(seed)
    grain = rng.random((max(2, 2 * h // 3), max(2, 2 * w // 3), 3))
    fine = cv2.resize(grain, (2 * w, 2 * h), interpolation=cv2.INTER_CUBIC)
    return np.clip(0.6 * texture(h, w, seed) + fine * 110 - 10, 0, 255).astype(np.uint8)


class Scene:
    """A frame of a synthetic scene at any fractional model-frame time."""

    def __init__(self, kind: str, w: int, h: int) -> None:
        self.kind, self.w, self.h = kind, w, h
        self.ground, self.thing = scenery(w, h, 1), scenery(w, h, 5)
        self.side = max(4, h // 4)

    def at(self, time: float) -> np.ndarray:
        w, h = self.w, self.h
        scale = ZOOM**time if self.kind == "zoom" else 1.0
        speed = 0.5 if self.kind == "pan_object" else (0.0 if self.kind == "zoom" else 1.0)
        m = cv2.getRotationMatrix2D((w, h), 0.0, scale)  # about the texture's centre
        m[0, 2] -= w / 2 + speed * PAN[0] * w * time
        m[1, 2] -= h / 2 + speed * PAN[1] * w * time
        frame = cv2.warpAffine(self.ground, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        if self.kind != "pan_object":
            return frame
        s = self.side
        place = np.float32([[1, 0, 0.85 * w - s - SQUARE * w * time], [0, 1, 0.4 * h]])
        mask = cv2.warpAffine(np.ones((s, s), np.float32), place, (w, h), flags=cv2.INTER_LINEAR)[..., None]
        square = cv2.warpAffine(self.thing[:s, :s], place, (w, h), flags=cv2.INTER_LINEAR)
        return (frame * (1 - mask) + square * mask + 0.5).astype(np.uint8)


def output_times(frames: int, fps_model: float, fps_out: float) -> list[float]:
    """Model-frame time of every output frame that lies within the model frames."""
    count = int((frames - 1) * fps_out / fps_model + WHOLE) + 1
    return [f * fps_model / fps_out for f in range(count)]


def between(times: list[float]) -> list[int]:
    return [k for k, t in enumerate(times) if abs(t - round(t)) > WHOLE]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 10 * float(np.log10(255.0**2 / max(mse, 1e-10)))


def interpolation(w: int, h: int, frames: int, fps_model: float, fps_out: float) -> dict:
    scene = Scene("pan", w, h)
    model = [scene.at(k) for k in range(frames)]
    times = output_times(frames, fps_model, fps_out)
    out = {"output_frames": len(times), "in_between": len(between(times))}
    for name in ("opencv-dis", "blend"):
        began = time.perf_counter()
        resample(model, times, make_interpolator(name))
        out[f"{name}_fps"] = round(len(times) / (time.perf_counter() - began), 2)
    return out


def quality(w: int, h: int, frames: int, fps_model: float, fps_out: float) -> dict:
    times = output_times(frames, fps_model, fps_out)
    picks = between(times)
    out = {}
    for kind in ("pan", "zoom", "pan_object"):
        scene = Scene(kind, w, h)
        model = [scene.at(k) for k in range(frames)]
        truth = [scene.at(times[k]) for k in picks]
        out[kind] = {}
        for name in NAMES:
            made = resample(model, [times[k] for k in picks], make_interpolator(name))
            scores = [psnr(a, b) for a, b in zip(made, truth)]
            out[kind][name] = {"mean": round(float(np.mean(scores)), 2), "min": round(min(scores), 2)}
    return out


def upscale(w: int, h: int, count: int, device: str) -> dict:
    from wan.media.upscale import Upscaler
    from wan.testing.tiny_upscaler import TINY_UPSCALER, make_tiny_upscaler

    frames = [Scene("pan", w, h).at(k) for k in range(count + 1)]
    with tempfile.TemporaryDirectory() as folder:
        path = make_tiny_upscaler(os.path.join(folder, f"{TINY_UPSCALER}.safetensors"), scale=2)
        upscaler = Upscaler(path, device=device, tile=TILE)
        first = upscaler.upscale(frames[0])  # the first call pays for allocations, not frames
        began = time.perf_counter()
        for frame in frames[1:]:
            upscaler.upscale(frame)
        seconds = time.perf_counter() - began
    return {"model": TINY_UPSCALER, "device": device, "scale": upscaler.scale, "tile": TILE,
            "out_size": f"{first.shape[1]}x{first.shape[0]}", "fps": round(count / seconds, 3)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="832x480")
    parser.add_argument("--frames", type=int, default=17, help="model frames per case")
    parser.add_argument("--fps-model", type=float, default=16.0)
    parser.add_argument("--fps-out", type=float, default=30.0)
    parser.add_argument("--skip-upscale", action="store_true")
    parser.add_argument("--device", default="cpu", help="the upscaler's torch device")
    parser.add_argument("--upscale-frames", type=int, default=4)
    args = parser.parse_args(argv)
    w, h = (int(v) for v in args.size.split("x"))
    if args.frames < 2:
        parser.error("--frames must be at least 2")
    result = {"size": args.size, "frames": args.frames, "fps_model": args.fps_model, "fps_out": args.fps_out,
              "interpolation": interpolation(w, h, args.frames, args.fps_model, args.fps_out),
              "quality": quality(w, h, args.frames, args.fps_model, args.fps_out)}  # fmt: skip
    if not args.skip_upscale:
        try:
            result["upscale"] = upscale(w, h, max(1, args.upscale_frames), args.device)
        except WanWeaveError as e:
            print(f"upscale: {e}", file=sys.stderr)
            return 2
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
