"""The registry of runners: name -> factory, and how `auto` and the settings choose one."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from typing import Any

from ..devices import gpu_present
from ..errors import GoblinError
from ..settings import Settings
from .base import Runner


def _device_fingerprint(device_id: str) -> str:
    """Which device kind and model the numbers came from, read without importing torch."""
    from ..hardware import detect_target

    return f"{device_id}:{detect_target() or 'no-amd-gpu'}"


def _projection(settings: Settings) -> Runner:
    from .projection import ProjectionRunner

    return ProjectionRunner()


def _torch(settings: Settings) -> Runner:
    if importlib.util.find_spec("torch") is None:
        raise GoblinError("--goblin-runner torch needs PyTorch: pip install 'pytest-goblin[torch]' (or your ROCm build of torch)")
    from .cache import CachedRunner, get_store
    from .torch_runner import TorchRunner

    runner = TorchRunner(timeout_s=settings.budget_s, warmup=settings.warmup_steps)
    store = get_store()
    if store is None:
        return runner
    device_id = f"{runner.device}:{os.environ.get('HIP_VISIBLE_DEVICES') or os.environ.get('CUDA_VISIBLE_DEVICES') or '-'}"
    return CachedRunner(runner, store, _device_fingerprint(device_id))


def _command(settings: Settings) -> Runner:
    if not settings.command:
        raise GoblinError("the command runner needs goblin_command, e.g. goblin_command = python train.py --config {config}")
    from .command import CommandRunner

    return CommandRunner(
        settings.command,
        steps=settings.command_steps,
        timeout_s=settings.budget_s,
        metric=settings.command_metric,
        metric_unit=settings.command_metric_unit,
        thresholds=(settings.warn_at, settings.fail_at),
    )


# name -> factory; `auto` is resolved by resolve_runner_name() before a factory is chosen.
RUNNERS: dict[str, Callable[[Settings], Runner]] = {"projection": _projection, "torch": _torch, "command": _command}


def resolve_runner_name(settings: Settings) -> str:
    """`auto`: the command runner when goblin_command is set, else torch on a ROCm/CUDA machine, else the projection."""
    name = settings.runner_name
    if name == "auto":
        return "torch" if gpu_present() else "projection"
    return name


def runner_for(settings: Settings) -> Runner:
    name = resolve_runner_name(settings)
    if name not in RUNNERS:
        raise GoblinError(f"unknown runner {name!r}; choose auto, {', '.join(RUNNERS)}")
    return RUNNERS[name](settings)


def make_runner(
    name: str,
    *,
    timeout_s: float = 300.0,
    warmup: int = 1,
    command: str | None = None,
    command_steps: int = 20,
    command_metric: str | None = None,
    command_metric_unit: Any = None,
) -> Runner:
    """A runner by name with explicit options (tests, benchmarks); audits use runner_for(settings)."""
    if name == "command" and not command:
        raise GoblinError("the command runner needs goblin_command, e.g. goblin_command = python train.py --config {config}")
    settings = Settings(
        runner=name,  # type: ignore[arg-type]
        budget_s=timeout_s,
        warmup_steps=warmup,
        command=command,
        command_steps=command_steps,
        command_metric=command_metric,
        command_metric_unit=command_metric_unit,
    )  # type: ignore[arg-type]
    return runner_for(settings)
