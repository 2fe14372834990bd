"""A training script's settings read from a YAML/JSON file it loads into a dict, as data: nothing run.

`cfg = yaml.safe_load(open(P))` (also inside `with open(P) as f`, `yaml.load`/`yaml.full_load`, `json.load`,
`OmegaConf.load(P)`, or a function of the script or of its repository whose body returns such a load of its
parameter: `from _common import load_yaml`), with P a literal or a command-line option's value (the launch
line's word, else the option's default: pycommand). P is resolved from the repository root, the working
directory assumed, else from the script's folder (said), and read through safepath with the line of every key.
Then `cfg["a"]["b"]`, `cfg.get("k", default)`, aliases (`training_cfg = cfg["training"]`, a function
parameter the script's only call passes it) and `cfg.a.b` of an OmegaConf load are the file's values, each
sourced at its line there. A key the file lacks with no default (a KeyError at run time), a path set at run
time, a file outside the tree, a value PyYAML's YAML 1.1 reads otherwise than YAML 1.2 (`yes`, `1e-4`), and a
key the script writes after the load (`cfg["training"]["bf16"] = False`, `.update(...)`, a dict handed to a
function goblin does not read) stay unknown: never the stale value. `**section` in a call passes every key of the
section as a keyword (`spread`, `call_keywords`; a keyword given twice is a TypeError when the call runs: the call's
values stay unknown), `cfg.get("a", {})` is a step of a chain, and a dict handed to a repository function whose body
only reads it (`_reads_only`) keeps its values.
"""

from __future__ import annotations

import ast
import os
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import GoblinError
from ..redact import is_secret_name
from ..safepath import UnsafePath, read_text
from ..yamlio import YamlMap, key_line, learn_secrets, load_yaml
from .interpolation import resolve
from .jsontext import load_json
from .launch_naming import workdir_of
from .pyliteral import call_name
from .pyscript import Location

# PyYAML 6.0.4 yaml/__init__.py:74 `load(stream, Loader)`, :97 `full_load`, :117-125 `safe_load` =
# `load(stream, SafeLoader)`: the stream's one document as plain data, YAML 1.1 resolution (resolver.py)
PYYAML_AT = "PyYAML 6.0.4 yaml/__init__.py:74,97,117"
# a DictConfig read `cfg.a` / `cfg["a"]` / `.get` resolves the interpolation of that key (omegaconf v2.3.0
# omegaconf/dictconfig.py:341,361,438-451 `_get_impl` -> basecontainer.py:86-105 `_resolve_with_default`, `_maybe_resolve_interpolation`)
OMEGACONF_READ_AT = "omegaconf v2.3.0 omegaconf/dictconfig.py:438-451, basecontainer.py:86-105"
_YAML_LOADS = frozenset({"safe_load", "load", "full_load"})
# CPython 3.11.7 Lib/tomllib/_parser.py:57 `load(fp, /, *, parse_float=float)` (a binary file), :69 `loads`; Lib/json/__init__.py:274 `load(fp, ...)`
_STREAM_LOADS = {"yaml": _YAML_LOADS, "json": frozenset({"load"}), "tomllib": frozenset({"load"})}
MAX_HOPS = 12
# calls a loaded dict may be handed to without being changed (they only read or print it)
_READERS = frozenset({"print", "pprint", "len", "dumps", "dump", "safe_dump", "info", "debug", "warning", "init", "to_container", "to_yaml", "log"})
_MUTATORS = frozenset({"update", "setdefault", "pop", "popitem", "clear", "merge_with", "__setitem__"})

Value = Callable[[ast.expr], tuple[bool, Any, Location | None]]
FindFunction = Callable[[str], ast.FunctionDef | None]


@dataclass(eq=False)
class Loaded:
    """One file the script loads into a name: its data (YAML 1.2 with key lines) and as PyYAML reads it."""

    data: Any
    plain: Any  # the same file as the script's own loader reads it (PyYAML's YAML 1.1), None for JSON
    file: str  # its real path
    shown: str  # relative to the repository root
    line: int  # the script's line that loads it
    omegaconf: bool = False
    changed: list[tuple[tuple[Any, ...], int]] = field(default_factory=list)  # key paths the script writes, with the line
    unresolved: list[tuple[Any, ...]] = field(default_factory=list)  # an OmegaConf load's interpolations goblin does not resolve


@dataclass(frozen=True)
class Spread:
    """What `**X` passes to a call, X a loaded file or a mapping in it: each key's read (ok, value, where), or why not."""

    keys: dict[str, tuple[bool, Any, Location | None]]
    why: str  # "" when the keys are read; else why what it passes is unknown
    # where each key is written: its file (relative to the repository root) and line there, whatever its value
    written: dict[str, tuple[str, int | None]] = field(default_factory=dict)


Hit = tuple["Loaded | None", tuple[Any, ...]]  # (file, key path); file None: a read goblin cannot follow
UNFOLLOWED: Hit = (None, ())

# CPython 3.11.7 dict.get: "Return the value for key if key is in the dictionary, else default." (Objects/dictobject.c
# dict_get_impl): `cfg.get("x", {})` of a file without `x` is an empty dict, so a later `.get(k, d)` gives d and `**` of
# it passes no keyword
DICT_GET_AT = "CPython 3.11.7 dict.get (Objects/dictobject.c dict_get_impl)"


class OrEmpty(str):
    """A key of a path read through `d.get(key, {})` (a plain dict's, not OmegaConf's): where the mapping lacks it, the
    step gives an empty dict instead of failing. Equal to and hashed as the plain key, so changed-path checks match it."""

    __slots__ = ()


def _load_call(node: ast.expr) -> tuple[ast.expr, str] | None:
    """(the stream or path expression, the format) of `yaml.safe_load(x)`, `json.load(x)`, `OmegaConf.load(P)`."""
    if not isinstance(node, ast.Call) or not node.args or not isinstance(node.func, ast.Attribute) or not isinstance(node.func.value, ast.Name):
        return None
    module, attr = node.func.value.id, node.func.attr
    if module == "OmegaConf" and attr == "load":
        return node.args[0], "omegaconf"
    if attr in _STREAM_LOADS.get(module, ()):
        return node.args[0], module
    return None


def _unwrapped(path: ast.expr) -> ast.expr:
    """P of `Path(P)` / `pathlib.Path(P)`: the same file."""
    if isinstance(path, ast.Call) and call_name(path.func) == "Path" and len(path.args) == 1 and not path.keywords:
        return path.args[0]
    return path


def _opened(stream: ast.expr, parents: dict[int, ast.AST]) -> ast.expr | None:
    """P of `open(P)` / `open(P, "r")` / `Path(P).open()` / `Path(P).read_text()`, or of the `with open(P) as f`
    a name `f` is bound by."""
    if isinstance(stream, ast.Call) and call_name(stream.func) == "open" and stream.args and isinstance(stream.func, ast.Name):
        return _unwrapped(stream.args[0])
    if isinstance(stream, ast.Call) and isinstance(stream.func, ast.Attribute) and stream.func.attr in ("open", "read_text", "read_bytes"):
        inner = stream.func.value
        if isinstance(inner, ast.Call) and call_name(inner.func) == "Path" and len(inner.args) == 1:
            return inner.args[0]
    if isinstance(stream, ast.Call) and isinstance(stream.func, ast.Attribute) and stream.func.attr == "read":  # open(P).read()
        return _opened(stream.func.value, parents)
    if isinstance(stream, ast.Name):
        parent = parents.get(id(stream))
        while parent is not None and not isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)):
            if isinstance(parent, (ast.With, ast.AsyncWith)):
                for item in parent.items:
                    var = item.optional_vars
                    if isinstance(var, ast.Name) and var.id == stream.id:
                        return _opened(item.context_expr, parents)
            parent = parents.get(id(parent))
    return None


def _file_load(node: ast.expr, parents: dict[int, ast.AST]) -> tuple[ast.expr, str] | None:
    """(P, format) of a load of the file P written in place."""
    hit = _load_call(node)
    if hit is None:
        return None
    target, kind = hit
    if kind == "omegaconf":
        return _unwrapped(target), kind
    path = _opened(target, parents)
    return (path, kind) if path is not None else None


def loader_function(fn: ast.FunctionDef) -> tuple[int, str] | None:
    """(the parameter's position, format) when `fn`'s body returns a load of the file its parameter names
    (`def load_yaml(p): with open(p) as f: return yaml.safe_load(f)`); None otherwise."""
    parents = {id(c): p for p in ast.walk(fn) for c in ast.iter_child_nodes(p)}
    params = [a.arg for a in [*fn.args.posonlyargs, *fn.args.args]]
    returns = [n for n in ast.walk(fn) if isinstance(n, ast.Return)]
    if len(returns) != 1 or returns[0].value is None:
        return None
    value = returns[0].value
    if isinstance(value, ast.Name):  # `cfg = yaml.safe_load(f)` then `return cfg`
        binds = [n for n in ast.walk(fn) if isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == value.id for t in n.targets)]
        if len(binds) != 1:
            return None
        value = binds[0].value
    hit = _file_load(value, parents)
    if hit is None or not isinstance(hit[0], ast.Name) or hit[0].id not in params:
        return None
    if any(isinstance(n, ast.Name) and n.id == hit[0].id and isinstance(n.ctx, ast.Store) for n in ast.walk(fn)):
        return None  # the parameter is rebound before the load
    return params.index(hit[0].id), hit[1]


class DictConfigs:
    """The files a script loads into names, and the values its reads of them take."""

    def __init__(
        self,
        path: Path,
        tree: ast.Module,
        parents: dict[int, ast.AST],
        value: Value,
        find_function: FindFunction,
        single_binding: Callable[[ast.Name], ast.expr | None],
        passed: Callable[[ast.Name], ast.expr | None],
        roots: list[Path],
        root: Path,
        notes: list[str],
    ):
        self.path, self.parents, self.value, self.roots, self.root = path, parents, value, roots, root
        self.find_function = find_function
        self.single_binding, self.passed = single_binding, passed
        self.notes = notes  # the script's notes: what was read from where, and what was not
        self.loads: dict[int, Loaded | None] = {}  # id of the load expression -> its file (None: not read)
        self._busy: set[int] = set()
        # the script's own functions: what they do to a dict handed to them is read in place (`_mutations`)
        self.own = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        # the loads inside the script's own loader functions: their call sites are what is read
        inside = {id(n) for fn in ast.walk(tree) if isinstance(fn, ast.FunctionDef) and loader_function(fn) is not None for n in ast.walk(fn)}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or id(node) in inside:
                continue
            hit = _file_load(node, parents)
            if hit is None and isinstance(node.func, ast.Name) and node.args:
                fn = find_function(node.func.id)
                found = loader_function(fn) if fn is not None else None
                if found is not None and found[0] < len(node.args):
                    hit = node.args[found[0]], found[1]
            if hit is None:
                continue
            self.loads[id(node)] = self._read(node, *hit)
        self.names = self._dict_names(tree) if self.loads else set()
        if self.loads:
            self._mutations(tree)

    def _dict_names(self, tree: ast.Module) -> set[str]:
        """The names that may hold a loaded dict or a part of it: bound to a load or a read of such a name
        (`training_cfg = cfg["training"]`), or a function's parameter the script passes one to. Only these
        are followed (`_path`): every other name is left to the caller at once."""
        assigns = [n for n in ast.walk(tree) if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name)]
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
        params: dict[str, list[str]] = {}
        for fn in ast.walk(tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                params[fn.name] = [a.arg for a in [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]]
        names: set[str] = set()
        while True:
            before = len(names)
            for stmt in assigns:
                root = _root(stmt.value)
                target = stmt.targets[0]
                if isinstance(target, ast.Name) and ((isinstance(root, ast.Call) and id(root) in self.loads) or _root_name(root) in names):
                    names.add(target.id)
            for call in calls:
                fn_name = call.func.id if isinstance(call.func, ast.Name) else None
                passes = any(_root_name(_root(x)) in names for x in [*call.args, *(k.value for k in call.keywords)])
                if fn_name in params and passes:
                    names.update(params[fn_name])
            if len(names) == before or len(names) > 10_000:
                return names

    def _note(self, note: str) -> None:
        if note not in self.notes:
            self.notes.append(note)

    # ------------------------------------------------------------------ reading the file
    def _read(self, call: ast.Call, target: ast.expr, kind: str) -> Loaded | None:
        ok, written, _loc = self.value(target)
        shown = ast.unparse(target)
        if not ok or not isinstance(written, str) or not written:
            self._note(
                f"line {call.lineno}: the file the script loads its settings from is set at run time or computed (`{shown[:60]}`); its values are not read"
            )
            return None
        candidates = [Path(written)] if os.path.isabs(written) else [self.root / written, self.path.parent / written]
        bases = ["the repository root", "the script's folder"]
        if _loc is not None and _loc.file is not None and not os.path.isabs(written):
            # the launch line's word: from the folder nearest its launcher that holds the file (launch_naming._bases)
            workdir = workdir_of(written, Path(os.path.realpath(_loc.file)).parent, self.root)
            if workdir is not None:
                candidates.insert(0, workdir / written)
                bases.insert(0, f"the launch line's folder {os.path.relpath(workdir, self.root)}")
        for i, file in enumerate(candidates):
            try:
                text = read_text(file, roots=self.roots)
            except UnsafePath as exc:
                if i + 1 < len(candidates) and not os.path.lexists(file):
                    continue
                self._note(f"line {call.lineno}: the settings file `{written}` is not read ({exc}); its values stay unknown")
                return None
            except (OSError, UnicodeDecodeError):
                continue
            real = os.path.realpath(file)
            rel = os.path.relpath(real, self.root)
            try:
                if kind == "json":
                    data, plain = load_json(real, text), None
                elif kind == "tomllib":
                    data, plain = _toml(text), None
                else:
                    data, plain = load_yaml(Path(real), text), yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
            except (GoblinError, yaml.YAMLError, tomllib.TOMLDecodeError, ValueError, RecursionError) as exc:
                self._note(f"line {call.lineno}: the settings file {rel} cannot be read ({exc}); its values stay unknown")
                return None
            if not isinstance(data, dict):
                self._note(f"line {call.lineno}: {rel} holds no mapping; its values are not read")
                return None
            if kind in ("json", "tomllib"):  # load_yaml hands its secrets to redact itself
                try:
                    learn_secrets(Path(real), _secret_values(data))
                except GoblinError as exc:
                    self._note(f"line {call.lineno}: the settings file {rel} cannot be read ({exc}); its values stay unknown")
                    return None
            if not os.path.isabs(written):
                where = bases[i]
                self._note(f"line {call.lineno}: the script's settings are read from {rel} (`{written}` resolved from {where}, assumed its working directory)")
            unresolved: list[tuple[Any, ...]] = []
            if kind == "omegaconf":
                # a DictConfig resolves `${a.b}` when the script reads the key (OMEGACONF_READ_AT): read as
                # formats/interpolation resolves them; `oc.env` unknown (the script's environment is not read here)
                data, said = resolve(data, None, (), unresolved)
                plain = resolve(plain)[0] if plain is not None else None
                for note in said:
                    self._note(f"line {call.lineno}: {rel}: {note}")
            return Loaded(data, plain, real, rel, call.lineno, omegaconf=kind == "omegaconf", unresolved=unresolved)
        self._note(f"line {call.lineno}: the settings file `{written}` is not in the repository; its values stay unknown")
        return None

    # ------------------------------------------------------------------ what an expression reads
    def _path(self, node: ast.expr, depth: int = 0) -> Hit | None:
        """(the loaded file, key path) an expression reads; None: not a loaded dict; (None, ()): one goblin cannot follow."""
        if depth > MAX_HOPS or id(node) in self._busy:
            return None
        if isinstance(node, ast.Call) and id(node) in self.loads:
            return self.loads[id(node)], ()
        if isinstance(node, ast.Name):
            if node.id not in self.names:
                return None
            bound = self.single_binding(node) or self.passed(node)
            if bound is None:
                return None
            self._busy.add(id(node))
            try:
                return self._path(bound, depth + 1)
            finally:
                self._busy.discard(id(node))
        if isinstance(node, ast.Subscript) and not isinstance(node.slice, ast.Slice):
            inner = self._path(node.value, depth + 1)
            if inner is None or inner[0] is None:
                return inner
            key = node.slice.value if isinstance(node.slice, ast.Constant) else None
            return (inner[0], (*inner[1], key)) if isinstance(key, (str, int)) and not isinstance(key, bool) else UNFOLLOWED
        if isinstance(node, ast.Attribute):
            inner = self._path(node.value, depth + 1)
            if inner is None or inner[0] is None:
                return inner
            return (inner[0], (*inner[1], node.attr)) if inner[0].omegaconf else UNFOLLOWED
        if _get_call(node):  # `cfg.get("training", {})` as a step of a chain or an alias: the key's mapping
            assert isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            inner = self._path(node.func.value, depth + 1)
            if inner is None or inner[0] is None:
                return inner
            key = node.args[0].value if isinstance(node.args[0], ast.Constant) else None
            if isinstance(key, str) and not inner[0].omegaconf and len(node.args) == 2 and _empty_dict(node.args[1]):
                key = OrEmpty(key)  # `cfg.get("x", {})`: an empty dict where the file lacks `x` (DICT_GET_AT)
            return (inner[0], (*inner[1], key)) if isinstance(key, (str, int)) and not isinstance(key, bool) else UNFOLLOWED
        return None

    def read(self, node: ast.expr) -> tuple[bool, Any, Location | None] | None:
        """The value an expression reads from a loaded file; None when it reads none; (False, ...) when unknown."""
        default: ast.expr | None = None
        has_default = False
        if _get_call(node):
            assert isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            inner = self._path(node.func.value)
            if inner is None:
                return None
            if inner[0] is None or not isinstance(node.args[0], ast.Constant) or not isinstance(node.args[0].value, (str, int)):
                return False, None, None
            has_default = True
            default = node.args[1] if len(node.args) == 2 else None
            found: Hit = (inner[0], (*inner[1], node.args[0].value))
        else:
            hit = self._path(node)
            if hit is None:
                return None
            found = hit
        loaded, keys = found
        if loaded is None:
            return False, None, None
        if not keys:
            return None  # the whole dict: its keys are read where they are read
        return self._at(node, loaded, keys, has_default, default)

    def _at(
        self, node: ast.expr, loaded: Loaded, keys: tuple[Any, ...], has_default: bool = False, default: ast.expr | None = None
    ) -> tuple[bool, Any, Location | None]:
        """The value at a key path of a loaded file, as the script's read at `node` takes it."""
        dotted = ".".join(str(k) for k in keys)
        changed = next((line for path, line in loaded.changed if path[: len(keys)] == keys or keys[: len(path)] == path), None)
        if changed is not None:
            self._note(f"line {node.lineno}: `{dotted}` of {loaded.shown} is changed by the script at line {changed}; its value is not read")
            return False, None, None
        if any(keys[: len(path)] == path for path in loaded.unresolved):
            self._note(f"line {node.lineno}: `{dotted}` of {loaded.shown} is an interpolation goblin does not resolve; its value is not read")
            return False, None, None
        at, plain, line = loaded.data, loaded.plain, None
        for i, key in enumerate(keys):
            if (
                not isinstance(at, (dict, list))
                or (isinstance(at, dict) and key not in at)
                or (isinstance(at, list) and not (isinstance(key, int) and -len(at) <= key < len(at)))
            ):
                if i == len(keys) - 1 and isinstance(at, dict) and has_default:
                    return self._default(node, default, loaded, keys)
                if isinstance(at, dict) and _emptied(keys, i, plain, loaded):
                    # `.get(k, {})` steps through what the file lacks: empty dicts down to the last read
                    if has_default:
                        return self._default(node, default, loaded, keys)
                    missing = ".".join(str(k) for k in keys[: i + 1])
                    self._note(
                        f"line {node.lineno}: {loaded.shown} has no `{missing}`, so `.get` gives an empty dict ({DICT_GET_AT}) and `{dotted}` is a KeyError when the script runs; its value is not read"
                    )
                    return False, None, None
                if i < len(keys) - 1:  # a `.get` step may give a default here: not said to fail
                    self._note(f"line {node.lineno}: {loaded.shown} has no `{'.'.join(str(k) for k in keys[: i + 1])}`; `{dotted}` is not read")
                else:
                    self._note(f"line {node.lineno}: {loaded.shown} has no `{dotted}` (an error when the script runs); its value is not read")
                return False, None, None
            line = key_line(at, key)
            at = at[key]
            plain = plain[key] if isinstance(plain, (dict, list)) and _holds(plain, key) else (None if loaded.plain is None else _MISSING)
        if isinstance(at, (dict, list)) or line is None:
            return False, None, None
        if loaded.plain is not None and (plain is _MISSING or plain != at or type(plain) is not type(at)):
            self._note(f"{loaded.shown} line {line}: `{dotted}` reads as {plain!r} under PyYAML's YAML 1.1 ({PYYAML_AT}); its value is not read")
            return False, None, None
        fixed = f"set in {loaded.shown} line {line} (`{dotted}`, which the script loads at line {loaded.line}); edit it there"
        return True, at, Location(None, line, file=loaded.file, fixed=fixed, settings=loaded.shown)

    def spread(self, node: ast.expr) -> Spread | None:
        """What `**node` passes to a call when node is a loaded file or a mapping in it (`TrainingArguments(**cfg["training"])`):
        every key of that mapping as a keyword, each read as `node[key]` is; None when node is no loaded dict."""
        hit = self._path(node)
        if hit is None:
            return None
        shown = ast.unparse(node)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        loaded, keys = hit
        if loaded is None:
            return Spread({}, f"line {node.lineno}: `{shown}` holds settings of a loaded file that goblin does not read or follow; its keys are not read")
        dotted = ".".join(str(k) for k in keys) or "the whole file"
        changed = next((line for path, line in loaded.changed if keys[: len(path)] == path), None)
        if changed is not None:
            return Spread(
                {}, f"line {node.lineno}: `{dotted}` of {loaded.shown} is changed by the script at line {changed}; the keys of `{shown}` are not read"
            )
        # a key the script writes into the mapping: one the file lacks is passed too, so the keys read are not all of them
        below = [(path[len(keys)], line) for path, line in loaded.changed if len(path) > len(keys) and path[: len(keys)] == keys]
        at, plain = loaded.data, loaded.plain
        for i, key in enumerate(keys):
            if isinstance(at, dict) and not _holds(at, key) and _emptied(keys, i, plain, loaded, last=True):
                if below:
                    return Spread(
                        {}, f"line {node.lineno}: the script writes `{below[0][0]}` into `{shown}` at line {below[0][1]}; the keys of `{shown}` are not read"
                    )
                missing = ".".join(str(k) for k in keys[: i + 1])
                self._note(f"line {node.lineno}: {loaded.shown} has no `{missing}`: `**{shown}` is an empty dict ({DICT_GET_AT}) and passes no keyword")
                return Spread({}, "")
            if not (isinstance(at, (dict, list)) and _holds(at, key)):
                return Spread({}, f"line {node.lineno}: {loaded.shown} has no `{dotted}`; the keys of `{shown}` are not read")
            at = at[key]
            plain = plain[key] if isinstance(plain, (dict, list)) and _holds(plain, key) else None
        if not isinstance(at, dict):
            return Spread({}, f"line {node.lineno}: `{dotted}` of {loaded.shown} is not a mapping; the keys of `{shown}` are not read")
        added = next(((key, line) for key, line in below if key not in at), None)
        if added is not None:
            return Spread(
                {},
                f"line {node.lineno}: the script writes `{added[0]}`, which {loaded.shown} lacks, into `{dotted}` at line {added[1]}; the keys of `{shown}` are not read",
            )
        names = list(plain) if isinstance(plain, dict) else list(at)
        if loaded.plain is not None and (not isinstance(plain, dict) or set(plain) != set(at)):
            return Spread(
                {},
                f"line {node.lineno}: the keys of `{dotted}` in {loaded.shown} read otherwise under PyYAML's YAML 1.1 ({PYYAML_AT}); the keys of `{shown}` are not read",
            )
        if not all(isinstance(k, str) for k in names):
            # CPython 3.11.7: `f(**{1: 2})` raises TypeError "keywords must be strings"
            return Spread(
                {},
                f"line {node.lineno}: `{dotted}` of {loaded.shown} has a key that is not a string (a TypeError for `**`); the keys of `{shown}` are not read",
            )
        written = {k: (loaded.shown, key_line(at, k)) for k in names}
        return Spread({k: self._at(node, loaded, (*keys, k)) for k in names}, "", written)

    def _default(self, node: ast.expr, default: ast.expr | None, loaded: Loaded, keys: tuple[Any, ...]) -> tuple[bool, Any, Location | None]:
        dotted = ".".join(str(k) for k in keys)
        if default is None:
            ok, value = True, None
        else:
            ok, value, _loc = self.value(default)
        if not ok:
            return False, None, None
        fixed = f"{loaded.shown} has no `{dotted}`: the script's `.get` default at line {node.lineno} applies; add the key to {loaded.shown} to change it"
        return True, value, Location(None, node.lineno, fixed=fixed)

    # ------------------------------------------------------------------ writes after the load
    def _mutations(self, tree: ast.Module) -> None:
        for node in ast.walk(tree):
            if not isinstance(node, (ast.stmt, ast.expr)):
                continue
            targets: list[ast.expr] = []
            if isinstance(node, (ast.Assign, ast.Delete)):
                targets = list(node.targets)
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
                targets = [node.target]
            for t in targets:
                if isinstance(t, ast.Subscript):
                    self._mark(t, node.lineno)
                elif isinstance(t, ast.Attribute) and isinstance(t.value, (ast.Name, ast.Subscript, ast.Attribute)):
                    self._mark(t, node.lineno)
            if isinstance(node, ast.Call):
                if isinstance(node.func, ast.Attribute) and node.func.attr in _MUTATORS:
                    self._mark(node.func.value, node.lineno, whole=True)
                name = call_name(node.func)
                if name not in _READERS and name not in self.own:
                    callee = self.find_function(node.func.id) if isinstance(node.func, ast.Name) else None
                    for i, arg in enumerate(node.args):
                        if isinstance(arg, ast.Name) and (passed := self._read_by(callee, i)) is not None:
                            for keys in passed:  # a repository function that only reads it: what it hands on may change
                                self._mark_keys(arg, keys, node.lineno)
                            continue
                        if isinstance(arg, ast.Name):  # handed whole to a function that may change it
                            self._mark(arg, node.lineno, whole=True)
                    for arg in (k.value for k in node.keywords if k.arg is not None):
                        if isinstance(arg, ast.Name):
                            self._mark(arg, node.lineno, whole=True)

    def _read_by(self, fn: ast.FunctionDef | None, position: int) -> list[tuple[Any, ...]] | None:
        """The key paths a repository function given a loaded dict at `position` hands on to other calls, when it
        otherwise only reads it (`def load_model(config): name = config["model_name"]`); None when it may change it."""
        if fn is None or fn.args.vararg is not None:
            return None
        params = [a.arg for a in [*fn.args.posonlyargs, *fn.args.args]]
        if position >= len(params):
            return None
        parents = {id(c): p for p in ast.walk(fn) for c in ast.iter_child_nodes(p)}
        return _reads_only(fn, params[position], parents, 0)

    def _mark_keys(self, arg: ast.Name, keys: tuple[Any, ...], line: int) -> None:
        hit = self._path(arg)
        if hit is None or hit[0] is None:
            return
        at: Any = hit[0].data
        for key in (*hit[1], *keys):
            at = at[key] if isinstance(at, (dict, list)) and _holds(at, key) else None
        if isinstance(at, (dict, list)):  # a mapping or list handed on may be changed there; a number or string cannot
            hit[0].changed.append(((*hit[1], *keys), line))

    def _mark(self, target: ast.expr, line: int, whole: bool = False) -> None:
        hit = self._path(target) if whole else self._written(target)
        if hit is None or hit[0] is None:
            return
        if whole:  # a number or string handed to a function cannot be changed by it; a mapping or list can
            at: Any = hit[0].data
            for key in hit[1]:
                at = at[key] if isinstance(at, (dict, list)) and _holds(at, key) else None
            if not isinstance(at, (dict, list)):
                return
        hit[0].changed.append((hit[1], line))

    def _written(self, target: ast.expr) -> Hit | None:
        """The key path a store writes; a key goblin cannot read makes the whole mapping it writes into changed."""
        base = target.value if isinstance(target, (ast.Subscript, ast.Attribute)) else None
        if base is None:
            return None
        inner = self._path(base)
        if inner is None or inner[0] is None:
            return None
        key: Any = None
        if isinstance(target, ast.Attribute):
            key = target.attr
        elif isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Constant):
            key = target.slice.value
        return (inner[0], (*inner[1], key)) if isinstance(key, (str, int)) else inner


_MISSING = object()
# methods that read a mapping without changing it (CPython 3.11.7 dict)
_READ_METHODS = frozenset({"get", "keys", "items", "values", "copy"})


def _reads_only(fn: ast.FunctionDef, name: str, parents: dict[int, ast.AST], depth: int, bound: ast.expr | None = None) -> list[tuple[Any, ...]] | None:
    """The constant key paths under `name` that `fn` hands to other calls, when every use of `name` in `fn` reads it
    (`name["k"]`, `name.get("k", d)`, `"k" in name`, an f-string, a logging call) or binds a read to a local name used
    the same way (a bound part handed on is a key path too); None as soon as one use may change it (a store, `del`, a
    method other than a read, the parameter handed on whole, rebinding)."""
    handed: list[tuple[Any, ...]] = []
    for node in ast.walk(fn):
        if not (isinstance(node, ast.Name) and node.id == name) or node is bound:
            continue
        if not isinstance(node.ctx, ast.Load):
            return None
        top: ast.expr = node
        keys: list[Any] = []
        while True:
            up = parents.get(id(top))
            if isinstance(up, ast.Subscript) and up.value is top and isinstance(up.slice, ast.Constant):
                top, keys = up, [*keys, up.slice.value]
                continue
            if isinstance(up, ast.Attribute) and up.value is top:
                call = parents.get(id(up))
                if up.attr not in _READ_METHODS or not isinstance(call, ast.Call) or call.func is not up:
                    return None  # an attribute or a method that may change it
                if up.attr == "get" and call.args and isinstance(call.args[0], ast.Constant):
                    keys = [*keys, call.args[0].value]
                elif up.attr != "get":
                    keys = [*keys, None]  # keys()/items()/values()/copy(): the whole mapping, read
                else:
                    return None
                top = call
                continue
            break
        if isinstance(top, ast.Subscript) and not isinstance(top.ctx, ast.Load):
            return None
        up = parents.get(id(top))
        if isinstance(up, ast.Subscript) and up.value is top:
            return None  # a key goblin cannot name
        if isinstance(up, ast.Compare) or isinstance(up, ast.FormattedValue):
            continue
        if isinstance(up, ast.Call) and top is not up.func:
            if call_name(up.func) in _READERS:
                continue
            if (top is node and depth == 0) or None in keys:
                return None  # the mapping itself handed on
            handed.append(tuple(keys))
            continue
        if isinstance(up, ast.keyword):
            call = parents.get(id(up))
            if isinstance(call, ast.Call) and call_name(call.func) in _READERS:
                continue
            if (top is node and depth == 0) or None in keys or up.arg is None:
                return None
            handed.append(tuple(keys))
            continue
        if isinstance(up, ast.Assign) and up.value is top and len(up.targets) == 1 and isinstance(up.targets[0], ast.Name):
            if depth >= 3 or top is node or None in keys:
                return None
            inner = _reads_only(fn, up.targets[0].id, parents, depth + 1, up.targets[0])
            if inner is None:
                return None
            handed += [(*keys, *k) for k in inner]
            continue
        if isinstance(up, ast.Return):  # a part returned may be changed by the caller
            if (top is node and depth == 0) or None in keys:
                return None
            handed.append(tuple(keys))
            continue
        if top is node:
            return None  # the name used otherwise: stored, iterated, yielded
    return handed


def _empty_dict(node: ast.expr) -> bool:
    """`{}` or `dict()`: an empty mapping literal."""
    if isinstance(node, ast.Dict):
        return not node.keys
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict" and not node.args and not node.keywords


def _emptied(keys: tuple[Any, ...], i: int, plain: Any, loaded: Loaded, last: bool = False) -> bool:
    """Whether the missing key `keys[i]` and every step after it are `.get(k, {})` steps (OrEmpty), so the read gives an
    empty dict where the file lacks it; the last key too when `last` (the `**` of such a chain), else the last key is the
    read itself. Also where PyYAML's YAML 1.1 lacks the key: a file it reads otherwise is not taken as empty."""
    steps = keys[i:] if last else keys[i:-1]
    if not steps or not all(isinstance(k, OrEmpty) for k in steps):
        return False
    return loaded.plain is None or (isinstance(plain, dict) and keys[i] not in plain)


def _get_call(node: ast.expr) -> bool:
    """`x.get(k)` / `x.get(k, default)`: dict.get's positional form."""
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get" and 1 <= len(node.args) <= 2 and not node.keywords


def _root_name(node: ast.expr) -> str | None:
    return node.id if isinstance(node, ast.Name) else None


def _root(node: ast.expr) -> ast.expr:
    """The expression a chain of reads starts from: `cfg` of `cfg["a"].b.get("c")`."""
    for _ in range(64):
        if isinstance(node, (ast.Subscript, ast.Attribute)):
            node = node.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
            node = node.func.value
        else:
            break
    return node


def _holds(container: Any, key: Any) -> bool:
    if isinstance(container, dict):
        return key in container
    return isinstance(key, int) and -len(container) <= key < len(container)


_TOML_TABLE = re.compile(r"^[ \t]*\[([A-Za-z0-9_.\- \t]+)\][ \t]*(?:#.*)?$")
_TOML_KEY = re.compile(r"^[ \t]*([A-Za-z0-9_\-]+)[ \t]*=")


def _toml(text: str) -> dict[str, Any]:
    """The document as tomllib reads it, each table a YamlMap with the line of every key written as
    `key = value` under a plain `[table]` header (a dotted, quoted or inline-table key has no line: not read)."""
    data = tomllib.loads(text)
    lines: dict[tuple[str, ...], int] = {}
    seen: set[tuple[str, ...]] = set()
    table: tuple[str, ...] = ()
    for i, line in enumerate(text.splitlines()):
        if (m := _TOML_TABLE.match(line)) is not None:
            table = tuple(part.strip() for part in m.group(1).split("."))
        elif line.lstrip().startswith("["):  # `[[array]]`, a quoted table name: its keys get no line
            table = ("\0",)
        elif (k := _TOML_KEY.match(line)) is not None:
            key = (*table, k.group(1))
            if key in seen:  # written twice (a multi-line string holding `key =`?): no line is trusted
                lines.pop(key, None)
            else:
                seen.add(key)
                lines[key] = i
    return _positioned(data, (), lines)


def _positioned(node: Any, at: tuple[str, ...], lines: dict[tuple[str, ...], int]) -> Any:
    if not isinstance(node, dict):
        return node
    out = YamlMap({k: _positioned(v, (*at, k), lines) for k, v in node.items()})
    out.positions = {k: (lines[(*at, k)], 0) for k in node if (*at, k) in lines}
    return out


def _secret_values(node: Any, depth: int = 0) -> list[str]:
    """Every string under a secret name (`hub_token`, `api_key`), for redact: a report never quotes it."""
    out: list[str] = []
    if depth > 64:
        return out
    if isinstance(node, dict):
        for k, v in node.items():
            if isinstance(v, str) and isinstance(k, str) and is_secret_name(k):
                out.append(v)
            else:
                out += _secret_values(v, depth + 1)
    elif isinstance(node, list):
        for v in node:
            out += _secret_values(v, depth + 1)
    return out


Read = tuple[bool, Any, Location | None]


def call_keywords(
    call: ast.Call, label: str, lit: Callable[[ast.expr], Read], dicts: DictConfigs | None, notes: list[str], wanted: Callable[[str], bool] = lambda _k: True
) -> list[tuple[str, Read, int]]:
    """The keywords a call passes, as Python binds them: each written `k=v` (read by `lit` where `wanted`), and every
    key of a loaded mapping it expands with `**` (`TrainingArguments(**cfg["training"])`, DictConfigs.spread), each
    with its read and the script's line. A key passed twice (written and expanded, or in two expansions) is a TypeError when the
    call runs (CPython 3.11.7: "got multiple values for keyword argument"; written twice, a SyntaxError): then every
    keyword of the call is unknown, said so. A `**` goblin cannot read passes what it cannot see: noted."""
    out: list[tuple[str, Read, int]] = []
    unknown: Read = (False, None, None)
    for kw in call.keywords:
        if kw.arg is not None:
            out.append((kw.arg, lit(kw.value) if wanted(kw.arg) else unknown, kw.value.lineno))
            continue
        spread = dicts.spread(kw.value) if dicts is not None else None
        if spread is None or spread.why:
            notes.append(spread.why if spread is not None else f"line {call.lineno}: `**` arguments of {label} are not read")
            continue
        for key, read in spread.keys.items():
            out.append((key, read if wanted(key) else unknown, kw.value.lineno))
    seen: dict[str, int] = {}
    for key, _read, _line in out:
        seen[key] = seen.get(key, 0) + 1
    twice = sorted(k for k, n in seen.items() if n > 1)
    if not twice:
        return out
    written = {k.arg for k in call.keywords if k.arg is not None}
    how = (
        "a SyntaxError"
        if all(sum(1 for k in call.keywords if k.arg == t) > 1 for t in twice)
        else "a TypeError when the call runs (got multiple values for keyword argument)"
    )
    shown = ", ".join(f"`{k}`" for k in twice[:5])
    notes.append(
        f"line {call.lineno}: {label}(...) is given {shown} twice ({'written and through `**`' if set(twice) & written else 'through two `**`'}):"
        f" {how}; none of its values are read"
    )
    first: dict[str, int] = {}
    for key, _read, line in out:
        first.setdefault(key, line)
    return [(key, unknown, line) for key, line in first.items()]
