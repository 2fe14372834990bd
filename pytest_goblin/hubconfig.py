"""Model shapes from a model's own config.json: the local Hugging Face cache (offline, always
tried), or the Hub itself when `--goblin-hub` / GOBLIN_HUB=1 allows a download at run time.

config.json is data (json.loads); no model code is fetched or run.
"""

from __future__ import annotations

import json
import os
import re
import stat
from functools import lru_cache
from pathlib import Path
from typing import Any

from .schemas import ModelShape

_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")


def hub_cache() -> Path:
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    home = Path(os.environ.get("HF_HOME") or Path.home() / ".cache" / "huggingface")
    return home / "hub"


def _cached_config(repo_id: str) -> dict[str, Any] | None:
    folder = hub_cache() / f"models--{repo_id.replace('/', '--')}" / "snapshots"
    if not folder.is_dir():
        return None
    for snapshot in sorted(folder.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True):
        path = snapshot / "config.json"
        if path.is_file() and path.stat().st_size < 1_000_000:
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(data, dict):
                return data
    return None


def _downloaded_config(repo_id: str) -> dict[str, Any] | None:
    if os.environ.get("GOBLIN_HUB") != "1" or os.environ.get("HF_HUB_OFFLINE") == "1":
        return None
    try:
        from huggingface_hub import hf_hub_download
    except ImportError:
        return None
    try:
        path = hf_hub_download(repo_id, "config.json")
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except Exception:  # gated, missing, offline: fall back to the table and the name
        return None
    return data if isinstance(data, dict) else None


def shape_from_config(name: str, cfg: dict[str, Any]) -> ModelShape | None:
    """Layers, widths and a parameter count (dense or MoE) from a transformers config.json."""
    nested = cfg.get("text_config")
    text: dict[str, Any] = nested if isinstance(nested, dict) else cfg
    try:
        layers = int(text["num_hidden_layers"])
        hidden = int(text["hidden_size"])
        heads = int(text["num_attention_heads"])
    except (KeyError, TypeError, ValueError):
        return None
    kv = int(text.get("num_key_value_heads") or heads)
    vocab = int(text.get("vocab_size") or 32000)
    inter = int(text.get("intermediate_size") or 4 * hidden)
    head_dim = int(text.get("head_dim") or hidden // heads)
    attn = hidden * head_dim * (2 * heads + 2 * kv)
    experts = int(text.get("num_local_experts") or text.get("num_experts") or text.get("n_routed_experts") or 0)
    active_experts = int(text.get("num_experts_per_tok") or 0)
    expert_inter = int(text.get("moe_intermediate_size") or inter)
    shared = int(text.get("n_shared_experts") or 0)
    embed = vocab * hidden * (1 if text.get("tie_word_embeddings", cfg.get("tie_word_embeddings", False)) else 2)
    if experts:
        total_mlp = 3 * hidden * expert_inter * (experts + shared)
        active_mlp = 3 * hidden * expert_inter * (max(active_experts, 1) + shared)
        params = layers * (attn + total_mlp) + embed
        active = layers * (attn + active_mlp) + embed
    else:
        params = layers * (attn + 3 * hidden * inter) + embed
        active = None
    return ModelShape(
        name=name,
        family=str(text.get("model_type") or cfg.get("model_type") or "unknown").replace("_", "-"),  # gpt_oss -> gpt-oss, as in the table
        params_b=_billions(params),
        active_params_b=_billions(active) if active else None,
        n_experts=experts or None,
        experts_per_token=active_experts or None,
        n_layers=layers,
        hidden=hidden,
        n_heads=heads,
        n_kv_heads=kv,
        intermediate=expert_inter if experts else inter,
        vocab=vocab,
        known=True,
    )


def _billions(params: int) -> float:
    """Billions of parameters: two decimals for real models, six significant digits for tiny ones
    (a 0.1M-parameter test model must not round to 0.0B)."""
    return round(params / 1e9, 2) if params >= 1e8 else float(f"{params / 1e9:.6g}")


MAX_HEADER = 100_000_000  # a safetensors JSON header larger than this is not one
MAX_SHARDS = 256


def count_safetensors(folder: Path) -> int | None:
    """Exact parameter count from the safetensors headers beside a config.json (only the JSON
    header of each file is read; the weights are not loaded)."""
    import struct

    files = sorted(folder.glob("*.safetensors"))[:MAX_SHARDS]
    if not files:
        return None
    total = 0
    for path in files:
        try:
            with open(path, "rb") as f:
                (size,) = struct.unpack("<Q", f.read(8))
                if size > MAX_HEADER:
                    return None
                header = json.loads(f.read(size))
        except (OSError, ValueError, struct.error):
            return None
        for name, entry in header.items():
            if name == "__metadata__" or not isinstance(entry, dict):
                continue
            n = 1
            for dim in entry.get("shape", []):
                n *= int(dim)
            total += n
    return total


def shape_from_local(name: str, base: Path | None) -> ModelShape | None:
    """The shape of a model kept in a local folder (`model_name_or_path: ./my-model`): its
    config.json, and the exact parameter count from its safetensors headers when present.

    Asked for every config read and every patch read back, almost always of a Hub id with no
    such folder: the candidates are checked with os.stat on strings, not pathlib objects."""
    if os.path.isabs(name):
        candidates = [name]
    else:  # relative to where the training runs (the working directory) or to the config and its parents
        roots = [os.getcwd()]
        if base is not None:
            folder = str(base)
            roots.append(folder)
            for _ in range(3):
                folder = os.path.dirname(folder) or "."
                roots.append(folder)
        candidates = [os.path.join(root, name) for root in roots]
    for folder in candidates:
        path = os.path.join(folder, "config.json")
        try:
            info = os.stat(path)
            if not stat.S_ISREG(info.st_mode) or info.st_size > 1_000_000:
                continue
            with open(path, encoding="utf-8") as f:
                data = json.loads(f.read())
        except (OSError, ValueError):
            continue
        shape = shape_from_config(name, data) if isinstance(data, dict) else None
        if shape is None:
            continue
        exact = count_safetensors(Path(folder))
        if exact:
            shape = shape.model_copy(update={"params_b": _billions(exact)})
        return shape
    return None


@lru_cache(maxsize=256)
def shape_from_hub(name: str) -> ModelShape | None:
    """The shape from the model's config.json, when `name` is a Hub id we can read offline (or may download)."""
    if not _REPO_ID.match(name):
        return None
    cfg = _cached_config(name) or _downloaded_config(name)
    return shape_from_config(name, cfg) if cfg else None
