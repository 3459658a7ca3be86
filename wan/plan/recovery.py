"""What to try after running out of GPU memory in a clip (pure): the next lower memory profile,
then VAE tiling with smaller tiles, then (only if the user allowed it) a lower resolution."""

from __future__ import annotations

from dataclasses import dataclass

ORDER = ("full", "balanced", "low", "minimal")


@dataclass(frozen=True)
class Attempt:
    profile: str
    vae_tiling: bool
    tile: int | None  # VAE tile size in pixels; None: diffusers' default
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
    if not current.vae_tiling or (current.tile or 512) > 256:
        tile = 256 if current.vae_tiling else None
        return Attempt(current.profile, True, tile, current.width, current.height,
                       "out of memory with 'minimal': smaller VAE tiles")  # fmt: skip
    if allow_lower_resolution:
        scale = 0.85
        w = max(multiple, int(current.width * scale) // multiple * multiple)
        h = max(multiple, int(current.height * scale) // multiple * multiple)
        if (w, h) != (current.width, current.height):
            return Attempt(current.profile, True, current.tile, w, h,
                           f"out of memory at {current.width}x{current.height}: trying {w}x{h} (allowed)")  # fmt: skip
    return None
