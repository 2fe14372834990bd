"""The native `goblin` format: a workload described directly, for training code that uses none
of the supported trainers. Keys are the workload's own field names; an absent key takes the
field's default (documented in the README), and `model_shape` describes a model the built-in
table does not know.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from ..errors import ConfigError
from ..modelzoo import lookup_model_noted
from ..schemas import FieldSource, ModelShape, WorkloadConfig
from .base import MAX_COUNT, Adapter, Reader

DOCS = "README, 'The native goblin format'"
# a KD teacher (`teacher`, `teacher_unsharded`) is read from torchtune KD recipes only, not from a goblin file
FIELDS = [
    name
    for name in WorkloadConfig.model_fields
    if name not in {"path", "format", "framework", "model", "env", "ignored_rules", "sources", "notes", "teacher", "teacher_unsharded"}
]
_COUNTS = {
    "seq_len",
    "micro_batch_size",
    "gradient_accumulation",
    "dataloader_workers",
    "world_size",
    "context_parallel",
    "tensor_parallel",
    "pipeline_parallel",
    "virtual_pipeline",
}
# The parallel degrees under the names Megatron-Core's ModelParallelConfig gives them (NVIDIA/Megatron-LM
# megatron/core/model_parallel_config.py @02aa3ee: tensor_model_parallel_size, pipeline_model_parallel_size,
# virtual_pipeline_model_parallel_size, context_parallel_size, expert_model_parallel_size; NeMo's YAML uses
# the same names) and torchtitan's [parallelism] section (pytorch/torchtitan torchtitan/config/job_config.py
# @000204a, class Parallelism: tensor_parallel_degree, pipeline_parallel_degree, context_parallel_degree,
# expert_parallel_degree); the goblin name wins where both are present.
ALIASES: dict[str, tuple[str, ...]] = {
    "tensor_parallel": ("tensor_model_parallel_size", "tensor_parallel_degree"),
    "pipeline_parallel": ("pipeline_model_parallel_size", "pipeline_parallel_degree"),
    "virtual_pipeline": ("virtual_pipeline_model_parallel_size",),
    "context_parallel": ("context_parallel_size", "context_parallel_degree"),
    "expert_parallel": ("expert_model_parallel_size", "expert_parallel_degree"),
}


class GoblinAdapter(Adapter):
    name = "goblin"
    docs = DOCS

    def detect(self, data: Any) -> int:
        return 100 if isinstance(data, dict) and "goblin" in data else 0

    def model_shape(self, r: Reader) -> ModelShape:
        key, value, line = r.raw("model")
        if key is None:
            raise ConfigError(r.path, "a goblin config needs `model` (a Hugging Face id or a name)", hint="add `model: meta-llama/Llama-3.1-8B`")
        r.sources["model"] = FieldSource(file=r.path, key=key, line=line, explicit=True)
        shape, unread = lookup_model_noted(str(value), Path(r.path).parent)
        if unread:
            r.notes.append(unread)
        _k, given, shape_line = r.raw("model_shape")
        if isinstance(given, dict):
            try:
                explicit = ModelShape.model_validate({"name": str(value), **given})
            except ValidationError as exc:
                first = exc.errors()[0]
                raise ConfigError(
                    r.path, f"`model_shape.{'.'.join(str(p) for p in first['loc'])}`: {first['msg']}", line=shape_line, hint="see the README"
                ) from None
            merged = {**shape.model_dump(), **{k: v for k, v in explicit.model_dump().items() if v is not None and k in given}}
            merged["known"] = bool(merged.get("params_b") and merged.get("n_layers") and merged.get("hidden"))
            merged["inferred"] = None  # the file states the shape: nothing is taken from a base model's name
            shape = ModelShape.model_validate(merged)
        return shape

    def read(self, r: Reader) -> None:
        for name in FIELDS:
            annotation = WorkloadConfig.model_fields[name].annotation
            default = WorkloadConfig.model_fields[name].default
            r.take(name, (name, *ALIASES.get(name, ())), default=default, note=f"goblin format default ({DOCS})", convert=_validator(name, annotation))

    def writes(self, field: str, value: Any, workload: WorkloadConfig, data: Any) -> dict[str, Any] | None:
        return {field: value} if field in FIELDS else None


def _validator(name: str, annotation: Any) -> Any:
    adapter: TypeAdapter[Any] = TypeAdapter(annotation)

    def convert(value: Any) -> Any:
        try:
            out = adapter.validate_python(value, strict=isinstance(value, bool) and annotation is int)
        except ValidationError as exc:
            raise ValueError(exc.errors()[0]["msg"]) from None
        if name in _COUNTS and isinstance(out, int) and not (0 if name == "dataloader_workers" else 1) <= out <= MAX_COUNT:
            raise ValueError(f"{out} is out of range")
        return out

    return convert
