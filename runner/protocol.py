"""The Runner protocol and make_runner()."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Protocol

from pytest_goblin.errors import GoblinError
from pytest_goblin.schemas import Hardware, RunMetrics, WorkloadConfig

from .projection import ProjectionRunner


class Runner(Protocol):
    name: str

    def run(self, w: WorkloadConfig, hw: Hardware, *, run_id: str, variant: str, steps: int = ...) -> RunMetrics: ...


def gpu_present() -> bool:
    """A ROCm or CUDA device node exists and torch is installed; checked without importing torch."""
    nodes = ("/dev/kfd", "/dev/nvidiactl")
    return any(os.path.exists(n) for n in nodes) and importlib.util.find_spec("torch") is not None


class BenchmarkFailed(GoblinError):
    """A measured benchmark crashed, ran out of memory, hung or produced a NaN loss."""

    fatal = True  # the audit's outcome, not something a backend should route around


class TorchRunner:
    """Measured runs, each in a child process (`python -m runner.worker`) under a timeout."""

    name = "torch"

    def __init__(self, *, device: str | None = None, timeout_s: float = 300.0, warmup: int = 1, command: list[str] | None = None):
        self.device = device or ("cuda" if gpu_present() else "cpu")
        self.timeout_s = timeout_s
        self.warmup = warmup
        self.command = command or [sys.executable, "-m", "runner.worker"]

    def run(self, w: WorkloadConfig, hw: Hardware, *, run_id: str, variant: str, steps: int = 6, profile: bool = False) -> RunMetrics:
        request = {
            "workload": w.model_dump(),
            "device": self.device,
            "steps": steps,
            "warmup": self.warmup,
            "run_id": run_id,
            "variant": variant,
            "profile": profile,
        }
        reply = self._call(request, variant)
        return RunMetrics.model_validate(reply["metrics"])

    def profile(self, w: WorkloadConfig, hw: Hardware, *, run_id: str, variant: str) -> RunMetrics:
        """A measured run whose WasteBudget comes from a torch.profiler trace."""
        return self.run(w, hw, run_id=run_id, variant=variant, steps=2, profile=True)

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
        """Before and after interleaved in one worker (A B B A ...), for drift-free ratios; with a
        target, the worker adds rounds until the interval is that narrow or max_seconds pass."""
        pair = {"before": before.model_dump(), "after": after.model_dump(), "run_ids": list(run_ids), "variants": list(variants)}
        request = {
            "pair": pair,
            "device": self.device,
            "rounds": rounds,
            "steps": steps,
            "warmup": self.warmup,
            "target_half_width": target_half_width,
            "max_seconds": max_seconds,
        }
        reply = self._call(request, f"{variants[0]} and {variants[1]}")
        return RunMetrics.model_validate(reply["before"]), RunMetrics.model_validate(reply["after"])

    def _call(self, request: dict[str, object], variant: str) -> dict[str, object]:
        root = str(Path(__file__).resolve().parent.parent)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)}
        try:
            proc = subprocess.run(
                self.command,
                input=json.dumps(request),
                capture_output=True,
                text=True,
                timeout=self.timeout_s,
                env=env,
            )
        except subprocess.TimeoutExpired:
            raise BenchmarkFailed(f"benchmark of {variant} hung: no result within {self.timeout_s:.0f} s (goblin_budget_s)") from None
        try:
            reply = json.loads(proc.stdout or "{}")
        except json.JSONDecodeError:
            reply = {}
        if proc.returncode < 0:
            sig = -proc.returncode
            why = " (the kernel's out-of-memory killer sends SIGKILL)" if sig == 9 else ""
            raise BenchmarkFailed(f"benchmark of {variant} was killed by signal {sig}{why}")
        if not reply.get("ok"):
            err = reply.get("error") or (proc.stderr.strip().splitlines() or [f"the worker exited with status {proc.returncode} and no result"])[-1]
            raise BenchmarkFailed(f"benchmark of {variant} failed: {err}")
        return dict(reply)


def _device_fingerprint(device_id: str) -> str:
    """Which device kind and model the numbers came from, read without importing torch."""
    from pytest_goblin.kb import detect_target

    return f"{device_id}:{detect_target() or 'no-amd-gpu'}"


def make_runner(
    name: str, *, timeout_s: float = 300.0, warmup: int = 1, command: str | None = None, command_steps: int = 20, command_metric: str | None = None
) -> Runner:
    if name == "command":
        if not command:
            raise GoblinError("the command runner needs goblin_command, e.g. goblin_command = python train.py --config {config}")
        from .command import CommandRunner

        return CommandRunner(command, steps=command_steps, timeout_s=timeout_s, metric=command_metric)
    if name == "auto":
        name = "torch" if gpu_present() else "projection"
    if name == "projection":
        return ProjectionRunner()
    if name == "torch":
        if importlib.util.find_spec("torch") is None:
            raise GoblinError("--goblin-runner torch needs PyTorch: pip install 'pytest-goblin[torch]' (or your ROCm build of torch)")
        runner = TorchRunner(timeout_s=timeout_s, warmup=warmup)
        from .cache import CachedRunner, get_store

        store = get_store()
        if store is None:
            return runner
        device_id = f"{runner.device}:{os.environ.get('HIP_VISIBLE_DEVICES') or os.environ.get('CUDA_VISIBLE_DEVICES') or '-'}"
        return CachedRunner(runner, store, _device_fingerprint(device_id))  # type: ignore[return-value]
    raise GoblinError(f"unknown runner {name!r}; choose auto, projection, torch or command")
