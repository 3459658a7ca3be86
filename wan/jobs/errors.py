"""Errors of the jobs layer (queue, batch, worker, API)."""

from __future__ import annotations

from movement.errors import WanWeaveError


class JobError(WanWeaveError):
    """A queue, batch input or worker that cannot do what was asked; says which job or file."""
