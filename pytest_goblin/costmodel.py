"""Projected step time and memory: a per-layer roofline of the target GPU.

Nothing here is measured. Each term is FLOPs or bytes of one training step divided by the
GPU's published peak times an achieved-efficiency factor; the factors are assumptions listed
in `Assumptions` (see docs/projection.md), and the speedup's interval comes from re-running
the model across their plausible range, not from noise.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, replace

from pytest_goblin.modelzoo import estimate_shape
from pytest_goblin.schemas import Hardware, ModelShape, WasteBudget, WorkloadConfig

GB = 1e9
LORA_TRAINABLE_SHARE = 0.01  # LoRA adapters train about 1% of the parameters at typical ranks


@dataclass(frozen=True)
class Assumptions:
    gemm_eff_max: float = 0.60  # best achieved share of dense matrix peak for large GEMMs
    gemm_half_tokens: int = 1024  # tokens per micro-batch at which GEMMs reach half of that
    attn_eff: float = 0.45  # fused attention kernels (SDPA / flash), share of matrix peak
    bw_eff: float = 0.70  # achieved share of HBM bandwidth in memory-bound kernels
    eager_score_passes: int = 16  # reads+writes of the seq x seq score matrix per layer, fwd+bwd
    elementwise_passes: int = 40  # activation-sized reads+writes per layer per token (norms, acts, residuals), fwd+bwd
    host_ms_per_sample: float = 1.5  # collation/tokenization in the training process when workers=0
    foreach_adamw_passes: float = 1.6  # extra memory passes of foreach AdamW relative to fused
    eightbit_adamw_passes: float = 1.3  # quantize/dequantize overhead of 8-bit optimizers relative to fused
    host_link_gb_s: float = 50.0  # achieved GPU<->host copy rate; PCIe Gen5 x16 is 64 GB/s each way
    host_optimizer_gb_s: float = 100.0  # host memory traffic rate of a CPU AdamW step (ZeRO-Offload / FSDP offload)
    offload_exposed: float = 0.5  # share of activation-offload copies not hidden behind compute
    fused_kernel_passes: float = 0.6  # activation-sized memory passes left with Liger-style fused kernels


NOMINAL = Assumptions()
# The interval: every combination of low/high settings of the factors users ask about most.
_SENSITIVITY: dict[str, tuple[float, float]] = {
    "gemm_eff_max": (0.45, 0.75),
    "gemm_half_tokens": (512, 2048),
    "bw_eff": (0.55, 0.85),
    "host_ms_per_sample": (0.5, 3.0),
    "host_link_gb_s": (25.0, 64.0),
}


def assumption_grid() -> Iterator[Assumptions]:
    """Every combination of the low and high settings in _SENSITIVITY: what a projection's interval spans."""
    keys = list(_SENSITIVITY)
    for combo in itertools.product(*(_SENSITIVITY[k] for k in keys)):
        yield replace(NOMINAL, **dict(zip(keys, combo, strict=True)))  # type: ignore[arg-type]


def _gemm_eff(a: Assumptions, tokens: float) -> float:
    """Achieved share of matrix peak for GEMMs over `tokens` rows: grows toward gemm_eff_max."""
    return a.gemm_eff_max * tokens / (tokens + a.gemm_half_tokens)


@dataclass(frozen=True)
class StepModel:
    step_s: float
    waste: WasteBudget
    peak_memory_gb: float
    model_flops: float  # useful FLOPs per optimizer step (no recompute)


def _bytes_per_param(precision: str) -> float:
    return 4.0 if precision == "fp32" else 2.0


def _shape(w: WorkloadConfig) -> tuple[float, int, int, int, int]:
    shape = estimate_shape(w.model)
    params = (shape.active_params_b or (shape.params_b if shape.params_b is not None else 7.0)) * 1e9  # 7B: said in the workload notes
    return params, shape.n_layers or 32, shape.hidden or 4096, shape.n_heads or 32, shape.vocab or 32000


def _experts(shape: ModelShape, params: float) -> tuple[float, float]:
    """(active expert parameters, share of a micro-batch's tokens each expert sees) for MoE; (0, 1) when dense."""
    if not (shape.n_experts and shape.experts_per_token and shape.n_layers and shape.hidden and shape.intermediate):
        return 0.0, 1.0
    expert = shape.n_layers * shape.experts_per_token * 3 * shape.hidden * shape.intermediate
    return min(float(expert), params), shape.experts_per_token / shape.n_experts


def memory_gb(w: WorkloadConfig) -> float:
    """Peak memory per GPU: weights, gradients, optimizer state, activations, logits."""
    shape = estimate_shape(w.model)
    total_params = (shape.params_b if shape.params_b is not None else 7.0) * 1e9
    _, layers, hidden, heads, vocab = _shape(w)
    half = w.precision != "fp32"
    trainable = total_params if w.method == "full" else total_params * LORA_TRAINABLE_SHARE
    base_bytes = {"4bit": 0.55, "8bit": 1.05}.get(w.quantization, 2.0 if (half or w.method != "full") else 4.0)
    weights = total_params * base_bytes
    if w.method == "full" and half:
        weights += total_params * 4.0  # fp32 master weights under mixed precision
    grads = trainable * (4.0 if w.method == "full" else 2.0)
    opt_state = trainable * (2.0 if "8bit" in w.optimizer else 8.0)
    if w.cpu_offload:  # optimizer state and fp32 master weights live in host memory
        opt_state = 0.0
        if w.method == "full" and half:
            weights -= total_params * 4.0
    shard = max(1, w.world_size) if w.strategy in ("fsdp", "deepspeed") else 1
    states = (weights + grads + opt_state) / shard
    tokens = w.tokens_per_micro_batch
    act_bytes = 2.0 if half else 4.0
    per_token_layer = 17 * hidden * act_bytes  # Korthikanti et al. (34*h bytes in half precision)
    if w.attention == "eager":
        per_token_layer += 2.5 * heads * w.seq_len * act_bytes  # per local token, against the full context
    if w.gradient_checkpointing:
        kept = 0.0 if w.activation_offloading else tokens * layers * hidden * act_bytes
        activations = kept + tokens * per_token_layer * (2 if w.activation_offloading else 1)
    else:
        activations = tokens * layers * per_token_layer
    logits = tokens * vocab * 4.0 * 2
    if w.fused_kernels:
        logits /= 8  # fused linear cross-entropy works on chunks of the logits
    return (states + activations + logits) / GB * 1.08  # allocator fragmentation


FP32_RATIO = 8.0  # MI300X: 1307.4 bf16 / 163.4 fp32 matrix TFLOPS, used where a target's fp32 peak has no source


def peak_tflops(hw: Hardware, precision: str) -> float:
    if precision == "fp32":
        return hw.fp32_tflops or hw.bf16_tflops / FP32_RATIO
    if precision == "fp8":
        return hw.fp8_tflops or hw.bf16_tflops
    return hw.fp16_tflops if precision == "fp16" else hw.bf16_tflops


def step(w: WorkloadConfig, hw: Hardware, a: Assumptions = NOMINAL) -> StepModel:
    params, layers, hidden, heads, _vocab = _shape(w)
    shape = estimate_shape(w.model)
    peak = peak_tflops(hw, w.precision) * 1e12
    bw = hw.hbm_tb_s * 1e12 * a.bw_eff
    tokens = w.tokens_per_micro_batch
    micro = w.gradient_accumulation
    # GEMMs: forward 2N per token; backward 4N (full) or 2N (frozen base: input grads only).
    bwd_factor = 2.0 if w.method == "full" else 1.0
    gemm_eff = _gemm_eff(a, tokens)
    expert, routed = _experts(shape, params)
    # MoE: each expert's GEMMs see only the tokens routed to it, so they run less efficiently.
    expert_eff = _gemm_eff(a, tokens * routed)
    fwd_gemm = 2 * (params - expert) * tokens / (peak * gemm_eff) + 2 * expert * tokens / (peak * expert_eff)
    # Attention core: causal QK^T and AV, 2 * 2 * s * h FLOPs per token per layer, halved by the mask.
    attn_flops = 2 * 2 * w.seq_len * hidden * layers * tokens / 2
    if w.attention == "eager":
        scores = w.micro_batch_size * heads * w.seq_len * w.seq_len // max(1, w.context_parallel) * (2 if w.precision != "fp32" else 4)
        fwd_attn = (attn_flops * 2 / (peak * gemm_eff)) + scores * a.eager_score_passes * layers / 3 / bw
    else:
        fwd_attn = attn_flops / (peak * a.attn_eff)
    act_bytes = 2 if w.precision != "fp32" else 4
    fwd_elem = tokens * layers * hidden * act_bytes * a.elementwise_passes / 3 / bw
    if w.torch_compile:
        fwd_elem *= 0.5  # fusion halves activation-sized memory passes
    elif w.fused_kernels:
        fwd_elem *= a.fused_kernel_passes
    dequant = 0.0
    if w.quantization != "none":
        dequant = params * (0.5 if w.quantization == "4bit" else 1.0 + 2.0) / bw
    fwd = fwd_gemm + fwd_attn + fwd_elem + dequant
    compute = fwd_gemm * (1 + bwd_factor)
    attention = fwd_attn * 3
    elementwise = fwd_elem * 3
    dequant_total = dequant * (2 + (1 if w.gradient_checkpointing else 0))
    recompute = fwd if w.gradient_checkpointing else 0.0
    offload = 0.0
    if w.activation_offloading and w.gradient_checkpointing:
        # checkpointed layer inputs go to the host in forward and come back in backward
        offload = 2 * tokens * layers * hidden * act_bytes / (a.host_link_gb_s * GB) * a.offload_exposed
    micro_s = compute + attention + elementwise + dequant_total + recompute + offload
    data_wait = a.host_ms_per_sample / 1e3 * w.micro_batch_size if w.dataloader_workers == 0 else 0.0
    total = (shape.params_b if shape.params_b is not None else 7.0) * 1e9  # the optimizer updates every expert, not only the active ones
    trainable = total if w.method == "full" else total * LORA_TRAINABLE_SHARE
    if w.strategy in ("fsdp", "deepspeed"):
        trainable /= max(1, w.world_size)  # each rank steps its own shard
    passes = a.eightbit_adamw_passes if "8bit" in w.optimizer else 1.0 if "fused" in w.optimizer else a.foreach_adamw_passes
    optimizer = trainable * 32 * passes / bw  # param, grad, two moments read and written
    if w.precision == "fp16":
        optimizer += trainable * 2 / bw  # the loss scaler's inf/nan check over the gradients
    if w.cpu_offload:
        # gradients down, updated weights up, and the AdamW step on the host
        optimizer = trainable * (4 + 2) / (a.host_link_gb_s * GB) + trainable * 32 / (a.host_optimizer_gb_s * GB)
    step_s = micro * (micro_s + data_wait) + optimizer
    parts = {
        "compute": micro * compute,
        "attention": micro * attention,
        "memory_bound": micro * (elementwise + dequant_total + offload),
        "recompute": micro * recompute,
        "data_wait": micro * data_wait,
        "optimizer": optimizer,
    }
    waste = WasteBudget(**{k: v / step_s for k, v in parts.items()})
    model_flops = micro * (2 * params * tokens * (1 + bwd_factor) + attn_flops * 3)
    return StepModel(step_s=step_s, waste=waste, peak_memory_gb=memory_gb(w), model_flops=model_flops)


def sensitivity(before: WorkloadConfig, after: WorkloadConfig, hw: Hardware) -> tuple[float, float, float]:
    """(point, low, high) speedup across the assumption grid."""
    point = step(before, hw).step_s / step(after, hw).step_s
    ratios = [step(before, hw, a).step_s / step(after, hw, a).step_s for a in assumption_grid()]
    return point, min([*ratios, point]), max([*ratios, point])
