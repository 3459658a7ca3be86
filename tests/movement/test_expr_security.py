"""The evaluator never runs code: an injection corpus, refused names, bounded cost."""

from __future__ import annotations

import builtins

import numpy as np
import pytest

from movement import ExpressionError, compile_expression

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
