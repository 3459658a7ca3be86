"""Test oracle: Deforum's keyframe-schedule algorithm, re-implemented for comparison.

This is *test code*, written independently of `movement/keyframes.py` from the description of
Deforum's FrameInterpolater (deforum-art/sd-webui-deforum, `parse_key_frames` and
`get_inbetweens`). It deliberately keeps Deforum's shape -- a per-frame Python loop that calls
`numexpr.evaluate` on the value text, a pandas Series and `Series.interpolate` -- so that it shares
no code and no cleverness with the vectorised product implementation.

Anything that makes Deforum raise (a missing frame 0, a trailing comma, a value numexpr cannot
evaluate, a schedule that is NaN everywhere, ...) is reported as `DeforumCrash`; tests use that to
decide whether an input belongs to "the grammar Deforum accepts".
"""

from __future__ import annotations

import re

import numexpr
import numpy as np
import pandas as pd

# Deforum's check_is_number pattern, applied with re.match after sanitize_value.
NUMBER_PATTERN = r"^(?=.)([+-]?([0-9]*)(\.([0-9]+))?)$"


class DeforumCrash(Exception):
    """Deforum itself would raise on this input (so there is no value to compare with)."""


def sanitize(value: str) -> str:
    """Deforum's sanitize_value: drop every ' " ( and )."""
    return value.replace("'", "").replace('"', "").replace("(", "").replace(")", "")


def check_is_number(value: str) -> bool:
    return re.match(NUMBER_PATTERN, value) is not None


def strip_one_outer_quote_pair(text: str) -> str:
    """Deforum's frame-key dance: remove the first ' and the first ", then (on the reversed
    string) the last ' and the last "."""
    text = text.replace("'", "", 1).replace('"', "", 1)
    text = text[::-1].replace("'", "", 1).replace('"', "", 1)
    return text[::-1]


def _numexpr(text: str, **names: int) -> np.ndarray:
    """numexpr.evaluate seeing exactly the given names (Deforum passes its stack frame's locals;
    an explicit, empty global_dict keeps this module's globals out of reach)."""
    return numexpr.evaluate(text, local_dict=dict(names), global_dict={})


def parse_key_frames(string: str, *, max_frames: int, seed: int) -> dict[int, str]:
    """Deforum's parse_key_frames: a plain comma split, then a colon split per piece."""
    try:
        frames: dict[int, str] = {}
        for piece in string.split(","):
            param = piece.split(":")
            key_text = param[0]
            if check_is_number(sanitize(key_text.strip())):
                frame = int(sanitize(key_text))  # ValueError for "1.5", "+", ...: a crash
            else:
                result = _numexpr(strip_one_outer_quote_pair(key_text.strip()), max_f=max_frames - 1, s=seed)
                frame = int(result)
            frames[frame] = param[1].strip()  # IndexError when there is no ':': a crash
        if frames == {} and len(string) != 0:
            raise RuntimeError("Key Frame string not correctly formatted")
        return frames
    except DeforumCrash:
        raise
    except Exception as exc:
        raise DeforumCrash(f"{type(exc).__name__}: {exc}") from exc


def get_inbetweens(key_frames: dict[int, str], *, max_frames: int, seed: int) -> np.ndarray:
    """Deforum's get_inbetweens with interp_method='Linear', integer=False.

    Deforum writes into a float pandas Series one frame at a time. An expression value keeps being
    evaluated (with t = the frame) on every later frame until a frame that is a key; a number is
    stored only on its own frame. Then the first/last valid values are copied to frames 0 and
    max_frames-1 and pandas interpolates linearly in both directions.
    """
    try:
        values = np.full(max_frames, np.nan)
        value = None  # Deforum's `value` is unbound until frame 0 is a key -> crash
        value_is_number = None
        for i in range(max_frames):
            if i in key_frames:
                value = key_frames[i]
                value_is_number = check_is_number(sanitize(value))
                if value_is_number:
                    # Deforum stores the sanitized text; the later astype(float) parses it.
                    values[i] = float(sanitize(value))
            if not value_is_number:
                if value is None:
                    raise UnboundLocalError("local variable 'value' referenced before assignment")
                result = _numexpr(value, t=i, i=i, max_f=max_frames - 1, s=seed)
                # Series.astype(float) of whatever numexpr returned (bool, int or float).
                values[i] = np.asarray(result).astype(float)
        series = pd.Series(values, dtype=float)
        first, last = series.first_valid_index(), series.last_valid_index()
        if first is None:
            raise KeyError(None)  # Deforum does series[None]
        series[0] = series[first]
        series[max_frames - 1] = series[last]
        series = series.interpolate(method="linear", limit_direction="both")
        return series.to_numpy(dtype=float)
    except DeforumCrash:
        raise
    except Exception as exc:
        raise DeforumCrash(f"{type(exc).__name__}: {exc}") from exc


def deforum_schedule(string: str, *, max_frames: int, seed: int = -1) -> np.ndarray:
    """The per-frame float series Deforum computes for `string`, or DeforumCrash."""
    import warnings

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        frames = parse_key_frames(string, max_frames=max_frames, seed=seed)
        return get_inbetweens(frames, max_frames=max_frames, seed=seed)
