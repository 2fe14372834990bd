"""Compare with a base-branch report: fail only on what a pull request made worse or introduced.

Like pytest-benchmark's --benchmark-compare-fail, the base report is the reference: a config
that already failed there with the same rules and about the same recoverable speedup is known
waste, reported as a warning so that an unrelated pull request stays green.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import ValidationError

from .errors import GoblinError
from .outcome import ItemOutcome, SessionReport
from .schemas import Report

TOLERANCE = 0.05  # the lower bound may grow by 5% before it counts as worse


@lru_cache(maxsize=4)
def load_baseline(path: str) -> dict[str, ItemOutcome]:
    p = Path(path)
    try:
        session = SessionReport.model_validate_json(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise GoblinError(f"{path}: cannot read the baseline report: {exc.strerror}") from None
    except ValidationError as exc:
        raise GoblinError(f"{path}: not a pytest-goblin JSON report (write one with --goblin-json): {exc.errors()[0]['msg']}") from None
    return {item.path: item for item in session.items}


def compare(report: Report, base: ItemOutcome | None, *, tolerance: float = TOLERANCE) -> Report:
    """The report with its verdict adjusted against the base branch's outcome for this config."""
    if report.verdict != "fail" or report.speedup is None:
        return report
    if base is None or base.report is None or base.verdict != "fail" or base.report.speedup is None:
        was = "not on the base branch" if base is None else f"{base.verdict} on the base branch"
        return report.model_copy(update={"reason": f"{report.reason} (new: {was})"})
    new_rules = sorted(set(report.patch.rule_ids if report.patch else []) - set(base.report.patch.rule_ids if base.report.patch else []))
    low, base_low = report.speedup.low, base.report.speedup.low
    if new_rules:
        return report.model_copy(update={"reason": f"{report.reason} (worse than the base branch: new findings {', '.join(new_rules)})"})
    if low > base_low * (1 + tolerance):
        return report.model_copy(update={"reason": f"{report.reason} (worse than the base branch: {low:.2f}x recoverable here, {base_low:.2f}x there)"})
    return report.model_copy(
        update={
            "verdict": "warn",
            "reason": f"known on the base branch ({base_low:.2f}x recoverable there, {low:.2f}x here); not caused by this change",
        }
    )
