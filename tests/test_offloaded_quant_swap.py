"""bf16 LoRA over QLoRA (and over LLM.int8) is a speed-up only where the base weights live in HBM: with FSDP's
offload_params the weights cross the host link every forward and backward (costmodel._param_fetch_s), and a bf16
base moves 4x an NF4 base's bytes, so goblin's own projection calls the swap a slow-down there and the rule is not
offered (the premise `derived.parameters_offloaded`)."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.costmodel import step
from pytest_goblin.formats import load_config
from pytest_goblin.hardware import get_hardware
from pytest_goblin.rules import applicable, cached_rules

HW = get_hardware("mi300x")
SWAP = "quant.lora_over_qlora_when_bf16_fits"

AXOLOTL = """\
base_model: meta-llama/Llama-3.1-8B
load_in_4bit: true
adapter: qlora
lora_r: 16
lora_alpha: 32
lora_target_linear: true
sequence_len: 2048
sample_packing: true
micro_batch_size: 2
gradient_accumulation_steps: 4
bf16: true
flash_attention: true
fsdp:
  - full_shard
  - auto_wrap
fsdp_config:
  fsdp_offload_params: {offload}
  fsdp_auto_wrap_policy: TRANSFORMER_BASED_WRAP
  fsdp_transformer_layer_cls_to_wrap: LlamaDecoderLayer
"""


def _workload(tmp_path: Path, offload: str):  # type: ignore[no-untyped-def]
    cfg = tmp_path / f"qlora-{offload}.yaml"
    cfg.write_text(AXOLOTL.format(offload=offload), encoding="utf-8")
    return load_config(cfg).workload


def test_the_swap_is_offered_where_the_base_weights_stay_in_hbm(tmp_path: Path) -> None:
    w = _workload(tmp_path, "false")
    assert not (w.cpu_offload and w.offload_params)
    assert SWAP in {r.id for r in applicable(w, HW, cached_rules(), host={})}


def test_the_swap_is_not_offered_where_fsdp_offloads_the_parameters(tmp_path: Path) -> None:
    w = _workload(tmp_path, "true")
    assert w.cpu_offload and w.offload_params
    assert SWAP not in {r.id for r in applicable(w, HW, cached_rules(), host={})}
    swapped = w.model_copy(update={"quantization": "none", "method": "lora"})
    assert step(w, HW).step_s < step(swapped, HW).step_s  # the premise: bf16 weights over the host link are slower
