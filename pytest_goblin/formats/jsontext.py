"""JSON training configs (a TrainingArguments / TRL config file read by `HfArgumentParser.parse_json_file`),
read as the framework reads them and edited in their own text.

The framework's reader is `json.loads` on the whole file (transformers 4.34.0 hf_argparser.py:396-398,
then parse_dict, which raises on a key no dataclass declares, :375-376), so a file is read with
`json.loads` too; a key written twice keeps its last value there, as Python's json module does. The
line and column of every key come from one scan of the same text, so findings and edits point at the
line the key is written on. Edits change the value on its own line (or add one line), never reflow
the file, and are read back: an edit whose result does not parse as the same document with only the
written values changed is not offered.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..errors import ConfigError, NotATrainingConfig
from ..yamlio import YamlMap

SUFFIX = ".json"

_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|[{}\[\]:,]')
_SCALAR = re.compile(r'"(?:[^"\\\n]|\\.)*"|-?\d[\d.eE+\-]*|true|false|null')
# The keys that make a file that is not valid JSON worth an error rather than a quiet "not a config", and a large
# JSON object worth parsing at all (a recipe is a few KB; a vocabulary or a weight index beside it is not one)
JSON_SCAN_CHARS = 200_000
SETTINGS_HINTS = ('"per_device_train_batch_size"', '"learning_rate"', '"output_dir"', '"num_train_epochs"', '"gradient_accumulation_steps"')


class JsonMap(YamlMap):
    """A JSON object: a YamlMap (the line and column of each key) that edits go back into as JSON."""


def _scan(text: str) -> list[list[tuple[str, int, int]]]:
    """For each JSON object in the order its closing brace comes (the order json's object_pairs_hook
    is called in), its keys as written: (key, 0-based line, column)."""
    starts = [0]
    for i, ch in enumerate(text):
        if ch == "\n":
            starts.append(i + 1)

    def place(offset: int) -> tuple[int, int]:
        lo, hi = 0, len(starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if starts[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        return lo, offset - starts[lo]

    done: list[list[tuple[str, int, int]]] = []
    stack: list[tuple[list[tuple[str, int, int]] | None, list[bool]]] = []  # (keys of an object | None for an array, [expecting a key])
    for m in _TOKEN.finditer(text):
        tok = m.group()
        if tok == "{":
            stack.append(([], [True]))
        elif tok == "[":
            stack.append((None, [False]))
        elif tok in "}]":
            keys, _ = stack.pop()
            if keys is not None:
                done.append(keys)
        elif not stack:
            continue
        elif tok == ",":
            stack[-1][1][0] = stack[-1][0] is not None
        elif tok == ":":
            stack[-1][1][0] = False
        elif stack[-1][0] is not None and stack[-1][1][0]:
            line, col = place(m.start())
            keys = stack[-1][0]
            assert keys is not None
            keys.append((json.loads(tok), line, col))
            stack[-1][1][0] = False
    return done


def load_json(path: str, text: str, repeats: list[tuple[str, int, int]] | None = None) -> Any:
    """The document as `json.loads` reads it, every object a JsonMap with the position of its keys;
    `repeats` gets (key, first line, last line) for each key written twice (the last value is read).
    A file that is not one JSON value is not a training config (JSON Lines data), unless it names
    TrainingArguments keys: then it is a config the framework cannot read, an error at its line."""
    scanned = iter(_scan(text))

    def build(pairs: list[tuple[str, Any]]) -> JsonMap:
        keys = next(scanned, [])
        out = JsonMap(pairs)
        out.positions = {}
        first: dict[str, int] = {}
        for key, line, col in keys:
            if key in first and repeats is not None:
                repeats.append((key, first[key] + 1, line + 1))
            first.setdefault(key, line)
            out.positions[key] = (line, col)
        return out

    try:
        return json.loads(text, object_pairs_hook=build)
    except RecursionError:
        raise ConfigError(path, "JSON nested too deeply to read", hint="flatten the file") from None
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data":
            raise NotATrainingConfig(path, "several JSON documents one after another (JSON Lines data), not a config") from None
        if not any(h in text for h in SETTINGS_HINTS):
            raise NotATrainingConfig(path, f"not valid JSON ({exc.msg}, line {exc.lineno}) and names no training setting") from None
        raise ConfigError(
            path,
            f"not valid JSON: {exc.msg} (column {exc.colno})",
            line=exc.lineno,
            hint="HfArgumentParser.parse_json_file reads it with json.loads; fix the syntax there",
        ) from None


def _expected(data: Any, writes: dict[str, Any], renames: dict[str, str]) -> Any:
    want = json.loads(json.dumps(data))
    for old, new in renames.items():
        if isinstance(want, dict) and old in want and new not in want:
            want = {(new if k == old else k): v for k, v in want.items()}
    for dotted, value in writes.items():
        node = want
        *head, last = dotted.split(".")
        for part in head:
            node = node.setdefault(part, {}) if isinstance(node, dict) else None
        if not isinstance(node, dict):
            return None
        node[last] = value
    return want


def _replace_on_line(line: str, col: int, key: str, value: Any) -> str | None:
    m = re.compile(r'"' + re.escape(key) + r'"\s*:\s*').match(line, col)
    if m is None:
        return None
    v = _SCALAR.match(line, m.end())
    if v is None:
        return None
    return line[: v.start()] + json.dumps(value) + line[v.end() :]


def _insert(lines: list[str], parent: JsonMap, leaf: str, value: Any) -> bool:
    """A new `"leaf": value` line after the parent's last key where its value ends on that line,
    else before its first key; False when neither key begins its own line."""
    if not parent:
        return False
    last = max(parent.positions, key=lambda k: parent.positions[k])
    row, col = parent.positions[last]
    line = lines[row]
    if line[:col].strip() == "" and not isinstance(parent[last], (dict, list)):
        m = re.compile(r'"' + re.escape(last) + r'"\s*:\s*').match(line, col)
        v = _SCALAR.match(line, m.end()) if m else None
        if v is not None and line[v.end() :].strip() == "":  # the last key has no comma after it (JSON allows none)
            lines[row] = line[: v.end()] + "," + line[v.end() :]
            lines.insert(row + 1, f"{line[:col]}{json.dumps(leaf)}: {json.dumps(value)}")
            return True
    first = min(parent.positions, key=lambda k: parent.positions[k])
    row, col = parent.positions[first]
    if lines[row][:col].strip() != "":
        return False
    lines.insert(row, f"{lines[row][:col]}{json.dumps(leaf)}: {json.dumps(value)},")
    return True


def apply_json_edits(text: str, data: Any, writes: dict[str, Any], renames: dict[str, str] | None = None) -> str | None:
    """`text` with each dotted key set to its value (and each top-level key renamed), on the lines
    that hold them; a new key gets a line of its own in its object. None when an edit cannot be made
    in place or the result does not read back as the document with exactly those changes."""
    renames = renames or {}
    want = _expected(data, writes, renames)
    if want is None or not isinstance(data, JsonMap):
        return None
    lines = text.split("\n")
    for old, new in renames.items():
        pos = data.positions.get(old)
        if pos is None or new in data:
            return None
        row, col = pos
        quoted = json.dumps(old)
        if not lines[row].startswith(quoted, col):
            return None
        lines[row] = lines[row][:col] + json.dumps(new) + lines[row][col + len(quoted) :]
    if renames:
        try:
            data = load_json("", "\n".join(lines))
        except Exception:
            return None
    for dotted, value in writes.items():
        *head, leaf = dotted.split(".")
        parent: Any = data
        for part in head:
            parent = parent.get(part) if isinstance(parent, dict) else None
        if not isinstance(parent, JsonMap):
            return None  # a new nested object: not written into someone's JSON by guess
        if leaf in parent:
            if isinstance(parent[leaf], (dict, list)):
                return None
            row, col = parent.positions[leaf]
            new_line = _replace_on_line(lines[row], col, leaf, value)
            if new_line is None:
                return None
            lines[row] = new_line
        elif not _insert(lines, parent, leaf, value):
            return None
        # later inserts are placed by positions taken before this one: read the text again
        text_now = "\n".join(lines)
        try:
            data = load_json("", text_now)
        except Exception:
            return None
        lines = text_now.split("\n")
    new_text = "\n".join(lines)
    try:
        got = json.loads(new_text)
    except json.JSONDecodeError:
        return None
    return new_text if got == want else None
