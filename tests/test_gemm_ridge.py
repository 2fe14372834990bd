"""The GEMM efficiency's size terms scale with the roofline ridge, counted in operand bytes
(costmodel._gemm_eff, `_OPERAND_BYTES`): fp8 saturates at bf16's token count, fp32 on MI300X at a quarter."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pytest_goblin.costmodel import nominal_for, step
from pytest_goblin.hardware import get_hardware
from pytest_goblin.modelzoo import lookup_model
from pytest_goblin.schemas import WorkloadConfig

MI300X = get_hardware("mi300x")
A = replace(nominal_for(MI300X), gemm_half_hidden=0, gemm_half_tokens=1024)


def _per_token_compute(precision: str, tokens: int) -> float:
    w = WorkloadConfig(
        path="x.yaml",
        format="goblin",
        model=lookup_model("meta-llama/Meta-Llama-3-8B"),
        precision=precision,
        seq_len=1024,
        micro_batch_size=tokens // 1024,
        world_size=1,
        strategy="single",
        torch_compile=True,
        dataloader_workers=2,
        sample_packing=True,
    )
    return step(w, MI300X, A).parts["compute"] / tokens


def _saturation(precision: str) -> float:
    """GEMM time per token at 1,024 tokens over that at 8,192: (t1 + H) / t1 over (t2 + H) / t2."""
    return _per_token_compute(precision, 1024) / _per_token_compute(precision, 8192)


def test_bf16_half_point_is_the_assumed_one() -> None:
    assert _saturation("bf16") == pytest.approx((2048 / 1024) / (9216 / 8192))


def test_fp8_saturates_at_bf16s_size() -> None:
    # twice the peak and half the operand bytes: the same ridge in tokens (was twice bf16's half-point)
    assert _saturation("fp8") == pytest.approx(_saturation("bf16"), rel=1e-4)  # 2,614.9 is not quite 2 x 1,307.4


def test_fp32_saturates_at_a_quarter_of_bf16s_size() -> None:
    # an eighth of the peak (163.4 / 1307.4) and twice the bytes: H = 1024 / 4 (was 1024 / 8)
    h = 1024 * (163.4 / 1307.4) * 2
    assert _saturation("fp32") == pytest.approx(((1024 + h) / 1024) / ((8192 + h) / 8192))
