"""DeepSpeed JSON referenced from a config: read as data (json.loads), never executed.

Trainers resolve the path against the working directory, usually the repository root, so it is
looked up next to the config and then in each parent folder up to the repository root. Only a
regular file whose real path lies inside the config's tree is read (see safepath); an absolute or
`../` path out of it is refused by name, and no line of a refused or unparsable file is quoted. A file
that cannot be found is not an error (CI checkouts often hold configs without their DeepSpeed
files): the ZeRO stage is then taken from the file name when it says one, and a note says so.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from ..safepath import UnsafePath, read_text, tree_of
from ..yamlio import key_line

MAX_BYTES = 1_000_000


def find(config_path: Path, ref: str) -> Path | None:
    """The referenced file, looked up next to the config and in each parent folder up to the
    repository root; only candidates whose real path stays inside the config's tree count."""
    p = Path(ref)
    roots = tree_of(config_path)
    if p.is_absolute():
        return p  # read() refuses it unless it lies inside the tree, whether it exists or not
    folder = Path(os.path.realpath(os.path.abspath(config_path))).parent
    for parent in (folder, *folder.parents):
        if not any(parent.is_relative_to(r) for r in roots):
            break
        candidate = Path(os.path.normpath(parent / p))
        if not any(candidate.is_relative_to(r) for r in roots) or candidate.exists() or candidate.is_symlink():
            return candidate  # leaving the tree is refused by name, not probed
        if (parent / ".git").exists():
            break
    return None


def _load(config_path: Path, path: Path) -> Any:
    """A referenced file as data: JSON by its suffix, else safe YAML; raises on anything unreadable.

    Read through safepath: inside the config's tree, a regular file, at most MAX_BYTES.
    """
    text = read_text(path, roots=tree_of(config_path), limit=MAX_BYTES)
    if path.suffix.lower() == ".json":
        return json.loads(text)
    from ruamel.yaml import YAML

    return YAML(typ="safe", pure=True).load(text)


def _unreadable(kind: str, ref: str, exc: Exception) -> str:
    """A note that names the path and why it was refused, never a line of its content."""
    if isinstance(exc, UnsafePath):
        return f"{kind} {ref!r} was not read: {exc.reason}"
    return f"{kind} {ref!r} could not be parsed ({type(exc).__name__})"


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
        data = _load(config_path, path)
    except Exception as exc:  # unreadable or refused: say so, audit the rest
        return {}, _unreadable("DeepSpeed file", ref, exc) + "; ZeRO settings unknown"
    if not isinstance(data, dict):
        return {}, f"DeepSpeed file {ref!r} is not a JSON object; ZeRO settings unknown"
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
    return out, f"DeepSpeed settings read from {ref}"


def read_fsdp_file(config_path: Path, ref: str) -> tuple[dict[str, Any], str]:
    """An FSDP config file referenced by `fsdp_config: path` (TrainingArguments accepts a JSON
    path; accelerate writes YAML): offload and activation checkpointing, read as data."""
    path = find(config_path, ref)
    if path is None:
        return {}, f"FSDP config {ref!r} was not found next to the config or in its parent folders; its settings are unknown"
    try:
        data = _load(config_path, path)
    except Exception as exc:  # unreadable or refused: say so, audit the rest
        return {}, _unreadable("FSDP config", ref, exc) + "; its settings are unknown"
    raw = data
    if isinstance(data, dict) and isinstance(data.get("fsdp_config"), dict):
        data = data["fsdp_config"]  # an accelerate config nests them
    if not isinstance(data, dict):
        return {}, f"FSDP config {ref!r} is not a mapping; its settings are unknown"
    out: dict[str, Any] = {}
    for key in ("fsdp_offload_params", "offload_params"):
        if data.get(key) in (True, "true", "True"):
            out["cpu_offload"] = True
    if isinstance(raw, dict) and isinstance(raw.get("num_processes"), int) and raw["num_processes"] > 0:
        out["world_size"] = raw["num_processes"]  # accelerate config: processes over all machines
    for key in ("fsdp_activation_checkpointing", "activation_checkpointing"):
        if data.get(key) in (True, "true", "True"):
            nested = isinstance(raw, dict) and raw.get("fsdp_config") is data
            out["activation_checkpointing"] = (str(path), f"fsdp_config.{key}" if nested else key, key_line(data, key))
    return out, f"FSDP settings read from {ref}"
