"""A larger global batch for a run that trains on a tiny one (batch.small_global_batch, kb/batch.yaml).

With gradient accumulation 1 and a micro-batch of one or two short samples, every GEMM is a few hundred rows tall and
the GPU idles between kernels (review10b #33, CSCfi llm-fine-tuning-examples finetuning.py: gpt-neo-1.3B at 1 x 256
tokens on one GPU, projected at about 3% of the MI300X's bf16 peak). batch.raise_micro_batch trades accumulation for
micro-batch at the same global batch; with accumulation 1 there is nothing to trade, and the only larger micro-batch is
a larger global batch, which changes the optimisation (the learning rate and its schedule must be retuned, and an epoch
takes fewer optimizer steps). So this is guidance, never a patch: goblin projects the same run at a larger micro-batch
that fits and says what it would change.
"""

from __future__ import annotations

from dataclasses import dataclass

from .costmodel import data_tokens_per_step, length_phrase, lengths_assumed, micro_batch_tokens, peak_tflops, sensitivity, seq_len_is_cutoff, step
from .hardware import capacity_phrase
from .patching import MEMORY_MARGIN, assumed_over, fit_limit_gb, raised_peak
from .schemas import Hardware, WorkloadConfig

# A doubling of the micro-batch that adds less than this to the projected tokens/s/GPU is where the gain flattens:
# the search stops before it (a larger global batch is a change to the optimisation, not worth a few per cent)
FLAT_GAIN = 1.10
# The most tokens per micro-batch the search proposes: the bound under which batch.raise_micro_batch's premise calls a
# micro-batch small (kb/batch.yaml, derived.tokens_per_micro_batch le 8192). The proposal stays a small batch made
# larger, never a new regime (1 x 256 tokens goes at most to 32 x 256, 1 x 2048 to 4 x 2048)
MAX_TOKENS = 8192


@dataclass(frozen=True)
class LargerBatch:
    """The same run at a larger micro-batch, gradient accumulation kept at 1, as the projection prices it."""

    micro_batch_size: int
    base_tokens_s: float  # projected tokens of data per second per GPU, as it is
    tokens_s: float  # and at micro_batch_size
    base_mfu: float  # projected model FLOPs over the GPU's peak at the config's precision, as it is
    mfu: float
    peak_gb: float  # projected peak per GPU at micro_batch_size (the span's worst shape on a guessed shape)
    stopped: str  # why no larger micro-batch was taken
    saved: tuple[str, ...] = ()  # what the step's parts that shrink most per token of data are (`_PART`), largest first
    low: float = 1.0  # the gain's interval over the assumption grid (costmodel.sensitivity), tokens of data per second
    high: float = 1.0

    @property
    def speedup(self) -> float:
        return self.tokens_s / self.base_tokens_s


def modelled(w: WorkloadConfig) -> bool:
    """The run is one the search prices: gradient accumulation 1, pure data parallelism (a pipeline's micro-batches and
    tensor or context parallel groups batch differently), the micro-batch not lowered at run time, and the tokens per
    micro-batch not a guess above the data (sampled lengths, packed or padded to seq_len, or the config's own cutoff)."""
    return (
        w.gradient_accumulation == 1
        and not w.auto_find_batch_size
        and w.tensor_parallel == 1
        and w.pipeline_parallel == 1
        and w.context_parallel == 1
        and w.expert_parallel == 1
        and (not lengths_assumed(w) or seq_len_is_cutoff(w))
    )


# What each part of the projected step (costmodel.StepModel.parts) is, said where it shrinks per token at the larger batch
_PART = {
    "compute": "GEMMs only one micro-batch's tokens tall (below their efficiency)",
    "recompute": "GEMMs only one micro-batch's tokens tall (below their efficiency)",
    "attention": "GEMMs only one micro-batch's tokens tall (below their efficiency)",
    "memory_bound": "memory-bound passes over the weights (dequantization, offload) made once per micro-batch",
    "optimizer": "the optimizer step (run after every micro-batch)",
    "communication": "collectives (made once per micro-batch or step)",
}


def _saved(w: WorkloadConfig, bigger: WorkloadConfig, hw: Hardware) -> tuple[str, ...]:
    """What the parts of the step are whose seconds per token of data the larger micro-batch cuts most (at least a tenth
    of the whole saving each), largest first."""
    before, after = step(w, hw), step(bigger, hw)
    tokens_before, tokens_after = data_tokens_per_step(w), data_tokens_per_step(bigger)
    cut = {k: v / tokens_before - after.parts.get(k, 0.0) / tokens_after for k, v in before.parts.items()}
    total = sum(v for v in cut.values() if v > 0)
    if total <= 0:
        return ()
    return tuple(dict.fromkeys(_PART[k] for k, v in sorted(cut.items(), key=lambda kv: -kv[1]) if v >= 0.1 * total and k in _PART))


def _mfu(w: WorkloadConfig, hw: Hardware) -> tuple[float, float]:
    """(tokens of data per second per GPU, model FLOPs over the peak) of `w`, projected at the target's nominal assumptions."""
    s = step(w, hw)
    return data_tokens_per_step(w) / s.step_s, s.model_flops / s.step_s / (peak_tflops(hw, w.precision) * 1e12)


def larger_batch(w: WorkloadConfig, hw: Hardware) -> LargerBatch | None:
    """`_larger_batch`, once per workload and target while a session scope is open (repoindex.memo): the rule's fact,
    its finding and the verdict each ask for it."""
    from .repoindex import active, memo

    if not modelled(w) or micro_batch_tokens(w) * 2 > MAX_TOKENS:  # no doubling to try: nothing projected
        return None
    if not active():
        return _larger_batch(w, hw)
    return memo("globalbatch.larger_batch", (w.model_dump_json(), hw.model_dump_json()), lambda: _larger_batch(w, hw))


def _larger_batch(w: WorkloadConfig, hw: Hardware) -> LargerBatch | None:
    """The micro-batch doubled, gradient accumulation kept at 1, while the doubled one holds at most MAX_TOKENS tokens,
    fits under `patching.fit_limit_gb` by batch.raise_micro_batch's own memory check (`patching.raised_peak`) and adds at
    least FLAT_GAIN to the projected tokens of data per second per GPU; None where no larger micro-batch is projected to
    fit (the config as it is over HBM at an assumed length included), or the first doubling already adds less than
    FLAT_GAIN."""
    if assumed_over(w, hw) is not None:
        return None
    peak_of = raised_peak(w)
    if peak_of is None:
        return None
    base_tokens_s, base_mfu = _mfu(w, hw)
    limit = fit_limit_gb(hw)
    best: LargerBatch | None = None
    tokens_s, mbs = base_tokens_s, w.micro_batch_size
    while True:
        trial = w.model_copy(update={"micro_batch_size": mbs * 2})
        if micro_batch_tokens(trial) > MAX_TOKENS:
            stopped = f"micro-batch {mbs * 2} would hold {micro_batch_tokens(trial):,} tokens, above the {MAX_TOKENS:,} goblin proposes"
            break
        peak = peak_of(trial)
        if peak > limit:
            stopped = f"micro-batch {mbs * 2} is projected at {peak:.0f} GB per GPU, above {limit:.0f} GB ({MEMORY_MARGIN:.0%} of {capacity_phrase(hw)})"
            break
        trial_tokens_s, trial_mfu = _mfu(trial, hw)
        if trial_tokens_s < tokens_s * FLAT_GAIN:
            stopped = f"micro-batch {mbs * 2} would add {trial_tokens_s / tokens_s - 1:.0%}, under {FLAT_GAIN - 1:.0%}: the gain flattens"
            break
        tokens_s, mbs = trial_tokens_s, mbs * 2
        best = LargerBatch(mbs, base_tokens_s, tokens_s, base_mfu, trial_mfu, peak, "")
    if best is None:
        return None
    bigger = w.model_copy(update={"micro_batch_size": best.micro_batch_size})
    # the gain rests on efficiency assumptions (gemm_half_tokens above all, docs/projection.md: not fitted): its interval
    # over the grid, widened by the calibration's error, in tokens of data per second (the step holds `more` times the data)
    more = data_tokens_per_step(bigger) / data_tokens_per_step(w)
    _point, low, high = sensitivity(w, bigger, hw)
    saved = _saved(w, bigger, hw)
    return LargerBatch(best.micro_batch_size, best.base_tokens_s, best.tokens_s, best.base_mfu, best.mfu, best.peak_gb, stopped, saved, more * low, more * high)


def small_batch_phrase(w: WorkloadConfig, hw: Hardware) -> str:
    """The config's global batch in samples and tokens, what goblin projects of it, the larger micro-batch that fits
    and its projected tokens/s/GPU, and what that changes in the optimisation (batch.small_global_batch's guidance)."""
    from .formats.semantics import world_size_note

    found = larger_batch(w, hw)
    if found is None:  # the rule's premise (derived.larger_batch_gain) says there is one
        return "a larger micro-batch is projected to fit and to be faster"
    ranks = max(1, w.world_size)
    before = w.micro_batch_size * w.gradient_accumulation * ranks
    after = found.micro_batch_size * w.gradient_accumulation * ranks
    bigger = w.model_copy(update={"micro_batch_size": found.micro_batch_size})
    tokens_before, tokens_after = data_tokens_per_step(w) * ranks, data_tokens_per_step(bigger) * ranks
    times = after // before
    from .modelzoo import shape_assumption

    span = " at the largest shape its name allows" if shape_assumption(w.model) is not None else ""
    why = f"; per token, the larger micro-batch saves most on {' and '.join(found.saved)}" if found.saved else ""
    return (
        f"the global batch is {before} sample{'s' if before != 1 else ''} per optimizer step (micro-batch {w.micro_batch_size} x "
        f"gradient accumulation {w.gradient_accumulation}, {world_size_note(w)}), "
        f"{tokens_before:,} tokens of data ({length_phrase(w, peak=False)}); goblin projects {found.base_tokens_s:,.0f} tokens/s/GPU, "
        f"{found.base_mfu:.0%} of the {w.precision} peak of the {hw.name}{why}. "
        f"At micro-batch {found.micro_batch_size} ({micro_batch_tokens(bigger):,} tokens per micro-batch, gradient accumulation still "
        f"{w.gradient_accumulation}) it projects {found.tokens_s:,.0f} tokens/s/GPU, {found.speedup:.2f}x [{found.low:.2f}-{found.high:.2f}] (projected; {found.mfu:.0%} of peak, "
        f"{found.peak_gb:.0f} GB per GPU{span}; goblin stops there: {found.stopped}). That changes the global batch from {before} to {after} "
        f"samples ({tokens_before:,} to {tokens_after:,} tokens per optimizer step): an epoch takes {times}x fewer optimizer steps "
        f"(a run set by max_steps trains on {times}x the data), so the learning rate must be retuned for it and the warmup and "
        "schedule, counted in optimizer steps, rechecked"
    )
