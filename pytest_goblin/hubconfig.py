"""Model shapes from a model's own config.json: a model folder inside the audited tree, the local
Hugging Face cache (offline, always tried), or the Hub itself when `--goblin-hub` / GOBLIN_HUB=1
allows a download at run time.

config.json is data (json.loads); no model code is fetched or run. Every file is opened through
`safepath.read_bytes` (a regular file, non-blocking, under a size limit): a model folder named by
a config must lie inside that config's tree (`safepath.tree_of`), as a `deepspeed:` file must; the
HF cache is the runner's own (its HF_HOME, not the pull request's) and is read inside itself.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from .safepath import MissingPath, UnsafePath, read_bytes, real_folder, tree_of
from .schemas import ModelShape

_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")


def hub_cache() -> Path:
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    home = Path(os.environ.get("HF_HOME") or Path.home() / ".cache" / "huggingface")
    return home / "hub"


MAX_CONFIG_JSON = 1_000_000  # a model's config.json is a few KB


def _json_object(path: Path, roots: list[Path] | None) -> dict[str, Any] | None:
    """A JSON object read through safepath, or None (missing, refused, not JSON, not an object)."""
    try:
        data = json.loads(read_bytes(path, roots=roots, limit=MAX_CONFIG_JSON))
    except (UnsafePath, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _cached_config(repo_id: str) -> dict[str, Any] | None:
    cache = hub_cache()
    folder = cache / f"models--{repo_id.replace('/', '--')}" / "snapshots"
    if not folder.is_dir():
        return None
    # A snapshot's files link to ../../blobs/<hash> in the same cache: reading stays inside it.
    for snapshot in sorted(folder.iterdir(), key=_mtime, reverse=True):
        data = _json_object(snapshot / "config.json", [cache])
        if data is not None:
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
    except Exception:  # gated, missing, offline: fall back to the table and the name
        return None
    return _json_object(Path(path), None)  # the file huggingface_hub just wrote, still read through the gate


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
    # rhymes-ai/Aria names them moe_num_experts / moe_topk / moe_num_shared_experts, every decoder layer an MoE layer
    # whose shared experts are one MLP of moe_intermediate_size x moe_num_shared_experts (aria/model/moe_lm.py:54-80,
    # 384, 598@9b25fec): read as that many shared experts of moe_intermediate_size (review7b #26)
    experts = int(text.get("num_local_experts") or text.get("num_experts") or text.get("n_routed_experts") or text.get("moe_num_experts") or 0)
    active_experts = int(text.get("num_experts_per_tok") or text.get("moe_topk") or 0)
    expert_inter = int(text.get("moe_intermediate_size") or inter)
    shared = int(text.get("n_shared_experts") or text.get("moe_num_shared_experts") or 0)
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
        checkpoint_dtype=_DTYPES.get(str(cfg.get("dtype") or cfg.get("torch_dtype") or text.get("torch_dtype") or "")),
    )


# config.json's dtype names (torch's: str(torch.bfloat16) without the prefix, as PretrainedConfig writes them)
_DTYPES: dict[str, Literal["fp32", "bf16", "fp16"]] = {"float32": "fp32", "bfloat16": "bf16", "float16": "fp16"}


def _billions(params: int) -> float:
    """Billions of parameters: two decimals for real models, six significant digits for tiny ones
    (a 0.1M-parameter test model must not round to 0.0B)."""
    return round(params / 1e9, 2) if params >= 1e8 else float(f"{params / 1e9:.6g}")


MAX_HEADER = 100_000_000  # a safetensors JSON header larger than this is not one (also the total over shards)
MAX_SHARDS = 256


def count_safetensors(folder: Path, roots: list[Path]) -> int | None:
    """Exact parameter count from the safetensors headers beside a config.json (only the JSON
    header of each file is read; the weights are not loaded). Each file goes through safepath:
    inside `roots`, a regular file (a FIFO or a link to a device is refused, never blocks)."""
    import struct

    try:
        files = sorted(folder.glob("*.safetensors"))[:MAX_SHARDS]
    except OSError:
        return None
    if not files:
        return None
    total = 0
    budget = MAX_HEADER
    for path in files:
        try:
            (size,) = struct.unpack("<Q", read_bytes(path, roots=roots, limit=8, head=True))
            if size > budget:
                return None
            budget -= size
            header = json.loads(read_bytes(path, roots=roots, limit=8 + size, head=True)[8:])
        except (UnsafePath, ValueError, struct.error):
            return None
        if not isinstance(header, dict):
            return None
        for name, entry in header.items():
            if name == "__metadata__" or not isinstance(entry, dict):
                continue
            n = 1
            try:
                for dim in entry.get("shape", []):
                    n *= int(dim)
            except (TypeError, ValueError):
                return None
            total += n
    return total


@dataclass(frozen=True)
class LocalShape:
    """A local model folder's shape, or why a folder the config names was not read."""

    shape: ModelShape | None = None
    note: str | None = None
    base: tuple[str, str] | None = None  # a folder without config.json that names its base: (Hub id, where)


def _inside(path: str, roots: list[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


def shape_from_local(name: str, base: Path | None) -> LocalShape:
    """The shape of a model kept in a local folder (`model_name_or_path: ./my-model`): its
    config.json, and the exact parameter count from its safetensors headers when present.

    `base` is the config's folder. The folder is looked up where a trainer would resolve it, as
    far as that stays inside the config's tree (`safepath.tree_of`): the working directory when
    it is inside the tree, the config's folder and its parents up to the tree's top. A candidate
    outside the tree (an absolute path elsewhere, `../..` out of it) is not opened, nor probed:
    the note says it was not read. Without `base` (no config file) nothing is read.

    Asked for every config read and every patch read back, almost always of a Hub id with no
    such folder: candidates are built on strings, and a missing one costs one lstat."""
    if base is None or not name:
        return LocalShape()
    tree = tree_of(base / "config.json")  # the tree of a file in the config's folder
    roots = [real_folder(r) for r in tree]
    if os.path.isabs(name):
        candidates = [os.path.normpath(name)]
    else:  # relative to where the training runs (the working directory) or to the config and its parents
        folders: list[str] = []
        cwd = real_folder(os.getcwd())
        if _inside(cwd, roots):
            folders.append(cwd)
        folder = real_folder(base)
        while _inside(folder, roots):
            if folder not in folders:
                folders.append(folder)
            parent = os.path.dirname(folder)
            if parent == folder:
                break
            folder = parent
        # A Hub id (`org/model`) is almost never a folder here: one lstat of its first part in each
        # (real, in-tree) folder rules it out without resolving the whole path. lstat follows no
        # link, so nothing outside the tree is probed.
        first = name.replace(os.sep, "/").split("/", 1)[0]
        candidates = [os.path.normpath(os.path.join(f, name)) for f in folders if first in ("", ".", "..") or os.path.lexists(os.path.join(f, first))]
    note = None
    for folder in dict.fromkeys(candidates):
        refused = None
        if not _inside(folder, roots) and not (os.path.isabs(name) and _inside(os.path.realpath(folder), roots)):
            refused = "outside the audited tree; goblin reads nothing outside it"
        else:
            try:
                raw = read_bytes(Path(folder, "config.json"), roots=tree, limit=MAX_CONFIG_JSON)
            except MissingPath:
                based = _base_named_in(Path(folder), tree)
                if based is not None:
                    return LocalShape(base=based)
                continue
            except UnsafePath as exc:
                refused = f"its config.json {exc.reason}"
            else:
                shape = _shape_of(name, raw)
                if shape is not None:
                    exact = count_safetensors(Path(os.path.realpath(folder)), tree)
                    if exact:
                        shape = shape.model_copy(update={"params_b": _billions(exact)})
                    return LocalShape(shape=shape)
        if refused is not None and note is None:
            note = f"model folder {name!r} was not read: {refused}"
    return LocalShape(note=note)


# A model card's front matter: `base_model: org/model` or a list of exactly one `- org/model`.
_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(\r?\n|\Z)", re.S)
_BASE_INLINE = re.compile(r"^base_model:[ \t]*['\"]?([^'\"\s#]+)['\"]?[ \t]*(#.*)?$", re.M)
_BASE_LIST = re.compile(r"^base_model:[ \t]*\r?\n((?:[ \t]*-[ \t]*\S+[ \t]*\r?\n?)+)", re.M)


def _card_base(text: str) -> str | None:
    front = _FRONT.match(text)
    if front is None:
        return None
    head = front.group(1)
    inline = _BASE_INLINE.search(head)
    if inline is not None:
        return inline.group(1)
    listed = _BASE_LIST.search(head)
    items = [line.strip().lstrip("-").strip().strip("'\"") for line in listed.group(1).splitlines() if line.strip()] if listed else []
    return items[0] if len(items) == 1 else None  # two bases (a merge): not one shape


def _base_named_in(folder: Path, tree: list[Path]) -> tuple[str, str] | None:
    """The base model a local folder without config.json names, and where: a PEFT adapter
    (adapter_config.json `base_model_name_or_path`, peft's PeftConfig field) or a model card
    (README.md front matter `base_model:`, the Hub's model-card key). A Hub id only: a path is not
    followed (modelzoo looks the id up in the table, the HF cache and its name, never in a folder)."""
    found: tuple[str, str] | None = None
    adapter = _json_object(folder / "adapter_config.json", tree)
    if adapter is not None and isinstance(adapter.get("base_model_name_or_path"), str):
        found = (adapter["base_model_name_or_path"], "adapter_config.json `base_model_name_or_path`")
    else:
        try:
            card = read_bytes(folder / "README.md", roots=tree, limit=MAX_CONFIG_JSON).decode("utf-8", "replace")
        except UnsafePath:
            card = ""
        base = _card_base(card)
        if base is not None:
            found = (base, "README.md `base_model:`")
    if found is None or not _REPO_ID.match(found[0]):
        return None
    return found[0], f"{os.path.basename(folder)}/{found[1]}"


def _shape_of(name: str, raw: bytes) -> ModelShape | None:
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return shape_from_config(name, data) if isinstance(data, dict) else None


@lru_cache(maxsize=256)
def shape_from_hub(name: str) -> ModelShape | None:
    """The shape from the model's config.json, when `name` is a Hub id we can read offline (or may download)."""
    if not _REPO_ID.match(name):
        return None
    cfg = _cached_config(name) or _downloaded_config(name)
    return shape_from_config(name, cfg) if cfg else None
