"""Random expression trees: our evaluator against plain numpy and against numexpr (what Deforum runs)."""

from __future__ import annotations

import re
import warnings

import numexpr
import numpy as np
from hypothesis import HealthCheck, assume, given, settings

from movement import compile_expression
from tests.movement.expr_trees import *  # noqa: F403
from tests.movement.expr_trees import BOOL, DTYPES, FLOAT, T, Tree, _expected, _unless_int64_overflow, envs, trees  # noqa: F401


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
        # atol: a - floor(a/b)*b cancels near 0, so one ulp of difference in b (t ** -1 computed as
        # a reciprocal or as a power) leaves ~1e-15 where the other side has exactly 0.
        np.testing.assert_allclose(raw, expected, rtol=1e-12, atol=1e-12, equal_nan=True, err_msg=tree.text)
    else:
        np.testing.assert_array_equal(raw, expected, err_msg=tree.text)
    as_float = expr.evaluate(env)
    assert as_float.dtype == np.float64
    np.testing.assert_allclose(as_float, expected.astype(np.float64), rtol=1e-12, atol=1e-12, equal_nan=True)
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
