"""OmegaConf interpolations in a torchtune YAML, resolved as data against the same file.

torchtune loads its config with OmegaConf and resolves every interpolation before it builds a component
(torchtune/config/_instantiate.py:104 @v0.2.1, `OmegaConf.resolve(config)`); a recipe reading `cfg.x` resolves
it on access too. So `packed: ${packed}` is the top-level `packed`, not the string (review5 #7: an item ERROR
"expected true or false, got '${packed}'").

What is resolved (OmegaConf 2.3 grammar, omegaconf/grammar/OmegaConfGrammarParser.g4): a node interpolation
`${a.b}` (absolute, from the file's root) or `${.a}` / `${..a}` (relative: one dot is the node holding the key,
each further dot its parent), whose value keeps its type; a string with interpolations inside (`out_${name}`),
whose value is a string. A resolver call (`${oc.env:HOME}`, anything with a colon) or a key the file does not
hold is left unresolved: the value is unknown, said in a note, never an error. Nothing is executed.
"""

from __future__ import annotations

import copy
import re
from typing import Any

_WHOLE = re.compile(r"^\$\{\s*(\.*)([A-Za-z_][\w\-]*(?:\.[\w\-]+)*)?\s*\}$")
_INNER = re.compile(r"(?<!\\)\$\{([^{}]*)\}")
_MAX_DEPTH = 16  # a chain longer than this (or a cycle) is left unresolved


class _Unresolved(Exception):
    pass


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
        raise _Unresolved
    return node


def _value(root: Any, parents: list[Any], value: Any, depth: int) -> Any:
    if not isinstance(value, str) or "${" not in value:
        return value
    if depth > _MAX_DEPTH:
        raise _Unresolved
    whole = _WHOLE.match(value)
    if whole is not None:
        target = _lookup(root, parents, whole.group(1), whole.group(2))
        if isinstance(target, dict | list):
            raise _Unresolved  # a whole node: nothing goblin reads as one value
        return _value(root, [], target, depth + 1)  # a relative reference in the target is not resolved from here

    def one(m: re.Match[str]) -> str:
        inner = _WHOLE.match("${" + m.group(1) + "}")
        if inner is None:
            raise _Unresolved  # a resolver call or a nested interpolation
        got = _value(root, [], _lookup(root, parents, inner.group(1), inner.group(2)), depth + 1)
        if isinstance(got, dict | list):
            raise _Unresolved
        return str(got)

    return _INNER.sub(one, value)


def resolve(data: Any) -> tuple[Any, list[str]]:
    """A copy of `data` with its interpolations resolved (line numbers kept), and one sentence per key whose
    interpolation goblin left unresolved (its value then reads as not set)."""
    out = copy.deepcopy(data)
    unresolved: list[str] = []

    def walk(node: Any, parents: list[Any], prefix: str) -> None:
        items = list(node.items()) if isinstance(node, dict) else list(enumerate(node)) if isinstance(node, list) else []
        for key, value in items:
            where = f"{prefix}{key}"
            if isinstance(value, dict | list):
                walk(value, [*parents, node], f"{where}.")
                continue
            if not isinstance(value, str) or "${" not in value:
                continue
            try:
                node[key] = _value(out, [*parents, node], value, 0)
            except _Unresolved:
                node[key] = _UNKNOWN
                unresolved.append(
                    f"`{where}: {value}` is an OmegaConf interpolation goblin does not resolve from this file (a resolver such as "
                    "oc.env, or a key the file does not hold); its value is unknown, so goblin read the key as not set"
                )

    def unmark(node: Any) -> None:
        for key, value in list(node.items()) if isinstance(node, dict) else list(enumerate(node)) if isinstance(node, list) else []:
            if value is _UNKNOWN:
                node[key] = None
            else:
                unmark(value)

    walk(out, [], "")
    unmark(out)
    return out, unresolved
