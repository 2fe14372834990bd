"""Compare with a base-branch report: fail only on what a pull request made worse or introduced.

Like pytest-benchmark's --benchmark-compare-fail, the base report is the reference: a config
that already failed there with the same rules and about the same recoverable speedup is known
waste, reported as a warning so that an unrelated pull request stays green.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path

from pydantic import ValidationError

from .errors import GoblinError
from .outcome import ItemOutcome, SessionReport
from .schemas import SCHEMA_VERSION, Report

TOLERANCE = 0.05  # the lower bound may grow by 5% before it counts as worse


MAX_REPORT_BYTES = 200_000_000


def _non_finite(value: object, where: str = "") -> str | None:
    """The JSON path of the first NaN or infinity in a parsed report, or None."""
    if isinstance(value, float) and not math.isfinite(value):
        return where or "/"
    if isinstance(value, dict):
        for k, v in value.items():
            hit = _non_finite(v, f"{where}/{k}")
            if hit:
                return hit
    if isinstance(value, list):
        for i, v in enumerate(value):
            hit = _non_finite(v, f"{where}/{i}")
            if hit:
                return hit
    return None


def read_report(path: str) -> SessionReport:
    """A --goblin-json report, checked: a regular file, UTF-8, this schema version, finite numbers.

    Raises GoblinError with one line naming the file; used for baselines, `goblin merge` and
    `goblin comment`, whose input may come from another job's artifact.
    """
    from .safepath import UnsafePath, read_bytes

    try:
        raw = read_bytes(Path(path), limit=MAX_REPORT_BYTES)
    except UnsafePath as exc:
        raise GoblinError(f"{path}: cannot read the report: {exc.reason}") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise GoblinError(f"{path}: not a pytest-goblin JSON report: not valid UTF-8") from None
    except ValueError as exc:
        raise GoblinError(f"{path}: not a pytest-goblin JSON report: invalid JSON ({type(exc).__name__} at line {getattr(exc, 'lineno', '?')})") from None
    if not isinstance(data, dict):
        raise GoblinError(f"{path}: not a pytest-goblin JSON report: the top level is not an object")
    if data.get("schema_version") != SCHEMA_VERSION:
        raise GoblinError(
            f"{path}: not a pytest-goblin JSON report of schema version {SCHEMA_VERSION} (it says {str(data.get('schema_version'))[:20]!r}); write it with this goblin's --goblin-json"
        )
    bad = _non_finite(data)
    if bad:
        raise GoblinError(f"{path}: not a valid report: a NaN or infinite number at {bad[:200]}")
    try:
        return SessionReport.model_validate(data)
    except ValidationError as exc:
        raise GoblinError(f"{path}: not a pytest-goblin JSON report (write one with --goblin-json): {exc.errors()[0]['msg']}") from None


@lru_cache(maxsize=4)
def load_baseline(path: str) -> dict[str, ItemOutcome]:
    session = read_report(path)
    return {item.path: item for item in session.items}


def compare(report: Report, base: ItemOutcome | None, *, tolerance: float = TOLERANCE) -> Report:
    """The report with its verdict adjusted against the base branch's outcome for this config."""
    if report.verdict != "fail" or report.speedup is None:
        return report
    if base is None or base.report is None or base.verdict != "fail" or base.report.speedup is None:
        was = "not on the base branch" if base is None else f"{base.verdict} on the base branch"
        return report.model_copy(update={"reason": f"{report.reason} (new: {was})"})
    new_blockers = sorted({f.rule_id for f in report.findings if f.blocker} - {f.rule_id for f in base.report.findings if f.blocker})
    if new_blockers:  # a change that stops the run from starting is this change's, whatever the speedups
        return report.model_copy(update={"reason": f"{report.reason} (new blockers: {', '.join(new_blockers)})"})
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
