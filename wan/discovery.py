"""Find WAN models on disk and recognise them by their configs, not their folder names.

A diffusers folder has `model_index.json` (the pipeline class and its components) and a
`transformer/config.json` whose shape tells the family and size: two experts (`transformer_2`) is
Wan 2.2 A14B, 48 latent channels is Wan 2.2 TI2V-5B, an image projection (`image_dim`) is Wan 2.1
I2V, a doubled image sequence (`pos_embed_seq_len`) is FLF2V; the hidden size (heads x head dim)
gives 1.3B (1536), 5B (3072) or 14B (5120). Any other hidden size is a tiny test model, which can
stand in for every size of its family (that is how the tests run every mode without weights).
Pure: reads JSON files only; no torch.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from .errors import RenderError
from .registry import get_model

ENV_MODELS = "WAN_WEAVE_MODELS"
SIZES = {1536: "1.3b", 3072: "5b", 5120: "14b"}
TINY = "tiny"


class ModelNotFoundError(RenderError):
    """No folder for the model the plan asks for."""


@dataclass(frozen=True)
class FoundModel:
    path: str
    family: str  # e.g. "wan2.1-t2v", "wan2.2-i2v-a14b"
    size: str  # "1.3b", "5b", "14b" or "tiny"
    pipeline: str

    @property
    def name(self) -> str:
        """The registry name, or the family plus "tiny" for a test model."""
        if self.size == TINY:
            return f"{self.family}-tiny"
        if self.family.endswith("-a14b") or self.family == "wan2.2-ti2v-5b":
            return self.family
        suffix = ""
        if self.family == "wan2.1-i2v":
            suffix = "-480p"  # 480P and 720P share a shape; 480P is the default
        if self.family == "wan2.1-flf2v":
            suffix = "-720p"
        return f"{self.family}-{self.size}{suffix}"

    def serves(self, model: str) -> bool:
        """Whether this folder can run the registry model `model`."""
        spec = get_model(model)
        if spec is None:
            return False
        if self.size == TINY:
            return model.startswith(self.family)
        if self.family == "wan2.1-i2v":
            return model.startswith(f"wan2.1-i2v-{self.size}")
        return model == self.name


def _read_json(path: str) -> dict | None:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def classify(folder: str) -> FoundModel | None:
    """The family and size of a diffusers WAN folder, or None if it is not one."""
    index = _read_json(os.path.join(folder, "model_index.json"))
    if not index:
        return None
    pipeline = str(index.get("_class_name", ""))
    if not pipeline.startswith("Wan"):
        return None
    config = _read_json(os.path.join(folder, "transformer", "config.json")) or {}
    hidden = int(config.get("num_attention_heads", 0)) * int(config.get("attention_head_dim", 0))
    size = SIZES.get(hidden, TINY)
    two_experts = "transformer_2" in index and index.get("transformer_2") not in (None, [None, None])
    if pipeline == "WanVACEPipeline":
        family = "wan2.1-vace"
    elif pipeline == "WanImageToVideoPipeline":
        if two_experts:
            family, size = "wan2.2-i2v-a14b", (TINY if size == TINY else "14b")
        elif config.get("pos_embed_seq_len"):
            family = "wan2.1-flf2v"
        else:
            family = "wan2.1-i2v"
    elif pipeline == "WanPipeline":
        if two_experts:
            family, size = "wan2.2-t2v-a14b", (TINY if size == TINY else "14b")
        elif int(config.get("in_channels", 16)) == 48:
            family, size = "wan2.2-ti2v-5b", (TINY if size == TINY else "5b")
        else:
            family = "wan2.1-t2v"
    else:
        return None
    return FoundModel(os.path.abspath(folder), family, size, pipeline)


def models_dir(explicit: str | None = None) -> str:
    return explicit or os.environ.get(ENV_MODELS) or os.path.join(os.getcwd(), "models", "wan")


def discover(root: str) -> tuple[FoundModel, ...]:
    """Every WAN folder up to two levels below `root` (root itself included)."""
    found = []
    if not os.path.isdir(root):
        return ()
    candidates = [root]
    for entry in sorted(os.scandir(root), key=lambda e: e.name):
        if entry.is_dir():
            candidates.append(entry.path)
            candidates += sorted(e.path for e in os.scandir(entry.path) if e.is_dir())
    for folder in candidates:
        model = classify(folder)
        if model:
            found.append(model)
    return tuple(found)


def find_model(root: str, model: str) -> FoundModel:
    """The best folder for `model`: an exact size first, a tiny stand-in after."""
    found = discover(root)
    matches = sorted((m for m in found if m.serves(model)), key=lambda m: m.size == TINY)
    if matches:
        return matches[0]
    spec = get_model(model)
    have = ", ".join(f"{m.name} ({m.path})" for m in found) or "nothing"
    repo = spec.repo_id if spec else "the model"
    raise ModelNotFoundError(
        f"no folder for {model} under {root} (found: {have})",
        hint=f"download {repo} into {os.path.join(root, model)}, or pass --models DIR",
    )
