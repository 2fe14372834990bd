"""LLaMA-Factory YAML: the classic layout (`stage:`, `finetuning_type:`) and the v1 layout (`model:`, `dist_config:`).

Defaults: https://github.com/hiyouga/LLaMA-Factory/blob/main/src/llamafactory/hparams/finetuning_args.py
and model_args.py / data_args.py beside it.
"""

from __future__ import annotations

from typing import Any

from ..schemas import ModelShape, WorkloadConfig
from .base import Adapter, Reader, as_bool, model_from, positive
from .hfstyle import hf_writes, read_common, read_precision

HPARAMS = "https://github.com/hiyouga/LLaMA-Factory/blob/main/src/llamafactory/hparams"
_CLASSIC = frozenset({"stage", "finetuning_type", "template", "cutoff_len", "lora_target", "dataset"})
_V1 = frozenset({"micro_batch_size", "peft_config", "dist_config", "kernel_config", "train_dataset", "model_class"})
_FLASH = {"auto": "sdpa", "disabled": "eager", "sdpa": "sdpa", "fa2": "flash", "fa3": "flash"}


class LlamaFactoryAdapter(Adapter):
    name = "llamafactory"
    docs = HPARAMS

    def detect(self, data: Any) -> int:
        if not isinstance(data, dict):
            return 0
        keys = set(data)
        if "model_name_or_path" in keys and len(_CLASSIC & keys) >= 1:
            return 8 + len(_CLASSIC & keys)
        if isinstance(data.get("model"), str) and len(_V1 & keys) >= 1:
            return 8 + len(_V1 & keys)
        return 0

    def not_training(self, data: Any) -> str | None:
        if "export_dir" in data:
            return "LLaMA-Factory export/merge config (`export_dir`)"
        if "infer_backend" in data:
            return "LLaMA-Factory inference config (`infer_backend`)"
        if self._v1(data):
            if "train_dataset" not in data:
                return "LLaMA-Factory v1 config without `train_dataset`"
            return None
        if data.get("do_train") is not True and (data.get("do_predict") or data.get("do_eval")):
            return "LLaMA-Factory prediction or evaluation run (`do_predict`/`do_eval` without `do_train: true`)"
        if data.get("do_train") is False or ("stage" not in data and "do_train" not in data):
            return "LLaMA-Factory config without `stage`/`do_train: true` (inference or evaluation)"
        return None

    @staticmethod
    def _v1(data: Any) -> bool:
        return isinstance(data.get("model"), str) and "model_name_or_path" not in data

    def model_shape(self, r: Reader) -> ModelShape:
        return model_from(r, "model_name_or_path", "model")

    def read(self, r: Reader) -> None:
        if self._v1(r.data):
            self._read_v1(r)
            return
        d = r.data
        quant = r.take(
            "quantization",
            ("quantization_bit",),
            default="none",
            note=f"quantization_bit unset: no quantization ({HPARAMS}/model_args.py)",
            convert=lambda v: "4bit" if positive(v) <= 4 else "8bit",
        )
        ftype = str(d.get("finetuning_type", "lora")).lower()
        method = {"full": "full", "freeze": "full"}.get(ftype, "lora")
        if method == "lora" and quant != "none":
            method = "qlora"
        if method == "lora" and as_bool(d.get("use_dora") or False):
            method = "dora"
        key, _, line = r.raw("finetuning_type")
        if key:
            r.explicit("method", method, key, line)
        else:
            r.default("method", method, f"finetuning_type default lora ({HPARAMS}/finetuning_args.py)")
        read_precision(r)
        r.take("seq_len", ("cutoff_len",), default=2048, note=f"cutoff_len default 2048 ({HPARAMS}/data_args.py)", convert=positive)
        r.take(
            "attention",
            ("flash_attn",),
            default="sdpa",
            note=f"flash_attn default auto: SDPA where available ({HPARAMS}/model_args.py)",
            convert=lambda v: _FLASH.get(str(v).lower(), "sdpa"),
        )
        key, value, line = r.raw("disable_gradient_checkpointing")
        if key is not None:
            r.explicit("gradient_checkpointing", not as_bool(value), key, line)
        else:
            r.default(
                "gradient_checkpointing",
                True,
                f"LLaMA-Factory turns gradient checkpointing on unless disable_gradient_checkpointing: true ({HPARAMS}/model_args.py)",
            )
        r.take(
            "sample_packing",
            ("packing", "neat_packing"),
            default=str(d.get("stage", "")) == "pt",
            note=f"packing defaults to on for stage pt only ({HPARAMS}/data_args.py)",
            convert=as_bool,
        )
        read_common(r, batch_default=8, batch_note=f"per_device_train_batch_size default 8 (TrainingArguments; {HPARAMS}/training_args.py)")

    def _read_v1(self, r: Reader) -> None:
        d = r.data
        peft = d.get("peft_config")
        method = "full"
        if isinstance(peft, dict):
            method = "lora" if str(peft.get("name", "lora")).lower() in {"lora", "dora"} else "full"
        r.values["method"] = method
        r.values["quantization"] = "none"
        read_precision(r, default="bf16", note=f"LLaMA-Factory v1 trains in bf16 unless told otherwise ({HPARAMS})")
        r.take("seq_len", ("cutoff_len",), default=2048, note=f"cutoff_len default 2048 ({HPARAMS})", convert=positive)
        r.default("attention", "sdpa", f"v1 kernel_config selects kernels; attention defaults to SDPA ({HPARAMS})")
        r.take("gradient_checkpointing", ("gradient_checkpointing",), default=False, note=f"v1 default ({HPARAMS})", convert=as_bool)
        dist = d.get("dist_config")
        if isinstance(dist, dict) and dist.get("name"):
            name = str(dist["name"]).lower()
            r.explicit("strategy", "deepspeed" if "deepspeed" in name else "fsdp", "dist_config.name", None)
        read_common(r, batch_default=1, batch_note=f"v1 micro_batch_size default 1 ({HPARAMS})")

    def writes(self, field: str, value: Any, workload: WorkloadConfig, data: Any) -> dict[str, Any] | None:
        v1 = self._v1(data)
        if field == "attention" and not v1:
            return {"flash_attn": {"flash": "fa2", "sdpa": "sdpa", "eager": "disabled"}[value]}
        if field == "gradient_checkpointing" and not v1:
            return {"disable_gradient_checkpointing": not value}
        if field == "sample_packing" and not v1:
            return {"packing": value}
        if field == "quantization" and value == "none" and not v1:
            return {"quantization_bit": None}
        if field == "method" and value == "lora" and not v1:
            return {"finetuning_type": "lora"}
        return hf_writes(field, value, workload, data, batch_key="micro_batch_size" if v1 else "per_device_train_batch_size", liger_key="enable_liger_kernel")
