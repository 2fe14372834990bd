"""Read a framework's accepted keys, defaults and accepted values out of its own source, by AST.

Nothing is imported or executed: dataclasses (TrainingArguments, TRL configs, LLaMA-Factory
hparams) and pydantic models (Axolotl) are read from their class bodies, enums from their
members, and torchtune recipes from their `cfg.get(key, default)` calls and the `raise`
statements guarded by a `cfg` key. Each entry keeps its line, so a finding can cite file:line.
The same functions serve scripts/gen_framework_tables.py (the shipped tables) and, at audit
time, a user's installed framework when its version differs from the shipped table.
"""

from __future__ import annotations

import ast
from typing import Any

_ENUM_BASES = {"Enum", "ExplicitEnum", "StrEnum", "IntEnum"}
_FIELD_CALLS = {"field", "Field", "dataclasses.field", "pydantic.Field"}


def _literal(node: ast.AST | None, src: str) -> Any:
    """A JSON-able literal, else {"expr": source text}."""
    if node is None:
        return None
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return {"expr": (ast.get_source_segment(src, node) or "")[:120]}
    if isinstance(value, (set, frozenset, tuple)):
        value = list(value)
    if isinstance(value, (str, int, float, bool, list, dict)) or value is None:
        return value
    return {"expr": (ast.get_source_segment(src, node) or "")[:120]}


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_name(node.value)}.{node.attr}"
    if isinstance(node, ast.Subscript):
        return _name(node.value)
    if isinstance(node, ast.Call):
        return _name(node.func)
    return ""


def _choices(ann: ast.AST | None, src: str) -> tuple[list[Any] | None, list[str]]:
    """Literal[...] values in an annotation, and the names it mentions (to resolve enums later)."""
    if ann is None:
        return None, []
    literals: list[Any] = []
    names: list[str] = []
    for node in ast.walk(ann):
        if isinstance(node, ast.Subscript) and _name(node.value).endswith("Literal"):
            elts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            for e in elts:
                v = _literal(e, src)
                if not isinstance(v, dict):
                    literals.append(v)
        elif isinstance(node, ast.Name):
            names.append(node.id)
        elif isinstance(node, ast.Attribute):
            names.append(node.attr)
    return (literals or None), names


def _default(value: ast.AST | None, src: str) -> tuple[bool, Any]:
    """(has a default, the default) of a dataclass/pydantic field's right-hand side."""
    if value is None:
        return False, None
    if isinstance(value, ast.Call) and _name(value.func) in _FIELD_CALLS:
        for kw in value.keywords:
            if kw.arg == "default":
                return True, _literal(kw.value, src)
            if kw.arg == "default_factory":
                return True, {"factory": (ast.get_source_segment(src, kw.value) or "")[:120]}
        if value.args and not (isinstance(value.args[0], ast.Constant) and value.args[0].value is Ellipsis):
            return True, _literal(value.args[0], src)
        return False, None
    return True, _literal(value, src)


def _module_aliases(body: list[ast.stmt]) -> dict[str, str]:
    """`Base = Other` at module level; in `if ... else`, the else branch (the default path) wins."""
    out: dict[str, str] = {}
    for stmt in body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name) and isinstance(stmt.value, ast.Name):
            out[stmt.targets[0].id] = stmt.value.id
        elif isinstance(stmt, ast.If):
            out.update(_module_aliases(stmt.body))
            out.update(_module_aliases(stmt.orelse))
    return out


def extract_classes(rel: str, src: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(classes, enums) defined at module level of one source file."""
    tree = ast.parse(src)
    classes: dict[str, Any] = {}
    enums: dict[str, Any] = {}
    aliases = {a.asname: a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names if a.asname}
    aliases.update(_module_aliases(tree.body))
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        bases = [aliases.get(_name(b), _name(b)) for b in node.bases]
        if any(b.rsplit(".", 1)[-1] in _ENUM_BASES for b in bases):
            members = {}
            for stmt in node.body:
                if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                    v = _literal(stmt.value, src)
                    if not isinstance(v, dict):
                        members[stmt.targets[0].id] = v
            enums[node.name] = {"file": rel, "line": node.lineno, "values": list(members.values())}
            continue
        fields: dict[str, Any] = {}
        for stmt in node.body:
            if not (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)):
                continue
            name = stmt.target.id
            if name.startswith("_") or name == "model_config" or _name(stmt.annotation) == "ClassVar":
                continue
            has, default = _default(stmt.value, src)
            lits, names = _choices(stmt.annotation, src)
            entry: dict[str, Any] = {"line": stmt.lineno}
            if has:
                entry["default"] = default
            else:
                entry["required"] = True
            if lits:
                entry["choices"] = lits
            enum_refs = [n for n in names if n[:1].isupper() and n not in {"Literal", "Optional", "Union", "Any", "None"}]
            if enum_refs:
                entry["types"] = sorted(set(enum_refs))
            if "str" in names:
                entry["free_text"] = True  # `... | str`: any string passes the class's own type
            fields[name] = entry
        if fields:
            classes[node.name] = {"file": rel, "line": node.lineno, "bases": bases, "fields": fields}
    return classes, enums


_PLAIN = {"str", "int", "float", "bool", "dict", "list", "tuple", "set", "Dict", "List", "Tuple", "Set", "Path", "Any", "Optional", "Union", "Literal", "None"}


def resolve_choices(classes: dict[str, Any], enums: dict[str, Any], coerced: dict[str, str] | None = None) -> None:
    """Enum names in a field's annotation become the accepted values; an annotation that also admits a
    type whose values are not known here (a class from another package, free text) keeps no choices."""
    for cls in classes.values():
        for entry in cls["fields"].values():
            types = [t for t in entry.pop("types", []) if t not in _PLAIN]
            if coerced and set(types) & set(coerced):
                entry.pop("free_text", None)  # __post_init__ converts the string to the enum: only its values pass
            free = entry.pop("free_text", False)
            if not types:
                if free:
                    entry.pop("choices", None)
                continue
            if any(t not in enums for t in types) or free:
                entry.pop("choices", None)
                continue
            values = list(entry.get("choices") or [])
            for t in types:
                values += [v for v in enums[t]["values"] if v not in values]
            entry["choices"] = values
            entry["choices_from"] = ", ".join(f"{enums[t]['file']}:{enums[t]['line']}" for t in types)


# ------------------------------------------------------------------ torchtune recipes
def _cfg_key(call: ast.Call) -> tuple[str, Any, bool] | None:
    """`cfg.get("key", default)` / `cfg.get("key")` -> (key, default, has_default)."""
    if not (isinstance(call.func, ast.Attribute) and call.func.attr == "get" and call.args):
        return None
    owner = _name(call.func.value)
    if not (owner == "cfg" or owner.endswith(".cfg") or owner.startswith("cfg.")):
        return None
    first = call.args[0]
    if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
        return None
    prefix = owner.partition(".")[2]
    key = f"{prefix}.{first.value}" if prefix and owner.startswith("cfg.") else first.value
    if len(call.args) > 1:
        return key, call.args[1], True
    return key, None, False


def extract_recipe(rel: str, src: str) -> dict[str, Any]:
    """Keys a torchtune recipe reads (with default and line) and keys whose value it rejects."""
    tree = ast.parse(src)
    reads: dict[str, Any] = {}
    rejects: dict[str, Any] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            got = _cfg_key(node)
            if got:
                key, default, has = got
                entry = reads.setdefault(key, {"line": node.lineno})
                if has and "default" not in entry:
                    entry["default"] = _literal(default, src)
            elif isinstance(node.func, ast.Attribute) and node.func.attr == "get" and _name(node.func.value) == "cfg":
                pass
        elif isinstance(node, ast.Attribute) and _name(node.value) == "cfg" and node.attr not in {"get", "pop", "keys", "items"}:
            reads.setdefault(node.attr, {"line": node.lineno, "required": True})
        if isinstance(node, ast.If) and any(isinstance(s, ast.Raise) for s in node.body):
            keys = [g[0] for g in (_cfg_key(c) for c in ast.walk(node.test) if isinstance(c, ast.Call)) if g]
            raise_stmt = next(s for s in node.body if isinstance(s, ast.Raise))
            message = ""
            if isinstance(raise_stmt.exc, ast.Call) and raise_stmt.exc.args:
                parts = [a.value for a in ast.walk(raise_stmt.exc.args[0]) if isinstance(a, ast.Constant) and isinstance(a.value, str)]
                message = "".join(parts)[:200]
            test = (ast.get_source_segment(src, node.test) or "")[:160]
            for key in keys:
                rejects.setdefault(key, {"line": raise_stmt.lineno, "when": test, "message": message})
    return {"file": rel, "reads": dict(sorted(reads.items())), "rejects": rejects}


def extract_registry(src: str) -> dict[str, Any]:
    """torchtune/_recipe_registry.py: recipe -> file, distributed or not, and its shipped configs."""
    tree = ast.parse(src)
    recipes: dict[str, Any] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _name(node.func) == "Recipe":
            kw = {k.arg: k.value for k in node.keywords}
            name = _literal(kw.get("name"), src)
            configs = []
            cfgs = kw.get("configs")
            if isinstance(cfgs, ast.List):
                for c in cfgs.elts:
                    if isinstance(c, ast.Call):
                        ckw = {k.arg: k.value for k in c.keywords}
                        configs.append(_literal(ckw.get("file_path"), src))
            recipes[str(name)] = {
                "line": node.lineno,
                "file": _literal(kw.get("file_path"), src),
                "distributed": bool(_literal(kw.get("supports_distributed"), src)),
                "configs": configs,
            }
    return recipes
