"""A tiny evaluator for the expressions a training script computes its settings and guards with,
over values goblin already knows (literals, command-line attributes, function parameters). Nothing
is executed: only this subset is read, everything else is unknown.

Read: constants and literal containers, names and attributes through a callback, a local name bound
exactly once before its use (`ga = total // micro`), `+ - * / // %` of known numbers, `not`, `and` /
`or` (Python's: the deciding operand is the value), comparisons (`==`, `!=`, `<`, `<=`, `>`, `>=`,
`in`, `not in`, `is`, `is not`, chained), `a if test else b`, tuples/lists/sets of known values,
`__name__` as `"__main__"` (the launched script runs as the main module), a lookup of a known key in a
known mapping (`{"bf16": torch.bfloat16}[args.dtype]`) and `getattr(torch, name)` of a dtype name (the
dtype's name: `getattr(torch, "bfloat16")` is `"bfloat16"`, as the caller reads `torch.bfloat16`).
A function parameter is the value every call in the script passes for it (the keyword, the
position, else the parameter's default); calls that disagree, or `*`/`**` arguments, leave it unknown.
A parameter of a command-line entry point (`fire.Fire(train)`) is what the caller's `entry` says.
"""

from __future__ import annotations

import ast
import operator
import posixpath
from collections.abc import Callable
from typing import Any

MAX_DEPTH = 12
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
    ast.Is: lambda a, b: a is b if a is None or b is None or isinstance(a, bool) or isinstance(b, bool) else a == b,
    ast.IsNot: lambda a, b: a is not b if a is None or b is None or isinstance(a, bool) or isinstance(b, bool) else a != b,
}
_SCALARS = (bool, int, float, str, type(None))
# modal-labs/modal-client modal/_functions.py @0042d852 `_Function.remote(self, *args: P.args, **kwargs: P.kwargs)`
# (also `.local`, `.spawn`): the function's own parameters, forwarded to it
MODAL_CALL_AT = "modal-labs/modal-client modal/_functions.py@0042d852 _Function.remote/local/spawn(*args: P.args, **kwargs: P.kwargs)"
_MODAL_CALLS = frozenset({"remote", "local", "spawn"})
_ARITH: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.FloorDiv: operator.floordiv,
    ast.Div: operator.truediv,
    ast.Mod: operator.mod,
}

# torch's dtype attributes by name, each as its canonical name (torch.half is torch.float16 and torch.float
# torch.float32: torch 2.13.0 `torch.half is torch.float16`, `torch.float is torch.float32`, introspected)
TORCH_DTYPE_ATTRS = {"bfloat16": "bfloat16", "float16": "float16", "half": "float16", "float32": "float32", "float": "float32"}

Leaf = Callable[[ast.expr], tuple[bool, Any]]  # a name/attribute/literal as the caller reads it
# The launched process's environment variable: (True, value), (True, None) when it is unset for certain, (False, None)
# when goblin does not know (formats/python.launched_environ); the second argument: the read writes a default (`.get(X, d)`; `.get(X)` is a
# switch the author leaves to the user, never read as unset)
Environ = Callable[[str, bool], tuple[bool, str | None]]
# The value an entry point's parameter takes from the command line (python-fire), None when `fn` is no entry point
Entry = Callable[[ast.FunctionDef | ast.AsyncFunctionDef, ast.arg], "tuple[bool, Any] | None"]


def _bound(fn: ast.AST) -> set[str]:
    """Every name `fn` (or a function nested in it) binds: assignment, loop, with and comprehension targets, imports,
    defs and classes, parameters, and `global` / `nonlocal` declarations."""
    out: set[str] = set()
    for n in ast.walk(fn):
        if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
            out.add(n.id)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n is not fn:
            out.add(n.name)
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            out.update(a.asname or a.name.split(".")[0] for a in n.names)
        elif isinstance(n, (ast.Global, ast.Nonlocal)):
            out.update(n.names)
        elif isinstance(n, ast.arg):
            out.add(n.arg)
    return out


class Evaluator:
    """Evaluates expressions of one module. `leaf` reads names, attributes and literals; a name that
    is a parameter of the function around it is read from the script's calls of that function."""

    def __init__(self, tree: ast.Module, parents: dict[int, ast.AST], leaf: Leaf, entry: Entry | None = None, environ: Environ | None = None):
        self.tree = tree
        self.parents = parents
        self.leaf = leaf
        self.entry = entry
        self.environ = environ
        self.calls: dict[str, list[ast.Call]] = {}
        for n in ast.walk(tree):
            if isinstance(n, ast.Call):
                name = n.func.id if isinstance(n.func, ast.Name) else n.func.attr if isinstance(n.func, ast.Attribute) else ""
                if name:
                    self.calls.setdefault(name, []).append(n)
                # `train.remote(...)`: a Modal function called with its own arguments (MODAL_CALL_AT)
                if isinstance(n.func, ast.Attribute) and n.func.attr in _MODAL_CALLS and isinstance(n.func.value, ast.Name):
                    self.calls.setdefault(n.func.value.id, []).append(n)
        self._busy: set[int] = set()
        self._bound: dict[int, set[str]] = {}  # function id -> the names it binds (closure lookups, `parameter`)

    def function_of(self, node: ast.AST) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        parent = self.parents.get(id(node))
        while parent is not None:
            if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef)):
                return parent
            if isinstance(parent, (ast.Lambda, ast.ClassDef)):
                return None
            parent = self.parents.get(id(parent))
        return None

    def parameter(self, node: ast.Name) -> tuple[ast.FunctionDef | ast.AsyncFunctionDef, int, ast.arg] | None:
        """(function, position, arg) when `node` names a parameter of the function it is in and the
        function does not rebind it (`x = ...` in its body); a nested function's free name is the enclosing
        function's parameter (Python's closure scoping: review10b #36 tloen/alpaca-lora finetune.py:129-134
        `def tokenize(prompt): tokenizer(..., max_length=cutoff_len)` inside `train(..., cutoff_len: int = 256)`)."""
        fn = self.function_of(node)
        found: tuple[int, ast.arg] | None = None
        for _level in range(4):
            if fn is None:
                return None
            a = fn.args
            positional = [*a.posonlyargs, *a.args]
            found = next(((i, p) for i, p in enumerate(positional) if p.arg == node.id), None)
            if found is None:
                kw = next((p for p in a.kwonlyargs if p.arg == node.id), None)
                found = (-1, kw) if kw is not None else None
            if found is not None:
                break
            if (a.vararg is not None and a.vararg.arg == node.id) or (a.kwarg is not None and a.kwarg.arg == node.id):
                return None
            if id(fn) not in self._bound:
                self._bound[id(fn)] = _bound(fn)
            if node.id in self._bound[id(fn)]:
                return None  # the function's own local (or declared global/nonlocal): not a parameter
            fn = self.function_of(fn)
        if fn is None or found is None:
            return None
        for stmt in ast.walk(fn):
            targets: list[ast.expr] = []
            if isinstance(stmt, ast.Assign):
                targets = stmt.targets
            elif isinstance(stmt, (ast.AugAssign, ast.AnnAssign)):
                targets = [stmt.target]
            if any(isinstance(t, ast.Name) and t.id == node.id for target in targets for t in ast.walk(target)):
                return None  # rebound in the body: its value depends on the code's path
        return fn, found[0], found[1]

    def _default(self, fn: ast.FunctionDef | ast.AsyncFunctionDef, pos: int, arg: ast.arg, depth: int) -> tuple[bool, Any]:
        a = fn.args
        if pos < 0:
            i = a.kwonlyargs.index(arg)
            d = a.kw_defaults[i]
            return (False, None) if d is None else self.value(d, depth + 1)
        positional = [*a.posonlyargs, *a.args]
        first_default = len(positional) - len(a.defaults)
        if pos < first_default:
            return False, None
        return self.value(a.defaults[pos - first_default], depth + 1)

    def parameter_value(self, node: ast.Name, depth: int) -> tuple[bool, Any] | None:
        """The value of a parameter name from every call of its function; None: not a parameter."""
        hit = self.parameter(node)
        if hit is None:
            return None
        fn, pos, arg = hit
        if self.entry is not None and (from_entry := self.entry(fn, arg)) is not None:
            return from_entry
        values = self._call_values(fn, pos, arg, depth)
        if not values or any(v != values[0] or type(v) is not type(values[0]) for v in values[1:]):
            return False, None
        return True, values[0]

    def parameter_values(self, node: ast.Name) -> tuple[list[Any], list[int]] | None:
        """Every value the script's calls of the parameter's function pass for it (`train.spawn("a.yml")`,
        `train.spawn("b.yml")`: MODAL_CALL_AT), in call order, with the calls' lines; None when it is no
        parameter, has no call, or one call's value is not read."""
        hit = self.parameter(node)
        if hit is None:
            return None
        fn, pos, arg = hit
        calls = [c for c in self.calls.get(fn.name, []) if self.function_of(c) is not fn]
        values = self._call_values(fn, pos, arg, 0)
        return (values, [c.lineno for c in calls]) if values else None

    def _call_values(self, fn: ast.FunctionDef | ast.AsyncFunctionDef, pos: int, arg: ast.arg, depth: int) -> list[Any] | None:
        if id(fn) in self._busy:  # recursion
            return None
        calls = [c for c in self.calls.get(fn.name, []) if self.function_of(c) is not fn]
        if not calls:
            return None
        method = bool(fn.args.args) and fn.args.args[0].arg in ("self", "cls")
        self._busy.add(id(fn))
        try:
            values: list[Any] = []
            for call in calls:
                if any(isinstance(x, ast.Starred) for x in call.args) or any(k.arg is None for k in call.keywords):
                    return None
                given = next((k.value for k in call.keywords if k.arg == arg.arg), None)
                index = pos - (1 if method and isinstance(call.func, ast.Attribute) else 0)
                if given is None and 0 <= index < len(call.args) and pos >= 0:
                    given = call.args[index]
                ok, value = self.value(given, depth + 1) if given is not None else self._default(fn, pos, arg, depth)
                if not ok or not isinstance(value, _SCALARS):
                    return None
                values.append(value)
        finally:
            self._busy.discard(id(fn))
        return values

    def single_binding(self, node: ast.Name) -> ast.expr | None:
        """The expression a local name is bound to when its function (or the module) binds it exactly
        once, by a plain `name = expr` before this use (`ga = total // micro`); None when it is bound
        again (`ga //= n`, a second `ga = ...` under an `if`; a nested function's own name of the same
        spelling counts too), by a loop, `with`, import or parameter."""
        fn = self.function_of(node)
        binds = self._binds(fn if fn is not None else self.tree, node.id)
        if fn is not None and not binds and self.function_of(fn) is None:
            # a name the function never binds is the module's (`MBS = int(os.environ.get("MBS", 1))` read inside
            # `train_model`, review13a #15; a function nested in another is not read so): bound once in the whole module, every
            # function's bindings counted too
            binds = self._binds(self.tree, node.id)
        if len(binds) != 1:
            return None
        stmt = binds[0]
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)):
            return None
        if stmt.lineno >= node.lineno:
            return None
        return stmt.value

    def _binds(self, scope: ast.AST, name: str) -> list[ast.AST]:
        """Every statement of `scope` (nested functions too) that binds `name`, and `global name` declarations."""
        binds: list[ast.AST] = []
        for n in ast.walk(scope):
            if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, (ast.Store, ast.Del)):
                binds.append(self.parents.get(id(n), n))
            elif isinstance(n, (ast.Import, ast.ImportFrom)) and any((a.asname or a.name.split(".")[0]) == name for a in n.names):
                binds.append(n)
            elif isinstance(n, ast.arg) and n.arg == name:
                binds.append(n)
            elif isinstance(n, (ast.Global, ast.Nonlocal)) and name in n.names:
                binds.append(n)
        return binds

    def passed(self, node: ast.Name) -> ast.expr | None:
        """The expression the script's only call of the parameter's function passes for it; None when
        several calls (or none) pass it, or it takes its default."""
        hit = self.parameter(node)
        if hit is None:
            return None
        fn, pos, arg = hit
        calls = [c for c in self.calls.get(fn.name, []) if self.function_of(c) is not fn]
        if len(calls) != 1:
            return None
        call = calls[0]
        given = next((k.value for k in call.keywords if k.arg == arg.arg), None)
        method = bool(fn.args.args) and fn.args.args[0].arg in ("self", "cls")
        index = pos - (1 if method and isinstance(call.func, ast.Attribute) else 0)
        if given is None and pos >= 0 and 0 <= index < len(call.args) and not any(isinstance(x, ast.Starred) for x in call.args[: index + 1]):
            given = call.args[index]
        return given

    def _environ(self, node: ast.expr, depth: int) -> tuple[bool, Any] | None:
        """An environment read of the launched process (CPython 3.11: `os.environ[X]` raises KeyError when X is unset,
        `.get(X, d)`/`os.getenv(X, d)` give d); None when `node` is no such read."""
        read = _environ_read(node)
        if read is None or self.environ is None:
            return None if read is None else (False, None)
        name_node, default, has_default = read
        ok, name = self.value(name_node, depth + 1)
        if not ok or not isinstance(name, str):
            return False, None
        known, value = self.environ(name, default is not None)
        if not known:
            return False, None
        if value is not None:
            return True, value
        if not has_default:
            return False, None  # KeyError where it runs: no value
        return (True, None) if default is None else self.value(default, depth + 1)

    def value(self, node: ast.expr, depth: int = 0) -> tuple[bool, Any]:
        """(known, value) of an expression."""
        if depth > MAX_DEPTH:
            return False, None
        if isinstance(node, ast.Name):
            if node.id == "__name__":
                return True, "__main__"
            param = self.parameter_value(node, depth)
            if param is not None:
                return param
        ok, value = self.leaf(node)
        if ok:
            return True, value
        if isinstance(node, ast.Name) and (bound := self.single_binding(node)) is not None:
            return self.value(bound, depth + 1)
        if isinstance(node, ast.BinOp) and type(node.op) in _ARITH:
            ok_l, left = self.value(node.left, depth + 1)
            ok_r, right = self.value(node.right, depth + 1)
            numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (left, right))
            if not (ok_l and ok_r and numbers):
                return False, None
            try:
                return True, _ARITH[type(node.op)](left, right)
            except (ZeroDivisionError, OverflowError):
                return False, None
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            ok, value = self.value(node.operand, depth + 1)
            return (True, -value) if ok and isinstance(value, (int, float)) and not isinstance(value, bool) else (False, None)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            ok, value = self.value(node.operand, depth + 1)
            return (True, not value) if ok else (False, None)
        if isinstance(node, ast.BoolOp):
            is_and = isinstance(node.op, ast.And)
            last: Any = None
            for operand in node.values:
                ok, last = self.value(operand, depth + 1)
                if not ok:
                    return False, None
                if bool(last) != is_and:  # `and` stops at the first falsy operand, `or` at the first truthy one
                    return True, last
            return True, last
        if isinstance(node, ast.Compare):
            ok, left = self.value(node.left, depth + 1)
            if not ok:
                return False, None
            for op, comparator in zip(node.ops, node.comparators, strict=True):
                ok, right = self.value(comparator, depth + 1)
                fn = _COMPARE.get(type(op))
                if not ok or fn is None:
                    return False, None
                try:
                    if not fn(left, right):
                        return True, False
                except TypeError:
                    return False, None
                left = right
            return True, True
        if isinstance(node, ast.IfExp):
            ok, test = self.value(node.test, depth + 1)
            if not ok:
                return False, None
            return self.value(node.body if test else node.orelse, depth + 1)
        if (env := self._environ(node, depth)) is not None:
            return env
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "int" and len(node.args) == 1 and not node.keywords:
            ok, v = self.value(node.args[0], depth + 1)
            if ok and isinstance(v, int) and not isinstance(v, bool):
                return True, v
            if ok and isinstance(v, str) and v.strip().lstrip("+-").isdigit():
                return True, int(v)
            return False, None
        if isinstance(node, ast.Subscript) and not isinstance(node.slice, ast.Slice):
            ok_m, mapping = self.value(node.value, depth + 1)
            ok_k, key = self.value(node.slice, depth + 1)
            if ok_m and ok_k and isinstance(mapping, dict) and isinstance(key, _SCALARS) and key in mapping:
                return True, mapping[key]
            return False, None
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "getattr"
            and len(node.args) == 2
            and not node.keywords
            and isinstance(node.args[0], ast.Name)
            and node.args[0].id == "torch"
        ):
            ok, name = self.value(node.args[1], depth + 1)
            return (True, TORCH_DTYPE_ATTRS[name]) if ok and isinstance(name, str) and name in TORCH_DTYPE_ATTRS else (False, None)
        if _path_join(node):
            assert isinstance(node, ast.Call)
            parts: list[str] = []
            for arg in node.args:
                ok, v = self.value(arg, depth + 1)
                if not ok or not isinstance(v, str):
                    return False, None
                parts.append(v)
            return True, posixpath.join(*parts)  # os.path is posixpath where the scripts run (Linux)
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            items: list[Any] = []
            for elt in node.elts:
                ok, v = self.value(elt, depth + 1)
                if not ok or not isinstance(v, _SCALARS):
                    return False, None
                items.append(v)
            return True, tuple(items) if isinstance(node, ast.Tuple) else set(items) if isinstance(node, ast.Set) else items
        return False, None


def is_environ(node: ast.expr) -> bool:
    """`os.environ` (formats/pycode reads the script's own settings of it, this module the launched process's reads)."""
    return isinstance(node, ast.Attribute) and node.attr == "environ" and isinstance(node.value, ast.Name) and node.value.id == "os"


def _environ_read(node: ast.expr) -> tuple[ast.expr, ast.expr | None, bool] | None:
    """(name, default, has_default) of `os.environ["X"]`, `os.environ.get("X"[, d])` or `os.getenv("X"[, d])`."""
    if isinstance(node, ast.Subscript) and is_environ(node.value) and not isinstance(node.slice, ast.Slice):
        return node.slice, None, False
    if not isinstance(node, ast.Call) or node.keywords or not 1 <= len(node.args) <= 2 or not isinstance(node.func, ast.Attribute):
        return None
    f = node.func
    if (f.attr == "get" and is_environ(f.value)) or (f.attr == "getenv" and isinstance(f.value, ast.Name) and f.value.id == "os"):
        return node.args[0], node.args[1] if len(node.args) == 2 else None, True
    return None


def _path_join(node: ast.expr) -> bool:
    """`os.path.join(a, b, ...)` of positional arguments only (a model folder `os.path.join(SCRATCH_ROOT, "llama-models-cache")`,
    review12b row 24): a pure string function goblin evaluates as posixpath.join."""
    f = node.func if isinstance(node, ast.Call) else None
    return (
        isinstance(node, ast.Call)
        and bool(node.args)
        and not node.keywords
        and not any(isinstance(a, ast.Starred) for a in node.args)
        and isinstance(f, ast.Attribute)
        and f.attr == "join"
        and isinstance(f.value, ast.Attribute)
        and f.value.attr == "path"
        and isinstance(f.value.value, ast.Name)
        and f.value.value.id == "os"
    )
