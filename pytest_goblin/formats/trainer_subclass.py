"""The calls of a repository subclass of a TRL trainer or of transformers' Trainer (`class GPOTrainer(DPOTrainer)`, blind
review 13b row 29: DiscoPOP src/alignment/gpo.py:9, built by scripts/run_gpo.py:226 with `beta=`, `tokenizer=`,
`max_length=`): which of a call's literal keywords reach the framework's `__init__`, for
blockers._trainer_kwargs_at_version. The subclass's own `__init__` decides: its named parameters stay with it; where it
takes `**kwargs` and hands them to `super().__init__(...)` (or `Base.__init__(self, ...)`), the other keywords go to the
parent; where it has no `__init__`, the parent's signature applies to them all. A class with more than one base, an
`__init__` without `**kwargs` or one that does not hand them on is not judged (what it does is its own). The classes are
found through the repository's imports (launched.RepoModules); nothing is imported or run."""

from __future__ import annotations

import ast
from pathlib import Path

from ..frameworks.trainer_kwargs import TrainerCall, attribute_class, framework_names, imports_unsloth, literal_keywords
from .launched import ParsedModule, RepoModules, base_names, parse_in_tree

MAX_DEPTH = 8


def subclass_calls(path: str | Path) -> list[TrainerCall]:
    """Each call in the script of a repository class whose bases lead to a framework trainer, with the literal keywords
    that reach the framework's __init__ (a call with `**` is left out)."""
    parsed = parse_in_tree(path)
    if parsed is None:
        return []
    script, roots, root = parsed
    direct = framework_names(script.tree)
    patched = imports_unsloth(script.tree)  # Unsloth's patched trainers (trainer_kwargs.imports_unsloth): not judged
    repo = RepoModules(script, roots, root)
    out: list[TrainerCall] = []
    for node in ast.walk(script.tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name) or node.func.id in direct:
            continue
        if not node.func.id.endswith("Trainer") or any(kw.arg is None for kw in node.keywords):
            continue
        got = _handed_on(repo, script, node.func.id, literal_keywords(node))
        if got is not None and not patched:
            dist, cls, keywords, via = got
            out.append(TrainerCall(cls, node.func.id, node.lineno, keywords, dist, via))
    return out


def _handed_on(
    repo: RepoModules, script: ParsedModule, name: str, keywords: tuple[tuple[str, int], ...]
) -> tuple[str, str, tuple[tuple[str, int], ...], str] | None:
    """(framework, its class, the keywords its __init__ gets, how) for a call of the repository class `name`, or None."""
    hit = repo.find(name, script)
    if hit is None:
        return None
    top, top_mod = hit
    handed = False
    for _ in range(MAX_DEPTH):
        if hit is None:
            return None
        cls, mod = hit
        if len(cls.bases) != 1:
            return None
        init = next((n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
        if init is not None:
            a = init.args
            if a.kwarg is None or not _passes_on(init, a.kwarg.arg):
                return None
            own = {x.arg for x in [*a.posonlyargs, *a.args, *a.kwonlyargs]}
            keywords = tuple(k for k in keywords if k[0] not in own)
            handed = True
        base = cls.bases[0]
        found = attribute_class(base) if isinstance(base, ast.Attribute) else framework_names(mod.tree).get(base.id) if isinstance(base, ast.Name) else None
        if found is not None:
            how = f"its __init__ hands the keywords it does not name to {found[1]}.__init__" if handed else "has no __init__ of its own"
            return found[0], found[1], keywords, f"{top.name} ({top_mod.shown}:{top.lineno}) is a subclass of {found[1]} and {how}"
        names = base_names(cls)
        hit = repo.find(names[0], mod) if names else None
    return None


def _passes_on(init: ast.FunctionDef, kwarg: str) -> bool:
    """Whether __init__ calls `super().__init__(..., **kwarg)` or `X.__init__(self, ..., **kwarg)`."""
    for node in ast.walk(init):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "__init__"):
            continue
        if any(kw.arg is None and isinstance(kw.value, ast.Name) and kw.value.id == kwarg for kw in node.keywords):
            return True
    return False
