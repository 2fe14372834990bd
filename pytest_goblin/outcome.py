"""One audited config's outcome, as the session and the reporters see it."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from .schemas import SCHEMA_VERSION, Report, Verdict


class ItemOutcome(BaseModel):
    model_config = ConfigDict(extra="forbid")

    nodeid: str
    path: str
    verdict: Verdict
    message: str  # the reason, or the error text
    report: Report | None = None


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
        out = {"fail": 0, "warn": 0, "pass": 0, "error": 0}
        for item in self.items:
            out[item.verdict] += 1
        return out
