"""Speed options a plan carries (pure data): the attention backend, torch.compile of the repeated
transformer blocks, a step cache, fp8 weight storage, LoRAs, and one-click step-distillation
presets. Applied by wan/models/speed.py when the pipeline loads; all off is the plain path."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

ATTENTION = ("native", "flash", "sage", "flex", "_native_math")  # diffusers backends that need no download
CACHES = ("none", "fbc", "taylorseer")  # First Block Cache; TaylorSeer (MagCache has no WAN ratios yet)
# name: (file name fragment under <models>/loras, steps, guidance, shift)
DISTILL = {
    "lightx2v": ("lightx2v", 4, 1.0, 5.0),
    "causvid": ("causvid", 6, 1.0, 8.0),
    "lightning": ("lightning", 4, 1.0, 5.0),
}


@dataclass(frozen=True)
class Acceleration:
    attention: str = "native"
    compile: bool = False
    cache: str = "none"
    cache_threshold: float = 0.05  # First Block Cache: residual change below which blocks are skipped
    fp8: bool = False  # weights stored in float8_e4m3fn, computed in the pipeline's dtype
    loras: tuple[tuple[str, float], ...] = ()  # (path, weight)
    distill: str | None = None  # a preset from DISTILL; its LoRA is found under <models>/loras

    @property
    def plain(self) -> bool:
        return self == Acceleration()

    def check(self) -> None:
        if self.attention not in ATTENTION:
            raise ValueError(f"attention must be one of {', '.join(ATTENTION)}, got {self.attention!r}")
        if self.cache not in CACHES:
            raise ValueError(f"cache must be one of {', '.join(CACHES)}, got {self.cache!r}")
        if not 0 < self.cache_threshold < 1:
            raise ValueError(f"cache_threshold must be in (0, 1), got {self.cache_threshold}")
        if self.distill is not None and self.distill not in DISTILL:
            raise ValueError(f"distill must be one of {', '.join(DISTILL)}, got {self.distill!r}")
        for path, weight in self.loras:
            if not -4 <= weight <= 4:
                raise ValueError(f"LoRA weight {weight} for {path} is outside -4..4")


def cache_problem(cache: str, pipeline: str) -> str | None:
    """Why `cache` cannot serve `pipeline`, or None. VACE adds its control hints to the hidden
    states after each block, outside what First Block Cache skips: on a cache hit the cached
    residual already holds the hints and they are added a second time (two identical calls
    differed by 0.315 on an output of magnitude 2.06)."""
    if cache == "fbc" and pipeline == "WanVACEPipeline":
        return "First Block Cache adds VACE's control hints twice on a cache hit"
    if cache != "none" and pipeline == "WanVideoToVideoPipeline":
        # diffusers' video-to-video pipeline calls its transformer outside a cache context, and
        # the cache hooks fail there ("No cache context is set").
        return "diffusers' WanVideoToVideoPipeline runs no step cache (it sets no cache context)"
    return None


_TASK = re.compile(r"(?<![a-z0-9])(t2v|i2v|ti2v|flf2v)(?![a-z0-9])", re.IGNORECASE)
_EXPERT = re.compile(r"(?<![a-z])(high|low)(?:[_\-\s]?noise)?(?![a-z])", re.IGNORECASE)


def distill_files(paths: list[str], preset: str, task: str, two_experts: bool) -> dict[str | None, str]:
    """The preset's LoRA file(s) for this model, chosen by what each file says it is for: its task
    (`t2v`, `i2v`, ... in the name; a name without one serves any; FLF2V takes an I2V file when none
    names FLF2V) and, for Wan 2.2's two experts, `high`/`low` (noise). Returns {None: path} for one transformer, or {"high": p, "low": q} for
    two; a file for one expert never goes into the other. Raises ValueError saying what is missing."""
    fragment = DISTILL[preset][0]
    mine = sorted(p for p in paths if fragment in os.path.basename(p).lower())
    tasks = {p: (m.group(1).lower() if (m := _TASK.search(os.path.basename(p))) else None) for p in mine}
    # FLF2V is Wan 2.1's I2V 720P with a last frame: an I2V LoRA serves it when none names FLF2V.
    rank = {task: 0, **({"i2v": 1} if task == "flf2v" else {}), None: 2}
    fitting = [p for p in mine if tasks[p] in rank]
    if not fitting:
        found = ", ".join(os.path.basename(p) for p in mine) or "none"
        raise ValueError(f"no {preset} LoRA for {task} (found: {found})")
    experts: dict[str | None, list[str]] = {}
    for p in fitting:
        m = _EXPERT.search(os.path.basename(p))
        experts.setdefault(m.group(1).lower() if m else None, []).append(p)
    # A file naming its task beats a generic one; then the name order, for a stable choice.
    best = {k: sorted(v, key=lambda p: (rank[tasks[p]], p))[0] for k, v in experts.items()}
    if two_experts:
        if "high" in best and "low" in best:
            return {"high": best["high"], "low": best["low"]}
        missing = "low" if "high" in best else "high"
        raise ValueError(f"a {preset} LoRA for the {missing}-noise expert is missing ({task}, Wan 2.2 A14B)")
    if None not in best:
        raise ValueError(f"the {preset} LoRAs found are for Wan 2.2's two experts; this model has one transformer")
    return {None: best[None]}


def parse_lora(text: str) -> tuple[str, float]:
    """'path/to/lora.safetensors:0.8' -> (path, 0.8); the weight defaults to 1."""
    path, sep, weight = text.rpartition(":")
    if sep and path and not path.endswith(("/", "\\")):
        try:
            return path, float(weight)
        except ValueError:
            pass
    return text, 1.0
