"""Framework knowledge as data: accepted keys, defaults, accepted values and recipe constraints.

`check_writes` is the gate every proposed edit passes before it is offered or written: the key
must exist for that trainer at its version, the value must be one it accepts, and the recipe
must allow it. The tables come from each framework's source (tables.py, extract.py); the
behaviour that lives in code is cited in facts.py.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import PurePath
from typing import Any

from . import tables
from .facts import CITES

# Keys that come from a TRL config class other than the trainer's main one are in ScriptArguments
# or ModelConfig; a YAML recipe is parsed by TrlParser with one trainer config class. These TRL-only
# keys say which one.
_TRL_MARKERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("GRPOConfig", ("num_generations", "max_completion_length", "use_vllm", "reward_funcs", "beta_grpo")),
    ("DPOConfig", ("beta", "loss_type", "max_prompt_length", "rpo_alpha", "ref_model_init_kwargs")),
    ("KTOConfig", ("desirable_weight", "undesirable_weight")),
    ("ORPOConfig", ("orpo_alpha",)),
    ("RewardConfig", ("center_rewards_coefficient",)),
)


def trl_config_class(data: Any, declared: str | None = None) -> str:
    """The TRL config class a YAML recipe or script is most likely parsed into."""
    trl_classes = tables.table("trl").get("classes", {})
    if declared and declared in trl_classes:
        return declared
    keys = set(data) if isinstance(data, dict) else set()
    for cls, markers in _TRL_MARKERS:
        if keys & set(markers) and cls in trl_classes:
            if cls == "DPOConfig" and "num_generations" in keys:
                continue
            return cls
    return "SFTConfig"


PLAIN_CLASSES = ("TrainingArguments", "Seq2SeqTrainingArguments")


@lru_cache(maxsize=1)
def _trl_only_keys() -> frozenset[str]:
    """Keys some TRL config class reads and transformers' TrainingArguments does not."""
    trl: set[str] = set()
    for entry in tables.table("trl").get("classes", {}).values():
        trl |= set(entry.get("fields", {}))
    return frozenset(trl - set(tables.class_fields("transformers", "TrainingArguments")) - {"model_name_or_path"})


def plain_trainer(data: Any, declared: str | None = None) -> bool:
    """Whether an HF-style recipe is read into transformers' own TrainingArguments rather than a
    TRL config: declared so by its script, or a YAML with no key only TRL reads (model_name_or_path
    plus TrainingArguments keys, as a `HfArgumentParser((ModelArguments, TrainingArguments))`
    script takes). TRL's defaults differ (bf16 on, gradient checkpointing on), so this decides
    which defaults the unset fields get."""
    if declared:
        return declared in PLAIN_CLASSES
    return isinstance(data, dict) and not set(data) & _trl_only_keys()


def parser_for(fmt: str, data: Any, declared: str | None = None) -> tuple[str, str | None]:
    """(parser name in tables.PARSERS, trainer config class) for a goblin format."""
    if fmt == "llamafactory":
        v1 = isinstance(data, dict) and isinstance(data.get("model"), str) and "model_name_or_path" not in data
        return ("llamafactory_v1" if v1 else "llamafactory"), None
    if fmt == "python" and declared in PLAIN_CLASSES:
        return "transformers", None
    if fmt == "hf-trainer" and plain_trainer(data, declared):
        return "transformers", None
    if fmt in ("hf-trainer", "python"):
        return "trl", trl_config_class(data, declared)
    return fmt, None


def _accepts(entry: dict[str, Any], value: Any) -> bool:
    choices = entry.get("choices")
    if not choices or value is None or isinstance(value, (bool, dict, list)):
        return True
    return value in choices or str(value) in {str(c) for c in choices}


def check_key(fmt: str, data: Any, key: str, value: Any, declared: str | None = None) -> str | None:
    """Why writing `key: value` would break or do nothing in this trainer, or None when it is valid."""
    parser, cls = parser_for(fmt, data, declared)
    if parser not in tables.PARSERS:
        return None
    spec = tables.PARSERS[parser]
    top = key.split(".", 1)[0]
    keys = tables.parser_keys(parser, cls)
    fw = tables.table(spec["framework"])
    where = f"{spec['framework']} {fw['version']}"
    entry = keys.get(top)
    if entry is None:
        if isinstance(data, dict) and top in data:
            return None  # already in the user's file: the trainer accepts it or the run would not start now
        if spec["strict"]:
            return f"`{top}` is not a {cls or parser} key in {where}; {spec['where']}, so the run would stop at start-up"
        return f"`{top}` is not an Axolotl key in {where}; {spec['where']}"
    if "." not in key and not _accepts(entry, value):
        return (
            f"`{top}: {value}` is not an accepted value in {where} ({entry['file']}:{entry['line']}; accepted: {', '.join(map(str, entry['choices'][:8]))}...)"
        )
    return None


# ------------------------------------------------------------------ torchtune
_TUNE_RUN = re.compile(r"tune\s+run\s+(?:--\S+(?:\s+\d+)?\s+)*([a-z_]+)")
_NPROC = re.compile(r"--nproc[_-]per[_-]node[= ]+(\d+)")


def torchtune_recipe(path: str, text: str) -> tuple[str | None, str]:
    """The recipe a torchtune config runs with, and how that was decided."""
    recipes = tables.table("torchtune").get("recipes", {})
    m = _TUNE_RUN.search(text)
    if m and m.group(1) in recipes:
        return m.group(1), f"the config's own `tune run {m.group(1)}` comment"
    parts = PurePath(path).parts
    rel = "/".join(parts[-2:]) if len(parts) >= 2 else parts[-1]
    found = tables.recipe_for_config(rel)
    if found:
        return found, f"torchtune {tables.table('torchtune')['version']} _recipe_registry.py lists {rel}"
    name = PurePath(path).stem.lower()
    if "single_device" in name and "qat" in name:
        return (
            None,
            f"the file name {PurePath(path).name} names a single-device QAT recipe, which torchtune {tables.table('torchtune')['version']} does not have",
        )
    if "qat" in name:
        guess = "qat_lora_finetune_distributed" if "lora" in name else "qat_distributed"
    elif "dpo" in name:
        guess = ("lora_dpo" if "lora" in name else "full_dpo") + ("_single_device" if "single" in name else "_distributed")
    elif "lora" in name:
        guess = "lora_finetune_single_device" if "single" in name else "lora_finetune_distributed"
    elif "full" in name:
        guess = "full_finetune_single_device" if ("single" in name or "low_memory" in name) else "full_finetune_distributed"
    else:
        return None, "no `tune run` comment and the file name names no recipe"
    return (guess, f"the file name {PurePath(path).name}") if guess in recipes else (None, "unknown recipe")


def torchtune_nproc(text: str) -> int | None:
    m = _NPROC.search(text)
    return int(m.group(1)) if m else None


def check_torchtune(path: str, text: str, data: Any, key: str, value: Any) -> str | None:
    name, _how = torchtune_recipe(path, text)
    r = tables.recipe(name) if name else None
    if r is None:
        if key == "compile" and value and "qat" in PurePath(path).stem.lower():
            qat = tables.recipe("qat_distributed") or {}
            rej = qat.get("rejects", {}).get("compile", {})
            return (
                f"this QAT recipe is not in torchtune {tables.table('torchtune')['version']}'s registry; its QAT recipes raise on `compile: True` "
                f"(recipes/qat_distributed.py:{rej.get('line', '?')}), so the same is assumed"
            )
        return None
    version = tables.table("torchtune")["version"]
    rej = r.get("rejects", {}).get(key)
    if rej and value not in (None, False, 0):
        others = [n for n in re.findall(r"(?:self\._?|cfg\.)(\w+)", rej["when"]) if n != key.rsplit(".", 1)[-1] and n != "get"]
        if all(isinstance(data, dict) and data.get(o) not in (None, False, 0, 1) for o in others):
            return f"torchtune {version} recipe {name} raises on `{key}: {value}` ({r['file']}:{rej['line']}: {rej['message']})"
    top = key.split(".", 1)[0]
    reads = r.get("reads", {})
    if top not in reads and not (isinstance(data, dict) and isinstance(data.get(top), dict)):
        return f"torchtune {version} recipe {name} never reads `{top}` ({r['file']}), so the edit would do nothing"
    return None


def _axolotl_rejects(data: Any, key: str, value: Any) -> str | None:
    """Axolotl validators that raise on a combination (read by hand; facts.AXOLOTL_AT)."""
    from .facts import AXOLOTL_AT

    d: dict[str, Any] = data if isinstance(data, dict) else {}
    raw = d.get("ebft")
    ebft: dict[str, Any] = raw if isinstance(raw, dict) else {}
    if key == "torch_compile" and value is True and d.get("rl") == "ebft" and ebft.get("mode") == "strided" and d.get("gradient_checkpointing"):
        return (
            f"{AXOLOTL_AT} src/axolotl/utils/schemas/validation.py:1802-1816 raises on `torch_compile: true` with EBFT strided mode and gradient checkpointing"
        )
    return None


def check_writes(fmt: str, path: str, text: str, data: Any, writes: dict[str, Any], declared: str | None = None) -> dict[str, str]:
    """key -> why it must not be written, for every write that fails validation."""
    bad: dict[str, str] = {}
    for key, value in writes.items():
        if fmt == "torchtune":
            why = check_torchtune(path, text, data, key, value)
        elif fmt in ("axolotl", "llamafactory", "hf-trainer", "python"):
            if fmt == "python" and key in ("attn_implementation", "torch_dtype"):
                why = None  # from_pretrained keywords, not config keys
            else:
                why = check_key(fmt, data, key, value, declared) or (_axolotl_rejects(data, key, value) if fmt == "axolotl" else None)
        else:
            why = None
        if why:
            bad[key] = why
    return bad


__all__ = ["CITES", "check_key", "check_writes", "parser_for", "plain_trainer", "tables", "torchtune_nproc", "torchtune_recipe", "trl_config_class"]


def where(parser: str, key: str, cls: str | None = None) -> str:
    """'<framework> <version> <file>:<line> (default X)' for a key, for a FieldSource note."""
    spec = tables.PARSERS.get(parser)
    if spec is None:
        return ""
    if parser == "trl" and cls is None:
        cls = "SFTConfig"
    entry = tables.parser_keys(parser, cls).get(key)
    if entry is None:
        return ""
    fw = tables.table(entry["framework"])
    default = entry.get("default")
    shown = default.get("expr", default.get("factory")) if isinstance(default, dict) else default
    return f"{entry['framework']} {fw['version']} {entry['file']}:{entry['line']} (default {shown!r})"
