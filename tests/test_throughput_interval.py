"""The projected throughput interval (costmodel.throughput_range): wider where the calibration does not
cover the workload, and saying why."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from pytest_goblin import costmodel
from pytest_goblin.costmodel import efficiency_table, stack_of, throughput_range
from pytest_goblin.errors import KBError
from pytest_goblin.hardware import get_hardware
from pytest_goblin.modelzoo import lookup_model
from pytest_goblin.schemas import ModelShape, WorkloadConfig

MI300X = get_hardware("mi300x")


def _titan_like(**update: object) -> WorkloadConfig:
    """A workload the MI300X rows cover: Llama 3 8B, bf16, full fine-tuning, 8 GPUs, FSDP."""
    w = WorkloadConfig(
        path="x.yaml",
        format="goblin",
        model=lookup_model("meta-llama/Meta-Llama-3-8B"),
        precision="bf16",
        seq_len=8192,
        world_size=8,
        strategy="fsdp",
        torch_compile=True,
        dataloader_workers=2,
    )
    return w.model_copy(update=update)


def _width(r: object) -> float:
    return r.high / r.low  # type: ignore[attr-defined]


def test_a_calibrated_stack_is_not_widened_and_an_unknown_one_is() -> None:
    w = _titan_like()
    calibrated = throughput_range(w, MI300X, stack="torchtitan")
    unknown = throughput_range(w, MI300X)  # a native goblin file names no stack
    hf = throughput_range(w.model_copy(update={"format": "axolotl"}), MI300X)
    assert calibrated.widened == ()
    assert calibrated.low < calibrated.nominal < calibrated.high
    assert unknown.nominal == calibrated.nominal == hf.nominal  # the interval widens, the projection does not move
    assert _width(unknown) > 1.5 * _width(calibrated) and _width(hf) == _width(unknown)
    assert unknown.widened == (
        "outside the calibration rows: a stack the config does not name (the mi300x rows run megatron_te, torchtitan): "
        "widened by unfitted factors' error (-19%/+57%)",
    )
    assert "stack hf_trainer (" in hf.widened[0] and "None" not in hf.widened[0]


def test_each_uncovered_dimension_is_named_and_widens_once() -> None:
    w = _titan_like(precision="fp32", model=lookup_model("Qwen/Qwen2.5-0.5B"), world_size=64)
    r = throughput_range(w, MI300X, stack="torchtitan")
    why, span = r.widened  # one uncovered widening, then fp32's unsourced span (test_unsourced_spans_*)
    assert span.startswith("fp32_gemm_eff_max ")
    assert "precision fp32 (the rows run bf16, fp8)" in why
    assert "B model (the rows span 8.03-69B)" in why and "64 GPUs (the rows run on 8-8)" in why
    one = throughput_range(_titan_like(precision="fp32"), MI300X, stack="torchtitan")
    base = throughput_range(_titan_like(), MI300X, stack="torchtitan")
    cal, unfit = efficiency_table()["mi300x"].calibration, efficiency_table()["default"].calibration
    assert cal is not None and unfit is not None
    # one widening by the unfitted factors' residuals, however many dimensions are outside
    assert one.low < base.low * one.nominal / base.nominal
    assert one.high / one.nominal <= (1 / (1 - cal.max_under)) / (1 - unfit.max_under) * 1.3


def test_a_target_without_rows_of_its_own_says_so() -> None:
    r = throughput_range(_titan_like(), get_hardware("mi250x"), stack="torchtitan")
    assert r.widened and r.widened[0].startswith("outside the calibration rows: mi250x has no published rows of its own")


def test_an_unknown_model_shape_widens_by_the_shapes_it_could_have() -> None:
    known = throughput_range(_titan_like(), MI300X, stack="torchtitan")
    sized = throughput_range(_titan_like(model=ModelShape(name="my-org/house-13b", params_b=13.0)), MI300X, stack="torchtitan")
    blind = throughput_range(_titan_like(model=ModelShape(name="my-org/house-model")), MI300X, stack="torchtitan")
    assert known.widened == ()
    assert any("model shape not in the table (13B, hidden size halved and doubled)" in why for why in sized.widened)
    assert any("model shape not in the table (7B assumed, 3.5B-14B spanned)" in why for why in blind.widened)
    assert _width(blind) > _width(sized) > _width(known)


def test_stack_follows_the_config_format() -> None:
    assert stack_of(_titan_like(format="llamafactory")) == "hf_trainer"
    assert stack_of(_titan_like(format="torchtune")) == "torchtune"
    assert stack_of(_titan_like()) is None


def test_a_calibration_block_with_an_unknown_key_is_a_kb_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    kb = tmp_path / "efficiency.yaml"
    kb.write_text(
        '- target: default\n  calibration: {rows: 1, mean_abs_error: 0, max_over: 0, max_under: 0, speedup_abs_error: 0, basis: "x", stack: [hf_trainer]}\n'
    )
    monkeypatch.setattr(costmodel, "kb_dir", lambda: tmp_path)
    costmodel.efficiency_table.cache_clear()
    try:
        with pytest.raises(KBError, match=r"default: `calibration`: .*stack"):
            costmodel.efficiency_table()
    finally:
        costmodel.efficiency_table.cache_clear()


def _te_lora(**update: object) -> WorkloadConfig:
    """The class the MI300X rows hold four of: Transformer Engine fp8 LoRA (the MLPerf 70B recipe)."""
    w = WorkloadConfig(
        path="x.yaml",
        format="goblin",
        model=lookup_model("meta-llama/Llama-2-70b-hf"),
        method="lora",
        precision="fp8",
        attention="flash",
        seq_len=8192,
        world_size=8,
        strategy="ddp",
        fused_kernels=True,
        sample_packing=True,
        dataloader_workers=2,
    )
    return w.model_copy(update=update)


def test_a_class_with_rows_of_its_own_takes_its_residuals_not_the_grid() -> None:
    cal = efficiency_table()["mi300x"].calibration
    assert cal is not None
    klass = cal.residual_of("megatron_te", "fp8", "lora")
    assert klass is not None and klass.rows >= costmodel.CLASS_MIN_ROWS
    r = throughput_range(_te_lora(), MI300X, stack="megatron_te")
    floor = costmodel.CLASS_FLOOR
    assert r.low == pytest.approx(r.nominal / (1 + max(klass.max_over, floor)))
    assert r.high == pytest.approx(r.nominal / (1 - max(klass.max_under, floor)))
    # without the class rows, the same workload gets the grid and the target's residuals: wider
    no_classes = costmodel.Calibration(**{**cal.__dict__, "classes": ()})
    grid = throughput_range(_te_lora(), MI300X, stack="megatron_te", calibration=no_classes)
    assert grid.nominal == r.nominal and _width(grid) > _width(r)


def test_a_class_with_too_few_rows_or_an_uncovered_workload_keeps_the_grid() -> None:
    cal = efficiency_table()["mi300x"].calibration
    assert cal is not None
    few = costmodel.Calibration(**{**cal.__dict__, "classes": (costmodel.ClassResidual("megatron_te", "fp8", "lora", 2, 0.01, 0.01),)})
    assert few.residual_of("megatron_te", "fp8", "lora") is None
    no_classes = costmodel.Calibration(**{**cal.__dict__, "classes": ()})
    a = throughput_range(_te_lora(), MI300X, stack="megatron_te", calibration=few)
    b = throughput_range(_te_lora(), MI300X, stack="megatron_te", calibration=no_classes)
    assert (a.low, a.high) == (b.low, b.high)
    # 16 GPUs is outside the rows' 8-8: uncovered, widened, whatever the class holds
    wide = throughput_range(_te_lora(world_size=16), MI300X, stack="megatron_te")
    assert wide.widened and _width(wide) > 1.5 * (1 + costmodel.CLASS_FLOOR) / (1 - costmodel.CLASS_FLOOR)


def test_kb_class_residuals_round_up_to_hold_their_own_rows() -> None:
    (c,) = costmodel.class_residuals([("s", "bf16", "full", 0.2461), ("s", "bf16", "full", -0.2464), ("s", "bf16", "full", 0.0)], digits=3)
    assert (c.max_over, c.max_under, c.rows) == (0.247, 0.247, 3)
    assert costmodel.class_residuals([("s", "bf16", "full", 0.1)] * 2) == ()


def _counting_steps(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls = [0]
    real = costmodel.step

    def counted(*args: object, **kwargs: object) -> object:
        calls[0] += 1
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(costmodel, "step", counted)
    return calls


def test_a_session_projects_a_workload_once_and_shares_its_grid(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inside a session scope (repoindex) the interval of a workload is computed once, and the speedup's grid
    reuses the interval's step projections: the same numbers as outside a session, about a third of the steps."""
    from pytest_goblin import repoindex

    before = _titan_like(world_size=1, strategy="single", torch_compile=False, model=ModelShape(name="unknown/x", params_b=3.0))
    after = before.model_copy(update={"gradient_checkpointing": False})
    plain = (throughput_range(before, MI300X), throughput_range(before, MI300X), costmodel.sensitivity(before, after, MI300X))
    calls = _counting_steps(monkeypatch)
    throughput_range(before, MI300X), throughput_range(before, MI300X), costmodel.sensitivity(before, after, MI300X)
    outside = calls[0]
    calls[0] = 0
    with repoindex.session():
        memoized = (throughput_range(before, MI300X), throughput_range(before, MI300X), costmodel.sensitivity(before, after, MI300X))
    assert memoized == plain
    assert 0 < calls[0] < outside * 0.8


def test_a_changed_workload_is_projected_again_in_a_session() -> None:
    """The memo's key is the whole workload: a copy with another micro-batch gets its own interval (the memo
    must never answer for another workload)."""
    from pytest_goblin import repoindex

    w = _titan_like()
    bigger = w.model_copy(update={"micro_batch_size": w.micro_batch_size * 4})
    with repoindex.session():
        first, second = throughput_range(w, MI300X), throughput_range(bigger, MI300X)
    assert second == throughput_range(bigger, MI300X) and first == throughput_range(w, MI300X)
    assert second.nominal != first.nominal


def test_an_fp32_workload_walks_the_efficiency_that_prices_its_gemms() -> None:
    # 3f80044 walked gemm_eff_max for every workload, which fp32 GEMMs do not read: an fp32 interval ignored
    # the assumption (fp32_gemm_eff_max, no AMD anchor) that sets most of its step
    w = _titan_like(precision="fp32", torch_compile=False, world_size=1, strategy="single", micro_batch_size=1, seq_len=2048)
    assert "fp32_gemm_eff_max" in costmodel.factors_used(w)
    nominal = costmodel.nominal_for(MI300X)
    rates = {round(w.tokens_per_step / costmodel.step(w, MI300X, a).step_s, 3) for a in costmodel.assumption_grid(nominal, costmodel.factors_used(w))}
    lowered = w.tokens_per_step / costmodel.step(w, MI300X, dataclasses.replace(nominal, fp32_gemm_eff_max=nominal.fp32_gemm_eff_max * 0.85)).step_s
    assert min(rates) <= lowered + 1e-6


def test_a_bf16_workload_does_not_walk_the_fp32_efficiency() -> None:
    assert "fp32_gemm_eff_max" not in costmodel.factors_used(_titan_like())
    assert "fp32_gemm_eff_max" not in costmodel.factors_used(_titan_like(precision="fp8"))


def test_unsourced_spans_widen_torchao_fp8_and_fp32_and_name_their_source() -> None:
    # torchao float8 through torch.compile (torch._scaled_mm): fp8_compiled_gemm_eff_max, fitted to one row
    torchao = throughput_range(_titan_like(precision="fp8"), MI300X, stack="torchtitan")
    (why,) = [x for x in torchao.widened if x.startswith("fp8_compiled_gemm_eff_max ")]
    assert "pytorch/pytorch#143465" in why and "ROCm/xla" in why and "None" not in why
    nominal = costmodel.nominal_for(MI300X)
    ((name, lo, hi, _),) = costmodel.unsourced_spans(_titan_like(precision="fp8"), MI300X, nominal)
    # the measured 0.042 of peak at 8192^3 and 0.67 at 4096^3, through the model's size terms at those shapes
    size = costmodel._gemm_eff(1.0, nominal, 8192, 8192, 1.0)
    assert name == "fp8_compiled_gemm_eff_max" and lo == pytest.approx(0.042 / size, rel=1e-3) and lo < nominal.fp8_compiled_gemm_eff_max < hi
    at_lo = (
        _titan_like(precision="fp8").tokens_per_step / costmodel.step(_titan_like(precision="fp8"), MI300X, dataclasses.replace(nominal, **{name: lo})).step_s
    )
    assert torchao.low <= at_lo * 1.0001 < torchao.nominal
    # fp32: no MI300X fp32 GEMM measurement, spanned down to AMD's lowest measured max-achievable share
    fp32 = throughput_range(_titan_like(precision="fp32"), MI300X, stack="torchtitan")
    (why32,) = [x for x in fp32.widened if x.startswith("fp32_gemm_eff_max ")]
    assert "spanned 0.49-0.86" in why32 and "Measuring Max-Achievable FLOPs" in why32


def test_unsourced_spans_leave_transformer_engine_bf16_and_other_targets_alone() -> None:
    nominal = costmodel.nominal_for(MI300X)
    te = _titan_like(precision="fp8", torch_compile=False, fused_kernels=True)  # Transformer Engine's fp8: fitted to ten sources
    assert costmodel.unsourced_spans(te, MI300X, nominal) == []
    assert costmodel.unsourced_spans(_titan_like(), MI300X, nominal) == []
    h100 = get_hardware("h100")
    assert costmodel.unsourced_spans(_titan_like(precision="fp8"), h100, costmodel.nominal_for(h100)) == []
    for w in (te, _titan_like()):
        assert not any("spanned" in x for x in throughput_range(w, MI300X, stack="torchtitan").widened)
