"""A training script's command-line arguments, read with `ast` (never run): argparse options and
the dataclass fields HfArgumentParser / TrlParser turn into options, with the values a launch line
of the repository passes to them.

The semantics each follows, from the source:
- argparse (CPython 3.11.7 Lib/argparse.py): `store_true` defaults to False and stores True
  (:982-996), `store_false` defaults to True and stores False (:999-1013); the destination is the
  first long option with `-` read as `_` unless `dest=` says otherwise (:1560-1589); a string
  default is converted by `type=` like a command-line value (:2128-2139), a non-string default is
  used as written; a passed value goes through `type=` (:2521-2545) and must be one of `choices`
  (:2547-2553, the default is not checked); `type=bool` is Python's bool(): any non-empty string,
  "False" included, is True.
- HfArgumentParser (transformers 4.36.2 hf_argparser.py:140, 190-229; 5.25.0 :150-153, 203-248):
  every dataclass field is `--name` (5.x also `--name-with-dashes`); a bool field is parsed by
  `string_to_bool` (yes/true/t/y/1, no/false/f/n/0; 4.36.2 :34-45), `--flag` alone means True, and
  a bool field whose default is True also gets `--no_name` storing False.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Any

ARGPARSE_AT = "CPython 3.11.7 Lib/argparse.py"
HF_ARGPARSER_AT = "transformers 4.36.2 hf_argparser.py:34-45, 190-229 (5.25.0 :36-47, 203-248)"
# HfArgumentParser and its subclasses that parse the command line as it does: TRL's TrlParser and the
# alignment handbook's H4ArgumentParser (src/alignment/configs.py:33@227deaa: `class H4ArgumentParser(HfArgumentParser)`)
HF_PARSERS = ("HfArgumentParser", "TrlParser", "H4ArgumentParser")
# the words transformers' string_to_bool reads as True / False (hf_argparser.py:34-45@4.36.2, :35-44@4.52.3)
TRUE_WORDS = frozenset({"yes", "true", "t", "y", "1"})
FALSE_WORDS = frozenset({"no", "false", "f", "n", "0"})


def word_value(raw: str) -> Any:
    """A launch word as the argument class reads it: a bool, an int, a float, else the string."""
    low = raw.lower()
    if low in TRUE_WORDS - {"1"} or low in FALSE_WORDS - {"0"}:
        return low in TRUE_WORDS
    for kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            continue
    return raw


@dataclass
class Arg:
    """One option: its destination, default and how a passed value becomes the attribute."""

    dest: str
    flags: tuple[str, ...]  # option strings as declared (`--batch_size`, `-b`)
    line: int  # the add_argument call / the field's line
    default: Any = None
    has_default: bool = False
    default_node: ast.expr | None = None  # the literal to edit for a new default; None: not a literal
    action: str | None = None  # store_true, store_false, store_const, BooleanOptionalAction, ...
    const: Any = None
    type_name: str | None = None  # int, float, str, bool, string_to_bool, or another callable's name
    choices: tuple[Any, ...] | None = None
    origin: str = "argparse"  # argparse | dataclass
    negated_by: tuple[str, ...] = ()  # `--no_flag` (HfArgumentParser) / `--no-flag` (BooleanOptionalAction)
    file: str | None = None  # the repository file of an imported argument class (real path); None: the script itself
    shown: str | None = None  # that file relative to the repository root


def _kw(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _type_name(node: ast.expr | None) -> str | None:
    if node is None:
        return None
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return "a lambda" if isinstance(node, ast.Lambda) else "an expression"


def convert(arg: Arg, raw: str) -> tuple[bool, Any, str | None]:
    """(ok, value, why not) for a string as argparse / HfArgumentParser would turn it into the attribute."""
    t = arg.type_name
    try:
        if t in (None, "str"):
            return True, raw, None
        if t == "int":
            return True, int(raw), None
        if t == "float":
            return True, float(raw), None
        if t == "bool":  # Python's bool(): a non-empty string is True, "False" included
            return True, bool(raw), None
        if t == "string_to_bool":
            low = raw.lower()
            if low in TRUE_WORDS or low in FALSE_WORDS:
                return True, low in TRUE_WORDS, None
            return False, None, f"{raw!r} is not a truth value HfArgumentParser accepts ({HF_ARGPARSER_AT})"
    except ValueError:
        return False, None, f"{raw!r} is not a valid {t}: argparse stops with an error"
    return False, None, f"converted by `{t}` in the script (not run)"


def _literal(node: ast.expr | None, consts: dict[str, tuple[Any, ast.expr]]) -> tuple[bool, Any, ast.expr | None]:
    if node is None:
        return False, None, None
    if isinstance(node, ast.Name) and node.id in consts:
        value, where = consts[node.id]
        return True, value, where
    try:
        return True, ast.literal_eval(node), node
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False, None, node


def argparse_options(tree: ast.Module, consts: dict[str, tuple[Any, ast.expr]]) -> dict[str, Arg]:
    """dest -> Arg for every `X.add_argument("--name", ...)` call with an option string (first one wins)."""
    out: dict[str, Arg] = {}
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "add_argument"):
            continue
        flags = tuple(a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str))
        if not flags or not all(f.startswith("-") for f in flags):
            continue  # a positional argument: not passed by name
        ok_d, dest, _ = _literal(_kw(node, "dest"), consts)
        if not (ok_d and isinstance(dest, str)):
            longs = [f for f in flags if f.startswith("--")]
            dest = (longs[0] if longs else flags[0]).lstrip("-").replace("-", "_")
        ok_a, action, _ = _literal(_kw(node, "action"), consts)
        action_node = _kw(node, "action")
        if not ok_a:
            action = _type_name(action_node)  # argparse.BooleanOptionalAction
        arg = Arg(dest=dest, flags=flags, line=node.lineno, action=action if isinstance(action, str) else None)
        arg.type_name = _type_name(_kw(node, "type"))
        ok_c, choices, _ = _literal(_kw(node, "choices"), consts)
        if ok_c and isinstance(choices, (list, tuple, set)):
            arg.choices = tuple(choices)
        d_node = _kw(node, "default")
        if d_node is not None:
            ok, value, where = _literal(d_node, consts)
            if ok:
                arg.default, arg.has_default, arg.default_node = value, True, where
        elif arg.action in ("store_true", "store_false"):
            arg.default, arg.has_default = arg.action == "store_false", True
        elif arg.action in (None, "store", "store_const", "BooleanOptionalAction"):
            arg.default, arg.has_default = None, True  # argparse's default default is None
        if arg.action == "store_true":
            arg.const = True
        elif arg.action == "store_false":
            arg.const = False
        elif arg.action == "store_const":
            _ok, arg.const, _ = _literal(_kw(node, "const"), consts)
        elif arg.action == "BooleanOptionalAction":
            arg.negated_by = tuple("--no-" + f[2:] for f in flags if f.startswith("--"))
        if arg.has_default and isinstance(arg.default, str) and arg.type_name not in (None, "str"):
            ok_t, value, _why = convert(arg, arg.default)  # a string default goes through type= (argparse.py:2128-2139)
            if ok_t:
                arg.default = value
            else:
                arg.has_default = False
        out.setdefault(dest, arg)
    return out


@dataclass
class Dataclass:
    name: str
    bases: tuple[str, ...]
    fields: dict[str, Arg] = field(default_factory=dict)


def _annotation(node: ast.expr | None) -> str | None:
    """int / float / str / bool from `int`, `Optional[int]`, `int | None`, `Literal[...]` (-> str)."""
    if node is None:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):  # a string annotation
        try:
            node = ast.parse(node.value, mode="eval").body
        except SyntaxError:
            return None
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Subscript) and _type_name(node.value) == "Optional":
        return _annotation(node.slice)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        for side in (node.left, node.right):
            if not (isinstance(side, ast.Constant) and side.value is None):
                return _annotation(side)
    return None


def dataclasses_of(tree: ast.Module, consts: dict[str, tuple[Any, ast.expr]]) -> dict[str, Dataclass]:
    """`@dataclass class X(Base): name: int = field(default=4)` / `= 4`: every class with annotated fields."""
    out: dict[str, Dataclass] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.ClassDef):
            continue
        dc = Dataclass(node.name, tuple(b for b in (_type_name(x) for x in node.bases) if b))
        for stmt in node.body:
            if not (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)):
                continue
            t = _annotation(stmt.annotation)
            arg = Arg(dest=stmt.target.id, flags=(f"--{stmt.target.id}",), line=stmt.lineno, origin="dataclass")
            arg.type_name = "string_to_bool" if t == "bool" else t if t in ("int", "float", "str") else None
            value_node = stmt.value
            if isinstance(value_node, ast.Call) and _type_name(value_node.func) == "field":
                value_node = _kw(value_node, "default")
            if value_node is not None:
                ok, value, where = _literal(value_node, consts)
                if ok:
                    arg.default, arg.has_default, arg.default_node = value, True, where
            elif t == "bool":  # no default on a bool field: False (hf_argparser 4.36.2 :197-200)
                arg.default, arg.has_default = False, True
            if t == "bool" and arg.default is True:
                arg.negated_by = (f"--no_{arg.dest}", f"--no-{arg.dest.replace('_', '-')}")
            dc.fields[arg.dest] = arg
        if dc.fields:
            out[node.name] = dc
    return out


def hf_parser_classes(tree: ast.Module) -> tuple[ast.Call | None, list[str]]:
    """The first `HfArgumentParser(...)` / `TrlParser(...)` / `H4ArgumentParser(...)` call and the class names it is given:
    a tuple or list written in the call, or bound to the name the call is given by that name's one assignment in the
    function around the call, else at module level (`dataclass_types = (ScriptArguments, DPOConfig, ModelConfig)` then
    `TrlParser(dataclass_types)`, blind review 15b #30 kaiwo dpo.py:120,124)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _type_name(node.func) in HF_PARSERS:
            first = node.args[0] if node.args else _kw(node, "dataclass_types")
            if isinstance(first, ast.Name):
                first = _bound_sequence(first.id, _scope_of(node, tree), tree) or first
            items = first.elts if isinstance(first, (ast.Tuple, ast.List)) else [first] if first is not None else []
            return node, [n for n in (_type_name(i) for i in items) if n and n not in ("a lambda", "an expression")]
    return None, []


Scope = ast.Module | ast.FunctionDef | ast.AsyncFunctionDef


def _scope_of(node: ast.AST, tree: ast.Module) -> Scope:
    """The innermost function whose body holds `node`, else the module."""
    inner: Scope = tree
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) and node in _own_nodes(fn):
            inner = fn
    return inner


def _own_nodes(scope: Scope) -> list[ast.AST]:
    """The nodes of a scope's body, not those of the functions nested in it (each is its own scope)."""
    out: list[ast.AST] = []
    todo: list[ast.AST] = list(scope.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        out.append(node)
        todo.extend(ast.iter_child_nodes(node))
    return out


def _bound_sequence(name: str, scope: Scope, tree: ast.Module) -> ast.Tuple | ast.List | None:
    """The tuple or list of class names `name` is bound to by its one assignment in `scope`, else (not assigned there) at
    module level; None where it is assigned more than once, to anything else, or not at all (then it names a class), or
    is a parameter of the function (the caller's value)."""
    if not isinstance(scope, ast.Module) and name in {a.arg for a in (*scope.args.posonlyargs, *scope.args.args, *scope.args.kwonlyargs)}:
        return None
    for where in (scope, tree) if scope is not tree else (tree,):
        bound = [
            n.value
            for n in _own_nodes(where)
            if isinstance(n, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr))
            and any(isinstance(t, ast.Name) and t.id == name for t in (n.targets if isinstance(n, ast.Assign) else [n.target]))
        ]
        if not bound:
            continue
        one = bound[0]
        if len(bound) == 1 and isinstance(one, (ast.Tuple, ast.List)) and all(isinstance(e, (ast.Name, ast.Attribute)) for e in one.elts):
            return one
        return None
    return None


# ------------------------------------------------------------------ launcher arguments
@dataclass(frozen=True)
class Passed:
    """A `--flag [value]` a launch line passes to the script."""

    flag: str  # as written, without the value (`--per_device_train_batch_size`)
    value: str | None  # None: the flag alone
    line: int  # the launcher's physical line


_STOP = re.compile(r"^(\||\|\||&&|&|;|>|>>|<|\d?>.*|&>.*|2>&1)$")


def read_words(tokens: tuple[str, ...]) -> tuple[list[tuple[str, str | None]], list[str]]:
    """The words after the script name, up to a shell operator: (`--k v` / `--k=v` / `--flag` flags, the loose words
    that are neither a flag nor a flag's value: `{bf16_flag}` after `--lr 5e-6`, a variable that may hold more flags)."""
    flags: list[tuple[str, str | None]] = []
    loose: list[str] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if _STOP.match(tok):
            break
        if tok.startswith("-") and not _number(tok):
            name, eq, value = tok.partition("=")
            if eq:
                flags.append((name, value))
            elif i + 1 < len(tokens) and (not tokens[i + 1].startswith("-") or _number(tokens[i + 1])) and not _STOP.match(tokens[i + 1]):
                flags.append((name, tokens[i + 1]))
                i += 1
            else:
                flags.append((name, None))
        else:
            loose.append(tok)
        i += 1
    return flags, loose


def passed_flags(tokens: tuple[str, ...]) -> list[tuple[str, str | None]]:
    """`--k v` / `--k=v` / `--flag` words after the script name, up to a shell operator."""
    return read_words(tokens)[0]


def flag_lists(tokens: tuple[str, ...]) -> dict[str, list[str]]:
    """`--k v1 v2 ...`: the flags followed by two or more words before the next `-` word or a shell operator, with
    those words (`--lora_target_modules q_proj k_proj v_proj`); passed_flags reads only the first. An
    HfArgumentParser field of a list type takes `nargs="+"` (transformers 5.25.0 hf_argparser.py:220-222)."""
    out: dict[str, list[str]] = {}
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if _STOP.match(tok):
            break
        i += 1
        if not tok.startswith("-") or _number(tok) or "=" in tok:
            continue
        words: list[str] = []
        while i < len(tokens) and (not tokens[i].startswith("-") or _number(tokens[i])) and not _STOP.match(tokens[i]):
            words.append(tokens[i])
            i += 1
        if len(words) >= 2:
            out.setdefault(tok, words)
    return out


def _number(tok: str) -> bool:
    return re.fullmatch(r"-\d+(\.\d*)?(e-?\d+)?", tok) is not None


def unresolved(value: str | None) -> bool:
    """A shell variable the launcher's own assignments do not give (`$BS`, `${LR}`, `$(...)`)."""
    return value is not None and "$" in value
