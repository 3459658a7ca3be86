"""Random expression trees for the evaluator's property tests: the text, its numexpr kind, and its
value computed with plain numpy following numexpr's rules. A test helper, not product code."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from movement import ExpressionError

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


def _mod_like_numexpr(a, b):
    """Python's floored modulo for integers; numexpr's a - floor(a/b)*b for floats."""
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype.kind in "iub" and b.dtype.kind in "iub":
        return np.remainder(a, b)
    a, b = a.astype(np.float64), b.astype(np.float64)
    return a - np.floor(a / b) * b
