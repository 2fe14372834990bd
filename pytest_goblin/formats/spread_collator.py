"""The collator a script passes its trainer inside a `**` dict a repository function returns (review13a #17:
2U1/Qwen2-VL-Finetune src/train/train_sft.py:229-234 `QwenSFTTrainer(..., **data_module)` with `data_module =
make_supervised_data_module(...)`, whose src/dataset/sft_dataset.py:278-282 returns `dict(train_dataset=...,
data_collator=DataCollatorForSupervisedDataset(...))`). Read with ast through the repository reader of formats/launched.py
(safepath, nothing imported or run); a collator of the repository's own means the default collator's padding is not the
run's, so no packing is proposed on top of it (as own_packing.script_collates_itself for a keyword)."""

from __future__ import annotations

import ast
from pathlib import Path

from .own_packing import COLLATOR, _framework_names, _root_name

KEY = "data_collator"


def _returned_collator(fn: ast.FunctionDef) -> ast.expr | None:
    """The `data_collator` value of a dict the function returns (`return dict(..., data_collator=X)`, `return
    {"data_collator": X}`, or a name bound to one of those); None where no return holds one."""
    bound: dict[str, ast.expr] = {}
    for node in ast.walk(fn):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            bound[node.targets[0].id] = node.value
    for node in ast.walk(fn):
        if not isinstance(node, ast.Return) or node.value is None:
            continue
        value = bound.get(node.value.id, node.value) if isinstance(node.value, ast.Name) else node.value
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "dict":
            for kw in value.keywords:
                if kw.arg == KEY:
                    return kw.value
        if isinstance(value, ast.Dict):
            for k, v in zip(value.keys, value.values, strict=True):
                if isinstance(k, ast.Constant) and k.value == KEY:
                    return v
    return None


def _repository_names(tree: ast.Module) -> set[str]:
    """Classes and functions the module defines, and names it imports from modules other than trl and transformers."""
    out = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            out.update(a.asname or a.name for a in node.names)
    return out - _framework_names(tree)


def spread_collator(path: str | Path, tree: ast.Module, trainer: str, shown: str) -> str | None:
    """Why the trainer packs nothing it is given: its call spreads `**name`, `name` bound to a call of a repository
    function whose returned dict holds a `data_collator` of the repository's own (a class or function not imported from
    trl or transformers). None where no spread is read, or its collator is the framework's or None."""
    from .launched import RepoModules, parse_in_tree

    spreads: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and (node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)) == trainer:
            spreads.extend((kw.value.id, kw.value.lineno) for kw in node.keywords if kw.arg is None and isinstance(kw.value, ast.Name))
    if not spreads:
        return None
    found = parse_in_tree(path)
    if found is None:
        return None
    script, roots, root = found
    repo = RepoModules(script, roots, root)
    for name, line in spreads:
        calls = [
            n.value
            for n in ast.walk(tree)
            if isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in n.targets) and isinstance(n.value, ast.Call)
        ]
        for call in calls:
            if not isinstance(call.func, ast.Name):
                continue
            hit = repo.find_function(call.func.id, script)
            if hit is None or hit[1].path == script.path:
                continue
            fn, mod = hit
            value = _returned_collator(fn)
            if value is None or (isinstance(value, ast.Constant) and value.value is None):
                continue
            if isinstance(value, ast.Name):  # `data_collator = DataCollatorX(...)` in the function
                value = next(
                    (a.value for a in ast.walk(fn) if isinstance(a, ast.Assign) and any(isinstance(t, ast.Name) and t.id == value.id for t in a.targets)),
                    value,
                )
            rooted = _root_name(value)
            if rooted is None or rooted in _framework_names(mod.tree) or rooted == COLLATOR or rooted not in _repository_names(mod.tree):
                continue  # the framework's collator, or a name (a parameter) whose origin is not read
            said = f"{ast.unparse(value.func)}(...)" if isinstance(value, ast.Call) else ast.unparse(value)
            return (
                f"{shown} line {line} passes {trainer} `**{name}` from {call.func.id}() ({mod.shown}:{fn.lineno}), whose returned dict "
                f"holds a collator of the repository's own (`{said[:80]}`, line {value.lineno}, not imported from trl or "
                "transformers): what it builds from a batch is the repository's, so goblin does not propose packing on top of it"
            )
    return None
