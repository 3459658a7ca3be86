"""Typed errors shared by the whole product.

Every error a user can cause says what was wrong, where (file, key, frame) and what to do,
so the CLI can print it as one line and the UI can show it as it is.
"""

from __future__ import annotations


class WanWeaveError(Exception):
    """Base of every error a user can cause; the CLI prints it without a traceback."""

    def __init__(self, reason: str, *, where: str = "", hint: str = "") -> None:
        self.reason = reason
        self.where = where
        self.hint = hint
        super().__init__(self.one_line())

    def one_line(self) -> str:
        parts = [f"{self.where}: {self.reason}" if self.where else self.reason]
        if self.hint:
            parts.append(self.hint)
        return "; ".join(parts)


class ExpressionError(WanWeaveError):
    """A schedule or prompt expression that we refuse to evaluate or cannot evaluate."""


class SettingsError(WanWeaveError):
    """A Deforum settings file (or one of its values) we cannot read as Deforum would."""

    def __init__(
        self,
        reason: str,
        *,
        file: str = "",
        key: str = "",
        frame: int | None = None,
        hint: str = "",
    ) -> None:
        self.file = file
        self.key = key
        self.frame = frame
        where = ", ".join(
            p
            for p in (
                file,
                f"key {key!r}" if key else "",
                f"frame {frame}" if frame is not None else "",
            )
            if p
        )
        super().__init__(reason, where=where, hint=hint)
