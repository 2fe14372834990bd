"""The knowledge base: every rule fires where it should and stays silent where it must,
`goblin kb lint` names each kind of broken rule, and search ranks by structure, then text."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pytest_goblin import hardware
from pytest_goblin import rules as kb
from pytest_goblin.cli import main
from pytest_goblin.modelzoo import lookup_model
from pytest_goblin.schemas import FieldSource, WorkloadConfig

# A tuned 8B LoRA on MI300X: no rule with a patch should fire on it.
BASE: dict[str, Any] = {
    "method": "lora",
    "precision": "bf16",
    "seq_len": 2048,
    "micro_batch_size": 8,
    "gradient_accumulation": 1,
    "attention": "sdpa",
    "optimizer": "adamw_torch_fused",
    "torch_compile": True,
    "dataloader_workers": 4,
    "sample_packing": True,
    "fused_kernels": True,
}
TUNED_ENV = {"PYTORCH_TUNABLEOP_ENABLED": "1", "PYTORCH_TUNABLEOP_TUNING": "0", "TORCHINDUCTOR_MAX_AUTOTUNE": "1"}
SEVENTY_B = "meta-llama/Llama-3.1-70B"
# torchao float8's published MI300X recipe (Llama 3 8B, FSDP2, compile on) as an Axolotl full fine-tune
FP8_RECIPE: dict[str, Any] = {"format": "axolotl", "method": "full", "strategy": "fsdp", "micro_batch_size": 1, "gradient_checkpointing": False}

# A full fine-tune that checkpoints every N optimizer steps, optimizer state included.
FULL_SAVES: dict[str, Any] = {"method": "full", "micro_batch_size": 1, "save_only_model": False}
# A LoRA run that evaluates every 5 optimizer steps over 400 stated examples and saves every 500.
EVALS: dict[str, Any] = {"eval_runs": True, "eval_interval": 5, "eval_batch_size": 8, "eval_examples": 400, "save_interval": 500}
# An eval split of 5% of the data evaluated 100 times per epoch (review5 #3: Medilora val_set_size 0.05, eval_steps 0.01, 1 epoch).
SPLIT_EVALS: dict[str, Any] = {"eval_runs": True, "eval_batch_size": 2, "eval_fraction": 0.05, "evals_per_epoch": 100.0, "micro_batch_size": 2}
# Evaluation every optimizer step at the default eval batch over an eval set of unstated size (review7b #36's SFT/DPO
# form: eval_strategy steps with eval_steps unset takes logging_steps): one eval batch per GPU is a third of the job.
FLOOR_EVALS: dict[str, Any] = {"eval_runs": True, "eval_interval": 1, "eval_batch_size": 8, "save_interval": 500}
STATED = {"sources": {"world_size": {"file": "case.yaml", "explicit": True, "note": "stated"}}}
# One 256-token sample per optimizer step on one GPU, the micro-batch read from the file (review10b #33, CSC finetuning.py)
MB_READ = {"micro_batch_size": {"file": "case.yaml", "line": 3, "key": "per_device_train_batch_size", "explicit": True}}
TINY_BATCH: dict[str, Any] = {"micro_batch_size": 1, "seq_len": 256, "sources": MB_READ}
SHORT_STEP: dict[str, Any] = {"dataloader_workers": 0, "model": "Qwen/Qwen2.5-0.5B", "seq_len": 256, "micro_batch_size": 32}
LIGER_FITS: dict[str, Any] = {"fused_kernels": False, "seq_len": 8192, "micro_batch_size": 16, "gradient_checkpointing": True, **STATED}
SHARDED_8 = {"strategy": "fsdp", "micro_batch_size": 1, **STATED}
ZERO3_8 = {"strategy": "deepspeed", "zero_stage": 3, "world_size": 8, "micro_batch_size": 1, **STATED}

# A run over 4 nodes x 8 GPUs that a launcher states (nodes and world size read, not assumed), fully
# sharded, with short micro-batches: exposed inter-node traffic is about a fifth of the projected step.
ACROSS_NODES: dict[str, Any] = {
    "model": "meta-llama/Meta-Llama-3-70B",
    "method": "full",
    "strategy": "deepspeed",
    "zero_stage": 3,
    "world_size": 32,
    "nodes": 4,
    "gpus_per_node": 8,
    "micro_batch_size": 1,
    "seq_len": 512,
    "gradient_checkpointing": True,
    "sources": {
        "world_size": {"file": "train.sh", "line": 3, "explicit": True},
        "nodes": {"file": "train.sh", "line": 3, "explicit": True},
        "gpus_per_node": {"file": "train.sh", "line": 3, "explicit": True},
    },
}
ACROSS_NODES_FSDP_LORA = {**ACROSS_NODES, "strategy": "fsdp", "zero_stage": None, "method": "lora"}
# One node of 8 GPUs the config states, ZeRO-3 over an 8B LoRA at 512 tokens per micro-batch: the frozen
# base is gathered twice per micro-batch although the whole state fits one GPU (about 19 GB unsharded);
# ZeRO-2 is projected about 1.14x.
ONE_NODE_Z3: dict[str, Any] = {
    "strategy": "deepspeed",
    "zero_stage": 3,
    "world_size": 8,
    "seq_len": 512,
    "micro_batch_size": 1,
    "gradient_checkpointing": True,
    **STATED,
}

# rule id -> (applies: overrides, must not apply: overrides). Each override may carry `env`
# (replacing TUNED_ENV), `target`, `model` and `host`; everything else is a WorkloadConfig field
# on top of BASE.
CASES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "precision.bf16_amp_over_fp32": ({"precision": "fp32"}, {"precision": "bf16"}),
    "precision.bf16_over_fp16": ({"precision": "fp16"}, {"precision": "bf16"}),
    "precision.fp8_without_hardware_support": ({"precision": "fp8", "target": "mi250x"}, {"precision": "fp8", "target": "mi300x"}),
    "precision.mx_without_hardware_support": ({"precision": "mxfp4", "target": "mi300x"}, {"precision": "mxfp4", "target": "mi355x"}),
    # the published MI300X float8 gain's recipe (FSDP, compile on, 8B) through Axolotl's `fp8` key; a 3B is below it
    "precision.fp8_for_large_gemms": (FP8_RECIPE, {**FP8_RECIPE, "model": "meta-llama/Llama-3.2-3B"}),
    "attention.sdpa_over_eager": ({"attention": "eager"}, {"attention": "eager", "model": "openai/gpt-oss-20b"}),
    "attention.flex_over_eager": ({"attention": "eager", "model": "openai/gpt-oss-20b"}, {"attention": "eager"}),
    # GPT-Neo: flash-attention 2 only (frameworks/attention.json); a Llama takes SDPA (sdpa_over_eager)
    "attention.flash_over_eager": ({"attention": "eager", "model": "EleutherAI/gpt-neo-1.3B"}, {"attention": "eager"}),
    # only where AOTriton classes the arch experimental (gfx950 in the GPU table): on gfx942 the variable does nothing
    "attention.sdpa_math_fallback": ({"seq_len": 8192, "micro_batch_size": 1, "target": "mi355x"}, {"seq_len": 8192, "micro_batch_size": 1}),
    "attention.gpt_oss_needs_flash_or_flex": ({"model": "openai/gpt-oss-20b", "attention": "flash"}, {"model": "openai/gpt-oss-20b", "attention": "eager"}),
    "attention.flash_attn_rocm_build": ({"attention": "flash"}, {"attention": "flash", "target": "h100"}),
    "memory.disable_checkpointing_when_hbm_free": ({"gradient_checkpointing": True}, {"gradient_checkpointing": True, "model": SEVENTY_B, "method": "full"}),
    # checkpointing off fits only below micro-batch 16 (at 8, twice the accumulation); at micro-batch 8 it fits as it is
    "memory.checkpointing_off_at_smaller_micro_batch": (
        {"gradient_checkpointing": True, "micro_batch_size": 16},
        {"gradient_checkpointing": True, "micro_batch_size": 8},
    ),
    "memory.activation_offloading_when_hbm_free": (
        {"gradient_checkpointing": True, "activation_offloading": True},
        {"gradient_checkpointing": True, "activation_offloading": True, "model": SEVENTY_B, "method": "full"},
    ),
    "memory.cpu_offload_when_it_fits": ({"cpu_offload": True}, {"cpu_offload": True, "model": SEVENTY_B, "method": "full"}),
    "memory.offloading_without_checkpointing": ({"activation_offloading": True}, {"activation_offloading": True, "gradient_checkpointing": True}),
    # only when the world size is stated: an unstated one is assumed, and a config too big for it likely runs on more GPUs
    "memory.projected_over_hbm": (
        {"model": SEVENTY_B, "method": "full", "sources": {"world_size": {"file": "case.yaml", "explicit": True}}},
        {"model": SEVENTY_B, "method": "full"},
    ),
    "memory.split_size_with_expandable_segments": (
        {"env": {"PYTORCH_HIP_ALLOC_CONF": "expandable_segments:True,max_split_size_mb:128"}},
        {"env": {"PYTORCH_HIP_ALLOC_CONF": "expandable_segments:True"}},
    ),
    "batch.raise_micro_batch": ({"micro_batch_size": 1, "gradient_accumulation": 8}, {"micro_batch_size": 8, "gradient_accumulation": 1}),
    # review10b #33's class: accumulation 1 and a stated micro-batch of one 256-token sample; with accumulation 2,
    # batch.raise_micro_batch speaks (a larger micro-batch at the same global batch)
    "batch.small_global_batch": (TINY_BATCH, {**TINY_BATCH, "gradient_accumulation": 2}),
    "data.pin_memory": ({"pin_memory": False}, {"pin_memory": False, "dataloader_workers": 0}),
    "packing.sample_packing": ({"sample_packing": False}, {"sample_packing": False, "attention": "eager"}),
    "packing.needs_varlen_attention": ({"attention": "eager"}, {"attention": "flash"}),
    "packing.pad_to_sequence_len": ({"pad_to_max": True, "sample_packing": False}, {"pad_to_max": False, "sample_packing": False}),
    "gemm.hipblaslt_disabled": ({"env": {"TORCH_BLAS_PREFER_HIPBLASLT": "0"}}, {"env": {"TORCH_BLAS_PREFER_HIPBLASLT": "1"}}),
    "gemm.tunableop_tuning_left_on": (
        {"sample_packing": False, "env": {"PYTORCH_TUNABLEOP_ENABLED": "1"}},
        {"sample_packing": True, "env": {"PYTORCH_TUNABLEOP_ENABLED": "1"}},
    ),
    "gemm.hipblaslt_logging_left_on": ({"env": {"HIPBLASLT_LOG_MASK": "32"}}, {"env": {"HIPBLASLT_LOG_MASK": "0"}}),
    "gemm.tunableop_tune_once_for_data_parallel": (
        {"strategy": "ddp", "env": {"PYTORCH_TUNABLEOP_ENABLED": "1", "PYTORCH_TUNABLEOP_TUNING": "1"}},
        {"strategy": "single", "env": {"PYTORCH_TUNABLEOP_ENABLED": "1", "PYTORCH_TUNABLEOP_TUNING": "1"}},
    ),
    "compile.torch_compile": ({"torch_compile": False, "method": "full", "micro_batch_size": 1}, {"torch_compile": False}),
    "compile.freezing_in_training": ({"env": {"TORCHINDUCTOR_FREEZING": "1"}}, {"env": {"TORCHINDUCTOR_FREEZING": "0"}}),
    "optimizer.fused_adamw": ({"optimizer": "adamw_torch"}, {"optimizer": "adamw_torch_fused"}),
    "optimizer.drop_8bit_when_hbm_free": ({"optimizer": "paged_adamw_8bit"}, {"optimizer": "paged_adamw_8bit", "model": SEVENTY_B, "method": "full"}),
    "quant.lora_over_qlora_when_bf16_fits": (
        {"quantization": "4bit", "method": "qlora"},
        {"quantization": "4bit", "method": "qlora", "model": "Qwen/Qwen2.5-72B", "target": "mi210"},
    ),
    "quant.lora_over_8bit_when_bf16_fits": ({"quantization": "8bit"}, {"quantization": "8bit", "model": "Qwen/Qwen2.5-72B", "target": "mi210"}),
    "quant.bitsandbytes_rocm_build": ({"quantization": "4bit", "method": "qlora"}, {"quantization": "4bit", "method": "qlora", "target": "h100"}),
    # 8B at 8192 x 16 packed tokens on a stated GPU: projected about 220 GB, about 93 GB with the loss's logits in chunks
    "kernels.liger_fused_kernels": (LIGER_FITS, {**LIGER_FITS, "format": "torchtune"}),
    # RCCL hints: a stated multi-GPU run whose projected step spends >= 5% in exposed collectives (FSDP, micro-batch 1: about 7%)
    "comm.high_priority_rccl_streams": ({**SHARDED_8, "world_size": 8}, {**SHARDED_8, "world_size": 1}),
    "comm.rccl_min_channels": ({**SHARDED_8, "world_size": 8}, {**SHARDED_8, "world_size": 8, "target": "mi250x"}),
    "compile.torch_compile_torchtune": (
        {"format": "torchtune", "torch_compile": False},
        {"format": "torchtune", "torch_compile": True},
    ),
    # a stated 4 GPUs whose step spends >= 5% in collectives (FSDP, micro-batch 1); 8 stated use the whole node
    "comm.partial_node_collectives": ({**SHARDED_8, "world_size": 4}, {**SHARDED_8, "world_size": 8}),
    "distributed.ddp_over_dataparallel": ({"world_size": 8}, {"world_size": 8, "strategy": "ddp"}),
    # review12b #35: `fsdp` without `auto_wrap` at a pinned transformers 4.28.1-4.57.0, the whole model trained
    "distributed.fsdp_one_unit": (
        {"strategy": "fsdp", "fsdp_one_unit": "transformers 4.40.0 (transformers==4.40.0)"},
        {"strategy": "fsdp", "fsdp_one_unit": None},
    ),
    "distributed.ddp_when_model_fits": ({"strategy": "fsdp"}, {"strategy": "fsdp", "model": SEVENTY_B, "method": "full"}),
    # review5 #12/#13 (ViLaSR ds_z3_config.json): ZeRO-3 with overlap_comm false on a stated 8 GPUs, micro-batch 1
    "distributed.zero3_overlap_comm_off": (
        {**ZERO3_8, "comm_overlap": False},
        {**ZERO3_8, "comm_overlap": None},
    ),
    # blind review 14b #22 (SchemaReinforcementLearning train_sft.sh:1,3): `python train.py` under CUDA_VISIBLE_DEVICES=0..7
    "distributed.one_process_many_gpus": (
        {"world_size": 1, "sources": {"one_process_gpus": {"file": "run.sh", "line": 1, "key": "CUDA_VISIBLE_DEVICES=0,1,2,3", "explicit": True}}},
        {"world_size": 1, "sources": {"one_process_gpus": {"file": "run.sh", "line": 1, "key": "CUDA_VISIBLE_DEVICES=0", "explicit": True}}},
    ),
    "env.profiler_variables_left_on": ({"env": {"AMD_SERIALIZE_KERNEL": "3"}}, {"env": {"AMD_SERIALIZE_KERNEL": "0"}}),
    # issue 24 (review10b #21, Mini-R1 start.sh): launch-blocking, P2P and IB switched off by a launcher's exports
    "env.hip_launch_blocking": ({"env": {"HIP_LAUNCH_BLOCKING": "1"}}, {"env": {"HIP_LAUNCH_BLOCKING": "0"}}),
    "comm.p2p_disabled": (
        {**SHARDED_8, "world_size": 8, "env": {"NCCL_P2P_DISABLE": "1"}},
        {**SHARDED_8, "world_size": 1, "env": {"NCCL_P2P_DISABLE": "1"}},  # one GPU: no peer to reach
    ),
    "comm.ib_disabled": (
        {**ACROSS_NODES, "env": {"NCCL_IB_DISABLE": "1"}},
        {**SHARDED_8, "world_size": 8, "env": {"NCCL_IB_DISABLE": "1"}},  # one node: nothing crosses the network
    ),
    # a training script that turns autograd anomaly detection on where it runs (formats/pydebug.py); none: nothing to say
    "debug.mode_left_on": ({"debug_modes": ["`torch.autograd.set_detect_anomaly(True)` at line 9 turns on autograd anomaly detection"]}, {"debug_modes": []}),
    "env.numa_balancing_on": ({"host": {"host.numa_balancing": 1}}, {"host": {"host.numa_balancing": 0}}),
    "env.cu_mask_set": ({"env": {"ROC_GLOBAL_CU_MASK": "0xf"}}, {"env": {}}),
    "env.hip_logging_left_on": ({"env": {"AMD_LOG_LEVEL": "3"}}, {"env": {"AMD_LOG_LEVEL": "0"}}),
    "env.too_many_hw_queues": ({"env": {"GPU_MAX_HW_QUEUES": "8"}}, {"env": {"GPU_MAX_HW_QUEUES": "2"}}),
    # at a plain torch.save's 1.3 GB/s an 8B model's state every 500 steps of a micro-batch of 1 is still 27% of the job
    "job.frequent_full_checkpoints": ({**FULL_SAVES, "save_interval": 10}, {**FULL_SAVES, "save_interval": 5000}),
    "job.eval_batch_below_micro_batch": ({**EVALS, "eval_batch_size": 1}, {**EVALS, "eval_batch_size": 4}),
    "job.frequent_eval": (EVALS, {**EVALS, "eval_interval": 250}),
    # every 500 steps: one eval batch per GPU is about 0.1% of the job
    "job.frequent_eval_floor": (FLOOR_EVALS, {**FLOOR_EVALS, "eval_interval": 500}),
    # 100 evaluations per epoch of a 5% split: 5x the epoch's training examples in forwards; once per epoch: about 2%
    "job.frequent_eval_per_epoch": (SPLIT_EVALS, {**SPLIT_EVALS, "evals_per_epoch": 1.0}),
    # one node of the same GPUs: nothing crosses a network
    "distributed.hierarchical_sharding_across_nodes": (ACROSS_NODES, {**ACROSS_NODES, "world_size": 8, "nodes": 1}),
    # 512 tokens per micro-batch: gathers are a real share; 2048 x 8: under 1%
    "distributed.lower_stage_when_state_fits": (ONE_NODE_Z3, {**ONE_NODE_Z3, "seq_len": 2048, "micro_batch_size": 8}),
}


# Guidance and footguns, more cases where one premise of the advice does not hold, so it must stay
# silent: the applying case with one thing changed (each premise's reason in the comment).
PREMISES: dict[str, list[dict[str, Any]]] = {
    "batch.small_global_batch": [
        {**TINY_BATCH, "sources": {}},  # the micro-batch is the framework's default, not read from the config
        {**TINY_BATCH, "sources": {"micro_batch_size": {**MB_READ["micro_batch_size"], "unread": True}}},  # set in code goblin could not evaluate
        {**TINY_BATCH, "auto_find_batch_size": True},  # the Trainer lowers the micro-batch at run time
        {**TINY_BATCH, "framework": "trl 1.16.0 (DPOConfig)"},  # a preference trainer: its batches are pairs
        {**TINY_BATCH, "framework": "trl 1.16.0 (GRPOConfig)"},  # online RL: groups of completions
        {**TINY_BATCH, "micro_batch_size": 8, "seq_len": 4096},  # 32,768 tokens per micro-batch already
        # no larger micro-batch fits: an 8B full fine-tune without checkpointing at 1 x 2048 projects 166 GB, at 2 x 2048 176 GB
        {**TINY_BATCH, "seq_len": 2048, "method": "full", "gradient_checkpointing": False},
        # 2 x 2048 tokens of an 8B LoRA: one doubling projects 1.11x, but the low end of its interval is under 1.03
        {**TINY_BATCH, "micro_batch_size": 2, "seq_len": 2048},
        {**TINY_BATCH, "tensor_parallel": 2, "world_size": 2},  # a tensor-parallel group batches differently
    ],
    "kernels.liger_fused_kernels": [
        {**LIGER_FITS, "sources": {}},  # the GPU count assumed: the overflow may be a count the run does not use
        {**LIGER_FITS, "micro_batch_size": 4},  # fits without Liger: no checkable claim (its speed term is about 1%)
        {**LIGER_FITS, "micro_batch_size": 64},  # over HBM with Liger too: the kernels do not make it fit
        {**LIGER_FITS, "model": "Qwen/Qwen2.5-7B", "format": "trl-recipe"},  # TRL's trainers force Liger's loss off
    ],
    "comm.high_priority_rccl_streams": [
        {"strategy": "fsdp", "micro_batch_size": 1, "world_size": 8},  # 8 GPUs assumed, not stated: maybe one GPU
        {**SHARDED_8, "world_size": 8, "micro_batch_size": 8},  # collectives about 1% of the step
        {**SHARDED_8, "world_size": 8, "env": {"TORCH_NCCL_HIGH_PRIORITY": "1"}},  # already set
        {**SHARDED_8, "world_size": 8, "target": "h100"},  # not RCCL
    ],
    "distributed.zero3_overlap_comm_off": [
        {**ZERO3_8, "comm_overlap": False, "sources": {}},  # 8 GPUs assumed, not stated: maybe one GPU
        {**ZERO3_8, "comm_overlap": False, "micro_batch_size": 32},  # the collectives hide behind a long step: under 5%
        {**ZERO3_8, "comm_overlap": False, "world_size": 1},  # one GPU: no collective
    ],
    "comm.rccl_min_channels": [
        {"strategy": "fsdp", "micro_batch_size": 1, "world_size": 8},  # assumed
        {**SHARDED_8, "world_size": 1},  # one GPU: no collective
        {**SHARDED_8, "world_size": 8, "micro_batch_size": 8},  # collectives about 1% of the step
        {**STATED, "strategy": "ddp", "world_size": 8},  # DDP LoRA: a gradient all-reduce of the adapters, under 1%
    ],
    "attention.sdpa_math_fallback": [
        {"seq_len": 8192, "micro_batch_size": 1, "target": "mi250x"},  # gfx90a: not experimental in AOTriton
        {"seq_len": 8192, "micro_batch_size": 1, "target": "mi325x"},  # gfx942
        {"seq_len": 8192, "micro_batch_size": 1, "target": "h100"},  # not ROCm
        {"seq_len": 8192, "micro_batch_size": 1, "target": "mi355x", "env": {"TORCH_ROCM_AOTRITON_ENABLE_EXPERIMENTAL": "1"}},  # opted in
        {"seq_len": 8192, "micro_batch_size": 1, "target": "mi355x", "attention": "flash"},  # not SDPA
    ],
    "attention.flash_attn_rocm_build": [{"attention": "sdpa"}],
    # ZeRO optimizer offload: accelerate runs DeepSpeedCPUAdam whatever `optim` says (review1 #5)
    "optimizer.fused_adamw": [{"optimizer": "adamw_torch", "strategy": "deepspeed", "zero_stage": 3, "cpu_offload": True}],
    "packing.sample_packing": [{"sample_packing": False, "packing_blocked": "the trainer cannot pack"}, {"sample_packing": True}],
    # Axolotl 0.18.0 utils/schemas/validation.py:228-242 recommends the padding with sample packing
    "packing.pad_to_sequence_len": [{"pad_to_max": True, "sample_packing": True}],
    "distributed.ddp_when_model_fits": [
        {"strategy": "fsdp", "format": "torchtune"},
        {"strategy": "deepspeed", "zero_stage": 0},
        {"strategy": "deepspeed", "zero_stage": 2},  # review1 #14: "switch to DDP (or ZeRO 1/2)" on a ZeRO-2 run
        {"strategy": "fsdp", "sharding": "grad_op"},
        {"strategy": "ddp"},
        ONE_NODE_Z3,  # distributed.lower_stage_when_state_fits speaks there, with the projection
    ],
    "comm.partial_node_collectives": [
        {**SHARDED_8, "world_size": 4, "target": "mi250x"},  # not an MI300X node
        {"world_size": 1, **STATED},
        {"strategy": "fsdp", "micro_batch_size": 1, "world_size": 4},  # 4 GPUs assumed, not stated (issue 24): the run may use 8 or 1
        # review8b #23/#34: a LoRA's gradient all-reduce on 2 GPUs is a sliver of the step: nothing to gain from 1 or 8 GPUs
        {"world_size": 2, "strategy": "ddp", "method": "lora", **STATED},
    ],
    "distributed.ddp_over_dataparallel": [{"world_size": 1}],
    "memory.projected_over_hbm": [{**STATED}],  # stated, but it fits
    "quant.bitsandbytes_rocm_build": [{"quantization": "none"}],
    "gemm.tunableop_tune_once_for_data_parallel": [{"strategy": "ddp", "env": {"PYTORCH_TUNABLEOP_ENABLED": "1", "PYTORCH_TUNABLEOP_TUNING": "0"}}],
    "precision.fp8_for_large_gemms": [
        {**FP8_RECIPE, "target": "mi250x"},  # no FP8 matrix cores
        {**FP8_RECIPE, "format": "hf-trainer"},  # no FP8 switch in the config's framework whose MI300X gain is published
        {**FP8_RECIPE, "torch_compile": False},  # Axolotl: no speed-up without torch.compile
        {**FP8_RECIPE, "gradient_checkpointing": True},  # Axolotl: FP8 + FSDP2 + checkpointing may be slower than bf16
        {**FP8_RECIPE, "method": "lora"},  # the figure is a full-weight run
        {**FP8_RECIPE, "strategy": "ddp"},  # the figure is FSDP2
    ],
    "distributed.hierarchical_sharding_across_nodes": [
        {**ACROSS_NODES, "sources": {}},  # 32 GPUs with nodes filled in by goblin (assumed), not read
        # (a stated world size of 32 with nodes filled in does fire: 32 MI300X span at least 4 nodes; tests/test_hierarchical.py)
        {**ACROSS_NODES, "sharding": "hpz", "shard_group": 8},  # already ZeRO++ hpZ
        {**ACROSS_NODES, "sharding": "mics", "shard_group": 8},  # already MiCS
        {**ACROSS_NODES, "zero_stage": 2},  # ZeRO-2: no parameter all-gather per micro-batch
        {**ACROSS_NODES, "zero_stage": None},  # a DeepSpeed stage goblin only assumes
        {**ACROSS_NODES, "seq_len": 4096, "micro_batch_size": 4},  # inter-node share about 1% of the step
        {**ACROSS_NODES, "cpu_offload": True},  # offloaded: not what the communication term models
        {**ACROSS_NODES, "tensor_parallel": 2},  # tensor parallelism's collectives are not modelled
        {**ACROSS_NODES_FSDP_LORA, "sharding": "hybrid"},  # already HYBRID_SHARD
        {**ACROSS_NODES_FSDP_LORA, "sharding": "grad_op"},  # SHARD_GRAD_OP: not full sharding
        {**ACROSS_NODES_FSDP_LORA, "shard_group": 8},  # Axolotl dp_shard_size 8 over 32 GPUs: HSDP already
        {**ACROSS_NODES_FSDP_LORA, "format": "torchtune"},  # torchtune 0.6.1's recipe has no hybrid-shard key
        {**ACROSS_NODES, "method": "full", "strategy": "fsdp", "zero_stage": None},  # HSDP of 70B full: 187 GB per GPU does not fit
    ],
    "distributed.lower_stage_when_state_fits": [
        {**ONE_NODE_Z3, "sources": {}},  # 8 GPUs assumed, not stated
        {**ONE_NODE_Z3, "world_size": 16, "nodes": 2, "gpus_per_node": 8},  # two nodes: the hierarchical rule's
        {**ONE_NODE_Z3, "zero_stage": 2},  # already ZeRO-2
        {**ONE_NODE_Z3, "zero_stage": None},  # a stage goblin only assumes
        {**ONE_NODE_Z3, "strategy": "fsdp", "zero_stage": None, "sharding": "grad_op"},  # already SHARD_GRAD_OP
        {**ONE_NODE_Z3, "cpu_offload": True},  # offload: memory.cpu_offload_when_it_fits speaks first
        {**ONE_NODE_Z3, "tensor_parallel": 2},  # tensor parallelism's collectives are not modelled
        {**ONE_NODE_Z3, "model": SEVENTY_B, "method": "full"},  # 70B full: the unsharded state is far above one GPU
        {**ONE_NODE_Z3, "model": "unknown/model"},  # size unknown: no fit is projected
        {**ONE_NODE_Z3, "world_size": 1},  # one GPU: nothing is sharded
        {**ONE_NODE_Z3, "format": "torchtune", "strategy": "fsdp", "zero_stage": None},  # no ZeRO-2-like key goblin has checked
    ],
    "job.frequent_full_checkpoints": [
        {**FULL_SAVES, "save_interval": 1000, "save_only_model": True},  # the 16-bit model alone, every 1000 steps: a few percent
        {**FULL_SAVES, "save_interval": 10, "method": "lora"},  # adapters: megabytes
        {**FULL_SAVES, "save_interval": None},  # per epoch, never, or a share of the run: not placed per step
        {**FULL_SAVES, "save_interval": 10, "model": "unknown/model"},  # size unknown: nothing to weigh
    ],
    "job.eval_batch_below_micro_batch": [
        {**EVALS, "eval_batch_size": 1, "eval_runs": False},  # the trainer does not evaluate
        {**EVALS, "eval_batch_size": 1, "micro_batch_size": 2},  # training at 2: eval at 1 is not far below
        {**EVALS, "eval_batch_size": 8, "micro_batch_size": 8},  # already the training micro-batch
        {**EVALS, "eval_batch_size": 1, "framework": "trl (GRPOConfig)"},  # GRPO evaluation generates
        {**EVALS, "eval_batch_size": None},  # eval batch not known
        {**EVALS, "eval_batch_size": 2, "eval_seq_len": 8192},  # 2 eval rows of 8192 hold a training micro-batch's tokens
    ],
    "env.hip_launch_blocking": [
        {"env": {"CUDA_LAUNCH_BLOCKING": "1"}},  # clr has no CUDA_LAUNCH_BLOCKING flag (flags.cpp reads names exactly)
        {"env": {"HIP_LAUNCH_BLOCKING": "1"}, "target": "h100"},  # not a HIP runtime
    ],
    "comm.p2p_disabled": [
        {**SHARDED_8, "world_size": 8, "env": {"NCCL_P2P_DISABLE": "0"}},  # value 0: P2P on
        {**SHARDED_8, "world_size": 8, "env": {}},  # unset
        {"strategy": "fsdp", "micro_batch_size": 1, "world_size": 8, "env": {"NCCL_P2P_DISABLE": "1"}},  # 8 GPUs assumed, not stated
    ],
    "comm.ib_disabled": [
        {**ACROSS_NODES, "env": {"NCCL_IB_DISABLE": "0"}},  # value 0: IB on
        {**ACROSS_NODES, "env": {}},  # unset
        {"strategy": "fsdp", "micro_batch_size": 1, "world_size": 8, "env": {"NCCL_IB_DISABLE": "1"}},  # one node, assumed
    ],
    "job.frequent_eval": [
        {**EVALS, "eval_examples": None},  # the eval set's size is not in the config: nothing to weigh
        {**EVALS, "eval_examples": 48},  # a small eval set: under half of the job even padded to full length
        {**EVALS, "save_interval": 5},  # one evaluation per save
        {**EVALS, "save_interval": None},  # saves per epoch: not compared
        {**EVALS, "eval_runs": False},  # no evaluation
        {**EVALS, "model": "unknown/model"},  # size unknown
    ],
    "job.frequent_eval_floor": [
        {**FLOOR_EVALS, "eval_interval": 5},  # every 5 steps: the floor is about 9% of the job, under the 10% bar
        {**FLOOR_EVALS, "gradient_accumulation": 8},  # 8 micro-batches a step: the floor is about 6%
        {**FLOOR_EVALS, "eval_examples": 400},  # the eval set's size is stated: job.frequent_eval prices it
        {**FLOOR_EVALS, "eval_interval": None},  # per epoch (eval_strategy epoch): not every N steps
        {**FLOOR_EVALS, "eval_runs": False},  # eval_strategy no
        {**FLOOR_EVALS, "eval_batch_size": None},  # eval batch not known
        {**FLOOR_EVALS, "framework": "trl (GRPOConfig)"},  # GRPO evaluation generates (rollout.eval_floor)
        {**FLOOR_EVALS, "model": "unknown/model"},  # size unknown
    ],
    "job.frequent_eval_per_epoch": [
        {**SPLIT_EVALS, "evals_per_epoch": None},  # evaluations per epoch not fixed by the config
        {**SPLIT_EVALS, "eval_fraction": None},  # the eval set is not a share of the data
        {**SPLIT_EVALS, "eval_fraction": 0.01, "evals_per_epoch": 4.0},  # 4 x 1%: a few percent of the job
        {**SPLIT_EVALS, "framework": "trl (GRPOConfig)"},  # GRPO evaluation generates
        {**SPLIT_EVALS, "eval_runs": False},  # no evaluation
        {**SPLIT_EVALS, "model": "unknown/model"},  # size unknown
    ],
}


def _case(overrides: dict[str, Any]) -> tuple[WorkloadConfig, str, dict[str, Any]]:
    o = dict(overrides)
    target = o.pop("target", "mi300x")
    host = o.pop("host", {})
    model = lookup_model(o.pop("model", "meta-llama/Meta-Llama-3-8B"))
    env = o.pop("env", TUNED_ENV)  # a case's `env` replaces the tuned environment outright
    fmt = o.pop("format", "hf-trainer")
    fields = {**BASE, **o}
    return WorkloadConfig(path="case.yaml", format=fmt, model=model, env=env, **fields), target, host


def _fires(rule_id: str, overrides: dict[str, Any]) -> bool:
    w, target, host = _case(overrides)
    ids = {r.id for r in kb.applicable(w, hardware.get_hardware(target), kb.cached_rules(), host=host)}
    return rule_id in ids


def test_every_rule_has_a_case() -> None:
    ids = {r.id for r in kb.cached_rules()}
    assert ids == set(CASES), f"rules without a test case: {sorted(ids - set(CASES))}; cases without a rule: {sorted(set(CASES) - ids)}"


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_applies_and_does_not(rule_id: str) -> None:
    applies, absent = CASES[rule_id]
    assert _fires(rule_id, applies), f"{rule_id} should apply to {applies}"
    assert not _fires(rule_id, absent), f"{rule_id} must not apply to {absent}"


@pytest.mark.parametrize("rule_id", sorted(PREMISES))
def test_guidance_is_silent_where_its_premise_does_not_hold(rule_id: str) -> None:
    for overrides in PREMISES[rule_id]:
        assert not _fires(rule_id, overrides), f"{rule_id} must not apply to {overrides}"


def test_every_footgun_has_a_case_where_its_premise_does_not_hold() -> None:
    """Each guidance rule's must-not case (CASES) or its PREMISES cases hold everything but a premise."""
    footguns = {r.id for r in kb.cached_rules() if r.footgun}
    assert footguns <= set(CASES)
    for rule_id in footguns:
        applies, absent = CASES[rule_id]
        assert _fires(rule_id, applies) and not _fires(rule_id, absent)


def test_rccl_hints_cite_a_training_source_and_name_the_collectives() -> None:
    by_id = {r.id: r for r in kb.cached_rules()}
    for rule_id in ("comm.high_priority_rccl_streams", "comm.rccl_min_channels"):
        assert "inference" not in by_id[rule_id].citation, rule_id
    w, target, _host = _case({**SHARDED_8, "world_size": 8})
    text = kb.render_finding(by_id["comm.high_priority_rccl_streams"], w, hardware.get_hardware(target))
    assert "FSDP's parameter all-gathers" in text and "on 8 GPUs (stated)" in text


def test_advice_without_a_sourced_gain_is_not_in_the_kb() -> None:
    """Issue 24: TunableOp-where-unset and Inductor max-autotune claimed gains no source gives for training on an
    Instinct GPU; they are dropped (kb/gemm.yaml, kb/compile.yaml say why), and no rule advises either env var
    on a config that sets neither (TunableOp set by the config is still judged by the rules that read it)."""
    ids = {r.id for r in kb.cached_rules()}
    assert not {"gemm.tunableop", "compile.max_autotune"} & ids
    assert {"gemm.tunableop_tuning_left_on", "gemm.tunableop_tune_once_for_data_parallel"} <= ids
    for overrides in ({"env": {}}, {"env": {}, "compile_mode": "default"}, {"env": {}, "sample_packing": True, "torch_compile": True}):
        w, target, host = _case(overrides)
        fired = kb.applicable(w, hardware.get_hardware(target), kb.cached_rules(), host=host)
        advised = {k for r in fired for k in r.transform.env} | {k for r in fired if r.guidance for k in ("PYTORCH_TUNABLEOP_ENABLED",) if k in r.guidance}
        assert not advised & {"PYTORCH_TUNABLEOP_ENABLED", "TORCHINDUCTOR_MAX_AUTOTUNE"}, advised


def test_partial_node_collectives_speaks_of_a_stated_count_only() -> None:
    """A stated 4-GPU sharded run on MI300X gets the advice; the same run whose 4 GPUs goblin assumed does not."""
    assert _fires("comm.partial_node_collectives", {**SHARDED_8, "world_size": 4})
    assert not _fires("comm.partial_node_collectives", {"strategy": "fsdp", "micro_batch_size": 1, "world_size": 4})
    per_node = {
        "world_size": 8,
        "nodes": 2,
        "gpus_per_node": 4,
        "strategy": "fsdp",
        "micro_batch_size": 1,
        "sources": {"gpus_per_node": {"file": "run.sh", "line": 2, "explicit": True}},
    }
    assert _fires("comm.partial_node_collectives", per_node)


def test_tuned_base_gets_no_patch_rule() -> None:
    w, target, host = _case({})
    fired = [r.id for r in kb.applicable(w, hardware.get_hardware(target), kb.cached_rules(), host=host) if not r.footgun]
    assert fired == []


def test_kb_has_forty_cited_rules_with_valid_names() -> None:
    rules = kb.cached_rules()
    assert len(rules) >= 40
    for r in rules:
        assert r.citation.startswith("https://"), r.id
        assert kb.check_rule_names(r) == [], r.id
        assert r.id.split(".")[0] in {
            "precision",
            "attention",
            "memory",
            "batch",
            "data",
            "packing",
            "gemm",
            "compile",
            "optimizer",
            "quant",
            "kernels",
            "comm",
            "distributed",
            "env",
            "job",
            "debug",
        }


def test_hardware_table_has_the_targets_with_sources() -> None:
    table = hardware.hardware_table()
    assert {"mi300x", "mi325x", "mi355x", "mi250x", "mi210", "h100"} <= set(table)
    for hw in table.values():
        assert hw.citations and all(c.startswith("https://") for c in hw.citations), hw.id
        assert hw.bf16_tflops > 0 and hw.hbm_gb > 0


def test_search_ranks_by_symptom_text_then_impact() -> None:
    w, target, host = _case({**SHORT_STEP, "attention": "eager", "torch_compile": False, "optimizer": "adamw_torch"})
    hw = hardware.get_hardware(target)
    by_text = kb.search(w, hw, kb.cached_rules(), symptom="attention score matrix eager kernels", host=host)
    assert by_text[0].id == "attention.sdpa_over_eager"
    no_text = kb.search(w, hw, kb.cached_rules(), symptom="", host=host)
    highs = [r.impact.high for r in no_text]
    assert highs == sorted(highs, reverse=True)
    # structured applicability first: a rule that does not apply never appears, whatever the text
    assert "precision.bf16_amp_over_fp32" not in {r.id for r in kb.search(w, hw, kb.cached_rules(), symptom="fp32 precision bf16", host=host)}


def _bm25s_scores(rules: tuple[Any, ...], symptom: str) -> list[float]:
    """The scores bm25s itself gives (its default BM25, the tokens goblin feeds it)."""
    import bm25s

    corpus = [kb._words(f"{r.id} {r.category} {r.title} {r.symptom}") for r in rules]
    vocab: dict[str, int] = {}
    for doc in corpus:
        for t in doc:
            vocab.setdefault(t, len(vocab))
    index = bm25s.BM25()
    index.index(bm25s.tokenization.Tokenized(ids=[[vocab[t] for t in doc] for doc in corpus], vocab=vocab), show_progress=False)
    terms = [vocab[t] for t in kb._words(symptom) if t in vocab]
    return [float(x) for x in index.get_scores(terms)] if terms else [0.0] * len(rules)


def test_bm25_scores_and_ranks_as_bm25s_does() -> None:
    """The written-out BM25 gives bm25s's scores (it keeps float32) and the same order of rules
    for every query: each rule's own words, the planner's waste symptoms, repeats, unknown words."""
    rules = kb.cached_rules()
    queries = [f"{r.title} {r.symptom}" for r in rules] + [
        "attention score matrix eager kernels",
        "gpu idle waiting dataloader",
        "optimizer step communication",
        "memory memory headroom activation checkpointing",
        "no word here is in the kb zzz",
        "",
    ]
    for query in queries:
        ours = kb.relevance(rules, query)
        theirs = _bm25s_scores(rules, query)
        assert [ours[r.id] for r in rules] == pytest.approx(theirs, rel=1e-5, abs=1e-6), query
        order = sorted(rules, key=lambda r: (-round(ours[r.id], 6), -r.impact.high, r.id))
        expected = sorted(zip(rules, theirs, strict=True), key=lambda rs: (-round(rs[1], 6), -rs[0].impact.high, rs[0].id))
        assert [r.id for r in order] == [r.id for r, _ in expected], query


def test_target_matching_by_arch_and_memory() -> None:
    assert hardware.match_target("gfx942", 192.0) == "mi300x"
    assert hardware.match_target("gfx942", 256.0) == "mi325x"
    assert hardware.match_target("gfx950", None) == "mi355x"
    assert hardware.match_target("gfx1100", 24.0) is None
    assert hardware.resolve_target("mi325x") == "mi325x"


def test_target_detected_from_kfd_topology(tmp_path: Path) -> None:
    node = tmp_path / "nodes" / "1"
    (node / "mem_banks" / "0").mkdir(parents=True)
    (node / "properties").write_text("cpu_cores_count 0\ngfx_target_version 90402\n")
    (node / "mem_banks" / "0" / "properties").write_text(f"heap_type 1\nsize_in_bytes {256 * 10**9}\n")
    cpu = tmp_path / "nodes" / "0"
    cpu.mkdir()
    (cpu / "properties").write_text("cpu_cores_count 64\ngfx_target_version 0\n")
    assert hardware.detect_target(tmp_path / "nodes") == "mi325x"


# ---- goblin kb lint on broken rules ------------------------------------------------------

GOOD: dict[str, Any] = {
    "id": "team.example",
    "category": "batch",
    "title": "t",
    "symptom": "s",
    "applies_when": [{"fact": "micro_batch_size", "op": "eq", "value": 1}],
    "transform": {"set": {"micro_batch_size": 2}},
    "impact": {"low": 1.0, "high": 1.1},
    "risk": "r",
    "citation": "https://example.org/doc",
}


def _with(**changes: Any) -> dict[str, Any]:
    rule = json.loads(json.dumps(GOOD))
    for key, value in changes.items():
        if value is None:
            rule.pop(key, None)
        else:
            rule[key] = value
    return rule


BROKEN: dict[str, tuple[Any, str]] = {
    "missing field": (_with(risk=None), "risk: Field required"),
    "bad id": (_with(id="NoCategory"), "id: String should match pattern"),
    "http citation": (_with(citation="http://example.org"), "citation: String should match pattern"),
    "unknown workload field": (_with(applies_when=[{"fact": "batchsize", "value": 1}]), "unknown workload field 'batchsize'"),
    "unknown hw field": (_with(applies_when=[{"fact": "hw.tflops", "value": 1}]), "unknown hardware field 'hw.tflops'"),
    "unknown derived fact": (_with(applies_when=[{"fact": "derived.nope", "value": 1}]), "unknown derived fact"),
    "unknown host fact": (_with(applies_when=[{"fact": "host.nope", "value": 1}]), "unknown host fact"),
    "unknown op": (_with(applies_when=[{"fact": "seq_len", "op": "between", "value": 1}]), "applies_when.0.op"),
    "in without a list": (_with(applies_when=[{"fact": "precision", "op": "in", "value": "fp16"}]), "`in` needs a list value"),
    "transform unknown field": (_with(transform={"set": {"batch": 2}}), "transform sets unknown workload field 'batch'"),
    "transform bad value": (_with(transform={"set": {"precision": "fp64"}}), "not a valid value for that field"),
    "bad env name": (_with(transform={"env": {"lower case": "1"}}), "not an environment variable name"),
    "no transform": (_with(transform={}), "needs a transform"),
    "footgun without guidance": (_with(footgun=True), "a footgun needs guidance"),
    "impact inverted": (_with(impact={"low": 1.5, "high": 1.1}), "impact.low is above impact.high"),
    "impact below one": (_with(impact={"low": 0.5, "high": 1.1}), "impact.low"),
    "duplicate id": ([GOOD, GOOD], "duplicate id"),
    "not a list": ({"id": "x"}, "expected a list of entries"),
}


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_lint_names_each_kind_of_broken_rule(kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    content, expected = BROKEN[kind]
    rules = content if isinstance(content, list) or "applies_when" not in content else [content]
    path = tmp_path / "team.yaml"
    path.write_text(json.dumps(rules))  # JSON is YAML
    assert main(["kb", "lint", "--kb-path", str(path)]) == 1
    err = capsys.readouterr().err
    assert expected in err
    assert str(path) in err


def test_lint_reports_every_problem_not_only_the_first(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "team.yaml"
    path.write_text(json.dumps([_with(id="a.one", risk=None), _with(id="a.two", citation="ftp://x")]))
    assert main(["kb", "lint", "--kb-path", str(path)]) == 1
    err = capsys.readouterr().err
    assert "a.one" in err and "a.two" in err and "2 problem(s)" in err


def test_lint_invalid_yaml_and_missing_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("- id: [unclosed\n")
    assert main(["kb", "lint", "--kb-path", str(path)]) == 1
    assert "invalid YAML" in capsys.readouterr().err
    assert main(["kb", "lint", "--kb-path", str(tmp_path / "missing.yaml")]) == 1
    assert "no such rule file" in capsys.readouterr().err


def test_lint_passes_on_the_builtin_kb_and_a_valid_team_rule(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kb", "lint"]) == 0
    path = tmp_path / "team.yaml"
    path.write_text(json.dumps([GOOD]))
    assert main(["kb", "lint", "--kb-path", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"ok: {len(kb.cached_rules()) + 1} rules" in out.splitlines()[-1]


def test_kb_list_json_lists_every_rule_with_a_citation(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kb", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) >= 40
    assert all(set(row) >= {"id", "category", "symptom", "citation"} and row["citation"].startswith("https://") for row in rows)


def test_team_rules_from_ini_reach_the_audit(pytester: pytest.Pytester) -> None:
    rules = [
        _with(
            id="team.short_context",
            applies_when=[{"fact": "seq_len", "op": "lt", "value": 100000}],
            transform={},
            footgun=True,
            guidance="our team trains at 128k",
        )
    ]
    pytester.makefile(".yaml", team_rules=json.dumps(rules))
    pytester.makeini("[pytest]\ngoblin_kb_paths = team_rules.yaml\n")
    cfg = pytester.path / "cfg.yaml"
    cfg.write_text((Path(__file__).parent.parent / "examples" / "trl-smollm3-3b-sft-tuned.yaml").read_text())
    result = pytester.runpytest("--goblin", "cfg.yaml", "--goblin-json", "r.json", "-p", "no:cacheprovider")
    report = json.loads((pytester.path / "r.json").read_text())
    ids = {f["rule_id"] for item in report["items"] for f in item["report"]["findings"]}
    assert "team.short_context" in ids, result.stdout.str()


def test_kb_coverage_counts_rules_over_configs(capsys: pytest.CaptureFixture[str]) -> None:
    examples = Path(__file__).parent.parent / "examples"
    assert main(["kb", "coverage", str(examples), "--target", "mi300x"]) == 0
    out = capsys.readouterr().out
    assert "4 training configs, target mi300x" in out
    row = next(line for line in out.splitlines() if "`optimizer.fused_adamw`" in line)
    assert int(row.split("|")[3]) >= 1


def test_memory_rules_stay_silent_for_a_model_of_unknown_size() -> None:
    w, target, host = _case({"model": "someorg/mystery-model", "gradient_checkpointing": True, "cpu_offload": True})
    assert not w.model.known and w.model.params_b is None
    ids = {r.id for r in kb.applicable(w, hardware.get_hardware(target), kb.cached_rules(), host=host)}
    assert not ids & {"memory.disable_checkpointing_when_hbm_free", "memory.cpu_offload_when_it_fits", "memory.projected_over_hbm"}
    known, _, _ = _case({"gradient_checkpointing": True, "cpu_offload": True})
    assert {"memory.disable_checkpointing_when_hbm_free", "memory.cpu_offload_when_it_fits"} <= {
        r.id for r in kb.applicable(known, hardware.get_hardware(target), kb.cached_rules(), host=host)
    }


def test_moe_total_parameters_decide_memory_rules() -> None:
    scout, target, host = _case({"model": "meta-llama/Llama-4-Scout-17B-16E", "quantization": "4bit", "method": "qlora"})
    assert scout.model.params_b == 109.0 and scout.model.active_params_b == 17.0
    ids = {r.id for r in kb.applicable(scout, hardware.get_hardware(target), kb.cached_rules(), host=host)}
    assert "quant.lora_over_qlora_when_bf16_fits" not in ids  # 218 GB of bf16 weights do not fit in 192 GB


def test_rules_from_a_pluggy_plugin_join_the_kb_and_are_linted() -> None:
    from pytest_goblin.hooks import hookimpl, plugin_manager

    class TeamRules:
        @hookimpl
        def goblin_rules(self) -> list[dict[str, Any]]:
            return [_with(id="team.from_hook"), _with(id="team.broken", citation="http://x")]

    pm = plugin_manager()
    plugin = TeamRules()
    pm.register(plugin, name="team-rules")
    try:
        rules, problems = kb.check_rules()
        assert "team.from_hook" in {r.id for r in rules}
        assert any("<goblin_rules hook>" in p and "team.broken" in p for p in problems)
        with pytest.raises(kb.KBError, match=r"team\.broken"):
            kb.load_rules()
    finally:
        pm.unregister(plugin)
    assert "team.from_hook" not in {r.id for r in kb.load_rules()}


def test_docs_carry_the_current_coverage_table(capsys: pytest.CaptureFixture[str]) -> None:
    """docs/kb-coverage.md's table is what `goblin kb coverage` prints for the reference corpus now."""
    import re

    root = Path(__file__).resolve().parent.parent
    assert main(["kb", "coverage", str(root / "tests" / "data" / "reference_corpus"), "--target", "mi300x"]) == 0
    printed = capsys.readouterr().out.strip()
    doc = (root / "docs" / "kb-coverage.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- coverage-table:start -->\n(.*?)\n<!-- coverage-table:end -->", doc, re.S)
    assert found, "docs/kb-coverage.md lost its coverage-table markers"
    assert found.group(1) == printed, "rules changed: rerun `goblin kb coverage tests/data/reference_corpus --target mi300x` into docs/kb-coverage.md"


def test_liger_speaks_of_the_memory_it_makes_fit() -> None:
    """Issue 24: Liger is advised where the projection puts the config over HBM and its chunked loss under it;
    the finding names both projections (this config's tokens and vocabulary), not Liger's "up to" figures."""
    by_id = {r.id: r for r in kb.cached_rules()}
    w, target, _host = _case(LIGER_FITS)
    text = kb.render_finding(by_id["kernels.liger_fused_kernels"], w, hardware.get_hardware(target))
    assert "projected 220 GB per GPU of 206 GB" in text and "; 93 GB with Liger's fused kernels" in text
    assert "16 x 8192 tokens" in text and "None" not in text


def test_fp8_finding_names_its_published_mi300x_figure() -> None:
    by_id = {r.id: r for r in kb.cached_rules()}
    w, target, _host = _case(FP8_RECIPE)
    text = kb.render_finding(by_id["precision.fp8_for_large_gemms"], w, hardware.get_hardware(target))
    assert "9.6% to 14.7%" in text and "`fp8: true`" in text and "None" not in text


def test_overlap_comm_off_in_a_zero3_file_is_read_charged_and_reported(tmp_path: Path) -> None:
    """review5 #12 (AntResearchNLP/ViLaSR ds_z3_config.json): `"overlap_comm": false` under ZeRO-3 is read from the
    referenced file, the cost model hides none of the collectives, and the finding names the projected share.
    Must not: the same file without the key (ZeRO-3's default overlaps), or a ZeRO-2 file with it."""
    from pytest_goblin.formats import load_config
    from pytest_goblin.rules import overlap_comm_gain

    (tmp_path / ".git").mkdir()
    ds = tmp_path / "ds_z3.json"
    ds.write_text('{\n  "zero_optimization": {\n    "stage": 3,\n    "overlap_comm": false\n  }\n}\n')
    cfg = tmp_path / "sft.yaml"
    cfg.write_text(
        "model_name_or_path: meta-llama/Meta-Llama-3-8B\nstage: sft\ndo_train: true\nfinetuning_type: full\n"
        "per_device_train_batch_size: 1\ngradient_accumulation_steps: 8\nbf16: true\ncutoff_len: 2048\ndeepspeed: ds_z3.json\n"
        "# llamafactory-cli train sft.yaml  (torchrun --nproc_per_node 8)\n"
    )
    w = load_config(cfg).workload
    w = w.model_copy(update={"world_size": 8, "sources": {**w.sources, "world_size": FieldSource(file="sft.yaml", explicit=True, note="stated")}})
    assert w.comm_overlap is False and "ds_z3.json line 4" in (w.sources["comm_overlap"].note or "")
    hw = hardware.get_hardware("mi300x")
    gain = overlap_comm_gain(w, hw)
    assert gain > 0.05
    ids = {r.id for r in kb.applicable(w, hw, kb.cached_rules())}
    assert "distributed.zero3_overlap_comm_off" in ids
    rule = next(r for r in kb.cached_rules() if r.id == "distributed.zero3_overlap_comm_off")
    msg = kb.render_finding(rule, w, hw, None)
    assert f"{gain * 100:.0f}% longer" in msg and "None" not in msg
    # must not: the key left out (ZeRO-3 overlaps by default), or ZeRO-2
    ds.write_text('{"zero_optimization": {"stage": 3}}\n')
    assert load_config(cfg).workload.comm_overlap is None
    ds.write_text('{"zero_optimization": {"stage": 2, "overlap_comm": false}}\n')
    assert load_config(cfg).workload.comm_overlap is None
