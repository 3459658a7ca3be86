"""The speed options of `plan`, `render` and `batch` (issue [H]); see wan/plan/speed.py."""

from __future__ import annotations

import argparse
import dataclasses

from wan.plan.errors import PlanError
from wan.plan.speed import ATTENTION, CACHES, DISTILL, Acceleration, parse_lora


def add_speed_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("speed (recorded in the plan)")
    g.add_argument("--attention", choices=ATTENTION, help="attention backend (default native SDPA)")
    g.add_argument("--compile", action="store_true", help="torch.compile the repeated transformer blocks")
    g.add_argument("--step-cache", choices=CACHES, help="step cache: fbc (First Block Cache) or taylorseer")
    g.add_argument("--step-cache-threshold", type=float, metavar="T", help="First Block Cache threshold (default 0.05)")
    g.add_argument("--fp8", action="store_true", help="store transformer weights in fp8 (less VRAM)")
    g.add_argument("--lora", action="append", metavar="PATH[:WEIGHT]", help="a LoRA and its weight (repeatable)")
    g.add_argument("--distill", choices=list(DISTILL),
                   help="a step-distillation LoRA from <models>/loras: sets its steps, guidance 1 and shift")  # fmt: skip


def acceleration_from_args(args: argparse.Namespace, base: Acceleration | None = None) -> Acceleration | None:
    """The speed flags given, on top of `base` (a saved plan's own block: what no flag names stays,
    a distillation preset included); None when no speed flag was given."""
    values = {
        "attention": getattr(args, "attention", None),
        "cache": getattr(args, "step_cache", None),
        "cache_threshold": getattr(args, "step_cache_threshold", None),
        "distill": getattr(args, "distill", None),
    }
    values = {k: v for k, v in values.items() if v is not None}
    if getattr(args, "compile", False):
        values["compile"] = True
    if getattr(args, "fp8", False):
        values["fp8"] = True
    if getattr(args, "lora", None):
        values["loras"] = tuple(parse_lora(x) for x in args.lora)
    if not values:
        return None
    acc = dataclasses.replace(base, **values) if base is not None else Acceleration(**values)
    try:
        acc.check()
    except ValueError as exc:
        raise PlanError(str(exc)) from None
    return acc
