"""The projection runner: a RunMetrics from the cost model, for CI machines without a GPU."""

from __future__ import annotations

from ..costmodel import FP32_RATIO, data_tokens_per_step, step, throughput_range
from ..modelzoo import unmodelled_architecture
from ..schemas import Hardware, RunMetrics, ThroughputInterval, WorkloadConfig
from .base import BaseRunner


class ProjectionRunner(BaseRunner):
    """No device: the cost model's step for the target GPU; a profile is the same run (its waste budget is modelled)."""

    name = "projection"

    def run(self, w: WorkloadConfig, hw: Hardware, *, run_id: str, variant: str, steps: int = 1) -> RunMetrics:
        m = step(w, hw)
        tokens = data_tokens_per_step(w)  # the dataset's sampled lengths where read: pad tokens are not data
        rate = throughput_range(w, hw)
        notes = []
        if w.precision == "fp32" and hw.fp32_tflops is None:
            notes.append(f"{hw.id} has no sourced fp32 peak: bf16 peak / {FP32_RATIO:g} assumed (the MI300X ratio)")
        if not w.model.known:
            why = unmodelled_architecture(w.model)
            notes.append(
                f"model {w.model.name!r}: {why}, which the cost model cannot express: a generic Llama-like shape was assumed"
                if why is not None
                else f"model {w.model.name!r} is not in the shape table: a generic Llama-like shape was assumed"
            )
        return RunMetrics(
            run_id=run_id,
            variant=variant,
            evidence="projected",
            runner=self.name,
            device=hw.id,
            step_time_s=[m.step_s],
            tokens_per_step=tokens,
            tokens_per_s=tokens / m.step_s,
            samples_per_s=w.micro_batch_size * w.gradient_accumulation / m.step_s,
            peak_memory_gb=round(m.peak_memory_gb, 1),
            mfu=m.model_flops / (m.step_s * hw.bf16_tflops * 1e12),
            waste=m.waste,
            tokens_per_s_interval=ThroughputInterval(nominal=rate.nominal, low=rate.low, high=rate.high, widened=list(rate.widened)),
            versions={"projection": "3"},
            notes=notes,
        )
