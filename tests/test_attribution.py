"""Leave-one-out attribution keeps only the rules whose measured contribution clears the bar."""

from __future__ import annotations

from pytest_goblin import kb
from pytest_goblin.attribution import KEEP_THRESHOLD, leave_one_out
from pytest_goblin.modelzoo import lookup_model
from pytest_goblin.schemas import WorkloadConfig


def test_a_rule_that_does_not_pay_is_dropped_with_its_figure() -> None:
    hw = kb.get_hardware("mi300x")
    w = WorkloadConfig(
        path="x",
        format="goblin",
        model=lookup_model("meta-llama/Meta-Llama-3-8B"),
        method="lora",
        precision="fp32",
        attention="eager",
        optimizer="adamw_torch_fused",
    )
    rules = [r for r in kb.cached_rules() if r.id in {"precision.bf16_amp_over_fp32", "attention.sdpa_over_eager", "gemm.tunableop"}]

    def time_of(v: WorkloadConfig) -> float:  # a device where bf16 halves the time and SDPA costs 5%
        return (0.5 if v.precision == "bf16" else 1.0) * (1.05 if v.attention == "sdpa" else 1.0)

    kept, dropped = leave_one_out(w, rules, hw, time_of)
    assert set(dropped) == {"attention.sdpa_over_eager"} and dropped["attention.sdpa_over_eager"] < KEEP_THRESHOLD
    assert {r.id for r in kept} == {"precision.bf16_amp_over_fp32", "gemm.tunableop"}  # env-only rules are not judged here


def test_every_rule_that_pays_is_kept() -> None:
    hw = kb.get_hardware("mi300x")
    w = WorkloadConfig(path="x", format="goblin", model=lookup_model("meta-llama/Meta-Llama-3-8B"), method="lora", precision="fp32", attention="eager")
    rules = [r for r in kb.cached_rules() if r.id in {"precision.bf16_amp_over_fp32", "attention.sdpa_over_eager"}]

    def time_of(v: WorkloadConfig) -> float:
        return (0.5 if v.precision == "bf16" else 1.0) * (0.8 if v.attention == "sdpa" else 1.0)

    kept, dropped = leave_one_out(w, rules, hw, time_of)
    assert dropped == {} and len(kept) == 2
