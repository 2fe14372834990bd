"""The Runner protocol and the base every built-in runner extends (the registry is in registry.py).

A runner turns a workload into RunMetrics. What it can do is declared, not probed: every runner
has `run`, `profile` and `run_pair`; `measured` says whether its numbers come from running
something; `attribution` whether single rules can be timed on it; `bind` gives the runner one
audit's files (the command runner runs the user's own config, the others ignore it).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol, runtime_checkable

from ..schemas import Hardware, Rule, RunMetrics, WorkloadConfig

# Given a variant ("baseline" or a patch id): a context manager yielding that variant's config
# file and the environment variables its patch sets.
VariantFiles = Callable[[str], AbstractContextManager[tuple[Path, dict[str, str]]]]


@runtime_checkable
class Runner(Protocol):
    name: str
    measured: bool  # numbers come from running something (False: projected)
    attribution: bool  # single rules can be timed (--goblin-attribution)
    sample_unit: str  # what one sample of step_time_s is: a timed "step", or a whole training "run"

    def run(self, w: WorkloadConfig, hw: Hardware, *, run_id: str, variant: str, steps: int = ...) -> RunMetrics: ...

    def profile(self, w: WorkloadConfig, hw: Hardware, *, run_id: str, variant: str) -> RunMetrics:
        """A run whose WasteBudget says where the step time goes."""
        ...

    def run_pair(
        self,
        before: WorkloadConfig,
        after: WorkloadConfig,
        hw: Hardware,
        *,
        run_ids: tuple[str, str],
        variants: tuple[str, str],
        rounds: int,
        steps: int,
        target_half_width: float | None = None,
        max_seconds: float = 0.0,
    ) -> tuple[RunMetrics, RunMetrics]:
        """Before and after, interleaved where the runner measures, so both share the drift."""
        ...

    def bind(self, files: VariantFiles) -> Runner:
        """This runner for one audit, given how to get each variant's config file."""
        ...

    def unavailable(self, rules: list[Rule]) -> dict[str, str]:
        """Rules whose edit needs a package the training environment lacks: id -> why (and how to install)."""
        ...

    @property
    def problems(self) -> list[str]:
        """Why this runner's measurements so far cannot decide a verdict (warm-up, noise); read by the verdict."""
        ...


class BaseRunner:
    """Defaults for a runner whose runs are independent: profile is a run, a pair is two runs."""

    name = "base"
    measured = False
    attribution = False
    sample_unit = "step"

    def run(self, w: WorkloadConfig, hw: Hardware, *, run_id: str, variant: str, steps: int = 1) -> RunMetrics:
        raise NotImplementedError

    def profile(self, w: WorkloadConfig, hw: Hardware, *, run_id: str, variant: str) -> RunMetrics:
        return self.run(w, hw, run_id=run_id, variant=variant)

    def run_pair(
        self,
        before: WorkloadConfig,
        after: WorkloadConfig,
        hw: Hardware,
        *,
        run_ids: tuple[str, str],
        variants: tuple[str, str],
        rounds: int,
        steps: int,
        target_half_width: float | None = None,
        max_seconds: float = 0.0,
    ) -> tuple[RunMetrics, RunMetrics]:
        a = self.run(before, hw, run_id=run_ids[0], variant=variants[0], steps=steps)
        b = self.run(after, hw, run_id=run_ids[1], variant=variants[1], steps=steps)
        return a, b

    def bind(self, files: VariantFiles) -> Runner:
        return self  # type: ignore[return-value]

    def unavailable(self, rules: list[Rule]) -> dict[str, str]:
        return {}  # the projection and the torch proxy need no package a rule names

    @property
    def problems(self) -> list[str]:
        return []
