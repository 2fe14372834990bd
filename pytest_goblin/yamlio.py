"""YAML read fast, with the line and column of every key, and nothing executed: configs, and the rule and GPU files.

Facts come from libyaml (PyYAML's C parser) with YAML 1.2 core resolution, the same reading as
ruamel.yaml's round-trip loader (`yes` is a string, `1e-5` a float, `017` is 17): a test keeps
the two equal over the reference corpus. Patches are written as line edits of the user's own
text (formats/textedit.py) at the positions recorded here, so comments, quoting and layout stay
as they were. Unknown tags are read as plain data; nothing is ever constructed from a tag.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, ClassVar

import yaml

from .errors import ConfigError
from .redact import DOC_SUFFIXES, TooManySecrets, documented_example, flag_values, is_secret_name, learn, masks_by_value

MAX_CONFIG_BYTES = 2_000_000  # a training config is a few KB; anything larger is not one


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


VALUE_ERROR = "YAML value cannot be read"  # a scalar its tag cannot hold: `!!int abc`, `!!bool maybe`, a 5,000-digit int


class YamlMap(dict[Any, Any]):
    """A mapping with the (0-based line, column) of each key written in the file, and whether it
    is written in flow style (`{a: 1, b: 2}`: its keys share a line)."""

    positions: dict[Any, tuple[int, int]]
    flow: bool = False


class YamlSeq(list[Any]):
    """A sequence with the (0-based line, column) of each item."""

    positions: list[tuple[int, int]]


_Base: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when the wheel has it


class _Resolver(yaml.resolver.BaseResolver):
    """YAML 1.2 core schema, as ruamel.yaml reads it (plus its timestamps and merge keys)."""

    yaml_implicit_resolvers: ClassVar[dict[str | None, list[tuple[str, re.Pattern[str]]]]] = {}


for _tag, _pattern, _first in (
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?0b[0-1_]+|[-+]?0o[0-7_]+|[-+]?[0-9_]+|[-+]?0x[0-9a-fA-F_]+)$", "-+0123456789"),
    (
        "tag:yaml.org,2002:float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+0123456789.",
    ),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    (
        "tag:yaml.org,2002:timestamp",
        r"^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"
        r"|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?"
        r"(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?"
        r"(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$",
        "0123456789",
    ),
    ("tag:yaml.org,2002:merge", r"^(?:<<)$", "<"),
):
    _Resolver.add_implicit_resolver(_tag, re.compile(_pattern), list(_first))


_SCALAR_TAGS: dict[str, str] = {}


class _Loader(_Base):  # type: ignore[misc, valid-type]
    """libyaml's parser; our resolver and the constructors below. Used for one document."""

    builder: _Builder

    yaml_implicit_resolvers = _Resolver.yaml_implicit_resolvers
    yaml_constructors: ClassVar[dict[Any, Any]] = dict(yaml.SafeLoader.yaml_constructors)
    yaml_multi_constructors: ClassVar[dict[Any, Any]] = {}

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        """The implicit tag of a plain scalar depends on its text alone (no path resolvers here):
        looked up once per distinct text, since configs repeat `true`, `null` and small numbers."""
        if kind is yaml.ScalarNode and implicit[0]:
            tag = _SCALAR_TAGS.get(value)
            if tag is None:
                tag = super().resolve(kind, value, implicit)
                if len(_SCALAR_TAGS) < 50_000:
                    _SCALAR_TAGS[value] = tag
            return tag
        return super().resolve(kind, value, implicit)

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        """Any failure to build a value (`!!int abc`, `!!bool maybe`, a 5,000-digit int) is a
        YAML error at that node's line, never a bare KeyError or ValueError."""
        try:
            return super().construct_object(node, deep)
        except (yaml.YAMLError, RecursionError):
            raise
        except Exception as exc:
            builder = getattr(self, "builder", None)
            raise _value_error(node, exc, hide=builder is not None and id(node) in builder.secret_ids) from None


def _value_error(node: yaml.Node, exc: Exception, hide: bool = False) -> yaml.constructor.ConstructorError:
    """The error names the value, unless it is one under a secret name (`hub_token: !!int hf_...`)."""
    kind = str(node.tag).rpartition(":")[2] or str(node.tag)
    shown = str(node.value)[:40] if isinstance(node, yaml.ScalarNode) and not hide else "..."
    return yaml.constructor.ConstructorError(None, None, f"{VALUE_ERROR}: a {kind} value {shown!r} ({type(exc).__name__})", node.start_mark)


def _int(loader: Any, node: yaml.ScalarNode) -> int:
    text = str(node.value).replace("_", "")
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    for prefix, base in (("0b", 2), ("0o", 8), ("0x", 16)):
        if digits.startswith(prefix):
            return sign * int(digits[2:], base)
    return sign * int(digits, 10)  # YAML 1.2: a leading zero is not octal


def _collection(loader: Any, node: yaml.Node) -> Any:
    """A mapping or sequence met inside a value PyYAML builds (a `!!set`, an `!!omap`): built as
    the builder builds every other one."""
    return loader.builder.build(node)


def _untagged(loader: Any, suffix: str, node: yaml.Node) -> Any:
    """A node with an unknown local tag (`!Ref x`) read as the data it holds, never constructed."""
    return loader.builder.build(node)


_Loader.add_constructor("tag:yaml.org,2002:int", _int)
_Loader.add_constructor("tag:yaml.org,2002:map", _collection)
_Loader.add_constructor("tag:yaml.org,2002:seq", _collection)
_Loader.add_multi_constructor("!", _untagged)


_STR, _MAP, _SEQ, _MERGE = (f"tag:yaml.org,2002:{t}" for t in ("str", "map", "seq", "merge"))
# Scalar constructors that are plain functions (the rest, such as !!set and !!omap, are generators
# and go through PyYAML's own machinery).
_PLAIN_SCALARS = frozenset(f"tag:yaml.org,2002:{t}" for t in ("int", "float", "bool", "null", "timestamp", "binary"))


class _Builder:
    """Builds the document from libyaml's composed nodes in one walk, without PyYAML's per-node
    generators and bookkeeping (they took more time than libyaml's parsing). Anything unusual
    (`!!set`, `!!omap`, an unknown global tag) goes through the loader's constructors, which hand
    the mappings and sequences inside it back here."""

    def __init__(self, loader: _Loader, text: str | None = None):
        self.loader = loader
        self.built: dict[int, Any] = {}  # aliases share one object, as PyYAML's do
        loader.builder = self
        # With the document's text: every scalar under a secret name (`hf_token: |` ...), as read
        # and as written, for redact.learn. None: not collected (rule and GPU files).
        self.text = text
        self.secrets: list[str] | None = [] if text is not None else None
        self.secret_ids: set[int] = set()  # their scalar nodes: an error about one does not quote it
        # None: a repeated key is an error. A list: the document is read as PyYAML's safe_load reads it
        # (the last value wins) and each repeat is recorded as (key, first line, repeated line), 1-based.
        self.duplicates: list[tuple[str, int, int]] | None = None

    def _secret(self, node: yaml.Node, name: str) -> None:
        """Every scalar at and below `node` (a value under a secret name), as read and as written
        between its quotes, for redact.learn. Each node once; bounded by the document's size."""
        assert self.secrets is not None and self.text is not None
        stack, seen = [node], set()
        while stack:
            n = stack.pop()
            if id(n) in seen:
                continue
            seen.add(id(n))
            if isinstance(n, yaml.ScalarNode):
                self.secret_ids.add(id(n))
                raw = self.text[n.start_mark.index : n.end_mark.index]
                if n.style in ('"', "'") and len(raw) >= 2:
                    raw = raw[1:-1]
                elif n.style in ("|", ">"):
                    raw = raw.partition("\n")[2]  # the lines below the `|` / `>` indicator
                if masks_by_value(name, str(n.value)):
                    self.secrets += [str(n.value), raw]
            elif isinstance(n, yaml.MappingNode):
                stack.extend(x for pair in n.value for x in pair)
            elif isinstance(n, yaml.SequenceNode):
                stack.extend(n.value)

    def _flag_values(self, node: yaml.SequenceNode, items: list[Any]) -> None:
        """A command line written as a list (`["--hub_token", "hf_..."]`, `- --api-key=...`): the
        value after a secret-named flag."""
        for i, item in enumerate(items):
            if not (isinstance(item, str) and item.startswith("-")):
                continue
            name, eq, _value = item.lstrip("-").partition("=")
            if name and is_secret_name(name):
                if eq:
                    self._secret(node.value[i], name)
                elif i + 1 < len(items):
                    self._secret(node.value[i + 1], name)

    def build(self, node: yaml.Node) -> Any:
        if type(node) is yaml.ScalarNode:
            tag = node.tag
            if tag == _STR:
                return node.value
            if tag in _PLAIN_SCALARS:
                try:
                    return self.loader.yaml_constructors[tag](self.loader, node)
                except (yaml.YAMLError, RecursionError):
                    raise
                except Exception as exc:
                    raise _value_error(node, exc, hide=id(node) in self.secret_ids) from None
            if tag.startswith("!") and tag not in self.loader.yaml_constructors:
                return node.value  # an unknown local tag: the text, never constructed
            if tag in (_MAP, _SEQ):  # `!!map foo`: PyYAML would hand it back here, around and around
                kind = tag.rpartition(":")[2]
                shown = "..." if id(node) in self.secret_ids else repr(node.value[:40])
                raise yaml.constructor.ConstructorError(None, None, f"{VALUE_ERROR}: a {kind} value {shown} (that is text, not a {kind})", node.start_mark)
            return self.loader.construct_object(node, deep=True)
        done = self.built.get(id(node))
        if done is not None:
            return done
        local = node.tag.startswith("!") and node.tag not in self.loader.yaml_constructors
        # One frame per level of nesting (loops, no comprehensions or helper calls), so a document
        # nests as deep as it could under PyYAML's own constructors before it is "too deep".
        if type(node) is yaml.SequenceNode and (node.tag == _SEQ or local):
            items = self.built[id(node)] = YamlSeq()
            items.positions = [(n.start_mark.line, n.start_mark.column) for n in node.value]
            for item in node.value:
                items.append(self.build(item))
            if self.secrets is not None:
                self._flag_values(node, items)
            return items
        if type(node) is not yaml.MappingNode or not (node.tag == _MAP or local):
            return self.loader.construct_object(node, deep=True)
        data = self.built[id(node)] = YamlMap()
        data.positions = {}
        data.flow = bool(node.flow_style)
        seen: dict[Any, int] = {}
        merges = False
        values = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                merges = True
                continue
            key = self.build(key_node)
            try:
                hash(key)
            except TypeError:
                raise yaml.constructor.ConstructorError(None, None, f"{VALUE_ERROR}: a mapping key that is a list or a mapping", key_node.start_mark) from None
            mark = key_node.start_mark
            if key in seen:
                if self.duplicates is None:
                    raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r} (first on line {seen[key] + 1})", mark)
                self.duplicates.append((str(key), seen[key] + 1, mark.line + 1))
            seen[key] = mark.line
            data.positions[key] = (mark.line, mark.column)
            values.append((key, value_node))
            if self.secrets is not None and isinstance(key, str) and is_secret_name(key):
                self._secret(value_node, key)
        if merges:  # `<<: *base`: the merged keys come first, the mapping's own keys override them
            self.loader.flatten_mapping(node)
            values = []
            for key_node, value_node in node.value:
                values.append((self.build(key_node), value_node))
                if self.secrets is not None and isinstance(values[-1][0], str) and is_secret_name(values[-1][0]):
                    self._secret(value_node, values[-1][0])  # an inline `<<: {hub_token: ...}` is read only here
        for key, value_node in values:
            data[key] = self.build(value_node)
        if self.secrets is not None:
            self._named_value(data, values)
        return data

    def _named_value(self, data: YamlMap, values: list[tuple[Any, yaml.Node]]) -> None:
        """An entry that names its secret in a sibling (`- name: HF_TOKEN` / `value: ...`, as
        Kubernetes and many launch configs write environments): its value is under a secret name too."""
        name = data.get("name", data.get("key"))
        if isinstance(name, str) and is_secret_name(name):
            for key, value_node in values:
                if key == "value":
                    self._secret(value_node, name)


def parse_yaml(text: str, secrets: list[str] | None = None, duplicates: list[tuple[str, int, int]] | None = None) -> Any:
    """One YAML document as YamlMap / YamlSeq / scalars (raises yaml.YAMLError and others). With
    `secrets`, every value under a secret name is added to it, as read and as written. With
    `duplicates`, a repeated key keeps its last value and is recorded there instead of raising."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        builder = _Builder(loader, text if secrets is not None else None)
        if duplicates is not None:
            builder.duplicates = duplicates
        data = builder.build(node)
        if secrets is not None and builder.secrets:
            secrets += builder.secrets
        return data
    finally:
        loader.dispose()


# A training config names a token or two; a file with more values under secret names than this
# is refused rather than masked value by value (each one is searched for in every text written).
MAX_SECRET_VALUES = 256


def learn_secrets(path: Path, values: list[str]) -> None:
    """Hand a file's values under secret names to redact; too many is the file's own error. A plain
    word that documentation (a README's launch block) assigns to a secret name is an example, not
    learned (`redact.documented_example`): the name patterns still mask it beside its name."""
    if path.suffix.lower() in DOC_SUFFIXES:
        values = [v for v in values if not documented_example(v)]
    if len(values) > 2 * MAX_SECRET_VALUES:  # each value counts as read and as written
        raise ConfigError(
            str(path), f"more than {MAX_SECRET_VALUES} values under secret names (tokens, keys, passwords)", hint="keep credentials out of configs"
        )
    try:
        learn(values)
    except TooManySecrets as exc:
        raise ConfigError(str(path), str(exc) + " in this session", hint="keep credentials out of configs") from None


MAX_EXPANDED_NODES = 1_000_000  # what aliases may expand to; a billion-laughs file expands to billions
# The largest of ~270 real configs in tests/data/reference_corpus has 227 lines; 130,000 keys took
# 28 s to audit (D29). Checked before parsing, so such a file costs milliseconds.
MAX_CONFIG_LINES = 5_000
MAX_SEPARATORS = 50_000  # `,` and `:` in a one-line flow mapping with as many keys
# An edit to a flow-style mapping (`{a: 1, b: 2}`) goes through a full ruamel round trip of the
# document (formats/textedit._dump_edits), a few per audit, at about 0.1 ms per node each: a
# 24,000-key flow mapping under MAX_SEPARATORS cost 30 s (N11). No real config has a flow
# mapping (tests/data: none; the largest has 248 values), so a document holding one is bounded
# to 2,000 values (expanded_size), which keeps the round trips of an audit near a second.
MAX_FLOW_NODES = 2_000
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


def load_yaml(path: Path, text: str | None = None, duplicates: list[tuple[str, int, int]] | None = None) -> Any:
    """Parse YAML keeping positions; a syntax error becomes a ConfigError with its line. A repeated
    key is an error, unless `duplicates` is given: then it is recorded there and the last value wins
    (how PyYAML's safe_load reads it), for the caller to judge by the framework that reads the file.

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
    data = _guarded_load(path, text, duplicates)
    try:
        big = expanded_size(data) > MAX_EXPANDED_NODES
    except RecursionError:
        raise ConfigError(str(path), "YAML nesting is too deep", hint="flatten the document") from None
    if big:
        raise ConfigError(str(path), f"YAML aliases expand to more than {MAX_EXPANDED_NODES:,} nodes (an alias bomb?)", hint="use fewer nested aliases")
    nodes = expanded_size(data, MAX_FLOW_NODES) if isinstance(data, (dict, list)) else 0
    if nodes > MAX_FLOW_NODES and _has_flow_mapping(data):
        raise ConfigError(
            str(path),
            f"more than {MAX_FLOW_NODES:,} YAML values with a flow-style mapping ({{a: 1, ...}}); goblin edits flow mappings through "
            "a full YAML round trip, far too slow at this size (real training configs are block style, a few hundred nodes)",
            hint="write the mapping in block style (one key per line), or exclude this file from the goblin paths",
        )
    return data


def _has_flow_mapping(data: Any) -> bool:
    """Whether any mapping in the document is written in flow style (each node visited once)."""
    stack, seen = [data], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, YamlMap):
            if node.flow:
                return True
            stack.extend(v for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, (dict, list)))
    return False


def _guarded_load(path: Path, text: str, duplicates: list[tuple[str, int, int]] | None = None) -> Any:
    """Run the loader with every error it can raise turned into one ConfigError naming the line:
    a malformed or hostile file must cost one item, never the session."""
    try:
        secrets: list[str] = []
        data = parse_yaml(text, secrets, duplicates)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        if mark is not None and problem == "found character that cannot start any token":  # libyaml does not name it
            rows = text.splitlines()
            row = rows[mark.line] if mark.line < len(rows) else ""
            if mark.column < len(row):
                problem = f"found character {row[mark.column]!r} that cannot start any token"
        if "nesting depth" in problem:  # libyaml's own limit on nested collections
            raise ConfigError(str(path), "YAML nesting is too deep", line=line, hint="flatten the document") from None
        if problem.startswith(VALUE_ERROR):
            raise ConfigError(str(path), problem, line=line, hint="fix or remove that value") from None
        raise ConfigError(str(path), f"YAML error: {problem}", line=line, hint="fix the YAML syntax at that line") from None
    except yaml.YAMLError as exc:
        raise ConfigError(str(path), f"YAML error: {type(exc).__name__}", hint="fix the YAML syntax") from None
    except (RecursionError, MemoryError):
        raise ConfigError(str(path), "YAML nesting is too deep", hint="flatten the document") from None
    except (ValueError, KeyError, IndexError, TypeError, OverflowError, AttributeError, AssertionError, UnicodeError) as exc:
        # construct_object turns these into YAML errors at their node; this is the net below it
        raise ConfigError(str(path), f"{VALUE_ERROR} ({type(exc).__name__})", hint="fix or remove that value") from None
    learn_secrets(path, secrets + flag_values(text))
    return data


def _roundtrip() -> Any:
    from ruamel.yaml import YAML

    y = YAML(typ="rt", pure=True)
    y.preserve_quotes = True
    y.width = 4096
    return y


def load_roundtrip(text: str) -> Any:
    """ruamel.yaml's round-trip document (comments, quoting, flow style kept), for the one edit the
    line editor cannot make: keys of a flow-style mapping share a line (formats/textedit.py)."""
    return _roundtrip().load(text)


def dump_yaml(data: Any) -> str:
    import io

    buf = io.StringIO()
    _roundtrip().dump(data, buf)
    return buf.getvalue()


def key_position(node: Any, key: Any) -> tuple[int, int] | None:
    """(0-based line, column) of `key` in a mapping, or of item `key` in a sequence, as written."""
    try:
        if isinstance(node, YamlMap):
            return node.positions[key]
        if isinstance(node, YamlSeq):
            return node.positions[key]
    except (KeyError, IndexError, TypeError):
        return None
    return None


def key_line(node: Any, key: Any) -> int | None:
    """1-based line of `key` inside a mapping or sequence; None for a key that is not written
    there (a merged or a default one)."""
    pos = key_position(node, key)
    return pos[0] + 1 if pos is not None else None


def get_path(data: Any, dotted: str) -> tuple[bool, Any, int | None]:
    """(found, value, line) for a dotted key path such as `optimizer.fused` (`dataset.0.split`: an item of a list)."""
    node = data
    line: int | None = None
    for part in dotted.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            line = key_line(node, int(part))
            node = node[int(part)]
            continue
        if not isinstance(node, dict) or part not in node:
            return False, None, None
        line = key_line(node, part)
        node = node[part]
    return True, node, line
