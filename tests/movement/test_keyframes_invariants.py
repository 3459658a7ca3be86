"""Interpolation invariants of numeric schedules, whatever the keyframes."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from movement import evaluate_schedule

values = st.floats(-1000, 1000, allow_nan=False).map(lambda v: round(v, 4))


@st.composite
def numeric_schedules(draw):
    max_frames = draw(st.integers(1, 400))
    frames = draw(st.lists(st.integers(1, max_frames + 50), max_size=8, unique=True))
    keys = {0: draw(values), **{f: draw(values) for f in frames}}
    text = ", ".join(f"{f}: ({v})" for f, v in keys.items())
    return max_frames, keys, text


@settings(max_examples=300, deadline=None)
@given(numeric_schedules())
def test_numeric_schedule_invariants(case):
    max_frames, keys, text = case
    series = evaluate_schedule(text, max_frames=max_frames)
    assert series.shape == (max_frames,) and series.dtype == np.float64
    assert not series.flags.writeable
    inside = sorted(f for f in keys if f < max_frames)
    # Every key frame carries its own value.
    for f in inside:
        assert series[f] == float(keys[f])
    # Between two keys the series is the straight line between them (so it stays within them).
    for a, b in zip(inside, inside[1:]):
        lo, hi = sorted((keys[a], keys[b]))
        segment = series[a : b + 1]
        assert np.all(segment >= lo - 1e-9) and np.all(segment <= hi + 1e-9)
        expected = np.linspace(keys[a], keys[b], b - a + 1)
        np.testing.assert_allclose(segment, expected, rtol=1e-12, atol=1e-9)
    # After the last key inside the range the value is held (keys past the end are ignored).
    assert np.all(series[inside[-1] :] == float(keys[inside[-1]]))


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 200), values, st.integers(0, 50))
def test_expression_holds_until_next_key_and_is_not_interpolated(max_frames, value, switch):
    text = f"0: ({value}+0*t), {switch + 1}: (7)"
    series = evaluate_schedule(text, max_frames=max_frames)
    end = min(switch + 1, max_frames)
    assert np.all(series[:end] == float(value))
    assert np.all(series[end:] == 7.0)
