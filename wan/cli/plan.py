"""The `plan` and `render` commands."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from typing import Any

from movement import load_settings
from wan.cli.args import settings_command
from wan.cli.continuity import add_continuity_options, continuity_from_args
from wan.cli.enhance import add_enhance_option, cache_folder
from wan.cli.speed import acceleration_from_args, add_speed_options
from wan.media.video import PRESETS
from wan.plan.build import GenerationPlan, PlanOptions, plan_with_seed
from wan.plan.errors import PlanError
from wan.plan.plan_json import carry_edits, is_plan_file, plan_to_json, read_plan
from wan.plan.post import parse_post
from wan.plan.profiles import PROFILES
from wan.plan.registry import MODES, model_names
from wan.render.files import write_text_atomic
from wan.render.request import ENGINES, EnhanceOptions, RenderOptions, RenderRequest
from wan.render.run import run_request

PLAN_FLAGS = ("model", "mode", "max_clip_frames", "overlap", "width", "height", "steps", "guidance", "shift", "seed")


def add_plan_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("plan options")
    g.add_argument(
        "--model", choices=model_names(), help="WAN model (default: Wan 2.1 T2V 1.3B; I2V 14B 480P with an init image)"
    )
    g.add_argument(
        "--mode",
        choices=MODES,
        help="v2v_guide / vace_guide (the camera as a guide video: the default for 2D/3D settings when a model "
        "serving one is named or in the models folder), t2v, i2v_chain (default with an init image otherwise), "
        "vace_continue, flf2v_keyframes",
    )
    g.add_argument(
        "--max-clip-frames", type=int, metavar="N", help="most model frames per clip (4n+1; default: the model's)"
    )
    g.add_argument("--overlap", type=int, metavar="N", help="model frames carried between clips (default by mode)")
    g.add_argument("--width", type=int, metavar="W", help="override the frame width (with --height)")
    g.add_argument("--height", type=int, metavar="H", help="override the frame height (with --width)")
    g.add_argument("--steps", type=int, metavar="N", help="denoising steps (default: the model's)")
    g.add_argument("--guidance", type=float, metavar="G", help="guidance scale (default: the model's)")
    g.add_argument("--shift", type=float, metavar="S", help="flow shift (default: the model's)")
    g.add_argument("--seed", type=int, metavar="N", help="base seed (default: the settings' seed; -1 draws one)")
    g.add_argument("--lang", choices=("en", "zh"), default="en", help="language of the movement words")
    g.add_argument(
        "--post",
        metavar="KEY=VALUE,...",
        help="finishing (docs/post.md): interpolate=opencv|blend|nearest (frames between the model's, default "
        "opencv), upscale=FILE under <models>/upscale, contrast=, saturation=, brightness=, sharpen=",
    )
    add_continuity_options(p)
    add_speed_options(p)


def add_plan_commands(commands: Any) -> None:
    plan = settings_command(
        commands,
        "plan",
        help="plan the WAN clips for a Deforum settings file",
        description="Plan the WAN clips: timing, 4n+1 frame counts, prompts, movement words, seeds, strength.",
        handler=run_plan,
        json_help="print the plan as JSON (a valid plan.json)",
    )
    plan.add_argument("--out", metavar="FILE", help="also write the plan to FILE (edit it, then render it)")
    plan.add_argument("--models", metavar="DIR", help="WAN models folder: a model serving a guided mode there makes "
                      "it the default (default: $WAN_WEAVE_MODELS)")  # fmt: skip
    add_plan_options(plan)

    rend = commands.add_parser(
        "render",
        help="render a settings file or a plan.json to a video",
        description="Render a Deforum settings file or an (edited) plan.json. The preview engine needs "
        "no model weights: it renders an animatic of the camera and the prompt timing.",
    )
    rend.add_argument("input", metavar="SETTINGS|PLAN", help="Deforum settings file or plan.json")
    rend.add_argument(
        "--engine",
        choices=ENGINES,
        help="preview (needs no weights) or wan (diffusers); default: wan when --models or --weights is given, "
        "else preview",
    )
    rend.add_argument("--models", metavar="DIR", help="WAN models folder for --engine wan (default: $WAN_WEAVE_MODELS)")
    rend.add_argument(
        "--weights",
        metavar="PATH",
        help="use exactly this diffusers folder or single-file .safetensors transformer (a single file takes "
        "its text encoder, VAE and config from a folder of the same model under --models)",
    )
    rend.add_argument(
        "--profile",
        choices=("auto", *PROFILES),
        default="auto",
        help="GPU memory profile for --engine wan: auto (by free VRAM), full, balanced, low, minimal",
    )
    rend.add_argument("--out", metavar="DIR", help="output folder (default: outputs/<name>)")
    add_enhance_option(rend, "--enhance", None, "template for a settings file; a plan keeps its prompts")
    rend.add_argument("--crf", type=int, default=18, help="H.264 quality, 0..51, lower is better (default 18)")
    rend.add_argument("--preset", choices=PRESETS, default="medium", help="x264 speed preset (default medium)")
    rend.add_argument("--no-captions", action="store_true", help="no prompt/movement captions in the preview")
    rend.add_argument("--save-frames", action="store_true", help="also write every clip's frames as PNGs")
    add_plan_options(rend)
    rend.set_defaults(handler=run_render)


def _plan_from_args(args: argparse.Namespace) -> GenerationPlan:
    settings = load_settings(args.settings if hasattr(args, "settings") else args.input)
    from wan.models.discovery import models_dir, served_models

    options = PlanOptions(
        **{k: getattr(args, k) for k in PLAN_FLAGS},
        available=served_models(models_dir(getattr(args, "models", None))),
        lang=args.lang,
        continuity=continuity_from_args(args),
        acceleration=acceleration_from_args(args),
        post=parse_post(args.post) if args.post else None,
    )
    return plan_with_seed(settings, options)


def _keep_edits(plan: GenerationPlan, old_path: str) -> GenerationPlan:
    """Re-planning over a plan.json keeps the user's prompt edits in it."""
    if not os.path.isfile(old_path) or not is_plan_file(old_path):
        return plan
    plan, kept = carry_edits(plan, read_plan(old_path))
    if kept:
        print(f"kept {kept} prompt edit(s) from {old_path}", file=sys.stderr)
    return plan


def run_plan(args: argparse.Namespace) -> int:
    plan = _plan_from_args(args)
    if args.out:
        plan = _keep_edits(plan, args.out)
        write_text_atomic(args.out, plan_to_json(plan))
    if args.json:
        sys.stdout.write(plan_to_json(plan))
        return 0
    print(
        f"{plan.name}: {plan.mode} with {plan.model}, {plan.width}x{plan.height}, {plan.steps} steps, "
        f"guidance {plan.guidance:g}, shift {plan.shift:g}; {plan.max_frames} frames at {plan.fps_out:g} fps "
        f"from {plan.fps_model} fps model frames"
    )
    print(f"post: {plan.post.describe()}")
    for c in plan.clips:
        print(
            f"clip {c.index:>3}  frames {c.start_frame:>5}-{c.end_frame - 1:<5} "
            f"{c.start_frame / plan.fps_out:7.2f}-{c.end_frame / plan.fps_out:.2f} s  {c.num_frames:>3} model frames"
            f"{f' (+{c.overlap} carried)' if c.overlap else ''}  seed {c.seed}  strength {c.strength:.2f}"
        )
        print(f"          {c.effective_prompt}")
        if c.negative_prompt:
            print(f"          --neg {c.negative_prompt}")
        print(f"          camera: {c.movement}  [motion {c.motion_strength:.2f}]")
    for note in plan.notes:
        print(f"note: {note}")
    if args.out:
        print(f"plan written to {args.out}")
    return 0


def _show_progress(event: dict) -> None:
    # A live line on a terminal; logs (CI, files) get the per-clip lines only.
    if sys.stderr.isatty() and event["event"] == "progress":
        eta = f"  eta {event['eta']:.0f} s" if event["eta"] is not None else ""
        line = f"clip {event['clip'] + 1}/{event['clips']}  step {event['step']}/{event['steps']}{eta}"
        print(f"\r{line:<60}", end="", file=sys.stderr, flush=True)


def chosen_engine(args: argparse.Namespace) -> str:
    """--engine as given; unset, model weights on the command line mean the WAN engine. Either way a
    flag the chosen engine cannot use is named, never ignored in silence."""
    given = [flag for flag, value in (("--models", args.models), ("--weights", args.weights)) if value]
    if args.engine is None:
        engine = "wan" if given else "preview"
        if given:
            print(f"{' and '.join(given)} given: rendering with the wan engine (--engine preview for the animatic)")
        return engine
    if args.engine == "preview" and given:
        print(f"note: the preview engine uses no model: {' and '.join(given)} not used")
    return args.engine


def run_render(args: argparse.Namespace) -> int:
    if is_plan_file(args.input):
        given = [f"--{k.replace('_', '-')}" for k in PLAN_FLAGS if getattr(args, k) is not None]
        if given:
            raise PlanError(
                f"{' '.join(given)} apply to settings files, not to a plan",
                where=args.input,
                hint="edit the plan.json, or render the settings file",
            )
        plan = read_plan(args.input)
        continuity = continuity_from_args(args)
        if continuity is not None:  # joining is not planning: it may change for a saved plan
            plan = dataclasses.replace(plan, continuity=continuity)
        acceleration = acceleration_from_args(args, base=plan.acceleration)
        if getattr(args, "distill", None) is not None:
            # A distillation preset sets steps, guidance and shift: that is planning, and a saved
            # plan's numbers are the user's. Dropping it (and the other speed flags with it) in
            # silence would render something else than asked.
            raise PlanError(
                "--distill re-plans steps, guidance and shift: it applies to settings files, not to a plan",
                where=args.input,
                hint="render the settings file with --distill, or edit the plan.json's steps, guidance and shift",
            )
        if acceleration is not None:
            plan = dataclasses.replace(plan, acceleration=acceleration)
        if args.post:  # finishing is not planning either: a saved plan takes it over its own block
            plan = dataclasses.replace(plan, post=parse_post(args.post, base=plan.post))
    else:
        plan = _plan_from_args(args)
    out = args.out or os.path.join("outputs", plan.name)
    if not is_plan_file(args.input):
        plan = _keep_edits(plan, os.path.join(out, "plan.json"))
    if args.enhance is None and is_plan_file(args.input):
        enhance = EnhanceOptions()  # a plan keeps its prompts
    else:
        why = "the default; --enhance auto asks a local Qwen model" if args.enhance is None else None
        enhance = EnhanceOptions(args.enhance or "template", cache_folder(args), why=why)
    engine = chosen_engine(args)
    options = RenderOptions(
        engine=engine,
        crf=args.crf,
        preset=args.preset,
        captions=not args.no_captions,
        save_frames=args.save_frames,
        models_dir=args.models,
        profile=args.profile,
        weights=args.weights,
    )
    print(f"rendering {len(plan.clips)} clips with the {engine} engine into {out}")
    result = run_request(
        RenderRequest(plan, out, options, enhance),
        log=lambda m: print(m, file=sys.stderr if m.startswith("warning") else sys.stdout),
        progress=_show_progress,
    )
    print(
        f"video: {result.video} ({result.frames} frames at {plan.fps_out:g} fps, {plan.duration_s:.2f} s) in {result.seconds:.1f} s"
    )
    print(f"plan:  {result.plan_path}")
    return 0
