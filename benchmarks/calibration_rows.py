"""The projection against published training throughput: each measurement with its source.

`python benchmarks/calibration.py` prints the table that docs/projection.md carries; a test
keeps the two equal, so a change to the model shows up as a change to its published error.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_goblin.costmodel import assumption_grid, step
from pytest_goblin.hardware import get_hardware
from pytest_goblin.schemas import WorkloadConfig

NEMO_24_12 = "https://docs.nvidia.com/nemo-framework/user-guide/24.12/nemotoolkit/performance/performance_summary.html"
MEGATRON_LLAMA = "https://github.com/NVIDIA/Megatron-LM/blob/main/examples/llama/README.md"
AUTOMODEL = "https://github.com/NVIDIA-NeMo/Automodel/blob/main/docs/performance-summary.md"
SOURCE_NAMES = {
    NEMO_24_12: "NeMo 24.12 performance summary",
    MEGATRON_LLAMA: "Megatron-LM examples/llama",
    AUTOMODEL: "NeMo AutoModel performance summary",
}


@dataclass(frozen=True)
class Measurement:
    name: str
    target: str  # kb/hardware.yaml id
    workload: dict[str, Any]  # native goblin-format fields
    published_tokens_per_s: float  # per GPU, as published
    source: str
    row: str  # the published row, as the source gives it

    def workload_config(self) -> WorkloadConfig:
        from pytest_goblin.formats.goblin import GoblinAdapter
        from pytest_goblin.yamlio import load_yaml

        text = "goblin: 1\n" + "".join(f"{k}: {v}\n" for k, v in self.workload.items())
        path = Path(f"{self.name}.yaml")
        return GoblinAdapter().parse(path, load_yaml(path, text), text)


def _megatron(model: str, method: str, gpus: int, gbs: int, seq: int, cp: int = 1) -> dict[str, Any]:
    """Megatron-Core on 8 H100s, FP8 (Transformer Engine), TP=PP=1, micro-batch 1, fused kernels."""
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
        "strategy": "ddp",
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
        _megatron("meta-llama/Meta-Llama-3-8B", "full", 8, 128, 8192, cp=2),
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
        _automodel("Qwen/Qwen3-30B-A3B", 8, 512, 4, 4096),
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
    hw = get_hardware(m.target)
    rates = [w.tokens_per_step / step(w, hw, a).step_s for a in assumption_grid()]
    nominal = w.tokens_per_step / step(w, hw).step_s
    return Calibrated(m, nominal, min(rates), max(rates))


def table() -> str:
    """The Markdown table of docs/projection.md."""
    rows = [calibrate(m) for m in MEASUREMENTS]
    out = [
        "| workload | GPU | published tokens/s/GPU | projected (nominal) | error | projected range | published in range | source |",
        "|---|---|---:|---:|---:|---|---|---|",
    ]
    for c in rows:
        m = c.measurement
        out.append(
            f"| {m.row.split(':')[0]} | {m.target} | {m.published_tokens_per_s:,.0f} | {c.projected:,.0f} | {c.error:+.1%} | "
            f"{c.low:,.0f}-{c.high:,.0f} | {'yes' if c.within_range else 'no'} | [{SOURCE_NAMES[m.source]}]({m.source}) |"
        )
    errors = [abs(c.error) for c in rows]
    out.append("")
    out.append(
        f"{len(rows)} measurements; mean absolute error {statistics.fmean(errors):.1%}, median {statistics.median(errors):.1%}, "
        f"largest {max(errors):.1%}; signed mean {statistics.fmean(c.error for c in rows):+.1%}."
    )
    return "\n".join(out)
