"""Per-audit state the tools share: what was parsed, proposed and measured, by id.

Tools hand each other ids ("p1", "r2"), never numbers: a backend can choose what to
benchmark and compare, but cannot write a metric of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ..formats import LoadedConfig
from ..rules import applicable
from ..runners import Runner
from ..runners.projection import ProjectionRunner
from ..schemas import Hardware, Patch, Report, Rule, RunMetrics, WorkloadConfig
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
    small_gains: dict[str, float] = field(default_factory=dict)  # rule id -> own projected gain of a rule left out as not worth patching
    fatal: str | None = None  # a measured benchmark crashed, hung, ran out of memory or gave NaN
    # an online RL or preference item left inconclusive whose memory rules are judged on its training step
    # (rules.facts(training_step=True); audit_tools._training_step_only); None until the config is parsed
    training_step: str | None = None
    training_sequences: int = 1  # the sequences each micro-batch sample trains there (rules.training_step_bound's per_sample)
    _applicable: tuple[WorkloadConfig, list[Rule]] | None = field(default=None, init=False, repr=False)

    def applicable(self, w: WorkloadConfig) -> list[Rule]:
        """The rules whose predicates hold for `w`: worked out once per workload, since the query,
        the patch and the findings all ask for the audited one (each time five memory estimates)."""
        if self._applicable is None or self._applicable[0] is not w:
            self._applicable = (w, applicable(w, self.hw, self.rules, training_step=self.training_sequences if self.training_step else 0))
        return list(self._applicable[1])

    @property
    def root(self) -> Path:
        """Tools may read files in the config's own directory tree only."""
        return self.path.resolve().parent

    @contextmanager
    def variant_files(self, variant: str) -> Iterator[tuple[Path, dict[str, str]]]:
        """A variant's config file and the environment its patch sets, for the command runner:
        the user's own file for the baseline, a patched copy beside it for a patch."""
        from pytest_goblin.runners.command import variant_file

        from ..patching import patched_text

        if variant == "baseline":
            yield self.path, {}
            return
        patch = self.patches[variant]
        assert self.loaded is not None
        with variant_file(self.path, patched_text(self.loaded, patch), variant) as copy:
            yield copy, dict(patch.env)
