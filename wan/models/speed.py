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
from wan.plan.speed import DISTILL, Acceleration, cache_problem, distill_files

TASKS = {"WanImageToVideoPipeline": "i2v", "WanPipeline": "t2v", "WanVACEPipeline": "t2v"}


def distill_loras(acc: Acceleration, models_root: str, pipe) -> dict[str | None, str]:
    """The step-distillation LoRA file(s) for the preset and this pipeline's task and experts, from
    <models>/loras (or the models folder): {None: path}, or {"high": p, "low": q} for Wan 2.2 A14B."""
    fragment = DISTILL[acc.distill][0]
    paths = [p for folder in (os.path.join(models_root, "loras"), models_root)
             for p in glob.glob(os.path.join(folder, "*.safetensors"))]  # fmt: skip
    task = "ti2v" if pipe.config.get("expand_timesteps") else TASKS.get(type(pipe).__name__, "t2v")
    if task == "i2v" and pipe.transformer.config.get("pos_embed_seq_len"):  # the FLF2V checkpoint
        task = "flf2v"
    try:
        return distill_files(paths, acc.distill, task, getattr(pipe, "transformer_2", None) is not None)
    except ValueError as exc:
        raise ModelError(
            f"{exc} under {os.path.join(models_root, 'loras')}",
            hint=f"download it (a .safetensors with '{fragment}', the task and, for Wan 2.2 A14B, high/low noise "
            "in its name) into that folder",
        ) from None


def _load_lora(pipe, path: str, name: str, into: tuple[str, ...]) -> None:
    if not os.path.isfile(path):
        raise ModelError("LoRA file not found", where=path)
    try:
        for part in into:
            pipe.load_lora_weights(path, adapter_name=name, load_into_transformer_2=part == "transformer_2")
    except (ValueError, KeyError, RuntimeError) as exc:
        raise ModelError(f"cannot load the LoRA: {exc}", where=path) from None
    except ImportError:
        raise ModelError("LoRAs need the peft package", hint="pip install peft") from None


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
    """Apply `acc` to `pipe` once, right after it loads (pipelines made from it with from_pipe
    share its modules: a second time would enable a cache twice, an error in diffusers, and load
    LoRAs twice); returns what was applied, in words (for the log and the manifest)."""
    import torch

    done: list[str] = []
    if acc.plain:
        return done
    blocks = transformers_of(pipe)
    both = ("transformer", "transformer_2") if len(blocks) == 2 else ("transformer",)
    # (file, weight, adapter, the experts it goes into): a user's LoRA into every expert; a
    # distillation pair's high-noise file into `transformer`, its low-noise file into `transformer_2`.
    loras = [(path, weight, f"lora{i}", both) for i, (path, weight) in enumerate(acc.loras)]
    if acc.distill:
        files = distill_loras(acc, models_root, pipe)
        experts = {None: both, "high": ("transformer",), "low": ("transformer_2",)}
        loras[:0] = [(path, 1.0, f"distill_{k or 'all'}", experts[k]) for k, path in files.items()]
    if loras:
        for path, _, name, into in loras:
            _load_lora(pipe, path, name, into)
        pipe.set_adapters([name for _, _, name, _ in loras], [weight for _, weight, _, _ in loras])
        done.append("LoRA " + ", ".join(f"{os.path.basename(p)} x{w:g}" + (f" ({into[0]})" if into != both else "")
                                        for p, w, _, into in loras))  # fmt: skip
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
            # dynamic=None: a clip of another length (the last one, often) marks the frame axis
            # dynamic once, instead of one more compile for every length (dynamic=False).
            module.compile_repeated_blocks(fullgraph=False, dynamic=None)
        done.append("torch.compile of the repeated transformer blocks")
    for line in done:
        log(f"speed: {line}")
    return done
