"""A Python file with no TrainingArguments of its own that imports a function from a module of its
repository and calls it (LLaVA@c121f04 llava/train/train_mem.py: `from llava.train.train import train`,
`train(attn_implementation="flash_attention_2")`): the module that holds the arguments, for the
reason the file is not collected. Read with `ast` only; nothing is imported."""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
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
        return Wrapped(f"`{node.func.id}()` of {module} ({shown}) at line {node.lineno}", shown, found, _unmodelled(tree, node, text))
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


def script_wrapper(path: Path) -> Wrapped | None:
    """`wrapped_module` of a launched `.py` file, read through safepath; None for another file or no wrapper."""
    if path.suffix != ".py":
        return None
    from .pyclasses import ANY_CALL

    text = text_or_empty(path, roots=tree_of(Path(os.path.abspath(path))), limit=MAX_MODULE_BYTES)
    return wrapped_module(path, text, ANY_CALL) if text else None


@dataclass(frozen=True)
class EntryWrapper:
    """A Python file that imports a script's entry function and calls it (`entry_wrappers`)."""

    file: Path
    shown: str  # relative to the repository root
    entry: str  # the function's name in the script
    calls: list[ast.Call]  # the wrapper's calls of it


def entry_wrappers(script: str | Path, limit: int) -> Iterator[EntryWrapper]:
    """The wrappers that run this script's entry function (LLaVA-style `train_mem.py`: `from smolvlm.train.train import
    train` then `train()`): a Python file of the script's folder or its parent (at most `limit` read, through safepath;
    nothing imported or run) that imports a name from a module whose dotted path is this file's path tail
    (`smolvlm/train/train.py`; a bare `from train import ...` only beside it), calls it, and parses no command line of its
    own (its words would not be the script's)."""
    from .launch_walk import config_tree
    from .launched import _parse
    from .pycommand import _is_parse
    from .pyliteral import call_name

    absolute = Path(os.path.abspath(script))
    real = Path(os.path.realpath(absolute))
    roots, root, _how = config_tree(absolute)
    if not real.is_relative_to(root):
        return
    parts = real.relative_to(root).with_suffix("").parts
    seen = 0
    for folder in (real.parent, real.parent.parent):
        if not folder.is_relative_to(root):
            break
        try:
            files = sorted(p for p in folder.iterdir() if p.suffix == ".py" and p.is_file() and p != real)
        except OSError:
            continue
        for f in files:
            if seen >= limit:
                return
            seen += 1
            mod = _parse(f, roots, root)
            if mod is None:
                continue
            names: dict[str, str] = {}  # the name the wrapper calls -> the function's name in this script
            for n in ast.walk(mod.tree):
                if isinstance(n, ast.ImportFrom) and n.module and n.level == 0:
                    dotted = tuple(n.module.split("."))
                    tail_ok = len(dotted) <= len(parts) and parts[-len(dotted) :] == dotted
                    if tail_ok and (len(dotted) > 1 or f.parent == real.parent):
                        names.update({a.asname or a.name: a.name for a in n.names})
            calls = [n for n in ast.walk(mod.tree) if isinstance(n, ast.Call)]
            entry = [c for c in calls if isinstance(c.func, ast.Name) and c.func.id in names]
            if not entry or any(_is_parse(c) or call_name(c.func) == "add_argument" for c in calls):
                continue
            first = entry[0].func
            yield EntryWrapper(f, mod.shown, names[first.id] if isinstance(first, ast.Name) else "", entry)
