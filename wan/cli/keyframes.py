"""`python -m wan keyframes SETTINGS`: one image per prompt keyframe (and wherever two would lie
further apart than one FLF2V clip), written as Deforum Guided Images settings that
`render --mode flf2v_keyframes` animates. Replace any image by hand and render again; run the
command again and the images whose prompt, seed and size did not change are kept."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any


def add_keyframes_command(commands: Any) -> None:
    p = commands.add_parser(
        "keyframes",
        help="make a keyframe image per prompt key (Wan as text-to-image, or an SD/SDXL/Flux folder) as "
        "Guided Images settings for flf2v_keyframes",
        description="Make the keyframe images of a settings file and write <out>/<name>_keyframes.txt: the "
        "settings with Deforum's Guided Images (use_looper, init_images) pointing at them. With --render, "
        "animate between them at once (render --mode flf2v_keyframes).",
    )
    p.add_argument("settings", metavar="SETTINGS", help="Deforum settings file (e.g. one `storyboard` wrote)")
    add_keyframe_options(p)
    p.set_defaults(handler=run_keyframes)


def add_keyframe_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("keyframe options")
    g.add_argument("--out", metavar="DIR", help="folder for the images and settings (default: outputs/<name>-keyframes)")
    g.add_argument("--models", metavar="DIR", help="models folder (default: $WAN_WEAVE_MODELS)")
    g.add_argument("--weights", metavar="PATH", help="the Wan T2V folder or file to paint with")
    g.add_argument("--image-model", metavar="NAME", help="a diffusers text-to-image folder under <models>/image/ "
                   "(SD, SDXL, Flux) instead of the Wan model")  # fmt: skip
    g.add_argument("--width", type=int, metavar="W", help="image width (default: the FLF2V render's)")
    g.add_argument("--height", type=int, metavar="H", help="image height (with --width)")
    g.add_argument("--steps", type=int, default=30, help="denoising steps per image, and per clip with --render "
                   "(default 30)")  # fmt: skip
    g.add_argument("--guidance", type=float, default=5.0, help="guidance scale (default 5)")
    g.add_argument("--keep", type=float, default=0.35, help="share of the previous keyframe kept in the next one "
                   "(image-to-image; 0: each from its prompt alone; default 0.35)")  # fmt: skip
    g.add_argument("--seed", type=int, metavar="N", help="base seed (default: the settings' seed)")
    g.add_argument("--render", action="store_true", help="then render the film between them (flf2v_keyframes)")
    g.add_argument("--post", metavar="KEY=VALUE,...", help="with --render: finishing, as for render --post")


def run_keyframes(args: argparse.Namespace) -> int:
    settings_path = make_keyframes(args.settings, args)
    if args.render:
        return render_keyframes(settings_path, args)
    print(f"animate them: python -m wan render {settings_path} --mode flf2v_keyframes --engine wan")
    return 0


def make_keyframes(settings_file: str, args: argparse.Namespace) -> str:
    from wan.render.keyframes import KeyframeRequest
    from wan.render.keyframes import make_keyframes as paint

    name = os.path.splitext(os.path.basename(settings_file))[0]
    req = KeyframeRequest(settings_file, args.out or os.path.join("outputs", f"{name}-keyframes"), args.models,
                          args.weights, args.image_model, args.width, args.height, args.steps, args.guidance,
                          args.keep, args.seed)  # fmt: skip
    target = paint(req, lambda m: print(m, file=sys.stderr))
    print(f"keyframes in {os.path.join(req.out, 'keyframes')}; settings: {target}")
    return target


def render_keyframes(settings_path: str, args: argparse.Namespace) -> int:
    from wan.cli.main import main

    argv = ["render", settings_path, "--mode", "flf2v_keyframes", "--engine", "wan",
            "--out", os.path.join(os.path.dirname(settings_path), "film")]  # fmt: skip
    for flag, value in (("--models", args.models), ("--post", args.post), ("--width", args.width),
                        ("--height", args.height), ("--seed", args.seed), ("--steps", args.steps)):  # fmt: skip
        if value is not None:
            argv += [flag, str(value)]
    return main(argv)
