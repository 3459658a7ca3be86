"""Errors of prompt enhancement and the storyboard."""

from __future__ import annotations

from movement.errors import WanWeaveError


class EnhanceError(WanWeaveError):
    """A prompt model that cannot be found or loaded, or a storyboard that cannot be made."""
