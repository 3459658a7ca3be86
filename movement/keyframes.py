"""Deforum keyframe strings -> per-frame float64 series, value-identical to Deforum.

Deforum's rules (FrameInterpolater in deforum-art/sd-webui-deforum), which we reproduce:
- the string is split on "," into `frame: (value)` pieces, each split on ":" (text after a
  second ":" is ignored); a frame key that is not a plain number is an expression of `max_f`
  and `s`, truncated to int; a later duplicate key wins;
- a value is a *number* when, with all quotes and brackets removed, it matches Deforum's number
  pattern (so `( 1.0 )` with spaces, `1e-3` and `1.` are expressions, not numbers);
- numbers are linearly interpolated; an expression is evaluated at every frame from its key
  until the next key, with `t` = frame, `max_f` = max_frames - 1, `s` = seed;
- keys >= max_frames are ignored; the first value is held backwards and the last one forwards;
  frames where an expression gives NaN are interpolated like missing frames.

Where Deforum crashes we do better, documented in docs/schedules.md: a comma inside brackets
(`where(t>5, 1, 2)`) belongs to the expression; a missing frame 0 holds the first keyframe
backwards; empty pieces (a trailing comma) are skipped; a bare JSON number is a constant.
Everything else that Deforum cannot read raises SettingsError naming the key and keyframe.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .errors import ExpressionError, SettingsError
from .expr import Expression, compile_expression

# Deforum's check_is_number, applied after quotes and brackets are removed.
_NUMBER = re.compile(r"^(?=.)([+-]?([0-9]*)(\.([0-9]+))?)$")
MAX_SCHEDULE_CHARS = 512 * 1024
# Deforum evaluates a value with numexpr in get_inbetweens' own frame, whose loop variable `i` is the
# frame index like `t`: real settings use either.
VALUE_NAMES = ("t", "i", "max_f", "s")
FRAME_KEY_NAMES = ("max_f", "s")


@dataclass(frozen=True)
class Keyframe:
    frame: int
    text: str
    number: float | None = None
    expression: Expression | None = None


def _sanitize(text: str) -> str:
    return text.replace("'", "").replace('"', "").replace("(", "").replace(")", "")


def is_deforum_number(text: str) -> bool:
    return _NUMBER.match(text) is not None


def _strip_outer_quotes(text: str) -> str:
    # Deforum removes the first ' and " and then the last ' and " of a frame-key expression.
    text = text.replace("'", "", 1).replace('"', "", 1)[::-1]
    return text.replace("'", "", 1).replace('"', "", 1)[::-1]


def _split_top_level(text: str) -> list[str]:
    pieces, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif ch == "," and depth == 0:
            pieces.append(text[start:i])
            start = i + 1
    pieces.append(text[start:])
    return pieces


def split_pieces(text: str) -> list[str]:
    """Deforum's plain comma split when it would succeed, else a bracket-aware split."""
    naive = [p for p in text.split(",") if p.strip()]
    if all(":" in p for p in naive):
        return naive
    return [p for p in _split_top_level(text) if p.strip()]


def parse_keyframes(
    text: str | int | float, *, max_frames: int, seed: int = -1, key: str = "", file: str = ""
) -> tuple[Keyframe, ...]:
    """Keyframes sorted by frame, duplicates resolved as Deforum does (last one wins)."""

    def error(reason: str, hint: str = "", frame: int | None = None) -> SettingsError:
        return SettingsError(reason, file=file, key=key, frame=frame, hint=hint)

    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        raise error(f'expected a schedule string like "0: (1.0), 30: (2.0)", got {type(text).__name__}')
    if not isinstance(text, str):
        try:
            number = float(text)
        except OverflowError:
            raise error("the number is too large") from None
        if not np.isfinite(number):
            raise error(f"value {text!r} is not a finite number")
        return (Keyframe(0, repr(number), number),)
    if len(text) > MAX_SCHEDULE_CHARS:
        raise error(
            f"schedule is {len(text)} characters long (limit {MAX_SCHEDULE_CHARS})",
            hint="this is not a schedule a person wrote; check the file",
        )
    pieces = split_pieces(text)
    if not pieces:
        raise error("empty schedule", hint='write at least "0: (value)"')
    found: dict[int, str] = {}
    for piece in pieces:
        parts = piece.split(":")
        if len(parts) < 2:
            raise error(
                f"keyframe {piece.strip()!r} has no 'frame:' part",
                hint='write keyframes as "frame: (value)", separated by commas',
            )
        frame = _frame_key(parts[0], max_frames=max_frames, seed=seed, error=error)
        found[frame] = parts[1].strip()
    # Like Deforum, a value is only read when it is used: a key past the end, before frame 0 or
    # replaced by a later duplicate may hold anything.
    return tuple(_keyframe(f, found[f], error) if 0 <= f < max_frames else Keyframe(f, found[f]) for f in sorted(found))


def _frame_key(text: str, *, max_frames: int, seed: int, error) -> int:
    plain = _sanitize(text)
    if is_deforum_number(_sanitize(text.strip())):
        try:
            return int(plain)
        except ValueError:
            raise error(f"frame {text.strip()!r} is not a whole number", hint="use 0, 1, 2, ...") from None
    expr_text = _strip_outer_quotes(text.strip())
    try:
        expr = compile_expression(expr_text, FRAME_KEY_NAMES)
        value = float(expr.evaluate({"max_f": max_frames - 1, "s": seed}))
    except ExpressionError as exc:
        raise error(f"frame key {text.strip()!r}: {exc.one_line()}") from None
    if not np.isfinite(value):
        raise error(f"frame key {text.strip()!r} is not a finite number")
    return int(value)


def _keyframe(frame: int, value: str, error) -> Keyframe:
    plain = _sanitize(value)
    if is_deforum_number(plain):
        try:
            return Keyframe(frame, value, float(plain))
        except ValueError:
            raise error(f"value {value!r} is not a number", frame=frame) from None
    try:
        return Keyframe(frame, value, expression=compile_expression(value, VALUE_NAMES))
    except ExpressionError as exc:
        raise error(exc.one_line(), frame=frame) from None


def evaluate_keyframes(
    keyframes: tuple[Keyframe, ...], *, max_frames: int, seed: int = -1, key: str = "", file: str = ""
) -> np.ndarray:
    """Per-frame float64 series of length max_frames (read-only)."""
    in_range = [k for k in keyframes if 0 <= k.frame < max_frames and (k.number is not None or k.expression)]
    if not in_range:
        raise SettingsError(
            f"no keyframe between frame 0 and max_frames-1 ({max_frames - 1})",
            file=file,
            key=key,
            hint='add a keyframe "0: (value)"',
        )
    values = np.full(max_frames, np.nan)
    ends = [k.frame for k in in_range[1:]] + [max_frames]
    for kf, end in zip(in_range, ends):
        if kf.expression is None:
            values[kf.frame] = kf.number
        else:
            t = np.arange(kf.frame, end, dtype=np.int64)
            env = {"t": t, "i": t, "max_f": max_frames - 1, "s": seed}
            try:
                values[kf.frame : end] = np.broadcast_to(kf.expression.evaluate(env), t.shape)
            except ExpressionError as exc:
                raise SettingsError(exc.one_line(), file=file, key=key, frame=kf.frame) from None
    valid = np.flatnonzero(~np.isnan(values))
    if valid.size == 0:
        raise SettingsError(
            "the schedule is not a number at any frame (NaN everywhere)",
            file=file,
            key=key,
            hint="check for sqrt or log of negative values",
        )
    values[0] = values[valid[0]]
    values[-1] = values[valid[-1]]
    missing = np.isnan(values)
    if missing.any():
        known = np.flatnonzero(~missing)
        values[missing] = np.interp(np.flatnonzero(missing), known, values[known])
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise SettingsError(
            f"the schedule reaches {values[bad[0]]} (not a finite number)",
            file=file,
            key=key,
            frame=int(bad[0]),
            hint="check for division by zero or overflow",
        )
    values.flags.writeable = False
    return values


def evaluate_schedule(
    text: str | int | float, *, max_frames: int, seed: int = -1, key: str = "", file: str = ""
) -> np.ndarray:
    keyframes = parse_keyframes(text, max_frames=max_frames, seed=seed, key=key, file=file)
    return evaluate_keyframes(keyframes, max_frames=max_frames, seed=seed, key=key, file=file)


def evaluate_text_schedule(
    text: str, *, max_frames: int, seed: int = -1, key: str = "", file: str = ""
) -> tuple[str, ...]:
    """String schedules (sampler, checkpoint, masks): each value held until the next key."""
    if not isinstance(text, str):
        raise SettingsError(f"expected text, got {type(text).__name__}", file=file, key=key)
    found: dict[int, str] = {}
    for piece in split_pieces(text):
        parts = piece.split(":")
        if len(parts) < 2:
            raise SettingsError(f"keyframe {piece.strip()!r} has no 'frame:' part", file=file, key=key)
        frame = _frame_key(
            parts[0],
            max_frames=max_frames,
            seed=seed,
            error=lambda reason, hint="", frame=None: SettingsError(reason, file=file, key=key, hint=hint),
        )
        found[frame] = _sanitize(parts[1].strip())
    keys = sorted(f for f in found if 0 <= f < max_frames)
    if not keys:
        raise SettingsError("no keyframe before max_frames", file=file, key=key)
    out = []
    current = found[keys[0]]
    for frame in range(max_frames):
        if frame in found:
            current = found[frame]
        out.append(current)
    return tuple(out)
