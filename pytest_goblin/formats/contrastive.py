"""A contrastive loss over in-batch negatives, read from the training script and the repository modules it imports (with
ast, through safepath; nothing imported or run): a cross-entropy whose targets are `torch.arange(n)` /
`torch.tensor(range(n))`, the diagonal of a similarity matrix between the batch's queries and passages
(review11b #30: McGill-NLP/llm2vec llm2vec/loss/HardNegativeNLLLoss.py:40-45, reached from experiments/run_supervised.py
through llm2vec/loss/utils.py; #36: ContextualAI/gritlm gritlm/training/model.py:45-47 DistributedContrastiveLoss).

Every other example of the batch is a negative, so the batch the loss sees is the micro-batch (or its gather across
ranks), not micro-batch x accumulation: accumulating smaller micro-batches changes the objective. And the loss compares
one representation per sequence, so packing several sequences into one row is not offered either."""

from __future__ import annotations

import ast
from pathlib import Path

from ..schemas import FieldSource
from .base import Reader
from .launched import ParsedModule, RepoModules, _module_file, parse_in_tree

MAX_MODULES = 24  # repository modules read from the script, breadth first
MAX_DEPTH = 2  # import hops from the script


def _tail(node: ast.expr) -> str:
    return node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""


def _diagonal_target(node: ast.expr) -> bool:
    """`torch.arange(...)`, or `torch.tensor(range(...))` / `torch.LongTensor(range(...))`."""
    if not isinstance(node, ast.Call):
        return False
    name = _tail(node.func)
    if name == "arange":
        return True
    return name in ("tensor", "LongTensor", "as_tensor") and bool(node.args) and isinstance(node.args[0], ast.Call) and _tail(node.args[0].func) == "range"


def _in_function(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> int | None:
    """The line of a cross-entropy call in `fn` whose target is an arange over the batch; None when there is none."""
    targets: set[str] = set()
    for node in ast.walk(fn):
        if isinstance(node, ast.Assign) and _diagonal_target(node.value):
            targets |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    for node in ast.walk(fn):
        if not isinstance(node, ast.Call) or "cross_entropy" not in _tail(node.func).lower():
            continue
        given = [*node.args, *(k.value for k in node.keywords)]
        if any((isinstance(a, ast.Name) and a.id in targets) or _diagonal_target(a) for a in given):
            return node.lineno
    return None


def _found(mod: ParsedModule) -> str | None:
    for node in ast.walk(mod.tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and (line := _in_function(node)) is not None:
            return f"{mod.shown}:{line}"
    return None


def in_batch_contrastive(script_path: str | Path) -> str | None:
    """ "a cross-entropy against arange targets over the batch (llm2vec/loss/HardNegativeNLLLoss.py:45), in-batch negatives,
    read from experiments/run_supervised.py and the repository modules it imports" where the script or a module it imports
    (MAX_DEPTH hops, MAX_MODULES modules) computes one; None otherwise."""
    got = parse_in_tree(script_path)
    if got is None:
        return None
    script, roots, root = got
    repo = RepoModules(script, roots, root)
    seen = {script.path}
    todo: list[tuple[ParsedModule, int]] = [(script, 0)]
    while todo:
        mod, depth = todo.pop(0)
        hit = _found(mod)
        if hit is not None:
            via = "" if mod is script else f", reached from {script.shown} through its imports"
            return f"a cross-entropy against arange targets over the batch's similarity scores at {hit} (a contrastive loss with in-batch negatives{via})"
        if depth >= MAX_DEPTH:
            continue
        for imp in ast.walk(mod.tree):
            if not isinstance(imp, ast.ImportFrom) or len(seen) >= MAX_MODULES:
                continue
            names = [imp.module or ""] if imp.module else []
            names += [f"{imp.module}.{a.name}" if imp.module else a.name for a in imp.names]  # `from .loss import HardNegativeNLLLoss` (a module)
            for name in names:
                file = _module_file(name, imp.level, mod.path, script.path.parent, root, repo.cwd)
                if file is None or file in seen:
                    continue
                seen.add(file)
                other = repo.module(file)
                if other is not None:
                    todo.append((other, depth + 1))
    return None


def read_contrastive(r: Reader, script_path: str | Path, ran: str = "") -> None:
    """Sets the workload's `in_batch_negatives` (and `packing_blocked`, where nothing blocked packing before) from the
    training script's code; `ran`: how the script runs on the audited file (`x.py is run on this file by run.sh line 3`)."""
    found = in_batch_contrastive(script_path)
    if found is None:
        return
    said = found + (f"; {ran}" if ran else "")
    r.values["in_batch_negatives"] = said
    r.sources["in_batch_negatives"] = FieldSource(file=str(script_path), key=None, line=None, explicit=True, note=said)
    r.notes.append(
        f"in-batch negatives: {said}. The loss's batch is the micro-batch (every other example a negative), so goblin does not"
        " trade micro-batch for gradient accumulation, which would change the objective"
    )
    if r.values.get("packing_blocked") is None and not r.values.get("sample_packing"):
        r.values["packing_blocked"] = f"the loss compares one representation per sequence ({found}): packing several sequences into one row is not offered"
