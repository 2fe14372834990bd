"""Every file a session can produce, written the same way by pytest, `goblin audit` and `goblin merge`."""

from __future__ import annotations

import os
from pathlib import Path

from ..fileio import write_atomic
from ..outcome import SessionReport
from ..redact import redact_model
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
    # Every string of the session is masked here, before any rendering; the rendered Markdown, XML and
    # JSON are never masked again: a mask that runs to the end of a line would eat the closing
    # backtick, fence or quote the renderer put after the value (red team round 7, H1/M2/M3).
    session = redact_model(session)
    markdown = render(session)

    def put(path: str, text: str, what: str) -> None:
        """One file; a failure (a folder in the way, a full disk) is a line, not a traceback,
        and does not stop the other reports (D23)."""
        try:
            write_atomic(path, text)
        except OSError as exc:
            written.append(f"could not write the {what} to {path}: {exc.strerror or type(exc).__name__}")
            return
        written.append(f"{what[0].upper()}{what[1:]} written to {path}")

    if json:  # first: the comment job needs it
        put(json, session.model_dump_json(indent=2), "JSON report")
    if md:
        put(md, markdown, "Markdown summary")
    if junit:
        from .junit import junit_xml

        put(junit, junit_xml(session), "JUnit XML")
    if sarif:
        from .sarif import sarif as to_sarif

        put(sarif, to_sarif(session), "SARIF")
    if step_summary:
        try:
            path: Path | None = append_step_summary(markdown)
        except OSError as exc:
            written.append(f"could not append to $GITHUB_STEP_SUMMARY: {exc.strerror or type(exc).__name__}")
            path = None
        if path is not None:
            written.append(f"summary appended to $GITHUB_STEP_SUMMARY ({path})")
    return written
