"""Speedup with a confidence interval, and the verdict that reads its lower bound."""

from __future__ import annotations

import random
import statistics

from .schemas import Speedup, Verdict

BOOTSTRAP_RESAMPLES = 2000


def bootstrap_speedup(before: list[float], after: list[float], *, confidence: float = 0.95, seed: int = 0, unit: str = "step") -> Speedup:
    """Ratio of median step times before/after with a percentile-bootstrap interval (seeded: reproducible).
    `unit` names what one sample is (a timed step, or a whole training run)."""
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
        method=f"bootstrap {int(confidence * 100)}% CI of the median ratio, {len(before)}+{len(after)} {unit}s",
    )


# The fewest rounds whose median ratio has a distribution-free 95% interval: the smallest and
# largest of n ratios bracket the true median with probability 1 - 2 * 0.5**n, 75% for n = 3 and
# 96.9% for n = 6. A bootstrap of fewer rounds reports [min-max] as if it were 95%; the measuring
# loop does not call a verdict decided on fewer (the budget may still end it sooner).
MIN_DECIDING_ROUNDS = 6


def paired_speedup(pairs: list[tuple[float, float]], *, confidence: float = 0.95, seed: int = 0, unit: str = "round") -> Speedup:
    """Median of the per-round ratios before/after, with a percentile-bootstrap interval over rounds
    (seeded). For runs interleaved A B, B A, ...: each round's two runs ran back to back, so load
    that comes and goes (other jobs on a shared machine) moves both and cancels in their ratio,
    where the ratio of two medians keeps it (28+26 LLaMA-Factory runs on a 2-core machine whose load
    swung between about 2 and 5: unpaired [0.96-1.61], the rounds' own ratios mostly 1.15-1.31)."""
    ratios = [before / after for before, after in pairs]
    point = statistics.median(ratios)
    if len(ratios) < 2:
        return Speedup(point=point, low=point, high=point, method="single sample: no interval")
    rng = random.Random(seed)
    medians = sorted(statistics.median(rng.choices(ratios, k=len(ratios))) for _ in range(BOOTSTRAP_RESAMPLES))
    tail = (1 - confidence) / 2
    low = medians[int(tail * BOOTSTRAP_RESAMPLES)]
    high = medians[min(BOOTSTRAP_RESAMPLES - 1, int((1 - tail) * BOOTSTRAP_RESAMPLES))]
    return Speedup(
        point=point,
        low=min(low, point),
        high=max(high, point),
        method=f"bootstrap {int(confidence * 100)}% CI of the median ratio within a {unit}, {len(ratios)} {unit}s (paired: before and after back to back)",
    )


# An interval wider than this (half-width relative to the point, +-25%) cannot tell a 1.10x patch
# from noise; documented in README "Measuring your own training".
MAX_HALF_WIDTH = 0.25
# A before/after ratio outside this range is not a config patch's effect on one machine: the log
# was read from the wrong line, or a run did something else.
PLAUSIBLE_RATIO = (1 / 20, 20.0)


def inconclusive(speedup: Speedup, *, fail_at: float, measured: bool, problems: list[str] | tuple[str, ...] = ()) -> str | None:
    """Why a measured speedup cannot decide the verdict (what to change is in the text), or None.
    Projected intervals are ranges over the cost model's assumptions, not noise: never inconclusive here."""
    if problems:
        return "; ".join(problems)
    if not measured:
        return None
    if speedup.method.startswith("single sample"):
        return "one run per side gives no interval; let goblin run at least two rounds (raise goblin_budget_s)"
    if not PLAUSIBLE_RATIO[0] <= speedup.point <= PLAUSIBLE_RATIO[1]:
        return f"a {speedup.point:.3g}x change from config flags alone is implausible; check which log line goblin read (set goblin_command_metric)"
    if speedup.low < 1.0 < fail_at < speedup.high:
        return (
            f"the interval [{speedup.low:.2f}-{speedup.high:.2f}] spans both no gain and goblin_fail_at={fail_at:.2f}; "
            "measure longer (goblin_command_steps, goblin_budget_s) or on a quieter runner"
        )
    if speedup.half_width > MAX_HALF_WIDTH:
        return (
            f"the interval [{speedup.low:.2f}-{speedup.high:.2f}] is +-{speedup.half_width:.0%}, wider than +-{MAX_HALF_WIDTH:.0%}; "
            "measure longer (goblin_command_steps, goblin_budget_s) or on a quieter runner"
        )
    return None


def straddled(speedup: Speedup, *, fail_at: float, warn_at: float) -> str | None:
    """The verdict levels a measured interval still allows and the thresholds it straddles, or
    None when it lies on one side of each (decided). A level can change between a quiet and a
    loaded run only when this is not None; the measurement goes on until it is (within the budget)."""
    crossed = [(name, t) for name, t in (("goblin_warn_at", warn_at), ("goblin_fail_at", fail_at)) if speedup.low < t <= speedup.high]
    if not crossed:
        return None
    names = [n for n, _ in crossed]
    levels = ["pass"] if "goblin_warn_at" in names else []
    levels += ["warn"] if warn_at < fail_at or not levels else []
    levels += ["fail"] if "goblin_fail_at" in names else []
    said = " or ".join(levels) if len(levels) < 3 else "pass, warn or fail"
    where = " and ".join(f"{n}={t:.2f}" for n, t in crossed)
    return f"{said}: the interval [{speedup.low:.2f}-{speedup.high:.2f}] straddles {where}; raise goblin_budget_s or goblin_command_steps"


def settled(speedup: Speedup, *, fail_at: float, warn_at: float) -> bool:
    """Whether more runs could no longer change what a measured report says: the interval lies on
    one side of each threshold (`straddled`) and is narrow enough that `inconclusive` has nothing to
    say about it. The measuring loop stops here; an interval above goblin_fail_at but +-38% wide
    was "decided" by the thresholds alone and then reported inconclusive with budget left (issue 27).
    A point outside PLAUSIBLE_RATIO is settled: more runs of a misread log decide nothing."""
    if not PLAUSIBLE_RATIO[0] <= speedup.point <= PLAUSIBLE_RATIO[1]:
        return True
    return straddled(speedup, fail_at=fail_at, warn_at=warn_at) is None and inconclusive(speedup, fail_at=fail_at, measured=True) is None


# how a verdict the user's own edits decide says so (tools.audit_tools.build_report writes it into the reason,
# reporting.text.summary_line shows such a reason on the item's line)
HAND_COUNTED = "which goblin does not write (the findings say the exact change)"


def decide(speedup: Speedup, *, fail_at: float, warn_at: float) -> tuple[Verdict, str]:
    if speedup.low >= fail_at:
        return "fail", f"the patch recovers at least {speedup.low:.2f}x (lower bound), at or above goblin_fail_at={fail_at:.2f}"
    if speedup.point >= warn_at:
        return (
            "warn",
            f"the patch recovers {speedup.point:.2f}x (lower bound {speedup.low:.2f}x, below goblin_fail_at={fail_at:.2f}), at or above goblin_warn_at={warn_at:.2f}",
        )
    return "pass", f"the patch recovers {speedup.point:.2f}x, below goblin_warn_at={warn_at:.2f}"
