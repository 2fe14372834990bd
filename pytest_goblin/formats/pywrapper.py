"""A Python file with no TrainingArguments of its own that imports a function from a module of its
repository and calls it (LLaVA@c121f04 llava/train/train_mem.py: `from llava.train.train import train`,
`train(attn_implementation="flash_attention_2")`): the module that holds the arguments, for the
reason the file is not collected. Read with `ast` only; nothing is imported."""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path
from typing import Any

from ..safepath import text_or_empty, tree_of
from .pyscript import Location

MAX_MODULE_BYTES = 512_000
MAX_UP = 8  # parent folders tried as the import root


def _module_file(start: Path, module: str) -> Path | None:
    """The file `module` (dotted) names, from the script's folder or one of its parents as the import root."""
    parts = module.split(".")
    folder = start
    for _ in range(MAX_UP):
        for candidate in (folder.joinpath(*parts).with_suffix(".py"), folder.joinpath(*parts, "__init__.py")):
            if candidate.is_file():
                return candidate
        if folder.parent == folder:
            break
        folder = folder.parent
    return None


def wrapped_call(path: Path, text: str, marker: re.Pattern[str]) -> tuple[str, str] | None:
    """(`f()` of `module` (its file) at line N, that file relative to the repository root), when the script
    calls a function it imports from a file of its repository whose text has a TrainingArguments or
    parser call (`marker`); else None."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    imported: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                imported[alias.asname or alias.name] = node.module
    if not imported:
        return None
    here = Path(os.path.realpath(path)).parent
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in imported):
            continue
        module = imported[node.func.id]
        found = _module_file(here, module)
        if found is None:
            continue
        if not marker.search(text_or_empty(found, roots=tree_of(Path(os.path.abspath(path))), limit=MAX_MODULE_BYTES)):
            continue
        from .launch_walk import config_tree

        _, root, _ = config_tree(Path(os.path.abspath(path)))
        shown = os.path.relpath(found, root) if found.is_relative_to(root) else os.path.relpath(found, here)
        return f"`{node.func.id}()` of {module} ({shown}) at line {node.lineno}", shown
    return None


def wrapper_argument(
    wrapper: tuple[list[ast.Call], str, str, str], fn: ast.FunctionDef | ast.AsyncFunctionDef, arg: ast.arg
) -> tuple[bool, Any, Location | None] | None:
    """A parameter of the script's entry function as the wrapper that runs it passes it (DUET-VLM@cd69e48
    llava/train/train_mem_pdrop.py:5 `train(attn_implementation="flash_attention_2")` into pdrop_train.py's
    `def train(attn_implementation=None)`): the literal keyword or positional argument of the wrapper's one call (or
    of every call, where they agree). None where `fn` is not the function the wrapper calls, the call passes nothing
    for it (the signature's default stands) or splats `*args`/`**kwargs` goblin does not read; (False, ...) where
    the value is not a literal."""
    calls, name, file, shown = wrapper
    if fn.name != name or not calls:
        return None
    positional = [*fn.args.posonlyargs, *fn.args.args]
    found: list[tuple[ast.expr, int]] = []
    for call in calls:
        if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
            return None
        given = next((k.value for k in call.keywords if k.arg == arg.arg), None)
        if given is None and arg in positional and positional.index(arg) < len(call.args):
            given = call.args[positional.index(arg)]
        if given is None:
            return None  # one call leaves the default: the value is not one
        found.append((given, call.lineno))
    values: list[Any] = []
    for given, _line in found:
        try:
            values.append(ast.literal_eval(given))
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return False, None, None
    if any(v != values[0] for v in values):
        return False, None, None
    value, line = values[0], found[0][1]
    said = f"`{arg.arg}={value!r}` is passed to {fn.name}() by {shown} line {line}, the wrapper the launch line runs"
    return True, value, Location(None, line, file=file, fixed=f"{said}: change it there")
