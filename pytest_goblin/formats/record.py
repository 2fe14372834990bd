"""`goblin parse --json`: the public, documented record of how one file was read.

One JSON object per file, keys in a fixed order: the summary fields first (what a reviewer or a
scoring script checks), then the rest of the normalized workload, its model shape, and where
every value came from.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ..errors import ConfigError, NotATrainingConfig
from ..schemas import WorkloadConfig

SUMMARY = (
    "path",
    "format",
    "framework",
    "reason",
    "model",
    "micro_batch_size",
    "gradient_accumulation_steps",
    "seq_len",
    "precision",
    "gradient_checkpointing",
    "quantization_bits",
)
_RENAMED = {"gradient_accumulation": "gradient_accumulation_steps"}
_SKIP = {"path", "format", "model", "sources", "notes", "ignored_rules", "env", "quantization"}


def workload_record(path: str, w: WorkloadConfig) -> dict[str, Any]:
    out: dict[str, Any] = {
        "path": path,
        "format": w.format,
        "framework": None,  # filled from framework_version below: the release the run uses, not goblin's tables
        "reason": None,
        "model": w.model.name,
        "micro_batch_size": w.micro_batch_size,
        "gradient_accumulation_steps": w.gradient_accumulation,
        "seq_len": w.seq_len,
        "precision": w.precision,
        "gradient_checkpointing": w.gradient_checkpointing,
        "quantization_bits": {"4bit": 4, "8bit": 8}.get(w.quantization),
    }
    for name in WorkloadConfig.model_fields:
        key = _RENAMED.get(name, name)
        if name not in _SKIP and key not in out:
            value = getattr(w, name)
            # a nested model (stated_gpu, vision) as its fields, not its repr (issue 23: stated_gpu read as a string)
            out[key] = value.model_dump() if isinstance(value, BaseModel) else value
    out["env"] = dict(w.env)
    out["model_shape"] = w.model.model_dump()
    out["teacher"] = w.teacher.model_dump() if w.teacher is not None else None  # a KD recipe's teacher shape, as model_shape
    out["ignored_rules"] = list(w.ignored_rules)
    out["framework_version"] = framework_version(path, w)
    out["framework"] = framework_label(path, w)
    out["sources"] = {_RENAMED.get(k, k): s.model_dump() for k, s in sorted(w.sources.items())}
    out["notes"] = list(w.notes)
    return out


def framework_version(path: str, w: WorkloadConfig) -> dict[str, object] | None:
    """The framework release the config is read as and where that came from (frameworks/pins.py)."""
    from ..frameworks.history import reading

    got = reading(w.framework, w.path)
    return got.record() if got is not None else None


def framework_label(path: str, w: WorkloadConfig) -> str | None:
    """The `framework` field: the framework at the release the run uses and where that came from (the same reading as
    `framework_version`), then what the file is read as. The workload's own label names the release of goblin's tables
    (`transformers 5.25.0 (TrainingArguments)`); review6b #29/#31 read a `transformers==4.31.0` recipe whose parse
    output named only that, so the field now reads `transformers 4.31.0 (transformers==4.31.0, requirements.txt:2);
    goblin's transformers tables were read at 5.25.0; read as TrainingArguments`."""
    from ..frameworks.history import reading

    got = reading(w.framework, w.path)
    if got is None or not w.framework:
        return w.framework
    what = [g for g in _groups(w.framework) if not re.fullmatch(r"[0-9a-f]{7,40}", g)]  # axolotl's tables commit: the tables'
    return f"{got.note()}; read as {', '.join(what)}" if what else got.note()


def _groups(label: str) -> list[str]:
    """The top-level parenthesized groups of a workload's framework label (`axolotl 0.18.0 (067b021c8b) (rl dpo)`)."""
    out: list[str] = []
    depth, start = 0, 0
    for i, ch in enumerate(label):
        if ch == "(":
            depth += 1
            if depth == 1:
                start = i + 1
        elif ch == ")" and depth:
            depth -= 1
            if depth == 0 and (inner := label[start:i].strip()):
                out.append(inner)
    return out


def not_collected_record(path: Path, reason: str) -> dict[str, Any]:
    """The record of a file that is not a training config, and why."""
    return {**dict.fromkeys(SUMMARY), "path": str(path), "format": None, "reason": reason}


def parse_record(path: Path, world_size: int | None = None) -> tuple[dict[str, Any], bool]:
    """(the record, whether the file could be read); never raises for a bad file. `world_size` is
    goblin_world_size / --world-size: the record shows the workload as the audit would run it."""
    from . import load_config
    from .semantics import with_world_size

    try:
        loaded = load_config(path)
    except NotATrainingConfig as exc:
        return not_collected_record(path, exc.reason), True
    except ConfigError as exc:
        return {**dict.fromkeys(SUMMARY), "path": str(path), "format": None, "reason": None, "error": str(exc)}, False
    return workload_record(str(path), with_world_size(loaded.workload, world_size, "--world-size")), True
