"""Oracle: how much of the best achievable speedup goblin's chosen patch recovers, measured.

    python benchmarks/oracle.py

For each of 8 small synthetic LoRA workloads, on this machine's CPU with the torch runner's proxy
model (in process, one run): every combination of the applicable KB rules that edit the config
is applied and measured (the oracle is the fastest), and so is the patch goblin chooses. It
prints goblin's speedup as a share of the oracle's. Goal: at least 95% on every workload.

Environment-only rules (TunableOp, RCCL settings) change nothing a CPU can measure and are left
out; LoRA workloads keep torch.compile's rule (full fine-tuning only) out of a CPU-sized run.
"""

from __future__ import annotations

import itertools
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pytest_goblin.attribution import leave_one_out  # noqa: E402
from pytest_goblin.kb import applicable, cached_rules, get_hardware  # noqa: E402
from pytest_goblin.modelzoo import lookup_model  # noqa: E402
from pytest_goblin.patching import plan_edits  # noqa: E402
from pytest_goblin.schemas import WorkloadConfig  # noqa: E402
from runner.torch_runner import Scale, measure  # noqa: E402

SCALE = Scale(layers=2, hidden=128, seq_len=128, vocab=1024, max_micro_batch=8)
STEPS = 7

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


def step_time(w: WorkloadConfig) -> float:
    m = measure(w, device="cpu", steps=STEPS, warmup=2, run_id="r", variant="v", scale=SCALE)
    # per token, so that variants with a different micro-batch compare fairly
    return statistics.median(m.step_time_s) / m.tokens_per_step


def main() -> int:
    hw = get_hardware("mi300x")
    model = lookup_model("meta-llama/Meta-Llama-3-8B")
    shares: list[float] = []
    shares_attr: list[float] = []
    start = time.monotonic()
    for name, overrides in WORKLOADS.items():
        w = WorkloadConfig(path="synthetic.yaml", format="goblin", model=model, **{**BASE, **overrides})
        rules = [r for r in applicable(w, hw, cached_rules(), host={}) if not r.footgun and (r.transform.set or r.transform.micro_batch_to)]
        base_t = step_time(w)
        chosen, _env, _conflicts, _skipped = plan_edits(w, rules, hw)
        goblin_w = w.model_copy(update={f: v for f, (v, _) in chosen.items()})
        goblin = base_t / step_time(goblin_w) if chosen else 1.0
        best, best_set = 1.0, ()
        for k in range(1, len(rules) + 1):
            for subset in itertools.combinations(rules, k):
                sub, _, _, _ = plan_edits(w, list(subset), hw)
                if not sub:
                    continue
                speed = base_t / step_time(w.model_copy(update={f: v for f, (v, _) in sub.items()}))
                if speed > best:
                    best, best_set = speed, tuple(r.id for r in subset)
        kept, dropped = leave_one_out(w, rules, hw, step_time)
        if dropped:
            kept_chosen, _e, _c, _s = plan_edits(w, kept, hw)
            attributed = base_t / step_time(w.model_copy(update={f: v for f, (v, _) in kept_chosen.items()})) if kept_chosen else 1.0
        else:
            attributed = goblin
        share = goblin / best if best > 0 else 1.0
        share_attr = attributed / best if best > 0 else 1.0
        shares.append(share)
        shares_attr.append(share_attr)
        why = f"; attribution dropped {', '.join(f'{k} ({v:.2f}x)' for k, v in dropped.items())}" if dropped else ""
        print(
            f"{name:34} rules {len(rules)}: goblin {goblin:.2f}x, with attribution {attributed:.2f}x, oracle {best:.2f}x "
            f"({', '.join(best_set) or 'no change'}) -> {share:.0%} / {share_attr:.0%}{why}",
            flush=True,
        )
    print(f"\n{len(shares)} workloads in {time.monotonic() - start:.0f} s (goal >= 95% each)")
    print(f"goblin's share of the oracle, KB ranking only: min {min(shares):.0%}, median {sorted(shares)[len(shares) // 2]:.0%}")
    print(f"goblin's share of the oracle, with --goblin-attribution: min {min(shares_attr):.0%}, median {sorted(shares_attr)[len(shares_attr) // 2]:.0%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
