"""Speedup with a confidence interval, and the verdict that reads its lower bound."""

from __future__ import annotations

import random
import statistics

from .schemas import Speedup, Verdict

BOOTSTRAP_RESAMPLES = 2000


def bootstrap_speedup(before: list[float], after: list[float], *, confidence: float = 0.95, seed: int = 0) -> Speedup:
    """Ratio of median step times before/after with a percentile-bootstrap interval (seeded: reproducible)."""
    point = statistics.median(before) / statistics.median(after)
    if len(before) < 2 or len(after) < 2:
        return Speedup(point=point, low=point, high=point, method="single sample: no interval")
    rng = random.Random(seed)
    ratios = sorted(
        statistics.median(rng.choices(before, k=len(before))) / statistics.median(rng.choices(after, k=len(after))) for _ in range(BOOTSTRAP_RESAMPLES)
    )
    tail = (1 - confidence) / 2
    low = ratios[int(tail * BOOTSTRAP_RESAMPLES)]
    high = ratios[min(BOOTSTRAP_RESAMPLES - 1, int((1 - tail) * BOOTSTRAP_RESAMPLES))]
    return Speedup(
        point=point,
        low=min(low, point),
        high=max(high, point),
        method=f"bootstrap {int(confidence * 100)}% CI of the median ratio, {len(before)}+{len(after)} steps",
    )


def decide(speedup: Speedup, *, fail_at: float, warn_at: float) -> tuple[Verdict, str]:
    if speedup.low >= fail_at:
        return "fail", f"the patch recovers at least {speedup.low:.2f}x (lower bound), at or above goblin_fail_at={fail_at:.2f}"
    if speedup.point >= warn_at:
        return (
            "warn",
            f"the patch recovers {speedup.point:.2f}x (lower bound {speedup.low:.2f}x, below goblin_fail_at={fail_at:.2f}), at or above goblin_warn_at={warn_at:.2f}",
        )
    return "pass", f"the patch recovers {speedup.point:.2f}x, below goblin_warn_at={warn_at:.2f}"
