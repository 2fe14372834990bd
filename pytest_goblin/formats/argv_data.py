"""The local data file a Python script trains on when a command-line option names it (review14a #10).

Layer 3 (configs). `parser.add_argument("--train_file", default="data/train.jsonl")` read as `args.train_file`, and
that value (through assignments and the script's own functions it is passed to) reaching a call that reads data:
`load_dataset(..., data_files=X)`, `open(X)` for reading, or a pandas `read_json` / `read_jsonl` / `read_csv` /
`read_parquet`. The option's value is the run's: the launch line's word where one passes it
(`pycommand.CommandLine.value_of`, which `launchers.find_script_launch` feeds), else its declared default. Nothing is
run or imported: the script is read with `ast`, and the flow is followed by name within each function (bounded).

An option whose name says evaluation or test data (`--eval_file`, `--test_path`) is not the training set; a file opened
for writing is not read; `open` and pandas reads count only for an option whose name says it holds data.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import GoblinError
from ..pysource import parse as parse_source

# a pandas reader of a file (pandas 2.x pandas/io: read_json, read_csv, read_parquet; `read_jsonl` is no pandas
# function, but a repository helper of that name reads the same file)
_READERS = frozenset({"read_json", "read_jsonl", "read_csv", "read_parquet"})
_NOT_TRAIN = frozenset({"eval", "evaluation", "valid", "validation", "val", "test", "dev", "output", "out", "save", "log", "cache"})
_DATA_WORD = re.compile(r"data|train|corpus|sample|example|instruct|sft|jsonl?|file|path", re.IGNORECASE)
MAX_ROUNDS = 8  # passes of the name flow (assignment chains and calls into the script's functions)


@dataclass(frozen=True)
class OptionData:
    """A data path an option gives, and how it reaches the call that reads it."""

    value: str  # the path as the run has it (the launch line's word, else the default)
    flag: str  # `--train_file`
    line: int  # the line that sets the value: the launch line's, else the add_argument call's
    file: str | None  # the launch file that passes it; None: the script's own default
    via: str  # "`--train_file` default `x` (line 205), read by load_dataset(data_files=...) at line 66"


def _tokens(dest: str) -> set[str]:
    return {t for t in re.split(r"[_\-]+", dest.lower()) if t}


def _scopes(tree: ast.Module) -> dict[int, ast.AST]:
    """Each node's enclosing function (or the module): node id -> scope node; a `def` itself lives in the outer one."""
    out: dict[int, ast.AST] = {}
    stack: list[tuple[ast.AST, ast.AST]] = [(tree, tree)]
    while stack:
        node, scope = stack.pop()
        for child in ast.iter_child_nodes(node):
            out[id(child)] = scope
            stack.append((child, child if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) else scope))
    return out


def _read_call(call: ast.Call) -> tuple[str, ast.expr] | None:
    """The data-reading call's name and its path argument, or None."""
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    if name == "load_dataset":
        files = next((k.value for k in call.keywords if k.arg == "data_files"), None)
        return ("load_dataset(data_files=...)", files) if files is not None else None
    if name == "open" and isinstance(func, ast.Name) and call.args:
        mode = call.args[1] if len(call.args) > 1 else next((k.value for k in call.keywords if k.arg == "mode"), None)
        if mode is not None and not (isinstance(mode, ast.Constant) and isinstance(mode.value, str) and not set(mode.value) & set("wax+")):
            return None  # written, or a mode goblin cannot read
        return "open()", call.args[0]
    if name in _READERS and call.args:
        return f"{name}()", call.args[0]
    return None


def option_data(path: Path, text: str) -> list[OptionData]:
    """The data files the script's options name and its code reads, with where each value comes from."""
    try:
        tree = parse_source(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    if "add_argument" not in text:
        return []
    from .pycommand import CommandLine
    from .pyliteral import literal_value
    from .pyscript import Script

    consts: dict[str, tuple[Any, ast.expr]] = {}
    for stmt in ast.walk(tree):
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            ok, value, _ = literal_value(stmt.value, {})
            if ok:
                consts.setdefault(stmt.targets[0].id, (value, stmt.value))
    try:  # read_script built the same command line from this text already; a reader's refusal is no data found
        cli = CommandLine(path, tree, consts, Script())
    except GoblinError:
        return []
    options = {dest: arg for dest, arg in cli.options.items() if not _tokens(dest) & _NOT_TRAIN}
    if not options:
        return []
    scope_of = _scopes(tree)
    functions = {n.name: n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    # (scope id, name) -> the option dest it carries
    tainted: dict[tuple[int, str], str] = {}

    def carried(expr: ast.AST, scope: ast.AST) -> str | None:
        for n in ast.walk(expr):
            if isinstance(n, ast.Attribute) and n.attr in options and isinstance(n.value, ast.Name) and n.value.id in cli.parsed:
                return n.attr
            if isinstance(n, ast.Name) and (dest := tainted.get((id(scope), n.id))) is not None:
                return dest
        return None

    for _ in range(MAX_ROUNDS):
        before = len(tainted)
        for node in ast.walk(tree):
            scope = scope_of.get(id(node), tree)
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                dest = carried(node.value, scope)
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    if dest is not None and isinstance(t, ast.Name):
                        tainted.setdefault((id(scope), t.id), dest)
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in functions:
                fn = functions[node.func.id]
                params = [a.arg for a in (*fn.args.posonlyargs, *fn.args.args)]
                for i, a in enumerate(node.args):
                    if i < len(params) and (dest := carried(a, scope)) is not None:
                        tainted.setdefault((id(fn), params[i]), dest)
                for k in node.keywords:
                    if k.arg in params and (dest := carried(k.value, scope)) is not None:
                        tainted.setdefault((id(fn), k.arg), dest)
        if len(tainted) == before:
            break
    out: list[OptionData] = []
    seen: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or (hit := _read_call(node)) is None:
            continue
        how, expr = hit
        dest = carried(expr, scope_of.get(id(node), tree))
        if dest is None or dest in seen:
            continue
        if how != "load_dataset(data_files=...)" and not _DATA_WORD.search(dest):
            continue  # `open(args.config)`: a settings file, not data
        arg = options[dest]
        ok, value, loc = cli.value_of(arg)
        if not ok or not isinstance(value, str) or not value.strip():
            continue
        seen.add(dest)
        flag = next((f for f in arg.flags if f.startswith("--")), arg.flags[0])
        passed = loc.option.passed if loc is not None and loc.option is not None else None
        if passed is not None and loc is not None:
            where = f"`{passed[0]} {value}` passed by {passed[2]}"
            file: str | None = loc.file
            line = loc.line
        else:
            where = f"the `{flag}` default `{value}` ({path.name} line {arg.line})"
            file, line = None, arg.line
        out.append(OptionData(value.strip(), flag, line, file, f"{where}, read by {how} at line {node.lineno}"))
    return out
