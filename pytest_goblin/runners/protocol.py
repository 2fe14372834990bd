"""The Runner protocol and make_runner()."""

from __future__ import annotations

import importlib.util
import os
from typing import Any, Protocol

from ..devices import gpu_present
from ..errors import GoblinError
from ..schemas import Hardware, RunMetrics, WorkloadConfig
from .projection import ProjectionRunner


class Runner(Protocol):
    name: str

    def run(self, w: WorkloadConfig, hw: Hardware, *, run_id: str, variant: str, steps: int = ...) -> RunMetrics: ...


def _device_fingerprint(device_id: str) -> str:
    """Which device kind and model the numbers came from, read without importing torch."""
    from ..hardware import detect_target

    return f"{device_id}:{detect_target() or 'no-amd-gpu'}"


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
    if name == "command":
        if not command:
            raise GoblinError("the command runner needs goblin_command, e.g. goblin_command = python train.py --config {config}")
        from .command import CommandRunner

        return CommandRunner(command, steps=command_steps, timeout_s=timeout_s, metric=command_metric, metric_unit=command_metric_unit)
    if name == "auto":
        name = "torch" if gpu_present() else "projection"
    if name == "projection":
        return ProjectionRunner()
    if name == "torch":
        if importlib.util.find_spec("torch") is None:
            raise GoblinError("--goblin-runner torch needs PyTorch: pip install 'pytest-goblin[torch]' (or your ROCm build of torch)")
        from .torch_runner import TorchRunner

        runner = TorchRunner(timeout_s=timeout_s, warmup=warmup)
        from .cache import CachedRunner, get_store

        store = get_store()
        if store is None:
            return runner
        device_id = f"{runner.device}:{os.environ.get('HIP_VISIBLE_DEVICES') or os.environ.get('CUDA_VISIBLE_DEVICES') or '-'}"
        return CachedRunner(runner, store, _device_fingerprint(device_id))  # type: ignore[return-value]
    raise GoblinError(f"unknown runner {name!r}; choose auto, projection, torch or command")
