"""Blind review 3 (docs/kb-coverage.md): each class of mistake, as a small config that fails without its fix."""

from __future__ import annotations

import json
from pathlib import Path

from pytest_goblin import rules as kb
from pytest_goblin.formats import load_config

from .findings import HW, audit, write_config

AXOLOTL_FSDP = """base_model: Qwen/Qwen2.5-7B
datasets:
  - path: tatsu-lab/alpaca
    type: alpaca
sequence_len: 2048
sample_packing: true
micro_batch_size: 1
gradient_accumulation_steps: 4
num_epochs: 1
optimizer: adamw_torch_fused
bf16: true
{gc}fsdp_version: 2
fsdp_config:
  offload_params: false
  auto_wrap_policy: TRANSFORMER_BASED_WRAP
  transformer_layer_cls_to_wrap: Qwen2DecoderLayer
  {ac}: true
"""


# ------------------------------------------------------------------ A: a second checkpointing switch
def test_axolotl_checkpointing_off_reaches_fsdp_activation_checkpointing(tmp_path: Path) -> None:
    """Axolotl exports FSDP_ACTIVATION_CHECKPOINTING (src/axolotl/utils/trainer.py:597-598): turning
    `gradient_checkpointing` off alone leaves recompute on, so the edit must turn both off."""
    path = write_config(tmp_path, "fft.yaml", AXOLOTL_FSDP.format(gc="gradient_checkpointing: true\n", ac="activation_checkpointing"))
    shown, patch, text = audit(path)
    assert "memory.disable_checkpointing_when_hbm_free" in shown
    assert "gradient_checkpointing: false" in text and "  activation_checkpointing: false" in text
    assert patch.new_workload.gradient_checkpointing is False


def test_fsdp_activation_checkpointing_alone_is_read_as_recompute(tmp_path: Path) -> None:
    """No trainer flag, only `fsdp_config.fsdp_activation_checkpointing` (the prefixed spelling Axolotl
    strips, validation.py:1086-1100): recompute is on, and only that switch is edited."""
    path = write_config(tmp_path, "fft.yaml", AXOLOTL_FSDP.format(gc="", ac="fsdp_activation_checkpointing"))
    w = load_config(path).workload
    assert w.gradient_checkpointing is True
    assert w.sources["gradient_checkpointing"].key == "fsdp_config.fsdp_activation_checkpointing"
    shown, _patch, text = audit(path)
    assert "memory.disable_checkpointing_when_hbm_free" in shown
    assert "  fsdp_activation_checkpointing: false" in text and "gradient_checkpointing" not in text


def test_fsdp_file_checkpointing_is_not_claimed_by_a_trainer_flag_edit(tmp_path: Path) -> None:
    """The switch lives in a referenced FSDP file goblin does not edit: no patch claims the recompute
    saving, and the reason names that file."""
    (tmp_path / "fsdp.json").write_text(json.dumps({"activation_checkpointing": True}))
    path = write_config(
        tmp_path,
        "sft.yaml",
        "model_name_or_path: Qwen/Qwen2.5-1.5B\nper_device_train_batch_size: 4\nlearning_rate: 1.0e-5\nbf16: true\n"
        "gradient_checkpointing: true\nfsdp: full_shard auto_wrap\nfsdp_config: fsdp.json\n",
    )
    _shown, patch, text = audit(path)
    assert "gradient_checkpointing: false" not in text
    why = patch.skipped.get("memory.disable_checkpointing_when_hbm_free", "")
    assert "fsdp.json" in why and "activation_checkpointing" in why


# ------------------------------------------------------------------ B: a speed flag next to a feature that defeats it
AXOLOTL_FSDP1 = """base_model: microsoft/Phi-3-mini-4k-instruct
datasets:
  - path: tatsu-lab/alpaca
    type: alpaca
sequence_len: 2048
sample_packing: true
micro_batch_size: 2
gradient_accumulation_steps: 1
num_epochs: 1
optimizer: adamw_torch_fused
bf16: true
{version}fsdp:
  - full_shard
  - auto_wrap
fsdp_config:
  fsdp_use_orig_params: false
  fsdp_transformer_layer_cls_to_wrap: Phi3DecoderLayer
"""


def test_no_torch_compile_on_fsdp1_without_orig_params(tmp_path: Path) -> None:
    """Unversioned Axolotl FSDP is FSDP1 (validation.py:1119-1124), and FSDP1 needs use_orig_params=True
    for torch.compile (torch fully_sharded_data_parallel.py:375-376): not proposed, reason kept."""
    shown, patch, text = audit(write_config(tmp_path, "phi3.yaml", AXOLOTL_FSDP1.format(version="")))
    assert "compile.torch_compile" not in shown and "torch_compile" not in text
    assert "use_orig_params" in patch.skipped["compile.torch_compile"]
    shown, _, text = audit(write_config(tmp_path, "phi3-v2.yaml", AXOLOTL_FSDP1.format(version="fsdp_version: 2\n")))
    assert "compile.torch_compile" in shown and "torch_compile: true" in text


def test_no_liger_gain_projected_for_trl_trainers(tmp_path: Path) -> None:
    """TRL 1.16.0 trainers force Liger's fused linear cross-entropy off (grpo_trainer.py:1049-1064,
    sft_trainer.py:1125-1140): kernels.liger_fused_kernels does not fire, and no edit may write it."""
    from pytest_goblin.frameworks import check_writes

    text = (
        "model_name_or_path: Qwen/Qwen2.5-1.5B-Instruct\nper_device_train_batch_size: 16\ngradient_accumulation_steps: 4\n"
        "learning_rate: 1.0e-6\nnum_generations: 14\nmax_completion_length: 1024\nuse_vllm: true\nbf16: true\n"
    )
    path = write_config(tmp_path, "grpo.yaml", text)
    shown, _, _ = audit(path)
    assert "kernels.liger_fused_kernels" not in shown
    loaded = load_config(path)
    assert "use_liger_kernel" in check_writes("hf-trainer", str(path), text, loaded.data, {"use_liger_kernel": True})
    # without a TRL-only key and with no trainer named, the file is transformers' TrainingArguments,
    # whose Trainer applies Liger itself (transformers 5.24.0 trainer.py:1494-1495): the edit is valid there
    plain = write_config(tmp_path, "ta.yaml", text.replace("num_generations: 14\nmax_completion_length: 1024\nuse_vllm: true\n", ""))
    assert check_writes("hf-trainer", str(plain), plain.read_text(), load_config(plain).data, {"use_liger_kernel": True}) == {}


# ------------------------------------------------------------------ C: packing where the trainer or model cannot pack
def test_no_packing_advice_for_an_axolotl_reward_model(tmp_path: Path) -> None:
    """`reward_model: true` trains on chosen/rejected pairs through DataCollatorForPreference
    (src/axolotl/core/builders/causal.py:515-519): packing does not apply; memory findings still do."""
    text = (
        "base_model: Qwen/Qwen2.5-0.5B\nreward_model: true\ndatasets:\n  - path: argilla/distilabel-intel-orca-dpo-pairs\n"
        "    type: bradley_terry.chat_template\nsequence_len: 2048\nmicro_batch_size: 2\ngradient_accumulation_steps: 4\n"
        "num_epochs: 1\nbf16: true\nflash_attention: true\ngradient_checkpointing: true\n"
    )
    shown, _, _ = audit(write_config(tmp_path, "rm.yaml", text))
    assert "packing.sample_packing" not in shown
    assert "memory.disable_checkpointing_when_hbm_free" in shown
    shown, _, _ = audit(write_config(tmp_path, "sft.yaml", text.replace("reward_model: true\n", "")))
    assert "packing.sample_packing" in shown


def test_no_packing_advice_for_torchtune_gemma2(tmp_path: Path) -> None:
    """torchtune 0.6.1 Gemma2Attention raises on a packed batch's BlockMask (models/gemma2/_attention.py:219-223)."""
    text = (
        "# tune run lora_finetune_single_device --config gemma2/9B_lora_single_device\n"
        "model:\n  _component_: torchtune.models.gemma2.lora_gemma2_9b\n  lora_attn_modules: ['q_proj', 'v_proj']\n"
        "dataset:\n  _component_: torchtune.datasets.alpaca_dataset\n  packed: False\n"
        "optimizer:\n  _component_: torch.optim.AdamW\n  fused: True\n  lr: 5e-5\n"
        "batch_size: 4\ngradient_accumulation_steps: 1\ndtype: bf16\nenable_activation_checkpointing: True\n"
    )
    path = write_config(tmp_path, "9B_lora_single_device.yaml", text)
    assert load_config(path).workload.packing_blocked
    shown, _, _ = audit(path)
    assert "packing.sample_packing" not in shown
    llama = write_config(tmp_path, "8B_lora_single_device.yaml", text.replace("gemma2.lora_gemma2_9b", "llama3_1.lora_llama3_1_8b"))
    assert "packing.sample_packing" in audit(llama)[0]


# ------------------------------------------------------------------ E: RCCL guidance premise follows the strategy
def _ds_config(tmp_path: Path, stage: int) -> Path:
    (tmp_path / f"ds_z{stage}.json").write_text(json.dumps({"zero_optimization": {"stage": stage}, "bf16": {"enabled": True}}))
    return write_config(
        tmp_path,
        f"sft_z{stage}.yaml",
        "### model\nmodel_name_or_path: meta-llama/Llama-2-7b-hf\n### method\nstage: sft\ndo_train: true\nfinetuning_type: full\n"
        f"deepspeed: ds_z{stage}.json\n### dataset\ndataset: alpaca_en_demo\ntemplate: llama2\ncutoff_len: 2048\n"
        "### train\nper_device_train_batch_size: 4\ngradient_accumulation_steps: 8\nlearning_rate: 2.0e-5\nbf16: true\n"
        "# torchrun --nproc_per_node 8\n",
    )


def test_rccl_overlap_guidance_names_the_strategys_own_collectives(tmp_path: Path) -> None:
    """ZeRO-0 only all-reduces gradients (DDP-like): no all-gather / reduce-scatter premise, no guidance.
    Under ZeRO-3 the message names ZeRO-3's collectives, not a fixed sentence; at micro-batch 4 the
    projected collectives are about 2% of the step (under the rule's 5%), at micro-batch 1 about 5%."""
    rule = next(r for r in kb.cached_rules() if r.id == "comm.high_priority_rccl_streams")
    shown, _, _ = audit(_ds_config(tmp_path, 0))
    assert rule.id not in shown
    z3 = load_config(_ds_config(tmp_path, 3)).workload
    assert rule not in kb.applicable(z3, HW, kb.cached_rules())
    z3 = z3.model_copy(update={"micro_batch_size": 1})
    assert rule in kb.applicable(z3, HW, kb.cached_rules())
    msg = kb.render_finding(rule, z3, HW)
    assert "ZeRO-3's parameter all-gathers and gradient reduce-scatters" in msg and "{collectives}" not in msg


# ------------------------------------------------------------------ D: model size and shape outside the table
def test_moe_names_read_as_total_and_active_parameters() -> None:
    """Mixtral-8x22B is ~141B total / ~39B active (its config.json), not 22B dense; an unknown NxMB name
    gives an upper bound on the total, the top-2 active share, and says so."""
    from pytest_goblin.modelzoo import lookup_model, shape_assumption

    mix = lookup_model("mistral-community/Mixtral-8x22B-v0.1")
    assert mix.known and (mix.params_b, mix.active_params_b, mix.n_experts, mix.n_layers) == (140.62, 39.15, 8, 56)
    guess = lookup_model("acme/Widget-16x3B-base")
    assert not guess.known and (guess.params_b, guess.active_params_b, guess.n_experts) == (48.0, 6.0, 16)
    assert "16 experts of 3B" in (shape_assumption(guess) or "")


QLORA_UNKNOWN = """base_model: acme/Widget-31B
load_in_4bit: true
adapter: qlora
datasets:
  - path: tatsu-lab/alpaca
    type: alpaca
sequence_len: 2048
sample_packing: true
micro_batch_size: 1
gradient_accumulation_steps: 4
num_epochs: 1
optimizer: adamw_torch_fused
bf16: true
flash_attention: true
gradient_checkpointing: true
"""


def test_no_memory_raising_patch_on_a_guessed_shape(tmp_path: Path) -> None:
    """A model outside the table has a guessed shape (a generic Llama shape from the 31B in its name):
    the memory findings say what was assumed, and an edit that raises memory is offered only where it fits at
    the largest shape of the span (shapespan: checkpointing off on this QLoRA does); the others are left out."""
    path = write_config(tmp_path, "31b-qlora.yaml", QLORA_UNKNOWN)
    loaded = load_config(path)
    shown, patch, text = audit(path)
    assert {"memory.disable_checkpointing_when_hbm_free", "quant.lora_over_qlora_when_bf16_fits"} <= shown
    assert [(e.rule_id, e.new) for e in patch.edits] == [("memory.disable_checkpointing_when_hbm_free", False)]
    assert text == loaded.text.replace("gradient_checkpointing: true", "gradient_checkpointing: false")
    for rid in ("quant.lora_over_qlora_when_bf16_fits", "batch.raise_micro_batch"):
        assert "guessed size or shape unless it fits at the largest shape of the span" in patch.skipped[rid]
    rule = next(r for r in kb.cached_rules() if r.id == "memory.disable_checkpointing_when_hbm_free")
    assert "generic Llama-like shape" in kb.render_finding(rule, loaded.workload, HW)
    # The same file on a model in the table is patched.
    _, known, _ = audit(write_config(tmp_path, "8b-qlora.yaml", QLORA_UNKNOWN.replace("acme/Widget-31B", "Qwen/Qwen3-32B")))
    assert known.edits
