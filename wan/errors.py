"""Errors of the plan and the render shell (all are WanWeaveError: one line, exit 2)."""

from __future__ import annotations

from movement.errors import WanWeaveError


class PlanError(WanWeaveError):
    """Options or a plan.json that cannot make a valid plan; says what to change."""


class RenderError(WanWeaveError):
    """A render that cannot run (missing input, unwritable output, ffmpeg failure)."""
