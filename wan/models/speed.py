"""Applying the speed options to a loaded pipeline (diffusers and PEFT do the work).

Order matters: LoRAs first, then fp8 layerwise casting (it must see the LoRA layers too, or
their weights would be read as fp8 without the upcast), the attention backend, the step cache,
and compile last (it captures the final modules). Anything unavailable is
a clear error, never a silent fallback.
"""

from __future__ import annotations

import glob
import os

from wan.models.errors import ModelError
from wan.plan.speed import DISTILL, Acceleration, cache_problem


def distill_lora(acc: Acceleration, models_root: str) -> str:
    """The step-distillation LoRA file for the preset, from <models>/loras (or the models folder)."""
    fragment = DISTILL[acc.distill][0]
    found = sorted(
        p
        for folder in (os.path.join(models_root, "loras"), models_root)
        for p in glob.glob(os.path.join(folder, "*.safetensors"))
        if fragment in os.path.basename(p).lower()
    )
    if not found:
        raise ModelError(
            f"no {acc.distill} LoRA under {os.path.join(models_root, 'loras')}",
            hint=f"download it (a .safetensors with '{fragment}' in its name) into that folder",
        )
    return found[0]


def transformers_of(pipe) -> list:
    return [m for m in (getattr(pipe, "transformer", None), getattr(pipe, "transformer_2", None)) if m is not None]


# TaylorSeer's default patterns name other transformers' attention modules and match nothing in
# Wan's blocks (attn1, attn2, ffn): it would hook zero modules and do nothing.
WAN_TAYLORSEER_MODULES = [r"(vace_)?blocks\.\d+\.(attn1|attn2|ffn)"]
CACHE_HOOKS = {"fbc": "fbc_block_hook", "taylorseer": "taylorseer_cache"}


def hooked_modules(module, hook: str) -> int:
    """How many submodules carry diffusers' `hook`: what a cache really attached."""
    return sum(1 for m in module.modules() if hook in getattr(getattr(m, "_diffusers_hook", None), "hooks", {}))


def _enable_cache(blocks: list, acc: Acceleration) -> str:
    from diffusers import FirstBlockCacheConfig, TaylorSeerCacheConfig

    hooked = 0
    for module in blocks:
        if acc.cache == "fbc":
            config = FirstBlockCacheConfig(threshold=acc.cache_threshold)
        else:
            config = TaylorSeerCacheConfig(cache_identifiers=WAN_TAYLORSEER_MODULES)
        module.enable_cache(config)
        hooked += hooked_modules(module, CACHE_HOOKS[acc.cache])
    if hooked == 0:  # the manifest says only what took effect
        raise ModelError(f"the {acc.cache} cache attached to no module of this transformer",
                         hint="render without --step-cache")  # fmt: skip
    threshold = f"threshold {acc.cache_threshold:g}, " if acc.cache == "fbc" else ""
    return f"cache {acc.cache} ({threshold}{hooked} modules)"


def apply(pipe, acc: Acceleration, models_root: str, log=print) -> list[str]:
    """Apply `acc` to `pipe`; returns what was applied, in words (for the log and the manifest)."""
    import torch

    done: list[str] = []
    if acc.plain:
        return done
    blocks = transformers_of(pipe)
    loras = list(acc.loras)
    if acc.distill:
        loras.insert(0, (distill_lora(acc, models_root), 1.0))
    if loras:
        names, weights = [], []
        two_experts = getattr(pipe, "transformer_2", None) is not None
        for i, (path, weight) in enumerate(loras):
            if not os.path.isfile(path):
                raise ModelError("LoRA file not found", where=path)
            name = f"lora{i}"
            try:
                pipe.load_lora_weights(path, adapter_name=name)
                if two_experts:  # Wan 2.2 A14B: the LoRA goes into both experts
                    pipe.load_lora_weights(path, adapter_name=name, load_into_transformer_2=True)
            except (ValueError, KeyError, RuntimeError) as exc:
                raise ModelError(f"cannot load the LoRA: {exc}", where=path) from None
            except ImportError:
                raise ModelError("LoRAs need the peft package", hint="pip install peft") from None
            names.append(name)
            weights.append(weight)
        pipe.set_adapters(names, weights)
        done.append("LoRA " + ", ".join(f"{os.path.basename(p)} x{w:g}" for p, w in loras))
    if acc.fp8:
        compute = next(blocks[0].parameters()).dtype
        for module in blocks:
            module.enable_layerwise_casting(storage_dtype=torch.float8_e4m3fn, compute_dtype=compute)
        done.append(f"fp8 weights (computed in {str(compute).removeprefix('torch.')})")
    if acc.attention != "native":
        for module in blocks:
            try:
                module.set_attention_backend(acc.attention)
            except (RuntimeError, ImportError, ValueError) as exc:
                raise ModelError(f"attention backend {acc.attention!r} is not available here: {exc}",
                                  hint="use --attention native, or install its package") from None  # fmt: skip
        done.append(f"attention {acc.attention}")
    if acc.cache != "none":
        problem = cache_problem(acc.cache, type(pipe).__name__)
        if problem:  # a plan.json given --step-cache fbc reaches here without the plan's check
            raise ModelError(problem, hint="use --step-cache taylorseer, or none")
        done.append(_enable_cache(blocks, acc))
    if acc.compile:
        for module in blocks:
            module.compile_repeated_blocks(fullgraph=False, dynamic=False)
        done.append("torch.compile of the repeated transformer blocks")
    for line in done:
        log(f"speed: {line}")
    return done
