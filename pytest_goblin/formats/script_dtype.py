"""The dtype a launched script loads the model's weights in, read with `ast` (never run).

A recipe its repository's script parses into its own argument classes (Firefly's train.py) leaves the weights' dtype
to that script's `from_pretrained(..., torch_dtype=...)`. The dtype is read where every model load that runs on the
recipe passes one goblin can evaluate over the recipe's keys: a `torch.<dtype>` attribute or a dtype name, directly, or
through a local name bound once (`torch_dtype = torch.float16 if training_args.fp16 else torch.bfloat16`), or through a
`**kwargs` dict bound once and never changed afterwards (`model_kwargs = dict(torch_dtype=torch_dtype, ...)`).
A load with no dtype, `"auto"`, or anything else leaves the dtype unread (transformers' own default differs between
releases: float32 in 4.x, the checkpoint's dtype from 5.0). A `PeftModel.from_pretrained` loads an adapter, a
tokenizer, config or processor no weights: not model loads.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

from .pyeval import TORCH_DTYPE_ATTRS, Evaluator

# the dtype names a load's torch_dtype may hold, as the workload's weight_dtype
_WEIGHT_DTYPES = {"float16": "fp16", "fp16": "fp16", "half": "fp16", "bfloat16": "bf16", "bf16": "bf16", "float32": "fp32", "fp32": "fp32", "float": "fp32"}
_DTYPE_KEYWORDS = ("torch_dtype", "dtype")
# from_pretrained receivers that load no model weights (or no base model): AutoTokenizer, AutoConfig, AutoProcessor, PeftModel
_NOT_MODELS = ("Tokenizer", "Config", "Processor", "FeatureExtractor", "Peft")
# methods that change a dict after it is bound: its **-passed keywords are then not read
_MUTATORS = frozenset({"update", "pop", "setdefault", "clear", "popitem", "__setitem__"})

Guards = list[tuple[ast.expr, int, bool]]


@dataclass
class ModelLoad:
    """One `X.from_pretrained(...)` of model weights: the receiver's name, the call's line, the expression the
    dtype is passed as (None: none passed, or a `**` dict goblin cannot read), how it is passed, and the `if`s around
    each of its call sites (launched._guards_of + _call_site_guards)."""

    name: str
    line: int
    dtype: ast.expr | None
    passed: str  # `torch_dtype=...` as written, or `**model_kwargs` with the dict's line
    sites: list[Guards]
    model: ast.expr | None = None  # what it passes as the model (first argument or `pretrained_model_name_or_path=`)


def _receiver(func: ast.expr) -> str | None:
    if not (isinstance(func, ast.Attribute) and func.attr == "from_pretrained"):
        return None
    name = ast.unparse(func.value).split(".")[-1]
    return None if any(part in name for part in _NOT_MODELS) else name


def _keyword(call: ast.Call) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg in _DTYPE_KEYWORDS), None)


def _changed_after(tree: ast.AST, name: str, line: int) -> bool:
    """Whether `name[...] = ...`, `del name[...]` or `name.update(...)` (a mutator) appears after `line`."""
    for n in ast.walk(tree):
        if getattr(n, "lineno", 0) <= line:
            continue
        if isinstance(n, ast.Subscript) and isinstance(n.value, ast.Name) and n.value.id == name and isinstance(n.ctx, (ast.Store, ast.Del)):
            return True
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in _MUTATORS:
            if isinstance(n.func.value, ast.Name) and n.func.value.id == name:
                return True
    return False


def _from_kwargs(call: ast.Call, ev: Evaluator) -> tuple[ast.expr | None, str]:
    """The dtype a `**name` dict passes: (expression, `**name` (line N)), or (None, why) where none is read."""
    for k in call.keywords:
        if k.arg is not None or not isinstance(k.value, ast.Name):
            continue
        bound = ev.single_binding(k.value)
        scope = ev.function_of(call) or ev.tree
        if bound is None or _changed_after(scope, k.value.id, bound.lineno):
            return None, f"**{k.value.id}"
        if isinstance(bound, ast.Call) and isinstance(bound.func, ast.Name) and bound.func.id == "dict" and not bound.args:
            got = _keyword(bound)
        elif isinstance(bound, ast.Dict):
            got = next(
                (v for key, v in zip(bound.keys, bound.values, strict=True) if isinstance(key, ast.Constant) and key.value in _DTYPE_KEYWORDS),
                None,
            )
        else:
            return None, f"**{k.value.id}"
        shown = f"{next(kw.arg for kw in bound.keywords if kw.value is got)}={ast.unparse(got)[:60]}" if isinstance(bound, ast.Call) and got is not None else ""
        return got, f"**{k.value.id}" + (f" (line {bound.lineno}: `{shown}`)" if shown else f" (line {bound.lineno})")
    return None, ""


def model_loads(tree: ast.Module, parents: dict[int, ast.AST], sites: Any) -> list[ModelLoad]:
    """Every model-weights `from_pretrained` call of the script; `sites(node)`: the guard lists of its call sites."""
    ev = Evaluator(tree, parents, lambda _n: (False, None))
    out: list[ModelLoad] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _receiver(node.func)
        if name is None:
            continue
        expr = _keyword(node)
        passed = f"{next(k.arg for k in node.keywords if k.value is expr)}={ast.unparse(expr)[:60]}" if expr is not None else ""
        if expr is None:
            expr, passed = _from_kwargs(node, ev)
        model = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "pretrained_model_name_or_path"), None)
        out.append(ModelLoad(name=f"{name}.from_pretrained", line=node.lineno, dtype=expr, passed=passed, sites=sites(node), model=model))
    return out


def weight_dtype(tree: ast.Module, parents: dict[int, ast.AST], loads: list[ModelLoad], leaf: Any, runs: Any) -> tuple[str, int, str] | None:
    """(weight_dtype, the load's line, what was read) where every load that runs (`runs(guards)`: True, False or None)
    passes the same dtype goblin can evaluate with `leaf` (a recipe key or a parser field by attribute name); None
    where no load runs, one may run under an `if` goblin cannot evaluate, or a dtype is not read."""

    def dtype_leaf(node: ast.expr) -> tuple[bool, Any]:
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "torch" and node.attr in TORCH_DTYPE_ATTRS:
            return True, TORCH_DTYPE_ATTRS[node.attr]
        ok, value = leaf(node)
        return (True, value) if ok else (False, None)

    ev = Evaluator(tree, parents, dtype_leaf)
    found: list[tuple[str, ModelLoad]] = []
    for load in loads:
        ran = [runs(guards) for guards in load.sites]
        if not any(r is True for r in ran):
            if any(r is None for r in ran):
                return None  # it may run: its dtype would count
            continue
        if load.dtype is None:
            return None
        ok, value = ev.value(load.dtype)
        dt = _WEIGHT_DTYPES.get(value.removeprefix("torch.")) if ok and isinstance(value, str) else None
        if dt is None:
            return None
        found.append((dt, load))
    if not found or len({dt for dt, _ in found}) != 1:
        return None
    dt, load = found[0]
    shown = {"fp16": "float16", "bf16": "bfloat16", "fp32": "float32"}[dt]
    chain: list[str] = []
    expr: ast.expr | None = load.dtype
    for _hop in range(3):  # the local names the dtype is bound through, as written
        if not isinstance(expr, ast.Name) or (bound := ev.single_binding(expr)) is None:
            break
        chain.append(f"`{expr.id} = {ast.unparse(bound)[:90]}` (line {bound.lineno})")
        expr = bound
    how = f"it passes `{load.passed.split(' (', 1)[0]}`" + (f"{load.passed[len(load.passed.split(' (', 1)[0]) :]}" if " (" in load.passed else "")
    return dt, load.line, f"`{load.name}(...)` at line {load.line} loads the weights in torch.{shown} on this file: " + "; ".join([how, *chain])
