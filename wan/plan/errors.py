"""Errors of the plan layer. Like every layer's errors they are WanWeaveError: one line, exit 2."""

from __future__ import annotations

from movement.errors import WanWeaveError


class PlanError(WanWeaveError):
    """Options or a plan.json that cannot make a valid plan; says what to change."""
