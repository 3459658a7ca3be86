"""Errors of the engines (their inputs and the pipeline calls)."""

from __future__ import annotations

from movement.errors import WanWeaveError


class EngineError(WanWeaveError):
    """A clip that an engine cannot generate: a missing conditioning image, a mode it lacks."""
