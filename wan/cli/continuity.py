"""The `seams` and `stitch` commands, and the continuity options of `plan` and `render`."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from wan.media.errors import MediaError
from wan.plan.continuity import BLENDS, COLORS, PRESETS, Continuity, continuity_from
from wan.plan.errors import PlanError


def add_continuity_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("continuity (how clips are joined)")
    g.add_argument("--continuity", choices=list(PRESETS), help="preset: standard (default), fast_motion, slow, off")
    g.add_argument("--blend", choices=BLENDS, help="overlap blend (default: the preset's, flow)")
    g.add_argument("--color", choices=COLORS, help="colour correction at joins (default: lab)")
    g.add_argument("--color-strength", type=float, metavar="S", help="0..1 (default 1)")
    g.add_argument("--anchor", metavar="IMAGE", help="colour anchor image (default: the init image, else frame 0)")
    g.add_argument("--cut", type=int, action="append", metavar="FRAME",
                   help="an intentional cut at this output frame: no colour match or blend there (repeatable)")  # fmt: skip


def continuity_from_args(args: argparse.Namespace) -> Continuity | None:
    values = {k: getattr(args, k, None) for k in ("blend", "color", "color_strength", "anchor")}
    cuts = getattr(args, "cut", None)
    if getattr(args, "continuity", None) is None and not any(v is not None for v in values.values()) and not cuts:
        return None
    try:
        return continuity_from(args.continuity or "standard", **values, cuts=cuts)
    except ValueError as exc:
        raise PlanError(f"continuity: {exc}") from None


def add_continuity_commands(commands: Any) -> None:
    seams = commands.add_parser(
        "seams",
        help="measure how much each clip boundary of a video stands out, and its colour drift",
        description="Per boundary: discontinuity_ratio (flow-compensated difference across the boundary / "
        "median in-clip difference; ~1 is seamless) and delta_e (CIEDE2000 of the mean colour against the anchor).",
    )
    seams.add_argument("video", metavar="VIDEO")
    where = seams.add_mutually_exclusive_group(required=True)
    where.add_argument("--boundaries", metavar="F1,F2,...", help="first frames of the clips after the first")
    where.add_argument("--plan", metavar="PLAN", help="a plan.json: its clip starts are the boundaries")
    seams.add_argument("--anchor", metavar="IMAGE", help="colour anchor (default: the first frame)")
    seams.add_argument("--json", action="store_true", help="print one JSON object")
    seams.set_defaults(handler=run_seams)

    stitch = commands.add_parser(
        "stitch",
        help="join clips that share --overlap frames, with colour matching and blending",
        description="Join existing clips whose neighbours share K frames (the same moments), with the same "
        "continuity machinery as a render; prints the seams of the result.",
    )
    stitch.add_argument("clips", nargs="+", metavar="CLIP.mp4")
    stitch.add_argument("--overlap", type=int, required=True, metavar="K", help="frames each pair of clips shares")
    stitch.add_argument("--blend", choices=BLENDS, default="flow")
    stitch.add_argument("--color", choices=COLORS, default="lab")
    stitch.add_argument("--preset", choices=list(PRESETS), default="standard")
    stitch.add_argument("--anchor", metavar="IMAGE", help="colour anchor (default: the first clip's first frame)")
    stitch.add_argument("--out", required=True, metavar="OUT.mp4")
    stitch.add_argument("--json", action="store_true", help="print the seams as JSON")
    stitch.set_defaults(handler=run_stitch)


def _read_image(path: str | None):
    if not path:
        return None
    import cv2

    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        raise MediaError("not a readable image", where=path)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def _fit(image, frame):
    from wan.engine.images import cover

    return None if image is None else cover(image, frame.shape[1], frame.shape[0])


def _print_seams(report: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(report))
        return
    print(f"median in-clip step: {report['median_in_clip']:.3f} grey levels")
    for row in report["boundaries"]:
        print(
            f"frame {row['frame']:>6}  discontinuity ratio {row['discontinuity_ratio']:6.2f}  ΔE {row['delta_e']:5.2f}"
        )


def run_seams(args: argparse.Namespace) -> int:
    from wan.media.seams import measure
    from wan.media.video import read_frames

    frames, _ = read_frames(args.video)
    if args.plan:
        from wan.plan.plan_json import read_plan

        boundaries = [c.start_frame for c in read_plan(args.plan).clips[1:]]
    else:
        try:
            boundaries = [int(b) for b in args.boundaries.split(",") if b.strip()]
        except ValueError:
            raise PlanError(f"--boundaries {args.boundaries!r}: frame numbers separated by commas") from None
    bad = [b for b in boundaries if not 0 < b < len(frames)]
    if bad:
        raise PlanError(f"boundaries {bad} are outside the video's frames 1..{len(frames) - 1}", where=args.video)
    _print_seams(measure(frames, boundaries, _fit(_read_image(args.anchor), frames[0])), args.json)
    return 0


def run_stitch(args: argparse.Namespace) -> int:
    from wan.media.joins import stitch
    from wan.media.seams import measure
    from wan.media.video import VideoSpec, read_frames, write_mp4

    clips, fps = [], None
    for path in args.clips:
        frames, clip_fps = read_frames(path)
        if clips and frames[0].shape != clips[0][0].shape:
            raise MediaError(
                f"size {frames[0].shape[1]}x{frames[0].shape[0]} differs from the first clip's", where=path
            )
        if len(frames) <= args.overlap:
            raise MediaError(f"{len(frames)} frames: not more than --overlap {args.overlap}", where=path)
        clips.append(frames)
        fps = fps or clip_fps
    settings = continuity_from(args.preset, blend=args.blend, color=args.color)
    anchor = _fit(_read_image(args.anchor), clips[0][0])
    frames, boundaries, joins = stitch(clips, max(0, args.overlap), settings, anchor, log=lambda m: None)
    h, w = frames[0].shape[:2]
    write_mp4(iter(frames), args.out, VideoSpec(w, h, fps), expected_frames=len(frames))
    report = {**measure(frames, boundaries, anchor), "joins": joins, "video": os.path.abspath(args.out),
              "frames": len(frames)}  # fmt: skip
    _print_seams(report, args.json)
    if not args.json:
        print(f"video: {args.out} ({len(frames)} frames at {fps:g} fps)")
    return 0
