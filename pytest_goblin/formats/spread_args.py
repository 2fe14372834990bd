"""A JSON recipe the script that runs it loads whole and spreads into `TrainingArguments(**cfg)` (review13b #35:
Showmick119/Fine-Tuning-Open-Source-LLM train/run_lora_finetune.py:34-37,68,96, `training_config =
load_training_config(path)` returning `json.load(f)`, then `TrainingArguments(**training_config)`): every key of the file
is then a keyword of TrainingArguments' __init__, which takes only the dataclass's fields, so a key it lacks raises
TypeError at start, whatever parser an HfArgumentParser script would have used.

Read (ast, nothing run) in the script the config's launch line runs (`launched.launched_script`): a
`TrainingArguments(**X)` call whose only `**` is a name X bound once in its function to `json.load(...)` or to a call
of a module function of the script that returns `json.load(...)`; the script holds exactly one `json.load` (so the
dict is this file) and no HfArgumentParser/TrlParser, and nothing removes a key from X (`X.pop(...)`, `del X[...]`)."""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass
from pathlib import Path

from ..pysource import parse as parse_source
from ..safepath import UnsafePath, read_text

SPREAD_CLASSES = frozenset({"TrainingArguments"})
_PARSERS = frozenset({"HfArgumentParser", "TrlParser", "parse_json_file", "parse_yaml_file", "parse_dict", "parse_args_into_dataclasses"})


@dataclass(frozen=True)
class Spread:
    cls: str
    script: str  # shown relative to the repository root
    line: int
    name: str  # the dict spread


def _is_json_load(node: ast.expr | None) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "load"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "json"
    )


def _returns_json(fn: ast.FunctionDef) -> bool:
    returns = [n for n in ast.walk(fn) if isinstance(n, ast.Return)]
    return bool(returns) and all(_is_json_load(r.value) for r in returns)


def spread_into(config: str | Path) -> Spread | None:
    """The `TrainingArguments(**cfg)` call the config's launched script spreads the file into; None where not read so."""
    from .launched import launched_script

    launched = launched_script(config)
    if launched is None or not launched.script_path or not str(config).endswith(".json"):
        return None
    from .launch_walk import config_tree

    roots, _root, _how = config_tree(Path(os.path.abspath(config)))
    try:
        tree = parse_source(read_text(Path(launched.script_path), roots=roots))
    except (UnsafePath, OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    if sum(1 for n in ast.walk(tree) if isinstance(n, ast.expr) and _is_json_load(n)) != 1:
        return None
    named = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    if (named | {a.name.rsplit(".", 1)[-1] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}) & _PARSERS:
        return None  # a parser may be what reads this file, the json.load another
    loaders = {n.name for n in tree.body if isinstance(n, ast.FunctionDef) and _returns_json(n)}
    parents = {id(c): p for p in ast.walk(tree) for c in ast.iter_child_nodes(p)}
    for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
        name = call.func.id if isinstance(call.func, ast.Name) else call.func.attr if isinstance(call.func, ast.Attribute) else ""
        spreads = [k.value for k in call.keywords if k.arg is None]
        if name not in SPREAD_CLASSES or len(spreads) != 1 or call.args or not isinstance(spreads[0], ast.Name):
            continue
        var = spreads[0].id
        scope: ast.AST | None = parents.get(id(call))
        while scope is not None and not isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)):
            scope = parents.get(id(scope))
        if scope is None:
            continue
        binds = [n for n in ast.walk(scope) if isinstance(n, ast.Name) and n.id == var and isinstance(n.ctx, (ast.Store, ast.Del))]
        if len(binds) != 1:
            return None
        stmt = parents.get(id(binds[0]))
        if not isinstance(stmt, ast.Assign) or len(stmt.targets) != 1:
            return None
        value = stmt.value
        loaded = _is_json_load(value) or (isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in loaders and not value.keywords)
        if not loaded:
            return None
        for n in ast.walk(scope):
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in ("pop", "popitem", "clear"):
                if isinstance(n.func.value, ast.Name) and n.func.value.id == var:
                    return None
            if isinstance(n, ast.Delete) and any(isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name) and t.value.id == var for t in n.targets):
                return None
        return Spread(name, launched.script, call.lineno, var)
    return None
