"""Arithmetic for a space's `derived:` block: `{target.name}` placeholders, numbers, + - * / // **,
unary minus and lists (e.g. an array shape `[{var.rows}, {var.cols}]`). Parsed with `ast` and walked
node by node — never `eval` — so a space file cannot run code. Bounded so it cannot hang either: at
most `MAX_CHARS` characters and `MAX_NODES` nodes, every intermediate value at most `MAX_MAGNITUDE`
in size, and a power computed only when its result stays below that (`9 ** 9 ** 9` is refused in
microseconds instead of computing a 370-million-digit number)."""
from __future__ import annotations

import ast
import math
import operator
import re

from archsim.errors import ArchsimError, did_you_mean

__all__ = ["evaluate_expression", "derived_pairs", "ExpressionError", "MAX_CHARS", "MAX_NODES",
           "MAX_MAGNITUDE"]

MAX_CHARS = 500
MAX_NODES = 200
#: |value| of any intermediate result (2^64: past every size, rate and count archsim accepts)
MAX_MAGNITUDE = 2.0 ** 64


class ExpressionError(ValueError, ArchsimError):
    """A derived expression that is not allowed, too big, or fails (x / 0) for a trial's values."""


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Pow: operator.pow}


def _checked(value):
    if isinstance(value, list):
        return value
    if not _is_number(value) or (isinstance(value, float) and not math.isfinite(value)) \
            or abs(value) > MAX_MAGNITUDE:
        raise ExpressionError(f"a value leaves the range ±{MAX_MAGNITUDE:g}")
    return value


def _power(base, exponent):
    if isinstance(base, list) or isinstance(exponent, list):
        raise ExpressionError("** needs numbers, not lists")
    if base not in (0, 1, -1):               # |result| = |base|^exponent: check its size first
        size = exponent * math.log2(abs(base))
        if size > math.log2(MAX_MAGNITUDE):
            raise ExpressionError(f"a value leaves the range ±{MAX_MAGNITUDE:g}")
    return base ** exponent


def _binary(op, left, right):
    if isinstance(left, list) or isinstance(right, list):
        raise ExpressionError("arithmetic needs numbers, not lists")
    if op is ast.Pow:
        return _power(left, right)
    try:
        return _BINOPS[op](left, right)
    except ZeroDivisionError:
        raise ExpressionError("division by zero") from None


def evaluate_expression(expr: str, values: dict):
    """Arithmetic (+ - * / // **, numbers, parentheses) over `{param.key}` placeholders, within the
    bounds in the module doc; raises ExpressionError."""
    if not isinstance(expr, str) or len(expr) > MAX_CHARS:
        raise ExpressionError(f"longer than {MAX_CHARS} characters")
    names = {}

    def sub(m):
        names[f"v{len(names)}"] = values[m.group(1)]
        return f"v{len(names) - 1}"
    try:
        tree = ast.parse(_PLACEHOLDER.sub(sub, expr), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise ExpressionError(f"not an expression ({type(exc).__name__})") from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise ExpressionError(f"more than {MAX_NODES} terms")

    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and _is_number(node.value):
            return _checked(node.value)
        if isinstance(node, ast.Name) and node.id in names:
            value = names[node.id]
            if not _is_number(value):
                raise ExpressionError(f"a placeholder's value is not a number (got {value!r})")
            return _checked(value)
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            return _checked(_binary(type(node.op), ev(node.left), ev(node.right)))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            operand = ev(node.operand)
            if isinstance(operand, list):
                raise ExpressionError("arithmetic needs numbers, not lists")
            return -operand
        if isinstance(node, (ast.List, ast.Tuple)):
            return [ev(e) for e in node.elts]
        raise ExpressionError(f"not allowed in an expression: {type(node).__name__}")
    try:
        value = ev(tree)
    except (OverflowError, TypeError) as exc:     # float ** float overflow, complex results, ...
        raise ExpressionError(f"cannot be computed ({type(exc).__name__})") from None
    if isinstance(value, complex):
        raise ExpressionError("the result is not a real number")
    if isinstance(value, list):
        return [int(v) if isinstance(v, float) and v.is_integer() else v for v in value]
    return int(value) if isinstance(value, float) and value.is_integer() else value


def derived_pairs(block, keys: set[str], bad) -> tuple[tuple[str, str], ...]:
    if block is None:
        return ()
    if not isinstance(block, dict):
        bad("derived", "must be a mapping of model.KEY|hw.PATH: expression", block)
        return ()
    out = []
    for key, expr in block.items():
        where = f"derived.{key}"
        if not str(key).startswith(("model.", "hw.", "var.")):
            bad(where, "a derived key must start with model., hw. or var.", key)
            continue
        if key in keys:
            bad(where, "is already a searched parameter", key)
            continue
        if not isinstance(expr, (str, int, float)) or isinstance(expr, bool):
            bad(where, "must be an arithmetic expression string", expr)
            continue
        expr = str(expr)
        unknown = [n for n in _PLACEHOLDER.findall(expr) if n not in keys]
        if unknown:
            bad(where, "names an unknown parameter", unknown[0],
                did_you_mean(unknown[0], sorted(keys)) or f"parameters: {', '.join(sorted(keys))}")
            continue
        try:
            evaluate_expression(expr, {k: 1 for k in keys})
        except ExpressionError as exc:
            bad(where, f"not a valid expression ({exc})", expr if len(expr) <= 80 else expr[:80] + "…")
            continue
        out.append((str(key), expr))
        keys = keys | {str(key)}                 # later expressions may use earlier derived values
    return tuple(out)
