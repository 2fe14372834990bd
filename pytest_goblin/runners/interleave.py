"""The measure-until-precise loop, written once for every measuring runner.

Before and after run in alternating order (A B, B A, A B, ...), so drift (clocks, thermals,
other load) and order effects hit both alike. After the minimum rounds, rounds are added until
the speedup's bootstrap interval is as narrow as asked, or until the next round would overrun
the time allowed: the budget is a cap, never exceeded on purpose.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from ..stats import bootstrap_speedup


@dataclass(frozen=True)
class Interleaved:
    a: list[float]  # before: seconds per step, every sample of every round
    b: list[float]  # after
    rounds: int


def interleave(
    once_a: Callable[[], list[float]],
    once_b: Callable[[], list[float]],
    *,
    rounds: int,
    target_half_width: float | None = None,
    max_seconds: float = 0.0,
    clock: Callable[[], float] = time.monotonic,
) -> Interleaved:
    a: list[float] = []
    b: list[float] = []
    start = clock()
    done = 0
    while True:
        first, second = ((once_a, a), (once_b, b)) if done % 2 == 0 else ((once_b, b), (once_a, a))
        for once, sink in (first, second):
            sink.extend(once())
        done += 1
        if done < max(1, rounds):
            continue
        if target_half_width is None or bootstrap_speedup(a, b).half_width <= target_half_width:
            break
        elapsed = clock() - start
        if elapsed + elapsed / done > max_seconds:
            break
    return Interleaved(a=a, b=b, rounds=done)
