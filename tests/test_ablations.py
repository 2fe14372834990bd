"""benchmarks/ablations.py: published one-change ratios against projected ones."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from ablations import Ablation, Result, ablations, derived_pairs, listed_pairs, summary_line, table
from amd_rows import RowsError
from calibration_rows import Measurement

from .conftest import ROOT

DOC = ROOT / "docs" / "projection.md"


def _m(name: str, published: float, source_key: str = "s", target: str = "mi300x", **workload: object) -> Measurement:
    return Measurement(name, target, dict(workload), published, "https://example.invalid", name, source_key=source_key)


def test_ratio_and_error_arithmetic_on_a_toy_pair() -> None:
    ab = Ablation(_m("a", 100.0), _m("b", 125.0), "micro_batch_size 1 -> 2", "toy")
    inside = Result(ab, projected_before=1000.0, projected_after=1300.0)  # 1.30 against 1.25: +4%
    outside = Result(ab, projected_before=1000.0, projected_after=1100.0)  # 1.10 against 1.25: -12%
    assert ab.published_ratio == pytest.approx(1.25)
    assert inside.projected_ratio == pytest.approx(1.3) and inside.error == pytest.approx(0.04) and inside.within
    assert outside.error == pytest.approx(-0.12) and not outside.within
    assert summary_line([inside, outside]) == "- 2 pairs; within 10%: 1/2; mean |error| 8.0%, largest 12.0%."
    assert "| a | b | mi300x | micro_batch_size 1 -> 2 | toy | 1.250 | 1.300 | +4.0% | yes |" in table([inside, outside])


def test_derived_pairs_need_one_source_one_gpu_and_one_setting() -> None:
    rows = [
        _m("mbs2", 100.0, micro_batch_size=2, seq_len=4096),
        _m("mbs4", 110.0, micro_batch_size=4, seq_len=4096),  # one setting: a pair
        _m("other-source", 120.0, source_key="t", micro_batch_size=8, seq_len=4096),  # another source: none
        _m("other-gpu", 130.0, target="mi325x", micro_batch_size=8, seq_len=4096),  # another GPU: none
        _m("two-settings", 90.0, micro_batch_size=4, seq_len=4096, precision="fp8"),  # precision and batch vs mbs2: none
    ]
    pairs = derived_pairs(rows)
    names = {(p.before.name, p.after.name) for p in pairs}
    assert ("mbs2", "mbs4") in names
    assert ("two-settings", "mbs4") in names  # precision alone against mbs4
    assert not any("other" in b or "other" in a for a, b in names)
    assert not any({a, b} == {"mbs2", "two-settings"} for a, b in names)
    # a pair already listed is not derived again, in either order
    listed = [Ablation(rows[1], rows[0], "listed", "toy")]
    assert ("mbs2", "mbs4") not in {(p.before.name, p.after.name) for p in derived_pairs(rows, listed)}


def test_a_listed_ratio_that_is_not_the_rows_own_is_an_error(tmp_path: Path) -> None:
    rows = [_m("a", 100.0), _m("b", 150.0)]
    good = tmp_path / "good.yaml"
    good.write_text("rows: []\nablations:\n- {before: a, after: b, changed: x, published_ratio: 1.5}\n", encoding="utf-8")
    assert [ab.after.name for ab in listed_pairs(rows, good)] == ["b"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("rows: []\nablations:\n- {before: a, after: b, changed: x, published_ratio: 1.4}\n", encoding="utf-8")
    with pytest.raises(RowsError, match=r"ablation 1: published_ratio 1.4 is not the rows' own ratio 1.5000"):
        listed_pairs(rows, bad)
    missing = tmp_path / "missing.yaml"
    missing.write_text("rows: []\nablations:\n- {before: a, after: c, changed: x, published_ratio: 1.5}\n", encoding="utf-8")
    with pytest.raises(RowsError, match="no row named 'c'"):
        listed_pairs(rows, missing)


def test_every_listed_pair_of_the_rows_file_is_evaluated() -> None:
    pairs = ablations()
    assert sum(p.origin == "amd_rows.yaml" for p in pairs) == 13
    assert len({(p.before.name, p.after.name) for p in pairs}) == len(pairs)


def test_docs_carry_the_current_ablations_table() -> None:
    text = DOC.read_text(encoding="utf-8")
    found = re.search(r"<!-- ablations-table:start -->\n(.*?)\n<!-- ablations-table:end -->", text, re.S)
    assert found, "docs/projection.md lost its ablations-table markers"
    assert found.group(1) == table(), "the ablation ratios changed: run `python benchmarks/ablations.py` and update docs/projection.md"


# --- benchmarks/memory_check.py: the published runs ran, so none may be projected above its GPU's memory


def test_every_row_above_its_gpu_is_a_known_one_with_a_reason() -> None:
    from memory_check import KNOWN_OVER, check, over

    checks = check()
    assert len(checks) >= 60
    assert {c.measurement.name for c in over(checks)} == set(KNOWN_OVER), "update memory_check.KNOWN_OVER (and its reasons)"


def test_a_row_above_its_gpu_is_reported_and_one_below_is_not() -> None:
    from memory_check import check, over, table

    big = _m("toy-70b-full-ddp", 1.0, model="meta-llama/Llama-2-70b-hf", method="full", precision="bf16", world_size=8, strategy="ddp")
    small = _m("toy-7b-lora", 1.0, model="meta-llama/Llama-2-7b-hf", method="lora", precision="bf16", seq_len=1024)
    checks = check([big, small])
    assert [c.measurement.name for c in over(checks)] == ["toy-70b-full-ddp"]
    assert "| toy-70b-full-ddp | mi300x |" in table(checks) and "not explained" in table(checks)
    assert "projected above their GPU's memory: 1" in table(checks)


def test_compiled_and_transformer_engine_rows_fit_where_they_ran() -> None:
    """The Infinity Hub rows (compiled bf16; TE fp8 layers) were projected at 194-371 GB before the compiled and TE terms."""
    from memory_check import check

    ih = [c for c in check() if c.measurement.name.startswith("ih-llama31-8b") or c.measurement.name.startswith("ih-mistral")]
    assert len(ih) == 12 and all(not c.over for c in ih)


def test_megatron_grad_reduce_in_bf16_row_fits_its_gpu() -> None:
    """Megatron-LM's LLAMA3-8B example passes --grad-reduce-in-bf16: a bf16 gradient buffer (3f80044 charged fp32: 82.7 GB on 80)."""
    from calibration_rows import MEASUREMENTS
    from memory_check import check

    from pytest_goblin.costmodel import memory_gb
    from pytest_goblin.modelzoo import estimate_shape

    rows = {m.name: m for m in MEASUREMENTS}
    mcore, nemo = rows["llama3-8b-pretrain-mcore"].workload_config(), rows["llama3-8b-pretrain"].workload_config()
    assert mcore.grad_dtype == "bf16" and nemo.grad_dtype is None
    # the same workload but for the gradient dtype: 2 bytes instead of 4 per parameter, unsharded under ZeRO-1
    assert memory_gb(nemo) - memory_gb(mcore) == pytest.approx(2 * (estimate_shape(nemo.model).params_b or 0.0) * 1.08)  # x1.08 allocator fragmentation
    by = {c.measurement.name: c for c in check()}
    assert not by["llama3-8b-pretrain-mcore"].over


def test_an_unset_grad_dtype_keeps_the_default_and_fp32_is_charged_where_set() -> None:
    from pytest_goblin.costmodel import memory_gb
    from pytest_goblin.modelzoo import estimate_shape

    base = _m("toy-8b-bf16", 1.0, model="meta-llama/Meta-Llama-3-8B", method="full", precision="bf16", weight_dtype="bf16", world_size=8, strategy="ddp")
    fp32 = _m(
        "toy-8b-bf16-fp32-grads",
        1.0,
        model="meta-llama/Meta-Llama-3-8B",
        method="full",
        precision="bf16",
        weight_dtype="bf16",
        world_size=8,
        strategy="ddp",
        grad_dtype="fp32",
    )
    w, w32 = base.workload_config(), fp32.workload_config()
    assert w.grad_dtype is None and w32.grad_dtype == "fp32"
    # pure bf16 weights keep bf16 gradients by default; an explicit fp32 buffer adds 2 bytes per parameter
    assert memory_gb(w32) - memory_gb(w) == pytest.approx(2 * (estimate_shape(w.model).params_b or 0.0) * 1.08)


def test_communication_reduces_gradients_in_the_stated_grad_dtype() -> None:
    """torchtitan's FSDP2 reduce-scatters in fp32 (`mixed_precision_reduce`, job_config.py:207 @2c8b594): a stated
    fp32 grad_dtype doubles the gradient bytes of the collective; an unset or bf16 one keeps 2 bytes, and one GPU none."""
    from calibration_rows import AMD_MEASUREMENTS

    from pytest_goblin.costmodel import step
    from pytest_goblin.hardware import get_hardware
    from pytest_goblin.modelzoo import lookup_model
    from pytest_goblin.schemas import WorkloadConfig

    hw = get_hardware("mi300x")
    base = WorkloadConfig(
        path="x.yaml", format="goblin", model=lookup_model("meta-llama/Meta-Llama-3-8B"), method="full", precision="bf16",
        weight_dtype="fp32", strategy="fsdp", world_size=8, seq_len=8192, micro_batch_size=1,
    )  # fmt: skip
    comm = {dtype: step(base.model_copy(update={"grad_dtype": dtype}), hw).parts["communication"] for dtype in (None, "bf16", "fp32")}
    # full sharding moves two bf16 all-gathers of the weights and one reduce-scatter of the gradients per micro-batch:
    # 2 + 2 + 2 bytes per parameter with bf16 gradients, 2 + 2 + 4 with fp32 ones (exposed as the same share)
    assert comm[None] == comm["bf16"] > 0
    assert comm["fp32"] / comm["bf16"] == pytest.approx(8 / 6)
    # ZeRO-1 reduce-scatters the gradients in that dtype but all-gathers the updated weights in theirs: 4 + 2 bytes against 2 + 2
    zero1 = base.model_copy(update={"strategy": "deepspeed", "zero_stage": 1, "weight_dtype": None, "gradient_accumulation": 4})
    per_step = {dtype: step(zero1.model_copy(update={"grad_dtype": dtype}), hw).parts["communication"] for dtype in (None, "fp32")}
    assert per_step["fp32"] / per_step[None] == pytest.approx(6 / 4)
    alone = base.model_copy(update={"world_size": 1, "strategy": "single", "grad_dtype": "fp32"})
    assert step(alone, hw).parts["communication"] == 0.0
    titan = {m.name: m for m in AMD_MEASUREMENTS}["titan-llama3-8b-bf16"].workload_config()
    assert titan.grad_dtype == "fp32"


def test_automodel_rows_checkpoint_as_their_configs_say() -> None:
    """qwen3_moe_30b_te_deepep.yaml sets activation_checkpointing: true (3f80044 left it out: 105.3 GB, +45% fast);
    gptoss_20b_te_deepep.yaml sets it false, and that row keeps every activation."""
    from calibration_rows import MEASUREMENTS
    from memory_check import check

    rows = {m.name: m for m in MEASUREMENTS}
    qwen, gptoss = rows["qwen3-30b-a3b-pretrain"].workload_config(), rows["gpt-oss-20b-pretrain"].workload_config()
    assert qwen.gradient_checkpointing and qwen.recompute_share == 1.0
    assert not gptoss.gradient_checkpointing
    by = {c.measurement.name: c for c in check()}
    assert by["qwen3-30b-a3b-pretrain"].projected_gb < 85


def test_docs_carry_the_current_memory_table() -> None:
    from memory_check import table as memory_table

    text = DOC.read_text(encoding="utf-8")
    found = re.search(r"<!-- memory-table:start -->\n(.*?)\n<!-- memory-table:end -->", text, re.S)
    assert found, "docs/projection.md lost its memory-table markers"
    assert found.group(1) == memory_table(), "run `python benchmarks/memory_check.py` and update docs/projection.md"


def test_the_blog_lora_to_full_pair_counts_the_full_runs_checkpoint_saves() -> None:
    """Both runs' train_runtime holds five saves; the full fine-tune's write 81 GB each, the LoRA's an adapter: with
    the saves charged the published 0.287 is projected within 10% (0.62, +117%, without them)."""
    from ablations import evaluate

    pair = next(
        r
        for r in evaluate(ablations())
        if (r.ablation.before.name, r.ablation.after.name) == ("blog-llama2-7b-lora-fp32-mi300x", "blog-llama2-7b-full-fp32-mi300x")
    )
    assert pair.within, pair.error
