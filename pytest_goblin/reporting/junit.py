"""JUnit XML for `goblin audit`, through the junit-xml package."""

from __future__ import annotations

from junit_xml import TestCase, TestSuite, to_xml_report_string

from ..outcome import SessionReport
from .text import failure_text


def junit_xml(session: SessionReport) -> str:
    cases = []
    for item in session.items:
        r = item.report
        case = TestCase(name="audit", classname=item.path.replace("/", "."), file=item.path)
        if item.verdict == "fail" and r is not None:
            case.add_failure_info(message=item.message, output=failure_text(r))
        elif item.verdict == "error":
            case.add_error_info(message=item.message)
        elif item.verdict == "warn":
            case.stdout = f"warning: {item.message}"
        cases.append(case)
    return to_xml_report_string([TestSuite("pytest-goblin", cases)])
