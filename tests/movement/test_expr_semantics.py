"""numexpr's typing and arithmetic rules, case by case, and where we knowingly differ."""

from __future__ import annotations

import warnings

import numexpr
import numpy as np
import pytest

from movement import ExpressionError, compile_expression

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


def test_overflow_is_decided_exactly_at_the_int64_edge() -> None:
    # Float rounding cannot tell these apart; the check must use exact integers.
    assert value("3037000499**2") == 3037000499**2
    with pytest.raises(ExpressionError, match="integer overflow"):
        value("3037000500**2")
    with pytest.raises(ExpressionError, match="integer overflow"):
        value("(t+3037000499)**2")
