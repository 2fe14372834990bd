"""SARIF 2.1.0 for GitHub code scanning: one result per finding, at its config line.

A rule's description and help link come from the installed knowledge base by rule id (a team rule
outside it keeps its https link); message text is plain text with its square
brackets escaped, so no config value becomes an embedded link (SARIF 2.1.0 §3.11.6)."""

from __future__ import annotations

import json
from typing import Any

from ..outcome import SessionReport
from .escape import sarif_uri
from .markdown import installed_rules


def _plain(text: str) -> str:
    """SARIF plain text: `[` and `]` escaped, so `[text](https://...)` is not an embedded link."""
    return text.replace("[", "\\[").replace("]", "\\]")


SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {"fail": "error", "warn": "warning", "pass": "note", "error": "error"}


def sarif(session: SessionReport, *, information_uri: str = "https://github.com/pytest-goblin/pytest-goblin") -> str:
    rules: dict[str, dict[str, Any]] = {}
    results: list[dict[str, Any]] = []
    kb = installed_rules()
    for item in session.items:
        r = item.report
        if r is None:
            continue
        for f in r.findings:
            known = kb.get(f.rule_id)
            rules.setdefault(
                f.rule_id,
                {
                    "id": f.rule_id,
                    "name": f.rule_id.replace(".", "_"),
                    "shortDescription": {"text": _plain(known.title if known else f.title)},
                    **({"helpUri": known.citation} if known else {"helpUri": f.citation} if f.citation.startswith("https://") else {}),
                    "properties": {
                        "category": known.category if known else f.category,
                        "footgun": known.footgun if known else f.footgun,
                        "blocker": f.blocker,
                    },
                },
            )
            region = {"startLine": f.line} if f.line else {"startLine": 1}
            level = "error" if f.blocker else "warning" if f.footgun and item.verdict == "fail" else _LEVEL[item.verdict]
            if f.blocker:
                speed = " The run will not start on the target: the item fails whatever the speedup."
            elif r.inconclusive and r.speedup:
                s = r.speedup
                speed = f" Inconclusive: the measured {s.point:.2f}x [{s.low:.2f}-{s.high:.2f}] decided nothing. Why, and what to change: {r.inconclusive}"
            else:
                speed = f" The patch recovers {r.speedup.point:.2f}x ({r.evidence})." if r.speedup else ""
            results.append(
                {
                    "ruleId": f.rule_id,
                    "level": level,
                    "message": {"text": _plain(f"{known.title if known else f.title}. {f.message}{speed}")},
                    "locations": [{"physicalLocation": {"artifactLocation": {"uri": sarif_uri(f.file if f.file and f.line else item.path)}, "region": region}}],
                    "properties": {"verdict": item.shown_verdict, **({"inconclusive": r.inconclusive} if r.inconclusive else {})},
                }
            )
    doc = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "pytest-goblin", "version": session.version, "informationUri": information_uri, "rules": list(rules.values())}},
                "results": results,
            }
        ],
    }
    return json.dumps(doc, indent=2)
