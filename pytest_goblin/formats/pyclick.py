"""click command-line scripts read as data (ast; nothing imported): the options of the one `@click.command()`
function a script runs, and the function it hands them on to with `**kwargs`.

review4 #27 (databrickslabs/dolly training/trainer.py:291-324): `@click.option("--per-device-train-batch-size",
type=int, default=8)` ... `def main(**kwargs): train(**kwargs)`, and `train(*, per_device_train_batch_size, ...)`
builds TrainingArguments(per_device_train_batch_size=per_device_train_batch_size). The launch line
(train_dolly.py `!deepspeed ... --module training.trainer --epochs 2 ...`) passes `--kebab-case` words.

click's rules, from click 8.5.1 (the installed distribution) click/core.py:
- name (Option._parse_decls, :3264-3323): a declaration that is an identifier is the name; else every
  declaration is an option string, `--x/--no-x` splits into an option and a secondary option (:3278-3287); with
  no identifier the longest-prefixed option gives the name, dashes made underscores, lower-cased (:3299-3302).
- flags (Option._infer_flag_kind, :3083-3113): a flag when is_flag=True, when flag_value is given, or when
  secondary options are declared; a boolean flag's option sets True and its secondary option False
  (Option.add_to_parser, :3333-3346); a boolean flag not passed and without a default is False (:3166-3170).
- multiple=True appends every occurrence (:3326-3327); otherwise the last occurrence is kept ("store").
- a bool value is read through BoolParamType.bool_states (click/types.py:819-836: 1/0, yes/no, true/false,
  on/off, t/f, y/n, case-insensitive); an option with no type takes its default's type, STRING when the default
  is None or absent (click/types.py:1357-1373 convert_type).
- an argument's one declaration is its name, dashes made underscores, lower-cased (Argument._parse_decls, :3760-3777).
A click group (`@click.group()`) runs the command its first word names: goblin does not guess which one runs.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..safepath import text_or_empty, tree_of

MAX_LAUNCHER_BYTES = 4_000_000  # a launcher larger than this is not read for a variable's values

CLICK_AT = "click 8.5.1 click/core.py:3264-3323 (Option._parse_decls), :3083-3113, :3166-3170, :3326-3346"
CLICK_BOOL_AT = "click 8.5.1 click/types.py:819-836 (BoolParamType.bool_states)"
_BOOL_STATES = {"1": True, "0": False, "yes": True, "no": False, "true": True, "false": False, "on": True, "off": False}
_BOOL_STATES |= {"t": True, "f": False, "y": True, "n": False}
_TYPES = {"int": "int", "INT": "int", "float": "float", "FLOAT": "float", "str": "str", "STRING": "str", "bool": "bool", "BOOL": "bool"}


@dataclass
class ClickOption:
    name: str  # the Python parameter it fills
    opts: tuple[str, ...]
    secondary: tuple[str, ...]  # `--no-x` of `--x/--no-x`: sets False
    is_flag: bool
    multiple: bool
    kind: str  # "int" / "float" / "bool" / "str"; "" when the type is something goblin does not convert
    default: ast.expr | None  # the `default=` expression; None when not written
    required: bool
    line: int
    argument: bool = False  # `@click.argument`: positional, not read from `--` words


@dataclass
class ClickCommand:
    fn: ast.FunctionDef | ast.AsyncFunctionDef
    params: dict[str, ClickOption]


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _imports_click(tree: ast.Module) -> set[str]:
    """Names bound to click or to its decorators: {"click"} for `import click`, the bare names of `from click import ...`."""
    out: set[str] = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Import):
            out |= {a.asname or a.name for a in n.names if a.name == "click"}
        elif isinstance(n, ast.ImportFrom) and n.module == "click":
            out |= {f"@{a.name}={a.asname or a.name}" for a in n.names}
    return out


def _is(dec: ast.expr, what: str, names: set[str]) -> bool:
    """`@click.<what>(...)` / `@<what>(...)` imported from click."""
    func = dec.func if isinstance(dec, ast.Call) else dec
    dotted = _dotted(func)
    return any(dotted == f"{n}.{what}" for n in names if not n.startswith("@")) or any(
        n.startswith(f"@{what}=") and dotted == n.split("=", 1)[1] for n in names
    )


def _kw(call: ast.Call, key: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == key), None)


def _true(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def _option(call: ast.Call, argument: bool) -> ClickOption | None:
    decls = [a.value for a in call.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    if len(decls) != len(call.args) or not decls:
        return None
    default = _kw(call, "default")
    typ = _kw(call, "type")
    kind = ""
    if typ is not None:
        kind = _TYPES.get(typ.attr if isinstance(typ, ast.Attribute) else typ.id if isinstance(typ, ast.Name) else "", "")
    elif isinstance(default, ast.Constant) and default.value is not None:
        kind = {bool: "bool", int: "int", float: "float", str: "str"}.get(type(default.value), "")
    else:
        kind = "str"  # click 8.5.1 click/types.py:1372-1373 convert_type: no type and no default is STRING
    if argument:  # click.Argument: the one declaration is the name (click 8.5.1 core.py:3760-3777)
        return ClickOption(
            decls[0].replace("-", "_").lower(), (), (), False, False, kind, default, _true(_kw(call, "required")) or default is None, call.lineno, True
        )
    name: str | None = None
    opts: list[str] = []
    secondary: list[str] = []
    possible: list[tuple[str, str]] = []
    for decl in decls:
        if decl.isidentifier():
            name = decl
            continue
        split = ";" if decl[:1] == "/" else "/"
        parts = decl.split(split, 1) if split in decl else [decl]
        first = parts[0].rstrip()
        if first:
            opts.append(first)
            stripped = first.lstrip("-/+")
            possible.append((first[: len(first) - len(stripped)], stripped))
        if len(parts) > 1 and parts[1].strip():
            secondary.append(parts[1].strip())
    if name is None and possible:
        possible.sort(key=lambda x: -len(x[0]))
        name = possible[0][1].replace("-", "_").lower()
    if not name or not name.isidentifier():
        return None
    is_flag = _true(_kw(call, "is_flag")) or _kw(call, "flag_value") is not None or bool(secondary)
    if is_flag:
        kind = "bool" if _kw(call, "flag_value") is None else ""
    return ClickOption(name, tuple(opts), tuple(secondary), is_flag, _true(_kw(call, "multiple")), kind, default, _true(_kw(call, "required")), call.lineno)


def click_command(tree: ast.Module) -> tuple[ClickCommand | None, str]:
    """(the one click command the script runs, "") or (None, why none is read; "" when the script uses no click)."""
    names = _imports_click(tree)
    if not names:
        return None, ""
    commands: list[ClickCommand] = []
    groups: list[str] = []
    for fn in ast.walk(tree):
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        decs = fn.decorator_list
        if any(_is(d, "group", names) for d in decs):
            groups.append(fn.name)
            continue
        is_command = any(_is(d, "command", names) for d in decs) or any(
            isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and d.func.attr == "command" for d in decs
        )
        if not is_command:
            continue
        params: dict[str, ClickOption] = {}
        for d in decs:
            if isinstance(d, ast.Call) and (_is(d, "option", names) or _is(d, "argument", names)):
                opt = _option(d, _is(d, "argument", names))
                if opt is not None:
                    params.setdefault(opt.name, opt)
        commands.append(ClickCommand(fn, params))
    if groups:
        return None, f"a click group ({', '.join(groups)}()) runs the command its launch line names; goblin does not read which one ({CLICK_AT})"
    if len(commands) > 1:
        return None, f"{len(commands)} click commands ({', '.join(c.fn.name + '()' for c in commands)}); goblin does not read which one runs"
    return (commands[0], "") if commands else (None, "")


def forwarded(tree: ast.Module, command: ClickCommand, fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Whether `fn` takes the command's options through `fn(**kwargs)`, the command's own `**kwargs` unchanged,
    and no other call of `fn` in the script."""
    kwarg = command.fn.args.kwarg
    if kwarg is None or fn is command.fn:
        return False
    for stmt in ast.walk(command.fn):
        if isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            if any(isinstance(t, ast.Name) and t.id == kwarg.arg for target in targets for t in ast.walk(target)):
                return False
        if isinstance(stmt, ast.Call) and isinstance(stmt.func, ast.Attribute) and isinstance(stmt.func.value, ast.Name):
            if stmt.func.value.id == kwarg.arg and stmt.func.attr in ("pop", "update", "setdefault", "clear", "__setitem__"):
                return False
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == fn.name]
    if len(calls) != 1:
        return False
    call = calls[0]
    inside = any(call is n for n in ast.walk(command.fn))
    return inside and any(k.arg is None and isinstance(k.value, ast.Name) and k.value.id == kwarg.arg for k in call.keywords)


def bool_word(raw: str) -> bool | None:
    """A bool option's word (CLICK_BOOL_AT); None when click would reject it."""
    return _BOOL_STATES.get(raw.strip().lower())


def convert_word(raw: str, kind: str) -> tuple[bool, Any]:
    """(read, value) of a launch word for an option of this kind; not read when click would reject it or the
    type is one goblin does not convert."""
    try:
        if kind == "int":
            return True, int(raw)
        if kind == "float":
            return True, float(raw)
    except ValueError:
        return False, None
    if kind == "bool":
        b = bool_word(raw)
        return (b is not None), b
    if kind == "str":
        return True, raw
    return False, None


_WORD_VAR = re.compile(r"^\$\{?([A-Za-z_]\w{0,63})\}?$")


def launcher_source(path: Path) -> str:
    """The launcher's text as code: a notebook's code cells joined, else the file ("" when unreadable)."""
    text = text_or_empty(path, roots=tree_of(path), limit=MAX_LAUNCHER_BYTES)
    if path.suffix.lower() != ".ipynb":
        return text
    try:
        cells = json.loads(text).get("cells", [])
    except (ValueError, AttributeError):
        return ""
    out: list[str] = []
    for cell in cells if isinstance(cells, list) else []:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            src = cell.get("source", "")
            out.append("".join(src) if isinstance(src, list) else str(src))
    return "\n".join(out)


def word_values(word: str, source: str) -> list[str] | None:
    """The strings a launch-line word that is a variable (`$EXTRA`, `${bf16_flag}`) can take: every assignment of
    that name in the launcher is a quoted literal (`bf16_flag = "--bf16 false"` under an if, `--bf16 true` under
    its else). None when the word is no variable, the name is never assigned there, or one assignment is anything
    else (computed, appended to, read from the environment)."""
    m = _WORD_VAR.match(word)
    if m is None:
        return None
    name = re.escape(m.group(1))
    assign = re.compile(rf"^\s*(?:export\s+|local\s+)?{name}\s*(\+?=)\s*(.*?)\s*$")
    literal = re.compile(r"""^(["'])([^"'$`{}\\]*)\1$""")
    values: list[str] = []
    for row in source.splitlines():
        hit = assign.match(row)
        if hit is None:
            if re.search(rf"(?<![\w.]){name}\s*(\+=|:=)|\bread\b.*\b{name}\b|\bfor\s+{name}\b", row):
                return None
            continue
        lit = literal.match(hit.group(2))
        if hit.group(1) != "=" or lit is None:
            return None
        values.append(lit.group(2))
    return values or None


def may_pass(values: list[str], opt: ClickOption) -> bool:
    """Whether one of the strings holds one of the option's option strings as a word (`--bf16`, `--bf16=x`)."""
    names = set(opt.opts) | set(opt.secondary)
    return any(w.split("=", 1)[0] in names for v in values for w in v.split())
