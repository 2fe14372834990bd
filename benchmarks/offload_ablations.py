"""Published CPU offload runs against the projection's host offload terms (task offload36).

    python benchmarks/offload_ablations.py

Each row is one published measurement of a training run with CPU offload, with the run it pairs with where the source
has one (the same training without offload), as the source states them. None is on an AMD GPU: no published AMD
Instinct run with offload was found (searched 2026-12-07: ROCm blogs and docs, DeepSpeed and Hugging Face blogs,
tutorials, PRs and issues). The offload terms do not depend on the GPU's compute: the host link (`host_link_gb_s`)
and the node's CPU AdamW rate (`host_optimizer_gb_s`). So each row's goblin figure is the time offload adds to a step,
`step(offloaded) - step(not offloaded)` (`costmodel.step`) for the run's model, GPUs, ZeRO stage and precision,
projected on the MI300X with the host link of the source's machine (A100: PCIe Gen4 x16, 32 GB/s each way, the
ZenFlow blog's own figure, derated like goblin's Gen5 figure, 50 of 64 GB/s: 25 GB/s), and the projected ratio is
(published step without offload + that time) / published step without offload. The interval walks the grid's host
terms (`costmodel._ABSOLUTE`, the link scaled the same way). A row with no run to pair bounds goblin's added time by
the published whole offloaded step. Rows on a GPU kb/hardware.yaml lacks with epoch times only (Hugging Face's FSDP
blog, Titan RTX), and runs whose GPU and batch the source does not state (DeepSpeed issue #6695), are listed unprojected.

docs/projection.md carries `table()` between its offload-table markers (a test keeps them equal).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from calibration_rows import Measurement

from pytest_goblin.costmodel import _ABSOLUTE, nominal_for, step
from pytest_goblin.hardware import get_hardware

GEN5_GB_S = 64.0  # PCIe Gen5 x16, each way: what goblin's host_link_gb_s (50, grid 25-64) is a share of


@dataclass(frozen=True)
class OffloadRun:
    name: str
    gpu: str  # the GPUs the source ran on, in words
    setting: str  # model, method, offload, parallelism, precision, in words
    source: str  # URL or repository file:line@commit
    off_s: float | None  # published step seconds without offload (None: the source has no such run)
    on_s: float | None  # published step seconds with offload (a lower bound where the source says "over")
    published_ratio: float | None  # offloaded over not, as the source states it (epoch times where it has no step)
    link_gb_s: float = 32.0  # the source machine's PCIe link to the host, each way (A100: Gen4 x16)
    workload: dict[str, Any] | None = None  # goblin-format fields of the offloaded run; None: not projected
    over: bool = False  # the published offloaded figure is a lower bound ("over 7 s")
    unprojected: str = "GPU not in kb/hardware.yaml, epoch times only"  # why a row without `workload` is not projected


_ZENFLOW = (
    "deepspeedai/DeepSpeed blogs/deepspeed-zenflow/README.md:40, :94 @cda18e4 (step 0.5 s -> over 7 s, CPU path over 4 s, "
    "backward about 2 s); the ZenFlow tutorial's config: deepspeedai/DeepSpeedExamples "
    "training/DeepSpeed-ZenFlow/finetuning/zf_config.json @ccee2ba (ZeRO-2, offload_optimizer cpu, bf16, accumulation 1)"
)
_PR7474 = "deepspeedai/DeepSpeed PR #7474 (commit f03d416ea, docs/_tutorials/zero-offload.md): 3084 ms a step, 2383 ms with --bind_cores_to_rank"
_ISSUE6695 = (
    "deepspeedai/DeepSpeed issue #6695 (2024-10-31, table in its description: total, forward, backward and Adam seconds, "
    "with and without ZeRO-Offload; LlamaConfig models, 128-token samples)"
)
_HF_FSDP = "huggingface/blog pytorch-fsdp.md @00e67ae Tables 1-2 (GPT-2 Large / XL, 2 x Titan RTX, fp32, epoch minutes / hours)"


def _lf(model: str, gpus: int, stage: int, params: bool = False) -> dict[str, Any]:
    return {
        "model": model,
        "method": "full",
        "precision": "bf16",
        "attention": "sdpa",
        "seq_len": 1024,
        "micro_batch_size": 1,
        "world_size": gpus,
        "strategy": "deepspeed",
        "zero_stage": stage,
        "optimizer": "adamw_torch",
        "cpu_offload": True,
        "offload_params": params,
    }


RUNS: tuple[OffloadRun, ...] = (
    OffloadRun(
        "zenflow-llama2-7b-zero-offload",
        "4 x A100",
        "Llama-2-7B full fine-tune, ZeRO-Offload (ZeRO-2 + offload_optimizer), bf16 (the tutorial's config; the blog states no batch)",
        _ZENFLOW,
        0.5,
        7.0,
        14.0,
        workload=_lf("meta-llama/Llama-2-7b-hf", 4, 2),
        over=True,
    ),
    OffloadRun(
        "pr7474-qwen2.5-3b-zero-offload",
        "2 x A100-40GB, 128 host cores",
        "Qwen2.5-3B full fine-tune, ZeRO-Offload, core binding on (no run without offload)",
        _PR7474,
        None,
        2.383,
        None,
        workload=_lf("Qwen/Qwen2.5-3B", 2, 2),
    ),
    OffloadRun(
        "issue6695-llama2-0.3b",
        "unstated",
        "Llama 2 architecture 0.3B, ZeRO-Offload, 128-token samples: backward 0.04 -> 0.26 s, Adam 0.02 -> 0.31 s a step",
        _ISSUE6695,
        None,
        None,
        150 / 23,
        unprojected="GPU, GPU count and batch not stated in the text read",
    ),
    OffloadRun(
        "issue6695-llama2-1.2b",
        "unstated",
        "Llama 2 architecture 1.2B, ZeRO-Offload, 128-token samples: backward 0.05 -> 0.87 s, Adam 0.08 -> 1.5 s a step",
        _ISSUE6695,
        None,
        None,
        490 / 31,
        unprojected="GPU, GPU count and batch not stated in the text read",
    ),
    OffloadRun(
        "hf-fsdp-gpt2-large",
        "2 x Titan RTX",
        "GPT-2 Large 762M, FSDP FULL_SHARD + CPU offload, fp32, batch 15 -> 22, epoch 13 -> 24 min",
        _HF_FSDP,
        None,
        None,
        24 / 13,
    ),
    OffloadRun(
        "hf-fsdp-gpt2-xl", "2 x Titan RTX", "GPT-2 XL 1.5B, FSDP + CPU offload, fp32, batch 5 -> 14, epoch 0.6 -> 1.16 h", _HF_FSDP, None, None, 1.16 / 0.6
    ),
)


def _config(run: OffloadRun, offloaded: bool) -> Any:
    assert run.workload is not None
    fields = {**run.workload, "cpu_offload": offloaded, "offload_params": offloaded and run.workload["offload_params"]}
    return Measurement(run.name, "mi300x", fields, 1.0, run.source, run.name).workload_config()


def added_s(run: OffloadRun, link_share: float | None = None, host_rate: float | None = None) -> float:
    """Seconds offload adds to one step of `run` in goblin's projection, at the source machine's host link (`link_share`
    of it: goblin's nominal 50/64 unless given) and `host_rate` GB/s of CPU AdamW (goblin's nominal unless given)."""
    hw = get_hardware("mi300x")
    a = nominal_for(hw)
    share = a.host_link_gb_s / GEN5_GB_S if link_share is None else link_share
    a = replace(a, host_link_gb_s=run.link_gb_s * share, host_optimizer_gb_s=a.host_optimizer_gb_s if host_rate is None else host_rate)
    return step(_config(run, True), hw, a).step_s - step(_config(run, False), hw, a).step_s


def added_span(run: OffloadRun) -> tuple[float, float]:
    """The least and most added seconds over the grid's host terms (link share 25/64-64/64, CPU AdamW 40-100 GB/s)."""
    links = [v / GEN5_GB_S for v in _ABSOLUTE["host_link_gb_s"]]
    rates = _ABSOLUTE["host_optimizer_gb_s"]
    seconds = [added_s(run, s, r) for s in links for r in rates]
    return min(seconds), max(seconds)


def projected_ratio(run: OffloadRun) -> tuple[float, float, float] | None:
    """(point, low, high) of offloaded over not-offloaded step time, from the published step without offload."""
    if run.workload is None or run.off_s is None:
        return None
    lo, hi = added_span(run)
    return (run.off_s + added_s(run)) / run.off_s, (run.off_s + lo) / run.off_s, (run.off_s + hi) / run.off_s


def inside(run: OffloadRun) -> bool | None:
    """Whether the published figure lies inside goblin's interval (a lower bound: whether the interval reaches it);
    for a row with no run to pair, whether goblin's added time stays under the published whole step. None: not projected."""
    if run.workload is None:
        return None
    if run.off_s is None:
        assert run.on_s is not None
        return added_span(run)[0] <= run.on_s
    got = projected_ratio(run)
    assert got is not None and run.published_ratio is not None
    return got[2] >= run.published_ratio if run.over else got[1] <= run.published_ratio <= got[2]


def _published(run: OffloadRun) -> str:
    if run.off_s is not None and run.on_s is not None:
        return f"{run.off_s:g} s -> {'over ' if run.over else ''}{run.on_s:g} s ({'over ' if run.over else ''}{run.published_ratio:.1f}x)"
    if run.on_s is not None:
        return f"{run.on_s:g} s a whole offloaded step"
    return f"{run.published_ratio:.2f}x {'an epoch' if run.source == _HF_FSDP else 'the whole run'}"


def _goblin(run: OffloadRun) -> str:
    if run.workload is None:
        return f"not projected ({run.unprojected})"
    lo, hi = added_span(run)
    got = projected_ratio(run)
    added = f"adds {added_s(run):.2f} s [{lo:.2f}-{hi:.2f}]"
    return added if got is None else f"{added}: {got[0]:.2f}x [{got[1]:.2f}-{got[2]:.2f}]"


def table() -> str:
    """The Markdown table of docs/projection.md (between its offload-table markers)."""
    out = ["| run | GPU | setting | published | goblin | inside |", "|---|---|---|---|---|---|"]
    for r in RUNS:
        verdict = inside(r)
        out.append(f"| {r.name} | {r.gpu} | {r.setting} | {_published(r)} | {_goblin(r)} | {'-' if verdict is None else 'yes' if verdict else 'no'} |")
    return "\n".join(out)


if __name__ == "__main__":
    print(table())
