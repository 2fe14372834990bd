"""A script's literal values read with `ast` (and the module-level constants a call refers to), and values
written back as source text (`Code`: written as is)."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

from .pyclasses import DTYPES


@dataclass(frozen=True)
class Code:
    """Source text written as is (`torch.bfloat16`), not as a literal."""

    text: str


def render(value: Any, quote: str) -> str:
    if isinstance(value, Code):
        return value.text
    if isinstance(value, str):
        body = value.replace("\\", "\\\\").replace(quote, "\\" + quote)
        return f"{quote}{body}{quote}"
    return repr(value)


def quote_of(text: str) -> str:
    """The file's own string quote: double unless single quotes are the majority."""
    return "'" if text.count("'") > text.count('"') else '"'


def call_name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def literal_value(node: ast.expr, consts: dict[str, tuple[Any, ast.expr]]) -> tuple[bool, Any, ast.expr]:
    """(found, value, the node holding the literal), following module-level names."""
    if isinstance(node, ast.Name) and node.id in consts:
        value, where = consts[node.id]
        return True, value, where
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "torch" and node.attr in DTYPES:
        return True, DTYPES[node.attr], node  # torch.bfloat16
    # model_init_kwargs={"dtype": torch.bfloat16} or dict(dtype=torch.bfloat16): a mapping of literals
    pairs: list[tuple[Any, ast.expr]] | None = None
    if isinstance(node, ast.Dict) and all(k is not None for k in node.keys):
        pairs = [(k, v) for k, v in zip(node.keys, node.values, strict=True) if k is not None]
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict" and not node.args and all(k.arg for k in node.keywords):
        pairs = [(ast.Constant(k.arg), k.value) for k in node.keywords]
    if pairs is not None:
        out: dict[Any, Any] = {}
        for k, v in pairs:
            ok_k, key, _ = literal_value(k, consts)
            ok_v, value, _ = literal_value(v, consts)
            if not (ok_k and ok_v):
                return False, None, node
            out[key] = value
        return True, out, node
    try:
        return True, ast.literal_eval(node), node
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False, None, node
