"""The sequence length a script's own dataset class fixes: every sample cut to and padded up to one length (review13a
#15: tprimat train/amd_tran.py:66-100, `PretrainingDataset(..., seq_length=SEQ_LEN, ...)` whose `__iter__` yields
`tokens[:self.seq_length]` or the tokens padded by `self.seq_length - len(tokens)`), given to the Trainer as its
`train_dataset`: each sample is then that many tokens.

Read (ast, nothing run): a class of the script deriving from `Dataset`/`IterableDataset`, whose `__init__` stores one of
its parameters as `self.A = P` and whose body both slices `[: self.A]` and subtracts from `self.A` (`self.A - len(...)`);
a call of that class in the script passing P a value goblin reads (every such call the same), bound to a name a
`...Trainer(train_dataset=...)` call takes. Anything else leaves the length as it was."""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from .pyscript import Location, Script

Lit = Callable[[ast.expr], tuple[bool, Any, "Location | None"]]
_DATASET_BASES = frozenset({"Dataset", "IterableDataset"})


def _self_attr(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
        return node.attr
    return None


def _fixed_param(cls: ast.ClassDef) -> tuple[str, int] | None:
    """(the __init__ parameter, its position after self) the class cuts and pads every sample to."""
    bases = {b.attr if isinstance(b, ast.Attribute) else b.id if isinstance(b, ast.Name) else "" for b in cls.bases}
    init = next((n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
    if not bases & _DATASET_BASES or init is None:
        return None
    params = [a.arg for a in init.args.args[1:]]
    stored: dict[str, str] = {}  # attribute -> parameter
    for n in ast.walk(init):
        if isinstance(n, ast.Assign) and len(n.targets) == 1 and (attr := _self_attr(n.targets[0])) is not None:
            if isinstance(n.value, ast.Name) and n.value.id in params:
                stored[attr] = n.value.id
    cut = {
        a
        for n in ast.walk(cls)
        if isinstance(n, ast.Subscript) and isinstance(n.slice, ast.Slice) and n.slice.lower is None and n.slice.step is None
        if (a := _self_attr(n.slice.upper)) is not None
    }
    padded = {a for n in ast.walk(cls) if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Sub) if (a := _self_attr(n.left)) is not None}
    both = [a for a in stored if a in cut and a in padded]
    if len(both) != 1:
        return None
    param = stored[both[0]]
    return param, params.index(param)


def dataset_length(s: Script, tree: ast.Module, lit: Lit) -> None:
    if any(k in s.values for k in ("max_seq_length", "max_length", "model_max_length")):
        return
    classes = {n.name: f for n in tree.body if isinstance(n, ast.ClassDef) and (f := _fixed_param(n)) is not None}
    if not classes:
        return
    given = {
        kw.value.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Call)
        and ((isinstance(n.func, ast.Name) and n.func.id.endswith("Trainer")) or (isinstance(n.func, ast.Attribute) and n.func.attr.endswith("Trainer")))
        for kw in n.keywords
        if kw.arg == "train_dataset" and isinstance(kw.value, ast.Name)
    }
    found: list[tuple[Any, Location, int, str]] = []
    for n in ast.walk(tree):
        if not (isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name) and n.targets[0].id in given):
            continue
        call = n.value
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in classes):
            continue
        param, pos = classes[call.func.id]
        arg = next((k.value for k in call.keywords if k.arg == param), call.args[pos] if pos < len(call.args) else None)
        if arg is None:
            return
        ok, value, loc = lit(arg)
        if not ok or loc is None or not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            s.notes.append(f"line {call.lineno}: {call.func.id} cuts and pads every sample to `{param}`, a value goblin cannot read; the length is assumed")
            return
        found.append((value, loc, call.lineno, call.func.id))
    if not found or len({v for v, _, _, _ in found}) != 1:
        return
    value, loc, line, name = found[0]
    s.values["max_length"], s.where["max_length"] = value, loc
    s.notes.append(f"seq_len {value}: the dataset {name} built at line {line}, the trainer's train_dataset, cuts and pads every sample to {value} tokens")
