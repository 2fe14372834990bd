"""The repository script that opens a JSON/YAML recipe by its literal path and builds its TrainingArguments (or a TRL
config) from it, read with `ast` (nothing imported or run): the recipe's script where no launch line names the recipe.

Review11b #31 (lixinyu66666/Qwen3-1.7b_RLHF scripts/train_lora.py:54-56): `with open("configs/training_args.json") as f:
training_args_dict = json.load(f)` then `TrainingArguments(**training_args_dict)`; the script hard-codes the model, its
4-bit load and gradient checkpointing, which the recipe alone never says.

A script counts where a string constant of it is the recipe's path (relative to the repository root or to the script's
own folder: where a run from either finds it) and the recipe reaches a config class's call through
- `open(<path>)` (a `with ... as f` or `f = open(...)`), `json.load(f)` / `yaml.safe_load(f)` (or of the `open(...)`
  itself), assigned to a name or passed directly, as `Config(**that)`;
- or a parser's `parse_json_file(<path>)` / `parse_yaml_file(<path>)`.
Only where exactly one script of the config's folders (launch_walk.folder_scripts) does so."""

from __future__ import annotations

import ast
import os
from pathlib import Path

from ..pysource import parse as parse_source
from .pyclasses import CONFIG_CLASSES
from .pyliteral import call_name

MAX_SCRIPT_BYTES = 512_000
_LOADS = frozenset({"load", "safe_load", "full_load"})  # json.load, yaml.safe_load / load / full_load
_PARSE_FILE = frozenset({"parse_json_file", "parse_yaml_file"})


def _names(path: str, script: Path, root: Path, real: Path) -> bool:
    """Whether the literal `path` is the recipe, from the repository root or the script's folder."""
    if not path or len(path) > 1000 or "\n" in path or "\0" in path:
        return False
    return any(os.path.realpath(os.path.normpath(base / path)) == str(real) for base in (root, script.parent))


def _is_lit(node: ast.AST | None, script: Path, root: Path, real: Path) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and _names(node.value, script, root, real)


def _loads(tree: ast.Module, script: Path, root: Path, real: Path) -> list[ast.Call]:
    """The `json.load(f)` / `yaml.safe_load(f)` calls that read the recipe: of the handle a `with open(<recipe>) as f:`
    binds, inside that `with`; of a `f = open(<recipe>)` name; or of the `open(<recipe>)` call itself."""

    def opens(node: ast.AST | None) -> bool:
        return isinstance(node, ast.Call) and call_name(node.func) == "open" and bool(node.args) and _is_lit(node.args[0], script, root, real)

    def loads_of(scope: ast.AST, handles: set[str]) -> list[ast.Call]:
        out: list[ast.Call] = []
        for n in ast.walk(scope):
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in _LOADS and n.args:
                arg = n.args[0]
                if (isinstance(arg, ast.Name) and arg.id in handles) or opens(arg):
                    out.append(n)
        return out

    found: list[ast.Call] = loads_of(tree, set())  # json.load(open(<recipe>))
    assigned: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.With, ast.AsyncWith)):
            handles = {i.optional_vars.id for i in node.items if opens(i.context_expr) and isinstance(i.optional_vars, ast.Name)}
            if handles:
                found.extend(n for stmt in node.body for n in loads_of(stmt, handles))
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) and opens(node.value):
            assigned.add(node.targets[0].id)
    if assigned:
        found.extend(loads_of(tree, assigned))
    return list({id(n): n for n in found}.values())


def builds_config(tree: ast.Module, script: Path, root: Path, real: Path) -> tuple[int, str, int] | None:
    """(line the recipe is opened, class built from it, line of that call) where the script builds a TrainingArguments /
    TRL config from the recipe opened by its literal path; None where it does not."""
    for node in ast.walk(tree):  # a parser's parse_json_file / parse_yaml_file of the literal path
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _PARSE_FILE:
            arg = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg in ("json_file", "yaml_file")), None)
            if _is_lit(arg, script, root, real):
                return node.lineno, node.func.attr, node.lineno
    loads = _loads(tree, script, root, real)
    if not loads:
        return None
    dicts = {
        n.targets[0].id
        for n in ast.walk(tree)
        if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name) and any(n.value is ld for ld in loads)
    }
    opened_at = min(ld.lineno for ld in loads)
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and call_name(node.func) in CONFIG_CLASSES):
            continue
        for kw in node.keywords:
            if kw.arg is None and ((isinstance(kw.value, ast.Name) and kw.value.id in dicts) or any(kw.value is ld for ld in loads)):
                return opened_at, call_name(node.func) or "", node.lineno
    return None


def opening_script(config: Path, root: Path) -> tuple[Path, str] | None:
    """(script, how it was found) of the one Python file of the config's folders that builds its config class from the
    recipe opened by its literal path; None where none or several do."""
    from .launch_walk import folder_scripts

    real = Path(os.path.realpath(config))
    found: list[tuple[Path, str]] = []
    for script, text, _shown_root in folder_scripts(config, MAX_SCRIPT_BYTES):
        if real.name not in text:
            continue
        try:
            tree = parse_source(text)
        except (SyntaxError, ValueError, RecursionError):
            continue
        hit = builds_config(tree, script, root, real)
        if hit is None:
            continue
        opened, cls, line = hit
        shown = os.path.relpath(script, root) if Path(script).is_relative_to(root) else str(script)
        how = f"{shown}:{opened} opens this file by its path and builds {cls} from it (line {line}); no launch line names this file"
        if cls in _PARSE_FILE:
            how = f"{shown}:{opened} reads this file by its path with {cls}; no launch line names this file"
        found.append((Path(os.path.realpath(script)), how))
    return found[0] if len({p for p, _ in found}) == 1 else None
