"""`python -m wan post VIDEO`: interpolate to a new frame rate, upscale and grade a finished video."""

from __future__ import annotations

import argparse
import os
from typing import Any

from wan.media.video import PRESETS
from wan.plan.post import Post, parse_post
from wan.plan.profiles import PROFILES


def add_post_command(commands: Any) -> None:
    p = commands.add_parser(
        "post",
        help="finish a video: frames at a new rate by interpolation, upscale, grade (resumable)",
        description="Run the post block (docs/post.md) on a finished video: a render's, or any other. Written in "
        "parts of a few seconds; run again after a stop and the finished parts are kept.",
    )
    p.add_argument("video", metavar="VIDEO")
    p.add_argument("--post", metavar="KEY=VALUE,...", default="",
                   help="interpolate=opencv|blend|nearest, upscale=FILE, contrast=, saturation=, brightness=, sharpen=")  # fmt: skip
    p.add_argument("--fps", type=float, help="frame rate of the result (default: the video's)")
    p.add_argument("--out", metavar="FILE", help="the result (default: VIDEO_post.mp4 beside it)")
    p.add_argument("--models", metavar="DIR", help="models folder with upscale/ (default: $WAN_WEAVE_MODELS)")
    p.add_argument("--profile", choices=("auto", *PROFILES), default="auto", help="memory profile: the upscaler's tiles")
    p.add_argument("--crf", type=int, default=18, help="H.264 quality, 0..51 (default 18)")
    p.add_argument("--preset", choices=PRESETS, default="medium", help="x264 speed preset (default medium)")
    p.set_defaults(handler=run_post)


def run_post(args: argparse.Namespace) -> int:
    from wan.cli.errors import UsageError
    from wan.render.post_video import post_video

    if args.fps is not None and not 1 <= args.fps <= 240:
        raise UsageError(f"--fps must be in 1..240, got {args.fps}")
    if not 0 <= args.crf <= 51:
        raise UsageError(f"--crf must be in 0..51, got {args.crf}")
    post = parse_post(args.post, base=Post())
    out = args.out or f"{os.path.splitext(args.video)[0]}_post.mp4"
    done = post_video(args.video, out, post, args.fps, args.models, args.profile, args.crf, args.preset)
    print(f"video: {out} ({done['frames']} frames at {done['fps']:g} fps, {done['width']}x{done['height']}; "
          f"frames between: {done['interpolator']}, upscaler: {done['upscaler'] or 'none'})")  # fmt: skip
    return 0
