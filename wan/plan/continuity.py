"""How clips are joined: the continuity settings a plan carries (pure data, no OpenCV).

Presets from the product's first notes (seed 001): `standard`, `fast_motion`, `slow` differ in
how far the previous clip reaches into the new one (`blend_strength`), how much of the blend is
motion-compensated (`motion_weight`) and how wide the spatial mask is (`mask_sigma`, a fraction of
the frame diagonal). `off` joins clips as they come. The operations are in wan/media/joins.py.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

BLENDS = ("none", "linear", "cosine", "flow")
COLORS = ("none", "lab", "hist")


@dataclass(frozen=True)
class Continuity:
    preset: str = "standard"
    blend: str = "flow"  # how overlapping frames are mixed
    blend_strength: float = 0.8  # the previous clip's largest share at the start of the overlap
    motion_weight: float = 0.3  # share of the flow-aligned blend (the rest is a plain crossfade)
    mask_sigma: float = 0.35  # spatial Gaussian of the aligned blend, fraction of the diagonal
    color: str = "lab"  # colour correction at each join
    color_strength: float = 1.0  # 0: none, 1: full correction
    anchor_weight: float = 0.25  # pull toward the anchor's colour, against slow drift
    anchor: str | None = None  # an image path; None: the init image, else the film's first frame
    cuts: tuple[int, ...] = ()  # output frames where a clip starts with an intentional cut

    def check(self) -> None:
        if self.blend not in BLENDS or self.color not in COLORS:
            raise ValueError(f"blend must be one of {BLENDS} and color one of {COLORS}")
        for name in ("blend_strength", "motion_weight", "mask_sigma", "color_strength", "anchor_weight"):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise ValueError(f"{name} must be in 0..1, got {value}")


PRESETS = {
    "standard": Continuity(),
    "fast_motion": Continuity("fast_motion", blend_strength=0.6, motion_weight=0.4, mask_sigma=0.25),
    "slow": Continuity("slow", blend_strength=0.9, motion_weight=0.2, mask_sigma=0.5),
    "off": Continuity("off", blend="none", color="none"),
}


def continuity_from(preset: str = "standard", **overrides) -> Continuity:
    """A preset with some fields replaced (None leaves the preset's value)."""
    if preset not in PRESETS:
        raise ValueError(f"unknown continuity preset {preset!r}; use {', '.join(PRESETS)}")
    chosen = dataclasses.replace(PRESETS[preset], **{k: v for k, v in overrides.items() if v is not None})
    if "cuts" in overrides and overrides["cuts"] is not None:
        chosen = dataclasses.replace(chosen, cuts=tuple(sorted(int(c) for c in overrides["cuts"])))
    chosen.check()
    return chosen
