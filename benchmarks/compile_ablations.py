"""Published torch.compile on/off training ratios against the projection's (issue 25, task compile33).

    python benchmarks/compile_ablations.py

Each row is one published pair: the same training run with `torch.compile` off and on, nothing else changed,
as its source states it. None is on an AMD GPU: no published AMD Instinct LLM training or fine-tuning pair
was found (searched 2026-12-07: ROCm blogs and docs, AMD-AGI/Primus PR #193, whose only words are "slight training
throughput improvement", torchtune/torchtitan docs, issues and PRs, ROCm/MAD, the AMD-AIG-AIMA Infinity Hub
harness). A100 is not in kb/hardware.yaml, so each pair is projected on the H100 and on the MI300X (the
audit's default target) with the run's own model, batch, length, precision and parallelism; the projected
ratio is the nominal step time off over on (`costmodel.step`), what `costmodel.sensitivity` reports as its
point. Where the source leaves a setting open that moves the ratio (activation checkpointing's share in the
PyTorch/IBM blog), both ends are projected.

docs/projection.md carries `table()` between its compile-table markers (a test keeps them equal).
"""

from __future__ import annotations

import statistics
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from calibration_rows import Measurement

from pytest_goblin.costmodel import eager_elementwise_passes, memory_gb, nominal_for, step
from pytest_goblin.hardware import get_hardware


@dataclass(frozen=True)
class CompilePair:
    name: str
    gpu: str  # the GPU the source ran on, in words
    setting: str  # model, method, batch x length, dtype, checkpointing, parallelism, in words
    off: float  # published figure with compile off (tokens/s or MFU: a ratio is what counts)
    on: float  # with compile on
    source: str  # URL and file:line
    workload: dict[str, Any]  # goblin-format fields of the run (compile off); compile on sets torch_compile
    ac_open: bool = False  # the source's checkpointing share is not stated: project both no AC and full AC

    @property
    def published_ratio(self) -> float:
        return self.on / self.off


_TUNE = "pytorch/torchtune README.md:139-158 @bd2a0fc (table from PR #2003, 1814feb17, 2024-11-18; in v0.5.0)"
_IBM = (
    "https://pytorch.org/blog/maximizing-training-throughput/ 'MFU report' Tables 1-2 (pytorch/pytorch.github.io _posts); "
    "settings foundation-model-stack/fms-fsdp fms_fsdp/config/training.py (seq_length 4096, mixed_precision, hsdp) @00f20d5, "
    "34b shape fms_fsdp/utils/config_utils.py get_model_config"
)
_THUNDER = "https://github.com/Lightning-AI/lightning-thunder/pull/940 (table 'batch size 1', rows torch N/A (FSDP2) and eager N/A (FSDP2))"


def _ibm(size: str, model: str, gpus: int, off: float, on: float, gpu: str) -> CompilePair:
    sharding = {"sharding": "hybrid"} if size == "7B" else {}
    return CompilePair(
        f"ibm-llama2-{size.lower()}-{gpu.split()[0].lower()}",
        f"{gpus} x {gpu}",
        f"Llama 2 {size} architecture, full pre-training, 2 x 4096, bf16 mixed precision, selective AC (share not stated), FSDP",
        off,
        on,
        _IBM,
        {
            "model": model,
            "method": "full",
            "precision": "bf16",
            "attention": "sdpa",
            "seq_len": 4096,
            "micro_batch_size": 2,
            "world_size": gpus,
            "nodes": gpus // 8,
            "gpus_per_node": 8,
            "strategy": "fsdp",
            **sharding,
            "optimizer": "adamw_torch",
            "sample_packing": True,
        },
        ac_open=True,
    )


PAIRS: tuple[CompilePair, ...] = (
    CompilePair(
        "torchtune-llama3.2-3b-full-a100",
        "1 x A100",
        "Llama 3.2 3B full fine-tune (full_finetune_single_device), 2 x 4096 packed, bf16, no AC, AdamW, compile of model and loss",
        7075,
        8998,
        _TUNE,
        {
            "model": "meta-llama/Llama-3.2-3B",
            "method": "full",
            "precision": "bf16",
            "attention": "sdpa",
            "seq_len": 4096,
            "micro_batch_size": 2,
            "world_size": 1,
            "strategy": "single",
            "optimizer": "adamw_torch",
            "sample_packing": True,
        },
    ),
    _ibm("7B", "meta-llama/Llama-2-7b-hf", 128, 0.57, 0.68, "A100 80GB"),
    _ibm("13B", "meta-llama/Llama-2-13b-hf", 128, 0.51, 0.60, "A100 80GB"),
    _ibm("34B", "codellama/CodeLlama-34b-hf", 128, 0.47, 0.54, "A100 80GB"),
    _ibm("70B", "meta-llama/Llama-2-70b-hf", 128, 0.50, 0.55, "A100 80GB"),
    _ibm("7B", "meta-llama/Llama-2-7b-hf", 464, 0.37, 0.45, "H100 80GB"),
    _ibm("13B", "meta-llama/Llama-2-13b-hf", 464, 0.35, 0.43, "H100 80GB"),
    _ibm("34B", "codellama/CodeLlama-34b-hf", 464, 0.32, 0.38, "H100 80GB"),
    _ibm("70B", "meta-llama/Llama-2-70b-hf", 464, 0.32, 0.38, "H100 80GB"),
    CompilePair(
        "thunder-llama2-7b-fsdp2-h100",
        "8 x H100",
        "Llama 2 7B (litgpt), full pre-training benchmark, 1 x 4096, bf16, no AC, FSDP2 zero2",
        9325.13,
        11855.92,
        _THUNDER,
        {
            "model": "meta-llama/Llama-2-7b-hf",
            "method": "full",
            "precision": "bf16",
            "attention": "sdpa",
            "seq_len": 4096,
            "micro_batch_size": 1,
            "world_size": 8,
            "strategy": "fsdp",
            "sharding": "grad_op",
            "optimizer": "adamw_torch_fused",
            "sample_packing": True,
        },
    ),
)


def _config(pair: CompilePair, compiled: bool, ac: bool) -> Any:
    workload = {**pair.workload, "torch_compile": compiled}
    if ac:
        workload["gradient_checkpointing"] = True
    return Measurement(pair.name, "mi300x", workload, 1.0, pair.source, pair.name).workload_config()


def projected_ratio(pair: CompilePair, target: str, ac: bool = False, counted: bool = False) -> float:
    """Step time with compile off over on, nominal factors of `target` (the projection's point speedup); `counted`:
    with `elementwise_passes` at the op count of an eager layer (costmodel.eager_elementwise_passes), the far end
    audit_tools._unsure_small_rule reads."""
    hw = get_hardware(target)
    a = nominal_for(hw)
    off, on = _config(pair, False, ac), _config(pair, True, ac)
    if counted:
        a = replace(a, elementwise_passes=round(eager_elementwise_passes(off)))
    return step(off, hw, a, peak_gb=memory_gb(off)).step_s / step(on, hw, a, peak_gb=memory_gb(on)).step_s


def _cell(pair: CompilePair, target: str, counted: bool = False) -> str:
    if not pair.ac_open:
        return f"{projected_ratio(pair, target, counted=counted):.3f}"
    return f"{projected_ratio(pair, target, counted=counted):.3f} / {projected_ratio(pair, target, ac=True, counted=counted):.3f}"


def table() -> str:
    """The Markdown table of docs/projection.md (between its compile-table markers)."""
    out = [
        "| pair | GPU | run | off -> on | published ratio | projected H100 | projected MI300X | MI300X at the eager op count |",
        "|---|---|---|---|---:|---:|---:|---:|",
    ]
    for p in PAIRS:
        out.append(
            f"| {p.name} | {p.gpu} | {p.setting} | {p.off:g} -> {p.on:g} | {p.published_ratio:.3f} | {_cell(p, 'h100')} | {_cell(p, 'mi300x')} | "
            f"{_cell(p, 'mi300x', counted=True)} |"
        )
    published = [p.published_ratio for p in PAIRS]
    projected = [projected_ratio(p, "mi300x") for p in PAIRS]
    far = [projected_ratio(p, "mi300x", counted=True) for p in PAIRS]
    out.append("")
    out.append(
        f"- {len(PAIRS)} pairs (3 sources, none AMD); published gain {min(published) - 1:.1%} to {max(published) - 1:.1%} "
        f"(median {statistics.median(published) - 1:.1%}); projected on MI300X {min(projected) - 1:.1%} to "
        f"{max(projected) - 1:.1%}, at the eager op count {min(far) - 1:.1%} to {max(far) - 1:.1%}. Two projected figures: "
        "no AC / full AC (the blog's selective share lies between)."
    )
    return "\n".join(out)


if __name__ == "__main__":
    print(table())
