"""The attention and weight dtype of a model a repository module builds, read one level deep with `ast` (nothing
imported or run). Review14b #21 (castorini/visa qwen/train.py:70 `model = RagVisaModel.build(...)`, `from ragvisa import
RagVisaModel`; qwen/ragvisa.py:47 `cls.TRANSFORMER_CLS.from_pretrained(..., attn_implementation="flash_attention_2",
torch_dtype=torch.bfloat16)`): goblin read train.py alone and said "attention sdpa (not set)".

Where the script loads no model itself, the name a trainer trains is bound to the result of a call of the repository
(`model = X.build(...)` on a class the script imports, or `model = build_model(...)`), and every model-loading
`from_pretrained` in that method or function passes the same literal `attn_implementation` (or `_attn_implementation`,
or transformers 4.x's `use_flash_attention_2=True`), that keyword is the script's; its `torch_dtype`/`dtype` likewise where
every load passes the same `torch.<dtype>` or dtype string. A load that passes none, or anything else, leaves the value
to transformers' default, as before. The file and line of the keyword are the source; an edit is made there by hand.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import TYPE_CHECKING

from .pycode import model_load
from .pyeval import TORCH_DTYPE_ATTRS
from .pyhelper import _binds_trained, _trained
from .pyscript import Location, Script

if TYPE_CHECKING:
    from .launched import ParsedModule, RepoModules
    from .pycommand import CommandLine

MAX_BUILDERS = 8
_ATTN_KEYS = ("attn_implementation", "_attn_implementation")
_DTYPE_KEYS = ("torch_dtype", "dtype")


def _builder(call: ast.Call, repo: RepoModules, script: ParsedModule) -> tuple[ast.FunctionDef | ast.AsyncFunctionDef, ParsedModule, str] | None:
    """The repository function or class method `call` runs: `f(...)`, or `C.m(...)` on a class `C` the repository defines."""
    func = call.func
    if isinstance(func, ast.Name):
        hit = repo.find_function(func.id, script)
        return (hit[0], hit[1], f"{func.id}()") if hit is not None and isinstance(hit[0], (ast.FunctionDef, ast.AsyncFunctionDef)) else None
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        found = repo.find(func.value.id, script)
        if found is None:
            return None
        cls, mod = found
        meth = next((n for n in cls.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == func.attr), None)
        return (meth, mod, f"{func.value.id}.{func.attr}()") if meth is not None else None
    return None


def _one_literal(loads: list[ast.Call], keys: tuple[str, ...], read: Callable[[ast.expr], str | None]) -> tuple[str, int, str] | None:
    """(value, line, keyword as written) where every load passes one of `keys` with the same value `read` reads."""
    seen: set[str] = set()
    first: tuple[int, str] | None = None
    for call in loads:
        kw = next((k for k in call.keywords if k.arg in keys), None)
        value = read(kw.value) if kw is not None else None
        if kw is None or value is None:
            return None
        seen.add(value)
        first = first or (kw.value.lineno, f"{kw.arg}={ast.unparse(kw.value)}")
    if len(seen) != 1 or first is None:
        return None
    return next(iter(seen)), first[0], first[1]


def _attention(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _dtype(node: ast.expr) -> str | None:
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "torch":
        return TORCH_DTYPE_ATTRS.get(node.attr)
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in TORCH_DTYPE_ATTRS:
        return TORCH_DTYPE_ATTRS[node.value]
    return None


def _trainer_aliases(tree: ast.Module) -> set[str]:
    """What a trainer trains, also through a name bound to a trainer class (visa qwen/train.py:80-81 `trainer_cls = Trainer`,
    `trainer_cls(model=model, ...)`)."""
    aliases = {
        t.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Assign) and isinstance(n.value, ast.Name) and n.value.id.endswith("Trainer")
        for t in n.targets
        if isinstance(t, ast.Name)
    }
    out = _trained(tree)
    for n in ast.walk(tree):
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in aliases:
            arg = next((k.value for k in n.keywords if k.arg == "model"), n.args[0] if n.args else None)
            out |= {arg.id} if isinstance(arg, ast.Name) else set()
    return out


def builder_load(s: Script, tree: ast.Module, cli: CommandLine, runs: Callable[[ast.Call], bool]) -> None:
    """Set the script's attn_implementation (or use_flash_attention_2) and torch_dtype from the model load of the one
    repository builder whose result a trainer trains, where the script sets neither itself."""
    parents = {id(child): parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
    trained = _trainer_aliases(tree)
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and _binds_trained(n, parents, trained) and runs(n)]
    if not calls or len(calls) > MAX_BUILDERS:
        return
    found = cli._repository(tree)
    if found is None:
        return
    repo, real = found
    builders = {id(b[0]): b for c in calls if (b := _builder(c, repo, repo.script)) is not None and b[1].path != real}
    if len(builders) != 1:
        return  # none, or two builders: which one builds the trained model is not read
    fn, mod, name = next(iter(builders.values()))
    loads = [n for n in ast.walk(fn) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "from_pretrained" and model_load(n)]
    if not loads:
        return
    where = f"{mod.shown}:{{line}}, the model load of {name}, which the script calls to build the model it trains"
    if "attn_implementation" not in s.values and "use_flash_attention_2" not in s.values:
        got = _one_literal(loads, _ATTN_KEYS, _attention)
        if got is None and all(any(k.arg == "use_flash_attention_2" for k in c.keywords) for c in loads):
            legacy = _one_literal(loads, ("use_flash_attention_2",), lambda n: "true" if isinstance(n, ast.Constant) and n.value is True else None)
            if legacy is not None:
                _, line, written = legacy
                s.values["use_flash_attention_2"] = True
                s.where["use_flash_attention_2"] = Location(
                    None, line, file=str(mod.path), fixed=f"`{written}` at {where.format(line=line)}; change it there by hand"
                )
        elif got is not None:
            value, line, written = got
            s.values["attn_implementation"] = value
            s.where["attn_implementation"] = Location(
                None, line, file=str(mod.path), fixed=f"`{written}` at {where.format(line=line)}; change it there by hand"
            )
            s.notes.append(f"attention `{written}`: read at {where.format(line=line)}")
    if "torch_dtype" not in s.values:
        dtype = _one_literal(loads, _DTYPE_KEYS, _dtype)
        if dtype is not None:
            value, line, written = dtype
            s.values["torch_dtype"] = value
            s.where["torch_dtype"] = Location(None, line, file=str(mod.path), fixed=f"`{written}` at {where.format(line=line)}; change it there by hand")
