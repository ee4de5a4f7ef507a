"""Arithmetic for a space's `derived:` block: `{target.name}` placeholders, numbers, + - * / // **,
unary minus and lists (e.g. an array shape `[{var.rows}, {var.cols}]`). Parsed with `ast` and walked
node by node — never `eval` — so a space file cannot run code."""
from __future__ import annotations

import ast
import operator
import re

from archsim.errors import did_you_mean

__all__ = ["evaluate_expression", "derived_pairs"]


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Pow: operator.pow}


def evaluate_expression(expr: str, values: dict):
    """Arithmetic (+ - * / // **, numbers, parentheses) over `{param.key}` placeholders."""
    names = {}

    def sub(m):
        names[f"v{len(names)}"] = values[m.group(1)]
        return f"v{len(names) - 1}"
    tree = ast.parse(_PLACEHOLDER.sub(sub, expr), mode="eval")

    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and _is_number(node.value):
            return node.value
        if isinstance(node, ast.Name) and node.id in names:
            return names[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            return _BINOPS[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -ev(node.operand)
        if isinstance(node, (ast.List, ast.Tuple)):
            return [ev(e) for e in node.elts]
        raise ValueError(f"not allowed in an expression: {ast.dump(node)[:40]}")
    value = ev(tree)
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
        except (SyntaxError, ValueError, ZeroDivisionError) as exc:
            bad(where, f"not a valid expression ({exc})", expr)
            continue
        out.append((str(key), expr))
        keys = keys | {str(key)}                 # later expressions may use earlier derived values
    return tuple(out)
