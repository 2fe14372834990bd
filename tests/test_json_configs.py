"""review5 #25-#27: a file goblin is pointed at gets a record or a reason, never silence; and
TrainingArguments JSON files (`HfArgumentParser.parse_json_file`) are read as hf-trainer YAML is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_goblin.cli import main
from pytest_goblin.formats import candidate_suffixes


def _parse(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(["parse", *argv])
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.mark.parametrize("suffix", sorted(candidate_suffixes() | {".json", ".txt", ".md", ".jsonl", ""}))
@pytest.mark.parametrize("content", ["", "[]\n", "{}\n", "just text\n"])
def test_parse_never_prints_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], suffix: str, content: str) -> None:
    monkeypatch.chdir(tmp_path)
    name = f"config{suffix}"
    (tmp_path / name).write_text(content)
    for argv in ([name], ["--json", name]):
        _rc, out, err = _parse(capsys, *argv)
        assert (out + err).strip(), f"goblin parse {' '.join(argv)} printed nothing for {content!r}"
        assert name in out + err


def test_named_file_of_unread_suffix_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("per_device_train_batch_size: 4\n")
    rc, out, _ = _parse(capsys, "notes.txt")
    assert rc == 0
    assert "notes.txt: not collected: .txt suffix is not a config format goblin reads" in out
    rc, out, _ = _parse(capsys, "--json", "notes.txt")
    assert json.loads(out)["reason"].startswith(".txt suffix is not a config format goblin reads")


def test_named_goblin_copy_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".train.goblin-after-1a2b.yaml").write_text("per_device_train_batch_size: 4\n")
    _rc, out, _ = _parse(capsys, ".train.goblin-after-1a2b.yaml")
    assert "not collected: a patched copy goblin writes" in out


def test_folder_walk_stays_quiet_about_other_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Must not fire: files met while walking a folder that no format reads are passed over (a README, a dataset)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "README.md").write_text("# notes\n")
    (tmp_path / "cfg" / "data.jsonl").write_text('{"text": "a"}\n')
    _rc, out, err = _parse(capsys, "cfg")
    assert "README.md" not in out + err and "data.jsonl" not in out + err
