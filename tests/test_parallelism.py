"""Tensor, pipeline and context parallel degrees in the cost model, and where the goblin format reads them."""

from __future__ import annotations

from typing import Any

import pytest
from calibration_rows import Measurement

from pytest_goblin.costmodel import _data_parallel_ranks, data_tokens_per_step, memory_gb, pipeline_bubble, step
from pytest_goblin.hardware import get_hardware
from pytest_goblin.schemas import WorkloadConfig

HW = get_hardware("mi300x")
BASE: dict[str, Any] = {
    "model": "meta-llama/Llama-2-70b-hf",
    "method": "full",
    "precision": "bf16",
    "attention": "flash",
    "seq_len": 4096,
    "micro_batch_size": 1,
    "gradient_accumulation": 8,
    "world_size": 8,
    "strategy": "ddp",
    "dataloader_workers": 2,
}


def _w(**extra: Any) -> WorkloadConfig:
    return Measurement("toy", "mi300x", {**BASE, **extra}, 1.0, "https://example.invalid", "toy").workload_config()


def test_bubble_follows_the_schedule() -> None:
    assert pipeline_bubble(_w()) == 0.0
    assert pipeline_bubble(_w(pipeline_parallel=4)) == pytest.approx(3 / (8 + 3))  # 1F1B: (p-1) / (m + p-1)
    assert pipeline_bubble(_w(pipeline_parallel=4, virtual_pipeline=3)) == pytest.approx(1 / (8 + 1))  # (p-1)/v
    assert pipeline_bubble(_w(pipeline_parallel=4, gradient_accumulation=32)) < pipeline_bubble(_w(pipeline_parallel=4))


def test_the_step_idles_for_the_bubble_only_when_pipelined() -> None:
    flat = step(_w(), HW)
    assert flat.parts["idle"] == 0.0
    piped = step(_w(pipeline_parallel=4, world_size=4), HW)  # one replica: no data-parallel collective
    assert piped.parts["idle"] > 0
    micro_s = (piped.step_s - piped.parts["idle"] - piped.parts["optimizer"]) / 8
    assert piped.parts["idle"] == pytest.approx(3 * micro_s, rel=1e-6)
    assert piped.parts["idle"] / piped.step_s == pytest.approx(pipeline_bubble(_w(pipeline_parallel=4)), rel=0.05)  # the optimizer is the rest
    interleaved = step(_w(pipeline_parallel=4, virtual_pipeline=3, world_size=4), HW)
    assert interleaved.parts["idle"] == pytest.approx(piped.parts["idle"] / 3, rel=1e-6)


def test_tensor_parallel_splits_compute_and_pays_its_all_reduces() -> None:
    one, tp8 = step(_w(), HW), step(_w(tensor_parallel=8), HW)
    assert tp8.parts["compute"] == pytest.approx(one.parts["compute"] / 8)
    # four all-reduces per layer of tokens x hidden bf16 over 8 ranks: 2 x 7/8 of each, at xGMI x comm_eff, never hidden
    tokens, hidden, layers = 4096, 8192, 80
    expected = 8 * layers * 4 * 2 * 7 / 8 * tokens * hidden * 2 / (HW.scale_up_gb_s * 1e9 * 0.6)
    no_dp = step(_w(tensor_parallel=8, world_size=8), HW).parts["communication"]
    assert no_dp == pytest.approx(expected, rel=1e-6)
    # recomputed forwards all-reduce again
    assert step(_w(tensor_parallel=8, gradient_checkpointing=True), HW).parts["communication"] > no_dp
    # a GPU's share of the tokens is 1/(tp x pp): the same tokens run through every GPU of a replica
    assert data_tokens_per_step(_w(tensor_parallel=2, pipeline_parallel=2)) == data_tokens_per_step(_w()) // 4


def test_model_parallel_splits_memory() -> None:
    whole = memory_gb(_w())
    assert memory_gb(_w(tensor_parallel=8)) < whole / 7
    assert memory_gb(_w(pipeline_parallel=8)) < whole / 4
    # interleaving keeps more micro-batches in flight (Korthikanti et al. 2022, 1 + (p-1)/(p v))
    assert memory_gb(_w(pipeline_parallel=8, virtual_pipeline=2)) > memory_gb(_w(pipeline_parallel=8))


def test_data_parallel_ranks_leave_out_model_and_context_parallel_ones() -> None:
    assert _data_parallel_ranks(_w(world_size=16, tensor_parallel=2, pipeline_parallel=2, context_parallel=2)) == 2
    assert _data_parallel_ranks(_w(world_size=16)) == 16


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ({"tensor_model_parallel_size": 4, "pipeline_model_parallel_size": 2, "virtual_pipeline_model_parallel_size": 3}, (4, 2, 3, 1)),
        ({"tensor_parallel_degree": 2, "pipeline_parallel_degree": 4, "context_parallel_degree": 2}, (2, 4, 1, 2)),
        ({"tensor_parallel": 8, "tensor_model_parallel_size": 2}, (8, 1, 1, 1)),  # the goblin name wins
        ({}, (1, 1, 1, 1)),
    ],
)
def test_goblin_format_reads_megatron_and_torchtitan_names(keys: dict[str, int], expected: tuple[int, int, int, int]) -> None:
    w = _w(**keys)
    assert (w.tensor_parallel, w.pipeline_parallel, w.virtual_pipeline, w.context_parallel) == expected
    if keys:
        key = next(iter(keys))
        assert any(src.key == key for src in w.sources.values())


def test_mi250x_is_projected_per_gcd_and_says_so() -> None:
    from pytest_goblin.costmodel import calibration_note

    gcd, package_peer = get_hardware("mi250x"), get_hardware("mi300x")
    assert (gcd.hbm_gb, gcd.bf16_tflops, gcd.per_gcd) == (64, 191.5, True)  # half of the package's 128 GB and 383 TFLOPS
    assert "projected per GCD" in calibration_note(gcd) and "64 GB" in calibration_note(gcd)
    assert "GCD" not in calibration_note(package_peer)


def test_mx_formats_run_the_linear_gemms_at_mi355x_mx_peak() -> None:
    mi355x, mi300x = get_hardware("mi355x"), get_hardware("mi300x")
    assert mi355x.fp4_tflops == mi355x.fp6_tflops == pytest.approx(2 * (mi355x.fp8_tflops or 0))
    fp8, mx4 = step(_w(precision="fp8"), mi355x), step(_w(precision="mxfp4"), mi355x)
    # the linear GEMMs at twice the fp8 peak; the output projection (bf16) does not move
    assert fp8.parts["compute"] / 2 < mx4.parts["compute"] < fp8.parts["compute"]
    # a GPU without MX matrix cores gets no gain over fp8 (and precision.mx_without_hardware_support)
    assert step(_w(precision="mxfp4"), mi300x).step_s == pytest.approx(step(_w(precision="fp8"), mi300x).step_s)
    assert _w(precision="mxfp6").precision == "mxfp6"


def test_context_parallel_pays_its_kv_exchange() -> None:
    from pytest_goblin.costmodel import NOMINAL, _context_parallel_comm

    w1, w2 = _w(seq_len=8192), _w(seq_len=8192, context_parallel=2)
    assert _context_parallel_comm(w1, HW, NOMINAL, 8192, 80, 1024, 2, attention_s=0.0) == 0.0
    exposed = _context_parallel_comm(w2, HW, NOMINAL, 4096, 80, 1024, 2, attention_s=0.0)
    # (cp-1) chunks of K and V per layer, three times (forward gather, backward gather and gradient scatter)
    assert exposed == pytest.approx(3 * 4096 * 2 * 1024 * 2 * 80 / (HW.scale_up_gb_s * 1e9 * NOMINAL.comm_eff))
    hidden = _context_parallel_comm(w2, HW, NOMINAL, 4096, 80, 1024, 2, attention_s=10.0)
    assert hidden == pytest.approx(exposed * (1 - NOMINAL.comm_overlap))  # attention hides all but 1 - overlap
