"""Host offload priced against the published runs (docs/projection.md, Host offload against published runs): the
CPU AdamW step is a node's host rate shared by the node's ranks (`costmodel.HOST_OPTIMIZER_GB_S`, `ranks_per_host`),
and ZeRO-3's optimizer offload carries the gradient partitions across the host link at every micro-step
(`costmodel._grad_round_trip_s`). Review12b #26 and batch 11's NexusAI row priced offload far below what the
reviewers said; DeepSpeed's ZenFlow blog measured Llama-2-7B on 4x A100 going from 0.5 s to over 7 s a step with
ZeRO-Offload, its CPU path over 4 s."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from pytest_goblin.costmodel import _grad_round_trip_s, assumption_grid, factors_used, nominal_for, ranks_per_host, step
from pytest_goblin.formats import load_config
from pytest_goblin.hardware import get_hardware
from pytest_goblin.modelzoo import estimate_shape
from pytest_goblin.schemas import WorkloadConfig

from .repo_files import repo

HW = get_hardware("mi300x")

# ZenFlow's measured run, written as a LLaMA-Factory config: Llama-2-7B, full fine-tune, 4 GPUs, ZeRO-Offload
LF = (
    "model_name_or_path: meta-llama/Llama-2-7b-hf\nstage: sft\ndo_train: true\nfinetuning_type: full\n"
    "deepspeed: ds.json\ndataset: identity\ntemplate: llama2\ncutoff_len: 1024\nper_device_train_batch_size: 1\n"
    "gradient_accumulation_steps: {ga}\nbf16: true\n# torchrun --nproc_per_node 4\n"
)


def _ds(stage: int, offload: bool) -> str:
    zero: dict[str, object] = {"stage": stage, "overlap_comm": True}
    if offload:
        zero["offload_optimizer"] = {"device": "cpu", "pin_memory": True}
    return json.dumps({"zero_optimization": zero, "bf16": {"enabled": True}}, indent=2)


def _workload(tmp_path: Path, *, stage: int = 2, offload: bool = True, ga: int = 1) -> WorkloadConfig:
    root = repo(tmp_path / f"s{stage}o{int(offload)}g{ga}", {"train.yaml": LF.format(ga=ga), "ds.json": _ds(stage, offload)})
    return load_config(root / "train.yaml").workload


def test_zero_offloads_cpu_step_lands_in_zenflows_measured_span(tmp_path: Path) -> None:
    w = _workload(tmp_path)
    assert w.cpu_offload and not w.offload_params and w.world_size == 4 and ranks_per_host(w, HW) == 4
    off = step(w, HW).parts["optimizer"]
    # ZenFlow (DeepSpeed blogs/deepspeed-zenflow/README.md:40, :94): CPU path over 4 s, the step 0.5 s -> over 7 s
    assert 3.5 < off < 6.5, off
    # the grid's ends span the measurement: 40 GB/s a node is slower than it, 100 GB/s faster
    ends = sorted(step(w, HW, a).parts["optimizer"] for a in assumption_grid(nominal_for(HW), factors_used(w)))
    assert ends[0] < 4.0 < ends[-1] and "host_optimizer_gb_s" in factors_used(w)
    # the ratio with the measured 0.5 s step in place of goblin's GPU side: several times, as published (14x)
    assert (0.5 + off) / 0.5 > 7.0
    # the same run on one GPU has the host to itself: a quarter of the node's time for its (whole) model
    one = w.model_copy(update={"world_size": 1})
    assert ranks_per_host(one, HW) == 1


def test_zero3_optimizer_offload_carries_gradients_each_micro_step(tmp_path: Path) -> None:
    w = _workload(tmp_path, stage=3, ga=4)
    a = nominal_for(HW)
    trainable = 7e9 / 4
    trip = _grad_round_trip_s(w, trainable, a)
    # micro-steps 2..4 copy the bf16 partition up and down (DeepSpeed v0.19.5 stage3.py:1878-1887): 6 copies over 4
    assert abs(trip - trainable * 2 * 6 / 4 / (a.host_link_gb_s * 1e9) * a.offload_exposed) < 1e-9
    params = estimate_shape(w.model).params_b
    assert params is not None
    extra = step(w, HW).parts["optimizer"] - step(w.model_copy(update={"gradient_accumulation": 1}), HW).parts["optimizer"]
    assert abs(extra - 4 * _grad_round_trip_s(w, params * 1e9 / 4, a)) < 1e-9 and extra > 0
    # must-not: no accumulation, ZeRO-2 (its own path), or no offload
    assert _grad_round_trip_s(_workload(tmp_path, stage=3, ga=1), trainable, a) == 0.0
    assert _grad_round_trip_s(_workload(tmp_path, stage=2, ga=4), trainable, a) == 0.0
    assert _grad_round_trip_s(_workload(tmp_path, stage=3, ga=4, offload=False), trainable, a) == 0.0


def test_a_config_without_offload_is_priced_as_before(tmp_path: Path) -> None:
    w = _workload(tmp_path, offload=False, ga=4)
    assert not w.cpu_offload
    a = nominal_for(HW)
    # neither the host optimizer rate nor the ranks sharing it reach a run that keeps its optimizer on the GPU
    before = replace(a, host_optimizer_gb_s=100.0)
    assert step(w, HW, a).step_s == step(w, HW, before).step_s
    assert step(w.model_copy(update={"world_size": 8}), HW, a).parts["optimizer"] == step(w.model_copy(update={"world_size": 8}), HW, before).parts["optimizer"]
    assert "host_optimizer_gb_s" not in factors_used(w)
