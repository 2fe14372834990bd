"""One audited config's outcome, as the session and the reporters see it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, computed_field, model_validator

from .schemas import SCHEMA_VERSION, Report, Verdict


class ItemOutcome(BaseModel):
    model_config = ConfigDict(extra="forbid")

    nodeid: str
    path: str
    verdict: Verdict
    message: str  # the reason, or the error text
    report: Report | None = None

    @property
    def inconclusive(self) -> str | None:
        """Why a measurement could not decide (and what to change), or None. Such an item's
        verdict is "warn"; every output shows it as inconclusive, never as a plain pass or fail."""
        return self.report.inconclusive if self.report is not None else None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def shown_verdict(self) -> str:
        """The verdict as outputs label it: "inconclusive" for a measurement that did not decide.
        In the JSON too, beside `verdict` (which stays "warn": the item passes), so the JSON says
        what JUnit, Markdown and the terminal say."""
        return "inconclusive" if self.inconclusive else self.verdict

    @model_validator(mode="before")
    @classmethod
    def _derived_on_input(cls, data: Any) -> Any:
        """A report read back (merge, baseline) carries shown_verdict; it is derived, not read."""
        if isinstance(data, dict) and "shown_verdict" in data:
            data = {k: v for k, v in data.items() if k != "shown_verdict"}
        return data


class SessionReport(BaseModel):
    """The JSON report: every item, in node-id order, with a schema version."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = SCHEMA_VERSION
    tool: str = "pytest-goblin"
    version: str
    target: str
    items: list[ItemOutcome]
    not_collected: dict[str, str] = {}  # path -> why it is not a training config

    def counts(self) -> dict[str, int]:
        """Items per shown verdict: an inconclusive item counts as "inconclusive", not "warn"."""
        out = {"fail": 0, "warn": 0, "inconclusive": 0, "pass": 0, "error": 0}
        for item in self.items:
            out[item.shown_verdict] += 1
        return out

    def counts_text(self) -> str:
        c = self.counts()
        return ", ".join(f"{c[k]} {k}" for k in ("fail", "warn", "inconclusive", "pass", "error") if c[k] or k != "inconclusive")
