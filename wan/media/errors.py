"""Errors of the media layer (video files, soundtrack, joins)."""

from __future__ import annotations

from movement.errors import WanWeaveError


class MediaError(WanWeaveError):
    """A video or audio file that cannot be read or written (missing input, ffmpeg failure)."""


class UpscalerError(MediaError):
    """An upscaler model that cannot be found, read or run (missing file, not an image model, no spandrel)."""


class GradeError(MediaError):
    """A colour grade or sharpening value out of its range."""
