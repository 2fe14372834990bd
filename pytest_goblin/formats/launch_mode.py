"""A launch line that sends a Python script down another code path than its training run, read with ast (nothing
imported or run): a `store_true` option whose `if args.X:` branch returns or exits before the script's `.train()` call
(`--preprocess`), or a subcommand word whose handler calls no `.train()` (`main.py eval`).

Where several lines launch the same script, such a line loses to one that reaches the training call
(`launch_demote.demotion`, `launchers._plain_over_demoted`, `launchers._script_lines`; blind review 15b #21, proofrl
scripts/dft_preprocess_qwen3_8b.sh `main.py train --preprocess`: main.py:666-668 returns before the GRPOTrainer's
`.train()` at :687, and scripts/eval_ds3.1.sh `main.py eval`, whose handler trains nothing).
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass
from pathlib import Path

from ..pysource import parse as parse_source
from ..repoindex import memo
from ..safepath import UnsafePath, read_text
from .launch_walk import config_tree

MAX_SCRIPT_BYTES = 2_000_000  # as formats/launch_trains.py reads a launched script
_EXITS = frozenset({"exit", "quit", "_exit"})  # sys.exit(), exit(), quit(), os._exit()


@dataclass(frozen=True)
class Modes:
    """What a script's command line selects: option string -> (the `if` test as written, its line, the `.train()` call's
    line it returns before); subcommand word -> its handler's name, for a handler that calls no `.train()`."""

    flags: dict[str, tuple[str, int, int]]
    words: dict[str, str]


def script_modes(path: str | Path) -> Modes:
    """The script's non-training modes (empty where it cannot be read or parsed). Read once per session (repoindex)."""
    absolute = Path(os.path.abspath(path))
    return memo("launch_mode.script_modes", str(absolute), lambda: _script_modes(absolute))


def _script_modes(absolute: Path) -> Modes:
    roots, _root, _how = config_tree(absolute)
    try:
        tree = parse_source(read_text(absolute, roots=roots, limit=MAX_SCRIPT_BYTES))
    except (UnsafePath, OSError, UnicodeDecodeError, SyntaxError, ValueError, RecursionError):
        return Modes({}, {})
    return Modes(_flag_branches(tree), _idle_subcommands(tree))


def _text(node: ast.AST | None) -> str:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else ""


def _store_true(tree: ast.Module) -> dict[str, list[str]]:
    """dest -> option strings of every `add_argument("--x", action="store_true")`."""
    out: dict[str, list[str]] = {}
    for n in ast.walk(tree):
        if not (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "add_argument"):
            continue
        kw = {k.arg: k.value for k in n.keywords if k.arg}
        if _text(kw.get("action")) != "store_true":
            continue
        opts = [s for a in n.args if (s := _text(a)).startswith("-")]
        longs = [o for o in opts if o.startswith("--")]
        dest = _text(kw.get("dest")) or (longs[0][2:] if longs else opts[0][1:] if opts else "").replace("-", "_")
        if dest and opts:
            out.setdefault(dest, []).extend(opts)
    return out


def _leaves(stmt: ast.stmt) -> bool:
    """The statement ends the function or the process: `return`, `sys.exit(...)`/`exit()`/`quit()`, `raise SystemExit`."""
    if isinstance(stmt, ast.Return):
        return True
    if isinstance(stmt, ast.Raise):
        exc = stmt.exc.func if isinstance(stmt.exc, ast.Call) else stmt.exc
        return isinstance(exc, ast.Name) and exc.id == "SystemExit"
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        f = stmt.value.func
        return (isinstance(f, ast.Name) and f.id in _EXITS) or (isinstance(f, ast.Attribute) and f.attr in _EXITS)
    return False


def _train_call(stmts: list[ast.stmt]) -> int | None:
    """The line of the first `.train()` call in these statements."""
    lines = [n.lineno for s in stmts for n in ast.walk(s) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "train"]
    return min(lines) if lines else None


def _flag_branches(tree: ast.Module) -> dict[str, tuple[str, int, int]]:
    options = _store_true(tree)
    out: dict[str, tuple[str, int, int]] = {}
    if not options:
        return out
    for node in ast.walk(tree):
        for name in ("body", "orelse", "finalbody"):
            stmts = getattr(node, name, None)
            if not isinstance(stmts, list):
                continue
            for i, s in enumerate(stmts):
                if not (isinstance(s, ast.If) and isinstance(s.test, ast.Attribute) and s.test.attr in options and s.body):
                    continue
                if not _leaves(s.body[-1]):
                    continue
                at = _train_call(stmts[i + 1 :])
                if at is None:
                    continue
                for opt in options[s.test.attr]:
                    out.setdefault(opt, (ast.unparse(s.test), s.lineno, at))
    return out


def _idle_subcommands(tree: ast.Module) -> dict[str, str]:
    """Subcommand word -> handler, for `p = subs.add_parser("eval")` + `p.set_defaults(handler=fn)` where the module's
    `def fn` calls no `.train()`, and another subcommand's handler does."""
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    parsers: dict[str, str] = {}  # variable -> subcommand word
    for n in ast.walk(tree):
        if isinstance(n, ast.Assign) and isinstance(n.value, ast.Call) and isinstance(n.value.func, ast.Attribute):
            if n.value.func.attr == "add_parser" and n.value.args and (word := _text(n.value.args[0])):
                for t in n.targets:
                    if isinstance(t, ast.Name):
                        parsers[t.id] = word
    handlers: dict[str, str] = {}  # word -> handler function
    for n in ast.walk(tree):
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "set_defaults":
            owner = n.func.value
            named = parsers.get(owner.id) if isinstance(owner, ast.Name) else None
            fn = next((k.value.id for k in n.keywords if k.arg in ("handler", "func") and isinstance(k.value, ast.Name)), None)
            if named and fn is not None and fn in functions:
                handlers[named] = fn
    trains = {w: _train_call(functions[fn].body) is not None for w, fn in handlers.items()}
    if not any(trains.values()):
        return {}
    return {w: handlers[w] for w, t in trains.items() if not t}


def mode_demotion(tokens: tuple[str, ...], script: str) -> str:
    """Why a line that runs `script` takes another code path than its training run ("" where it does not): the first
    non-training flag or subcommand word among the words after the script's name."""
    if not script.endswith(".py"):
        return ""
    name = Path(script).name
    at = next((i for i, t in enumerate(tokens) if t.endswith(".py") and Path(t).name == name), None)
    if at is None:
        return ""
    modes = script_modes(script)
    if not modes.flags and not modes.words:
        return ""
    after = tokens[at + 1 :]
    first = next((t for t in after if not t.startswith("-")), "") if after and not after[0].startswith("-") else ""
    if first in modes.words:
        return f"runs {name} `{first}`, whose handler {modes.words[first]}() calls no `.train()` (read with ast): another code path than the training run"
    for word in after:
        if word in modes.flags:
            test, line, train = modes.flags[word]
            return (
                f"passes `{word}`, which takes {name}'s `if {test}:` branch (line {line}) that returns before the `.train()` call at line "
                f"{train} (read with ast): another code path than the training run"
            )
    return ""
