"""DeepSpeed JSON referenced from a config: read as data (json.loads), never executed.

Trainers resolve the path against the working directory, usually the repository root, so it is
looked up next to the config and then in each parent folder up to the repository root. A file
that cannot be found is not an error (CI checkouts often hold configs without their DeepSpeed
files): the ZeRO stage is then taken from the file name when it says one, and a note says so.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

MAX_BYTES = 1_000_000


def find(config_path: Path, ref: str) -> Path | None:
    p = Path(ref)
    if p.is_absolute():
        return p if p.is_file() else None
    folder = config_path.resolve().parent
    for parent in (folder, *folder.parents):
        candidate = parent / p
        if candidate.is_file():
            return candidate
        if (parent / ".git").exists():
            break
    return None


def _load(path: Path) -> Any:
    """A referenced file as data: JSON by its suffix, else safe YAML; raises on anything unreadable."""
    if path.stat().st_size > MAX_BYTES:
        raise ValueError(f"larger than {MAX_BYTES} bytes")
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".json":
        return json.loads(text)
    from ruamel.yaml import YAML

    return YAML(typ="safe", pure=True).load(text)


def read(config_path: Path, ref: str) -> tuple[dict[str, Any], str]:
    """Settings from the DeepSpeed file (`zero_stage`, `cpu_offload`), and a note."""
    path = find(config_path, ref)
    if path is None:
        m = re.search(r"(?:zero|_z)(\d)", Path(ref).name.lower())
        found: dict[str, Any] = {"zero_stage": int(m.group(1))} if m else {}
        if "offload" in ref.lower():
            found["cpu_offload"] = True
        guess = f"; ZeRO stage {found['zero_stage']} taken from its name" if m else "; ZeRO stage unknown"
        return found, f"DeepSpeed file {ref!r} was not found next to the config or in its parent folders{guess}"
    try:
        data = _load(path)
    except Exception as exc:  # unreadable: say so, audit the rest
        return {}, f"DeepSpeed file {path} could not be read ({exc}); ZeRO settings unknown"
    if not isinstance(data, dict):
        return {}, f"DeepSpeed file {path} is not a JSON object; ZeRO settings unknown"
    out: dict[str, Any] = {}
    zero = data.get("zero_optimization")
    if isinstance(zero, dict):
        stage = zero.get("stage")
        if isinstance(stage, int) and 0 <= stage <= 3:
            out["zero_stage"] = stage
        for key in ("offload_optimizer", "offload_param"):
            dev = zero.get(key, {}).get("device") if isinstance(zero.get(key), dict) else None
            if dev in ("cpu", "nvme"):
                out["cpu_offload"] = True
    return out, f"DeepSpeed settings read from {path}"


def read_fsdp_file(config_path: Path, ref: str) -> tuple[dict[str, Any], str]:
    """An FSDP config file referenced by `fsdp_config: path` (TrainingArguments accepts a JSON
    path; accelerate writes YAML): offload and activation checkpointing, read as data."""
    path = find(config_path, ref)
    if path is None:
        return {}, f"FSDP config {ref!r} was not found next to the config or in its parent folders; its settings are unknown"
    try:
        data = _load(path)
    except Exception as exc:  # unreadable: say so, audit the rest
        return {}, f"FSDP config {path} could not be read ({type(exc).__name__}); its settings are unknown"
    raw = data
    if isinstance(data, dict) and isinstance(data.get("fsdp_config"), dict):
        data = data["fsdp_config"]  # an accelerate config nests them
    if not isinstance(data, dict):
        return {}, f"FSDP config {path} is not a mapping; its settings are unknown"
    out: dict[str, Any] = {}
    for key in ("fsdp_offload_params", "offload_params"):
        if data.get(key) in (True, "true", "True"):
            out["cpu_offload"] = True
    if isinstance(raw, dict) and isinstance(raw.get("num_processes"), int) and raw["num_processes"] > 0:
        out["world_size"] = raw["num_processes"]  # accelerate config: processes over all machines
    for key in ("fsdp_activation_checkpointing", "activation_checkpointing"):
        if data.get(key) in (True, "true", "True"):
            out["gradient_checkpointing"] = True
    return out, f"FSDP settings read from {path}"
