"""Per-audit state the tools share: what was parsed, proposed and measured, by id.

Tools hand each other ids ("p1", "r2"), never numbers: a backend can choose what to
benchmark and compare, but cannot write a metric of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from runner.projection import ProjectionRunner
from runner.protocol import Runner

from ..formats import LoadedConfig
from ..schemas import Hardware, Patch, Report, Rule, RunMetrics
from ..settings import Settings


@dataclass
class AuditContext:
    path: Path
    settings: Settings
    hw: Hardware
    runner: Runner
    rules: tuple[Rule, ...]
    backend: str = "planner"
    projection: ProjectionRunner = field(default_factory=ProjectionRunner)
    loaded: LoadedConfig | None = None
    patches: dict[str, Patch] = field(default_factory=dict)
    runs: dict[str, RunMetrics] = field(default_factory=dict)
    reports: list[Report] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # said in the report: fallbacks, backend trouble
    fatal: str | None = None  # a measured benchmark crashed, hung, ran out of memory or gave NaN

    @property
    def root(self) -> Path:
        """Tools may read files in the config's own directory tree only."""
        return self.path.resolve().parent
