"""Fused AdamW is a GPU-kernel gain: with FSDP's offload_params the optimizer step runs on the host (torch
torch/distributed/fsdp/api.py CPUOffload), so the rule is not offered there (review9a #14: proposed on an FSDP run
whose parameters are offloaded, under a torch whose fused optimizers did not run on the CPU)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.formats import load_config
from pytest_goblin.hardware import get_hardware
from pytest_goblin.rules import applicable, cached_rules

HW = get_hardware("mi300x")
RULE = "optimizer.fused_adamw"

TRL = """\
model_name_or_path: meta-llama/Llama-3.1-8B
bf16: true
per_device_train_batch_size: 4
gradient_accumulation_steps: 4
max_length: 2048
optim: adamw_torch
fsdp: "full_shard auto_wrap{offload}"
fsdp_config:
  transformer_layer_cls_to_wrap: LlamaDecoderLayer
"""


@pytest.mark.parametrize(("offload", "offered"), [("", True), (" offload", False)])
def test_fused_adamw_only_where_the_optimizer_step_runs_on_the_gpu(tmp_path: Path, offload: str, offered: bool) -> None:
    cfg = tmp_path / "sft.yaml"
    cfg.write_text(TRL.format(offload=offload), encoding="utf-8")
    w = load_config(cfg).workload
    assert w.optimizer == "adamw_torch"
    assert bool(w.cpu_offload and w.offload_params) is not offered
    assert (RULE in {r.id for r in applicable(w, HW, cached_rules(), host={})}) is offered
