"""The model a script picks by its first command-line word (review13a #15: tprimat train/amd_tran.py:220-256,
`python amd_tran.py llama` -> `if model == "llama": train_llama()` -> `train_model("meta-llama/Llama-3.1-8B", ...)`
-> `AutoConfig.from_pretrained(model_name)`).

Read: a `from_pretrained(name)` whose `name` is a parameter of the function around it, the literal strings the
script's calls pass for it (through at most MAX_LEVELS functions that pass their own parameter on), and, where those
literals differ, the choice among them by `sys.argv[1]` (or a name bound to it): an `if`/`elif` comparing it with `==`
to a string literal, or a dict of string literals to the script's functions indexed by it (`{...}[sys.argv[1]]()`,
`.get(sys.argv[1])`). A branch picks the literals whose calls lie in its body or in a function its body calls. The
launch line's first word after the script (ScriptLaunch.positional) is `sys.argv[1]` (SYS_ARGV_AT). A comparison with
a value that is not a literal, a word that is not literal, no launch line, or a branch that reaches two literals
names no model, and says why. Nothing is run."""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .pyeval import Evaluator

if TYPE_CHECKING:
    from .launchers import ScriptLaunch

# python/cpython Doc/library/sys.rst@000410ff `sys.argv`: "The list of command line arguments passed to a Python script.
# argv[0] is the script name", the words after it following in order; torchrun passes the words after the script to it in
# order (pytorch/pytorch torch/distributed/run.py@010929fd: get_args_parser `training_script_args` nargs=REMAINDER;
# config_from_args `cmd_args.append(args.training_script)` then `cmd_args.extend(args.training_script_args)`, a
# `--local-rank` word only where use_env is off, which torchrun's parser never turns off: get_use_env)
SYS_ARGV_AT = "cpython Doc/library/sys.rst sys.argv; torch/distributed/run.py@010929fd config_from_args passes the words after the script in order"
MAX_LEVELS = 3  # functions a literal may be passed down through


@dataclass(frozen=True)
class _Trace:
    value: str
    line: int  # the literal's line
    chain: tuple[ast.Call, ...]  # the calls it is passed through, innermost first


@dataclass(frozen=True)
class Dispatched:
    model: str
    line: int  # the literal's line in the script
    note: str


def _is_argv1(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "argv"
        and isinstance(node.value.value, ast.Name)
        and node.value.value.id == "sys"
        and isinstance(node.slice, ast.Constant)
        and node.slice.value == 1
    )


class _Reader:
    def __init__(self, tree: ast.Module) -> None:
        self.tree = tree
        self.parents = {id(c): p for p in ast.walk(tree) for c in ast.iter_child_nodes(p)}
        self.ev = Evaluator(tree, self.parents, lambda n: (False, None))
        self.functions = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        self.unread: str | None = None  # why a call's value is not read

    def inside(self, node: ast.AST, body: list[ast.stmt]) -> bool:
        ids = {id(s) for s in body}
        at: ast.AST | None = node
        while at is not None:
            if id(at) in ids:
                return True
            at = self.parents.get(id(at))
        return False

    def trace(self, fn: ast.FunctionDef | ast.AsyncFunctionDef, pos: int, arg: ast.arg, level: int) -> list[_Trace] | None:
        calls = [c for c in self.ev.calls.get(fn.name, []) if isinstance(c.func, ast.Name) and self.ev.function_of(c) is not fn]
        if not calls or level > MAX_LEVELS:
            return None
        out: list[_Trace] = []
        for call in calls:
            if any(isinstance(x, ast.Starred) for x in call.args) or any(k.arg is None for k in call.keywords):
                self.unread = f"line {call.lineno} calls {fn.name}() with * or ** arguments"
                return None
            given = next((k.value for k in call.keywords if k.arg == arg.arg), None)
            if given is None and 0 <= pos < len(call.args):
                given = call.args[pos]
            if given is None:
                self.unread = f"line {call.lineno} calls {fn.name}() without `{arg.arg}`"
                return None
            if isinstance(given, ast.Constant) and isinstance(given.value, str):
                out.append(_Trace(given.value, given.lineno, (call,)))
                continue
            hit = self.ev.parameter(given) if isinstance(given, ast.Name) else None
            if hit is None:
                self.unread = f"line {call.lineno} passes {fn.name}() `{ast.unparse(given)[:60]}`, a value goblin cannot read"
                return None
            deeper = self.trace(hit[0], hit[1], hit[2], level + 1)
            if deeper is None:
                return None
            out.extend(_Trace(t.value, t.line, (call, *t.chain)) for t in deeper)
        return out

    def reach(self, body: list[ast.stmt]) -> set[str]:
        """The script's functions a block calls, and those they call (by name)."""
        seen: set[str] = set()
        todo = [n.func.id for s in body for n in ast.walk(s) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in self.functions]
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            fn = self.functions[name]
            todo.extend(n.func.id for n in ast.walk(fn) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in self.functions)
        return seen

    def argv_names(self) -> set[str]:
        """Names bound once, in their scope, to `sys.argv[1]` (`model = sys.argv[1]`)."""
        out: set[str] = set()
        for n in ast.walk(self.tree):
            if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name) and _is_argv1(n.value):
                target = n.targets[0]
                scope = self.ev.function_of(n)
                if len(self.ev._binds(scope if scope is not None else self.tree, target.id)) == 1:
                    out.add(target.id)
        return out

    def branches(self) -> tuple[list[tuple[str, list[ast.stmt], int]], str | None]:
        """(word, block it runs, line) of each choice by `sys.argv[1]`; the first choice goblin cannot read."""
        names = self.argv_names()

        def argv(node: ast.expr) -> bool:
            return _is_argv1(node) or (isinstance(node, ast.Name) and node.id in names)

        found: list[tuple[str, list[ast.stmt], int]] = []
        unread: str | None = None
        dicts: dict[str, ast.Dict] = {}
        for n in ast.walk(self.tree):
            if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name) and isinstance(n.value, ast.Dict):
                dicts[n.targets[0].id] = n.value
        for n in ast.walk(self.tree):
            if isinstance(n, ast.If) and isinstance(n.test, ast.Compare) and len(n.test.ops) == 1 and isinstance(n.test.ops[0], ast.Eq):
                left, right = n.test.left, n.test.comparators[0]
                other = right if argv(left) else left if argv(right) else None
                if other is None:
                    continue
                if isinstance(other, ast.Constant) and isinstance(other.value, str):
                    found.append((other.value, n.body, n.lineno))
                elif unread is None:
                    unread = f"line {n.lineno} compares sys.argv[1] with `{ast.unparse(other)[:60]}`, a value goblin cannot read"
            table: ast.expr | None = None
            if isinstance(n, ast.Subscript) and argv(n.slice):
                table = n.value
            elif isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "get" and n.args and argv(n.args[0]):
                table = n.func.value
            if table is None:
                continue
            mapping = dicts.get(table.id) if isinstance(table, ast.Name) else table if isinstance(table, ast.Dict) else None
            if mapping is None:
                continue
            for key, value in zip(mapping.keys, mapping.values, strict=True):
                if isinstance(key, ast.Constant) and isinstance(key.value, str) and isinstance(value, ast.Name) and value.id in self.functions:
                    call = ast.Expr(ast.Call(func=ast.Name(id=value.id, ctx=ast.Load()), args=[], keywords=[]))
                    found.append((key.value, [call], key.lineno))
                elif unread is None:
                    unread = f"line {mapping.lineno} maps sys.argv[1] through `{ast.unparse(mapping)[:60]}`, which goblin cannot read"
        return found, unread


def _shown(values: list[_Trace]) -> str:
    return " or ".join(f"`{v}` (line {line})" for v, line in sorted({(t.value, t.line) for t in values}, key=lambda x: x[1]))


def dispatched_model(tree: ast.Module, launches: Callable[[], list[ScriptLaunch]], script: str) -> tuple[Dispatched | None, str | None]:
    """(the model the first launch line's first word picks, None) or (None, why none is named) where the script's model
    loads take different literals by the function that calls them; (None, None) where this reading does not apply.
    `launches` gives the launch lines that run the script, the one read first (called only where a choice is read)."""
    r = _Reader(tree)
    loads: list[tuple[ast.Call, tuple[ast.FunctionDef | ast.AsyncFunctionDef, int, ast.arg]]] = []
    for n in ast.walk(tree):
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "from_pretrained" and n.args and isinstance(n.args[0], ast.Name):
            hit = r.ev.parameter(n.args[0])
            if hit is not None and r.ev.function_of(n) is hit[0]:
                loads.append((n, hit))
    if not loads:
        return None, None
    load, (fn, pos, arg) = min(loads, key=lambda x: x[0].lineno)
    if any(h[0] is not fn or h[2] is not arg for _c, h in loads):
        return None, None  # loads of different parameters: not this reading
    traces = r.trace(fn, pos, arg, 1)
    if traces is None or len({t.value for t in traces}) < 2:
        return None, None  # one value (pyeval reads it) or a call goblin cannot read
    loaded = f"line {load.lineno} loads the model from `{arg.arg}`, which {fn.name}() is passed as {_shown(traces)}"
    branches, unread = r.branches()
    if not branches and unread is None:
        return None, f"{loaded}; goblin finds no choice among them by the command line and names no model"
    if unread is not None:
        return None, f"{loaded}, picked by the first command-line word: {unread}; goblin names no model"
    lines = launches()
    if not lines:
        return None, f"{loaded}, picked by the first command-line word (line {branches[0][2]}); no launch line runs {script}, so goblin names no model"

    def pick(word: str) -> tuple[list[_Trace], int] | None:
        picked = [(body, line) for w, body, line in branches if w == word]
        if not picked:
            return None
        body, branch_line = picked[0]
        reach = r.reach(body)

        def inside(t: _Trace) -> bool:
            outer = r.ev.function_of(t.chain[-1])
            return any(r.inside(c, body) for c in t.chain) or (outer is not None and outer.name in reach)

        return [t for t in traces if inside(t)], branch_line

    launch = lines[0]
    if not launch.positional:
        return (
            None,
            f"{loaded}, picked by the first command-line word (line {branches[0][2]}); the launch line at {launch.where()} passes no word before its flags; goblin names no model",
        )
    word, word_line = launch.positional[0]
    if not _literal(word):
        return (
            None,
            f"{loaded}, picked by the first command-line word; the launch line at {launch.where(word_line)} passes `{word}`, which goblin cannot read; goblin names no model",
        )
    got = pick(word)
    if got is None:
        return (
            None,
            f"{loaded}; the launch line at {launch.where(word_line)} passes `{word}`, which no choice of sys.argv[1] (line {branches[0][2]}) names; goblin names no model",
        )
    chosen, branch_line = got
    if len({t.value for t in chosen}) != 1:
        what = f"reaches {_shown(chosen)}" if chosen else "reaches none of them"
        return (
            None,
            f"{loaded}; the branch at line {branch_line} that the launch line's `{word}` ({launch.where(word_line)}) picks {what}; goblin names no model",
        )
    first = min(chosen, key=lambda t: t.line)
    note = (
        f"`{first.value}` is the model {script} loads when its first command-line word is `{word}`: the launch line at"
        f" {launch.where(word_line)} passes it, line {branch_line} picks the branch, whose calls pass `{first.value}`"
        f" (line {first.line}) to {fn.name}(), which loads it at line {load.lineno} ({SYS_ARGV_AT})"
    )
    differ: list[str] = []
    for other in lines[1:]:
        if (other.file, other.line) == (launch.file, launch.line):
            continue
        w = other.positional[0][0] if other.positional else ""
        seen = pick(w) if _literal(w) else None
        values = sorted({t.value for t in seen[0]}) if seen is not None else []
        if values != [first.value]:
            differ.append(f"{other.where()} passes `{w}`" + (f" (`{values[0]}`)" if len(values) == 1 else ""))
    if differ:
        note += f"; {len(differ)} other launch line(s) run it with another model ({', '.join(differ[:3])}): goblin reads the first found (closest folder first)"
    return Dispatched(first.value, first.line, note), None


def _literal(word: str) -> bool:
    return bool(word) and not any(ch in word for ch in "$*?[`")
