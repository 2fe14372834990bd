"""The fast reader (libyaml, yamlio.parse_yaml) reads every config and every bundled rule and GPU
file as ruamel.yaml's round-trip loader does: the same values, the same key positions."""

from __future__ import annotations

import datetime
import math
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from pytest_goblin.errors import ConfigError
from pytest_goblin.hardware import kb_dir
from pytest_goblin.yamlio import YamlMap, YamlSeq, key_position, load_yaml, parse_yaml

from .conftest import DATA, EXAMPLES, SHARED_CORPUS

FILES = sorted(
    p
    for folder in (SHARED_CORPUS, DATA / "corpus", DATA / "heldout", EXAMPLES, kb_dir())
    for p in folder.rglob("*")
    if p.suffix in (".yaml", ".yml") and p.is_file()
)


def _ruamel(text: str) -> Any:
    y = YAML(typ="rt", pure=True)
    y.allow_duplicate_keys = False
    return y.load(text)


def _same(fast: Any, slow: Any, where: str) -> None:
    if isinstance(slow, CommentedMap):
        assert isinstance(fast, YamlMap), where
        assert list(fast) == list(slow), where
        for key in slow:
            try:
                expected = tuple(slow.lc.key(key))
            except KeyError:  # merged in: not written in this mapping
                expected = None
            assert key_position(fast, key) == expected, f"{where}.{key}"
            _same(fast[key], slow[key], f"{where}.{key}")
    elif isinstance(slow, CommentedSeq):
        assert isinstance(fast, YamlSeq) and len(fast) == len(slow), where
        for i, item in enumerate(slow):
            assert key_position(fast, i) == tuple(slow.lc.item(i)), f"{where}[{i}]"
            _same(fast[i], item, f"{where}[{i}]")
    elif isinstance(slow, float) and math.isnan(slow):
        assert isinstance(fast, float) and math.isnan(fast), where
    else:
        assert type(fast) in (type(slow), *type(slow).__mro__) or isinstance(slow, type(fast)), f"{where}: {type(fast)} vs {type(slow)}"
        if isinstance(slow, datetime.datetime):  # ruamel keeps the offset aside; compare the instant
            assert fast.replace(tzinfo=None) == slow.replace(tzinfo=None), where
        else:
            assert fast == slow, where
        assert str(fast) == str(slow) or isinstance(slow, (float, datetime.date)), where


def test_the_file_list_is_not_empty() -> None:
    assert len(FILES) > 250


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name if p.is_relative_to(kb_dir()) else str(p.relative_to(DATA.parent.parent)))
def test_every_corpus_file_reads_as_ruamel_reads_it(path: Path) -> None:
    text = path.read_text(encoding="utf-8-sig")
    _same(parse_yaml(text), _ruamel(text), path.name)


SCALARS = """\
a: yes
b: 1e-5
c: 0o17
d: 017
e: 1_000
f: 2001-12-14
g: .inf
h: ~
i: True
j: 0x1F
k: +12
l: 1.
m: -.5
n: 12:30
o: off
p: -0b101
q: "quoted: 1"
r: 2001-12-14 21:59:43.10 -5
s: .NaN
"""


def test_yaml_1_2_scalars_read_as_ruamel_reads_them() -> None:
    _same(parse_yaml(SCALARS), _ruamel(SCALARS), "scalars")


def test_merge_keys_anchors_and_unknown_tags_are_data() -> None:
    text = "base: &b {x: 1, y: 2}\nrun:\n  <<: *b\n  y: 3\nref: !Ref some.value\nlist: !Custom [1, 2]\n"
    data = parse_yaml(text)
    assert data["run"] == {"x": 1, "y": 3} and key_position(data["run"], "y") == (3, 2) and key_position(data["run"], "x") is None
    assert data["ref"] == "some.value" and data["list"] == [1, 2]


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("a: 1\nb: 2\na: 3\n", 3, "duplicate key 'a'"),
        ("x: !!bool maybe\n", 1, "cannot be read"),
        ("x: !!int abc\n", 1, "cannot be read"),
        ("x: !!timestamp 2001-13-45\n", 1, "cannot be read"),
        ("x: " + "9" * 4301 + "\n", 1, "cannot be read"),
        ("k: &k [1]\n? *k\n: v\n", 1, "a mapping key that is a list or a mapping"),  # the list, where it is written
        ("a: [1, 2\n", 2, "YAML error"),
        ("a: 1\nb: !!map foo\n", 2, "a map value 'foo' (that is text, not a map)"),
        ("b: !!seq foo\n", 1, "a seq value 'foo' (that is text, not a seq)"),
        ("b: !!int [1]\n", 1, "cannot be read"),
        ("b: !!set {[1]: x}\n", 1, "YAML error"),  # a set's members are keys: a list cannot be one
    ],
)
def test_broken_yaml_is_a_config_error_with_its_line(tmp_path: Path, text: str, line: int, words: str) -> None:
    path = tmp_path / "c.yml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_yaml(path)
    assert words in str(info.value)
    assert info.value.line == line


@pytest.mark.parametrize("opening, closing", [("[", "]"), ("{b: ", "}")])
def test_deep_nesting_reads_as_deep_as_pyyaml_constructors_allowed(tmp_path: Path, opening: str, closing: str) -> None:
    """The builder takes one frame per level, as PyYAML's own construction allowed: 800 levels
    (no config nests 20) read; a runaway depth is a one-line error, never a RecursionError."""
    deep = f"a: {opening * 800}1{closing * 800}\n" if opening != "[" else f"a: {opening * 800}{closing * 800}\n"
    node = load_yaml(tmp_path / "c.yaml", deep)["a"]
    for _ in range(799):
        node = node["b"] if isinstance(node, dict) else node[0]
    with pytest.raises(ConfigError, match="nesting is too deep"):
        load_yaml(tmp_path / "c.yaml", f"a: {opening * 5000}1{closing * 5000}\n")
