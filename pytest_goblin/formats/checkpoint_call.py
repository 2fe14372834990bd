"""The line of a `<x>.gradient_checkpointing_enable()` call no `if`, loop, `try` or `with` guards, read with `ast`
(nothing run): gradient checkpointing a script turns on in code on every run, whatever its recipe says (transformers'
Trainer enables it when `gradient_checkpointing` is true and never turns it off). Read for a `training_args:` block's
script (formats/nested_ta.py) and for the script a recipe's launch line runs, or that opens it (formats/hf_trainer.py)."""

from __future__ import annotations

import ast

from ..pysource import parse as parse_source


def checkpointing_call(text: str, module_level: bool = False) -> int | None:
    """The line of a `<x>.gradient_checkpointing_enable()` call no `if`, loop, `try` or `with` guards
    (ChatGLM3@732294f finetune_demo/finetune_hf.py:514), else None. `module_level`: only a call of the module's own
    statements, never one inside a function (which may be called under an `if`, or never)."""
    try:
        tree = parse_source(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    parents = {id(c): p for p in ast.walk(tree) for c in ast.iter_child_nodes(p)}
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "gradient_checkpointing_enable"):
            continue
        up = parents.get(id(node))
        guarded = False
        while up is not None and not isinstance(up, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)):
            if isinstance(up, (ast.If, ast.For, ast.While, ast.Try, ast.With, ast.IfExp, ast.BoolOp, ast.Lambda, ast.ClassDef)):
                guarded = True
                break
            up = parents.get(id(up))
        if not guarded and not (module_level and not isinstance(up, ast.Module)):
            return node.lineno
    return None
