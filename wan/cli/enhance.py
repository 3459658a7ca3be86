"""The `enhance` command, and the enhancement step of `render`."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from movement import load_settings
from wan.engine.assets import NO_ASSETS, read_assets
from wan.models.discovery import ENV_MODELS, models_dir
from wan.plan.build import PlanOptions, build_plan
from wan.plan.plan_json import is_plan_file, plan_settings, plan_to_json, read_plan
from wan.render.files import write_text_atomic
from wan.render.prompts import enhance


def add_enhance_option(p: argparse.ArgumentParser, flag: str, default: str | None, default_help: str) -> None:
    p.add_argument(
        flag,
        dest="enhance",
        metavar="MODEL",
        default=default,
        help="prompt enhancer: auto (the largest local Qwen model that fits, else the template), template "
        f"(no model), a folder, or a name under <models>/LLM (default: {default_help})",
    )
    p.add_argument("--cache", metavar="DIR", help="prompt cache folder (default: $WAN_WEAVE_CACHE/prompts)")
    p.add_argument("--no-cache", action="store_true", help="neither read nor write the prompt cache")


def add_enhance_command(commands: Any) -> None:
    p = commands.add_parser(
        "enhance",
        help="write each clip's prompt for WAN (local Qwen model or template)",
        description="Enhance each clip's prompt: the Deforum prompt without SD syntax, the clip's camera words, "
        "motion and style, written by a local Qwen model (validated; the template when an answer is refused) "
        "or by the deterministic template. A user's edit in a plan.json always wins.",
    )
    p.add_argument("input", metavar="SETTINGS|PLAN", help="Deforum settings file or plan.json")
    add_enhance_option(p, "--model", "auto", "auto")
    p.add_argument("--lang", choices=("en", "zh"), help="prompt language (default: the plan's, else en)")
    p.add_argument("--models", metavar="DIR", help=f"models folder with LLM/ (default: ${ENV_MODELS} or ./models/wan)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--out", metavar="FILE", help="also write the plan with the enhanced prompts (render it later)")
    p.set_defaults(handler=run_enhance)


def cache_folder(args: argparse.Namespace) -> str | None:
    """The prompt cache folder the command line asks for; None: no cache."""
    from prompt_enhance.cache import default_dir

    return None if args.no_cache else (args.cache or default_dir())


def run_enhance(args: argparse.Namespace) -> int:
    if is_plan_file(args.input):
        plan = read_plan(args.input)
    else:
        plan = build_plan(load_settings(args.input), PlanOptions(lang=args.lang or "en"))
    log = (lambda m: print(m, file=sys.stderr)) if args.json else print
    assets = read_assets(plan, plan_settings(plan)) if args.enhance != "template" else NO_ASSETS
    plan, prompts, model, reason = enhance(
        plan, args.enhance, models_dir(args.models), cache_folder(args), args.lang, log, assets
    )
    if args.out:
        write_text_atomic(args.out, plan_to_json(plan))
    if args.json:
        out = {"model": model, "model_reason": reason, "clips": [p.to_dict() for p in prompts]}
        print(json.dumps(out, ensure_ascii=False))
        return 0
    print(f"enhancer: {model or 'template'} ({reason})")
    for p in prompts:
        print(f"clip {p.index:>3}  [{p.source}]{f'  refused: {p.fallback_reason}' if p.fallback_reason else ''}")
        print(f"          {p.enhanced}")
    if args.out:
        print(f"plan written to {os.path.abspath(args.out)}")
    return 0


def add_storyboard_command(commands: Any) -> None:
    p = commands.add_parser(
        "storyboard",
        help="plan a whole film from a paragraph with a local Qwen model; writes Deforum settings",
        description="Ask a local Qwen model for the film's segments (start, prompt, keyframe, camera) as JSON, "
        "check it against a schema (asking again with the error), and write a Deforum settings file with the "
        "prompt schedule and camera schedules. Needs a Qwen model under <models>/LLM/.",
    )
    p.add_argument("paragraph", help="the whole film in a few sentences")
    p.add_argument("--seconds", type=float, required=True, help="film length in seconds")
    p.add_argument("--fps", type=float, default=24.0, help="frames per second (default 24)")
    p.add_argument("--out", metavar="FILE", help="settings file to write (default: print it)")
    p.add_argument("--model", default="auto", help="auto (default), a folder, or a name under <models>/LLM")
    p.add_argument("--models", metavar="DIR", help=f"models folder with LLM/ (default: ${ENV_MODELS} or ./models/wan)")
    p.add_argument("--attempts", type=int, default=3, help="how often to ask again after an invalid answer")
    g = p.add_argument_group("keyframes and film (python -m wan keyframes --help)")
    g.add_argument("--keyframes", action="store_true", help="then make the keyframe images (needs --out)")
    g.add_argument("--render", action="store_true", help="then render the film between them (implies --keyframes)")
    for flag, kind, text in (("--image-model", str, "SD/SDXL/Flux folder under <models>/image/ for the keyframes"),
                             ("--weights", str, "the Wan T2V folder or file for the keyframes"),
                             ("--width", int, "frame width"), ("--height", int, "frame height"),
                             ("--steps", int, "denoising steps (default 30)"), ("--seed", int, "base seed"),
                             ("--keep", float, "share of the previous keyframe kept in the next (default 0.35)"),
                             ("--post", str, "finishing for --render, as for render --post")):  # fmt: skip
        g.add_argument(flag, type=kind, help=text)
    p.set_defaults(handler=run_storyboard)


def run_storyboard(args: argparse.Namespace) -> int:
    from prompt_enhance.storyboard import StoryboardError
    from wan.render.storyboard import film_settings

    if (args.keyframes or args.render) and not args.out:
        raise StoryboardError("--keyframes and --render need --out FILE (the settings file they start from)")
    settings = film_settings(args.paragraph, args.seconds, args.fps, args.model, models_dir(args.models),
                             lambda m: print(m, file=sys.stderr), args.attempts)  # fmt: skip
    text = json.dumps(settings, ensure_ascii=False, indent=2) + "\n"
    if not args.out:
        sys.stdout.write(text)
        return 0
    write_text_atomic(args.out, text)
    print(f"settings written to {args.out}: {len(settings['prompts'])} segments, {settings['max_frames']} frames")
    if not (args.keyframes or args.render):
        return 0
    from wan.cli.keyframes import make_keyframes, render_keyframes
    from wan.render.keyframes import KeyframeRequest as Defaults

    name = os.path.splitext(os.path.basename(args.out))[0]
    kf_args = argparse.Namespace(out=os.path.join(os.path.dirname(os.path.abspath(args.out)), f"{name}-keyframes"),
                                 models=args.models, weights=args.weights, image_model=args.image_model,
                                 width=args.width, height=args.height, steps=args.steps or Defaults.steps,
                                 guidance=Defaults.guidance, keep=Defaults.keep if args.keep is None else args.keep,
                                 seed=args.seed, post=args.post)  # fmt: skip
    guided = make_keyframes(args.out, kf_args)
    return render_keyframes(guided, kf_args) if args.render else 0
