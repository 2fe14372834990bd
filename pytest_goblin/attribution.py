"""Attribution: keep a rule in the patch only if the measurement says it pays.

Leave-one-out: the whole patch is timed, then the patch without each rule; a rule whose removal
costs less than KEEP_THRESHOLD (the patch without it is within 2% of the patch with it) is
dropped, and the report says so with the measured figure. Like a careful tuner who keeps a
change only when it beats a threshold, on the device at hand.
"""

from __future__ import annotations

from collections.abc import Callable

from .patching import plan_edits
from .schemas import Hardware, Rule, WorkloadConfig

KEEP_THRESHOLD = 1.02


def patched(w: WorkloadConfig, rules: list[Rule], hw: Hardware) -> WorkloadConfig:
    chosen, _env, _conflicts, _skipped = plan_edits(w, rules, hw)
    return w.model_copy(update={f: v for f, (v, _) in chosen.items()})


def leave_one_out(
    w: WorkloadConfig, rules: list[Rule], hw: Hardware, time_of: Callable[[WorkloadConfig], float], keep: float = KEEP_THRESHOLD
) -> tuple[list[Rule], dict[str, float]]:
    """(rules kept, {dropped rule id: its measured contribution}); time_of gives time per token."""
    editing = [r for r in rules if r.transform.set or r.transform.micro_batch_to]
    others = [r for r in rules if r not in editing]  # env-only rules: nothing here can measure them
    if len(editing) < 1:
        return rules, {}
    full = time_of(patched(w, editing, hw))
    dropped: dict[str, float] = {}
    kept = list(editing)
    for rule in sorted(editing, key=lambda r: r.id):
        without = [r for r in kept if r is not rule]
        contribution = time_of(patched(w, without, hw)) / full if without else time_of(w) / full
        if contribution < keep:
            dropped[rule.id] = contribution
            kept = without
            full = time_of(patched(w, kept, hw)) if kept else time_of(w)
    return kept + others, dropped
