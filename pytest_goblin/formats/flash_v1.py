"""A flash-attn 1.x name a training script imports, itself or through the repository modules it imports
(`blocker.flash_attn_v1_api`; review11b #35, tatsu-lab/alpaca_farm src/alpaca_farm/flash_models/flash_llama.py:20
`from flash_attn.flash_attn_interface import flash_attn_unpadded_qkvpacked_func`).

flash-attn 2.0 renamed the `flash_attn_unpadded_*` functions to `flash_attn_varlen_*`, and ROCm's flash-attention is a
2.x fork: every tag of ROCm/flash-attention (v2.5.9post1-cktile .. v3.0.0.r1-cktile) defines only the 2.x names
(v2.8.0-cktile, b3ae496, flash_attn/flash_attn_interface.py:1212 `flash_attn_varlen_qkvpacked_func`, :1370
`flash_attn_varlen_func`; no `flash_attn_unpadded`), so the import raises ImportError on ROCm, and without flash-attn
installed it raises too. An import under a `try` that catches ImportError (DUET-VLM's monkey patch falls back to the
varlen name) is not one. Read with `ast` through safepath, a bounded number of modules; nothing is imported or run."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

V1_NAME = re.compile(r"flash_attn_unpadded(?:_qkvpacked|_kvpacked)?_func")
V1_MODULES = frozenset({"flash_attn", "flash_attn.flash_attn_interface"})
FLASH_V1_AT = (
    "ROCm/flash-attention v2.8.0-cktile (b3ae496) flash_attn/flash_attn_interface.py:1212,1370 (the 2.x varlen names; no "
    "flash_attn_unpadded_* at any tag v2.5.9post1-cktile..v3.0.0.r1-cktile), flash_attn/__init__.py:1 (__version__ 2.8.0.post2)"
)
MAX_MODULES = 40
_CAUGHT = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})


@dataclass
class V1Import:
    file: str  # the module that imports the name, relative to the repository root
    path: str  # its real path
    line: int
    name: str
    statement: str
    certain: bool  # every import on the way runs when the script starts (module level, no branch)
    via: list[str] = field(default_factory=list)  # "examples/supervised.py:24 imports alpaca_farm.common (in a function)"


def _caught(node: ast.AST, parents: dict[int, ast.AST]) -> bool:
    """Whether `node` sits in the body of a `try` one of whose handlers catches an ImportError."""
    child, up = node, parents.get(id(node))
    while up is not None:
        if isinstance(up, ast.Try) and child in up.body:
            for h in up.handlers:
                names = [h.type] if h.type is None or not isinstance(h.type, ast.Tuple) else list(h.type.elts)
                if any(n is None or (isinstance(n, ast.Name) and n.id in _CAUGHT) for n in names):
                    return True
        child, up = up, parents.get(id(up))
    return False


def _at_start(node: ast.AST, parents: dict[int, ast.AST]) -> bool:
    """Whether `node` runs when its module is imported: only module-level statements, never under a function, class
    body's method, `if` or loop (a `try` whose handlers do not catch the ImportError runs it too)."""
    up = parents.get(id(node))
    while up is not None and not isinstance(up, ast.Module):
        if not isinstance(up, (ast.Try, ast.ClassDef)):
            return False
        up = parents.get(id(up))
    return True


def flash_v1_import(path: str | Path) -> V1Import | None:
    """The first flash-attn 1.x import the script reaches, breadth first through the repository modules it imports
    (a certain path before one through a function or a branch), or None."""
    from .launched import ParsedModule, RepoModules, _module_file, cwd_on_path, parse_in_tree

    parsed = parse_in_tree(path)
    if parsed is None:
        return None
    script, roots, root = parsed
    repo = RepoModules(script, roots, root)
    cwd = cwd_on_path(script, root)
    todo: list[tuple[ParsedModule, bool, list[str]]] = [(script, True, [])]
    seen: set[Path] = {script.path}
    found: V1Import | None = None
    while todo and len(seen) <= MAX_MODULES:
        mod, certain, via = todo.pop(0)
        parents = {id(c): p for p in ast.walk(mod.tree) for c in ast.iter_child_nodes(p)}
        for node in ast.walk(mod.tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)) or _caught(node, parents):
                continue
            runs = certain and _at_start(node, parents)
            if isinstance(node, ast.ImportFrom) and not node.level and node.module in V1_MODULES:
                hit = next((a.name for a in node.names if V1_NAME.fullmatch(a.name)), None)
                if hit is not None and (found is None or (runs and not found.certain)):
                    found = V1Import(mod.shown, str(mod.path), node.lineno, hit, ast.unparse(node), runs, via)
                continue
            targets: list[tuple[str, int]] = []
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                targets = [(base, node.level)] + [(f"{base}.{a.name}" if base else a.name, node.level) for a in node.names if a.name != "*"]
            else:
                targets = [(a.name, 0) for a in node.names]
            for name, level in targets:
                file = _module_file(name, level, mod.path, script.path.parent, root, cwd)
                other = repo.module(file) if file is not None else None
                if other is None or other.path in seen:
                    continue
                seen.add(other.path)
                how = "" if _at_start(node, parents) else " (in a function or under a branch)"
                todo.append((other, runs, [*via, f"{mod.shown}:{node.lineno} imports {other.shown}{how}"]))
        if found is not None and found.certain:
            break
    return found
