"""TrainingArguments fields a script sets in code on the object it parsed a recipe into, read with `ast` (never run):
`training_args = replace(training_args, fp16=True, bf16=False)` (`dataclasses.replace`, review7b #28 unionai-oss
llm-fine-tuning llm_fine_tuning.py:283-287), `training_args.deepspeed = "ds.json"` (OPTML-Group MemorizationBarrier
train_sft.py:53) and `setattr(training_args, "k", v)`.

The parsed object is found by name in each function: the targets of the parser's `parse_*` call at the place of the
training class (TrainingArguments, a TRL config or a repository subclass of one), a parameter annotated with that class
(a Flyte task's `training_args: TrainingArguments`), a parameter a script function is passed it in (one call level),
and a name it is re-bound to (`args = training_args`, `args = replace(training_args, ...)`). A setting inside a function
counts only where that function runs: the script names it somewhere outside itself (a call, `fire.Fire(main)`) or it is
a `@task`; each call site's `if`s guard it as the function's own do (launched._call_site_guards)."""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Guards = list[tuple[ast.expr, int, bool]]  # (test, `if` line, the node is on its else side), innermost first


@dataclass
class CodeSet:
    key: str
    value: ast.expr
    line: int
    form: str  # "`training_args = replace(training_args, fp16=True, ...)`", shortened
    sites: list[Guards]  # the `if`s around it, one list per call site of its function (alternatives)
    # how it wins over the file, where it is not a setting made after the parse (a trainer keyword: launched.trainer_packing)
    said: str = ""


_Scope = ast.AST  # a FunctionDef, AsyncFunctionDef or the Module


def _scope(node: ast.AST, parents: dict[int, ast.AST]) -> ast.AST:
    up = parents.get(id(node))
    while up is not None and not isinstance(up, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)):
        up = parents.get(id(up))
    return up if up is not None else node


def _tail(node: ast.expr | None) -> str:
    if isinstance(node, ast.Subscript):  # Optional[TrainingArguments] is not unwrapped: only a plain annotation
        return ""
    return node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""


def _is_replace(call: ast.Call) -> bool:
    """`replace(x, ...)` (from dataclasses import replace) or `dataclasses.replace(x, ...)`; never `s.replace(...)`."""
    func = call.func
    return (isinstance(func, ast.Name) and func.id == "replace") or (
        isinstance(func, ast.Attribute) and func.attr == "replace" and isinstance(func.value, ast.Name) and func.value.id == "dataclasses"
    )


def _owners(tree: ast.Module, parents: dict[int, ast.AST], classes: list[str], training: set[str]) -> set[tuple[int, str]]:
    """(scope id, name) of every name bound to the parsed training-arguments object."""
    owners: set[tuple[int, str]] = set()
    index = [i for i, c in enumerate(classes) if c in training]
    functions = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Attribute):
            if node.value.func.attr.startswith("parse_") and len(index) == 1:
                for target in node.targets:
                    bound = target.elts[index[0]] if isinstance(target, ast.Tuple) and len(target.elts) > index[0] else None
                    if isinstance(bound, ast.Name):
                        owners.add((id(_scope(node, parents)), bound.id))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for a in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]:
                if _tail(a.annotation) in training:
                    owners.add((id(node), a.arg))
    while True:
        before = len(owners)
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                value = node.value
                src = value.args[0] if isinstance(value, ast.Call) and _is_replace(value) and value.args else value
                if isinstance(src, ast.Name) and (id(_scope(node, parents)), src.id) in owners:
                    owners.add((id(_scope(node, parents)), node.targets[0].id))
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in functions:
                fn = functions[node.func.id]
                here = id(_scope(node, parents))
                params = [a.arg for a in [*fn.args.posonlyargs, *fn.args.args]]
                for i, arg in enumerate(node.args[: len(params)]):
                    if isinstance(arg, ast.Name) and (here, arg.id) in owners:
                        owners.add((id(fn), params[i]))
                for kw in node.keywords:
                    if kw.arg is not None and isinstance(kw.value, ast.Name) and (here, kw.value.id) in owners:
                        owners.add((id(fn), kw.arg))
        if len(owners) == before:
            return owners


def _runs_at_all(node: ast.AST, parents: dict[int, ast.AST], tree: ast.Module) -> bool:
    """False for a setting inside a function the script never names outside itself and that is no `@task`: nothing runs it."""
    fn = _scope(node, parents)
    while isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
        inside = {id(n) for n in ast.walk(fn)}
        named = any(isinstance(n, ast.Name) and n.id == fn.name and id(n) not in inside for n in ast.walk(tree)) or any(
            isinstance(n, ast.Attribute) and n.attr == fn.name and id(n) not in inside for n in ast.walk(tree)
        )
        task = any(_tail(d.func if isinstance(d, ast.Call) else d) == "task" for d in fn.decorator_list)
        if not (named or task):
            return False
        fn = _scope(fn, parents)
    return True


def code_sets(tree: ast.Module, classes: list[str], training: set[str], sites_of: Callable[[ast.AST], list[Guards]]) -> list[CodeSet]:
    """Every field set in code on the parsed training-arguments object, in source order; `classes` the parser's
    classes in order, `training` the names that are the training class, `sites_of` the `if`s around a statement, one
    list per call site of its function (launched._sites)."""
    parents = {id(child): parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
    owners = _owners(tree, parents, classes, training)
    if not owners:
        return []

    def owned(node: ast.expr, at: ast.AST) -> bool:
        return isinstance(node, ast.Name) and (id(_scope(at, parents)), node.id) in owners

    found: list[tuple[str, ast.expr, ast.stmt, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Attribute) and owned(target.value, node):
                found.append((target.attr, node.value, node, f"`{ast.unparse(target)} = ...`"))
            elif isinstance(node.value, ast.Call) and _is_replace(node.value) and node.value.args and owned(node.value.args[0], node):
                shown = ast.unparse(node)
                shown = shown if len(shown) <= 80 else shown[:77] + "..."
                found.extend((kw.arg, kw.value, node, f"`{shown}`") for kw in node.value.keywords if kw.arg is not None)
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            call = node.value
            if isinstance(call.func, ast.Name) and call.func.id == "setattr" and len(call.args) == 3 and owned(call.args[0], node):
                name = call.args[1]
                if isinstance(name, ast.Constant) and isinstance(name.value, str):
                    found.append((name.value, call.args[2], node, f"`{ast.unparse(call)[:80]}`"))
    out: list[CodeSet] = []
    for key, value, node, form in found:
        if not _runs_at_all(node, parents, tree):
            continue
        out.append(CodeSet(key, value, node.lineno, form, sites_of(node)))
    return sorted(out, key=lambda c: c.line)


def literal(node: ast.expr) -> tuple[bool, Any]:
    """A literal value (`True`, `"ds.json"`, `["full_shard"]`), read with ast.literal_eval (nothing run)."""
    try:
        return True, ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False, None
