"""The `models` and `make-tiny-models` commands."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from .discovery import ENV_MODELS, discover, models_dir
from .registry import MODELS


def add_model_commands(commands: Any) -> None:
    models = commands.add_parser(
        "models",
        help="list the WAN models found in the models folder",
        description="List WAN models (diffusers folders) recognised by their configs.",
    )
    models.add_argument("--models", metavar="DIR", help=f"models folder (default: ${ENV_MODELS} or ./models/wan)")
    models.add_argument("--json", action="store_true", help="print one JSON object")
    models.set_defaults(handler=run_models)

    tiny = commands.add_parser(
        "make-tiny-models",
        help="write tiny random-weight WAN models (for trying every path without weights)",
        description="Write tiny random-weight models in the real diffusers layout (needs torch and diffusers).",
    )
    tiny.add_argument("dir", metavar="DIR", help="folder to write them into")
    tiny.set_defaults(handler=run_make_tiny)


def run_models(args: argparse.Namespace) -> int:
    root = models_dir(args.models)
    found = discover(root)
    if args.json:
        rows = [
            {"name": m.name, "family": m.family, "size": m.size, "pipeline": m.pipeline, "path": m.path} for m in found
        ]
        print(json.dumps({"models_dir": os.path.abspath(root), "models": rows}))
        return 0
    if not found:
        print(f"no WAN models under {os.path.abspath(root)}")
        print(
            f"create that folder (or pass --models DIR, or set {ENV_MODELS}) and download a diffusers model into it, e.g.:"
        )
        for spec in MODELS[:3]:
            print(f"  {os.path.join(os.path.abspath(root), spec.name)}  <-  https://huggingface.co/{spec.repo_id}")
        return 0
    for m in found:
        print(f"{m.name:<28} {m.family:<18} {m.size:<5} {m.path}")
    return 0


def run_make_tiny(args: argparse.Namespace) -> int:
    from .tiny_models import make_tiny_models

    for name, folder in make_tiny_models(args.dir).items():
        print(f"{name}: {folder}")
    return 0
