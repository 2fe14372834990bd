"""The projection against published training throughput: each measurement with its source.

`python benchmarks/calibration.py` prints the table that docs/projection.md carries; a test
keeps the two equal, so a change to the model shows up as a change to its published error.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pytest_goblin.costmodel import REALISTIC_STORAGE_GB_S, STORAGE_GB_S, checkpoint_seconds, class_residuals, step, throughput_range
from pytest_goblin.hardware import get_hardware
from pytest_goblin.schemas import WorkloadConfig

NEMO_24_12 = "https://docs.nvidia.com/nemo-framework/user-guide/24.12/nemotoolkit/performance/performance_summary.html"
MEGATRON_LLAMA = "https://github.com/NVIDIA/Megatron-LM/blob/main/examples/llama/README.md"
AUTOMODEL = "https://github.com/NVIDIA-NeMo/Automodel/blob/main/docs/performance-summary.md"
AO_TRAINING = "https://github.com/pytorch/ao/blob/main/docs/source/workflows/training.md"
MLPERF_51 = "https://github.com/mlcommons/training_results_v5.1"
MLPERF_50 = "https://github.com/mlcommons/training_results_v5.0"
SOURCE_NAMES = {
    NEMO_24_12: "NeMo 24.12 performance summary",
    MEGATRON_LLAMA: "Megatron-LM examples/llama",
    AUTOMODEL: "NeMo AutoModel performance summary",
    AO_TRAINING: "pytorch/ao training.md (PR #2736)",
    MLPERF_51: "MLPerf Training v5.1, AMD",
    MLPERF_50: "MLPerf Training v5.0, AMD",
}


@dataclass(frozen=True)
class Measurement:
    name: str
    target: str  # kb/hardware.yaml id
    workload: dict[str, Any]  # native goblin-format fields
    published_tokens_per_s: float  # per GPU, as published
    source: str
    row: str  # the published row, as the source gives it
    fitted: bool = True  # False: held out of the fit of kb/efficiency.yaml, a check of the model on a run it did not see
    stack: str = "other"  # costmodel.STACKS: the software stack the run used
    source_key: str = ""  # one independent source (submitter, publisher, document); benchmarks/loso.py leaves each out in turn
    memory_gb: float | None = None  # published peak memory per GPU, where the source gives it
    # settings of the run the goblin format cannot express, each with its source: the row stays in every table and
    # summary (loso adds a line without such rows) but is never fitted to (amd_rows.load_rows refuses `fitted: true`)
    inexpressible: tuple[str, ...] = ()
    # settings the source does not state and that goblin's own projection shows cannot be what ran (a run projected far
    # above its GPU's memory although it ran), each with why: treated as `inexpressible` rows are (loso's second line)
    unestablished: tuple[str, ...] = ()

    def workload_config(self) -> WorkloadConfig:
        from pytest_goblin.formats.goblin import GoblinAdapter
        from pytest_goblin.yamlio import load_yaml

        # a mapping (model_shape) or list as flow-style JSON, which YAML reads as written
        text = "goblin: 1\n" + "".join(f"{k}: {json.dumps(v) if isinstance(v, dict | list) else v}\n" for k, v in self.workload.items())
        path = Path(f"{self.name}.yaml")
        return GoblinAdapter().parse(path, load_yaml(path, text), text)


def with_saves(w: WorkloadConfig, rate: float, storage_gb_s: float = REALISTIC_STORAGE_GB_S) -> float:
    """Tokens/s over a whole training run that saves every `save_interval` steps, from the step's rate.

    A row whose published figure is a run's wall time (the Hugging Face Trainer's `train_runtime`,
    which counts the saves at `save_steps` made inside its training loop) is compared with the step
    plus its checkpoint writes amortized per step (`costmodel.checkpoint_seconds`: the model file
    and, unless `save_only_model`, the optimizer state, at `storage_gb_s`; the realistic synchronous
    `torch.save` rate by default, costmodel.STORAGE_GB_S's slow end). A workload without
    `save_interval` keeps `rate`: its published figure is a step rate.
    """
    if w.save_interval is None or rate <= 0:
        return rate
    per_step = checkpoint_seconds(w, storage_gb_s) / w.save_interval
    return w.tokens_per_step / (w.tokens_per_step / rate + per_step)


def saves_range(w: WorkloadConfig, nominal: float, low: float, high: float) -> tuple[float, float, float]:
    """`with_saves` on a projected (nominal, low, high): the slow storage end with the slow step, the fast end with the fast."""
    return with_saves(w, nominal), with_saves(w, low, STORAGE_GB_S[0]), with_saves(w, high, STORAGE_GB_S[1])


def _megatron(model: str, method: str, gpus: int, gbs: int, seq: int, cp: int = 1) -> dict[str, Any]:
    """Megatron-Core on 8 H100s, FP8 (Transformer Engine), TP=PP=1, micro-batch 1, fused kernels, and
    Megatron's distributed optimizer (fp32 master weights and AdamW states sharded over the data-parallel
    ranks: ZeRO-1): NeMo's recipes set `use_distributed_optimizer=True` (NVIDIA/NeMo
    nemo/collections/llm/recipes/optim/adam.py:34-45 @06cca55, distributed_fused_adam_with_cosine_annealing)
    and Megatron-LM's example passes `--use-distributed-optimizer` (NVIDIA/Megatron-LM
    examples/llama/train_llama3_8b_h100_fp8.sh DDP_ARGS @f7ec7ea)."""
    return {
        "model": model,
        "method": method,
        "precision": "fp8",
        "attention": "flash",
        "seq_len": seq,
        "micro_batch_size": 1,
        "gradient_accumulation": gbs // (gpus // cp),
        "world_size": gpus,
        "context_parallel": cp,
        "strategy": "deepspeed",  # Megatron's distributed optimizer: optimizer state sharded, ZeRO-1
        "zero_stage": 1,
        "optimizer": "adamw_torch_fused",
        "fused_kernels": "true",
        "dataloader_workers": 2,
        "sample_packing": "true",
    }


def _automodel(model: str, gpus: int, gbs: int, mbs: int, seq: int) -> dict[str, Any]:
    """NeMo AutoModel (PyTorch, FSDP2) on H100s, BF16, Transformer Engine kernels, mock data."""
    return {
        "model": model,
        "method": "full",
        "precision": "bf16",
        "attention": "flash",
        "seq_len": seq,
        "micro_batch_size": mbs,
        "gradient_accumulation": gbs // (gpus * mbs),
        "world_size": gpus,
        "strategy": "fsdp",
        "optimizer": "adamw_torch_fused",
        "fused_kernels": "true",
        "dataloader_workers": 2,
        "sample_packing": "true",
    }


MEASUREMENTS: tuple[Measurement, ...] = (
    Measurement(
        "llama2-7b-pretrain",
        "h100",
        _megatron("meta-llama/Llama-2-7b-hf", "full", 8, 128, 4096),
        16934,
        NEMO_24_12,
        "LLAMA2-7B pre-training: 8 GPUs, GBS 128, MBS 1, seq 4096, TP 1, PP 1, CP 1: 16934 tokens/s/GPU",
    ),
    Measurement(
        "llama3-8b-pretrain",
        "h100",
        _megatron("meta-llama/Meta-Llama-3-8B", "full", 8, 128, 8192, cp=2),
        12273,
        NEMO_24_12,
        "LLAMA3-8B pre-training: 8 GPUs, GBS 128, MBS 1, seq 8192, TP 1, PP 1, CP 2: 12273 tokens/s/GPU",
    ),
    Measurement(
        "llama3-8b-pretrain-mcore",
        "h100",
        # the README's table documents examples/llama/train_llama3_8b_h100_fp8.sh, which passes `--bf16
        # --grad-reduce-in-bf16` (:95-96 @d98e8a64dd): bf16 gradient buffers, not Megatron's fp32 default under --bf16
        {**_megatron("meta-llama/Meta-Llama-3-8B", "full", 8, 128, 8192, cp=2), "grad_dtype": "bf16"},
        13812,
        MEGATRON_LLAMA,
        "LLAMA3-8B: 8 GPUs, GBS 128, MBS 1, seq 8192, TP 1, PP 1, CP 2, GA 32: 13812 tokens/s/GPU (FP8)",
    ),
    Measurement(
        "llama2-7b-sft",
        "h100",
        _megatron("meta-llama/Llama-2-7b-hf", "full", 8, 32, 4096),
        16891,
        NEMO_24_12,
        "LLAMA2-7B SFT: 8 GPUs, GBS 32, MBS 1, packed seq 4096, TP 1, PP 1: 16891 tokens/s/GPU",
    ),
    Measurement(
        "llama2-7b-lora",
        "h100",
        _megatron("meta-llama/Llama-2-7b-hf", "lora", 8, 32, 4096),
        24824,
        NEMO_24_12,
        "LLAMA2-7B LoRA: 8 GPUs, GBS 32, MBS 1, packed seq 4096, TP 1, PP 1: 24824 tokens/s/GPU",
    ),
    Measurement(
        "llama2-13b-lora",
        "h100",
        _megatron("meta-llama/Llama-2-13b-hf", "lora", 8, 32, 4096),
        14629,
        NEMO_24_12,
        "LLAMA2-13B LoRA: 8 GPUs, GBS 32, MBS 1, packed seq 4096, TP 1, PP 1: 14629 tokens/s/GPU",
    ),
    Measurement(
        "qwen3-30b-a3b-pretrain",
        "h100",
        # the summary's config, qwen3_moe_30b_te_deepep.yaml, checkpoints every block (parallelizer
        # `activation_checkpointing: true`, :60 @5aa79650c, where GBS became 512; true in every version since its
        # first, 79d0ccfdb; nemo_automodel/components/moe/parallelizer.py:92-117 wraps each block whole)
        {**_automodel("Qwen/Qwen3-30B-A3B", 8, 512, 4, 4096), "gradient_checkpointing": "true"},
        12040,
        AUTOMODEL,
        "Qwen3 MoE 30B pre-training (BF16): 8 GPUs, GBS 512, MBS 4, GA 16, seq 4096, EP 8, FSDP 8: 12040 tokens/s/GPU",
    ),
    Measurement(
        "gpt-oss-20b-pretrain",
        "h100",
        _automodel("openai/gpt-oss-20b", 8, 256, 2, 4096),
        13058,
        AUTOMODEL,
        "GPT-OSS 20B pre-training (BF16): 8 GPUs, GBS 256, MBS 2, GA 16, seq 4096, FSDP 8: 13058 tokens/s/GPU",
    ),
    Measurement(
        "gpt-oss-120b-pretrain",
        "h100",
        _automodel("openai/gpt-oss-120b", 64, 512, 2, 4096),
        7626,
        AUTOMODEL,
        "GPT-OSS 120B pre-training (BF16): 64 GPUs, GBS 512, MBS 2, GA 4, seq 4096, FSDP 64: 7626 tokens/s/GPU",
    ),
)


# The H100 rows check the default factors; none of them was fitted to these.
# NeMo and Megatron-LM run Megatron-Core with Transformer Engine; AutoModel is PyTorch FSDP2 with TE kernels.
_H100_SOURCES = {NEMO_24_12: ("megatron_te", "nemo-24.12"), MEGATRON_LLAMA: ("megatron_te", "megatron-lm-examples"), AUTOMODEL: ("other", "nemo-automodel")}
MEASUREMENTS = tuple(replace(m, fitted=False, stack=_H100_SOURCES[m.source][0], source_key=_H100_SOURCES[m.source][1]) for m in MEASUREMENTS)


def _titan(precision: str) -> dict[str, Any]:
    """torchtitan Llama 3 8B on 8 MI300X (pytorch/ao training.md @2210df8: torchtitan 2c8b594, torchao 0.13.0+git4fc4068d6,
    PyTorch 2.9.0.dev20250811+rocm6.4, run by torchao's benchmarks/float8/training/llama3.sh over torchtitan's
    llama3_8b.toml): FSDP2, local batch 1, seq 8192, compile, per-op selective activation checkpointing (modelled as
    half the layers' forward recomputed), bf16 compute over fp32 sharded parameters, fused AdamW: the toml sets no
    `optimizer.implementation`, whose default is "fused" (torchtitan/config/job_config.py:117 @2c8b594, passed as
    `fused=True` by torchtitan/components/optimizer.py:289-301); gradients reduce-scattered in fp32: FSDP2's
    MixedPrecisionPolicy takes `reduce_dtype` from `training.mixed_precision_reduce`, whose one value and default is
    "float32" (torchtitan/config/job_config.py:207, models/llama3/infra/parallelize.py:109-110 @2c8b594)."""
    return {
        "model": "meta-llama/Meta-Llama-3-8B",
        "method": "full",
        "precision": precision,
        "weight_dtype": "fp32",
        "grad_dtype": "fp32",
        "attention": "sdpa",
        "seq_len": 8192,
        "micro_batch_size": 1,
        "gradient_accumulation": 1,
        "world_size": 8,
        "strategy": "fsdp",
        "optimizer": "adamw_torch_fused",
        "torch_compile": "true",
        "gradient_checkpointing": "true",
        "recompute_share": 0.5,
        "dataloader_workers": 2,
        "sample_packing": "true",
    }


def _mlperf_lora(recompute_layers: int) -> dict[str, Any]:
    """MLPerf Llama 2 70B LoRA (AMD, 8 GPUs): FP8 hybrid (Transformer Engine), bf16 fused attention, micro-batch 1,
    global batch 8, packed seq 8192, DP 8, TP=PP=CP=1, `recompute_layers` of 80 layers recomputed."""
    w: dict[str, Any] = {
        "model": "meta-llama/Llama-2-70b-hf",
        "method": "lora",
        "precision": "fp8",
        "attention": "flash",
        "seq_len": 8192,
        "micro_batch_size": 1,
        "gradient_accumulation": 1,
        "world_size": 8,
        "strategy": "ddp",
        "optimizer": "adamw_torch_fused",
        "fused_kernels": "true",
        "dataloader_workers": 2,
        "sample_packing": "true",
    }
    if recompute_layers:
        w.update({"gradient_checkpointing": "true", "recompute_share": round(recompute_layers / 80, 4)})
    return w


LLAMA31_8B_355 = {
    "model": "meta-llama/Llama-3.1-8B",
    "method": "full",
    "precision": "fp8",
    "weight_dtype": "bf16",
    "attention": "flash",
    "seq_len": 8192,
    "micro_batch_size": 2,
    "gradient_accumulation": 2,
    "world_size": 8,
    "strategy": "deepspeed",  # Megatron's distributed optimizer: optimizer state sharded, ZeRO-1
    "zero_stage": 1,
    "optimizer": "adamw_torch_fused",
    "fused_kernels": "true",
    "dataloader_workers": 2,
    "sample_packing": "true",
}

AMD_MEASUREMENTS: tuple[Measurement, ...] = (
    Measurement(
        "titan-llama3-8b-bf16",
        "mi300x",
        _titan("bf16"),
        5376.5,
        AO_TRAINING,
        "torchtitan Llama 3 8B bf16 (A-8B-titan): 8 GPUs, FSDP2, local batch 1, seq 8192, compile, selective AC: 5376.5 tokens/s/GPU",
    ),
    Measurement(
        "titan-llama3-8b-fp8",
        "mi300x",
        _titan("fp8"),
        6166,
        AO_TRAINING,
        "torchtitan Llama 3 8B float8 tensorwise (A-8B-titan-fp8): as A-8B-titan: 6166 tokens/s/GPU",
    ),
    Measurement(
        "titan-llama3-8b-fp8-rowwise",
        "mi300x",
        _titan("fp8"),
        5891,
        AO_TRAINING,
        "torchtitan Llama 3 8B float8 rowwise (A-8B-titan-fp8): as A-8B-titan: 5891 tokens/s/GPU",
        fitted=False,
    ),
    Measurement(
        "mlperf51-llama2-70b-lora-mi300x",
        "mi300x",
        _mlperf_lora(21),
        2168,
        MLPERF_51,
        "MLPerf v5.1 Llama 2 70B LoRA FP8 (A-70L-300): 8 GPUs, GBS 8, MBS 1, seq 8192, DP 8, recompute 21/80 layers: 2168 tokens/s/GPU",
    ),
    Measurement(
        "mlperf50-llama2-70b-lora-mi300x",
        "mi300x",
        _mlperf_lora(21),
        2076,
        MLPERF_50,
        "MLPerf v5.0 Llama 2 70B LoRA FP8 (A-70L-300-v50): as A-70L-300, PyTorch 2.6 / ROCm 6.4: 2076 tokens/s/GPU",
        fitted=False,
    ),
    Measurement(
        "mlperf51-llama2-70b-lora-mi325x",
        "mi325x",
        _mlperf_lora(0),
        2905,
        MLPERF_51,
        "MLPerf v5.1 Llama 2 70B LoRA FP8 (A-70L-325): 8 GPUs, GBS 8, MBS 1, seq 8192, DP 8, no recompute: 2905 tokens/s/GPU",
        fitted=False,  # MI325X runs MI300X's factors (same silicon): a check of them on a GPU they were not fitted to
    ),
    Measurement(
        "mlperf50-llama2-70b-lora-mi325x",
        "mi325x",
        _mlperf_lora(0),
        2798,
        MLPERF_50,
        "MLPerf v5.0 Llama 2 70B LoRA FP8 (A-70L-325): as v5.1, older software: 2798 tokens/s/GPU",
        fitted=False,
    ),
    Measurement(
        "mlperf51-llama31-8b-mi355x",
        "mi355x",
        LLAMA31_8B_355,
        31390,
        MLPERF_51,
        "MLPerf v5.1 Llama 3.1 8B FP8 (A-8B-355): 8 GPUs, GBS 32, MBS 2, GA 2, seq 8192, DP 8, distributed optimizer: 31390 tokens/s/GPU",
    ),
    Measurement(
        "mlperf51-llama2-70b-lora-mi355x",
        "mi355x",
        _mlperf_lora(0),
        6017,
        MLPERF_51,
        "MLPerf v5.1 Llama 2 70B LoRA FP8 (A-70L-355): 8 GPUs, GBS 8, MBS 1, seq 8192, DP 8, no recompute: 6017 tokens/s/GPU",
    ),
)
# torchtitan (pytorch/ao's document), and AMD's MLPerf submissions (NeMo / Megatron-Core + Transformer Engine;
# v5.0 and v5.1 are one submitter's code, one source)
_AMD_SOURCES = {AO_TRAINING: ("torchtitan", "pytorch-ao-training-md"), MLPERF_51: ("megatron_te", "mlperf-amd"), MLPERF_50: ("megatron_te", "mlperf-amd")}
AMD_MEASUREMENTS = tuple(replace(m, stack=_AMD_SOURCES[m.source][0], source_key=_AMD_SOURCES[m.source][1]) for m in AMD_MEASUREMENTS)
ALL_MEASUREMENTS = MEASUREMENTS + AMD_MEASUREMENTS


# Held out: published AMD runs that neither the fit of kb/efficiency.yaml nor the calibration blocks
# (and so the projected intervals) have seen, and that ../shared/research/amd-training-figures.md does
# not list. Each figure is read from the submitter's MLPerf Training v5.1 result logs: the median
# over the 10 runs of each run's median `tracked_stats` throughput (samples/s of the whole system),
# times the 8192-token packed sequence, over the GPUs (benchmarks/mlperf_throughput.py re-derives it).
MLPERF_51_TREE = "https://github.com/mlcommons/training_results_v5.1/tree/main/"


def _heldout(name: str, target: str, workload: dict[str, Any], samples_per_s: float, gpus: int, results: str, row: str) -> Measurement:
    tokens = round(samples_per_s * 8192 / gpus)
    submitter = results.split("/", 1)[0]
    return Measurement(
        name,
        target,
        workload,
        tokens,
        MLPERF_51_TREE + results,
        f"{row}: {samples_per_s} samples/s x 8192 / {gpus} GPUs = {tokens} tokens/s/GPU",
        fitted=False,
        # every submitter, MangoBoost included, runs NeMo's Megatron-Core GPT with Transformer Engine: MangoBoost's
        # LLMBoost train.py builds the model with nemo's MegatronLMPPTrainerBuilder, and its config sets
        # `mcore_gpt: True` and `transformer_engine: ${oc.env:TRANSFORMER_ENGINE,True}` (training_results_v5.1 @441d65f
        # MangoBoost/benchmarks/llama2_70b_lora/implementations/MI300X-LLMBoost-GPUBoost-1node/src/train.py:58,
        # src/conf/megatron_gpt_peft_tuning_config.yaml:44,83; the same in v5.0 @0fdc28f, yaml:43,82), as amd_rows.yaml says
        stack="megatron_te",
        source_key=f"mlperf-{submitter.lower()}",
    )


def _lora_nodes(recompute_layers: int, gpus: int, cp: int) -> dict[str, Any]:
    """The MLPerf Llama 2 70B LoRA recipe over `gpus` GPUs with context parallelism `cp` (DP = gpus / cp)."""
    return {**_mlperf_lora(recompute_layers), "world_size": gpus, "context_parallel": cp}


HELDOUT_MEASUREMENTS: tuple[Measurement, ...] = (
    _heldout(
        "krai-llama2-70b-lora-mi300x",
        "mi300x",
        _mlperf_lora(21),
        2.084,
        8,
        "Krai/results/PowerEdge-XE9680-MI300X-192GB_n1_v5.1/llama2_70b_lora",
        "Krai, Dell PowerEdge XE9680 8x MI300X, Llama 2 70B LoRA FP8 (config_MI300X_1x8x1.sh): GBS 8, MBS 1, seq 8192, DP 8, recompute 21/80 layers",
    ),
    _heldout(
        "mangoboost-llama2-70b-lora-mi300x-1node",
        "mi300x",
        _mlperf_lora(21),
        2.072,
        8,
        "MangoBoost/results/MI300X-LLMBoost-GPUBoost-1node/llama2_70b_lora",
        "MangoBoost LLMBoost 1.2, 8x MI300X, Llama 2 70B LoRA FP8: GBS 8, MBS 1, seq 8192, DP 8, recompute 21/80 layers",
    ),
    _heldout(
        "mangoboost-llama2-70b-lora-mi300x-2node",
        "mi300x",
        _lora_nodes(21, 16, 2),
        3.926,
        16,
        "MangoBoost/results/MI300X-LLMBoost-GPUBoost-2node/llama2_70b_lora",
        "MangoBoost LLMBoost 1.2, 2 nodes x 8 MI300X (RoCEv2), Llama 2 70B LoRA FP8: GBS 8, MBS 1, seq 8192, CP 2, DP 8, recompute 21/80 layers",
    ),
    _heldout(
        "mangoboost-llama2-70b-lora-mi325x-1node",
        "mi325x",
        _mlperf_lora(0),
        2.878,
        8,
        "MangoBoost/results/MI325X-LLMBoost-GPUBoost-1node/llama2_70b_lora",
        "MangoBoost LLMBoost 1.2, 8x MI325X, Llama 2 70B LoRA FP8: GBS 8, MBS 1, seq 8192, DP 8, no recompute",
    ),
    _heldout(
        "mangoboost-llama2-70b-lora-mi325x-2node",
        "mi325x",
        _lora_nodes(21, 16, 2),
        4.707,
        16,
        "MangoBoost/results/MI325X-LLMBoost-GPUBoost-2node/llama2_70b_lora",
        "MangoBoost LLMBoost 1.2, 2 nodes x 8 MI325X (RoCEv2), Llama 2 70B LoRA FP8: GBS 8, MBS 1, seq 8192, CP 2, DP 8, recompute 21/80 layers",
    ),
    _heldout(
        "asustek-llama2-70b-lora-mi325x",
        "mi325x",
        _mlperf_lora(0),
        2.781,
        8,
        "ASUSTeK/results/ESC_A8A_MI325X/llama2_70b_lora",
        "ASUSTeK ESC A8A, 8x MI325X, Llama 2 70B LoRA FP8: GBS 8, MBS 1, seq 8192, DP 8, no recompute",
    ),
    _heldout(
        "supermicro-llama2-70b-lora-mi325x",
        "mi325x",
        _mlperf_lora(0),
        2.765,
        8,
        "Supermicro/results/AS-8126GS-TNMR_8xMI325X/llama2_70b_lora",
        "Supermicro AS-8126GS-TNMR, 8x MI325X, Llama 2 70B LoRA FP8: GBS 8, MBS 1, seq 8192, DP 8, no recompute",
    ),
    _heldout(
        "mitac-llama2-70b-lora-mi325x",
        "mi325x",
        _mlperf_lora(0),
        2.84,
        8,
        "MiTAC/results/8xMI325X_2xEPYC_9755/llama2_70b_lora",
        "MiTAC, 8x MI325X (EPYC 9755 host), Llama 2 70B LoRA FP8: GBS 8, MBS 1, seq 8192, DP 8, no recompute",
    ),
    _heldout(
        "dell-llama2-70b-lora-mi355x",
        "mi355x",
        _mlperf_lora(0),
        5.829,
        8,
        "Dell/results/XE9785L_8xMI355X/llama2_70b_lora",
        "Dell PowerEdge XE9785L, 8x MI355X, Llama 2 70B LoRA FP8: GBS 8, MBS 1, seq 8192, DP 8, no recompute",
    ),
    _heldout(
        "supermicro-llama2-70b-lora-mi355x",
        "mi355x",
        _mlperf_lora(0),
        5.86,
        8,
        "Supermicro/results/8xMI355X_2xEPYC_9575F/llama2_70b_lora",
        "Supermicro, 8x MI355X, Llama 2 70B LoRA FP8: GBS 8, MBS 1, seq 8192, DP 8, no recompute",
    ),
    _heldout(
        "dell-llama31-8b-mi355x",
        "mi355x",
        LLAMA31_8B_355,
        29.357,
        8,
        "Dell/results/XE9785L_8xMI355X/llama31_8b",
        "Dell PowerEdge XE9785L, 8x MI355X, Llama 3.1 8B pre-training FP8 (config_MI355X_1x8x1_8b.sh): GBS 32, MBS 2, GA 2, seq 8192, DP 8",
    ),
    _heldout(
        "supermicro-llama31-8b-mi355x",
        "mi355x",
        LLAMA31_8B_355,
        29.712,
        8,
        "Supermicro/results/8xMI355X_2xEPYC_9575F/llama31_8b",
        "Supermicro, 8x MI355X, Llama 3.1 8B pre-training FP8: GBS 32, MBS 2, GA 2, seq 8192, DP 8",
    ),
)


@dataclass(frozen=True)
class Calibrated:
    measurement: Measurement
    projected: float  # tokens/s/GPU at the nominal assumptions
    low: float  # slowest over the assumption grid
    high: float  # fastest over the assumption grid

    @property
    def error(self) -> float:
        return self.projected / self.measurement.published_tokens_per_s - 1

    @property
    def within_range(self) -> bool:
        return self.low <= self.measurement.published_tokens_per_s <= self.high


def calibrate(m: Measurement) -> Calibrated:
    w = m.workload_config()
    r = throughput_range(w, get_hardware(m.target), stack=m.stack)
    return Calibrated(m, *saves_range(w, r.nominal, r.low, r.high))


GROUPS = {"h100": ("h100",), "gfx942": ("mi300x", "mi325x"), "mi355x": ("mi355x",)}
ABLATIONS = (  # (before, after): published one-change pairs; their projected speedup is checked against the published one
    ("titan-llama3-8b-bf16", "titan-llama3-8b-fp8"),
    ("titan-llama3-8b-bf16", "titan-llama3-8b-fp8-rowwise"),
)


def summary(targets: tuple[str, ...]) -> dict[str, Any]:
    """The `calibration` block kb/efficiency.yaml carries for these targets (a test keeps them equal)."""
    rows = [calibrate(m) for m in ALL_MEASUREMENTS if m.target in targets]
    errors = [c.error for c in rows]
    by_name = {c.measurement.name: c for c in calibrate_all()}
    ablation = [
        abs((by_name[b].measurement.published_tokens_per_s / by_name[a].measurement.published_tokens_per_s) / (by_name[b].projected / by_name[a].projected) - 1)
        for a, b in ABLATIONS
    ]
    ws = [c.measurement.workload_config() for c in rows]
    params = [w.model.params_b for w in ws if w.model.params_b is not None]
    return {
        "rows": len(rows),
        "mean_abs_error": round(statistics.fmean(abs(e) for e in errors), 3),
        "max_over": round(max(0.0, *errors), 3),
        "max_under": round(max(0.0, *(-e for e in errors)), 3),
        "speedup_abs_error": round(max(ablation), 3),
        "stacks": tuple(sorted({c.measurement.stack for c in rows})),
        "precisions": tuple(sorted({w.precision for w in ws})),
        "methods": tuple(sorted({w.method for w in ws})),
        "params_b": (min(params), max(params)),
        "gpus": (min(w.world_size for w in ws), max(w.world_size for w in ws)),
        "classes": class_residuals(((c.measurement.stack, w.precision, w.method, c.error) for c, w in zip(rows, ws, strict=True)), digits=3),
    }


def calibrate_all() -> list[Calibrated]:
    return [calibrate(m) for m in ALL_MEASUREMENTS]


def table() -> str:
    """The Markdown table of docs/projection.md."""
    out = [
        "| workload | GPU | published tokens/s/GPU | projected (nominal) | error | projected range | published in range | in fit | MFU (bf16 peak) | source |",
        "|---|---|---:|---:|---:|---|---|---|---:|---|",
    ]
    rows = calibrate_all()
    for c in rows:
        m = c.measurement
        w = m.workload_config()
        hw = get_hardware(m.target)
        sm = step(w, hw)
        mfu = sm.model_flops / (sm.step_s * hw.bf16_tflops * 1e12)
        out.append(
            f"| {m.row.split(':')[0]} | {m.target} | {m.published_tokens_per_s:,.0f} | {c.projected:,.0f} | {c.error:+.1%} | "
            f"{c.low:,.0f}-{c.high:,.0f} | {'yes' if c.within_range else 'no'} | {'fit' if m.fitted else 'held out' if m.target != 'h100' else 'not fitted'} | {mfu:.0%} | "
            f"[{SOURCE_NAMES[m.source]}]({m.source}) |"
        )
    out.append("")
    for group, targets in GROUPS.items():
        sub = [c for c in rows if c.measurement.target in targets]
        errors = [abs(c.error) for c in sub]
        held = [abs(c.error) for c in sub if not c.measurement.fitted]
        line = f"- {group}: {len(sub)} rows; mean absolute error {statistics.fmean(errors):.1%}, largest {max(errors):.1%}"
        if held:
            line += f"; held-out rows ({len(held)}): largest {max(held):.1%}"
        out.append(line + ".")
    return "\n".join(out)


def heldout_table() -> str:
    """The held-out Markdown table of docs/projection.md: runs kept out of the fit and of the intervals."""
    out = [
        "| run | GPU | published tokens/s/GPU | projected (nominal) | error | projected range | published in range | source |",
        "|---|---|---:|---:|---:|---|---|---|",
    ]
    rows = [calibrate(m) for m in HELDOUT_MEASUREMENTS]
    for c in rows:
        m = c.measurement
        out.append(
            f"| {m.row.split(':')[0]} | {m.target} | {m.published_tokens_per_s:,.0f} | {c.projected:,.0f} | {c.error:+.1%} | "
            f"{c.low:,.0f}-{c.high:,.0f} | {'yes' if c.within_range else 'no'} | [{m.source.removeprefix(MLPERF_51_TREE)}]({m.source}) |"
        )
    out.append("")
    for group, targets in GROUPS.items():
        errors = [c.error for c in rows if c.measurement.target in targets]
        if errors:
            out.append(
                f"- {group}: {len(errors)} held-out rows; mean absolute error {statistics.fmean(abs(e) for e in errors):.1%}, "
                f"from {min(errors):+.1%} to {max(errors):+.1%}; in range {sum(c.within_range for c in rows if c.measurement.target in targets)}/{len(errors)}."
            )
    return "\n".join(out)
