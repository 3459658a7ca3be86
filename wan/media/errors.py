"""Errors of the media layer (video files, soundtrack, joins)."""

from __future__ import annotations

from movement.errors import WanWeaveError


class MediaError(WanWeaveError):
    """A video or audio file that cannot be read or written (missing input, ffmpeg failure)."""
