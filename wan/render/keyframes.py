"""Keyframe images for a settings file, written as Deforum Guided Images settings that
`render --mode flf2v_keyframes` animates (the `keyframes` command, `storyboard --keyframes`, the
worker's keyframes job). Each image is kept on disk as soon as it is made and recorded with what
made it; run again, the images whose prompt, seed and size did not change are kept, a hand-made
replacement too."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from movement import load_settings
from movement.errors import WanWeaveError
from wan.plan.build import plan_size
from wan.plan.keyframes import guided_settings, keyframe_window, plan_keyframes
from wan.plan.registry import DEFAULT_MODEL, get_model
from wan.render.errors import RenderCancelled
from wan.render.files import prepare_folder, write_text_atomic

RECORD = "keyframes.json"


@dataclass(frozen=True)
class KeyframeRequest:
    settings_file: str
    out: str
    models: str | None = None
    weights: str | None = None  # the Wan T2V folder or file to paint with
    image_model: str | None = None  # a folder under <models>/image/ (SD, SDXL, Flux) instead
    width: int | None = None
    height: int | None = None
    steps: int = 30
    guidance: float = 5.0
    keep: float = 0.35  # share of the previous keyframe kept in the next (0: each from its prompt)
    seed: int | None = None


def make_keyframes(req: KeyframeRequest, log=print, cancelled=None) -> str:
    """Paint the missing keyframes of `req.settings_file` into `req.out`; returns the Guided Images
    settings file written there (<name>_keyframes.txt). `cancelled()` true stops it between
    denoising steps (RenderCancelled); the images already made stay, recorded."""
    from wan.models.discovery import models_dir

    if not 0 <= req.keep < 1:
        raise WanWeaveError(f"keep must be in [0, 1), got {req.keep}", hint="0.35 keeps characters, 0 does not")
    if not 1 <= req.steps <= 1000:
        raise WanWeaveError(f"steps must be 1..1000, got {req.steps}")
    settings = load_settings(req.settings_file)
    width, height, _ = plan_size(settings, get_model(DEFAULT_MODEL["flf2v_keyframes"]), req.width, req.height)
    keyframes = plan_keyframes(settings, keyframe_window(settings.fps), req.seed)
    prepare_folder(req.out)
    os.makedirs(os.path.join(req.out, "keyframes"), exist_ok=True)
    record_path = os.path.join(req.out, RECORD)
    record = _read_record(record_path)
    previous, painter, chain_changed = None, None, False
    for k in keyframes:
        entry = {"frame": k.frame, "prompt": k.prompt, "negative_prompt": k.negative_prompt, "seed": k.seed,
                 "size": [width, height], "steps": req.steps, "guidance": req.guidance, "keep": req.keep,
                 "image_model": req.image_model, "weights": req.weights,
                 "from_previous": previous is not None and req.keep > 0}  # fmt: skip
        path = os.path.join(req.out, k.file)
        # A keyframe made from the previous one is stale once that one was made again.
        if record.get(str(k.frame)) == entry and os.path.isfile(path) and not (chain_changed and entry["from_previous"]):
            log(f"keyframe {k.frame}: kept {k.file}")
            previous = _read(path)
        else:
            if painter is None:
                from wan.engine.keyframes import KeyframePainter

                painter = KeyframePainter(models_dir(req.models), width, height, req.steps, req.guidance,
                                          req.image_model, req.weights, log)  # fmt: skip
            previous = painter.paint(k, previous, req.keep, lambda: _check(cancelled, req.out))
            _write(path, previous)
            chain_changed = True
            log(f"keyframe {k.frame}: {k.file} ({k.prompt[:60]})")
        record[str(k.frame)] = entry
        write_text_atomic(record_path, json.dumps(record, indent=2) + "\n")  # each image is kept as it is made
    name = os.path.splitext(os.path.basename(req.settings_file))[0]
    target = os.path.join(req.out, f"{name}_keyframes.txt")
    source_dir = os.path.dirname(os.path.abspath(req.settings_file))
    write_text_atomic(target, guided_settings(settings.raw_json, keyframes, source_dir))
    return target


def _check(cancelled, out: str) -> None:
    if cancelled is not None and cancelled():
        raise RenderCancelled("keyframes cancelled; the finished images are kept", where=out)


def _read_record(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}  # no record, or a damaged one: every image is made again


def _read(path: str):
    from wan.engine.images import read_rgb

    image = read_rgb(path)
    if image is None:
        raise WanWeaveError("cannot read the keyframe image", where=path, hint="replace it with a PNG or delete it")
    return image


def _write(path: str, image) -> None:
    import cv2

    tmp = path + ".partial.png"
    if not cv2.imwrite(tmp, cv2.cvtColor(image, cv2.COLOR_RGB2BGR)):
        raise WanWeaveError("cannot write the keyframe image", where=path)
    os.replace(tmp, path)
