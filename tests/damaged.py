"""Hypothesis strategies for damaged files: any JSON value a user, a bad editor or a flipped disk
block can leave where a valid one stood (huge integers, non-finite floats, deep nesting, wrong types)."""

from __future__ import annotations

import copy

from hypothesis import strategies as st

HUGE = [10**400, -(10**400), 10**5000, 2**63, 2**64, -(2**63) - 1, 5e-324, 1e308]
# Built when drawn: hypothesis prints its strategies, and a 5000-digit literal cannot be printed.
_HUGE_INTS = st.sampled_from([400, 5000]).map(lambda digits: 10**digits) | st.sampled_from([2**63, 2**64, -(2**63) - 1])
LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    _HUGE_INTS,
    st.sampled_from([5e-324, 1e308, -1e308]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(["../../outside/x", "/etc/passwd", "a/b", "..", ".", "", "\x00", "clips/../../x", "C:\\x"]),
)
VALUES = st.recursive(LEAVES, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                      max_leaves=12)  # fmt: skip


def deep(depth: int) -> object:
    value: object = 0
    for _ in range(depth):
        value = [value]
    return value


@st.composite
def damaged(draw, valid: dict, extra_paths: tuple[tuple, ...] = ()) -> object:
    """`valid` with one to three places replaced, removed, or the whole thing replaced."""
    if draw(st.integers(0, 19)) == 0:
        return draw(st.one_of(VALUES, st.sampled_from([deep(5000), deep(100)])))
    data = copy.deepcopy(valid)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(data) + list(extra_paths)))
        _replace(data, path, draw(st.one_of(VALUES, st.just(_REMOVE), st.just(deep(3000)))))
    return data


_REMOVE = object()


def _paths(data, prefix=()) -> list[tuple]:
    out = []
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for key, value in items:
        out.append((*prefix, key))
        if isinstance(value, (dict, list)) and len(prefix) < 3:
            out += _paths(value, (*prefix, key))
    return out


def _replace(data, path: tuple, value) -> None:
    target = data
    for key in path[:-1]:
        try:
            target = target[key]
        except (KeyError, IndexError, TypeError):
            return
    if not isinstance(target, (dict, list)):
        return
    if value is _REMOVE:
        if isinstance(target, dict):
            target.pop(path[-1], None)
        return
    try:
        target[path[-1]] = value
    except (IndexError, TypeError):
        pass


def dump(value) -> str:
    """JSON text for `value`, as a file on disk could hold it even where json.dumps refuses (numbers
    over 4300 digits, nesting deeper than the stack)."""
    import json
    import sys

    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        return json.dumps(value)
    except RecursionError:
        return "[" * 5000 + "]" * 5000
    finally:
        sys.set_int_max_str_digits(limit)
