"""The files around a script that its run passes through: the module a dotted import names (from the script's folder
or a parent as the import root, or its `src/`), and the wrappers that import a script's entry function and call it
(LLaVA-style `train_mem.py`). Read with `ast` through safepath; nothing imported or run. Low in formats: launchers,
pycommand, pyloop and pywrapper read through it."""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..pysource import parse as parse_source
from ..safepath import UnsafePath, read_text
from .launch_walk import config_tree
from .pyclasses import ANY_CALL, LOOP_MARKER
from .pyliteral import call_name

MAX_WRAPPERS = 48  # Python files read when looking for a wrapper that runs a script's entry point
_PARSE_CALLS = frozenset({"parse_args", "parse_known_args", "parse_args_into_dataclasses", "parse_args_and_config", "parse_intermixed_args"})


def is_parse(call: ast.AST) -> bool:
    """A call that returns the parsed command line: argparse's / HfArgumentParser's parse methods, or
    H4ArgumentParser's argument-less `parser.parse()` (pycommand.H4_PARSE_AT)."""
    if not isinstance(call, ast.Call):
        return False
    name = call_name(call.func)
    return name in _PARSE_CALLS or (name == "parse" and isinstance(call.func, ast.Attribute) and not call.args and not call.keywords)


MAX_MODULE_BYTES = 512_000
# a module that holds a run goblin reads: TrainingArguments / TRL config or parser calls, or a loop of its own
TRAINING_MODULE = re.compile(f"{ANY_CALL.pattern}|{LOOP_MARKER.pattern}")
MAX_UP = 8  # parent folders tried as the import root


def module_file(start: Path, module: str) -> Path | None:
    """The file `module` (dotted) names, from the script's folder or one of its parents as the import root, or that
    folder's `src/` (a src-layout package installed with `pip install -e .`: llama-recipes' src/llama_recipes)."""
    parts = module.split(".")
    folder = start
    for _ in range(MAX_UP):
        for base in (folder, folder / "src"):
            for candidate in (base.joinpath(*parts).with_suffix(".py"), base.joinpath(*parts, "__init__.py")):
                if candidate.is_file():
                    return candidate
        if folder.parent == folder:
            break
        folder = folder.parent
    return None


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
            try:
                tree = parse_source(read_text(f, roots=roots, limit=MAX_MODULE_BYTES))
            except (UnsafePath, OSError, UnicodeDecodeError, SyntaxError, ValueError, RecursionError, MemoryError):
                continue
            shown = os.path.relpath(os.path.realpath(f), root)
            names: dict[str, str] = {}  # the name the wrapper calls -> the function's name in this script
            for n in ast.walk(tree):
                if isinstance(n, ast.ImportFrom) and n.module and n.level == 0:
                    dotted = tuple(n.module.split("."))
                    tail_ok = len(dotted) <= len(parts) and parts[-len(dotted) :] == dotted
                    if tail_ok and (len(dotted) > 1 or f.parent == real.parent):
                        names.update({a.asname or a.name: a.name for a in n.names})
            calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
            entry = [c for c in calls if isinstance(c.func, ast.Name) and c.func.id in names]
            if not entry or any(is_parse(c) or call_name(c.func) == "add_argument" for c in calls):
                continue
            first = entry[0].func
            yield EntryWrapper(f, shown, names[first.id] if isinstance(first, ast.Name) else "", entry)
