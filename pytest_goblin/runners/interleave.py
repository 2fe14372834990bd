"""The measure-until-precise loop, written once for every measuring runner.

Before and after run in alternating order (A B, B A, A B, ...), so drift (clocks, thermals,
other load) and order effects hit both alike. After the minimum rounds, rounds are added until
the speedup's bootstrap interval is as narrow as asked, or until the next round would overrun
the time allowed: the budget is a cap, never exceeded on purpose.

What the runners share through it:

- **A deadline.** A run that finds the time spent raises `Deadline`; the loop then ends and
  returns the runs finished so far (`cut=True`) when both sides have a sample, else re-raises.
- **Reuse.** Samples measured before the loop (the command runner's solo baseline, which is also
  its calibration run) are passed as `reuse_a` / `reuse_b` and count as the first samples of
  their side; the rounds that follow are all fresh.
- **Progress.** `on_run` is told before each run which side runs, its number and the runs
  planned so far (it grows when a round is added), with the samples so far.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..errors import BenchmarkFailed
from ..stats import bootstrap_speedup


class Deadline(BenchmarkFailed):
    """The time allowed ran out before or during a run: raised by a run, caught by `interleave`."""


@dataclass(frozen=True)
class Interleaved:
    a: list[float]  # before: seconds per step, every sample of every round (reused ones first)
    b: list[float]  # after
    rounds: int  # rounds run in the loop, a partial last round included
    cut: bool = False  # a Deadline ended the loop: the runs finished by then are the result
    reused: int = 0  # samples passed in as reuse_a / reuse_b


@dataclass(frozen=True)
class RunStart:
    """What `on_run` is told before each run."""

    side: int  # 0: before (a), 1: after (b)
    run: int  # 1-based, runs of this loop only
    planned: int  # runs planned so far: 2 per round, grows as rounds are added
    a: tuple[float, ...]  # samples so far
    b: tuple[float, ...]


def interleave(
    once_a: Callable[[], list[float]],
    once_b: Callable[[], list[float]],
    *,
    rounds: int,
    target_half_width: float | None = None,
    max_seconds: float = 0.0,
    clock: Callable[[], float] = time.monotonic,
    reuse_a: Sequence[float] = (),
    reuse_b: Sequence[float] = (),
    on_run: Callable[[RunStart], None] | None = None,
    decided: Callable[[list[float], list[float]], bool] | None = None,
) -> Interleaved:
    """At least `rounds` rounds; then, with `target_half_width`, more until the interval is that
    narrow, or with `decided` until it says the samples decide (the command runner: the interval
    lies on one side of each verdict threshold), or until the next round (at the mean round time
    so far) would end past `max_seconds`."""
    a: list[float] = list(reuse_a)
    b: list[float] = list(reuse_b)
    reused = len(a) + len(b)
    start = clock()
    minimum = max(1, rounds)
    planned = 2 * minimum
    done = runs = 0
    while True:
        first, second = ((0, once_a, a), (1, once_b, b)) if done % 2 == 0 else ((1, once_b, b), (0, once_a, a))
        for side, once, sink in (first, second):
            runs += 1
            if on_run is not None:
                on_run(RunStart(side=side, run=runs, planned=planned, a=tuple(a), b=tuple(b)))
            try:
                samples = once()
            except Deadline:
                if a and b:
                    return Interleaved(a=a, b=b, rounds=done + (runs - 2 * done > 1), cut=True, reused=reused)
                raise
            sink.extend(samples)
        done += 1
        if done < minimum:
            continue
        if decided is not None:
            if decided(a, b):
                break
        elif target_half_width is None or bootstrap_speedup(a, b).half_width <= target_half_width:
            break
        elapsed = clock() - start
        if elapsed + elapsed / done > max_seconds:
            break
        planned += 2
    return Interleaved(a=a, b=b, rounds=done, reused=reused)
