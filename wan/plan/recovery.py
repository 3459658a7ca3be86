"""What to try after running out of GPU memory in a clip (pure): the next lower memory profile,
then VAE tiling with smaller tiles, then (only if the user allowed it) a lower resolution."""

from __future__ import annotations

from dataclasses import dataclass

ORDER = ("full", "balanced", "low", "minimal")
DEFAULT_TILE = 256  # AutoencoderKLWan's own tile (stride 192)
MIN_TILE = 128


@dataclass(frozen=True)
class Attempt:
    profile: str
    vae_tiling: bool
    tile: int | None  # VAE tile size in pixels; None: diffusers' default (DEFAULT_TILE)
    width: int
    height: int
    reason: str


def next_attempt(current: Attempt, allow_lower_resolution: bool, multiple: int) -> Attempt | None:
    """The step after `current` ran out of memory, or None when nothing is left to try."""
    if current.profile in ORDER[:-1]:
        profile = ORDER[ORDER.index(current.profile) + 1]
        return Attempt(profile, profile in ("low", "minimal") or current.vae_tiling, current.tile, current.width,
                       current.height, f"out of memory with '{current.profile}': trying '{profile}'")  # fmt: skip
    if current.profile not in ORDER:  # "auto" or "cpu": start the ladder at full
        return Attempt("balanced", current.vae_tiling, current.tile, current.width, current.height,
                       f"out of memory with '{current.profile}': trying 'balanced'")  # fmt: skip
    if not current.vae_tiling:
        return Attempt(current.profile, True, None, current.width, current.height,
                       f"out of memory with '{current.profile}': VAE tiling ({DEFAULT_TILE} px tiles)")  # fmt: skip
    if (current.tile or DEFAULT_TILE) > MIN_TILE:
        tile = (current.tile or DEFAULT_TILE) - 64
        return Attempt(current.profile, True, tile, current.width, current.height,
                       f"out of memory with '{current.profile}': smaller VAE tiles ({tile} px)")  # fmt: skip
    if allow_lower_resolution:
        scale = 0.85
        w = max(multiple, int(current.width * scale) // multiple * multiple)
        h = max(multiple, int(current.height * scale) // multiple * multiple)
        if (w, h) != (current.width, current.height):
            return Attempt(current.profile, True, current.tile, w, h,
                           f"out of memory at {current.width}x{current.height}: trying {w}x{h} (allowed)")  # fmt: skip
    return None
