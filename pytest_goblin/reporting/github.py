"""GitHub Actions: the job summary and workflow annotations at config lines.

Annotations are capped per level, since GitHub shows only the first few of each kind per step
and a wall of them hides the one that matters; the rest are counted in a closing notice.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..outcome import SessionReport
from ..redact import redact_model
from .text import undecided_text

MAX_PER_LEVEL = 10
MAX_STEP_SUMMARY = 1024 * 1024  # GitHub aborts a step summary upload above 1 MiB


def in_actions() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


def append_step_summary(markdown: str) -> Path | None:
    """Append to $GITHUB_STEP_SUMMARY when it is set; returns the file written."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return None
    from .markdown import truncate

    path = Path(target)
    try:
        room = MAX_STEP_SUMMARY - (path.stat().st_size if path.is_file() else 0)
    except OSError:
        room = MAX_STEP_SUMMARY
    notice = "…the summary was cut to GitHub's 1 MiB step-summary limit; the JSON report (--goblin-json) has every config."
    text = truncate(markdown, max(room, 4096), notice)  # rendered from a masked session (outputs.write_outputs)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(text if text.endswith("\n") else text + "\n")
    return path


def _escape_data(text: str) -> str:
    """The runner's own escaping, plus the legacy `##[` form it matches anywhere in a line."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A").replace("##[", "#\u200b#[")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workflow_commands(session: SessionReport) -> list[str]:
    """`::error` for findings of failing configs, `::warning` for warned ones and footguns."""
    lines: dict[str, list[str]] = {"error": [], "warning": []}
    dropped = {"error": 0, "warning": 0}
    session = redact_model(session)  # the strings, before escaping: a mask never eats a `::` or a property
    for item in session.items:
        r = item.report
        if item.verdict == "error":
            level, text = "error", f"pytest-goblin could not audit this config: {item.message}"
            _add(lines, dropped, level, f"::{level} file={_escape_property(item.path)},title=goblin audit error::{_escape_data(text)}")
            continue
        if r is None or item.verdict == "pass":
            continue
        if r.inconclusive:
            text = f"measured {undecided_text(r)}"
            _add(
                lines,
                dropped,
                "warning",
                f"::warning file={_escape_property(item.path)},title={_escape_property('goblin: inconclusive')}::{_escape_data(text)}",
            )
        for f in r.findings:
            level = "error" if item.verdict == "fail" and not f.footgun else "warning"
            # the file the line is in: a launch line's value is annotated on README.md, not on the config
            props = (
                f"file={_escape_property(f.file if f.file and f.line else item.path)}"
                + (f",line={f.line}" if f.line else "")
                + f",title={_escape_property(f.rule_id)}"
            )
            text = f"{f.title}. {f.message} ({f.citation})"
            _add(lines, dropped, level, f"::{level} {props}::{_escape_data(text)}")
    out = lines["error"] + lines["warning"]
    if dropped["error"] or dropped["warning"]:
        out.append(f"::notice title=pytest-goblin::{dropped['error']} more errors and {dropped['warning']} more warnings are in the job summary")
    return out


def _add(lines: dict[str, list[str]], dropped: dict[str, int], level: str, line: str) -> None:
    if len(lines[level]) < MAX_PER_LEVEL:
        lines[level].append(line)
    else:
        dropped[level] += 1
