"""`goblin parse --json` scored against held-out configs: files from the same public repositories
as the reference corpus that no adapter was written against, labelled by hand (tests/data/heldout)."""

from __future__ import annotations

import json

import pytest

from pytest_goblin.cli import main

from .conftest import ROOT
from .scoring import score_records

HELDOUT = ROOT / "tests" / "data" / "heldout"


def test_parse_json_scores_on_held_out_configs(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    expected = [json.loads(line) for line in (HELDOUT / "expected.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(expected) >= 20
    assert all((HELDOUT / e["path"]).is_file() for e in expected)
    monkeypatch.chdir(HELDOUT)
    main(["parse", "--json", *(e["path"] for e in expected)])
    actual = {r["path"]: r for r in map(json.loads, capsys.readouterr().out.splitlines())}
    right, scored, problems = score_records(expected, actual)
    assert not [p for p in problems if "misclassified" in p], problems
    assert right / scored >= 0.98, problems


def test_scoring_counts_fields_and_misclassifications() -> None:
    expected = [{"path": "a", "format": "axolotl", "seq_len": 512, "model": "not determined"}, {"path": "b", "format": None}]
    actual = {"a": {"path": "a", "format": "axolotl", "seq_len": 1024}, "b": {"path": "b", "format": "torchtune"}}
    right, scored, problems = score_records(expected, actual)
    assert (right, scored) == (1, 3)
    assert any("misclassified format" in p for p in problems) and any("wrong seq_len" in p for p in problems)
    assert score_records([{"path": "c", "format": None}], {})[2] == ["c: no record"]


def test_held_out_files_are_not_in_the_reference_corpus() -> None:
    corpus = ROOT / "tests" / "data" / "reference_corpus"
    for path in HELDOUT.rglob("*.y*ml"):
        rel = path.relative_to(HELDOUT)
        assert not (corpus / rel).exists(), f"{rel} is in the reference corpus too; a held-out file must be unseen"
