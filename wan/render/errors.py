"""Errors of the render runner."""

from __future__ import annotations

from movement.errors import WanWeaveError


class RenderError(WanWeaveError):
    """A render that cannot run (unwritable output folder, a clip that cannot be saved)."""


class RenderCancelled(RenderError):
    """The user stopped the render; finished clips and the manifest stay on disk."""
