"""The safe expression evaluator: random expression trees against plain numpy and against
numexpr (what Deforum runs), an injection corpus, and the typing/arithmetic rules."""

from __future__ import annotations

import builtins
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numexpr
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from movement import ExpressionError, compile_expression

BOOL, INT, FLOAT = 0, 1, 2
DTYPES = (np.bool_, np.int64, np.float64)
T = np.arange(-8, 56, dtype=np.int64)  # negative frames exercise floored modulo


# ---------------------------------------------------------------------------------------------
# Random expression trees: the text, its kind, and its value computed with plain numpy
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tree:
    text: str
    kind: int
    value: Callable[[dict], np.ndarray]  # env -> expected value (numpy), scale recorded in env
    has_var: bool


def _record(env: dict, v: np.ndarray) -> np.ndarray:
    """Keep the largest finite magnitude seen, so numexpr comparisons can use a tolerance that
    scales with the intermediate values (a 1-ulp libm difference is relative to those)."""
    arr = np.asarray(v, dtype=np.float64)
    finite = arr[np.isfinite(arr)]
    if finite.size:
        env["_scale"] = max(env.get("_scale", 1.0), float(np.max(np.abs(finite))))
    return v


def _num(kind: int, v):
    """Booleans take part in arithmetic as int64 (ours); returns (kind, value)."""
    if kind == BOOL:
        return INT, np.asarray(v).astype(np.int64)
    return kind, v


def _as(kind: int, v) -> np.ndarray:
    return np.asarray(v).astype(DTYPES[kind])


def _paren(text: str) -> str:
    return f"({text})"


def _const_int(draw) -> Tree:
    c = draw(st.integers(-20, 1000))
    return Tree(_paren(str(c)) if c < 0 else str(c), INT, lambda env: np.int64(c), False)


def _const_float(draw) -> Tree:
    c = draw(
        st.one_of(
            st.sampled_from([0.5, 0.1, 2.5, 1e-3, 3.14159, 1.0, 0.0, 100.0, 1.0025]),
            st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False),
        )
    )
    c += 0.0  # no -0.0: numexpr merges equal constants, so -0.0 may become 0 (or 0 -0.0)
    text = repr(c)
    return Tree(_paren(text) if c < 0 else text, FLOAT, lambda env: np.float64(c), False)


def _leaf(draw) -> Tree:
    which = draw(st.integers(0, 5))
    if which < 3:
        name = ("t", "max_f", "s")[which]
        return Tree(name, INT, lambda env: np.asarray(env[name], dtype=np.int64), True)
    if which == 3:
        return _const_int(draw)
    return _const_float(draw)


def _nonzero(draw) -> Tree:
    which = draw(st.integers(0, 3))
    if which == 0:
        c = draw(st.integers(1, 50)) * draw(st.sampled_from([1, -1]))
        return Tree(_paren(str(c)), INT, lambda env: np.int64(c), False)
    if which == 1:
        c = draw(st.sampled_from([0.5, 2.5, 3.0, 7.25, -1.5, 30.0]))
        return Tree(_paren(repr(c)), FLOAT, lambda env: np.float64(c), False)
    if which == 2:
        return Tree("(t+9)", INT, lambda env: np.asarray(env["t"], np.int64) + 9, True)
    inner = _gen(draw, 1, True)
    if inner.kind == BOOL:
        inner = _leaf(draw)
    c = draw(st.sampled_from([1.0, 0.5, 2.0]))
    return Tree(
        f"(abs({inner.text})+{c!r})",
        FLOAT,
        lambda env: np.abs(np.asarray(inner.value(env), np.float64)) + c,
        inner.has_var,
    )


def _arith(a: Tree, b: Tree, symbol: str, func) -> Tree:
    if a.kind == b.kind == BOOL and symbol in ("+", "*"):
        # numexpr: bool + bool is a logical or, bool * bool a logical and.
        logical = np.logical_or if symbol == "+" else np.logical_and

        def logic(env):
            return _record(env, logical(a.value(env), b.value(env)))

        return Tree(_paren(f"{a.text} {symbol} {b.text}"), BOOL, logic, a.has_var or b.has_var)
    (ka, _), (kb, _) = _num(a.kind, 0), _num(b.kind, 0)
    kind = INT if ka == kb == INT else FLOAT

    def value(env):
        (_, va), (_, vb) = _num(a.kind, a.value(env)), _num(b.kind, b.value(env))
        return _record(env, func(_as(kind, va), _as(kind, vb)))

    return Tree(_paren(f"{a.text} {symbol} {b.text}"), kind, value, a.has_var or b.has_var)


_FUNCS = {
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "arctan": np.arctan,
    "exp": np.exp,
    "log1p": np.log1p,
    "abs": np.abs,
}
_CMPS = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal, "==": np.equal, "!=": np.not_equal}


def _gen(draw, depth: int, ne: bool) -> Tree:
    """A random tree. `ne=True` keeps to constructs where numexpr computes exactly what we
    document (no boolean arithmetic, no int ** negative int, no float % by a non power of two,
    no division by 0, bounded exp and tan)."""
    if depth <= 0 or draw(st.integers(0, 4)) == 0:
        return _leaf(draw)
    op = draw(st.sampled_from(["+", "-", "*", "/", "%", "**", "neg", "func", "sqrt", "arctan2", "where", "bool"]))
    sub = lambda: _gen(draw, depth - 1, ne)  # noqa: E731
    t_leaf = Tree("t", INT, lambda env: np.asarray(env["t"], np.int64), True)
    if op in ("+", "-", "*"):
        a, b = sub(), sub()
        if ne and op == "*" and not (a.has_var or b.has_var):
            b = t_leaf  # 0.0 * (-3) is a constant -0.0 (see _const_float)
        if ne and BOOL in (a.kind, b.kind):
            return _leaf(draw)
        return _arith(a, b, op, {"+": np.add, "-": np.subtract, "*": np.multiply}[op])
    if op == "/":
        a = sub()
        if ne and (a.kind == BOOL or not a.has_var):
            a = t_leaf
        b = _nonzero(draw) if ne or draw(st.booleans()) else sub()

        def div(env, a=a, b=b):
            va, vb = _num(a.kind, a.value(env))[1], _num(b.kind, b.value(env))[1]
            return _record(env, np.true_divide(_as(FLOAT, va), _as(FLOAT, vb)))

        return Tree(_paren(f"{a.text} / {b.text}"), FLOAT, div, a.has_var or b.has_var)
    if op == "%":
        a = sub()
        if ne and (a.kind == BOOL or not a.has_var):
            a = t_leaf
        if not ne:
            b = draw(st.one_of(st.just(None), st.sampled_from([0, 3, -4, 0.0, 0.3, -2.5])))
            b_tree = (
                sub()
                if b is None
                else Tree(
                    _paren(repr(b)), FLOAT if isinstance(b, float) else INT, lambda env, b=b: np.asarray(b), False
                )
            )
        elif _num(a.kind, 0)[0] == INT and draw(st.booleans()):
            b_tree = draw(
                st.sampled_from(
                    [
                        Tree("3", INT, lambda env: np.int64(3), False),
                        Tree("(-4)", INT, lambda env: np.int64(-4), False),
                        Tree("7", INT, lambda env: np.int64(7), False),
                        Tree("(t+9)", INT, lambda env: np.asarray(env["t"], np.int64) + 9, True),
                    ]
                )
            )
        else:
            # Powers of two only (then a - floor(a/b)*b is exact), and positive: for b < 0,
            # np.remainder(0.0, b) is -0.0 but numexpr's formula gives +0.0.
            c = draw(st.sampled_from([0.5, 0.25, 2.0, 1.0, 4.0]))
            b_tree = Tree(_paren(repr(c)), FLOAT, lambda env, c=c: np.float64(c), False)
        return _arith(a, b_tree, "%", _mod_like_numexpr)
    if op == "**":
        a = sub()
        if a.kind == BOOL:
            a = _leaf(draw)
        ka = _num(a.kind, 0)[0]
        if ka == INT and draw(st.booleans()):
            e = draw(st.integers(0, 3) if ne else st.integers(-3, 3))

            def ipow(env, a=a, e=e):
                va = _num(a.kind, a.value(env))[1]
                if e >= 0:
                    return _record(env, np.power(_as(INT, va), np.int64(e)))
                return _record(env, np.power(_as(FLOAT, va), np.float64(e)))

            return Tree(
                _paren(f"{a.text} ** {_paren(str(e)) if e < 0 else e}"), INT if e >= 0 else FLOAT, ipow, a.has_var
            )
        e = draw(st.sampled_from([0.0, 0.5, 1.0, 2.0, -1.0, -0.5, 1.5, 0.25, 3.0, "sin(t)"]))
        raw_ok = e == 0.5 or (e in (0.0, 1.0, 2.0) and (not ne or _num(a.kind, 0)[0] == FLOAT))
        if raw_ok and a.has_var and draw(st.booleans()):
            # Any base (NaN for a negative one under 0.5, as in numexpr); not a constant one,
            # which numexpr hands to Python: (-2.5)**0.5 is complex there. Not an integer
            # base to 0.0/1.0/2.0 for numexpr, which turns it into an integer product (see
            # test_integral_float_exponent_of_int_like_numexpr).
            base_text = a.text
            base_value = lambda env, a=a: _as(FLOAT, _num(a.kind, a.value(env))[1])  # noqa: E731
        else:
            base_text = f"(abs({a.text})+1)"
            base_value = lambda env, a=a: np.abs(_as(FLOAT, _num(a.kind, a.value(env))[1])) + 1  # noqa: E731
        e_text = "sin(t)" if e == "sin(t)" else (_paren(repr(e)) if e < 0 else repr(e))

        # numexpr rewrites a constant integral power of an integer base as integer products
        # (t ** 2.0 is int64), so the result keeps the base's integer kind.
        int_result = base_text == a.text and e in (0.0, 1.0, 2.0) and _num(a.kind, 0)[0] == INT

        def fpow(env, base_value=base_value, e=e, int_result=int_result):
            if e == "sin(t)":
                result = np.power(base_value(env), np.sin(_as(FLOAT, env["t"])))
            else:
                result = _power_like_numexpr(base_value(env), e)
            return _record(env, result.astype(np.int64) if int_result else result)

        kind = INT if int_result else FLOAT
        return Tree(_paren(f"{base_text} ** {e_text}"), kind, fpow, a.has_var or e == "sin(t)")
    if op == "neg":
        a = sub()
        if ne and (a.kind == BOOL or not a.has_var):
            a = t_leaf
        kind = _num(a.kind, 0)[0]
        return Tree(
            _paren(f"-{a.text}"),
            kind,
            lambda env, a=a: _record(env, np.negative(_num(a.kind, a.value(env))[1])),
            a.has_var,
        )
    if op == "func":
        name = draw(st.sampled_from(sorted(_FUNCS)))
        a = _leaf(draw) if (ne and name == "tan") else sub()
        if a.kind == BOOL:
            # Functions of booleans are float32 in numexpr: test_functions_of_booleans_are_float32.
            a = _leaf(draw)
        func = _FUNCS[name]
        if name == "exp" and ne:
            text, inner = f"exp(sin({a.text}))", lambda v: np.exp(np.sin(v))
        elif name == "log1p":
            text, inner = f"log1p(abs({a.text}))", lambda v: np.log1p(np.abs(v))
        else:
            text, inner = f"{name}({a.text})", func
        return Tree(
            text, FLOAT, lambda env, a=a, inner=inner: _record(env, _func_like_numexpr(inner, a, env)), a.has_var
        )
    if op == "sqrt":
        a = sub()
        if a.kind == BOOL:
            a = _leaf(draw)
        return Tree(
            f"sqrt(abs({a.text}))",
            FLOAT,
            lambda env, a=a: _record(env, np.sqrt(np.abs(_as(FLOAT, a.value(env))))),
            a.has_var,
        )
    if op == "arctan2":
        a, b = sub(), sub()
        if BOOL in (a.kind, b.kind):
            return _leaf(draw)
        return Tree(
            f"arctan2({a.text}, {b.text})",
            FLOAT,
            lambda env, a=a, b=b: np.arctan2(_as(FLOAT, a.value(env)), _as(FLOAT, b.value(env))),
            a.has_var or b.has_var,
        )
    if op == "where":
        cond = _condition(draw, depth - 1, ne)
        a, b = sub(), sub()
        if ne:
            a, b = _numexpr_branch(a), _numexpr_branch(b)
        kind = max(a.kind, b.kind)

        def where(env, cond=cond, a=a, b=b, kind=kind):
            return np.where(_as(BOOL, cond.value(env)), _as(kind, a.value(env)), _as(kind, b.value(env)))

        return Tree(f"where({cond.text}, {a.text}, {b.text})", kind, where, cond.has_var or a.has_var or b.has_var)
    # op == "bool": a boolean-valued tree (comparison, &, |, ~)
    return _condition(draw, depth - 1, ne)


def _numexpr_branch(tree: Tree) -> Tree:
    """numexpr types `where(c, 2, 3)` as int32, which then overflows where we (int64) do not;
    tie integer constants to t so numexpr works in int64 as well."""
    if tree.kind == BOOL:
        return Tree(f"({tree.text}*1.0)", FLOAT, lambda env: _as(FLOAT, tree.value(env)), tree.has_var)
    if tree.kind == INT and not tree.has_var:
        return Tree(f"({tree.text}+0*t)", INT, lambda env: tree.value(env) + 0 * np.asarray(env["t"]), True)
    return tree


def _condition(draw, depth: int, ne: bool) -> Tree:
    which = draw(st.integers(0, 5))
    if which <= 2 or depth <= 0:
        a = _gen(draw, max(depth, 0), ne)
        if ne and (a.kind == BOOL or not a.has_var):
            a = Tree("t", INT, lambda env: np.asarray(env["t"], np.int64), True)
        b = _gen(draw, max(depth - 1, 0), ne) if draw(st.booleans()) else _const_int(draw)
        if ne and b.kind == BOOL:
            b = _const_int(draw)
        symbol = draw(st.sampled_from(sorted(_CMPS)))
        func = _CMPS[symbol]
        return Tree(
            _paren(f"{a.text} {symbol} {b.text}"),
            BOOL,
            lambda env, a=a, b=b: func(a.value(env), b.value(env)),
            a.has_var or b.has_var,
        )
    if which == 3:
        inner = _condition(draw, depth - 1, ne)
        return Tree(_paren(f"~{inner.text}"), BOOL, lambda env: np.logical_not(inner.value(env)), inner.has_var)
    a, b = _condition(draw, depth - 1, ne), _condition(draw, depth - 1, ne)
    symbol, func = ("&", np.logical_and) if which == 4 else ("|", np.logical_or)
    return Tree(
        _paren(f"{a.text} {symbol} {b.text}"),
        BOOL,
        lambda env: func(a.value(env), b.value(env)),
        a.has_var or b.has_var,
    )


@st.composite
def trees(draw, ne: bool = False) -> Tree:
    return _gen(draw, draw(st.integers(1, 5)), ne)


envs = st.fixed_dictionaries(
    {
        "max_f": st.integers(0, 10_000),
        "s": st.one_of(st.just(-1), st.integers(-100, 100), st.integers(0, 2**32 - 1)),
    }
)


def _expected(tree: Tree, env: dict) -> np.ndarray:
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _as(tree.kind, tree.value(env))


# ---------------------------------------------------------------------------------------------
# (a) against plain numpy
# ---------------------------------------------------------------------------------------------


def _power_like_numexpr(base: np.ndarray, x: float) -> np.ndarray:
    """numexpr's rewrite of base ** constant for half-integral |x| <= 50: binary exponentiation
    by products, times sqrt(base) for the half, reciprocal for a negative x."""
    if int(2 * x) != 2 * x or abs(x) > 50:
        return np.power(base, np.float64(x))
    n, half = int(abs(x)), int(abs(2 * x)) % 2
    result, square, mask = None, base, 1
    while True:
        if n & mask:
            result = square if result is None else result * square
        mask <<= 1
        if mask > n:
            break
        square = square * square
    if half:
        result = np.sqrt(base) if result is None else result * np.sqrt(base)
    if result is None:
        result = np.ones_like(base)
    return 1.0 / result if x < 0 else result


def _func_like_numexpr(inner, a, env):
    """numexpr computes math functions of booleans in float32."""
    result = inner(_as(FLOAT, a.value(env)))
    return result.astype(np.float32).astype(np.float64) if a.kind == BOOL else result


def _unless_int64_overflow(evaluate, env):
    """We refuse int64 overflow where numexpr wraps; such draws are covered by the overflow tests."""
    try:
        return evaluate(env)
    except ExpressionError as exc:
        assume("integer overflow" not in str(exc))
        raise


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trees(), envs)
def test_random_expressions_match_numpy(tree: Tree, names: dict) -> None:
    env = {"t": T, **names}
    expected = _expected(tree, dict(env))
    expr = compile_expression(tree.text)
    raw = _unless_int64_overflow(expr.evaluate_value, env)
    assert raw.dtype == DTYPES[tree.kind], tree.text
    assert raw.shape == expected.shape
    if tree.kind == FLOAT:
        np.testing.assert_allclose(raw, expected, rtol=1e-12, atol=0, equal_nan=True, err_msg=tree.text)
    else:
        np.testing.assert_array_equal(raw, expected, err_msg=tree.text)
    as_float = expr.evaluate(env)
    assert as_float.dtype == np.float64
    np.testing.assert_allclose(as_float, expected.astype(np.float64), rtol=1e-12, atol=0, equal_nan=True)
    used = {n for n in ("t", "max_f", "s") if re.search(rf"\b{n}\b", tree.text)}
    assert expr.names == used


# ---------------------------------------------------------------------------------------------
# (b) against numexpr, as Deforum evaluates them
# ---------------------------------------------------------------------------------------------


def _numexpr(text: str, env: dict) -> np.ndarray | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return numexpr.evaluate(text, local_dict=dict(env), global_dict={})
    except OverflowError:
        return None  # a constant sub-expression Python computed beyond int64: Deforum crashes


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(trees(ne=True), envs)
def test_random_expressions_match_numexpr(tree: Tree, names: dict) -> None:
    env = {"t": T, **names}
    theirs = _numexpr(tree.text, env)
    assume(theirs is not None)
    ours = _unless_int64_overflow(compile_expression(tree.text).evaluate_value, env)
    trace: dict = dict(env)
    _expected(tree, trace)
    scale = trace.get("_scale", 1.0)
    theirs64, ours64 = np.asarray(theirs).astype(np.float64), ours.astype(np.float64)
    assert ours64.shape == theirs64.shape or theirs64.ndim == 0 or ours64.ndim == 0
    np.testing.assert_allclose(ours64, theirs64, rtol=1e-12, atol=1e-12 * scale, equal_nan=True, err_msg=tree.text)
    # Comparisons stay booleans, as in numexpr. (Integer vs float can differ without changing
    # a value: numexpr's t**2.0 is an integer multiplication.)
    assert (ours.dtype.kind == "b") == (np.asarray(theirs).dtype.kind == "b"), tree.text


# ---------------------------------------------------------------------------------------------
# (c) injection corpus: refused, never executed
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def sentinel(monkeypatch, tmp_path):
    """A builtin that records calls, and a file path that must never be created."""
    calls: list[tuple] = []
    monkeypatch.setattr(builtins, "ww_sentinel", lambda *a: calls.append(a), raising=False)
    return calls, tmp_path / "pwned"


INJECTIONS = [
    "__import__('os')",
    "__import__('os').system('echo pwned')",
    "__import__('os').system('touch {pwned}')",
    "open('{pwned}', 'w')",
    "open('/etc/passwd')",
    "ww_sentinel()",
    "ww_sentinel",
    "sin(ww_sentinel())",
    "().__class__",
    "().__class__.__bases__[0].__subclasses__()",
    "(lambda: 1)()",
    "(lambda: ww_sentinel())()",
    "[x for x in (1,)]",
    "[ww_sentinel() for x in (1,)]",
    "{x: 1 for x in (1,)}",
    "(x for x in (1,))",
    'f"{1}"',
    'f"{ww_sentinel()}"',
    "(x := 1)",
    "10**10**10",
    "9**9**9**9",
    "2**-10**7",
    "10.0**10**10",
    "t.__class__",
    "t.__class__.__mro__",
    "t.real",
    "getattr(t, 'real')",
    "__builtins__",
    "eval('1')",
    "exec('1')",
    "globals()",
    "locals()",
    "vars()",
    "compile('1', '', 'eval')",
    "s[0]",
    "t[0:1]",
    "'a'",
    "b'a'",
    "1 if t else 0",
    "t and 1",
    "t or 1",
    "not t",
    "*t",
    "{1: 2}",
    "{1}",
    "[1]",
    "(1, 2)",
    "()",
    "1j",
    "None",
    "...",
    "(" * 1000 + "1" + ")" * 1000,
    "[" * 1000 + "]" * 1000,
    "-" * 5000 + "1",
    "+".join(["1"] * 500_000),
    "sin(" * 300 + "t" + ")" * 300,
    "+".join(["t"] * 500),
    "sin(t, t)",
    "where(t)",
    "where(t, 1)",
    "arctan2(t)",
    "sin()",
    "sin(x=t)",
    "where(t>1, 1, 2, x=3)",
    "sin(*t)",
    "np.sin(t)",
    "numpy.sin(t)",
    "unknownfunc(t)",
    "sin",
    "x",
    "yield 1",
    "(yield 1)",
    "await t",
    "t @ t",
    "t << 1",
    "t ^ 1",
    "1 < t < 3",
    "t is t",
    "t in t",
    "import os",
    "t; ww_sentinel()",
    "t\nww_sentinel()",
    "",
    "   ",
    "\x00",
    "~t",
    "~1.5",
    "t & 1",
    "(t > 1) | 2",
    "9223372036854775808",
]


@pytest.mark.parametrize("text", INJECTIONS, ids=lambda s: repr(s[:40]))
def test_injection_corpus_is_refused(text: str, sentinel) -> None:
    calls, pwned = sentinel
    text = text.replace("{pwned}", str(pwned))
    env = {"t": np.arange(5), "max_f": 4, "s": 1}
    with pytest.raises(ExpressionError):
        compile_expression(text).evaluate(env)
    with pytest.raises(ExpressionError):
        compile_expression(text).evaluate_value(env)
    assert calls == []
    assert not pwned.exists()


def test_refused_names_are_limited_per_context() -> None:
    # Frame keys only know max_f and s; prompt backticks only t and max_f.
    with pytest.raises(ExpressionError, match="unknown name 't'"):
        compile_expression("t + 1", ("max_f", "s"))
    with pytest.raises(ExpressionError, match="unknown name 's'"):
        compile_expression("s", ("t", "max_f"))
    with pytest.raises(ExpressionError):
        compile_expression(123)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# (d) typing and arithmetic rules
# ---------------------------------------------------------------------------------------------

ENV = {"t": np.arange(10, dtype=np.int64), "max_f": 9, "s": 42}


def value(text: str, env: dict = ENV) -> np.ndarray:
    return compile_expression(text).evaluate_value(env)


def test_integer_arithmetic_stays_int64() -> None:
    for text in ("t*2+1", "max_f-2", "s", "t-s", "t%3", "t**2", "-t", "+t", "where(t>3, t, 0)", "(t>3)*2"):
        assert value(text).dtype == np.int64, text
    np.testing.assert_array_equal(value("t*2+1"), np.arange(10) * 2 + 1)
    for text in ("t+1.0", "t/1", "sin(t)", "abs(t)", "t**0.5", "2**-1", "t**-1", "where(t>3, 1.5, 0)", "floor(t)"):
        assert value(text).dtype == np.float64, text
    assert value("t>3").dtype == np.bool_
    assert value("(t>3)&(t<6)").dtype == np.bool_


def _mod_like_numexpr(a, b):
    """Python's floored modulo for integers; numexpr's a - floor(a/b)*b for floats."""
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype.kind in "iub" and b.dtype.kind in "iub":
        return np.remainder(a, b)
    a, b = a.astype(np.float64), b.astype(np.float64)
    return a - np.floor(a / b) * b


def test_true_division() -> None:
    np.testing.assert_array_equal(value("t/4"), np.arange(10) / 4)
    assert value("7/2") == 3.5
    assert value("-7/2") == -3.5
    assert np.isinf(value("1/0")) and np.isnan(value("0/0"))


@pytest.mark.parametrize("a", [-7, -6, -1, 0, 1, 5, 7])
@pytest.mark.parametrize("b", [-3, -2, 2, 3])
def test_modulo_is_floored_like_python(a: int, b: int) -> None:
    assert value(f"({a}) % ({b})") == a % b
    assert value(f"({a}) % ({b})").dtype == np.int64
    fa, fb = float(f"{a}.5"), float(f"{b}.25")
    assert value(f"({fa!r}) % ({fb!r})") == pytest.approx(fa % fb, abs=1e-15)
    np.testing.assert_allclose(value(f"(t*0.5+({a})) % ({fb!r})"), [(i * 0.5 + a) % fb for i in range(10)], atol=1e-15)
    np.testing.assert_array_equal(value(f"(t+({a})) % ({b})"), [(i + a) % b for i in range(10)])


def test_modulo_by_zero() -> None:
    np.testing.assert_array_equal(value("t % 0"), np.zeros(10, dtype=np.int64))
    assert value("t % 0").dtype == np.int64
    assert np.all(np.isnan(value("t % 0.0")))


def test_powers() -> None:
    assert value("2**-1") == 0.5 and value("2**-1").dtype == np.float64
    assert value("2**3") == 8 and value("2**3").dtype == np.int64
    np.testing.assert_array_equal(value("t**2"), np.arange(10) ** 2)
    np.testing.assert_allclose(value("(t+1)**-1"), 1 / (np.arange(10) + 1))
    assert np.isnan(value("(-8.0)**0.5"))
    with pytest.raises(ExpressionError, match="exponent"):
        value("2**(10**7)")
    with pytest.raises(ExpressionError, match="exponent"):
        value("1.0001**(t*1000000)")


def test_integer_overflow_is_refused_not_wrapped() -> None:
    # numexpr would wrap to -2**63 here; a wrapped camera value is never what a user meant.
    with pytest.raises(ExpressionError, match="integer overflow"):
        value("9223372036854775807 + t")
    assert value("9223372036854775806 + (t < 2)")[0] == np.iinfo(np.int64).max


def test_comparisons_where_and_logic() -> None:
    t = np.arange(10)
    np.testing.assert_array_equal(value("t > 3"), t > 3)
    np.testing.assert_array_equal(value("t == 3"), t == 3)
    np.testing.assert_array_equal(value("t != 3.0"), t != 3)
    np.testing.assert_array_equal(value("where(t >= 5, 1, 2)"), np.where(t >= 5, 1, 2))
    np.testing.assert_array_equal(value("where(t >= 5, 1.5, 2)"), np.where(t >= 5, 1.5, 2.0))
    np.testing.assert_array_equal(value("(t > 2) & (t < 6)"), (t > 2) & (t < 6))
    np.testing.assert_array_equal(value("(t < 2) | (t > 7)"), (t < 2) | (t > 7))
    np.testing.assert_array_equal(value("~(t > 3)"), ~(t > 3))
    np.testing.assert_array_equal(value("where((t > 2) & ~(t > 6), t, -t)"), np.where((t > 2) & ~(t > 6), t, -t))
    # Booleans count as 0/1 in arithmetic.
    np.testing.assert_array_equal(value("(t > 3) * 10 + 1"), (t > 3) * 10 + 1)
    # A non-boolean condition (numexpr refuses it) is read as "non-zero".
    np.testing.assert_array_equal(value("where(t % 2, 1, 0)"), t % 2)


@pytest.mark.parametrize("text", ["~t", "~1", "~1.5", "~(t+1)", "t & (t>1)", "(t>1) | 1", "1 & 1"])
def test_invert_and_logic_only_on_booleans(text: str) -> None:
    with pytest.raises(ExpressionError):
        value(text)


def test_functions_work_in_float64() -> None:
    t = np.arange(10)
    with np.errstate(all="ignore"):
        for name in ("sin", "cos", "tan", "arctan", "exp", "log1p", "sqrt", "abs", "floor", "ceil", "tanh", "log10"):
            np.testing.assert_allclose(value(f"{name}(t/3)"), getattr(np, name)(t / 3), rtol=1e-15, err_msg=name)
    np.testing.assert_allclose(value("arctan2(t, 2)"), np.arctan2(t, 2))
    assert np.isnan(value("log(-1)")) and np.isneginf(value("log(0)"))


def test_scalars_broadcast_and_env_types() -> None:
    out = compile_expression("t * max_f").evaluate({"t": np.arange(3), "max_f": 2.5})
    np.testing.assert_array_equal(out, [0, 2.5, 5])
    assert compile_expression("max_f - 2").evaluate({"max_f": 9}).shape == ()
    assert compile_expression("  1 + 1  ").evaluate({}) == 2


# ---------------------------------------------------------------------------------------------
# Discrepancies with numexpr (what Deforum evaluates) found here; strict xfail until fixed
# ---------------------------------------------------------------------------------------------


def _vs_numexpr(text: str) -> None:
    theirs = numexpr.evaluate(text, local_dict=dict(ENV), global_dict={})
    np.testing.assert_allclose(value(text).astype(float), np.asarray(theirs).astype(float), rtol=1e-12, atol=1e-12)


def test_float_modulo_like_numexpr() -> None:
    _vs_numexpr("(t*1.0) % 0.1")


def test_negative_integer_exponent_at_run_time_like_numexpr() -> None:
    _vs_numexpr("2**(t-3)")


def test_boolean_sum_like_numexpr() -> None:
    _vs_numexpr("(t>1)+(t>2)")


def test_function_of_boolean_like_numexpr() -> None:
    _vs_numexpr("exp(t>1)")


@pytest.mark.parametrize(
    "text",
    [
        "abs(t>0)+t",
        "abs(t>0)+1",
        "abs(t>0)+1.5",
        "sin(abs(t>0))",
        "abs(t>0)/2",
        "abs(t>0)%2",
        "abs(t>0)**2",
        "abs(t>0)**0.3",
        "-abs(t>0)",
        "arctan2(abs(t>0), 1)",
        "log1p(abs(t != 0))",
        "where(t>0, abs(t>0), 1)",
    ],
)
def test_functions_of_booleans_are_float32(text: str) -> None:
    # numexpr computes these in float32 and keeps float32 until a double joins in.
    theirs = numexpr.evaluate(text, local_dict=dict(ENV), global_dict={})
    ours = value(text)
    assert ours.dtype == theirs.dtype, text
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.xfail(strict=True, reason="numexpr types where() of int constants as int32, which wraps")
def test_int32_where_like_numexpr() -> None:
    _vs_numexpr("where(t>2, 2147483647, 0) + 1")


def test_constant_integer_overflow_is_refused() -> None:
    with pytest.raises(ExpressionError):
        value("2**64")


@pytest.mark.parametrize("text", ["t // 4", "round(t/4)", "trunc(t/4)", "sign(t-3)", "log2(t+1)"])
def test_newer_numexpr_operations_are_accepted(text: str) -> None:
    _vs_numexpr(text)


@pytest.mark.xfail(strict=True, reason="numexpr's int64 product for int ** 3.0 wraps; we refuse the overflow")
def test_integral_float_exponent_of_int_like_numexpr() -> None:
    theirs = numexpr.evaluate("s**3.0", local_dict={"s": 4_000_000_000}, global_dict={})
    np.testing.assert_allclose(value("s**3.0", {"s": 4_000_000_000}), theirs, rtol=1e-12)


@pytest.mark.parametrize("text", ["'\\E' + t"])  # Python 3.11+ also warns on "1if t else 2"
def test_refused_text_emits_no_python_warnings(text: str) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ExpressionError):
            compile_expression(text + " " * 7)  # a fresh string: compile_expression is cached
    assert [str(w.message) for w in caught] == []
