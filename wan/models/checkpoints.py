"""Single-file `.safetensors` WAN transformers: what they are, read from the file's header alone.

A single file holds only the transformer (the original Wan release, ComfyUI repacks, fine-tunes),
in the original Wan key names (`blocks.0.self_attn.q.weight`, maybe under `model.diffusion_model.`)
or in diffusers' (`blocks.0.attn1.to_q.weight`). The text encoder, tokenizer, VAE and the
transformer's config come from a diffusers folder of the same family and size (the "base"):
the config is always given explicitly, never guessed by diffusers, because the shapes cannot tell
Wan 2.2 A14B's experts from Wan 2.1 14B, and diffusers does not know Wan 2.2 TI2V-5B's shape.
Wan 2.2 A14B comes as two files whose names say `high_noise` and `low_noise`.

Pure: reads the 8-byte length and the JSON header, never the tensors; no torch.
"""

from __future__ import annotations

import json
import os
import re
import struct
from dataclasses import dataclass

SIZES = {1536: "1.3b", 3072: "5b", 5120: "14b"}
TINY = "tiny"
PREFIX = "model.diffusion_model."
MAX_HEADER = 64 * 2**20  # real headers are < 2 MiB; a bigger one is not a safetensors file
EXPERT = re.compile(r"(high|low)[_\-\s]?noise", re.IGNORECASE)


@dataclass(frozen=True)
class Checkpoint:
    path: str
    family: str  # as in discovery: "wan2.1-t2v", "wan2.2-i2v-a14b", ...
    size: str  # "1.3b", "5b", "14b" or "tiny"
    expert: str | None  # "high" / "low" for a Wan 2.2 A14B expert, else None
    key_format: str  # "wan" (original names) or "diffusers"
    scaled_fp8: bool = False  # ComfyUI fp8_scaled: per-layer scale_weight tensors diffusers would drop

    @property
    def pair_name(self) -> str:
        """The file name without its high/low-noise marker: both experts of one model share it."""
        return EXPERT.sub("noise", os.path.basename(self.path)).lower()


def read_header(path: str) -> dict[str, list[int]]:
    """Tensor name -> shape, from a safetensors header. Raises ValueError if it is not one, or if
    the file is shorter than its header says (an interrupted download)."""
    with open(path, "rb") as fh:
        raw = fh.read(8)
        if len(raw) != 8:
            raise ValueError("shorter than a safetensors header")
        (length,) = struct.unpack("<Q", raw)
        if not 2 <= length <= MAX_HEADER:
            raise ValueError(f"header length {length} is not plausible")
        try:
            header = json.loads(fh.read(length))
        except (ValueError, UnicodeDecodeError):
            raise ValueError("the header is cut off or not JSON") from None
    if not isinstance(header, dict):
        raise ValueError("header is not a JSON object")
    ends = [e.get("data_offsets") for e in header.values() if isinstance(e, dict)]
    ends = [o[1] for o in ends if isinstance(o, list) and len(o) == 2]
    if not all(type(end) is int and end >= 0 for end in ends):
        raise ValueError("the header's data offsets are not byte positions")
    expected = 8 + length + max(ends, default=0)
    size = os.path.getsize(path)
    if size < expected:
        raise ValueError(f"truncated: {size:,} of the {expected:,} bytes its header describes")
    return {
        name.removeprefix(PREFIX): list(entry.get("shape", []))
        for name, entry in header.items()
        if name != "__metadata__" and isinstance(entry, dict)
    }


def scaled_fp8(names) -> bool:
    """ComfyUI's fp8_scaled files: fp8 weights, each with a `scale_weight` to multiply by. diffusers'
    single-file loader drops the scales, so the weights would load tens of times off (noise)."""
    return any(n == "scaled_fp8" or n.endswith(".scale_weight") for n in names)


def classify_checkpoint(path: str) -> Checkpoint | None:
    """The family and size of a single-file WAN transformer, or None if it is not one. Raises
    ValueError for a file that is not a readable safetensors file."""
    try:
        shapes = read_header(path)
    except OSError as exc:
        raise ValueError(str(exc)) from None
    patch = shapes.get("patch_embedding.weight")
    if not patch or len(patch) != 5:
        return None
    dim, in_channels = int(patch[0]), int(patch[1])
    size = SIZES.get(dim, TINY)
    key_format = "diffusers" if any(".attn1." in k for k in shapes) else "wan"
    names = shapes.keys()
    image_embed = any(k.startswith(("img_emb.", "condition_embedder.image_embedder.")) for k in names)
    two_images = "img_emb.emb_pos" in shapes or "condition_embedder.image_embedder.pos_embed" in shapes
    marker = EXPERT.search(os.path.basename(path))
    expert = marker.group(1).lower() if marker else None
    if any(k.startswith("vace_blocks.") for k in names):
        family = "wan2.1-vace"
    elif in_channels == 48:
        family, size = "wan2.2-ti2v-5b", (TINY if size == TINY else "5b")
    elif in_channels == 36 and two_images:
        family = "wan2.1-flf2v"
    elif in_channels == 36 and image_embed:
        family = "wan2.1-i2v"
    elif in_channels == 36:
        family = "wan2.2-i2v-a14b"  # image latents but no CLIP embedding: a Wan 2.2 expert
    elif in_channels == 16 and expert:
        family = "wan2.2-t2v-a14b"
    elif in_channels == 16:
        family = "wan2.1-t2v"
    else:
        return None
    if not family.endswith("-a14b"):
        expert = None
    elif size != TINY:
        size = "14b"
    return Checkpoint(os.path.abspath(path), family, size, expert, key_format, scaled_fp8(names))
