"""Round-trip YAML with line numbers, and nothing executed.

ruamel.yaml's round-trip loader keeps comments and key order (so a patch is a small diff
of the user's own file) and never constructs Python objects from tags.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from .errors import ConfigError

MAX_CONFIG_BYTES = 2_000_000  # a training config is a few KB; anything larger is not one


def _yaml() -> YAML:
    y = YAML(typ="rt", pure=True)
    y.preserve_quotes = True
    y.allow_duplicate_keys = False
    y.width = 4096
    return y


def read_text(path: Path) -> str:
    from .safepath import UnsafePath, read_bytes

    try:
        raw = read_bytes(path, limit=MAX_CONFIG_BYTES)
    except UnsafePath as exc:
        hint = "training configs are small; exclude this file from the goblin paths" if "limit" in exc.reason else None
        raise ConfigError(str(path), exc.reason if "limit" not in exc.reason else exc.reason + " for a config", hint=hint) from None
    try:
        # One line ending for every reader: ruamel counts a lone CR as a line break and
        # str.split("\n") does not, so CR-only files misplaced every edit (D26). --goblin-fix
        # writes the file's own ending back.
        return raw.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(str(path), "file is not valid UTF-8", line=line, hint="save the file as UTF-8") from None


MAX_EXPANDED_NODES = 1_000_000  # what aliases may expand to; a billion-laughs file expands to billions
# The largest of ~270 real configs in tests/data/reference_corpus has 227 lines; 130,000 keys took
# 28 s to audit (D29). Checked before parsing, so such a file costs milliseconds.
MAX_CONFIG_LINES = 5_000
MAX_SEPARATORS = 50_000  # `,` and `:` in a one-line flow mapping with as many keys
_PYTHON_TAG = re.compile(r"!!?python/|tag:yaml\.org,2002:python/")


def expanded_size(data: Any, limit: int = MAX_EXPANDED_NODES) -> int:
    """Nodes the document would have with every alias expanded (memoized, so cheap to count)."""
    memo: dict[int, int] = {}

    def size(node: Any, depth: int) -> int:
        if not isinstance(node, (dict, list)):
            return 1
        if id(node) in memo:
            return memo[id(node)]
        children = node.values() if isinstance(node, dict) else node
        total = 1
        for child in children:
            total += size(child, depth + 1)
            if total > limit:
                break
        memo[id(node)] = total
        return total

    return size(data, 0)


def load_yaml(path: Path, text: str | None = None) -> Any:
    """Parse YAML keeping positions; a syntax error becomes a ConfigError with its line.

    Python-object tags are refused outright (ruamel would not construct them either, but a
    config that carries one is hostile or broken), and alias bombs are refused by size.
    """
    if text is None:
        text = read_text(path)
    tag = _PYTHON_TAG.search(text)
    if tag:
        tag_line = text.count("\n", 0, tag.start()) + 1
        raise ConfigError(str(path), "a `!!python/...` tag; configs are data and nothing in them is constructed or run", line=tag_line, hint="remove the tag")
    lines = text.count("\n") + 1
    if lines > MAX_CONFIG_LINES or text.count(",") + text.count(":") > MAX_SEPARATORS:
        raise ConfigError(
            str(path),
            f"{lines:,} lines / {text.count(':'):,} keys: far more than any training config (the largest real ones have a few hundred lines)",
            hint="training configs are small; exclude this file from the goblin paths",
        )
    data = _guarded_load(path, text)
    try:
        big = expanded_size(data) > MAX_EXPANDED_NODES
    except RecursionError:
        raise ConfigError(str(path), "YAML nesting is too deep", hint="flatten the document") from None
    if big:
        raise ConfigError(str(path), f"YAML aliases expand to more than {MAX_EXPANDED_NODES:,} nodes (an alias bomb?)", hint="use fewer nested aliases")
    return data


def _guarded_load(path: Path, text: str) -> Any:
    """Run the loader with every error it can raise turned into one ConfigError naming the line.

    ruamel's constructors raise more than YAMLError on hostile scalars: ValueError for `!!int abc`
    or a 4,301-digit int, KeyError for `!!bool maybe`, IndexError for `!!int 0x`, TypeError for an
    aliased sequence used as a key. Any of them must cost one item, never the session.
    """
    try:
        return _yaml().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(str(path), f"YAML error: {problem}", line=line, hint="fix the YAML syntax at that line") from None
    except YAMLError as exc:
        raise ConfigError(str(path), f"YAML error: {type(exc).__name__}", hint="fix the YAML syntax") from None
    except (RecursionError, MemoryError):
        raise ConfigError(str(path), "YAML nesting is too deep", hint="flatten the document") from None
    except (ValueError, KeyError, IndexError, TypeError, OverflowError, AttributeError, AssertionError, UnicodeError) as exc:
        raise ConfigError(
            str(path),
            f"YAML value cannot be read ({type(exc).__name__}: a malformed tagged or oversized scalar, or an unhashable key)",
            line=_error_line(text, exc),
            hint="fix or remove that value",
        ) from None


def _error_line(text: str, exc: BaseException) -> int | None:
    """Best effort: ruamel attaches no mark to constructor errors, so find the node it was building."""
    import traceback

    for frame, _lineno in traceback.walk_tb(exc.__traceback__):
        node = frame.f_locals.get("node")
        mark = getattr(node, "start_mark", None)
        if mark is not None and hasattr(mark, "line"):
            return int(mark.line) + 1
    return None


def dump_yaml(data: Any) -> str:
    buf = io.StringIO()
    _yaml().dump(data, buf)
    return buf.getvalue()


def key_line(node: Any, key: str | int) -> int | None:
    """1-based line of `key` inside a round-trip mapping or sequence."""
    try:
        if isinstance(node, CommentedMap):
            return int(node.lc.key(key)[0]) + 1
        if isinstance(node, CommentedSeq):
            return int(node.lc.item(key)[0]) + 1
    except (KeyError, IndexError, TypeError, AttributeError):
        return None
    return None


def get_path(data: Any, dotted: str) -> tuple[bool, Any, int | None]:
    """(found, value, line) for a dotted key path such as `optimizer.fused`."""
    node = data
    line: int | None = None
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return False, None, None
        line = key_line(node, part)
        node = node[part]
    return True, node, line
