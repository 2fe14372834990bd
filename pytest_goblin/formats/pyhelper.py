"""The model a repository helper loads from what the script passes it, read one level deep with `ast` (nothing
imported or run). Review10a #16 (moreh-dev/moai-examples finetuning_codes/train.py:49 `model, tokenizer =
load_model(args)`, `from utils import *`; utils.py:95-127 loads `args.model_name_or_path` in every branch): the
launch line's `--model $MODEL` is the model, where goblin said "model unknown, 7B assumed".

A function of the repository (not the script's own: the script's own functions are read where they are) that the
script calls by name, whose every model-loading `from_pretrained` reads one and the same parameter, as itself (`p`) or
one attribute of it (`p.model_name_or_path`); the value is that of the argument the call passes for it, read as the
script reads its own values (the parsed namespace's option, a literal). Or whose every such load reads one string its
own module fixes: a literal, or a name the module binds once, at module level, to one (`launched.module_strings`;
review13b #25: finance-phi3-qlora src/train.py:23,78 `model = load_model(lora=True)`, src/model.py:19,89-90
`MODEL_ID = "microsoft/Phi-3-mini-4k-instruct"` / `from_pretrained(MODEL_ID, ...)`), whatever the call passes. Nothing is
said where the loads read different things, where a load reads anything else, or where the calls disagree (two helpers
that load two models name none, said)."""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .pycode import model_load
from .pyliteral import call_name
from .pyscript import Location

if TYPE_CHECKING:
    from .pycommand import CommandLine

MAX_HELPERS = 16


def _load_source(fn: ast.FunctionDef | ast.AsyncFunctionDef, fixed: dict[str, tuple[str, int]]) -> tuple[str, str | None, int] | Fixed | None:
    """(parameter, attribute or None, line of the first load) when every model load in `fn` reads the same `p` /
    `p.attr` of a parameter `p`; a `Fixed` when every one reads the same string of the module (`fixed`: its names bound
    once to one, `launched.module_strings`), or a literal; None when it loads no model or a load reads anything else."""
    params = {a.arg for a in [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]}
    seen: set[tuple[str, str | None]] = set()
    strings: set[tuple[str, str, int]] = set()  # (value, how written, line of its literal)
    first = 0
    for node in ast.walk(fn):
        if not (isinstance(node, ast.Call) and call_name(node.func) == "from_pretrained" and model_load(node)):
            continue
        arg = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "pretrained_model_name_or_path"), None)
        if isinstance(arg, ast.Name) and arg.id in params:
            seen.add((arg.id, None))
        elif isinstance(arg, ast.Attribute) and isinstance(arg.value, ast.Name) and arg.value.id in params:
            seen.add((arg.value.id, arg.attr))
        elif isinstance(arg, ast.Name) and arg.id in fixed:
            strings.add((fixed[arg.id][0], arg.id, fixed[arg.id][1]))
        elif isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            strings.add((arg.value, repr(arg.value), arg.lineno))
        else:
            return None
        first = first or node.lineno
    if strings and not seen and len({v for v, _w, _l in strings}) == 1:
        value, written, line = min(strings, key=lambda x: x[2])
        return Fixed(value, written, line, first)
    if len(seen) != 1 or strings:
        return None
    param, attr = next(iter(seen))
    return param, attr, first


@dataclass(frozen=True)
class Fixed:
    """A model id a helper's module fixes: the value, as the load writes it (`MODEL_ID`), the line of its literal, the
    line of the first load."""

    value: str
    written: str
    line: int
    load_line: int


def _passed(call: ast.Call, fn: ast.FunctionDef | ast.AsyncFunctionDef, param: str) -> ast.expr | None:
    """The expression `call` passes for `param` of `fn` (positional or keyword); None when it passes none."""
    positional = [a.arg for a in [*fn.args.posonlyargs, *fn.args.args]]
    if param in positional:
        i = positional.index(param)
        if i < len(call.args):
            x = call.args[i]
            return None if any(isinstance(a, ast.Starred) for a in call.args[: i + 1]) else x
    return next((k.value for k in call.keywords if k.arg == param), None)


def _trained(tree: ast.Module) -> set[str]:
    """Names a trainer trains: the `model` (first positional or keyword) of a `...Trainer(...)` call, and what
    `accelerator.prepare(...)` is given."""
    out: set[str] = set()
    for n in ast.walk(tree):
        if not isinstance(n, ast.Call):
            continue
        name = call_name(n.func)
        if name.endswith("Trainer"):
            arg = next((k.value for k in n.keywords if k.arg == "model"), n.args[0] if n.args else None)
            out |= {arg.id} if isinstance(arg, ast.Name) else set()
        elif name == "prepare" and isinstance(n.func, ast.Attribute):
            out |= {a.id for a in n.args if isinstance(a, ast.Name)}
    return out


def _binds_trained(call: ast.Call, parents: dict[int, ast.AST], trained: set[str]) -> bool:
    """`model = load_model(args)` / `model, tokenizer = load_model(args)` where a trainer trains `model`."""
    stmt = parents.get(id(call))
    if not isinstance(stmt, ast.Assign):
        return False
    names = {t.id for target in stmt.targets for t in ast.walk(target) if isinstance(t, ast.Name)}
    return bool(names & trained)


def helper_model(
    tree: ast.Module, cli: CommandLine, runs: Callable[[ast.Call], bool], lit: Callable[[ast.expr], tuple[bool, Any, Location | None]]
) -> tuple[str, Location, str] | str | None:
    """(model id, where its value is, the note) of the model a repository helper the script calls loads from its
    argument and binds to the name a trainer trains (`model, tokenizer = load_model(args)` then `Trainer(model, ...)`);
    None where there is none or it cannot be read; the note alone where two helpers load two models."""
    from .launched import module_strings

    parents = {id(child): parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
    trained = _trained(tree)
    local = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    calls = [
        n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id not in local and _binds_trained(n, parents, trained)
    ]
    names = sorted({c.func.id for c in calls if isinstance(c.func, ast.Name)})
    if not names:
        return None
    found = cli._repository(tree)
    if found is None:
        return None
    repo, real = found
    reads: list[tuple[str, Location, str]] = []
    for name in names[:MAX_HELPERS]:
        hit = repo.find_function(name, repo.script)
        if hit is None or hit[1].path == real:
            continue
        fn, mod = hit
        source = _load_source(fn, module_strings(mod.tree))
        if source is None:
            continue
        if isinstance(source, Fixed):
            ran = [c for c in calls if isinstance(c.func, ast.Name) and c.func.id == name and runs(c)]
            if ran:
                fixed = (
                    f"the model is loaded by {name}() ({mod.shown}:{source.load_line}, from_pretrained({source.written})), which the script calls"
                    f" at line {min(c.lineno for c in ran)}: {source.value}, set at {mod.shown}:{source.line}; change it there by hand"
                )
                reads.append((source.value, Location(None, source.line, file=str(mod.path), fixed=fixed), fixed))
            continue
        param, attr, line = source
        for call in (c for c in calls if isinstance(c.func, ast.Name) and c.func.id == name and runs(c)):
            given = _passed(call, fn, param)
            if given is None:
                return None  # the parameter's default, or a call goblin cannot follow: not read
            expr: ast.expr = given if attr is None else ast.copy_location(ast.Attribute(value=given, attr=attr, ctx=ast.Load()), given)
            ok, value, loc = lit(expr)
            if not ok or not isinstance(value, str) or loc is None:
                return None
            read = f"{param}.{attr}" if attr else param
            note = (
                f"the model is loaded by {name}() ({mod.shown}:{line}, from_pretrained({read})), which the script calls at line"
                f" {call.lineno} with `{ast.unparse(given)[:60]}`: {value}"
            )
            reads.append((value, loc, note))
    if not reads:
        return None
    if len({v for v, _, _ in reads}) != 1:
        said = ", ".join(sorted({f"`{v}`" for v, _, _ in reads}))
        return f"the helpers the script calls load different models ({said}); goblin names no model"
    return reads[0]
