"""JUnit XML for `goblin audit`, through the junit-xml package.

A fail is a failure, an error an error; an inconclusive measurement is a skipped case whose
message says why and what to change (it neither passed nor failed); a warning passes with its
text in system-out."""

from __future__ import annotations

from junit_xml import TestCase, TestSuite, to_xml_report_string

from ..outcome import SessionReport
from .text import failure_text


def junit_xml(session: SessionReport) -> str:
    cases = []
    for item in session.items:
        r = item.report
        case = TestCase(name="audit", classname=item.path.replace("/", "."), file=item.path)
        if r is not None and r.inconclusive:
            case.add_skipped_info(message=f"inconclusive: {r.inconclusive}", output=failure_text(r))
        elif item.verdict == "fail" and r is not None:
            case.add_failure_info(message=item.message, output=failure_text(r))
        elif item.verdict == "error":
            case.add_error_info(message=item.message)
        elif item.verdict == "warn":
            case.stdout = f"warning: {item.message}"
        elif r is not None and r.straddles:  # a pass the interval does not decide: said here too
            case.stdout = f"pass, not decided: {r.straddles}"
        cases.append(case)
    devices = sorted({i.report.measured_on for i in session.items if i.report is not None and i.report.measured_on})
    properties = {"goblin.target": session.target, **({"goblin.measured_on": "; ".join(devices)} if devices else {})}
    return to_xml_report_string([TestSuite("pytest-goblin", cases, properties=properties)])
