"""The `models` and `make-tiny-models` commands."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from wan.models.discovery import ENV_MODELS, discover, models_dir
from wan.plan.registry import MODELS


def add_model_commands(commands: Any) -> None:
    models = commands.add_parser(
        "models",
        help="list the WAN models found in the models folder",
        description="List WAN models (diffusers folders, single-file .safetensors transformers) recognised by "
        "their configs and tensor shapes.",
    )
    models.add_argument("--models", metavar="DIR", help=f"models folder (default: ${ENV_MODELS} or ./models/wan)")
    models.add_argument("--json", action="store_true", help="print one JSON object")
    models.set_defaults(handler=run_models)
    actions = models.add_subparsers(dest="action", metavar="ACTION", parser_class=type(models))
    download = actions.add_parser(
        "download",
        help="download a model from the Hugging Face Hub into the models folder (needs the network)",
        description="Download a diffusers WAN model with huggingface_hub into <models>/<NAME>.",
    )
    download.add_argument(
        "name", choices=[m.name for m in MODELS], metavar="NAME", help="a registry name, see docs/models.md"
    )
    download.add_argument(
        "--models",
        dest="download_models",
        metavar="DIR",
        help=f"models folder (default: ${ENV_MODELS} or ./models/wan)",
    )
    download.set_defaults(handler=run_download)

    tiny = commands.add_parser(
        "make-tiny-models",
        help="write tiny random-weight WAN models (for trying every path without weights)",
        description="Write tiny random-weight models in the real diffusers layout (needs torch and diffusers).",
    )
    tiny.add_argument("dir", metavar="DIR", help="folder to write them into")
    tiny.add_argument(
        "--single-files",
        action="store_true",
        help="also write single-file .safetensors transformers (original Wan layout) under DIR/single",
    )
    tiny.set_defaults(handler=run_make_tiny)


def run_models(args: argparse.Namespace) -> int:
    root = models_dir(args.models)
    found = discover(root)
    if args.json:
        rows = [
            {
                "name": m.name,
                "family": m.family,
                "size": m.size,
                "pipeline": m.pipeline,
                "path": m.path,
                "files": list(m.files),
                "problem": m.problem,
            }
            for m in found
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
        print(f"{m.name:<28} {m.family:<18} {m.size:<5} {m.source}")
        if m.files and not m.problem:
            print(f"{'':<28} single file; text encoder, VAE and config from {m.path}")
        if m.problem:
            print(f"{'':<28} cannot run: {m.problem}")
    return 0


def run_make_tiny(args: argparse.Namespace) -> int:
    from wan.testing.tiny_models import make_tiny_models

    written = make_tiny_models(args.dir)
    if args.single_files:
        from wan.testing.tiny_models import make_tiny_single_files

        written.update({f"{name} (single file)": path for name, path in make_tiny_single_files(args.dir).items()})
    for name, path in written.items():
        print(f"{name}: {path}")
    return 0


def run_download(args: argparse.Namespace) -> int:
    from wan.models.discovery import classify
    from wan.models.errors import ModelError
    from wan.plan.registry import get_model

    spec = get_model(args.name)
    target = os.path.join(models_dir(args.download_models or args.models), spec.name)
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        raise ModelError("huggingface_hub is not installed", hint="pip install -r requirements-worker.txt") from None
    if os.environ.get("HF_HUB_OFFLINE") == "1":
        raise ModelError(
            f"cannot download {spec.repo_id}: HF_HUB_OFFLINE=1 is set",
            hint=f"unset it on a machine with a network, or download {spec.repo_id} into {target} by hand",
        )
    print(f"downloading {spec.repo_id} into {target} ...")
    try:
        snapshot_download(spec.repo_id, local_dir=target)
    except Exception as exc:  # network and hub errors come in many types; the user needs the message
        raise ModelError(
            f"download of {spec.repo_id} failed: {exc}", hint="check the network and the disk space"
        ) from None
    found = classify(target)
    print(f"done: {found.name if found else 'not recognised as a WAN model'} at {target}")
    return 0
