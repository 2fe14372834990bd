"""The span of sample lengths a verdict resting on a smaller micro-batch sized at the config's own cutoff is projected
over when no dataset lengths were read (tools.audit_tools._over_length_span): at each length, the checkpointing-off edit
the planner (patching.plan_edits) chooses there, and the patch's gain."""

from __future__ import annotations

from typing import Any, NamedTuple

from .costmodel import at_length, at_mostly, sensitivity
from .patching import plan_edits
from .rules import applicable
from .schemas import Hardware, Rule, WorkloadConfig

# The sample lengths, as shares of the config's own cutoff, over which a patch whose gain rests on a smaller micro-batch
# sized at the cutoff is projected when no dataset lengths were read (audit_tools._over_length_span): the cutoff (the
# patch as written), costmodel.SHORTER_LENGTH_SHARE (where plan_edits already checks the smaller micro-batch), and on by
# halves to an eighth. Why it goes that far: with shorter samples the per-step work that does not shrink with them
# (parameter offload's host fetches, collectives, the optimizer) weighs more against the recompute checkpointing off
# saves, and a micro-batch kept small for the longest sample runs more of that work per step, so the gain can fall
# below goblin_warn_at there (tests/test_length_span.py: a 32B ZeRO-3 with parameters on the host, 1.10x at its cutoff,
# 1.01x at an eighth of it). Why it stops there: a cutoff set more than eight times above most of the data is the
# config saying nothing of its lengths; the verdict names the span it covers, so a reader with such data knows it.
LENGTH_SPAN_SHARES = (1.0, 0.5, 0.25, 0.125)


def length_span(w: WorkloadConfig) -> tuple[int, ...]:
    """The sample lengths of LENGTH_SPAN_SHARES at `w`'s seq_len, longest first."""
    from .costmodel import assumed_length

    return tuple(dict.fromkeys(max(1, int(assumed_length(w) * share)) for share in LENGTH_SPAN_SHARES))


def checkpointing_off_plan(w: WorkloadConfig, hw: Hardware, rules: tuple[Rule, ...] | list[Rule]) -> dict[str, Any]:
    """The edits the rules that turn checkpointing off make on `w` as the planner chooses them (plan_edits over the ones
    whose premises hold at `w`: the current micro-batch where checkpointing off fits with room to spare,
    memory.disable_checkpointing_when_hbm_free, else the fastest smaller one at the same micro-batch x accumulation,
    memory.checkpointing_off_at_smaller_micro_batch); {} where none applies."""
    off = [r for r in applicable(w, hw, rules) if r.transform.set.get("gradient_checkpointing") is False]
    chosen, _, _, _ = plan_edits(w, off, hw)
    return {f: v for f, (v, _) in chosen.items()}


def gains_over_lengths(
    w: WorkloadConfig, rest: dict[str, Any], hw: Hardware, rules: tuple[Rule, ...] | list[Rule]
) -> list[tuple[int, bool, dict[str, Any], tuple[float, float, float]]]:
    """At each length of `length_span(w)`, with samples all that long and with them mostly that long but the longest at
    the cutoff (costmodel.at_mostly): the workload with `rest` (the patch's other edits) and the checkpointing-off edits
    the planner chooses there, and its projected gain over `w` at the same lengths (point, low, high: sensitivity).
    Each row: (tokens, longest at the cutoff, the checkpointing edits, gain)."""
    out = []
    for tokens in length_span(w):
        shapes = [(at_length(w, tokens), False)] + ([(at_mostly(w, tokens), True)] if tokens < w.seq_len else [])
        for base, tail in shapes:
            edited = base.model_copy(update=rest)
            off = checkpointing_off_plan(edited, hw, rules)
            out.append((tokens, tail, off, sensitivity(base, edited.model_copy(update=off), hw)))
    return out


class FittingSpan(NamedTuple):
    """Checkpointing off projected over the sample lengths at which the config as it is fits (fitting_span)."""

    top: int  # the longest sample at which the config as it is fits the GPU (its cutoff is longer and does not)
    # each length, top down to an eighth of it (LENGTH_SPAN_SHARES), longest first: (tokens, the checkpointing-off edit the
    # planner chooses there, {} where none fits, and its gain point, low, high; 1.0 each where no edit)
    rows: tuple[tuple[int, dict[str, Any], float, float, float], ...]

    @property
    def lowest(self) -> float:
        return min(r[3] for r in self.rows)

    @property
    def least(self) -> tuple[int, dict[str, Any], float, float, float]:
        return min(self.rows, key=lambda r: r[2])


def fitting_span(w: WorkloadConfig, hw: Hardware, rules: tuple[Rule, ...] | list[Rule], rest: dict[str, Any]) -> FittingSpan | None:
    """Issue 23 (review12b #30, SihengLi99/24Game configs/sft.yaml: 16 x 32768 tokens assumed, 859 GB on a 206 GB GPU):
    where no dataset lengths were read and the config as it is projects above the GPU's memory at its own cutoff, the
    run's micro-batches are padded to their longest sample (pads_to_max is False: formats/datasets.pads_to_max cites each
    framework's collator), so on this GPU the config runs only where that sample is at most `top`, the longest at which
    it fits (costmodel.fitting_length). At `top` and down to an eighth of it, the checkpointing-off edit the planner
    chooses at that length (plan_edits: the current micro-batch where it fits, else a smaller one at the same samples per
    GPU per step) with the patch's other edits `rest`, projected against the config at the same length, as
    gains_over_lengths does below a cutoff that fits. None where the premise does not hold: lengths read, or packed or
    padded to the cutoff, a seq_len that is not the config's own cutoff, checkpointing already off, a guessed shape, or
    the config fitting at its cutoff or at no length."""
    from .costmodel import fitting_length, lengths_assumed, seq_len_is_cutoff
    from .hardware import capacity_gb
    from .modelzoo import shape_assumption

    if not (lengths_assumed(w) and seq_len_is_cutoff(w) and w.gradient_checkpointing) or shape_assumption(w.model) is not None:
        return None
    top = fitting_length(w, capacity_gb(hw))
    if top is None or top >= w.seq_len:
        return None
    rows: list[tuple[int, dict[str, Any], float, float, float]] = []
    for tokens in dict.fromkeys(max(1, int(top * share)) for share in LENGTH_SPAN_SHARES):
        base = at_length(w, tokens)
        edited = base.model_copy(update=rest)
        off = checkpointing_off_plan(edited, hw, rules)
        if off.get("gradient_checkpointing") is not False:
            rows.append((tokens, {}, 1.0, 1.0, 1.0))
            continue
        rows.append((tokens, off, *sensitivity(base, edited.model_copy(update=off), hw)))
    return FittingSpan(top, tuple(rows))
