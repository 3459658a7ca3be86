"""Errors of the models layer (finding, reading and loading weights)."""

from __future__ import annotations

from movement.errors import WanWeaveError


class ModelError(WanWeaveError):
    """A model that cannot be found, read or loaded, or an option it cannot take; says which file."""
