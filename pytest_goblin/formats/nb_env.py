"""The variables a Jupyter notebook's kernel puts in its own environment, which a later `!` line or `%%bash` cell
inherits: `%env NAME=V`, `%env NAME V` (and `%set_env`), and `os.environ["NAME"] = "V"` in a code cell. Read as
text (each line of a code cell, parsed with `ast` where it is an `os.environ` statement), never run.

IPython 8.12.3 core/magics/osm.py:433-462 (`%env var=val` / `%env var val` set it through `set_env`), :465-491
(`set_env`: split at the first `=` if the line has one, else at the first space; name and value stripped, the value
kept as written, quotes included; a name holding whitespace is refused and nothing set); ipython/ipython
IPython/core/magics/osm.py@0407e91d the same. A magic's line has `$name` / `{expr}` expanded from the notebook's
namespace first (the `_IPY_FIELD` note in launcher_text), so such a value is unknown, as is a quoted one (its quotes
stay in the value) and one set on an indented line (under an `if`, a loop, a function: it may not run).

A `!` line runs in a child of the kernel process, which gets the kernel's `os.environ` at that moment; a variable
set in a cell after the launch line, or removed before it (`del os.environ["X"]`, `os.environ.pop("X")`, `%env -u`
does not exist), is not the run's."""

from __future__ import annotations

import ast
import re

# (file line, name, value, known); `value` None: the name is removed from the environment
KernelSetting = tuple[int, str, str | None, bool]

_ENV_MAGIC = re.compile(r"^%(?:env|set_env)\s+(.{1,4096})$")
_ENVIRON_LINE = re.compile(r"^(\s*)(?:del\s+)?os\.environ(?:\[|\.pop\()")
_NAME = re.compile(r"[A-Za-z_]\w{0,63}")


def _magic(line: str) -> tuple[str, str] | None:
    """(name, value) a `%env` / `%set_env` line sets, as set_env splits it; None when it sets nothing."""
    m = _ENV_MAGIC.match(line.strip())
    if m is None:
        return None
    params = m.group(1)
    bits = params.split("=" if "=" in params else " ", 1)
    if len(bits) < 2:
        return None  # `%env NAME`: reads it
    name, value = bits[0].strip(), bits[1].strip()
    return (name, value) if _NAME.fullmatch(name) else None


def _environ_key(node: ast.expr) -> str | None:
    """NAME of `os.environ["NAME"]`."""
    if (
        isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "environ"
        and isinstance(node.value.value, ast.Name)
        and node.value.value.id == "os"
        and isinstance(node.slice, ast.Constant)
        and isinstance(node.slice.value, str)
        and _NAME.fullmatch(node.slice.value)
    ):
        return node.slice.value
    return None


def _python(line: str) -> tuple[str, str | None, bool] | None:
    """(name, value or None for a removal, known) an `os.environ` statement on one line sets."""
    try:
        tree = ast.parse(line.strip())
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    if len(tree.body) != 1:
        return None
    stmt = tree.body[0]
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and (name := _environ_key(stmt.targets[0])):
        value = stmt.value
        literal = isinstance(value, ast.Constant) and isinstance(value.value, str)
        return name, value.value if isinstance(value, ast.Constant) and isinstance(value.value, str) else "", literal
    if isinstance(stmt, ast.Delete) and len(stmt.targets) == 1 and (name := _environ_key(stmt.targets[0])):
        return name, None, True
    call = stmt.value if isinstance(stmt, ast.Expr) else None
    if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "pop" and call.args:
        name = _environ_key(ast.Subscript(value=call.func.value, slice=call.args[0], ctx=ast.Load()))
        if name:
            return name, None, True
    return None


def kernel_settings(lines: list[tuple[int, str, str, str]]) -> list[KernelSetting]:
    """The environment settings of a notebook's code cells, in order, from `notebook.notebook_lines`' rows (file line,
    place, line, cell type); a `%%` cell magic's body (a shell, another language) is not the kernel's Python."""
    out: list[KernelSetting] = []
    cell_magic = False
    for n, place, line, kind in lines:
        if kind != "code":
            continue
        if place.endswith(" line 1"):
            cell_magic = line.lstrip().startswith("%%")
        if cell_magic:
            continue
        if got := _magic(line):
            known = not re.search(r"[${}'\"]", got[1]) and not line[:1].isspace()
            out.append((n, got[0], got[1] if known else "", known))
            continue
        indent = _ENVIRON_LINE.match(line)
        if indent is None or (found := _python(line)) is None:
            continue
        name, value, known = found
        scoped = bool(indent.group(1))
        out.append((n, name, value if value is None or (known and not scoped) else "", known and not scoped))
    return out
