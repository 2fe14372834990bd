"""The command runner: the user's own training, run for a few steps before and after the patch.

Opt-in through `goblin_command` (an ini value, never anything read from a config), for example
`accelerate launch train.py --config {config} --max_steps {steps}`. `{config}` becomes the
config file of the variant: the user's own file for the baseline, a patched copy written next to
it (so relative references still resolve) for a patch.

Throughput is read from the training loop only (docs: README "Measuring your own training"):
a `goblin_command_metric` regex when given (its unit from `goblin_command_metric_unit`), else
per-step figures a trainer prints (torchtune's tokens_per_second_per_gpu), else the Trainer's
own end-of-run `train_samples_per_second` / `train_steps_per_second` (quoted or not, as
transformers 5 prints them), else a tqdm bar whose total is the requested step count. Bars
with another total (weights loading, dataset mapping) are never read. Per-step values lose
their warm-up steps by WARMUP rule; a training bar tells how much of the end-of-run average
warm-up took, and a run whose warm-up dominates is flagged so the verdict says inconclusive.

Every run is its own process group, killed with it on a timeout, Ctrl-C or SIGTERM; the budget
(`goblin_budget_s`) caps the whole measurement of one audit, not each run.
"""

from __future__ import annotations

import contextvars
import math
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, Literal

from ..errors import BenchmarkFailed, GoblinError, StartupRefused
from ..schemas import Hardware, Rule, RunMetrics, Speedup, WorkloadConfig
from ..settings import parse_template
from ..stats import MIN_DECIDING_ROUNDS, bootstrap_speedup, paired_speedup, settled
from .base import BaseRunner, VariantFiles
from .interleave import Deadline, RunStart, interleave

Unit = Literal["tokens/s", "samples/s", "steps/s", "s/step", "rate"]
MetricUnit = Literal["tokens/s", "samples/s", "steps/s", "s/step"]  # what goblin_command_metric_unit may declare
TAIL_LINES = 3  # lines of the log quoted when a run fails

# Warm-up rule for per-step values: the first WARMUP_MIN_DROP values always go (compile, cache
# fill, allocator growth), then any further leading value more than WARMUP_TOLERANCE away from the
# median of the second half of the run. At least MIN_STEADY values must remain.
WARMUP_MIN_DROP = 1
WARMUP_TOLERANCE = 0.20
MIN_STEADY = 2
# A run whose end-of-run average is more than this share warm-up (against the steady rate its
# training bar shows) cannot rank two configs that compile or allocate differently.
WARMUP_SHARE_LIMIT = 0.25
WARMUP_SHARE_TARGET = 0.10  # calibration picks a step count that brings warm-up to this share
MIN_RUNS = 5  # the solo baseline plus two interleaved rounds: what the budget must leave room for
MIN_STEP_S = 1e-4  # a training step faster than 0.1 ms is not a training step: the wrong number was read
KILL_GRACE_S = 5.0  # between SIGTERM and SIGKILL of a run's process group

_NUM = r"([0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)"
_Q = r"['\"]?"  # transformers 5 prints log values quoted: {'train_samples_per_second': '40.94'}
_KEY = _Q + r"\s*[:=]\s*" + _Q
# Per-step figures, most specific first.
PER_STEP_METRICS: tuple[tuple[str, Unit, re.Pattern[str]], ...] = (
    # not the Trainer's train_tokens_per_second (below): the word must start here
    ("torchtune tokens_per_second_per_gpu", "tokens/s", re.compile(r"(?<![\w])tokens_per_second(?:_per_gpu)?" + _KEY + _NUM)),
    ("tokens/s in the log", "tokens/s", re.compile(_NUM + r"\s*(?:tokens/s|tok/s|tokens/sec)\b")),
)
# The Trainer's end-of-run metrics (transformers.Trainer.train -> speed_metrics("train", ...)), and
# with include_num_input_tokens_seen its running tokens/s since the start of training, logged at
# every logging step from the tokens it counted (transformers 5.25.0 trainer.py:4247-4251,
# _track_num_input_tokens :2760-2792: padding included unless the mode is "non_padding").
TRAINER_TOKENS = "Trainer train_tokens_per_second (from num_input_tokens_seen, the tokens the Trainer counted)"
END_METRICS: tuple[tuple[str, Unit, re.Pattern[str]], ...] = (
    (TRAINER_TOKENS, "tokens/s", re.compile(r"train_tokens_per_second" + _KEY + _NUM)),
    ("Trainer train_samples_per_second", "samples/s", re.compile(r"train_samples_per_second" + _KEY + _NUM)),
    ("Trainer train_steps_per_second", "steps/s", re.compile(r"train_steps_per_second" + _KEY + _NUM)),
)
KNOWN_METRICS = PER_STEP_METRICS + END_METRICS
# One tqdm status line: "desc: 45%|####  | 9/20 [00:04<00:05,  2.13it/s]" (rate may be "?" or s/it).
# linear on any line: a description starts only after a delimiter, and every run is bounded (tests/test_security.py)
_BAR = re.compile(
    r"(?:(?<![^\n|%:])(?P<desc>[^\n|%:]{0,200}):[ \t]{0,8})?[ \t]{0,8}\d{1,3}%\|[^|\n]*\|\s*(?P<n>\d+)/(?P<total>\d+)\s*\[[^\],]*,\s*(?:"
    + _NUM
    + r"\s*(?P<unit>it/s|s/it)|\?[^\]]*)"
)
_TRAINING_BAR = re.compile(r"\b(train|training|epoch|step|steps|iteration|iter)\b", re.IGNORECASE)
_OOM = re.compile(r"OutOfMemoryError|out of memory|HIP error: out of memory", re.IGNORECASE)
_NAN = re.compile(r"['\"]?loss['\"]?\s*[:=]\s*['\"]?nan\b", re.IGNORECASE)
# The last line of a Python traceback ("ValueError: Your setup doesn't support bf16/gpu. ..."), also
# behind torchrun's "[rank0]: " prefix: what the framework itself said when it stopped.
_EXCEPTION = re.compile(
    r"^(?:\[rank\d{1,6}\]:\s?)?((?:[A-Za-z_][\w]{0,80}\.){0,8}[A-Z]\w{0,80}(?:Error|Exception|Exit)\b(?::[ \t][^\n]{0,600})?)[ \t]*$", re.MULTILINE
)

Progress = Callable[[str], None]
# Where progress lines go when the runner is made deep inside an audit: the pytest item or the CLI
# sets this around the audit; asyncio.run copies the context into the audit's task.
PROGRESS: contextvars.ContextVar[Progress | None] = contextvars.ContextVar("goblin_command_progress", default=None)


@dataclass(frozen=True)
class Throughput:
    value: float
    unit: Unit
    source: str  # which metric it was read from
    steady: float | None = None  # the same quantity over the steps after warm-up, when the log shows it
    notes: tuple[str, ...] = ()

    @property
    def warmup_share(self) -> float | None:
        """Share of the measured time spent beyond the steady rate (warm-up), when known."""
        if self.steady is None:
            return None
        if self.unit == "s/step":
            return max(0.0, 1.0 - self.steady / self.value)
        return max(0.0, 1.0 - self.value / self.steady)

    def step_seconds(self, w: WorkloadConfig) -> float:
        """Seconds per optimizer step of the variant that was run, whatever unit the log used.
        "rate" (a custom metric of undeclared unit) gives relative seconds: only ratios mean anything."""
        if self.unit == "s/step":
            return self.value
        if self.unit in ("steps/s", "rate"):
            return 1.0 / self.value
        per_step = w.tokens_per_step if self.unit == "tokens/s" else w.micro_batch_size * w.gradient_accumulation
        return per_step / self.value


def steady_values(values: list[float]) -> tuple[list[float], int]:
    """Per-step values with warm-up dropped by the WARMUP rule; (kept, dropped count)."""
    if len(values) < WARMUP_MIN_DROP + MIN_STEADY:
        return values, 0
    reference = statistics.median(values[len(values) // 2 :])
    drop = WARMUP_MIN_DROP
    while len(values) - drop > MIN_STEADY and abs(values[drop] - reference) > WARMUP_TOLERANCE * reference:
        drop += 1
    return values[drop:], drop


@dataclass
class _Bar:
    desc: str
    total: int
    rates: list[tuple[int, float]] = field(default_factory=list)  # (n, steps/s) per status line


def _bars(text: str) -> list[_Bar]:
    """Every tqdm bar in the log, its status lines grouped by (description, total) in order."""
    bars: dict[tuple[str, int], _Bar] = {}
    for m in _BAR.finditer(text):
        desc, total = (m.group("desc") or "").strip(), int(m.group("total"))
        bar = bars.setdefault((desc, total), _Bar(desc, total))
        if m.group(4) is None:
            continue
        value = float(m.group(4))
        if value > 0:
            bar.rates.append((int(m.group("n")), value if m.group("unit") == "it/s" else 1.0 / value))
    return list(bars.values())


def training_bar(text: str, steps: int | None) -> _Bar | None:
    """The training loop's bar: its total is the requested step count, or its name says training."""
    bars = [b for b in _bars(text) if b.rates]
    exact = [b for b in bars if steps is not None and b.total == steps and not b.desc]
    named = [b for b in bars if (steps is not None and b.total == steps) or (b.desc and _TRAINING_BAR.search(b.desc))]
    chosen = exact or named
    return chosen[-1] if chosen else None


def _bar_rates(bar: _Bar) -> tuple[float | None, float | None]:
    """(whole-run average, steady rate) in steps/s from a training bar. tqdm's closing line at
    n == total shows the whole-run average; the lines before it an exponential moving average of
    the latest steps, so their median over the second half of the run is the rate after warm-up."""
    done = [r for n, r in bar.rates if n == bar.total]
    average = done[-1] if done else None
    late = [r for n, r in bar.rates if bar.total / 2 < n < bar.total] or done[:-1]
    steady = statistics.median(late) if late else None
    return average, steady


def read_throughput(log: str, metric: str | None = None, *, unit: MetricUnit | None = None, steps: int | None = None) -> Throughput | None:
    """The run's throughput from its training loop's output; None when the log has none.
    `steps` is the requested step count: only a progress bar of that total is the training loop."""
    text = log.replace("\r", "\n")
    bar = training_bar(text, steps)
    average, steady = _bar_rates(bar) if bar else (None, None)
    if metric:
        values = [float(m.group(1)) for m in re.finditer(metric, text)]
        values = [v for v in values if v > 0]
        if not values:
            return None
        return _summarise(values, unit or "rate", "goblin_command_metric")
    for name, known_unit, pattern in PER_STEP_METRICS:
        values = [float(m.group(1)) for m in pattern.finditer(text)]
        values = [v for v in values if v > 0]
        if values:
            return _summarise(values, known_unit, name)
    for name, known_unit, pattern in END_METRICS:
        values = [float(m.group(1)) for m in pattern.finditer(text)]
        values = [v for v in values if v > 0]
        if values:
            value = values[-1]  # one per train() call; the last is the run's
            steps_per_s = next((float(m.group(1)) for m in reversed(list(END_METRICS[-1][2].finditer(text)))), None) or average
            scaled = value * steady / steps_per_s if steady and steps_per_s else None
            return Throughput(value, known_unit, name, steady=scaled)
    if bar is not None and average is not None:
        return Throughput(average, "steps/s", f"training progress bar ({bar.total} steps)", steady=steady)
    if bar is not None and steady is not None:
        return Throughput(steady, "steps/s", f"training progress bar ({bar.total} steps), unfinished", steady=steady)
    return None


def _summarise(values: list[float], unit: Unit, source: str) -> Throughput:
    """Per-step values: the median after the WARMUP rule dropped the warm-up steps."""
    kept, dropped = steady_values(values)
    value = statistics.median(kept)
    note = (f"{dropped} warm-up step(s) of {len(values)} dropped (WARMUP rule)",) if dropped else ()
    return Throughput(value, unit, source, steady=value, notes=note)


# ------------------------------------------------------------------ packages a patch needs
# (workload field, value the rule sets) -> (module the edit makes the trainer import, install command).
# transformers imports liger_kernel for use_liger_kernel, flash_attn for attn_implementation
# flash_attention_2, bitsandbytes for load_in_4bit / load_in_8bit.
NEEDS_PACKAGE: dict[tuple[str, Any], tuple[str, str]] = {
    ("fused_kernels", True): ("liger_kernel", "pip install liger-kernel"),
    ("attention", "flash"): ("flash_attn", "pip install flash-attn --no-build-isolation"),
    ("quantization", "4bit"): ("bitsandbytes", "pip install bitsandbytes"),
    ("quantization", "8bit"): ("bitsandbytes", "pip install bitsandbytes"),
}
_PYTHON = re.compile(r"^python(\d+(\.\d+)?)?(\.exe)?$")
_CHECK = "import importlib.util,sys; print(' '.join(m for m in sys.argv[1:] if importlib.util.find_spec(m) is None))"


def command_python(argv: list[str]) -> str:
    """The interpreter the training command runs: argv[0] when it is a python, the shebang of a
    launcher script on PATH (accelerate, torchrun), else the current interpreter."""
    exe = argv[0]
    if _PYTHON.match(Path(exe).name):
        return shutil.which(exe) or exe
    found = shutil.which(exe)
    if found:
        try:
            with open(found, "rb") as f:
                first = f.readline(300).decode("utf-8", "replace").strip()
        except OSError:
            first = ""
        parts = first[2:].split() if first.startswith("#!") else []
        if parts and Path(parts[0]).name == "env" and len(parts) > 1 and _PYTHON.match(Path(parts[-1]).name):
            return shutil.which(parts[-1]) or parts[-1]
        if parts and _PYTHON.match(Path(parts[0]).name):
            return parts[0]
    return sys.executable


def missing_modules(python: str, modules: list[str]) -> list[str]:
    """The modules `python` cannot import (found by importlib.util.find_spec: nothing is imported).

    The probe is goblin's own child, so it is isolated from the working directory (a checkout):
    it runs in a private empty folder with PYTHONSAFEPATH=1 (Pythons before 3.11 ignore the
    variable; the empty folder is what they put first on sys.path). The answer is what the
    interpreter has installed, not a package folder lying in the checkout."""
    if not modules:
        return []
    import tempfile

    try:
        with tempfile.TemporaryDirectory(prefix="goblin-probe-", ignore_cleanup_errors=True) as private:
            env = {**os.environ, "PYTHONSAFEPATH": "1"}
            out = subprocess.run([python, "-c", _CHECK, *modules], capture_output=True, text=True, timeout=60, cwd=private, env=env)
    except (OSError, subprocess.TimeoutExpired):
        return []  # cannot tell: leave the rules in, the run will say
    return out.stdout.split() if out.returncode == 0 else []


# ------------------------------------------------------------------ the runner
class CommandRunner(BaseRunner):
    """Measured runs of the user's own training command, interleaved before/after."""

    name = "command"
    measured = True
    attribution = False  # it measures whole patches: one training run per variant
    sample_unit = "run"  # one sample per whole training run

    def __init__(
        self,
        template: str,
        *,
        steps: int = 20,
        timeout_s: float = 300.0,
        metric: str | None = None,
        metric_unit: MetricUnit | None = None,
        cwd: Path | None = None,
        files: VariantFiles | None = None,
        progress: Progress | None = None,
        thresholds: tuple[float, float] | None = None,
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
        self.configured_steps = steps
        self.timeout_s = timeout_s  # goblin_budget_s: the whole measurement of one audit
        self.metric = metric
        self.metric_unit = metric_unit
        self.cwd = cwd
        self.files = files
        self.progress = progress
        # (warn_at, fail_at): runs are added until the interval lies on one side of each (stats.straddled)
        self.thresholds = thresholds
        self._problems: list[str] = []  # reasons the measurement cannot decide: read by the verdict
        self.notes: list[str] = []
        self._started: float | None = None
        self._solo: dict[str, list[tuple[int, float, Throughput]]] = {}  # variant -> runs before the pairs
        self._runs = 0  # runs started so far in this audit (the calibration run included): the progress lines count these
        self._late: dict[str, list[float]] = {}  # variant -> late-step seconds of every interleaved run
        self._compared: dict[str, list[float]] = {}  # variant -> samples of every interleaved call so far: what the figures show
        self._pairs: dict[str, list[tuple[float, float]]] = {}  # patch variant -> (baseline, patch) seconds of each round: the verdict's
        self._missing: dict[str, list[str]] = {}
        self._shares: dict[str, list[tuple[float, Throughput]]] = {}  # patch variant -> (warm-up share, reading) of each run

    def bind(self, files: VariantFiles) -> CommandRunner:
        """This runner for one audit: `files` turns a variant name into its config file."""
        return CommandRunner(
            self.template,
            steps=self.steps,
            timeout_s=self.timeout_s,
            metric=self.metric,
            metric_unit=self.metric_unit,
            cwd=self.cwd,
            files=files,
            progress=self.progress or PROGRESS.get(),
            thresholds=self.thresholds,
        )

    def profile(self, w: WorkloadConfig, hw: Hardware, *, run_id: str, variant: str) -> RunMetrics:
        """A training log has a throughput, not a trace: the profile comes from the projection."""
        from .projection import ProjectionRunner

        m = ProjectionRunner().run(w, hw, run_id=run_id, variant=variant)
        return m.model_copy(update={"notes": [*m.notes, "profile projected: goblin_command gives a throughput, not a trace"]})

    @property
    def problems(self) -> list[str]:
        return self._problems

    # -------------------------------------------------------------- packages
    def unavailable(self, rules: list[Rule]) -> dict[str, str]:
        """Rules whose edit needs a package the training command's python cannot import:
        rule id -> why it is left out (naming the install command)."""
        needs: dict[str, list[tuple[str, str]]] = {}
        for rule in rules:
            for f, v in rule.transform.set.items():
                need = NEEDS_PACKAGE.get((f, v)) if isinstance(v, str | bool | int | float) else None
                if need:
                    needs.setdefault(rule.id, []).append(need)
        modules = sorted({m for pairs in needs.values() for m, _ in pairs})
        python = command_python(self.argv)
        key = python
        if key not in self._missing:
            self._missing[key] = missing_modules(python, modules)
        gone = set(self._missing[key])
        out = {}
        for rid, pairs in needs.items():
            lacking = [(m, how) for m, how in pairs if m in gone]
            if lacking:
                out[rid] = f"needs {', '.join(m for m, _ in lacking)}, which {python} cannot import; to measure it: {'; '.join(how for _, how in lacking)}"
        return out

    # -------------------------------------------------------------- runs
    def say(self, line: str) -> None:
        """A progress line from the audit (an edit dropped, say), among the runs' own lines."""
        self._say(line)

    @property
    def budget_left(self) -> float:
        """Seconds of goblin_budget_s left for this audit's runs."""
        return max(0.0, self._remaining())

    def _remaining(self) -> float:
        if self._started is None:
            self._started = time.monotonic()
        return self.timeout_s - (time.monotonic() - self._started)

    def run(self, w: WorkloadConfig, hw: Hardware, *, run_id: str, variant: str, steps: int = 0) -> RunMetrics:
        """One run on its own: the solo baseline doubles as the calibration run (see _calibrate)."""
        self._runs += 1
        self._say(f"{variant}: run {self._runs} ({self.steps} steps), calibrating the step count")
        sample, tp = self._once(w, variant)
        self._solo.setdefault(variant, []).append((self.steps, sample, tp))
        self._check(tp, variant)
        if variant == "baseline":
            self._calibrate(tp)
        return self._metrics(w, run_id, variant, [sample], tp, runs=1)

    def _calibrate(self, tp: Throughput) -> None:
        """Choose the step count from the first run: enough that warm-up is at most
        WARMUP_SHARE_TARGET of a run, within what the budget leaves for MIN_RUNS runs."""
        share = tp.warmup_share
        if share is None:
            self.notes.append(
                f"warm-up could not be told from the steady rate in this log ({tp.source}); "
                "compile or cache warm-up is inside the measured figure: if the verdict surprises you, raise goblin_command_steps"
            )
            return
        if share <= WARMUP_SHARE_LIMIT:
            self.notes.append(f"warm-up is {share:.0%} of a {self.steps}-step run (limit {WARMUP_SHARE_LIMIT:.0%})")
            return
        # run time ~ warm-up + steps / steady: warm-up in step units is steps * share / (1 - share)
        warm_steps = self.steps * share / (1 - share)
        wanted = math.ceil(warm_steps * (1 - WARMUP_SHARE_TARGET) / WARMUP_SHARE_TARGET)
        elapsed = self.timeout_s - self._remaining()
        per_step_s = elapsed / (self.steps + warm_steps)  # wall time per step-equivalent, startup included
        affordable = int(self._remaining() / max(MIN_RUNS - 1, 1) / per_step_s - warm_steps) if per_step_s > 0 else self.steps
        new = max(self.steps, min(wanted, affordable))
        if new >= wanted:
            self.notes.append(f"calibration: warm-up was {share:.0%} of a {self.steps}-step run; measuring {new} steps per run instead")
        else:
            self._problems.append(
                f"warm-up is {share:.0%} of a {self.steps}-step run and the budget allows only {new} steps per run; "
                f"raise goblin_budget_s (about {wanted} steps per run are needed) or goblin_command_steps"
            )
        self.steps = new

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
        runner's; the command runs the calibrated step count. Rounds are added past `rounds`
        until the interval over every run compared lies on one side of each threshold (with
        `thresholds`; else until it is within `target_half_width`), `max_seconds` pass or the budget ends.
        The solo baseline run is kept as a sample when it ran the same step count."""
        # solo runs are used once: a second run_pair call of the same audit must not count them again
        solo_a, solo_b = self._solo.pop(variants[0], []), self._solo.pop(variants[1], [])
        last: dict[str, Throughput | None] = {
            variants[0]: next((t for n, _, t in reversed(solo_a) if n == self.steps), None),
            variants[1]: next((t for n, _, t in reversed(solo_b) if n == self.steps), None),
        }
        late = self._late  # step seconds after warm-up, where the log shows them; over every call of this audit
        for v in variants:
            late.setdefault(v, [])

        ran: dict[str, list[tuple[int, float, Throughput]]] = {v: [] for v in variants}  # this call's runs, kept if the patch is refused

        def once(w: WorkloadConfig, variant: str) -> Callable[[], list[float]]:
            def run() -> list[float]:
                sample, tp = self._once(w, variant)
                self._check(tp, variant)
                ran[variant].append((self.steps, sample, tp))
                last[variant] = tp
                if tp.steady:
                    late[variant].append(Throughput(tp.steady, tp.unit, tp.source).step_seconds(w))
                return [sample]

            return run

        before_runs = self._runs  # every run of this audit is numbered, the calibration run and earlier calls included
        earlier = {v: list(self._compared.get(v, [])) for v in variants}  # a second call adds to the first's samples
        reuse_a, reuse_b = [s for n, s, _ in solo_a if n == self.steps], [s for n, s, _ in solo_b if n == self.steps]
        earlier_pairs = list(self._pairs.get(variants[1], []))

        def rounds_of(a: list[float] | tuple[float, ...], b: list[float] | tuple[float, ...]) -> list[tuple[float, float]]:
            """(baseline, patch) of each round: the runs after the reused solo ones, one per side per round"""
            return earlier_pairs + list(zip(a[len(reuse_a) :], b[len(reuse_b) :], strict=False))

        def tell(at: RunStart) -> None:
            self._runs = before_runs + at.run
            so_far = self._so_far(rounds_of(at.a, at.b), variants)
            self._say(f"{variants[at.side]}: run {self._runs} of {before_runs + at.planned} planned ({self.steps} steps){so_far}")

        try:
            done = interleave(
                once(before, variants[0]),
                once(after, variants[1]),
                rounds=max(2, rounds),
                target_half_width=target_half_width,
                max_seconds=min(max_seconds, self._remaining()),
                reuse_a=reuse_a,
                reuse_b=reuse_b,
                on_run=tell,
                decided=self._decided(rounds_of),
            )
        except StartupRefused:  # the audit drops the refused edit and calls again: the solo runs still count then,
            # and so do the baseline's runs of this call (the baseline is unchanged; the patch is not)
            for v, solo in zip(variants, (solo_a, solo_b), strict=True):
                self._solo[v] = solo + (ran[v] if v == variants[0] else []) + self._solo.get(v, [])
            raise
        except Deadline as exc:  # neither side may go without a sample: nothing to compare
            side = variants[1] if last[variants[1]] is None else variants[0]
            raise BenchmarkFailed(
                f"goblin_budget_s ran out before {side} finished a run at {self.steps} steps, so there is nothing to compare: {exc}"
            ) from None
        a, b = done.a, done.b
        for v, samples in zip(variants, (a, b), strict=True):
            self._compared[v] = earlier[v] + samples
        self._pairs[variants[1]] = rounds_of(a, b)
        na, nb = len(self._compared[variants[0]]), len(self._compared[variants[1]])
        ratio = self._so_far(self._pairs[variants[1]], variants).replace("; so far ", "; ")
        self._say(f"done: {na} {variants[0]} + {nb} {variants[1]} runs compared ({self._runs} runs in all){ratio}")
        if done.cut:
            self.notes.append(f"goblin_budget_s={self.timeout_s:g} s ran out: {na} {variants[0]} + {nb} {variants[1]} runs compared")
        if done.reused:
            self.notes.append(f"{done.reused} solo run(s) before the interleaved ones count as samples (same step count)")
        if len(late[variants[0]]) >= 2 and len(late[variants[1]]) >= 2:
            ratio_late = statistics.median(late[variants[0]]) / statistics.median(late[variants[1]])
            self.notes[:] = [n for n in self.notes if not n.startswith(f"after warm-up (the late steps of each run's training bar) {variants[1]} ")]
            self.notes.append(
                f"after warm-up (the late steps of each run's training bar) {variants[1]} runs at {ratio_late:.2f}x the baseline, an estimate of what longer runs would show"
            )
        tp_a, tp_b = last[variants[0]], last[variants[1]]
        assert tp_a is not None and tp_b is not None  # both sides have a sample (interleave re-raises otherwise)
        return (
            self._metrics(before, run_ids[0], variants[0], a, tp_a, runs=na),
            self._metrics(after, run_ids[1], variants[1], b, tp_b, runs=nb),
        )

    def contribution(
        self, without: WorkloadConfig, without_id: str, full: WorkloadConfig, full_id: str, *, rule: str, keep: float, max_seconds: float
    ) -> Speedup | None:
        """Leave-one-out on the command path: the patch without one rule against the whole patch,
        interleaved (A B, B A, ...) until the interval of full/without lies on one side of `keep`
        or `max_seconds` pass; None when the time ran out before both had a run."""

        def once(w: WorkloadConfig, variant: str) -> Callable[[], list[float]]:
            def run() -> list[float]:
                return [self._once(w, variant)[0]]

            return run

        before_runs = self._runs

        def tell(at: RunStart) -> None:
            self._runs = before_runs + at.run
            self._say(f"{(without_id, full_id)[at.side]}: run {self._runs} ({self.steps} steps), attributing {rule}")

        def decided(a: list[float], b: list[float]) -> bool:
            s = bootstrap_speedup(a, b)
            return not s.low < keep <= s.high

        try:
            done = interleave(
                once(without, without_id), once(full, full_id), rounds=2, max_seconds=min(max_seconds, self._remaining()), on_run=tell, decided=decided
            )
        except Deadline:
            return None
        return bootstrap_speedup(done.a, done.b, unit="run")

    def paired(self, variant: str) -> Speedup | None:
        """The verdict's speedup of `variant` over the baseline: the rounds' own ratios (each round's
        two runs back to back, stats.paired_speedup), over every interleaved call of this audit;
        None before two rounds finished."""
        pairs = self._pairs.get(variant, [])
        return paired_speedup(pairs, unit="round") if len(pairs) >= 2 else None

    def _decided(self, rounds_of: Callable[[list[float], list[float]], list[tuple[float, float]]]) -> Callable[[list[float], list[float]], bool] | None:
        """With thresholds: whether the interval over every round compared so far lies on one side of
        each and is narrow enough to decide (stats.settled), from at least MIN_DECIDING_ROUNDS rounds."""
        if self.thresholds is None:
            return None
        warn_at, fail_at = self.thresholds

        def decided(a: list[float], b: list[float]) -> bool:
            pairs = rounds_of(a, b)
            return len(pairs) >= MIN_DECIDING_ROUNDS and settled(paired_speedup(pairs, unit="round"), fail_at=fail_at, warn_at=warn_at)

        return decided

    def _so_far(self, pairs: list[tuple[float, float]], variants: tuple[str, str]) -> str:
        if not pairs:
            return ""
        return f"; so far {variants[1]} is {statistics.median(a / b for a, b in pairs):.2f}x the baseline"  # paired_speedup's point

    def _say(self, line: str) -> None:
        if self.progress is not None:
            try:
                self.progress(line)
            except Exception:  # a display must never end a measurement
                self.progress = None

    def _check(self, tp: Throughput, variant: str) -> None:
        """Implausible readings make the verdict inconclusive instead of deciding on them."""
        if tp.unit in ("steps/s", "s/step"):
            step_s = tp.value if tp.unit == "s/step" else 1.0 / tp.value
            if step_s < MIN_STEP_S:
                self._problems.append(
                    f"{variant}: {tp.value:g} {tp.unit} from {tp.source} means a step under {MIN_STEP_S * 1000:g} ms: not a training step; "
                    "set goblin_command_metric to the line your training loop prints"
                )
        share = tp.warmup_share
        if share is None or variant == "baseline":
            return  # the baseline's warm-up is handled by calibration; a patch (torch_compile) may add its own
        # the median over the variant's runs: one run's late steps and whole-run average also differ
        # when other jobs' load changes within it (issue 27: 27% in the last of 26 LLaMA-Factory runs, 2% typical)
        shares = self._shares.setdefault(variant, [])
        shares.append((share, tp))
        share, tp = sorted(shares, key=lambda st: st[0])[(len(shares) - 1) // 2]
        prefix = f"warm-up of the {variant} runs"
        self._problems[:] = [p for p in self._problems if not p.startswith(prefix)]
        if share > WARMUP_SHARE_LIMIT:
            self._problems.append(
                f"{prefix} is {share:.0%} of a {self.steps}-step run (median of {len(shares)} run(s); in that run its late steps ran at "
                f"{tp.steady:.4g} {tp.unit}, the whole run averaged {tp.value:.4g}); raise goblin_command_steps until it is under {WARMUP_SHARE_LIMIT:.0%}"
            )

    def _once(self, w: WorkloadConfig, variant: str) -> tuple[float, Throughput]:
        if self.files is None:
            raise GoblinError("the command runner is not bound to an audit (CommandRunner.bind)")
        with self.files(variant) as (path, env):
            log = self._execute(path, env, variant)
        tp = read_throughput(log, self.metric, unit=self.metric_unit, steps=self.steps)
        if tp is None:
            wanted = (
                f"goblin_command_metric {self.metric!r}"
                if self.metric
                else f"a training throughput (train_samples_per_second, tokens/s, or a progress bar of {self.steps} steps)"
            )
            raise BenchmarkFailed(f"the training log of {variant} has no {wanted}; set goblin_command_metric to a regex with one (group) around the number")
        self._say(f"{variant}: {tp.value:.4g} {tp.unit} ({tp.source})")
        return tp.step_seconds(w), tp

    def _execute(self, config: Path, env: dict[str, str], variant: str) -> str:
        argv = [a.replace("{config}", str(config)).replace("{steps}", str(self.steps)) for a in self.argv]
        full_env = {**os.environ, **env, "GOBLIN_VARIANT": variant, "GOBLIN_STEPS": str(self.steps)}
        remaining = self._remaining()
        if remaining <= 0:
            raise Deadline(f"training of {variant} not started: goblin_budget_s={self.timeout_s:g} s is spent")
        code, log, timed_out = run_group(argv, cwd=self.cwd, env=full_env, timeout=remaining)
        if timed_out:
            raise Deadline(
                f"training of {variant} hung: no exit within {remaining:.0f} s, what was left of goblin_budget_s={self.timeout_s:g} s "
                "(the budget caps the whole measurement of a config); if the command does end after --max_steps, raise goblin_budget_s"
            )
        if code is None:
            raise BenchmarkFailed(f"goblin_command: {argv[0]!r} was not found on PATH")
        if _OOM.search(log):
            raise BenchmarkFailed(f"training of {variant} ran out of memory: {_failure_text(log)}")
        if _NAN.search(log):
            raise BenchmarkFailed(f"training of {variant} produced a NaN loss")
        if code < 0:
            why = " (the kernel's out-of-memory killer sends SIGKILL)" if code == -9 else ""
            raise BenchmarkFailed(f"training of {variant} was killed by signal {-code}{why}")
        if code:
            message = f"training of {variant} exited with status {code}: {_failure_text(log)}"
            said = exception_line(log)
            if said is not None and not _trained(log, self.steps):  # refused at start-up: the audit may drop the edit it names
                raise StartupRefused(message, variant=variant, said=said, device=measuring_device())
            raise BenchmarkFailed(message)
        return log

    def _metrics(self, w: WorkloadConfig, run_id: str, variant: str, samples: list[float], tp: Throughput, *, runs: int) -> RunMetrics:
        median = statistics.median(self._compared.get(variant) or samples)  # every run compared so far, as the verdict
        per_step = w.micro_batch_size * w.gradient_accumulation  # samples per optimizer step: the config's batch, exact
        # only what was counted: tokens/s when the log's figure is tokens; samples/s from samples or steps
        tokens = w.tokens_per_step / median if tp.unit == "tokens/s" else None
        samples_s = per_step / median if tp.unit in ("samples/s", "steps/s", "s/step") else None
        figure = {"tokens/s": tokens, "samples/s": samples_s}.get(tp.unit)
        if figure is None:
            figure = 1.0 / median if tp.unit in ("steps/s", "rate") else median
        read = f"{figure:.4g} {tp.unit} (median of {runs} run(s); {tp.source})"
        notes = [f"{runs} run(s) of goblin_command, {self.steps} steps each; throughput read as {tp.unit} from {tp.source}", *tp.notes, *self.notes]
        if self.steps != self.configured_steps:
            notes.append(f"goblin_command_steps={self.configured_steps} was raised to {self.steps} by calibration")
        if tp.unit == "rate":
            notes.append("goblin_command_metric has no declared unit: only the before/after ratio is meaningful")
        return RunMetrics(
            run_id=run_id,
            variant=variant,
            evidence="measured",
            runner="command",
            device=measuring_device(),
            step_time_s=samples,
            tokens_per_step=w.tokens_per_step,
            tokens_per_s=tokens,
            samples_per_s=samples_s,
            throughput=read,
            notes=notes,
        )


_DEVICE: list[str] = []


def measuring_device() -> str:
    """What the training command ran on, read without torch: the AMD GPU (KFD topology), NVIDIA
    device nodes, else the CPU by name. The advice is for the target; the numbers are from this."""
    if _DEVICE:
        return _DEVICE[0]
    from ..devices import gpu_count, kfd_gpus
    from ..hardware import detect_target

    gpus = gpu_count()
    if kfd_gpus():
        found = f"this machine: {gpus} AMD GPU(s) ({detect_target() or 'not in the GPU table'})"
    elif gpus:
        found = f"this machine: {gpus} NVIDIA GPU(s)"
    else:
        found = f"this machine: CPU only ({_cpu_name()}, {os.cpu_count() or '?'} cores)"
    _DEVICE.append(found)
    return found


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return " ".join(line.split(":", 1)[1].split())[:80]
    except OSError:
        pass
    import platform

    return platform.processor() or platform.machine() or "unknown CPU"


# ------------------------------------------------------------------ processes and signals
def run_group(argv: list[str], *, cwd: Path | None, env: dict[str, str], timeout: float) -> tuple[int | None, str, bool]:
    """Run argv in its own process group; (exit code or None if not found, output, timed out).
    The group is killed on a timeout, on Ctrl-C and on SIGTERM (which becomes KeyboardInterrupt
    here, so every `finally` above, such as removing a patched copy, runs). A signal while the
    process starts waits until `proc` names it: raised between fork and the assignment it left
    the whole group running (CI saw a training run outlive goblin)."""
    proc: subprocess.Popen[str] | None = None
    with _terminate_as_interrupt():
        try:
            with _signals_held():
                try:
                    proc = subprocess.Popen(
                        argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace", start_new_session=True
                    )
                except FileNotFoundError:
                    return None, "", False
            try:
                out, _ = proc.communicate(timeout=timeout)
                return proc.returncode, out or "", False
            except subprocess.TimeoutExpired:
                with _signals_held():
                    kill_group(proc)
                out, _ = proc.communicate()
                return proc.returncode, out or "", True
        finally:
            if proc is not None and proc.poll() is None:
                with _signals_held():
                    kill_group(proc)


@contextmanager
def _signals_held() -> Iterator[None]:
    """SIGTERM and Ctrl-C arriving inside the block are recorded and raised when it ends (through
    the handler in force before it), so starting or killing a process group is never cut in half.
    Main thread only: elsewhere Python delivers no signal anyway."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []

    def record(signum: int, frame: FrameType | None) -> None:
        caught.append(signum)

    previous = {sig: signal.signal(sig, record) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if caught:  # the block ended normally: deliver what it held, as it would have been delivered
        signal.raise_signal(caught[0])


def kill_group(proc: subprocess.Popen[str]) -> None:
    """SIGTERM to the run's whole process group, SIGKILL after KILL_GRACE_S."""
    for sig, wait in ((signal.SIGTERM, KILL_GRACE_S), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        try:
            proc.wait(timeout=wait)
            # the leader is gone; stragglers in its group get the same signal
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            return
        except subprocess.TimeoutExpired:
            continue


class Terminated(KeyboardInterrupt):
    """SIGTERM (a CI cancel, `timeout`) as an interrupt, so every `finally` runs; `goblin audit`
    catches it, writes the report of what finished and exits 128 + signum."""

    def __init__(self, signum: int):
        self.signum = signum
        super().__init__(f"goblin: stopped by signal {signum}")


def raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated(signum)


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM raises Terminated (a KeyboardInterrupt) while a run is in flight (main thread only;
    elsewhere the caller's own handling stands)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        raise Terminated(signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


_WRAPPERS = frozenset({"ChildFailedError", "CalledProcessError", "SystemExit"})


def _trained(log: str, steps: int) -> bool:
    """Whether the log shows training steps: a training bar that moved, or a loss or throughput line."""
    text = log.replace("\r", "\n")
    bar = training_bar(text, steps)
    return (bar is not None and any(n > 0 for n, _ in bar.rates)) or bool(re.search(r"['\"]?loss['\"]?\s*[:=]", text)) or read_throughput(text) is not None


def exception_line(log: str) -> str | None:
    """The last exception line of a Python traceback in the log (the framework's own message), or None."""
    found = [f.strip() for f in _EXCEPTION.findall(log.replace("\r", "\n"))]
    # a launcher's own exception (torchrun's ChildFailedError, accelerate's CalledProcessError) only
    # says that the training process failed: the training's own line says why
    own = [f for f in found if f.split(":", 1)[0].rsplit(".", 1)[-1] not in _WRAPPERS and ":" in f]
    return (own or found or [None])[-1]


def _failure_text(log: str) -> str:
    """What a failed run said: the exception's last line first (a log's last lines are often
    progress bars or a launcher's summary), then the tail when it adds something."""
    line, tail = exception_line(log), _tail(log)
    if line is None:
        return tail
    return line if line in tail else f"{line} (log ends: {tail})"


def _tail(log: str) -> str:
    lines = [ln.strip() for ln in log.replace("\r", "\n").strip().splitlines() if ln.strip()]
    return " | ".join(lines[-TAIL_LINES:]) or "no output"


COPY_MARK = ".goblin-"  # in the name of every patched copy: `.{stem}.goblin-{variant}-{random}{suffix}`


def is_goblin_copy(path: Path) -> bool:
    """A patched copy goblin writes beside a config while measuring: never a config to collect."""
    return path.name.startswith(".") and COPY_MARK in path.name


@contextmanager
def variant_file(path: Path, text: str, variant: str) -> Iterator[Path]:
    """A patched copy of the config next to the original, so relative references resolve; removed afterwards."""
    import secrets

    # A fresh, unpredictable name created with O_EXCL | O_NOFOLLOW: a file or symlink a pull
    # request planted next to the config is never written through (D15).
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    for _ in range(8):
        copy = path.with_name(f".{path.stem}{COPY_MARK}{variant}-{secrets.token_hex(6)}{path.suffix}")
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
