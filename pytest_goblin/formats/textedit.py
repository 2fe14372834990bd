"""Line-level edits of a YAML file: change one value, keep every comment and all formatting.

Dumping a round-trip document again would reflow flow-style lists and long strings, and
the user's diff would grow lines they never asked to change. So edits are made in the
text itself, at the lines and columns yamlio recorded.
"""

from __future__ import annotations

import re
from typing import Any

from ..yamlio import YamlMap, get_path, key_line, key_position

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-/]*$")
_RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "~", "y", "n"}


def yaml_scalar(value: Any, like: Any = None) -> str:
    """Render a scalar the way the file already writes its neighbours."""
    if isinstance(value, bool):
        if isinstance(like, str) and like[:1].isupper():
            return "True" if value else "False"
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in _RESERVED:
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# Only the key part is a regex (its quantifiers are separated by the `:` it must end at, so it is
# linear); value, spacing and comment are split in plain Python. A lazy value followed by optional
# blanks and `$`, as before, was quadratic on a line with a long run of spaces.
_KEY_HEAD = re.compile(r"^(?P<head>\s*(?:-\s+)?[^#\s][^:#]*:)")


def _split_line(line_text: str) -> tuple[str, str, str, str] | None:
    """(head, space, value, tail) of `key: value  # comment`, or None when the line has no key."""
    m = _KEY_HEAD.match(line_text)
    if not m:
        return None
    head = m.group("head")
    rest = line_text[len(head) :]
    body = rest.lstrip(" \t")
    space = rest[: len(rest) - len(body)]
    hash_at = body.find("#")
    before = body if hash_at < 0 else body[:hash_at]
    value = before.rstrip(" \t")
    return head, space, value, body[len(value) :]


def _raw_value(line_text: str) -> str | None:
    parts = _split_line(line_text)
    return parts[2] if parts else None


def _replace_value(line_text: str, rendered: str) -> str | None:
    parts = _split_line(line_text)
    if parts is None:
        return None
    head, space, value, tail = parts
    if not value:  # `fp16:` with nothing after it is a null: write the value there
        return f"{head} {rendered}{' ' + tail.lstrip() if tail.strip() else ''}"
    return f"{head}{space or ' '}{rendered}{tail}"


def _block_end(lines: list[str], start: int, indent: int) -> int:
    """Index after the last line belonging to a block whose children sit at `indent`."""
    end = start
    for i in range(start, len(lines)):
        stripped = lines[i].strip()
        if not stripped or stripped.startswith("#"):
            continue
        cur = len(lines[i]) - len(lines[i].lstrip(" "))
        if cur < indent:
            break
        end = i + 1
    return end


def _flow_style(data: Any, writes: dict[str, Any]) -> bool:
    """True when a mapping an edit touches is written in flow style (`{a: 1, b: 2}`)."""
    for dotted in writes:
        node = data
        for part in ["", *dotted.split(".")[:-1]]:
            if part:
                node = node.get(part) if isinstance(node, dict) else None
            if isinstance(node, YamlMap) and node.flow:
                return True
    return False


def _dump_edits(text: str, writes: dict[str, Any]) -> str:
    """Edits made on ruamel.yaml's round-trip document, dumped again: for flow-style mappings,
    whose keys share a line, the line editor cannot address one key (D11: every edit used to be
    dropped and the config passed at 1.00x). ruamel keeps flow style and comments on dump."""
    from ruamel.yaml.comments import CommentedMap

    from ..yamlio import dump_yaml, load_roundtrip

    doc = load_roundtrip(text)
    for dotted, value in writes.items():
        node = doc
        *parents, leaf = dotted.split(".")
        for part in parents:
            if not isinstance(node.get(part), dict):
                node[part] = CommentedMap()
            node = node[part]
        node[leaf] = value
    return dump_yaml(doc)


def apply_yaml_edits(text: str, data: Any, writes: dict[str, Any]) -> str:
    """Return `text` with each dotted key set to its value; new keys go at the end of their mapping."""
    if _flow_style(data, writes):
        return _dump_edits(text, writes)
    lines = text.split("\n")
    inserts: list[tuple[int, str]] = []
    for dotted, value in writes.items():
        found, _old, line = get_path(data, dotted)
        if found and line is not None and not isinstance(_old, (dict, list)):
            idx = line - 1
            raw = _raw_value(lines[idx]) or ""
            new_line = _replace_value(lines[idx], yaml_scalar(value, like=raw))
            if new_line is not None:
                lines[idx] = new_line
                continue
        parent_path, _, leaf = dotted.rpartition(".")
        parent: Any = data
        if parent_path:
            ok, parent, _ = get_path(data, parent_path)
            if not ok or not isinstance(parent, YamlMap):
                continue
        if not isinstance(parent, YamlMap) or not parent:
            inserts.append((len(lines), f"{leaf}: {yaml_scalar(value)}"))
            continue
        first_key = next(iter(parent))
        first = key_position(parent, first_key)
        if first is None:
            continue
        first_line, indent = first[0] + 1, first[1]
        end = _block_end(lines, first_line - 1, indent) if parent_path else _after_last_key(lines, parent)
        inserts.append((end, f"{' ' * indent}{leaf}: {yaml_scalar(value)}"))
    # Bottom-up keeps earlier positions valid; equal positions keep their given order.
    for _, pos, new in sorted(((i, p, n) for i, (p, n) in enumerate(inserts)), key=lambda t: (t[1], t[0]), reverse=True):
        lines.insert(pos, new)
    return "\n".join(lines)


def _after_last_key(lines: list[str], mapping: YamlMap) -> int:
    """Line index after the last top-level key's value, before any trailing comments."""
    last = max((key_line(mapping, k) or 0) for k in mapping)
    end = last
    for i in range(last, len(lines)):
        stripped = lines[i].strip()
        if not stripped or stripped.startswith("#"):
            continue
        if not lines[i][:1].isspace() and not stripped.startswith(("-", ":")):
            break  # `: value` below a `? key` line is still that key's value
        end = i + 1
    return end


RENAME = "rename_to"  # a key write {"old": {"rename_to": "new"}}: the key is renamed, its value kept


def rename_yaml_keys(text: str, data: Any, renames: dict[str, str]) -> str:
    """The text with top-level keys renamed where they are written (`evaluation_strategy:` ->
    `eval_strategy:`), the value, comments and layout kept. A key that is not a plain block key at
    the recorded position (flow style, a merge) or whose new name is already in the file is left."""
    lines = text.split("\n")
    for old, new in renames.items():
        pos = key_position(data, old)
        if pos is None or not isinstance(data, dict) or new in data or not _PLAIN.match(new):
            continue
        row, col = pos
        if row >= len(lines):
            continue
        line = lines[row]
        m = re.match(r"([\"']?)" + re.escape(old) + r"\1(\s*:)", line[col:])
        if m is None:
            continue
        lines[row] = line[:col] + new + m.group(2) + line[col + m.end() :]
    return "\n".join(lines)
