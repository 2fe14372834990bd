"""The command runner: the user's own training, run for a few steps before and after the patch.

Opt-in through `goblin_command` (an ini value, never anything read from a config), for example
`accelerate launch train.py --config {config} --max_steps {steps}`. `{config}` becomes the
config file of the variant: the user's own file for the baseline, a patched copy written next to
it (so relative references still resolve) for a patch. Throughput is read from the command's
output: a `goblin_command_metric` regular expression when given, else the first of
`KNOWN_METRICS` that the log contains.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..errors import BenchmarkFailed, GoblinError
from ..schemas import Hardware, RunMetrics, WorkloadConfig
from ..settings import parse_template
from ..stats import bootstrap_speedup

Unit = Literal["tokens/s", "samples/s", "steps/s", "s/step"]
TAIL_LINES = 3  # lines of the log quoted when a run fails

_NUM = r"([0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)"
# Most specific first. Each is what a widely used trainer prints, per step or at the end.
KNOWN_METRICS: tuple[tuple[str, Unit, re.Pattern[str]], ...] = (
    ("torchtune tokens_per_second_per_gpu", "tokens/s", re.compile(r"tokens_per_second(?:_per_gpu)?['\"]?\s*[:=]\s*" + _NUM)),
    ("tokens/s in the log", "tokens/s", re.compile(_NUM + r"\s*(?:tokens/s|tok/s|tokens/sec)\b")),
    ("Trainer train_samples_per_second", "samples/s", re.compile(r"train_samples_per_second['\"]?\s*[:=]\s*" + _NUM)),
    ("Trainer train_steps_per_second", "steps/s", re.compile(r"train_steps_per_second['\"]?\s*[:=]\s*" + _NUM)),
    ("tqdm it/s", "steps/s", re.compile(_NUM + r"\s*it/s\b")),
    ("tqdm s/it", "s/step", re.compile(_NUM + r"\s*s/it\b")),
)
_OOM = re.compile(r"OutOfMemoryError|out of memory|HIP error: out of memory", re.IGNORECASE)
_NAN = re.compile(r"['\"]?loss['\"]?\s*[:=]\s*['\"]?nan\b", re.IGNORECASE)

# Given a variant ("baseline" or a patch id): a context manager yielding that variant's config
# file and the environment variables its patch sets.
VariantFiles = Callable[[str], AbstractContextManager[tuple[Path, dict[str, str]]]]


@dataclass(frozen=True)
class Throughput:
    value: float
    unit: Unit
    source: str  # which metric it was read from

    def step_seconds(self, w: WorkloadConfig) -> float:
        """Seconds per optimizer step of the variant that was run, whatever unit the log used."""
        if self.unit == "s/step":
            return self.value
        if self.unit == "steps/s":
            return 1.0 / self.value
        per_step = w.tokens_per_step if self.unit == "tokens/s" else w.micro_batch_size * w.gradient_accumulation
        return per_step / self.value


def read_throughput(log: str, metric: str | None = None) -> Throughput | None:
    """The run's throughput from its log: the median of the per-step values after the first
    (a warm-up step), or the only value; None when the log has none."""
    lines = log.replace("\r", "\n")
    if metric:
        pattern = re.compile(metric)
        values = [float(m.group(1)) for m in pattern.finditer(lines)]
        # a throughput, higher is better; its unit cancels in the before/after ratio
        return _summarise(values, "tokens/s", "goblin_command_metric") if values else None
    for name, unit, pattern in KNOWN_METRICS:
        values = [float(m.group(1)) for m in pattern.finditer(lines)]
        values = [v for v in values if v > 0]
        if values:
            return _summarise(values, unit, name)
    return None


def _summarise(values: list[float], unit: Unit, source: str) -> Throughput:
    steady = values[1:] if len(values) >= 3 else values
    return Throughput(statistics.median(steady), unit, source)


class CommandRunner:
    """Measured runs of the user's own training command, interleaved before/after."""

    name = "command"

    def __init__(
        self,
        template: str,
        *,
        steps: int = 20,
        timeout_s: float = 300.0,
        metric: str | None = None,
        cwd: Path | None = None,
        files: VariantFiles | None = None,
    ):
        self.template = template
        self.argv = parse_template(template)
        if metric is not None:
            try:
                if re.compile(metric).groups != 1:
                    raise GoblinError(f"goblin_command_metric {metric!r} must have exactly one (group) around the number")
            except re.error as exc:
                raise GoblinError(f"goblin_command_metric {metric!r} is not a regular expression: {exc}") from None
        self.steps = steps
        self.timeout_s = timeout_s
        self.metric = metric
        self.cwd = cwd
        self.files = files

    def bind(self, files: VariantFiles) -> CommandRunner:
        """This runner for one audit: `files` turns a variant name into its config file."""
        return CommandRunner(self.template, steps=self.steps, timeout_s=self.timeout_s, metric=self.metric, cwd=self.cwd, files=files)

    def run(self, w: WorkloadConfig, hw: Hardware, *, run_id: str, variant: str, steps: int = 0) -> RunMetrics:
        sample, tp = self._once(w, variant)
        return self._metrics(w, run_id, variant, [sample], tp, runs=1)

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
        """Whole training runs, A B B A ...; each run gives one sample. `steps` is the torch
        runner's; the command always runs `goblin_command_steps`. Rounds are added past
        `rounds` until the interval is within `target_half_width` or `max_seconds` pass."""
        a: list[float] = []
        b: list[float] = []
        tp_a = tp_b = None
        start = time.monotonic()
        i = 0
        while True:
            order = ((before, variants[0], a), (after, variants[1], b))
            for w, variant, out in order if i % 2 == 0 else order[::-1]:
                sample, tp = self._once(w, variant)
                out.append(sample)
                if out is a:
                    tp_a = tp
                else:
                    tp_b = tp
            i += 1
            if i < max(2, rounds):
                continue
            narrow = target_half_width is None or bootstrap_speedup(a, b).half_width <= target_half_width
            per_round = (time.monotonic() - start) / i
            if narrow or time.monotonic() - start + per_round > max_seconds:
                break
        assert tp_a is not None and tp_b is not None
        return (
            self._metrics(before, run_ids[0], variants[0], a, tp_a, runs=i),
            self._metrics(after, run_ids[1], variants[1], b, tp_b, runs=i),
        )

    def _once(self, w: WorkloadConfig, variant: str) -> tuple[float, Throughput]:
        if self.files is None:
            raise GoblinError("the command runner is not bound to an audit (CommandRunner.bind)")
        with self.files(variant) as (path, env):
            log = self._execute(path, env, variant)
        tp = read_throughput(log, self.metric)
        if tp is None:
            wanted = f"goblin_command_metric {self.metric!r}" if self.metric else "a throughput (tokens/s, train_samples_per_second, it/s, s/it)"
            raise BenchmarkFailed(f"the training log of {variant} has no {wanted}; set goblin_command_metric to a regex with one (group) around the number")
        return tp.step_seconds(w), tp

    def _execute(self, config: Path, env: dict[str, str], variant: str) -> str:
        argv = [a.replace("{config}", str(config)).replace("{steps}", str(self.steps)) for a in self.argv]
        full_env = {**os.environ, **env, "GOBLIN_VARIANT": variant, "GOBLIN_STEPS": str(self.steps)}
        try:
            proc = subprocess.run(argv, cwd=self.cwd, env=full_env, capture_output=True, text=True, timeout=self.timeout_s)
        except FileNotFoundError:
            raise BenchmarkFailed(f"goblin_command: {argv[0]!r} was not found on PATH") from None
        except subprocess.TimeoutExpired:
            raise BenchmarkFailed(f"training of {variant} hung: no exit within {self.timeout_s:.0f} s (goblin_budget_s)") from None
        log = (proc.stdout or "") + "\n" + (proc.stderr or "")
        if _OOM.search(log):
            raise BenchmarkFailed(f"training of {variant} ran out of memory: {_tail(log)}")
        if _NAN.search(log):
            raise BenchmarkFailed(f"training of {variant} produced a NaN loss")
        if proc.returncode < 0:
            why = " (the kernel's out-of-memory killer sends SIGKILL)" if proc.returncode == -9 else ""
            raise BenchmarkFailed(f"training of {variant} was killed by signal {-proc.returncode}{why}")
        if proc.returncode:
            raise BenchmarkFailed(f"training of {variant} exited with status {proc.returncode}: {_tail(log)}")
        return log

    def _metrics(self, w: WorkloadConfig, run_id: str, variant: str, samples: list[float], tp: Throughput, *, runs: int) -> RunMetrics:
        median = statistics.median(samples)
        return RunMetrics(
            run_id=run_id,
            variant=variant,
            evidence="measured",
            runner="command",
            device="this machine",
            step_time_s=samples,
            tokens_per_step=w.tokens_per_step,
            tokens_per_s=w.tokens_per_step / median,
            samples_per_s=w.micro_batch_size * w.gradient_accumulation / median,
            notes=[f"{runs} run(s) of goblin_command, {self.steps} steps each; throughput read as {tp.unit} from {tp.source}"],
        )


def _tail(log: str) -> str:
    lines = [ln.strip() for ln in log.strip().splitlines() if ln.strip()]
    return " | ".join(lines[-TAIL_LINES:]) or "no output"


@contextmanager
def variant_file(path: Path, text: str, variant: str) -> Iterator[Path]:
    """A patched copy of the config next to the original, so relative references resolve; removed afterwards."""
    import secrets

    # A fresh, unpredictable name created with O_EXCL | O_NOFOLLOW: a file or symlink a pull
    # request planted next to the config is never written through (D15).
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    for _ in range(8):
        copy = path.with_name(f".{path.stem}.goblin-{variant}-{secrets.token_hex(6)}{path.suffix}")
        try:
            fd = os.open(copy, flags, 0o600)
            break
        except FileExistsError:
            continue
    else:
        raise OSError(f"could not create a fresh patched copy next to {path.name}")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        yield copy
    finally:
        copy.unlink(missing_ok=True)
