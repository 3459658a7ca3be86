"""Errors of the tab and the standalone app."""

from __future__ import annotations

from movement.errors import WanWeaveError


class AppError(WanWeaveError):
    """The app cannot start (gradio missing, a port in use); says how to run it."""
