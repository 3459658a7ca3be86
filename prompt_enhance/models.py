"""Local Qwen models for prompt enhancement: found under `<models>/LLM/`, recognised by their
`config.json`, sized from it, and chosen by free memory. Pure: reads JSON only; no torch.

`auto` takes the largest model whose weights (bf16 on a GPU, fp32 on the CPU) plus working room fit
in the free VRAM (free RAM without a GPU); a vision-language model first when the clips have images
to look at, a text model first otherwise.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from .errors import EnhanceError

TEXT_TYPES = ("qwen2", "qwen3")
VISION_TYPES = ("qwen2_5_vl", "qwen2_vl")
WORKING_GB = 1.5  # activations, KV cache for a 2k-token exchange, CUDA context


class EnhancerError(EnhanceError):
    """A prompt-enhancement model that cannot be used as asked."""


@dataclass(frozen=True)
class QwenModel:
    name: str
    path: str
    model_type: str
    params_b: float  # estimated from the config, billions

    @property
    def vision(self) -> bool:
        return self.model_type in VISION_TYPES

    def need_gb(self, gpu: bool) -> float:
        return self.params_b * (2 if gpu else 4) + WORKING_GB


def _params_b(config: dict) -> float:
    text = config.get("text_config") or config
    h = int(text.get("hidden_size", 0))
    layers = int(text.get("num_hidden_layers", 0))
    inter = int(text.get("intermediate_size", 0))
    vocab = int(text.get("vocab_size", 0))
    heads = max(1, int(text.get("num_attention_heads", 1)))
    kv = int(text.get("num_key_value_heads", heads))
    attention = h * h * 2 + 2 * h * (h * kv // heads)
    embeddings = vocab * h * (1 if text.get("tie_word_embeddings", config.get("tie_word_embeddings")) else 2)
    vision = config.get("vision_config") or {}
    tower = int(vision.get("depth", 0)) * 12 * int(vision.get("hidden_size", 0)) ** 2
    return (layers * (attention + 3 * h * inter) + embeddings + tower) / 1e9


def classify(folder: str) -> QwenModel | None:
    try:
        with open(os.path.join(folder, "config.json"), encoding="utf-8") as fh:
            config = json.load(fh)
    except (OSError, ValueError):
        return None
    model_type = str(config.get("model_type", ""))
    if model_type not in TEXT_TYPES + VISION_TYPES:
        return None
    return QwenModel(os.path.basename(os.path.normpath(folder)), os.path.abspath(folder), model_type, _params_b(config))


def llm_dir(models_root: str) -> str:
    return os.path.join(models_root, "LLM")


def discover(models_root: str) -> tuple[QwenModel, ...]:
    root = llm_dir(models_root)
    if not os.path.isdir(root):
        return ()
    found = (classify(e.path) for e in sorted(os.scandir(root), key=lambda e: e.name) if e.is_dir())
    return tuple(m for m in found if m)


def choose(models: tuple[QwenModel, ...], free_gb: float, gpu: bool, want_vision: bool) -> tuple[QwenModel, str]:
    """The model `auto` takes, and why in words. Raises EnhancerError when none fits."""
    where = "VRAM" if gpu else "RAM"
    if not models:
        raise EnhancerError("no Qwen model installed", hint="use --enhance template, or put one under <models>/LLM/")
    fitting = [m for m in models if m.need_gb(gpu) <= free_gb]
    if not fitting:
        smallest = min(models, key=lambda m: m.params_b)
        raise EnhancerError(
            f"no Qwen model fits in {free_gb:.1f} GB of free {where} (the smallest, {smallest.name}, needs "
            f"about {smallest.need_gb(gpu):.1f} GB)",
            hint="use --enhance template, or a smaller model",
        )
    best = max(fitting, key=lambda m: (m.vision == want_vision, m.params_b))
    kind = "vision-language" if best.vision else "text"
    size = f"{best.params_b:.1f}B" if best.params_b >= 0.1 else f"{best.params_b * 1000:.2f}M"
    why = "images to look at: vision-language models first" if want_vision else "no images: text models first"
    return best, (
        f"{best.name} ({kind}, ~{size} parameters, needs about {best.need_gb(gpu):.1f} GB): "
        f"the largest that fits in {free_gb:.1f} GB of free {where}; {why}"
    )


def resolve(spec: str, models_root: str) -> QwenModel:
    """A model given as a folder path or as a name under <models>/LLM/."""
    for folder in (spec, os.path.join(llm_dir(models_root), spec)):
        if os.path.isdir(folder):
            found = classify(folder)
            if found is None:
                raise EnhancerError(
                    "not a Qwen2/Qwen2.5/Qwen3 or Qwen2.5-VL folder (config.json model_type)", where=folder
                )
            return found
    names = ", ".join(m.name for m in discover(models_root)) or "none"
    raise EnhancerError(
        f"no Qwen model {spec!r} (installed under {llm_dir(models_root)}: {names})",
        hint="pass a folder path, a name from that list, auto or template",
    )
