"""A Python file with no TrainingArguments of its own that imports a function from a module of its
repository and calls it (LLaVA@c121f04 llava/train/train_mem.py: `from llava.train.train import train`,
`train(attn_implementation="flash_attention_2")`): the module that holds the arguments, for the
reason the file is not collected. Read with `ast` only; nothing is imported."""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..pysource import parse as parse_source
from ..safepath import text_or_empty, tree_of
from .pyentry import MAX_MODULE_BYTES, TRAINING_MODULE, module_file
from .pyscript import Location


@dataclass(frozen=True)
class Wrapped:
    """A wrapper script's call into the module that holds the run's arguments (`wrapped_call`)."""

    said: str  # `f()` of module (its file) at line N
    shown: str  # the module's file, relative to the repository root
    module: Path  # the module's file
    unmodelled: tuple[str, ...] = ()  # what else the wrapper runs, which goblin does not model


def wrapped_call(path: Path, text: str, marker: re.Pattern[str]) -> tuple[str, str] | None:
    """(`f()` of `module` (its file) at line N, that file relative to the repository root), when the script
    calls a function it imports from a file of its repository whose text has a TrainingArguments or
    parser call (`marker`); else None."""
    found = wrapped_module(path, text, marker)
    return None if found is None else (found.said, found.shown)


def _main_guard(node: ast.stmt) -> bool:
    """`if __name__ == "__main__":`"""
    test = node.test if isinstance(node, ast.If) else None
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and len(test.comparators) == 1
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value == "__main__"
    )


def _quiet(node: ast.stmt) -> bool:
    """A statement that changes nothing of the run: an import, a docstring, `pass`."""
    if isinstance(node, ast.Import | ast.ImportFrom | ast.Pass):
        return True
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _unmodelled(tree: ast.Module, call: ast.Call, text: str) -> tuple[str, ...]:
    """The wrapper's statements besides its imports and the call into the module (a monkey patch such as LLaVA@c121f04's
    `replace_llama_attn_with_flash_attn()` before `train()`), each as `code` (line N), first 6."""
    body: list[ast.stmt] = []
    for node in tree.body:
        if isinstance(node, ast.If) and _main_guard(node) and not node.orelse:
            body.extend(node.body)
        else:
            body.append(node)
    out: list[str] = []
    for node in body:
        if _quiet(node) or (isinstance(node, ast.Expr) and node.value is call):
            continue
        code = " ".join((ast.get_source_segment(text, node) or type(node).__name__).split())
        out.append(f"`{code[:80]}{'...' if len(code) > 80 else ''}` (line {node.lineno})")
    return tuple(out[:6]) + ((f"and {len(out) - 6} more statements",) if len(out) > 6 else ())


def wrapped_module(path: Path, text: str, marker: re.Pattern[str]) -> Wrapped | None:
    """The module a wrapper script calls into (`wrapped_call`), with what else the wrapper runs; None where it calls
    none goblin finds."""
    try:
        tree = parse_source(text)
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
        name = _runs(node, imported)
        if name is None or not isinstance(node, ast.Call):
            continue
        module = imported[name]
        found = module_file(here, module)
        if found is None:
            continue
        if not marker.search(text_or_empty(found, roots=tree_of(Path(os.path.abspath(path))), limit=MAX_MODULE_BYTES)):
            continue
        from .launch_walk import config_tree

        _, root, _ = config_tree(Path(os.path.abspath(path)))
        shown = os.path.relpath(found, root) if found.is_relative_to(root) else os.path.relpath(found, here)
        direct = isinstance(node.func, ast.Name) and node.func.id == name
        how = f"`{name}()` of {module} ({shown})" if direct else f"`{name}` of {module} ({shown}) through `{ast.unparse(node.func)}(...)`"
        return Wrapped(f"{how} at line {node.lineno}", shown, found, _unmodelled(tree, node, text))
    return None


def _runs(node: ast.AST, imported: dict[str, str]) -> str | None:
    """The imported name a call runs: `train()`, or `fire.Fire(main)` / `Fire(main)` (python-fire calls the function it is
    given with the command line's words: llama-recipes finetuning.py)."""
    if not isinstance(node, ast.Call):
        return None
    if isinstance(node.func, ast.Name) and node.func.id in imported:
        return node.func.id
    fire = (isinstance(node.func, ast.Attribute) and node.func.attr == "Fire") or (isinstance(node.func, ast.Name) and node.func.id == "Fire")
    first = node.args[0] if node.args else None
    return first.id if fire and isinstance(first, ast.Name) and first.id in imported else None


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


def script_wrapper(path: Path) -> Wrapped | None:
    """`wrapped_module` of a launched `.py` file, read through safepath; None for another file or no wrapper."""
    if path.suffix != ".py":
        return None
    text = text_or_empty(path, roots=tree_of(Path(os.path.abspath(path))), limit=MAX_MODULE_BYTES)
    return wrapped_module(path, text, TRAINING_MODULE) if text else None
