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
# TrainingArguments-only files (no model key; the script names the model): collected when they
# carry at least MIN_TA_HITS of these TrainingArguments fields, one of them a batch key. Field names
# introspected from transformers 5.24.0 (dataclasses.fields(TrainingArguments)).
TA_ONLY_KEYS = frozenset(
    {
        "per_device_train_batch_size",
        "gradient_accumulation_steps",
        "learning_rate",
        "num_train_epochs",
        "max_steps",
        "activation_checkpointing",
        "gradient_checkpointing",
        "optim",
        "lr_scheduler_type",
        "warmup_steps",
        "bf16",
        "fp16",
        "logging_steps",
        "output_dir",
        "save_strategy",
    }
)
TA_BATCH_KEYS = frozenset({"per_device_train_batch_size", "gradient_accumulation_steps"})
MIN_TA_HITS = 3
# transformers 5.24.0 training_args.py:907-936 adds `activation_checkpointing` and keeps
# `gradient_checkpointing` as a deprecated alias (removed in v6); when both are set the new name
# wins (training_args.py:1533-1545).
CHECKPOINT_KEYS = ("activation_checkpointing", "gradient_checkpointing")
TRL_DOCS = "https://huggingface.co/docs/trl/sft_trainer#trl.SFTConfig"


def checkpoint_key(data: Any) -> str:
    """The key a checkpointing edit goes to: the one the file already uses, else the name the
    installed transformers reads without a deprecation warning (4.x has only the old name)."""
    for key in CHECKPOINT_KEYS:
        if isinstance(data, dict) and key in data:
            return key
    from importlib.metadata import PackageNotFoundError, version

    try:
        major = int(version("transformers").split(".")[0])
    except (PackageNotFoundError, ValueError):
        return "gradient_checkpointing"  # accepted by transformers 4.x and, as an alias, by 5.x
    return "activation_checkpointing" if major >= 5 else "gradient_checkpointing"


class HFTrainerAdapter(Adapter):
    name = "hf-trainer"
    docs = TA_DOCS

    def detect(self, data: Any) -> int:
        if not isinstance(data, dict):
            return 0
        if "model_name_or_path" not in data:
            keys = set(data)
            hits = len(TA_ONLY_KEYS & keys)
            return 2 + hits if hits >= MIN_TA_HITS and keys & TA_BATCH_KEYS else 0
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
            CHECKPOINT_KEYS,
            default=False,
            note=f"TrainingArguments.activation_checkpointing=False, transformers 5.24 ({TA_DOCS})",
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
        return hf_writes(
            field, value, workload, data, batch_key="per_device_train_batch_size", checkpoint_key=checkpoint_key(data), liger_key="use_liger_kernel"
        )
