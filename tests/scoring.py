"""Held-out scoring of `goblin parse --json` records against hand-written labels (tests/data/heldout)."""

from __future__ import annotations

from typing import Any

NOT_DETERMINED = "not determined"  # an expected value neither the file nor the framework fixes: not scored


def score_records(expected: list[dict[str, Any]], actual: dict[str, dict[str, Any]]) -> tuple[int, int, list[str]]:
    """(fields right, fields scored, what went wrong) of `goblin parse --json` records against
    hand-written expectations keyed by path; a wrong `format` is a misclassified file."""
    right = scored = 0
    problems: list[str] = []
    for want in expected:
        got = actual.get(want["path"])
        if got is None:
            problems.append(f"{want['path']}: no record")
            continue
        for key, value in want.items():
            if key == "path" or value == NOT_DETERMINED:
                continue
            scored += 1
            if got.get(key) == value:
                right += 1
            else:
                kind = "misclassified" if key == "format" else "wrong"
                problems.append(f"{want['path']}: {kind} {key}: expected {value!r}, got {got.get(key)!r}")
    return right, scored, problems
