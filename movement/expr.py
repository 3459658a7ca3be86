"""A safe, vectorised evaluator for Deforum's schedule and prompt math.

Deforum hands schedule values to numexpr, which reads variables from the caller's stack frame.
Settings files travel the internet, so we never do that: the text is parsed with `ast`, every node
is checked against a whitelist, and the tree is compiled into numpy closures evaluated once over
the whole frame array.

Values follow numexpr's typing so results equal Deforum's: integers stay int64 (wrapping like
numexpr's), `/` is true division, `%` is floored like Python, comparisons are booleans and every
math function works in float64. Where numexpr raises (an int to a negative int power, a `where`
whose condition is not boolean) we compute the obvious value instead.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .errors import ExpressionError

MAX_EXPRESSION_CHARS = 4000
MAX_NESTING = 40
MAX_NODES = 400
MAX_EXPONENT = 1e6

# Kinds mirror numexpr's type promotion: bool < int < float.
BOOL, INT, FLOAT = 0, 1, 2

Value = tuple  # (kind, ndarray | scalar)
Env = Mapping[str, "np.ndarray | int | float"]
Node = Callable[[Env], Value]

_UNARY_FLOAT: dict[str, Callable] = {
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "arcsin": np.arcsin,
    "arccos": np.arccos,
    "arctan": np.arctan,
    "sinh": np.sinh,
    "cosh": np.cosh,
    "tanh": np.tanh,
    "arcsinh": np.arcsinh,
    "arccosh": np.arccosh,
    "arctanh": np.arctanh,
    "exp": np.exp,
    "log": np.log,
    "log10": np.log10,
    "log1p": np.log1p,
    "expm1": np.expm1,
    "sqrt": np.sqrt,
    "abs": np.abs,
    "floor": np.floor,
    "ceil": np.ceil,
}
FUNCTIONS: tuple[str, ...] = tuple(sorted([*_UNARY_FLOAT, "arctan2", "where"]))
DEFAULT_NAMES: tuple[str, ...] = ("t", "max_f", "s")

_COMPARE = {
    ast.Lt: np.less,
    ast.LtE: np.less_equal,
    ast.Gt: np.greater,
    ast.GtE: np.greater_equal,
    ast.Eq: np.equal,
    ast.NotEq: np.not_equal,
}

_REFUSED = {
    ast.Attribute: "attribute access",
    ast.Subscript: "subscripts",
    ast.Lambda: "lambdas",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.JoinedStr: "f-strings",
    ast.FormattedValue: "f-strings",
    ast.NamedExpr: "assignment (:=)",
    ast.IfExp: "conditional expressions (use where(cond, a, b))",
    ast.BoolOp: "'and'/'or' (use & and | on comparisons)",
    ast.Starred: "starred arguments",
    ast.List: "lists",
    ast.Tuple: "tuples",
    ast.Dict: "dicts",
    ast.Set: "sets",
    ast.Await: "await",
    ast.Yield: "yield",
}


@dataclass(frozen=True)
class Expression:
    """A checked expression: `evaluate` never runs user code, only numpy operations."""

    source: str
    names: frozenset[str]
    _root: Node

    def evaluate(self, env: Env) -> np.ndarray:
        """Float64 result, broadcast against the arrays in `env`."""
        with np.errstate(all="ignore"):
            _, value = self._root(env)
        return np.asarray(value, dtype=np.float64)

    def evaluate_value(self, env: Env) -> np.ndarray:
        """The raw result with numexpr's dtype (int64, float64 or bool), for text output."""
        with np.errstate(all="ignore"):
            kind, value = self._root(env)
        dtype = (np.bool_, np.int64, np.float64)[kind]
        return np.asarray(value, dtype=dtype)


def compile_expression(text: str, names: tuple[str, ...] = DEFAULT_NAMES) -> Expression:
    """Parse and check `text`; raises ExpressionError naming the offending construct."""
    if not isinstance(text, str):
        raise ExpressionError(f"expected text, got {type(text).__name__}")
    return _compile_cached(text.strip(), tuple(names))


@lru_cache(maxsize=4096)
def _compile_cached(text: str, names: tuple[str, ...]) -> Expression:
    if not text:
        raise ExpressionError("empty expression", hint="write a number or a formula such as 1+0.5*sin(t/10)")
    if len(text) > MAX_EXPRESSION_CHARS:
        raise ExpressionError(
            f"expression is {len(text)} characters long (limit {MAX_EXPRESSION_CHARS})",
            hint="split it into several keyframes",
        )
    _check_nesting(text)
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(
            f"cannot parse {_short(text)!r}: {exc.msg}", hint="check brackets and operators"
        ) from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError(f"cannot parse {_short(text)!r}", hint="simplify the expression") from None
    count = sum(1 for _ in ast.walk(tree))
    if count > MAX_NODES:
        raise ExpressionError(f"expression {_short(text)!r} has {count} parts (limit {MAX_NODES})", hint="simplify it")
    used: set[str] = set()
    root = _Compiler(text, frozenset(names), used).build(tree.body)
    return Expression(text, frozenset(used), root)


def clear_cache() -> None:
    _compile_cached.cache_clear()


def _short(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


def _check_nesting(text: str) -> None:
    depth = 0
    for ch in text:
        if ch in "([{":
            depth += 1
            if depth > MAX_NESTING:
                raise ExpressionError(
                    f"brackets nested more than {MAX_NESTING} deep in {_short(text)!r}", hint="simplify it"
                )
        elif ch in ")]}":
            depth -= 1


class _Compiler:
    def __init__(self, text: str, names: frozenset[str], used: set[str]) -> None:
        self.text = text
        self.names = names
        self.used = used

    def fail(self, what: str, hint: str = "") -> ExpressionError:
        return ExpressionError(f"{what} in {_short(self.text)!r}", hint=hint)

    def build(self, node: ast.AST) -> Node:
        for bad, what in _REFUSED.items():
            if isinstance(node, bad):
                raise self.fail(f"{what} not allowed")
        if isinstance(node, ast.Constant):
            return self.constant(node.value)
        if isinstance(node, ast.Name):
            return self.name(node.id)
        if isinstance(node, ast.UnaryOp):
            return self.unary(node)
        if isinstance(node, ast.BinOp):
            return self.binary(node)
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        raise self.fail(f"{type(node).__name__} not allowed")

    def constant(self, value: object) -> Node:
        if isinstance(value, bool):
            result: Value = (BOOL, np.bool_(value))
        elif isinstance(value, int):
            if abs(value) > np.iinfo(np.int64).max:
                raise self.fail(f"integer {value} too large")
            result = (INT, np.int64(value))
        elif isinstance(value, float):
            result = (FLOAT, np.float64(value))
        elif isinstance(value, str):
            raise self.fail("text values not allowed", hint="remove the quotes")
        else:
            raise self.fail(f"constant {value!r} not allowed")
        return lambda env: result

    def name(self, ident: str) -> Node:
        if ident not in self.names:
            if ident in FUNCTIONS:
                raise self.fail(f"function {ident!r} used without arguments")
            allowed = ", ".join(sorted(self.names)) or "none"
            raise self.fail(f"unknown name {ident!r}", hint=f"variables allowed here: {allowed}")
        self.used.add(ident)

        def load(env: Env) -> Value:
            value = np.asarray(env[ident])
            if value.dtype.kind in "iub":
                return (INT, value.astype(np.int64, copy=False))
            return (FLOAT, value.astype(np.float64, copy=False))

        return load

    def unary(self, node: ast.UnaryOp) -> Node:
        operand = self.build(node.operand)
        if isinstance(node.op, ast.UAdd):
            return lambda env: _numeric(operand(env))
        if isinstance(node.op, ast.USub):

            def neg(env: Env) -> Value:
                kind, v = _numeric(operand(env))
                return (kind, np.negative(v))

            return neg
        if isinstance(node.op, ast.Invert):

            def invert(env: Env) -> Value:
                kind, v = operand(env)
                if kind != BOOL:
                    raise self.fail("'~' works only on comparisons")
                return (BOOL, np.logical_not(v))

            return invert
        raise self.fail("'not' not allowed", hint="use ~(condition)")

    def binary(self, node: ast.BinOp) -> Node:
        left, right = self.build(node.left), self.build(node.right)
        op = node.op
        if isinstance(op, (ast.BitAnd, ast.BitOr)):
            func = np.logical_and if isinstance(op, ast.BitAnd) else np.logical_or
            symbol = "&" if isinstance(op, ast.BitAnd) else "|"

            def logical(env: Env) -> Value:
                (ka, a), (kb, b) = left(env), right(env)
                if ka != BOOL or kb != BOOL:
                    raise self.fail(f"'{symbol}' works only on comparisons")
                return (BOOL, func(a, b))

            return logical
        if isinstance(op, ast.Add):
            return _arith(left, right, np.add)
        if isinstance(op, ast.Sub):
            return _arith(left, right, np.subtract)
        if isinstance(op, ast.Mult):
            return _arith(left, right, np.multiply)
        if isinstance(op, ast.Mod):
            return _arith(left, right, np.remainder)
        if isinstance(op, ast.Div):

            def div(env: Env) -> Value:
                (_, a), (_, b) = _numeric(left(env)), _numeric(right(env))
                return (FLOAT, np.true_divide(np.asarray(a, np.float64), np.asarray(b, np.float64)))

            return div
        if isinstance(op, ast.Pow):
            return self.power(left, right)
        raise self.fail(f"operator {type(op).__name__} not allowed", hint="use + - * / % ** only")

    def power(self, left: Node, right: Node) -> Node:
        def pow_(env: Env) -> Value:
            (ka, a), (kb, b) = _numeric(left(env)), _numeric(right(env))
            b_arr = np.asarray(b)
            if b_arr.size and float(np.nanmax(np.abs(b_arr.astype(np.float64)))) > MAX_EXPONENT:
                raise self.fail(f"exponent larger than {MAX_EXPONENT:g}")
            if ka == INT and kb == INT and not np.any(b_arr < 0):
                return (INT, np.power(a, b))
            return (FLOAT, np.power(np.asarray(a, np.float64), b_arr.astype(np.float64)))

        return pow_

    def compare(self, node: ast.Compare) -> Node:
        if len(node.ops) != 1:
            raise self.fail("chained comparisons not allowed", hint="write (a < b) & (b < c)")
        func = _COMPARE.get(type(node.ops[0]))
        if func is None:
            raise self.fail(f"comparison {type(node.ops[0]).__name__} not allowed")
        left, right = self.build(node.left), self.build(node.comparators[0])
        return lambda env: (BOOL, func(left(env)[1], right(env)[1]))

    def call(self, node: ast.Call) -> Node:
        if not isinstance(node.func, ast.Name):
            raise self.fail("only plain function calls allowed")
        fname = node.func.id
        if node.keywords:
            raise self.fail(f"keyword arguments to {fname}() not allowed")
        if fname not in FUNCTIONS:
            raise self.fail(f"unknown function {fname!r}", hint=f"functions allowed: {', '.join(FUNCTIONS)}")
        args = [self.build(a) for a in node.args]
        arity = {"arctan2": 2, "where": 3}.get(fname, 1)
        if len(args) != arity:
            raise self.fail(f"{fname}() takes {arity} argument(s), got {len(args)}")
        if fname == "where":
            cond, a, b = args

            def where(env: Env) -> Value:
                (_, c), (ka, va), (kb, vb) = cond(env), a(env), b(env)
                kind = max(ka, kb)
                dtype = (np.bool_, np.int64, np.float64)[kind]
                return (kind, np.where(np.asarray(c).astype(bool), np.asarray(va, dtype), np.asarray(vb, dtype)))

            return where
        if fname == "arctan2":
            y, x = args
            return lambda env: (
                FLOAT,
                np.arctan2(np.asarray(y(env)[1], np.float64), np.asarray(x(env)[1], np.float64)),
            )
        func = _UNARY_FLOAT[fname]
        (arg,) = args
        return lambda env: (FLOAT, func(np.asarray(arg(env)[1], np.float64)))


def _numeric(value: Value) -> Value:
    kind, v = value
    if kind == BOOL:
        return (INT, np.asarray(v, np.int64))
    return value


def _arith(left: Node, right: Node, func: Callable) -> Node:
    def op(env: Env) -> Value:
        (ka, a), (kb, b) = _numeric(left(env)), _numeric(right(env))
        if ka == INT and kb == INT:
            return (INT, func(np.asarray(a, np.int64), np.asarray(b, np.int64)))
        return (FLOAT, func(np.asarray(a, np.float64), np.asarray(b, np.float64)))

    return op
