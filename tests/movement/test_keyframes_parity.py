"""Keyframe schedules: value-for-value parity with Deforum (via tests/movement/deforum_oracle.py) on
random schedules in Deforum's grammar, and a SettingsError wherever Deforum fails."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from movement import SettingsError, evaluate_schedule
from tests.movement.deforum_oracle import DeforumCrash, deforum_schedule
from tests.movement.deforum_oracle import parse_key_frames as parse_key_frames_deforum

# ---------------------------------------------------------------------------------------------
# Strategies: schedule strings in the grammar Deforum accepts
# ---------------------------------------------------------------------------------------------

WS = st.sampled_from(["", "", " ", "  ", "\t", "\n", " \n "])

# Kinds, as numexpr types them: integer or floating point (no booleans as standalone values).
INT, FLOAT = "int", "float"


def _p(text: str) -> str:
    return f"({text})"


@st.composite
def number_spellings(draw) -> str:
    """Text Deforum reads as a *number*: after dropping quotes and brackets it matches
    ^[+-]?[0-9]*(\\.[0-9]+)?$ with at least one digit."""
    sign = draw(st.sampled_from(["", "", "+", "-"]))
    whole = draw(st.sampled_from(["", "0", "1", "2", "3", "10", "007", "42", "1234"]))
    frac = draw(st.sampled_from(["", "", ".5", ".25", ".0", ".125", ".333", ".75", ".001"]))
    if not whole and not frac:
        whole = "1"
    core = sign + whole + frac
    style = draw(st.integers(0, 5))
    if style == 0:
        return core
    if style == 1:
        return _p(core)
    if style == 2:
        return "((" + core + "))"
    if style == 3:
        q = draw(st.sampled_from(["'", '"']))
        return f"{q}{core}{q}"
    if style == 4:
        opener = draw(st.sampled_from(["('", '("', "'(", '"(']))
        return opener + core + draw(st.sampled_from(["')", '")', ")'", ')"']))
    # Sprinkle quotes/brackets anywhere: Deforum's sanitize removes them all ("(1)(2)" is 12).
    chars = list(core)
    for _ in range(draw(st.integers(1, 4))):
        chars.insert(draw(st.integers(0, len(chars))), draw(st.sampled_from(list("()'\""))))
    return "".join(chars)


def _int_const(draw) -> tuple[str, str, bool]:
    v = draw(st.integers(-20, 1000))
    return (_p(str(v)) if v < 0 else str(v), INT, False)


def _float_const(draw) -> tuple[str, str, bool]:
    text = draw(
        st.one_of(
            st.sampled_from(["0.5", ".25", "1.0", "2.", "1e-3", "1E2", "3.14159", "0.002", "1.0025", "1.5e1"]),
            st.floats(-100, 100, allow_nan=False).map(repr),
        )
    )
    return (_p(text) if text.startswith("-") else text, FLOAT, False)


def _leaf(draw) -> tuple[str, str, bool]:
    which = draw(st.integers(0, 5))
    if which == 0:
        return ("t", INT, True)
    if which == 1:
        return ("max_f", INT, True)
    if which == 2:
        return ("s", INT, True)
    if which == 3:
        return _int_const(draw)
    return _float_const(draw)


def _nonzero(draw) -> tuple[str, str, bool]:
    """A denominator that is never 0 (so no inf, and no ZeroDivisionError from numexpr's
    Python-level evaluation of constant sub-expressions)."""
    which = draw(st.integers(0, 4))
    if which == 0:
        v = draw(st.integers(1, 50)) * draw(st.sampled_from([1, -1]))
        return (_p(str(v)), INT, False)
    if which == 1:
        return (draw(st.sampled_from(["0.5", "2.5", "3.0", "7.25", "(-1.5)", "30"])), FLOAT, False)
    if which == 2:
        return ("(t+1)", INT, True)
    if which == 3:
        return ("(max_f+1)", INT, True)
    inner = _tree(draw, 1)
    return (f"(abs({inner[0]})+{draw(st.sampled_from(['1', '0.5', '2']))})", FLOAT, inner[2])


def _tree(draw, depth: int) -> tuple[str, str, bool]:
    """(text, kind, has_variable) of a random Deforum value expression with no commas.

    Avoided on purpose: int ** negative int (numexpr refuses constants and wraps at run time,
    see the xfail tests), float % a divisor that is not a power of two (numexpr's float modulo
    is a - floor(a/b)*b, see the xfail test), bool + bool (numexpr's logical or), functions of
    booleans (numexpr's float32) and division by something that can be 0.
    """
    ws = draw(st.sampled_from(["", " "]))
    if depth <= 0 or draw(st.integers(0, 3)) == 0:
        return _leaf(draw)
    op = draw(st.sampled_from(["+", "-", "*", "/", "%", "**", "neg", "func", "cmp"]))
    if op in "+-*":
        a, b = _tree(draw, depth - 1), _tree(draw, depth - 1)
        kind = INT if a[1] == b[1] == INT else FLOAT
        return (_p(f"{a[0]}{ws}{op}{ws}{b[0]}"), kind, a[2] or b[2])
    if op == "/":
        a, b = _tree(draw, depth - 1), _nonzero(draw)
        return (_p(f"{a[0]}{ws}/{ws}{b[0]}"), FLOAT, a[2] or b[2])
    if op == "%":
        a = _tree(draw, depth - 1)
        if a[1] == INT and draw(st.booleans()):
            b = draw(st.sampled_from(["3", "7", "(-4)", "(t+1)", "60", "(max_f+1)"]))
            return (_p(f"{a[0]}{ws}%{ws}{b}"), INT, True)
        b = draw(st.sampled_from(["0.5", "0.25", "2.0", "1.0", "(-0.5)", "4", "8.0"]))
        return (_p(f"{a[0]}{ws}%{ws}{b}"), FLOAT if a[1] == FLOAT or "." in b else INT, a[2])
    if op == "**":
        a = _tree(draw, depth - 1)
        if a[1] == INT and draw(st.booleans()):
            e = draw(st.sampled_from(["0", "1", "2", "3"]))
            return (_p(f"{a[0]}{ws}**{ws}{e}"), INT, a[2])
        e = draw(st.sampled_from(["0.5", "2.0", "1.5", "(-1.0)", "(-0.5)", "0.0", "3.0", "sin(t)", "0.25"]))
        return (_p(f"(abs({a[0]})+1){ws}**{ws}{e}"), FLOAT, a[2] or "t" in e)
    if op == "neg":
        a = _tree(draw, depth - 1)
        return (_p(f"-{a[0]}"), a[1], a[2])
    if op == "cmp":
        # (comparison) * number: numexpr promotes the boolean to a number, as we do.
        a, c = _tree(draw, depth - 1), _tree(draw, depth - 1)
        cmp = draw(st.sampled_from(["<", "<=", ">", ">=", "==", "!="]))
        b = draw(st.sampled_from(["5", "0", "10.5", "max_f/2", "(-1)"]))
        left = a[0] if a[2] else "t"
        return (_p(f"({left}{ws}{cmp}{ws}{b}){ws}*{ws}{c[0]}"), c[1], True)
    func = draw(
        st.sampled_from(
            ["sin", "cos", "tan", "arctan", "abs", "sqrt", "sqrt_abs", "exp_sin", "exp_neg", "log1p_abs", "log_abs1"]
        )
    )
    a = _tree(draw, depth - 1)
    text = {
        "sqrt_abs": f"sqrt(abs({a[0]}))",
        "exp_sin": f"exp(sin({a[0]}))",
        "exp_neg": f"exp(-abs({a[0]})/10)",
        "log1p_abs": f"log1p(abs({a[0]}))",
        "log_abs1": f"log(abs({a[0]})+1)",
    }.get(func, f"{func}({a[0]})")
    # tan only of a bare leaf: near its poles a 1-ulp difference in the argument is amplified.
    if func == "tan":
        text = f"tan({_leaf(draw)[0]})"
    return (text, FLOAT, a[2])


@st.composite
def expression_values(draw) -> str:
    text = _tree(draw, draw(st.integers(1, 3)))[0]
    # Deforum users write "(expr)"; sometimes bare, sometimes padded inside the brackets.
    wrap = draw(st.sampled_from(["{}", "({})", "({})", "( {} )", "(({}))"]))
    return wrap.format(text)


def frame_spelling(draw, frame: int) -> str:
    """A frame key Deforum reads as the plain integer `frame`."""
    text = str(frame)
    style = draw(st.integers(0, 6))
    if style == 1 and frame >= 0:
        text = "0" * draw(st.integers(1, 2)) + text
    elif style == 2 and frame >= 0:
        text = "+" + text
    elif style == 3:
        text = f"'{text}'"
    elif style == 4:
        text = f'"{text}"'
    elif style == 5:
        text = f"({text})"
    elif style == 6:
        text = f'"({text})"'
    return text


EXPRESSION_KEYS = [
    "max_f",
    "max_f-1",
    "max_f-2",
    "max_f - 3",
    "max_f/2",
    "max_f*0.5",
    "max_f/3",
    "(max_f-5)",
    "max_f-100",
    "s%7",
    "abs(s)%11",
    "max_f+1",
    "0*max_f",
]


@st.composite
def frame_keys(draw, max_frames: int) -> str:
    if draw(st.integers(0, 3)) == 0:
        text = draw(st.sampled_from(EXPRESSION_KEYS))
        quote = draw(st.sampled_from(["", '"', "'"]))
        return f"{quote}{text}{quote}"
    return frame_spelling(draw, draw(st.integers(-3, max_frames + 5)))


@st.composite
def deforum_schedules(draw) -> tuple[str, int, int]:
    """(schedule text, max_frames, seed) with frame 0 present, as Deforum requires."""
    max_frames = draw(st.integers(1, 40))
    seed = draw(st.one_of(st.just(-1), st.integers(0, 2**32 - 1), st.integers(-50, 50)))
    values = st.one_of(number_spellings(), expression_values())
    pieces = [(frame_spelling(draw, 0), draw(values))]
    for _ in range(draw(st.integers(0, 6))):
        pieces.append((draw(frame_keys(max_frames)), draw(values)))
    # Frame 0 usually comes first, but Deforum does not care about order.
    if len(pieces) > 1 and draw(st.booleans()):
        pieces.insert(draw(st.integers(0, len(pieces) - 1)), pieces.pop(0))
    text = ",".join(f"{draw(WS)}{k}{draw(WS)}:{draw(WS)}{v}{draw(WS)}" for k, v in pieces)
    return text, max_frames, seed


def _never_evaluated_by_deforum(text: str, frame: int, max_frames: int, seed: int) -> bool:
    """Deforum only evaluates the value that ends up at an in-range frame: a key outside
    [0, max_frames) or one given again later is never looked at."""
    if not 0 <= frame < max_frames:
        return True
    keys = []
    for piece in text.split(","):
        try:
            keys.extend(parse_key_frames_deforum(piece, max_frames=max_frames, seed=seed))
        except DeforumCrash:
            pass
    return keys.count(frame) > 1


def _overflows_int64(text: str, max_frames: int, seed: int, limit: float = 2.0**63) -> bool:
    """True when some subexpression of some keyframe value reaches `limit` (int64's) for some frame."""
    import ast

    names = {"t": np.arange(max_frames, dtype=np.float64), "max_f": float(max_frames - 1), "s": float(seed)}
    for piece in text.split(","):
        value = piece.split(":")[1].strip() if ":" in piece else ""
        try:
            tree = ast.parse(value, mode="eval")
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.BinOp):
                try:
                    code = compile(ast.Expression(node), "<check>", "eval")
                    with np.errstate(all="ignore"):
                        result = eval(code, {"__builtins__": {}}, dict(names))  # trusted test-generated text
                except Exception:
                    continue
                if np.any(np.abs(np.asarray(result, dtype=np.float64)) >= limit):
                    return True
    return False


def assert_parity(text: str, max_frames: int, seed: int, *, allow_stricter: bool = False) -> None:
    """Ours equals Deforum where Deforum gives a finite series, and raises SettingsError where
    Deforum crashes or produces inf/NaN.

    `allow_stricter`: we check every keyframe value, Deforum only those it reaches, so a bad
    value under an ignored or overridden key raises here only (see
    test_bad_value_deforum_never_reads_is_accepted, a strict xfail)."""
    try:
        expected = deforum_schedule(text, max_frames=max_frames, seed=seed)
    except DeforumCrash:
        with pytest.raises(SettingsError):
            evaluate_schedule(text, max_frames=max_frames, seed=seed)
        return
    if not np.all(np.isfinite(expected)):
        with pytest.raises(SettingsError):
            evaluate_schedule(text, max_frames=max_frames, seed=seed)
        return
    try:
        ours = evaluate_schedule(text, max_frames=max_frames, seed=seed)
    except SettingsError as exc:
        if "integer overflow" in str(exc):
            # numexpr wraps int64 silently; we refuse instead (docs/schedules.md). Check it really
            # overflowed: the same schedule in float arithmetic leaves the int64 range.
            assert _overflows_int64(text, max_frames, seed)
            return
        if allow_stricter and exc.frame is not None and _never_evaluated_by_deforum(text, exc.frame, max_frames, seed):
            return
        raise
    assert ours.dtype == np.float64
    assert ours.shape == (max_frames,)
    if not np.allclose(ours, expected, rtol=1e-12, atol=1e-12) and _overflows_int64(text, max_frames, seed, 2.0**31):
        # numexpr types small integer constants (and a boolean times one) as int32 and wraps at 2**31;
        # we compute in int64 (docs/schedules.md, known differences).
        return
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-12, equal_nan=False)


# ---------------------------------------------------------------------------------------------
# Property tests
# ---------------------------------------------------------------------------------------------


@settings(max_examples=1200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(deforum_schedules())
@example(('0:(s), 1:(-1), "max_f-2":(-1), "max_f-1":(s)', 10, 42))
@example(("0: (1), 10: (2), 50: (100)", 20, -1))
@example(("0: ( 1.0 ), 10: (2.0)", 15, -1))
@example(("0:(sqrt(t-5)), 8:(1)", 12, -1))
@example(("0: (0.5*sin(i/10)), 30: (i*max_f/100)", 60, -1))  # Deforum's loop variable `i` is the frame too
def test_schedule_matches_deforum(case: tuple[str, int, int]) -> None:
    assert_parity(*case)


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 60), number_spellings(), number_spellings(), st.integers(0, 70))
def test_two_numbers_interpolate_like_deforum(max_frames: int, a: str, b: str, frame: int) -> None:
    assert_parity(f"0:{a}, {frame}:{b}", max_frames, -1)


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 60), expression_values(), st.integers(0, 70), number_spellings())
def test_expression_runs_until_next_key(max_frames: int, expr: str, frame: int, number: str) -> None:
    assert_parity(f"0: {expr}, {frame}: {number}", max_frames, 1234)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 50), st.integers(-1, 2**32 - 1))
def test_default_seed_schedule(max_frames: int, seed: int) -> None:
    assert_parity('0:(s), 1:(-1), "max_f-2":(-1), "max_f-1":(s)', max_frames, seed)


# Values and keys on which Deforum crashes or produces inf/NaN somewhere (we must then raise
# SettingsError), mixed with harmless ones. Left out: inputs where we knowingly do better than a
# Deforum crash (int ** negative int, x/0.0 with a constant 0.0, where() of a number,
# -(comparison)) or where numexpr allows more than we do (t.real).
RISKY_VALUES = [
    "( 007 )",
    "(1/(t-3))",
    "(log(t-3))",
    "(log(t))",
    "(1/t)",
    "(sqrt(t-100))",
    "(sqrt(t-5))",
    "''",
    "+",
    "-",
    "()",
    "( )",
    "",
    "(abc)",
    "(t[0])",
    "(1/0)",
    "(0**-1.0)",
    "(exp(t*100))",
    "(1e400)",
    "(-1e400)",
    "(t/0)",
    "(t%0)",
    "(t%0.0)",
    "'1'2",
    "1 2",
    "(t t)",
]
RISKY_KEYS = ["1.5", "+", "-", "abc", "'", "max_f+", "1e400", "max_f/0", "0/0", "", " ", "'max_f'-1", "t"]


@st.composite
def risky_schedules(draw) -> tuple[str, int, int]:
    text, max_frames, seed = draw(deforum_schedules())
    pieces = text.split(",")
    i = draw(st.integers(0, len(pieces) - 1))
    key, _, value = pieces[i].partition(":")
    if draw(st.booleans()):
        value = draw(st.sampled_from(RISKY_VALUES))
    else:
        key = draw(st.sampled_from(RISKY_KEYS))
        pieces.insert(0, "0: (1)")  # the replaced key may have been frame 0
        i += 1
    pieces[i] = f"{key}:{value}"
    return ",".join(pieces), max_frames, seed


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(risky_schedules())
@example(("0: (1), 5: (1/(t-7)), 9: (2)", 12, -1))
@example(("0: (1), 5: (sqrt(t-100))", 12, -1))
@example(("0: (sqrt(t-100))", 12, -1))
@example(("0: (1),'max_f'-1:1,max_f:((813**3)*((t>5)*4)),max_f-1:1,max_f-1:1", 7, -1))
def test_risky_schedules_raise_where_deforum_fails(case: tuple[str, int, int]) -> None:
    assert_parity(*case, allow_stricter=True)
