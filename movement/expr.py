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
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .errors import ExpressionError

MAX_EXPRESSION_CHARS = 4000
MAX_NESTING = 40
MAX_NODES = 400
MAX_EXPONENT = 1e6

# Kinds mirror numexpr's type promotion: bool < int (int64) < float32 < double. float32 appears
# only where numexpr makes it: math functions of booleans, and what is computed from them.
BOOL, INT, F32, FLOAT = 0, 1, 2, 3
DTYPES = (np.bool_, np.int64, np.float32, np.float64)

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
    "log2": np.log2,
    "trunc": np.trunc,
    "round": np.rint,  # numexpr's round is half-to-even, like rint
}
_BINARY_FLOAT: dict[str, Callable] = {
    "arctan2": np.arctan2,
    "fmod": np.fmod,
    "minimum": np.minimum,
    "maximum": np.maximum,
    "hypot": np.hypot,
    "copysign": np.copysign,
}
FUNCTIONS: tuple[str, ...] = tuple(sorted([*_UNARY_FLOAT, *_BINARY_FLOAT, "sign", "where"]))
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
        return np.asarray(value, dtype=DTYPES[kind])


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
        with warnings.catch_warnings():
            # Python's own warnings about the user's text (invalid escapes, "1if") are not theirs to see.
            warnings.simplefilter("ignore")
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
            return self.arith(left, right, np.add, bool_op=np.logical_or)
        if isinstance(op, ast.Sub):
            return self.arith(left, right, np.subtract)
        if isinstance(op, ast.Mult):
            return self.arith(left, right, np.multiply, bool_op=np.logical_and)
        if isinstance(op, ast.Mod):
            return self.arith(left, right, np.remainder, float_op=_numexpr_fmod)
        if isinstance(op, ast.FloorDiv):
            return self.arith(left, right, np.floor_divide, float_op=lambda a, b: np.floor(a / b))
        if isinstance(op, ast.Div):

            def div(env: Env) -> Value:
                return _true_divide(_numeric(left(env)), _numeric(right(env)))

            return div
        if isinstance(op, ast.Pow):
            exponent_constant = not any(isinstance(n, ast.Name) for n in ast.walk(node.right))
            base_constant = not any(isinstance(n, ast.Name) for n in ast.walk(node.left))
            if exponent_constant and not base_constant:
                with np.errstate(all="ignore"):
                    x = float(np.asarray(right({})[1], np.float64))
                if np.isfinite(x) and int(2 * x) == 2 * x and abs(x) <= 50:
                    return self.power_by_products(left, x)
            return self.power(left, right, exponent_constant)
        raise self.fail(f"operator {type(op).__name__} not allowed", hint="use + - * / % ** only")

    def power(self, left: Node, right: Node, exponent_is_constant: bool) -> Node:
        def pow_(env: Env) -> Value:
            (ka, a), (kb, b) = _numeric(left(env)), _numeric(right(env))
            b_arr = np.asarray(b)
            if b_arr.size and float(np.nanmax(np.abs(b_arr.astype(np.float64)))) > MAX_EXPONENT:
                raise self.fail(f"exponent larger than {MAX_EXPONENT:g}")
            if ka == INT and kb == INT:
                if not np.any(b_arr < 0):
                    result = np.power(a, b)
                    return (INT, self.checked(result, _pow_overflowed(np.asarray(a, np.int64), b_arr, result)))
                if not exponent_is_constant:
                    # numexpr's integer power with a negative exponent is integer 1/base**-b.
                    a_arr = np.asarray(a, np.int64)
                    negative = np.where(a_arr == 1, 1, np.where(a_arr == -1, np.where(b_arr % 2 == 0, 1, -1), 0))
                    positive = np.power(a_arr, np.maximum(b_arr, 0))
                    return (INT, np.where(b_arr < 0, negative, positive).astype(np.int64))
                # A constant negative exponent is an error in numexpr; the float value is the useful one.
            kind = max(ka, kb, F32 if (ka, kb) != (INT, INT) else FLOAT)
            return (kind, np.power(np.asarray(a, DTYPES[kind]), b_arr.astype(DTYPES[kind])))

        return pow_

    def power_by_products(self, left: Node, x: float) -> Node:
        """numexpr's default ('aggressive') rewrite of a constant half-integral power up to 50:
        binary exponentiation by products, times sqrt for halves, 1/r for negatives. Same
        products in the same order give the same bits, and int64 stays int64 as in numexpr."""
        n, half = int(abs(x)), int(abs(2 * x)) % 2
        multiply = self.arith(lambda env: env["a"], lambda env: env["b"], np.multiply, bool_op=np.logical_and)

        def mul(a: Value, b: Value) -> Value:
            return multiply({"a": a, "b": b})

        def pow_(env: Env) -> Value:
            base = left(env)
            result, square, mask = None, base, 1
            while True:
                if n & mask:
                    result = square if result is None else mul(result, square)
                mask <<= 1
                if mask > n:
                    break
                square = mul(square, square)
            if half:
                kind = _function_kind(base[0])
                root = (kind, np.sqrt(np.asarray(base[1], DTYPES[kind])))
                result = root if result is None else mul(result, root)
            if result is None:
                result = (base[0], np.ones_like(base[1]))
            if x < 0:
                result = _true_divide((INT, np.int64(1)), _numeric(result))
            return result

        return pow_

    def checked(self, result, overflowed) -> np.ndarray:
        """Refuse int64 overflow: numexpr would wrap silently (or fail on constants)."""
        if np.any(overflowed):
            raise self.fail("integer overflow", hint="write a float such as 2.0**64")
        return result

    def arith(self, left: Node, right: Node, func: Callable, *, bool_op=None, float_op=None) -> Node:
        def op(env: Env) -> Value:
            (ka, a), (kb, b) = left(env), right(env)
            if ka == BOOL and kb == BOOL and bool_op is not None:
                return (BOOL, bool_op(a, b))
            (ka, a), (kb, b) = _numeric((ka, a)), _numeric((kb, b))
            if ka == INT and kb == INT:
                a64, b64 = np.asarray(a, np.int64), np.asarray(b, np.int64)
                result = func(a64, b64)
                if func in _OVERFLOW_CHECKS:
                    return (INT, self.checked(result, _OVERFLOW_CHECKS[func](a64, b64, result)))
                return (INT, result)
            kind = max(ka, kb)
            a_f, b_f = np.asarray(a, DTYPES[kind]), np.asarray(b, DTYPES[kind])
            return (kind, (float_op or func)(a_f, b_f))

        return op

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
        arity = 3 if fname == "where" else 2 if fname in _BINARY_FLOAT else 1
        if len(args) != arity:
            raise self.fail(f"{fname}() takes {arity} argument(s), got {len(args)}")
        if fname == "where":
            cond, a, b = args

            def where(env: Env) -> Value:
                (_, c), (ka, va), (kb, vb) = cond(env), a(env), b(env)
                kind = max(ka, kb)
                dtype = DTYPES[kind]
                return (kind, np.where(np.asarray(c).astype(bool), np.asarray(va, dtype), np.asarray(vb, dtype)))

            return where
        if fname in _BINARY_FLOAT:
            func2 = _BINARY_FLOAT[fname]
            y, x = args

            def binary_function(env: Env) -> Value:
                (ky, vy), (kx, vx) = y(env), x(env)
                kind = _function_kind(max(ky, kx))
                result = func2(np.asarray(vy, np.float64), np.asarray(vx, np.float64))
                return (kind, result.astype(DTYPES[kind]))

            return binary_function
        (arg,) = args
        if fname == "sign":

            def sign(env: Env) -> Value:
                kind, v = _numeric(arg(env))
                return (kind, np.sign(v))

            return sign
        func = _UNARY_FLOAT[fname]

        def unary(env: Env) -> Value:
            kind, v = arg(env)
            out = _function_kind(kind)
            # Computed in double and rounded: the correctly rounded float32 where numexpr uses float32.
            return (out, func(np.asarray(v, np.float64)).astype(DTYPES[out]))

        return unary


def _numeric(value: Value) -> Value:
    kind, v = value
    if kind == BOOL:
        return (INT, np.asarray(v, np.int64))
    return value


_INT64_MIN = np.iinfo(np.int64).min


def _mul_overflowed(a: np.ndarray, b: np.ndarray, r: np.ndarray) -> np.ndarray:
    # Without overflow r == a*b exactly, so r // b gives a back.
    safe_b = np.where(b == 0, 1, b)
    wrong = (b != 0) & (np.floor_divide(r, safe_b) != a)
    return wrong | ((a == -1) & (b == _INT64_MIN)) | ((b == -1) & (a == _INT64_MIN))


_OVERFLOW_CHECKS: dict[Callable, Callable] = {
    np.add: lambda a, b, r: ((a ^ r) & (b ^ r)) < 0,
    np.subtract: lambda a, b, r: ((a ^ b) & (a ^ r)) < 0,
    np.multiply: _mul_overflowed,
}


def _pow_overflowed(a: np.ndarray, b: np.ndarray, r: np.ndarray) -> np.ndarray:
    approx = np.abs(np.power(a.astype(np.float64), b.astype(np.float64)))
    over = approx >= 2.0**64
    unsure = (approx >= 2.0**62) & ~over
    if np.any(unsure):
        # Near the edge, float rounding cannot tell: ask Python's exact integers, element by element.
        a_b, b_b, r_b, unsure_b = (np.atleast_1d(v) for v in np.broadcast_arrays(a, b, r, unsure))
        over = np.atleast_1d(np.broadcast_to(over, a_b.shape)).copy()
        for index in zip(*np.nonzero(unsure_b)):
            over[index] = int(a_b[index]) ** int(b_b[index]) != int(r_b[index])
    return over


def _function_kind(kind: int) -> int:
    """numexpr's math functions: booleans and float32 give float32, integers and doubles double."""
    return F32 if kind in (BOOL, F32) else FLOAT


def _true_divide(a: Value, b: Value) -> Value:
    # int / int is double (true division); otherwise the wider of the two kinds.
    kind = FLOAT if a[0] == INT and b[0] == INT else max(a[0], b[0])
    return (kind, np.true_divide(np.asarray(a[1], DTYPES[kind]), np.asarray(b[1], DTYPES[kind])))


def _numexpr_fmod(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    # numexpr's float % is a - floor(a/b)*b (so 1.0 % 0.1 == 0), not the exactly rounded remainder.
    return a - np.floor(a / b) * b
