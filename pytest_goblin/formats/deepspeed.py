"""DeepSpeed JSON referenced from a config: read as data (json.loads), never executed.

Trainers resolve the path against the working directory, usually the repository root, so it is
looked up next to the config and then in each parent folder up to the repository root. Only a
regular file whose real path lies inside the config's tree is read (see safepath); an absolute or
`../` path out of it is refused by name, and no line of a refused or unparsable file is quoted. A file
that cannot be found is not an error (CI checkouts often hold configs without their DeepSpeed
files): the ZeRO stage is then taken from the file name when it says one, and a note says so.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from pathlib import Path
from typing import Any

from ..redact import is_secret_name, masks_by_value
from ..safepath import UnsafePath, read_text, tree_of
from ..yamlio import key_line, learn_secrets

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
        data = json.loads(text)
    else:
        from ruamel.yaml import YAML

        data = YAML(typ="safe", pure=True).load(text)
    learn_secrets(path, _secret_values(data))
    return data


def _secret_values(data: Any) -> list[str]:
    """Every scalar under a secret name in a referenced file, as read and as JSON writes it (a
    quoted value with escapes), for redact.learn: a note or diff quoting the file must not quote them."""
    out: list[str] = []
    stack: list[tuple[Any, str | None]] = [(data, None)]
    while stack:
        node, name = stack.pop()
        if isinstance(node, dict):
            stack += [(v, k if isinstance(k, str) and is_secret_name(k) else name) for k, v in node.items()]
        elif isinstance(node, list):
            stack += [(v, name) for v in node]
        elif name and node is not None and not isinstance(node, bool) and masks_by_value(name, str(node)):
            out += [str(node), json.dumps(str(node))[1:-1]]
    return out


def _unreadable(kind: str, ref: str, exc: Exception) -> str:
    """A note that names the path and why it was refused, never a line of its content."""
    if isinstance(exc, UnsafePath):
        return f"{kind} {ref!r} was not read: {exc.reason}"
    return f"{kind} {ref!r} could not be parsed ({type(exc).__name__})"


# A ZeRO stage in a file name: zero2, zero_3, zero-stage3, stage2, z3, ds_z2 (not part of a word:
# "gpt2z3" is not a stage). The file's own `zero_optimization.stage` always wins over its name.
_STAGE_IN_NAME = re.compile(r"(?:zero|stage|(?<![a-z0-9])z)[_-]?(?:stage[_-]?)?([0-3])(?![0-9])")

OFFLOAD_BLOCKS = ("offload_optimizer", "offload_param")


def stage_from_name(ref: str) -> int | None:
    """The ZeRO stage a DeepSpeed file's name states (`zero2.json`, `ds_z3_offload.json`,
    `stage2.json`), or None when the name says none."""
    m = _STAGE_IN_NAME.search(Path(ref).name.lower())
    return int(m.group(1)) if m else None


def _from_name(ref: str, why: str) -> tuple[dict[str, Any], str]:
    """Settings taken from the file's name when its content cannot be read: the stage, and offload."""
    stage = stage_from_name(ref)
    found: dict[str, Any] = {"zero_stage": stage, "stage_from": "name"} if stage is not None else {}
    if "offload" in ref.lower():
        found["cpu_offload"] = True
    said = (
        f"; ZeRO stage {stage} read from the file name"
        if stage is not None
        else "; ZeRO stage unknown (not in the file name either): the projection assumes ZeRO-3"
    )
    return found, why + said


def _line_of(text: str, key: str) -> int | None:
    """1-based line of the first `"key"` in a JSON text (json.loads keeps no positions)."""
    at = text.find(f'"{key}"')
    return text.count("\n", 0, at) + 1 if at >= 0 else None


def _offloads(zero: Any) -> list[str]:
    """The offload blocks of a `zero_optimization` mapping that move something to the host (cpu or nvme)."""
    if not isinstance(zero, dict):
        return []
    return [k for k in OFFLOAD_BLOCKS if isinstance(zero.get(k), dict) and zero[k].get("device") in ("cpu", "nvme")]


def read(config_path: Path, ref: str) -> tuple[dict[str, Any], str]:
    """Settings from the DeepSpeed file: `zero_stage`, `cpu_offload`, `offload_params` (parameters on
    the host too), `offload_at` (file, dotted key, line of each offload device), and a note."""
    path = find(config_path, ref)
    if path is None:
        return _from_name(ref, f"DeepSpeed file {ref!r} was not found next to the config or in its parent folders")
    try:
        data = _load(config_path, path)
    except Exception as exc:  # unreadable or refused: say so, audit the rest
        return _from_name(ref, _unreadable("DeepSpeed file", ref, exc))
    if not isinstance(data, dict):
        return _from_name(ref, f"DeepSpeed file {ref!r} is not a JSON object")
    out: dict[str, Any] = {"content": True, "path": str(path)}  # read: the content, not the name, says whether it offloads
    note = f"DeepSpeed settings read from {ref}"
    zero = data.get("zero_optimization")
    stage = zero.get("stage") if isinstance(zero, dict) else None
    if isinstance(stage, int) and not isinstance(stage, bool) and 0 <= stage <= 3:
        out["zero_stage"] = stage
    else:
        named, said = _from_name(ref, f"DeepSpeed file {ref!r} states no ZeRO stage ({stage!r})")
        out.update({k: v for k, v in named.items() if k != "cpu_offload"})
        note = said
    out.update(zero_sharding(zero))
    blocks = _offloads(zero)
    if blocks:
        text = read_text(path, roots=tree_of(config_path), limit=MAX_BYTES) if path.suffix.lower() == ".json" else ""
        out["cpu_offload"] = True
        out["offload_params"] = "offload_param" in blocks
        out["offload_at"] = [(str(path), f"zero_optimization.{b}.device", _line_of(text, b) if text else None) for b in blocks]
    return out, note


def zero_sharding(zero: Any) -> dict[str, Any]:
    """Hierarchical ZeRO-3 partitioning a `zero_optimization` mapping asks for: ZeRO++ hpZ
    (`zero_hpz_partition_size` > 1: a secondary parameter partition of that many ranks; default 1,
    no hpZ) or MiCS (`mics_shard_size` > 0: every state sharded within that many ranks; default -1,
    off). DeepSpeed v0.19.5 deepspeed/runtime/zero/config.py:309 and :341."""
    if not isinstance(zero, dict):
        return {}
    for key, name, floor in (("mics_shard_size", "mics", 0), ("zero_hpz_partition_size", "hpz", 1)):
        value = zero.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > floor:
            return {"sharding": name, "shard_group": value, "sharding_key": f"zero_optimization.{key}"}
    return {}


# FSDP sharding strategies by name or by number (torch.distributed.fsdp.ShardingStrategy, numbered from 1
# as accelerate numbers them: accelerate 1.14.0 src/accelerate/utils/constants.py:38, dataclasses.py:1837-1843;
# torch 2.13.0 torch/distributed/fsdp/api.py:32-69).
_FSDP_STRATEGY = {
    "FULL_SHARD": "full",
    "1": "full",
    "SHARD_GRAD_OP": "grad_op",
    "2": "grad_op",
    "HYBRID_SHARD": "hybrid",
    "4": "hybrid",
    "HYBRID_SHARD_ZERO2": "hybrid_zero2",
    "_HYBRID_SHARD_ZERO2": "hybrid_zero2",
    "5": "hybrid_zero2",
}
FSDP_SHARDING_KEYS = ("fsdp_sharding_strategy", "sharding_strategy", "fsdp_reshard_after_forward", "reshard_after_forward")


def fsdp_sharding(mapping: Any) -> tuple[str, str] | None:
    """(sharding, key) an FSDP mapping (an fsdp_config, an accelerate config's fsdp_config) names:
    `fsdp_sharding_strategy` / `sharding_strategy` (FSDP1), or `reshard_after_forward` (FSDP2: false is
    SHARD_GRAD_OP's behaviour; FSDP1 takes a strategy name there, transformers 5.24.0
    training_args.py:2916-2931). None when it names none (or NO_SHARD, which is not sharding)."""
    if not isinstance(mapping, dict):
        return None
    for key in FSDP_SHARDING_KEYS:
        value = mapping.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or str(value).lower() in ("true", "false"):
            return ("full" if str(value).lower() == "true" else "grad_op"), key
        name = _FSDP_STRATEGY.get(str(value).strip().upper())
        if name is not None:
            return name, key
    return None


def non_offload_sibling(config_path: Path, ref: str, stage: int | None) -> str | None:
    """`ref` rewritten to name a DeepSpeed file beside it that reads as the same ZeRO stage with the
    same precision blocks and no offload (LLaMA-Factory's ds_z3_config.json beside
    ds_z3_offload_config.json); None when the folder has none. Only files inside the tree are read."""
    path = find(config_path, ref)
    if path is None or stage is None:
        return None
    try:
        data = _load(config_path, path)
        siblings = sorted(p for p in path.parent.iterdir() if p.suffix.lower() == ".json" and p.name != path.name)[:200]
    except Exception:
        return None
    if not isinstance(data, dict):
        return None
    want = re.sub(r"[_-]?(cpu[_-]?)?offload(ing)?(_all)?", "", path.name.lower())
    best: tuple[float, str] | None = None
    for p in siblings:
        try:
            other = _load(config_path, p)
        except Exception:
            continue
        if not isinstance(other, dict) or not isinstance(other.get("zero_optimization"), dict):
            continue
        zero = other["zero_optimization"]
        if zero.get("stage") != stage or _offloads(zero) or "offload" in p.name.lower():
            continue
        if any(other.get(k) != data.get(k) for k in ("bf16", "fp16")):
            continue  # another precision would change more than the offload
        score = difflib.SequenceMatcher(None, want, p.name.lower()).ratio()
        if best is None or score > best[0]:
            best = (score, p.name)
    if best is None:
        return None
    name = Path(ref).name
    return ref[: len(ref) - len(name)] + best[1]


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
    nested = isinstance(raw, dict) and raw.get("fsdp_config") is data
    for key in ("fsdp_offload_params", "offload_params"):
        if data.get(key) in (True, "true", "True"):
            # FSDP's CPUOffload(offload_params=True): parameters, gradients and the optimizer step on the host
            out["cpu_offload"] = out["offload_params"] = True
            out["offload_at"] = [(str(path), f"fsdp_config.{key}" if nested else key, key_line(data, key))]
    if isinstance(raw, dict) and isinstance(raw.get("num_processes"), int) and raw["num_processes"] > 0:
        out["world_size"] = raw["num_processes"]  # accelerate config: processes over all machines
    for key in ("fsdp_activation_checkpointing", "activation_checkpointing"):
        if data.get(key) in (True, "true", "True"):
            out["activation_checkpointing"] = (str(path), f"fsdp_config.{key}" if nested else key, key_line(data, key))
    named = fsdp_sharding(data)
    if named is not None:
        out["sharding"] = named[0]
        out["sharding_key"] = f"fsdp_config.{named[1]}" if nested else named[1]
    return out, f"FSDP settings read from {ref}"
