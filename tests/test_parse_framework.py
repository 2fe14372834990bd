"""`goblin parse --json`'s `framework` field names the framework at the release the run uses and where that came from
(formats/record.framework_label), not the release of goblin's own tables (review6b #29/#31)."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.formats.record import _groups, parse_record

from .test_pins_sources import HF, repo


def test_a_pinned_release_is_named_with_its_source(tmp_path: Path) -> None:
    path = repo(tmp_path, {"requirements.txt": "torch\ntransformers==4.31.0\ntrl==0.8.6\n"}, text=HF + "optim: adamw_torch\n")
    record, ok = parse_record(path)
    assert ok
    fv = record["framework_version"]
    name = record["framework"].split()[0]
    version, line = {"transformers": ("4.31.0", 2), "trl": ("0.8.6", 3)}[name]
    assert fv["name"] == name and fv["version"] == version and fv["tables"] != version
    assert record["framework"].startswith(f"{name} {version} ({name}=={version}, requirements.txt:{line})")
    assert f"tables were read at {fv['tables']}" in record["framework"] and "read as " in record["framework"]


def test_unpinned_says_assumed_and_no_pinned_release(tmp_path: Path) -> None:
    path = repo(tmp_path, {"README.md": "a recipe\n"}, text=HF + "optim: adamw_torch\n")
    record, ok = parse_record(path)
    assert ok
    fv = record["framework_version"]
    assert fv["assumed"] is True
    assert record["framework"].startswith(f"{fv['name']} {fv['tables']} assumed: not pinned in the repository")
    assert "None" not in record["framework"]


def test_label_groups_drop_nothing_but_split_top_level() -> None:
    assert _groups("axolotl 0.18.0 (067b021c8b) (rl dpo)") == ["067b021c8b", "rl dpo"]
    assert _groups("transformers 5.25.0 (TrainingArguments, which train.py (a) parses)") == ["TrainingArguments, which train.py (a) parses"]
    assert _groups("torchtune 0.6.1") == []
