"""Every file a session can produce, written the same way by pytest, `goblin audit` and `goblin merge`."""

from __future__ import annotations

import os
from pathlib import Path

from ..fileio import write_atomic
from ..outcome import SessionReport
from ..redact import redact, redact_obj
from .github import append_step_summary
from .markdown import render


def write_outputs(
    session: SessionReport,
    *,
    md: str | None = None,
    json: str | None = None,
    junit: str | None = None,
    sarif: str | None = None,
    step_summary: bool = True,
) -> list[str]:
    """Write the requested reports (each atomically); returns one line per file written."""
    written: list[str] = []
    step_summary = step_summary and bool(os.environ.get("GITHUB_STEP_SUMMARY"))
    if not (md or json or junit or sarif or step_summary):
        return written  # nothing asked for: no redaction pass over the whole session
    session = type(session).model_validate(redact_obj(session.model_dump(mode="json")))
    markdown = redact(render(session))
    if md:
        write_atomic(md, markdown)
        written.append(f"Markdown summary written to {md}")
    if json:
        write_atomic(json, session.model_dump_json(indent=2))
        written.append(f"JSON report written to {json}")
    if junit:
        from .junit import junit_xml

        write_atomic(junit, redact(junit_xml(session)))
        written.append(f"JUnit XML written to {junit}")
    if sarif:
        from .sarif import sarif as to_sarif

        write_atomic(sarif, to_sarif(session))
        written.append(f"SARIF written to {sarif}")
    if step_summary:
        path: Path | None = append_step_summary(markdown)
        if path is not None:
            written.append(f"summary appended to $GITHUB_STEP_SUMMARY ({path})")
    return written
