"""OmegaConf interpolations in a torchtune YAML, resolved as data against the same file.

torchtune loads its config with OmegaConf and resolves every interpolation before it builds a component
(torchtune/config/_instantiate.py:104 @v0.2.1, `OmegaConf.resolve(config)`); a recipe reading `cfg.x` resolves
it on access too. So `packed: ${packed}` is the top-level `packed`, not the string (review5 #7: an item ERROR
"expected true or false, got '${packed}'").

What is resolved (OmegaConf 2.3 grammar, omegaconf/grammar/OmegaConfGrammarParser.g4): a node interpolation
`${a.b}` (absolute, from the file's root) or `${.a}` / `${..a}` (relative: one dot is the node holding the key,
each further dot its parent), whose value keeps its type; a string with interpolations inside (`out_${name}`),
whose value is a string; OmegaConf's `oc.env` resolver (`${oc.env:VAR}`, `${oc.env:VAR,default}`, also inside a
string), whose value is the variable's in the environment the launcher gives the process (`env`: the exports goblin
read before the launch line, formats/launch_env), else its default, as text (omegaconf/resolvers/oc/__init__.py:22-38
@v2.3.0: `os.environ[key]`, else `str(default)`, a null default None). A result that YAML would read as a number or a
boolean stays unresolved, said: OmegaConf hands the recipe the text `"4"`, not 4. Any other resolver call, a key
the file does not hold, or a variable the launcher sets to a value goblin cannot read is left unresolved: the value is
unknown, said in a note with the reason, never an error. Nothing is executed.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..redact import is_secret_name

_WHOLE = re.compile(r"^\$\{\s*(\.*)([A-Za-z_][\w\-]*(?:\.[\w\-]+)*)?\s*\}$")
_INNER = re.compile(r"(?<!\\)\$\{([^{}]*)\}")
_MAX_DEPTH = 16  # a chain longer than this (or a cycle) is left unresolved
# `oc.env:VAR[,default]` (the text between `${` and `}`): the key an ID, the default one quoted string or an unquoted
# primitive of the grammar's plain characters (OmegaConfGrammarLexer.g4:68-72@v2.3.0; `$` and `\` left out)
ENV_AT = "omegaconf/resolvers/oc/__init__.py:22-38@v2.3.0"
_ENV = re.compile(r"""^\s*oc\.env\s*:\s*([A-Za-z_][\w\-]*)\s*(?:,([A-Za-z0-9_\-/+.%*@?|: \t]*|\s*'[^'$\\]*'\s*|\s*"[^"$\\]*"\s*))?$""")
# what the grammar reads as a number, a boolean or null (OmegaConfGrammarLexer.g4:55-66@v2.3.0), and YAML 1.2 as a number or boolean
_TYPED = re.compile(r"^[+-]?(?:\d[\d_]*(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|inf|nan|true|false|null)$", re.IGNORECASE)


class _Unresolved(Exception):
    def __init__(self, reason: str = "") -> None:
        super().__init__(reason)
        self.reason = reason


_UNKNOWN = object()  # a key left unresolved, while the walk runs: what refers to it is unresolved too


def _lookup(root: Any, parents: list[Any], dots: str, path: str | None) -> Any:
    if dots:
        # `${.a}`: the container holding the key; each further dot one level up
        up = len(dots) - 1
        if up >= len(parents):
            raise _Unresolved
        node = parents[len(parents) - 1 - up]
    else:
        node = root
    for part in (path or "").split(".") if path else []:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise _Unresolved
    if node is _UNKNOWN:
        raise _Unresolved("it refers to a key whose value goblin does not know")
    return node


# `key=value` words merged over the file before it is resolved (torchtune/config/_utils.py:176-193@v0.6.1:
# OmegaConf.from_dotlist reads each value as YAML; "None" is null there); a value read as another YAML type is not
# guessed (OmegaConf's loader keeps YAML 1.1's yes/no/on/off booleans)
_CLI_INT = re.compile(r"^[+-]?\d+$")
_CLI_FLOAT = re.compile(r"^[+-]?(?:\d+\.\d*|\.\d+)(?:[eE][+-]?\d+)?$|^[+-]?\d+[eE][+-]?\d+$")
_CLI_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_CLI_OTHER = re.compile(r"^(?:yes|no|on|off|y|n|~|null|\.inf|\.nan|[-+]?\.inf|0x[0-9a-f]+|0o?[0-7]+)$", re.IGNORECASE)


def _cli_value(raw: str) -> Any:
    """A launch word's value as OmegaConf.from_dotlist reads it, or _UNKNOWN where goblin does not guess."""
    if raw == "None":
        return None
    if _CLI_INT.match(raw) and not (len(raw.lstrip("+-")) > 1 and raw.lstrip("+-").startswith("0")):
        return int(raw)
    if _CLI_FLOAT.match(raw):
        return float(raw)
    if raw in _CLI_BOOL:
        return _CLI_BOOL[raw]
    if _CLI_OTHER.match(raw) or raw[:1] in ("[", "{", "'", '"', "!", "&", "*"):
        return _UNKNOWN
    return raw


def _yaml_text(value: Any) -> str:
    """A merged value as the YAML would write it (null, true), never Python's None."""
    return "null" if value is None else ("true" if value else "false") if isinstance(value, bool) else repr(value) if isinstance(value, str) else str(value)


def _referenced(data: Any) -> set[str]:
    """The absolute `${a.b}` paths the file's strings refer to."""
    found: set[str] = set()
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str) and "${" in node:
            for m in _INNER.finditer(node):
                whole = _WHOLE.match("${" + m.group(1) + "}")
                if whole is not None and not whole.group(1) and whole.group(2):
                    found.add(whole.group(2))
    return found


def _merge_words(out: Any, words: Sequence[tuple[str, str | None, str]], said: list[str]) -> None:
    """Set each launch word (dotted key, raw value or None where it is set at run time, how it was given) that an
    interpolation of the file refers to, as torchtune merges the line over the YAML before it resolves."""
    refs = _referenced(out)
    for key, raw, how in words:
        if key not in refs:
            continue
        parts = key.split(".")
        node = out
        for part in parts[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if not isinstance(node, dict):
            continue
        value = _cli_value(raw) if raw is not None else _UNKNOWN
        node[parts[-1]] = value
        if value is _UNKNOWN:
            said.append(
                f"{how} is merged over the file before torchtune resolves `${{{key}}}` (torchtune/config/_utils.py:193@v0.6.1), with a value goblin does not read"
            )
        else:
            said.append(
                f"{how} is merged over the file before torchtune resolves its interpolations (torchtune/config/_utils.py:193@v0.6.1, config/_instantiate.py:110@v0.6.1): `${{{key}}}` reads {_yaml_text(value)}"
            )


def _env(inner: str, env: Mapping[str, str | None] | None, defaulted: list[str]) -> str | None:
    """The text `${oc.env:VAR,default}` gives (`inner` is what stands between `${` and `}`), or _Unresolved."""
    m = _ENV.match(inner)
    if m is None:
        raise _Unresolved("a resolver goblin does not evaluate" if ":" in inner else "a key the file does not hold")
    name, default = m.group(1), m.group(2)
    if env is None:
        raise _Unresolved(f"oc.env reads {name} from the environment the run starts with, which goblin does not read for this file")
    if name in env and is_secret_name(name):
        raise _Unresolved(f"{name} names a secret, whose value goblin does not carry into the config")
    if name in env:
        got = env[name]
        if got is None:
            raise _Unresolved(f"the launcher sets {name} to a value goblin cannot read")
        return got
    if default is None:
        raise _Unresolved(f"the launcher goblin read does not set {name}, and no default is given (OmegaConf raises where it is unset, {ENV_AT})")
    text = default.strip()
    if text[:1] in ("'", '"'):
        return text[1:-1]
    if text.lower() == "null":
        return None  # `str(default) if default is not None else None`
    if not text:
        raise _Unresolved("an empty default")
    if _TYPED.match(text):
        raise _Unresolved(f"oc.env hands its default {text} over as the text {text!r}, not a number or boolean ({ENV_AT})")
    defaulted.append(name)
    return text


def _value(root: Any, parents: list[Any], value: Any, depth: int, env: Mapping[str, str | None] | None, defaulted: list[str]) -> Any:
    if not isinstance(value, str) or "${" not in value:
        return value
    if depth > _MAX_DEPTH:
        raise _Unresolved("a chain of interpolations too long, or a cycle")
    whole = _WHOLE.match(value)
    if whole is not None:
        target = _lookup(root, parents, whole.group(1), whole.group(2))
        if isinstance(target, dict | list):
            raise _Unresolved("a whole mapping or list, not one value")
        return _value(root, [], target, depth + 1, env, defaulted)  # a relative reference in the target is not resolved from here
    if _INNER.fullmatch(value) is not None:
        got_env = _env(value[2:-1], env, defaulted)
        if got_env is not None and _TYPED.match(got_env.strip()):
            raise _Unresolved(f"oc.env gives the text {got_env!r}, not a number or boolean ({ENV_AT})")
        return got_env

    if "${" in _INNER.sub("", value).replace("\\${", ""):
        raise _Unresolved("an interpolation nested in another")  # `${oc.decode:${oc.env:B}}`: not read inside out

    def one(m: re.Match[str]) -> str:
        inner = _WHOLE.match("${" + m.group(1) + "}")
        if inner is None:
            got_env = _env(m.group(1), env, defaulted)  # a resolver call: oc.env only
            if got_env is None:
                raise _Unresolved("a null default inside a string")
            return got_env
        got = _value(root, [], _lookup(root, parents, inner.group(1), inner.group(2)), depth + 1, env, defaulted)
        if isinstance(got, dict | list):
            raise _Unresolved("a whole mapping or list, not one value")
        return str(got)

    return _INNER.sub(one, value)


def resolve(
    data: Any,
    env: Mapping[str, str | None] | None = None,
    words: Sequence[tuple[str, str | None, str]] = (),
    unknown: list[tuple[Any, ...]] | None = None,
) -> tuple[Any, list[str]]:
    """A copy of `data` with its interpolations resolved (line numbers kept), and one sentence per key whose
    interpolation goblin left unresolved (its value then reads as not set). `env`: the variables the launcher sets for
    the process (a value None: set to one goblin cannot read), for `oc.env`; `env` None: the environment was not read,
    so no `oc.env` is resolved; `words`: the launch line's `key=value` words merged over the file before it is resolved
    (key, raw value or None where set at run time, how it was given); `unknown`, where given, gets the key path of
    every value left unresolved."""
    out = copy.deepcopy(data)
    unresolved: list[str] = []
    _merge_words(out, words, unresolved)

    def walk(node: Any, parents: list[Any], prefix: str, path: tuple[Any, ...]) -> None:
        items = list(node.items()) if isinstance(node, dict) else list(enumerate(node)) if isinstance(node, list) else []
        for key, value in items:
            where = f"{prefix}{key}"
            if isinstance(value, dict | list):
                walk(value, [*parents, node], f"{where}.", (*path, key))
                continue
            if not isinstance(value, str) or "${" not in value:
                continue
            try:
                defaulted: list[str] = []
                node[key] = _value(out, [*parents, node], value, 0, env, defaulted)
                if defaulted:
                    names = ", ".join(dict.fromkeys(defaulted))
                    unresolved.append(
                        f"`{where}: {value}` read as {_yaml_text(node[key])}: oc.env's default, as the launcher goblin read does not set {names} "
                        f"({ENV_AT}); a value of {names} in the environment the run starts with would replace it"
                    )
            except _Unresolved as e:
                node[key] = _UNKNOWN
                if unknown is not None:
                    unknown.append((*path, key))
                why = e.reason or "a key the file does not hold"
                unresolved.append(
                    f"`{where}: {value}` is an OmegaConf interpolation goblin does not resolve from this file ({why}); "
                    "its value is unknown, so goblin read the key as not set"
                )

    def unmark(node: Any) -> None:
        for key, value in list(node.items()) if isinstance(node, dict) else list(enumerate(node)) if isinstance(node, list) else []:
            if value is _UNKNOWN:
                node[key] = None
            else:
                unmark(value)

    walk(out, [], "", ())
    unmark(out)
    return out, unresolved
