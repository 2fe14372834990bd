"""Measured: time real training steps of a model with the workload's shape on this device.

The model is a decoder with the workload's layer structure (RMSNorm, attention with its
head layout, SwiGLU MLP) scaled down to fit the device: on a CPU, a proxy of a few narrow
layers and a short sequence. Precision, attention implementation, checkpointing,
micro-batch, gradient accumulation, optimizer and torch.compile are the workload's own,
so the ratio of two such runs measures what the patch changes on this device.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..devices import gpu_present
from ..errors import BenchmarkFailed
from ..modelzoo import estimate_shape
from ..schemas import Hardware, RunMetrics, WasteBudget, WorkloadConfig
from .base import BaseRunner
from .interleave import interleave


@dataclass(frozen=True)
class Scale:
    """How far the proxy is shrunk from the real model on this device."""

    layers: int = 2
    hidden: int = 256
    seq_len: int = 256
    vocab: int = 4096
    max_micro_batch: int = 8


CPU_SCALE = Scale()


def _build(torch: Any, w: WorkloadConfig, s: Scale) -> Any:
    nn = torch.nn
    F = torch.nn.functional
    shape = estimate_shape(w.model)
    heads = max(1, min(shape.n_heads or 8, s.hidden // 32))
    kv_heads = max(1, min(shape.n_kv_heads or heads, heads))
    while heads % kv_heads:
        kv_heads -= 1
    ratio = (shape.intermediate or 4 * (shape.hidden or 1024)) / (shape.hidden or 1024)
    inter = int(s.hidden * ratio) // 16 * 16
    head_dim = s.hidden // heads
    eager = w.attention == "eager"
    lora = w.method != "full"

    class LoRALinear(nn.Module):  # type: ignore[misc,name-defined]
        def __init__(self, fan_in: int, fan_out: int, r: int = 8):
            super().__init__()
            self.base = nn.Linear(fan_in, fan_out, bias=False)
            self.base.weight.requires_grad_(False)
            self.a = nn.Parameter(torch.randn(r, fan_in) * 0.01)
            self.b = nn.Parameter(torch.zeros(fan_out, r))

        def forward(self, x: Any) -> Any:
            return self.base(x) + (x @ self.a.t()) @ self.b.t()

    def linear(i: int, o: int) -> Any:
        return LoRALinear(i, o) if lora else nn.Linear(i, o, bias=False)

    class Block(nn.Module):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.n1 = nn.RMSNorm(s.hidden)
            self.n2 = nn.RMSNorm(s.hidden)
            self.q = linear(s.hidden, heads * head_dim)
            self.kv = linear(s.hidden, 2 * kv_heads * head_dim)
            self.o = linear(heads * head_dim, s.hidden)
            self.gate_up = linear(s.hidden, 2 * inter)
            self.down = linear(inter, s.hidden)

        def attn(self, x: Any) -> Any:
            b, t, _ = x.shape
            q = self.q(x).view(b, t, heads, head_dim).transpose(1, 2)
            k, v = self.kv(x).view(b, t, 2, kv_heads, head_dim).unbind(2)
            k = k.transpose(1, 2).repeat_interleave(heads // kv_heads, dim=1)
            v = v.transpose(1, 2).repeat_interleave(heads // kv_heads, dim=1)
            if eager:
                scores = (q @ k.transpose(-2, -1)) / head_dim**0.5
                mask = torch.ones(t, t, dtype=torch.bool, device=x.device).triu(1)
                out = scores.masked_fill(mask, float("-inf")).softmax(-1) @ v
            else:
                out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            return self.o(out.transpose(1, 2).reshape(b, t, heads * head_dim))

        def forward(self, x: Any) -> Any:
            x = x + self.attn(self.n1(x))
            g, u = self.gate_up(self.n2(x)).chunk(2, dim=-1)
            return x + self.down(F.silu(g) * u)

    class Decoder(nn.Module):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(s.vocab, s.hidden)
            self.blocks = nn.ModuleList(Block() for _ in range(s.layers))
            self.norm = nn.RMSNorm(s.hidden)
            self.head = nn.Linear(s.hidden, s.vocab, bias=False)
            if lora:
                self.embed.weight.requires_grad_(False)
                self.head.weight.requires_grad_(False)

        def forward(self, ids: Any) -> Any:
            x = self.embed(ids)
            for blk in self.blocks:
                if w.gradient_checkpointing and self.training:
                    x = torch.utils.checkpoint.checkpoint(blk, x, use_reentrant=False)
                else:
                    x = blk(x)
            return self.head(self.norm(x))

    return Decoder()


def _optimizer(torch: Any, params: list[Any], w: WorkloadConfig) -> Any:
    fused = "fused" in w.optimizer
    return torch.optim.AdamW(params, lr=1e-4, fused=fused, foreach=None if fused else True)


@dataclass
class _Prepared:
    """One variant, built and ready to step: the model, its optimizer and its inputs."""

    one_step: Any
    sync: Any
    dev: Any
    tokens: int
    mbs: int
    ga: int
    seq: int


def _prepare(torch: Any, w: WorkloadConfig, *, device: str, scale: Scale, seed: int) -> _Prepared:
    torch.manual_seed(seed)
    dev = torch.device(device)
    model = _build(torch, w, scale).to(dev)
    dtype = (
        None
        if w.precision == "fp32"
        else {"bf16": torch.bfloat16, "fp16": torch.float16, "fp8": torch.bfloat16, "mxfp4": torch.bfloat16, "mxfp6": torch.bfloat16}[w.precision]
    )
    trainable = [p for p in model.parameters() if p.requires_grad]
    opt = _optimizer(torch, trainable, w)
    fwd = torch.compile(model) if w.torch_compile else model
    mbs = min(w.micro_batch_size, scale.max_micro_batch)
    ga = max(1, w.micro_batch_size * w.gradient_accumulation // mbs)
    seq = min(w.seq_len, scale.seq_len)
    gen = torch.Generator(device="cpu").manual_seed(seed)
    ids = torch.randint(0, scale.vocab, (mbs, seq + 1), generator=gen).to(dev)
    scaler = torch.amp.GradScaler(dev.type) if w.precision == "fp16" and dev.type != "cpu" else None

    def one_step() -> float:
        for _ in range(ga):
            with torch.autocast(dev.type, dtype=dtype, enabled=dtype is not None):
                logits = fwd(ids[:, :-1])
                loss = torch.nn.functional.cross_entropy(logits.float().reshape(-1, scale.vocab), ids[:, 1:].reshape(-1)) / ga
            if not torch.isfinite(loss):
                raise FloatingPointError("loss is NaN or infinite")
            (scaler.scale(loss) if scaler else loss).backward()
        if scaler:
            scaler.step(opt)
            scaler.update()
        else:
            opt.step()
        opt.zero_grad(set_to_none=True)
        return float(loss.detach())

    def sync() -> None:
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)

    return _Prepared(one_step=one_step, sync=sync, dev=dev, tokens=mbs * ga * seq, mbs=mbs, ga=ga, seq=seq)


def _timed(p: _Prepared, steps: int) -> list[float]:
    out = []
    for _ in range(steps):
        p.sync()
        t0 = time.perf_counter()
        p.one_step()
        p.sync()
        out.append(time.perf_counter() - t0)
    return out


def _metrics(
    torch: Any,
    w: WorkloadConfig,
    p: _Prepared,
    samples: list[float],
    *,
    run_id: str,
    variant: str,
    device: str,
    scale: Scale,
    peak: float | None,
    extra: list[str],
) -> RunMetrics:
    median = sorted(samples)[len(samples) // 2]
    notes = [f"proxy model: {scale.layers} layers, hidden {scale.hidden}, sequence {p.seq}, micro-batch {p.mbs} x {p.ga} on {device}", *extra]
    if w.quantization != "none":
        notes.append("weight quantization is not emulated by the proxy")
    if w.dataloader_workers == 0:
        notes.append("data loading is not part of the measured step")
    return RunMetrics(
        run_id=run_id,
        variant=variant,
        evidence="measured",
        runner="torch",
        device=_device_name(torch, p.dev),
        step_time_s=samples,
        tokens_per_step=p.tokens,
        tokens_per_s=p.tokens / median,
        samples_per_s=p.mbs * p.ga / median,
        peak_memory_gb=round(peak, 3) if peak is not None else None,
        versions={"torch": torch.__version__, "hip": str(getattr(torch.version, "hip", None)), "cuda": str(torch.version.cuda)},
        notes=notes,
    )


def _peak(torch: Any, dev: Any) -> float | None:
    return float(torch.cuda.max_memory_allocated(dev)) / 1e9 if dev.type == "cuda" else None


def measure(
    w: WorkloadConfig, *, device: str, steps: int, warmup: int, run_id: str, variant: str, scale: Scale = CPU_SCALE, seed: int = 0, profile: bool = False
) -> RunMetrics:
    import torch

    p = _prepare(torch, w, device=device, scale=scale, seed=seed)
    if p.dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(p.dev)
    for _ in range(warmup):
        p.one_step()
    samples = _timed(p, steps)
    m = _metrics(torch, w, p, samples, run_id=run_id, variant=variant, device=device, scale=scale, peak=_peak(torch, p.dev), extra=[])
    if profile:
        waste, note = _profile(torch, p)
        m = m.model_copy(update={"waste": waste, "notes": [*m.notes, note]})
    return m


# Operator names (torch.profiler) by where step time goes; the first match wins.
_CATEGORIES = (
    ("attention", ("scaled_dot_product", "flash", "efficient_attention", "softmax", "_attention")),
    ("optimizer", ("optimizer.step", "adam", "_foreach_", "_fused_")),
    ("compute", ("aten::mm", "aten::addmm", "aten::bmm", "aten::matmul", "aten::linear", "gemm", "cijk_", "cutlass")),
)


def _profile(torch: Any, p: _Prepared, steps: int = 2) -> tuple[WasteBudget, str]:
    """A WasteBudget from a torch.profiler trace of real steps: self time per operator,
    grouped; what the operators do not cover of the wall time is idle."""
    from torch.profiler import ProfilerActivity, profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if p.dev.type == "cuda" else [])
    with profile(activities=activities) as prof:
        start = time.perf_counter()
        for _ in range(steps):
            p.one_step()
        p.sync()
        wall_us = (time.perf_counter() - start) * 1e6
    device = p.dev.type == "cuda"
    totals = {"compute": 0.0, "attention": 0.0, "optimizer": 0.0, "memory_bound": 0.0}
    for evt in prof.key_averages():
        own = float(getattr(evt, "self_device_time_total", 0.0) if device else evt.self_cpu_time_total)
        if own <= 0 or evt.key.startswith("ProfilerStep") or evt.key.startswith("## "):
            continue
        name = evt.key.lower()
        bucket = next((cat for cat, keys in _CATEGORIES if any(k in name for k in keys)), "memory_bound")
        totals[bucket] += own
    busy = sum(totals.values())
    scale_to = max(busy, wall_us)  # CPU ops can overlap across threads: shares never exceed 1
    shares = {k: v / scale_to for k, v in totals.items()}
    idle = max(0.0, 1.0 - sum(shares.values()))
    where = "device kernels" if device else "CPU operators"
    return WasteBudget(**shares, idle=idle), f"waste budget from a torch.profiler trace of {steps} steps ({where}, self time by operator)"


def measure_pair(
    before: WorkloadConfig,
    after: WorkloadConfig,
    *,
    device: str,
    rounds: int,
    steps: int,
    warmup: int,
    run_ids: tuple[str, str],
    variants: tuple[str, str],
    scale: Scale = CPU_SCALE,
    seed: int = 0,
    target_half_width: float | None = None,
    max_seconds: float = 0.0,
) -> tuple[RunMetrics, RunMetrics]:
    """Before and after in one process, interleaved A B A B ... so that drift (clocks, thermals,
    other load) hits both alike; the round order alternates (AB, BA, ...) to cancel order effects.

    With `target_half_width`, rounds beyond `rounds` are added (runners/interleave.py) until the
    speedup's interval is that narrow or the next round would overrun `max_seconds`: the models
    are built and compiled once, so extra samples cost only their own steps.
    """
    import torch

    pa = _prepare(torch, before, device=device, scale=scale, seed=seed)
    pb = _prepare(torch, after, device=device, scale=scale, seed=seed)
    for _ in range(warmup):
        pa.one_step()
        pb.one_step()
    peaks: dict[str, float | None] = {"a": None, "b": None}  # keyed "a" (before), "b" (after)

    def once(prepared: _Prepared, key: str) -> Callable[[], list[float]]:
        def timed() -> list[float]:
            if prepared.dev.type == "cuda":
                torch.cuda.reset_peak_memory_stats(prepared.dev)
            samples = _timed(prepared, steps)
            peak = _peak(torch, prepared.dev)
            if peak is not None:
                peaks[key] = max(peaks[key] or 0.0, peak)
            return samples

        return timed

    done = interleave(once(pa, "a"), once(pb, "b"), rounds=rounds, target_half_width=target_half_width, max_seconds=max_seconds)
    a, b, r = done.a, done.b, done.rounds

    def result(w: WorkloadConfig, p: _Prepared, samples: list[float], i: int) -> RunMetrics:
        other = variants[1 - i]
        note = f"interleaved with {other}: {r} rounds of {steps} steps, alternating order"
        return _metrics(torch, w, p, samples, run_id=run_ids[i], variant=variants[i], device=device, scale=scale, peak=peaks["ab"[i]], extra=[note])

    return result(before, pa, a, 0), result(after, pb, b, 1)


def _device_name(torch: Any, dev: Any) -> str:
    if dev.type == "cuda":
        return str(torch.cuda.get_device_name(dev))
    return dev.type


def isolated_env() -> dict[str, str]:
    """The environment of a child Python goblin starts: the working directory never on sys.path
    (PYTHONSAFEPATH=1, also for the child's own children), and the folder that holds this
    pytest_goblin first on PYTHONPATH, so `-m pytest_goblin...` is the running goblin's."""
    root = str(Path(__file__).resolve().parents[2])  # the folder that holds pytest_goblin
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path, "PYTHONSAFEPATH": "1"}


class TorchRunner(BaseRunner):
    """Measured runs, each in a child process (`python -P -m pytest_goblin.runners.worker`) under a timeout.

    The child is isolated from the working directory, which may be an untrusted checkout with its
    own `pytest_goblin/runners/worker.py` (`python -m` puts the working directory first on
    sys.path, N4): `-P` and PYTHONSAFEPATH=1 keep it off sys.path (in the worker and in any
    process it starts, such as torch.compile's), the child runs in a private empty folder, and
    the folder that holds the running goblin comes first on PYTHONPATH, so the worker is the
    installed one (an editable install included)."""

    name = "torch"
    measured = True
    attribution = True

    def __init__(self, *, device: str | None = None, timeout_s: float = 300.0, warmup: int = 1, command: list[str] | None = None):
        self.device = device or ("cuda" if gpu_present() else "cpu")
        self.timeout_s = timeout_s
        self.warmup = warmup
        self.command = command or [sys.executable, "-P", "-m", "pytest_goblin.runners.worker"]

    def run(self, w: WorkloadConfig, hw: Hardware, *, run_id: str, variant: str, steps: int = 6, profile: bool = False) -> RunMetrics:
        request = {
            "workload": w.model_dump(),
            "device": self.device,
            "steps": steps,
            "warmup": self.warmup,
            "run_id": run_id,
            "variant": variant,
            "profile": profile,
        }
        reply = self._call(request, variant)
        return RunMetrics.model_validate(reply["metrics"])

    def profile(self, w: WorkloadConfig, hw: Hardware, *, run_id: str, variant: str) -> RunMetrics:
        """A measured run whose WasteBudget comes from a torch.profiler trace."""
        return self.run(w, hw, run_id=run_id, variant=variant, steps=2, profile=True)

    def run_pair(
        self,
        before: WorkloadConfig,
        after: WorkloadConfig,
        hw: Hardware,
        *,
        run_ids: tuple[str, str],
        variants: tuple[str, str],
        rounds: int,
        steps: int,
        target_half_width: float | None = None,
        max_seconds: float = 0.0,
    ) -> tuple[RunMetrics, RunMetrics]:
        """Before and after interleaved in one worker (A B B A ...), for drift-free ratios; with a
        target, the worker adds rounds until the interval is that narrow or max_seconds pass."""
        pair = {"before": before.model_dump(), "after": after.model_dump(), "run_ids": list(run_ids), "variants": list(variants)}
        request = {
            "pair": pair,
            "device": self.device,
            "rounds": rounds,
            "steps": steps,
            "warmup": self.warmup,
            "target_half_width": target_half_width,
            "max_seconds": max_seconds,
        }
        reply = self._call(request, f"{variants[0]} and {variants[1]}")
        return RunMetrics.model_validate(reply["before"]), RunMetrics.model_validate(reply["after"])

    def _call(self, request: dict[str, object], variant: str) -> dict[str, object]:
        try:
            with tempfile.TemporaryDirectory(prefix="goblin-worker-", ignore_cleanup_errors=True) as private:
                proc = subprocess.run(
                    self.command,
                    input=json.dumps(request),
                    capture_output=True,
                    text=True,
                    timeout=self.timeout_s,
                    env=isolated_env(),
                    cwd=private,
                )
        except subprocess.TimeoutExpired:
            raise BenchmarkFailed(f"benchmark of {variant} hung: no result within {self.timeout_s:.0f} s (goblin_budget_s)") from None
        try:
            reply = json.loads(proc.stdout or "{}")
        except json.JSONDecodeError:
            reply = {}
        if proc.returncode < 0:
            sig = -proc.returncode
            why = " (the kernel's out-of-memory killer sends SIGKILL)" if sig == 9 else ""
            raise BenchmarkFailed(f"benchmark of {variant} was killed by signal {sig}{why}")
        if not reply.get("ok"):
            err = reply.get("error") or (proc.stderr.strip().splitlines() or [f"the worker exited with status {proc.returncode} and no result"])[-1]
            raise BenchmarkFailed(f"benchmark of {variant} failed: {err}")
        return dict(reply)
