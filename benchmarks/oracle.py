"""Oracle: how much of the best achievable speedup goblin's chosen patch recovers, measured.

    python benchmarks/oracle.py

For each of 8 small synthetic LoRA workloads, on this machine's CPU with the torch runner's proxy
model (in process, one run): every combination of the applicable KB rules that edit the config
is applied, and each distinct resulting workload is measured (the oracle is the fastest), as is
the patch goblin chooses. It prints goblin's speedup as a share of the oracle's. Goal: at least
95% on every workload.

Measurement, so that noise does not pick the winner: all variants of a workload are built once
and stepped round-robin (the order rotates each round), and the oracle is the best median. The
maximum of noisy medians is biased upward (the winner's curse), so the share itself comes from a
second, independent measurement: goblin's patch and the oracle's interleaved (A B, B A, ...)
until the interval of their ratio is within +-2%. When goblin's patch is the oracle's, the share
is 100% without measurement.

Environment-only rules (TunableOp, RCCL settings) change nothing a CPU can measure and are left
out; LoRA workloads keep torch.compile's rule (full fine-tuning only) out of a CPU-sized run.
"""

from __future__ import annotations

import itertools
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from pytest_goblin.attribution import leave_one_out  # noqa: E402
from pytest_goblin.hardware import get_hardware  # noqa: E402
from pytest_goblin.modelzoo import lookup_model  # noqa: E402
from pytest_goblin.patching import plan_edits  # noqa: E402
from pytest_goblin.rules import applicable, cached_rules  # noqa: E402
from pytest_goblin.runners.torch_runner import Scale, _prepare, _timed, measure_pair  # noqa: E402
from pytest_goblin.schemas import Rule, WorkloadConfig  # noqa: E402
from pytest_goblin.stats import bootstrap_speedup  # noqa: E402

SCALE = Scale(layers=2, hidden=128, seq_len=128, vocab=1024, max_micro_batch=8)

WORKLOADS = {
    "fp32 eager, micro 1": {"precision": "fp32", "attention": "eager", "micro_batch_size": 1, "gradient_accumulation": 8},
    "checkpointing on, foreach AdamW": {"gradient_checkpointing": True, "optimizer": "adamw_torch"},
    "eager + checkpointing": {"attention": "eager", "gradient_checkpointing": True, "micro_batch_size": 4, "gradient_accumulation": 2},
    "micro 2 x 8, foreach": {"micro_batch_size": 2, "gradient_accumulation": 8, "optimizer": "adamw_torch"},
    "fp32, checkpointing": {"precision": "fp32", "gradient_checkpointing": True},
    "eager only": {"attention": "eager"},
    "everything off": {
        "precision": "fp32",
        "attention": "eager",
        "gradient_checkpointing": True,
        "micro_batch_size": 1,
        "gradient_accumulation": 4,
        "optimizer": "adamw_torch",
    },
    "tuned": {},
}
BASE = {
    "method": "lora",
    "precision": "bf16",
    "seq_len": 128,
    "micro_batch_size": 8,
    "gradient_accumulation": 1,
    "optimizer": "adamw_torch_fused",
    "dataloader_workers": 4,
    "sample_packing": True,
}


ROUNDS = 5  # round-robin rounds over every variant of a workload
FINAL_HALF_WIDTH = 0.02

Edits = frozenset[tuple[str, object]]


def edits_of(w: WorkloadConfig, rules: list[Rule], hw: object) -> Edits:
    chosen, _env, _conflicts, _skipped = plan_edits(w, rules, hw)  # type: ignore[arg-type]
    return frozenset((f, v) for f, (v, _) in chosen.items())


def edits_between(w: WorkloadConfig, v: WorkloadConfig, fields: set[str]) -> Edits:
    return frozenset((f, getattr(v, f)) for f in fields if getattr(v, f) != getattr(w, f))


def time_lookup(w: WorkloadConfig, times: dict[Edits, float]) -> Callable[[WorkloadConfig], float]:
    """Attribution's time_of, answered from the round-robin medians (every leave-one-out set is a subset)."""
    fields = {f for e in times for f, _ in e}
    return lambda v: times[edits_between(w, v, fields)]


def apply(w: WorkloadConfig, edits: Edits) -> WorkloadConfig:
    return w.model_copy(update=dict(edits))


def round_robin(w: WorkloadConfig, variants: list[Edits]) -> dict[Edits, float]:
    """Median seconds per token of each variant, all stepped in rotating order in one process."""
    prepared = {e: _prepare(torch, apply(w, e), device="cpu", scale=SCALE, seed=0) for e in variants}
    samples: dict[Edits, list[float]] = {e: [] for e in variants}
    for p in prepared.values():
        _timed(p, 2)  # warm-up
    order = list(variants)
    for r in range(ROUNDS):
        rotated = order[r % len(order) :] + order[: r % len(order)]
        for e in rotated if r % 2 == 0 else rotated[::-1]:
            samples[e] += [t / prepared[e].tokens for t in _timed(prepared[e], 2)]
    return {e: statistics.median(v) for e, v in samples.items()}


def final_share(w: WorkloadConfig, goblin: Edits, oracle: Edits) -> float:
    """goblin's speedup / the oracle's = oracle time / goblin time per token, measured afresh."""
    if goblin == oracle:
        return 1.0
    mg, mo = measure_pair(
        apply(w, goblin),
        apply(w, oracle),
        device="cpu",
        rounds=4,
        steps=2,
        warmup=2,
        run_ids=("g", "o"),
        variants=("goblin", "oracle"),
        scale=SCALE,
        target_half_width=FINAL_HALF_WIDTH,
        max_seconds=20,
    )
    per_token_g = [t / mg.tokens_per_step for t in mg.step_time_s]
    per_token_o = [t / mo.tokens_per_step for t in mo.step_time_s]
    # a speedup of oracle over goblin's patch; its inverse is goblin's share
    return 1.0 / bootstrap_speedup(per_token_g, per_token_o).point


def main() -> int:
    hw = get_hardware("mi300x")
    model = lookup_model("meta-llama/Meta-Llama-3-8B")
    shares: list[float] = []
    shares_attr: list[float] = []
    start = time.monotonic()
    for name, overrides in WORKLOADS.items():
        w = WorkloadConfig(path="synthetic.yaml", format="goblin", model=model, **{**BASE, **overrides})
        rules = [r for r in applicable(w, hw, cached_rules(), host={}) if not r.footgun and (r.transform.set or r.transform.micro_batch_to)]
        subsets = {edits_of(w, list(sub), hw): tuple(r.id for r in sub) for k in range(len(rules) + 1) for sub in itertools.combinations(rules, k)}
        goblin = edits_of(w, rules, hw)
        times = round_robin(w, list(subsets))
        base_t = times[frozenset()]
        oracle = min(times, key=lambda e: times[e])
        kept, dropped = leave_one_out(w, rules, hw, time_lookup(w, times))
        attributed = edits_of(w, kept, hw)
        share = final_share(w, goblin, oracle)
        share_attr = final_share(w, attributed, oracle)
        shares.append(share)
        shares_attr.append(share_attr)
        why = f"; attribution dropped {', '.join(f'{k} ({v:.2f}x)' for k, v in dropped.items())}" if dropped else ""
        print(
            f"{name:34} rules {len(rules)}, variants {len(times)}: goblin {base_t / times[goblin]:.2f}x, "
            f"with attribution {base_t / times[attributed]:.2f}x, oracle {base_t / times[oracle]:.2f}x "
            f"({', '.join(subsets[oracle]) or 'no change'}) -> share {share:.0%} / {share_attr:.0%}{why}",
            flush=True,
        )
    print(f"\n{len(shares)} workloads in {time.monotonic() - start:.0f} s (goal >= 95% each)")
    print(f"goblin's share of the oracle, KB ranking only: min {min(shares):.0%}, median {sorted(shares)[len(shares) // 2]:.0%}")
    print(f"goblin's share of the oracle, with --goblin-attribution: min {min(shares_attr):.0%}, median {sorted(shares_attr)[len(shares_attr) // 2]:.0%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
