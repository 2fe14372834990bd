"""One validated Settings object built from the CLI, the ini file and the environment."""

from __future__ import annotations

import os
import re
import shlex
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .errors import GoblinError

RunnerName = Literal["auto", "projection", "torch", "command"]
PLACEHOLDERS = frozenset({"config", "steps"})  # what goblin_command may contain


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: str = "planner"
    runner: RunnerName = "auto"
    target: str = "mi300x"
    fail_at: float = Field(default=1.10, gt=1.0)
    warn_at: float = Field(default=1.03, ge=1.0)
    budget_s: float = Field(default=300.0, gt=0)
    bench_steps: int = Field(default=6, ge=2)
    warmup_steps: int = Field(default=1, ge=0)
    kb_paths: tuple[str, ...] = ()
    baseline: str | None = None  # a base-branch JSON report (--goblin-baseline)
    hub: bool = False  # --goblin-hub: config.json of unknown models may be downloaded from the Hugging Face Hub
    attribution: bool = False  # --goblin-attribution: measure each rule's contribution, drop the ones that do not pay
    command: str | None = None  # goblin_command: the user's training, run before and after the patch
    command_steps: int = Field(default=20, ge=1)  # goblin_command_steps: training steps per run ({steps})
    command_metric: str | None = None  # goblin_command_metric: a regex with one group around the throughput
    world_size: int | None = Field(default=None, ge=1, le=65536)  # goblin_world_size / --goblin-world-size: GPUs the job runs on
    # goblin_command_metric_unit: what goblin_command_metric's number is; unset, only ratios are reported
    command_metric_unit: Literal["tokens/s", "samples/s", "steps/s", "s/step"] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.warn_at > self.fail_at:
            raise ValueError(f"goblin_warn_at ({self.warn_at}) must not be above goblin_fail_at ({self.fail_at})")
        if self.runner == "command" and not self.command:
            raise ValueError(
                "the command runner needs a training command: goblin_command in the ini file (pytest) or --command (goblin audit), "
                "e.g. python train.py --config {config}"
            )
        if self.command:
            try:
                parse_template(self.command)
            except GoblinError as exc:
                raise ValueError(str(exc)) from None
        return self

    @property
    def runner_name(self) -> RunnerName:
        """`auto` resolves to the command runner when goblin_command is set."""
        return "command" if self.runner == "auto" and self.command else self.runner


def explain(exc: ValidationError) -> str:
    """A Settings validation error as one line for a user, without pydantic's "Value error, " prefix."""
    return "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())


def backend_from_env(cli_value: str | None) -> str:
    """`--goblin-backend` wins over GOBLIN_AGENT_BACKEND; the default is the deterministic planner."""
    return (cli_value or os.environ.get("GOBLIN_AGENT_BACKEND") or "planner").strip().lower()


def parse_template(template: str) -> list[str]:
    """The command as argv (no shell), checked for `{config}` and unknown placeholders."""
    try:
        argv = shlex.split(template)
    except ValueError as exc:
        raise GoblinError(f"goblin_command {template!r} cannot be split into arguments: {exc}") from None
    if not argv:
        raise GoblinError("goblin_command is empty; set it to the command that trains on {config}")
    names = set(re.findall(r"\{(\w*)\}", template))
    unknown = names - PLACEHOLDERS
    if unknown:
        raise GoblinError(f"goblin_command has unknown placeholder(s) {', '.join('{' + n + '}' for n in sorted(unknown))}; use {{config}} and {{steps}}")
    if "config" not in names:
        raise GoblinError("goblin_command must pass the config to the training, as {config}, e.g. 'python train.py --config {config}'")
    return argv
