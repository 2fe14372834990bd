"""Debug modes a training script leaves on: calls that slow every step and are meant for debugging runs, each
counted only where the code runs (`pycode.guard`: every enclosing `if` known true; a function only where the script
names it). Read with `ast`, nothing run.

- autograd anomaly detection: `torch.autograd.set_detect_anomaly(True)` (a call or a `with`), `with
  torch.autograd.detect_anomaly():`. pytorch torch/autograd/anomaly_mode.py:20-22 @024bc9faa91f (detect_anomaly's
  docstring: "This mode should be enabled only for debugging as the different tests will slow down your program
  execution"), :80-85 (its constructor warns "This mode will increase the runtime and should only be enabled for
  debugging"); set_detect_anomaly "can be used as a context-manager or as a function" and its `mode` turns it on or off.
- deterministic algorithms: `torch.use_deterministic_algorithms(True)`. pytorch docs/source/notes/randomness.rst:17-20
  @9a48faad9618 (a warning: "Deterministic operations are often slower than nondeterministic operations, so single-run
  performance may decrease for your model"); its sections "Avoiding nondeterministic algorithms" (an operation known
  to be nondeterministic, with no deterministic alternative, throws an error) and "Filling uninitialized memory"
  (filled with a known value under the flag, "detrimental to performance").
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .pyliteral import call_name, literal_value
from .pyscript import Location, Script

if TYPE_CHECKING:
    from .pycommand import Lit

# whether the code around a node runs (True, False, None: an `if` goblin cannot evaluate) and what decided it:
# pycode.guard for a script read as the config; `_literal_guard` for the script a recipe's launch line runs (this module
# is imported by formats/launched.py, which pycode's imports reach, so it takes the guard as a parameter)
Guard = Callable[[ast.AST, dict[int, ast.AST], "Lit"], tuple[bool | None, str]]

ANOMALY_AT = "pytorch torch/autograd/anomaly_mode.py:20-22, 80-85 @024bc9faa91f"
DETERMINISTIC_AT = "pytorch docs/source/notes/randomness.rst:17-20 @9a48faad9618"

# the call's name as written -> (what it turns on, where torch says what it costs); a bare name only where the script
# imports it from torch (`from torch.autograd import set_detect_anomaly`)
_ANOMALY = (
    "autograd anomaly detection, which torch says to enable only for debugging: its checks (the forward operations' tracebacks "
    f"kept for the backward, and by default an error on a NaN in the backward) slow execution ({ANOMALY_AT})"
)
_DETERMINISTIC = (
    f"deterministic algorithms, which torch says are often slower than nondeterministic ones ({DETERMINISTIC_AT}); keep "
    "them only where this run needs bitwise reproducibility"
)
_CALLS: dict[str, tuple[str, str]] = {
    "set_detect_anomaly": ("torch.autograd", _ANOMALY),
    "detect_anomaly": ("torch.autograd", _ANOMALY),
    "use_deterministic_algorithms": ("torch", _DETERMINISTIC),
}


def _qualified(node: ast.Call, name: str, imported: set[str]) -> bool:
    """`torch.autograd.set_detect_anomaly`, `autograd.set_detect_anomaly`, `torch.use_deterministic_algorithms`, or the
    bare name the script imports from torch; a repository function of the same name is not torch's."""
    func = node.func
    if isinstance(func, ast.Name):
        return func.id in imported
    written = ast.unparse(func)
    module = _CALLS[name][0]
    return written in (f"{module}.{name}", f"{module.rpartition('.')[2]}.{name}")


def _turns_on(node: ast.Call, name: str, parents: dict[int, ast.AST], lit: Lit) -> bool | None:
    """True where the call turns the mode on, False where it turns it off, None where goblin cannot read its argument.
    `detect_anomaly()` turns it on in a `with` only (anomaly_mode.py: `__enter__`); the others by their first argument
    (`mode`)."""
    if name == "detect_anomaly":
        return isinstance(parents.get(id(node)), ast.withitem)
    arg = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "mode"), None)
    if arg is None:
        return False
    ok, value, _ = lit(arg)
    if not ok or not isinstance(value, bool):
        return None
    return value


def _named_elsewhere(node: ast.AST, parents: dict[int, ast.AST]) -> bool:
    """Whether the function holding `node` (if any) is named anywhere outside itself: called, or passed as
    `fire.Fire(main)` is. A helper nothing names never runs."""
    fn: ast.AST | None = parents.get(id(node))
    while fn is not None and not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
        fn = parents.get(id(fn))
    if fn is None:
        return True
    top: ast.AST = fn
    while (up := parents.get(id(top))) is not None:
        top = up
    inside = {id(n) for n in ast.walk(fn)}
    for n in ast.walk(top):
        if id(n) in inside:
            continue
        if (isinstance(n, ast.Name) and n.id == fn.name) or (isinstance(n, ast.Attribute) and n.attr == fn.name):
            return True
    return False


def imported_names(tree: ast.Module) -> set[str]:
    """The debug calls a script imports by their bare name from torch."""
    out: set[str] = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.ImportFrom) and n.module in ("torch", "torch.autograd", "torch.autograd.anomaly_mode"):
            out.update(a.asname or a.name for a in n.names if a.name in _CALLS and a.asname in (None, a.name))
    return out


def debug_mode(s: Script, node: ast.Call, name: str, parents: dict[int, ast.AST], lit: Lit, imported: set[str], guard: Guard) -> None:
    """Record a debug mode the script turns on where it runs: `s.debug_modes` (what, the call and its line)."""
    if name not in _CALLS or not _qualified(node, name, imported):
        return
    label = f"`{ast.unparse(node)[:80]}` at line {node.lineno}"
    on = _turns_on(node, name, parents, lit)
    if on is None:
        s.notes.append(f"{label} sets {_CALLS[name][1].split(',')[0]} from a value goblin cannot read; not judged")
        return
    if not on:
        return
    if not _named_elsewhere(node, parents):
        return
    runs, cond = guard(node, parents, lit)
    if runs is None:
        s.notes.append(f"{label} is under the `if` at {cond}, which goblin cannot evaluate; not judged (assumed not to run)")
        return
    if runs:
        s.debug_modes.append((f"{label} turns on {_CALLS[name][1]}" + (f" ({cond})" if cond else ""), node.lineno))


def is_main_test(node: ast.expr) -> bool:
    """`__name__ == "__main__"`: true when the script is run, as a launch line runs it."""
    return isinstance(node, ast.Compare) and ast.unparse(node).replace("'", '"') == '__name__ == "__main__"'


def _literal(node: ast.expr) -> tuple[bool, Any, Location | None]:
    """Literals only, and `__name__ == "__main__"` true (the launch line runs the script)."""
    if is_main_test(node):
        return True, True, None
    ok, value, _ = literal_value(node, {})
    return ok, value, None


def _literal_guard(node: ast.AST, parents: dict[int, ast.AST], lit: Lit) -> tuple[bool | None, str]:
    """Every `if` (and `a if t else b`) around `node` read by `lit`: False where one is known false, None where one is
    not known, else True."""
    child, parent = node, parents.get(id(node))
    unknown: str | None = None
    while parent is not None:
        if isinstance(parent, (ast.If, ast.IfExp)) and child is not parent.test:
            negate = child in parent.orelse if isinstance(parent, ast.If) else child is parent.orelse
            ok, value, _ = lit(parent.test)
            if not ok:
                unknown = unknown or f"line {parent.lineno}"
            elif bool(value) == negate:
                return False, f"line {parent.lineno}"
        child, parent = parent, parents.get(id(parent))
    return (None, unknown) if unknown is not None else (True, "")


def scan(tree: ast.Module) -> Script:
    """The debug modes a script turns on, read on its own (the script a YAML/JSON recipe's launch line runs:
    formats/launched.py): literals only there, so an `if` on a parsed option is unknown and not judged."""
    lit: Lit = _literal
    s = Script()
    parents = {id(child): parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
    imported = imported_names(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            debug_mode(s, node, call_name(node.func), parents, lit, imported, _literal_guard)
    return s
