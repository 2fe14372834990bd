"""Hugging Face TrainingArguments / TRL YAML (alignment-handbook style recipes)."""

from __future__ import annotations

from typing import Any

from ..schemas import ModelShape, WorkloadConfig
from .base import Adapter, Reader, as_bool, attention_from, model_from, positive
from .hfstyle import TA_DOCS, hf_writes, read_common, read_precision

TRAINING_KEYS = frozenset(
    {
        "per_device_train_batch_size",
        "gradient_accumulation_steps",
        "learning_rate",
        "num_train_epochs",
        "max_steps",
        "gradient_checkpointing",
        "optim",
        "lr_scheduler_type",
        "warmup_ratio",
    }
)
TRL_DOCS = "https://huggingface.co/docs/trl/sft_trainer#trl.SFTConfig"


class HFTrainerAdapter(Adapter):
    name = "hf-trainer"
    docs = TA_DOCS

    def detect(self, data: Any) -> int:
        if not isinstance(data, dict) or "model_name_or_path" not in data:
            return 0
        hits = len(TRAINING_KEYS & set(data))
        return 4 + hits if hits >= 2 else 0

    def model_shape(self, r: Reader) -> ModelShape:
        return model_from(r, "model_name_or_path")

    def read(self, r: Reader) -> None:
        d = r.data
        quant = "4bit" if as_bool(d.get("load_in_4bit", False) or False) else "8bit" if as_bool(d.get("load_in_8bit", False) or False) else "none"
        r.values["quantization"] = quant
        peft = as_bool(d.get("use_peft", False) or False)
        method = "qlora" if peft and quant != "none" else "lora" if peft else "full"
        if peft and as_bool(d.get("use_dora", False) or False):
            method = "dora"
        r.values["method"] = method
        read_precision(r)
        r.take(
            "seq_len",
            ("max_seq_length", "max_length", "model_max_length"),
            default=1024,
            note=f"TRL SFTConfig/DPOConfig max_length=1024 ({TRL_DOCS})",
            convert=positive,
        )
        r.take(
            "attention",
            ("attn_implementation",),
            default="sdpa",
            note="transformers picks SDPA when attn_implementation is unset (https://huggingface.co/docs/transformers/perf_infer_gpu_one#pytorch-scaled-dot-product-attention)",
            convert=attention_from,
        )
        r.take(
            "gradient_checkpointing",
            ("gradient_checkpointing",),
            default=False,
            note=f"TrainingArguments.gradient_checkpointing=False ({TA_DOCS})",
            convert=as_bool,
        )
        r.take("sample_packing", ("packing", "padding_free"), default=False, note=f"SFTConfig.packing=False ({TRL_DOCS})", convert=as_bool)
        read_common(r, batch_default=8, batch_note=f"TrainingArguments.per_device_train_batch_size=8 ({TA_DOCS})")

    def writes(self, field: str, value: Any, workload: WorkloadConfig, data: Any) -> dict[str, Any] | None:
        if field == "attention":
            return {"attn_implementation": {"flash": "flash_attention_2"}.get(value, value)}
        if field == "sample_packing":
            return {"packing": value}
        if field == "quantization" and value == "none":
            return {k: False for k in ("load_in_4bit", "load_in_8bit") if k in data} or None
        if field == "method" and value == "lora":
            return {"use_peft": True}
        return hf_writes(field, value, workload, data, batch_key="per_device_train_batch_size", liger_key="use_liger_kernel")
