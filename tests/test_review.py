"""The reviewed public configs (tests/data/review): every finding goblin makes was judged against the
framework's source (labels.json); the rules that fire must stay exactly the reviewed ones, at least
90% of them correct, none wrong, and no proposed edit may fail the framework's own validation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_goblin import rules as kb
from pytest_goblin.formats import load_config
from pytest_goblin.frameworks import check_writes
from pytest_goblin.hardware import get_hardware
from pytest_goblin.patching import build_patch

REVIEW = Path(__file__).parent / "data" / "review"
LABELS: dict[str, dict[str, str]] = json.loads((REVIEW / "labels.json").read_text())


def _findings(path: Path) -> tuple[set[str], list[tuple[str, object]]]:
    """Rule ids reported as findings (as the audit does) and the patch's edits as (key, value) writes."""
    loaded = load_config(path)
    hw = get_hardware("mi300x")
    fired = [r for r in kb.applicable(loaded.workload, hw, kb.cached_rules()) if r.id not in loaded.workload.ignored_rules]
    patch = build_patch(loaded, [r for r in fired if not r.footgun], hw, "p1")
    shown = {r.id for r in fired if r.footgun or not kb.unactionable(patch.skipped.get(r.id))}
    writes: list[tuple[str, object]] = []
    for e in patch.edits:
        w = loaded.adapter.writes(e.field, e.new, loaded.workload, loaded.data)
        writes.extend((w or {}).items())
    return shown, writes


@pytest.mark.parametrize("rel", sorted(LABELS))
def test_reviewed_config_fires_the_reviewed_rules_and_only_valid_edits(rel: str) -> None:
    path = REVIEW / rel
    shown, writes = _findings(path)
    assert shown == set(LABELS[rel]), f"{rel}: new {sorted(shown - set(LABELS[rel]))}, gone {sorted(set(LABELS[rel]) - shown)}"
    loaded = load_config(path)
    data = loaded.data if isinstance(loaded.data, dict) else getattr(loaded.data, "values", {})
    bad = check_writes(loaded.adapter.name, str(path), loaded.text, data, dict(writes), getattr(loaded.data, "config_class", None))
    assert not bad, bad


def test_review_precision() -> None:
    verdicts = [v.split(":", 1)[0] for per in LABELS.values() for v in per.values()]
    assert "wrong" not in verdicts
    assert verdicts.count("correct") / len(verdicts) >= 0.90
