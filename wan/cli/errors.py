"""Errors of the command line."""

from __future__ import annotations

from movement.errors import WanWeaveError


class UsageError(WanWeaveError):
    """A bad command line."""
