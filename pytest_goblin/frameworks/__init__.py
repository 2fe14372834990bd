"""Framework knowledge as data: accepted keys, defaults, accepted values and recipe constraints.

`check_writes` is the gate every proposed edit passes before it is offered or written: the key
must exist for that trainer at its version, the value must be one it accepts, and the recipe
must allow it. The tables come from each framework's source (tables.py, extract.py); the
behaviour that lives in code is cited in facts.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePath
from typing import Any

from . import tables
from .facts import CITES

# A TRL YAML recipe is parsed by TrlParser into ONE trainer config class (trl 1.16.0
# trl/scripts/utils.py:353), which the script chooses: the YAML does not say it. The class is read
# from what the file and its path name (a `recipes/.../orpo/` folder, an `# ORPOTrainer arguments`
# comment, a `run_dpo.py` / `trl dpo` launcher line), else from keys that only some classes accept.
# When that leaves several classes, no single one is assumed: an edit is offered only if every one
# of them accepts it, and the framework string lists them.
_NOT_TRAINERS = frozenset({"ModelConfig", "DatasetConfig", "DatasetMixtureConfig", "ScriptArguments", "_BaseConfig"})
_TRAINER_WORD = re.compile(r"\b([A-Za-z]+?)Trainer\b")
_SCRIPT_WORD = re.compile(r"\b(?:run_)?([a-z_]+)\.py\b|\btrl\s+([a-z_]+)\b")


SFT_FITS = "SFTConfig accepts every one of its trainer-specific keys"


@dataclass(frozen=True)
class TrlClass:
    """The TRL config classes a file may be parsed into (one when named), and how that was decided."""

    classes: tuple[str, ...]
    how: str
    named: bool

    @property
    def one(self) -> str | None:
        return self.classes[0] if len(self.classes) == 1 else None

    def label(self) -> str:
        if self.one:
            return self.one
        if not self.named and self.how.endswith("no trainer-specific key"):
            return "SFTConfig's defaults assumed: the file names no trainer and has no trainer-specific key"
        if not self.named and self.how.endswith(SFT_FITS):
            return f"SFTConfig's defaults assumed: the file names no trainer and {SFT_FITS}"
        shown = " or ".join(self.classes[:4]) + (f" (+{len(self.classes) - 4} more)" if len(self.classes) > 4 else "")
        return f"{shown}: trainer not named"


def _trainer_names() -> dict[str, str]:
    """'orpo' -> 'ORPOConfig', 'onlinedpo' -> 'OnlineDPOConfig', from the TRL table's classes."""
    out: dict[str, str] = {}
    for cls in tables.table("trl").get("classes", {}):
        if cls.endswith("Config") and cls not in _NOT_TRAINERS:
            out[cls[: -len("Config")].lower()] = cls
    return out


@lru_cache(maxsize=512)
def _named_in(path: str, text: str) -> tuple[tuple[str, ...], str]:
    """Trainer classes the file's comments/launcher lines or its path name, and where. Cached: reading
    a file and validating each of its edits ask again (plain_trainer, then trl_classes, per key)."""
    names = _trainer_names()
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped.startswith("#") and not stripped.startswith(("accelerate", "torchrun", "python", "trl ")):
            continue
        found = [names[m.lower()] for m in _TRAINER_WORD.findall(stripped) if m.lower() in names]
        found += [names[w.replace("_", "")] for pair in _SCRIPT_WORD.findall(stripped) for w in pair if w and w.replace("_", "") in names]
        if found:
            return tuple(sorted(set(found))), f"the file's own line `{stripped[:80]}`"
    parts = list(PurePath(path).parts)
    for part in reversed(parts[-4:]):
        stem = PurePath(part).stem.lower()
        whole = stem.replace("_", "").replace("-", "")
        if whole in names:
            return (names[whole],), f"the path's `{part}`"
        hits = tuple(sorted({names[t] for t in re.split(r"[_\-.]", stem) if t in names}))
        if len(hits) == 1:
            return hits, f"the path's `{part}`"
    return (), ""


def trainer_named(path: str, text: str) -> tuple[tuple[str, ...], str]:
    """The TRL config classes a recipe's comments, launcher lines or path name, and where ("" when none)."""
    return _named_in(path, text)


def trl_classes(data: Any, declared: str | None = None, path: str = "", text: str = "") -> TrlClass:
    """The TRL config class(es) a YAML recipe or script is parsed into, and how that was decided."""
    trl = tables.table("trl").get("classes", {})
    if declared and declared in trl:
        return TrlClass((declared,), f"the script builds {declared}(...)", True)
    named, where_ = _named_in(path, text)
    if named:
        return TrlClass(tuple(named), f"named by {where_}", len(named) == 1)
    trainers = sorted(c for c in trl if c.endswith("Config") and c not in _NOT_TRAINERS)
    common = set(tables.parser_keys("trl", "_BaseConfig"))
    keys = [k for k in (data if isinstance(data, dict) else {}) if k not in common]
    fields = {c: tables.parser_keys("trl", c) for c in trainers}
    specific = [k for k in keys if any(k in f for f in fields.values())]
    if not specific:
        return TrlClass(tuple(trainers), "the file names no trainer and has no trainer-specific key", False)
    for k in specific:
        owners = [c for c in trainers if k in fields[c]]
        if len(owners) == 1:
            return TrlClass((owners[0],), f"from the key `{k}`, which only {owners[0]} accepts in trl {tables.table('trl')['version']}", False)
    # Keys shared by several classes (and keys a newer TRL moved, e.g. `max_prompt_length`) prove
    # nothing: every class that accepts one of them stays a candidate.
    top = tuple(c for c in trainers if any(k in fields[c] for k in specific))
    if "SFTConfig" in fields and all(k in fields["SFTConfig"] for k in specific):
        # nothing in it needs another trainer (no `beta`, `loss_type`, `max_prompt_length`...): read as SFT, said so
        return TrlClass(top, f"the file names no trainer; keys {', '.join(specific[:5])} fit {len(top)} classes, and {SFT_FITS}", False)
    return TrlClass(top, f"the file names no trainer; keys {', '.join(specific[:5])} fit {len(top)} classes", False)


def trl_config_class(data: Any, declared: str | None = None, path: str = "", text: str = "") -> str:
    """One class for defaults' notes: the named or only candidate, else SFTConfig when it is a candidate."""
    found = trl_classes(data, declared, path, text)
    if found.one:
        return found.one
    return "SFTConfig" if "SFTConfig" in found.classes else found.classes[0]


PLAIN_CLASSES = ("TrainingArguments", "Seq2SeqTrainingArguments")


@lru_cache(maxsize=1)
def _trl_only_keys() -> frozenset[str]:
    """Keys some TRL config class reads and transformers' TrainingArguments does not."""
    trl: set[str] = set()
    for entry in tables.table("trl").get("classes", {}).values():
        trl |= set(entry.get("fields", {}))
    return frozenset(trl - set(tables.class_fields("transformers", "TrainingArguments")) - {"model_name_or_path"})


def plain_trainer(data: Any, declared: str | None = None, path: str = "", text: str = "") -> bool:
    """Whether an HF-style recipe is read into transformers' own TrainingArguments rather than a
    TRL config: declared so by its script, or a YAML with no key only TRL reads (model_name_or_path
    plus TrainingArguments keys, as a `HfArgumentParser((ModelArguments, TrainingArguments))`
    script takes) whose comments, launcher lines and path name no TRL trainer (an alignment-handbook
    `sft/` recipe runs through TRL even with plain keys). TRL's defaults differ (bf16 on, gradient
    checkpointing on), so this decides which defaults the unset fields get."""
    if declared:
        return declared in PLAIN_CLASSES
    if not isinstance(data, dict) or set(data) & _trl_only_keys():
        return False
    return not _named_in(path, text)[0]


def parser_for(fmt: str, data: Any, declared: str | None = None, path: str = "", text: str = "") -> tuple[str, tuple[str, ...]]:
    """(parser name in tables.PARSERS, the trainer config classes it may combine) for a goblin format."""
    if fmt == "llamafactory":
        v1 = isinstance(data, dict) and isinstance(data.get("model"), str) and "model_name_or_path" not in data
        return ("llamafactory_v1" if v1 else "llamafactory"), ()
    if fmt == "python" and declared in PLAIN_CLASSES:
        return "transformers", ()
    if fmt == "hf-trainer" and plain_trainer(data, declared, path, text):
        return "transformers", ()
    if fmt in ("hf-trainer", "python"):
        return "trl", trl_classes(data, declared, path, text).classes
    return fmt, ()


def _accepts(entry: dict[str, Any], value: Any) -> bool:
    choices = entry.get("choices")
    if not choices or value is None or isinstance(value, (bool, dict, list)):
        return True
    return value in choices or str(value) in {str(c) for c in choices}


def check_key(fmt: str, data: Any, key: str, value: Any, declared: str | None = None, path: str = "", text: str = "") -> str | None:
    """Why writing `key: value` would break or do nothing in this trainer, or None when it is valid.

    When the trainer class is not named (several TRL classes fit), the key must be accepted by
    every one of them: an edit is not offered on a guess."""
    parser, classes = parser_for(fmt, data, declared, path, text)
    if parser not in tables.PARSERS:
        return None
    spec = tables.PARSERS[parser]
    top = key.split(".", 1)[0]
    fw = tables.table(spec["framework"])
    where = f"{spec['framework']} {fw['version']}"
    if isinstance(data, dict) and top in data:
        return None  # already in the user's file: the trainer accepts it or the run would not start now
    per_class = [(cls, tables.parser_keys(parser, cls)) for cls in (classes or (None,))]
    missing = [cls for cls, keys in per_class if top not in keys]
    if missing:
        if len(per_class) > 1 and len(missing) < len(per_class):
            lacking = ", ".join(str(c) for c in missing[:4]) + (f" (+{len(missing) - 4} more)" if len(missing) > 4 else "")
            return (
                f"`{top}` is not a key of every TRL config class this file may be parsed into ({lacking} lack it, {where}); "
                f"the file does not name its trainer, so the edit is not offered on a guess"
            )
        cls = missing[0]
        if spec["strict"]:
            return f"`{top}` is not a {cls or parser} key in {where}; {spec['where']}, so the run would stop at start-up"
        return f"`{top}` is not {f'a {cls} key' if cls else spec['noun']} in {where}; {spec['where']}"
    entry = per_class[0][1][top]
    if "." not in key and not _accepts(entry, value):
        return (
            f"`{top}: {value}` is not an accepted value in {where} ({entry['file']}:{entry['line']}; accepted: {', '.join(map(str, entry['choices'][:8]))}...)"
        )
    return None


# ------------------------------------------------------------------ torchtune
_TUNE_RUN = re.compile(r"tune\s+run\s+(?:--\S+(?:\s+\d+)?\s+)*([a-z_]+(?:/[a-z_]+)?)")
_NPROC = re.compile(r"--nproc[_-]per[_-]node[= ]+(\d+)")


def torchtune_recipe(path: str, text: str) -> tuple[str | None, str]:
    """The recipe a torchtune config runs with, and how that was decided."""
    recipes = tables.table("torchtune").get("recipes", {})
    own = _repository_recipe(path, text)
    if own is not None:
        return own
    m = _comment_recipe(text, recipes)
    if m and m.group(1) in recipes:
        return m.group(1), f"the config's own `tune run {m.group(1)}` comment"
    if m and "/" in m.group(1):  # a dev/ recipe (GRPO, async GRPO): not in the registry, and not the file name's guess
        return None, f"the config's own `tune run {m.group(1)}` comment names a recipe outside torchtune {tables.table('torchtune')['version']}'s registry"
    parts = PurePath(path).parts
    rel = "/".join(parts[-2:]) if len(parts) >= 2 else parts[-1]
    found = tables.recipe_for_config(rel)
    if found:
        return found, f"torchtune {tables.table('torchtune')['version']} _recipe_registry.py lists {rel}"
    name = PurePath(path).stem.lower()
    if {"grpo", "ppo", "rloo"} & set(re.split(r"[^a-z0-9]+", name)):
        return None, f"the file name {PurePath(path).name} names an online RL recipe, which no SFT or DPO recipe's defaults describe"
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


_TOP_KEY = re.compile(r"^([A-Za-z_]\w*):", re.MULTILINE)


def _comment_recipe(text: str, recipes: dict[str, Any]) -> re.Match[str] | None:
    """The `tune run` line of the config's comments that runs it: of several naming registry recipes (torchtune's KD
    headers first say `tune run lora_finetune_single_device --config llama3_2/3B_lora_single_device` to fine-tune the
    teacher, then `tune run knowledge_distillation_single_device`: recipes/configs/llama3_2/8B_to_1B_KD_lora_single_device.yaml:10,13
    in /work/shared/corpus/torchtune), the one whose recipe reads the most of the config's top-level keys (goblin's torchtune
    table `reads`: recipes/knowledge_distillation_single_device.py:256@v0.6.1 reads `teacher_model`), the first on a tie;
    else the first line."""
    found = list(_TUNE_RUN.finditer(text))
    named = [m for m in found if m.group(1) in recipes]
    if len(named) < 2:
        return found[0] if found else None
    keys = set(_TOP_KEY.findall(text))
    return max(named, key=lambda m: len(keys & set((recipes[m.group(1)].get("reads") or {}).keys())))


def _repository_recipe(path: str, text: str) -> tuple[str | None, str] | None:
    """The recipe of the repository's own recipe file that runs the config (own_recipe.run_recipe: a launcher, a `tune
    run x.py` line, the config's name or a README tie it to the file), which outranks the config's copied `tune run NAME`
    comment (review7a class 3): a byte-identical copy of a release's recipe is that recipe; any other file is no stock
    recipe (None). None when the repository runs no recipe file of its own."""
    import os

    from .. import safepath
    from .own_recipe import run_recipe, stock_copy

    found = run_recipe(path, text)
    if found is None:
        return None
    file, said = found
    roots = safepath.tree_of(Path(os.path.abspath(path)))
    rel = os.path.relpath(file, roots[0]) if file.is_relative_to(roots[0]) else file.name
    stock = stock_copy(file, roots)
    if stock is not None and tables.recipe(PurePath(stock[0]).stem) is not None:
        return PurePath(stock[0]).stem, f"the repository's {rel}, byte-identical to torchtune {'/'.join(stock[1])}'s {stock[0]} (read from {said.rstrip(',')})"
    return None, f"the repository's own {rel}"


def tune_run_named(text: str) -> str | None:
    """The recipe a `tune run` line in the config names, whether or not goblin's table has it."""
    m = _TUNE_RUN.search(text)
    return m.group(1) if m else None


def torchtune_nproc(text: str) -> int | None:
    m = _NPROC.search(text)
    return int(m.group(1)) if m else None


def check_torchtune(path: str, text: str, data: Any, key: str, value: Any) -> str | None:
    if key == "dataset.packed" and value is True:
        tok = data.get("tokenizer") if isinstance(data, dict) else None
        if not (isinstance(tok, dict) and tok.get("max_seq_len") is not None):
            return f"torchtune raises on `dataset.packed: True` while tokenizer.max_seq_len is unset ({CITES['torchtune.packed_max_seq_len']})"
    if key == "gradient_accumulation_steps" and isinstance(value, int) and value > 1 and isinstance(data, dict) and data.get("optimizer_in_bwd") is True:
        return f"torchtune raises on `gradient_accumulation_steps: {value}` while `optimizer_in_bwd: True` ({CITES['torchtune.optimizer_in_bwd_accumulation']})"
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


def _llamafactory_rejects(data: Any, key: str, value: Any) -> str | None:
    """LLaMA-Factory options whose loss needs the logits, which Liger's fused linear cross-entropy
    does not produce in training (read by hand; facts.CITES['lf.liger_*'])."""
    d: dict[str, Any] = data if isinstance(data, dict) else {}
    if key != "enable_liger_kernel" or value is not True:
        return None
    if d.get("use_asft_loss") is True:
        return (
            "`use_asft_loss: true` needs the logits: with Liger's fused linear cross-entropy the model returns none in training and "
            f"the ASFT loss silently falls back to plain cross-entropy, so the edit changes the training objective ({CITES['lf.liger_asft']})"
        )
    for opt in ("use_dft_loss", "use_eaft_loss"):
        if d.get(opt) is True:
            return (
                f"`{opt}: true` computes its loss from the logits, so the fused cross-entropy that makes Liger pay never runs and the "
                f"logits are still materialised; the loss-side gain does not apply ({CITES['lf.liger_logits_loss']})"
            )
    stage = d.get("stage", "sft")
    if stage not in ("pt", "sft"):
        return (
            f"`stage: {stage}` needs the logits: LLaMA-Factory turns Liger's fused linear cross-entropy off for it, so the logits "
            f"are still materialised and the loss-side gain does not apply ({CITES['lf.liger_stage']})"
        )
    return None


def _pinned_too_old(path: str, text: str, key: str, value: Any, values_only: bool = False) -> str | None:
    """A key (or a key's value) added to transformers/TRL after the version the recipe's repository pins (pins.py)."""
    from .pins import pin_for_key, pins, too_new

    if not path:
        return None
    pinned = pins(path, text)
    dist = pin_for_key(key)
    why = too_new(dist, key, value, pinned.get(dist), values_only) if dist is not None else None
    # a value is the model loader's to accept, whoever reads the key: `attn_implementation: flex_attention`
    # is a TRL ModelConfig key whose value transformers' modeling_utils checks (review2: SimPO on 4.44.2)
    return why or too_new("transformers", key, value, pinned.get("transformers"), values_only=True)


def _fsdp1_without_orig_params(fmt: str, data: Any) -> str | None:
    """The FSDP setting that makes torch.compile unsupported: FSDP1 with use_orig_params false.

    PyTorch: "``True`` is required to use ``torch.compile()``" (torch 2.13.0
    torch/distributed/fsdp/fully_sharded_data_parallel.py:375-376). Axolotl pins a config without
    fsdp_version to FSDP1 (axolotl 0.18.0 src/axolotl/utils/schemas/validation.py:1119-1124);
    transformers 5.24.0 defaults fsdp_config's version to 2 and use_orig_params to true
    (training_args.py:2826, 2876-2877). Only an explicit false is taken as false."""
    d: dict[str, Any] = data if isinstance(data, dict) else {}
    cfg = d.get("fsdp_config")
    if not isinstance(cfg, dict) or (fmt != "axolotl" and not d.get("fsdp")):
        return None
    orig_key = next((k for k in ("use_orig_params", "fsdp_use_orig_params") if k in cfg), None)
    if orig_key is None or str(cfg[orig_key]).lower() not in ("false", "0", "no"):
        return None
    version = d.get("fsdp_version", cfg.get("fsdp_version", cfg.get("version")))
    if version is None:
        if fmt != "axolotl":
            return None
        how = f"no fsdp_version: {AXOLOTL_VERSION_PIN}"
    elif str(version) != "1":
        return None
    else:
        how = "fsdp_version 1"
    return (
        f"torch.compile is not supported with FSDP1 ({how}) and `fsdp_config.{orig_key}: false`: use_orig_params=True is required "
        "to use torch.compile (torch 2.13.0 torch/distributed/fsdp/fully_sharded_data_parallel.py:375-376); "
        "move to fsdp_version 2 (or use_orig_params true) before compiling"
    )


AXOLOTL_VERSION_PIN = "axolotl 0.18.0 src/axolotl/utils/schemas/validation.py:1119-1124 pins it to FSDP1"


# The last TRL release read whose SFTTrainer still applies Liger's kernels (trl v1.9.0
# trl/trainer/sft_trainer.py:1718-1720, the loss without logits under use_liger_kernel); 1.16.0 deprecates it
# and forces the fused cross-entropy off (sft_trainer.py:1125-1140). Releases between were not read.
TRL_LIGER_APPLIED_UP_TO = "1.9.0"


def _trl_applies_liger(path: str, text: str) -> bool:
    """True when the recipe pins a TRL old enough that its trainers still apply Liger (the pin, pins.py)."""
    if not path:
        return False
    from .pins import at_most, pins

    return at_most(pins(path, text).get("trl"), TRL_LIGER_APPLIED_UP_TO)


def _interaction_rejects(fmt: str, data: Any, key: str, value: Any, declared: str | None, path: str = "", text: str = "") -> str | None:
    """An edit that is a valid key but is unsupported, or does nothing, next to a feature already in the config."""
    if key == "torch_compile" and value is True:
        return _fsdp1_without_orig_params(fmt, data)
    if key == "use_liger_kernel" and value is True and fmt in ("hf-trainer", "python"):
        parser, classes = parser_for(fmt, data, declared, path, text)
        if parser == "trl" and not _trl_applies_liger(path, text):
            return (
                f"trl {tables.table('trl')['version']} {' or '.join(classes) if 0 < len(classes) <= 3 else 'trainers'}: the trainer deprecates use_liger_kernel, forces Liger's fused linear "
                "cross-entropy off and already computes log-probs with its own chunked LM head (trl/trainer/sft_trainer.py:1125-1140, "
                "grpo_trainer.py:1049-1064; the async trainers raise on it), so the loss kernel would be ignored"
            )
    return None


def check_writes(fmt: str, path: str, text: str, data: Any, writes: dict[str, Any], declared: str | None = None, recipe: str | None = None) -> dict[str, str]:
    """key -> why it must not be written, for every write that fails validation. `recipe`: the torchtune recipe the
    repository's launch line runs the config with (formats.torchtune.run_recipe), over the config's own comment."""
    bad: dict[str, str] = {}
    for key, value in writes.items():
        if fmt == "torchtune":
            why = check_torchtune(path, text, data, key, value)
        elif fmt in ("axolotl", "llamafactory", "hf-trainer", "python"):
            if fmt == "python" and key in ("attn_implementation", "torch_dtype"):
                why = None  # from_pretrained keywords, not config keys
            else:
                why = check_key(fmt, data, key, value, declared, path, text) or (
                    _axolotl_rejects(data, key, value) if fmt == "axolotl" else _llamafactory_rejects(data, key, value) if fmt == "llamafactory" else None
                )
            if not why and fmt in ("hf-trainer", "python"):
                # before the current release's interactions: the pin says which release runs; a key already in the
                # file exists there, so only its new value is judged
                why = _pinned_too_old(path, text, key, value, values_only=isinstance(data, dict) and key.split(".", 1)[0] in data)
            if not why:
                why = _interaction_rejects(fmt, data, key, value, declared, path, text)
        else:
            why = None
        if not why and fmt in ("torchtune", "llamafactory", "axolotl") and path:
            why = _pinned_release_lacks(fmt, path, text, key, data, recipe)
        if not why and fmt in ("hf-trainer", "python") and key == "attn_implementation" and path:
            why = _attention_too_old(path, text)
        if why:
            bad[key] = why
    return bad


def _attention_too_old(path: str, text: str) -> str | None:
    """transformers before 4.36 has no attn_implementation (4.35.2 modeling_utils.py knows only use_flash_attention_2,
    :2564; 4.36.2 adds _autoset_attn_implementation, :1258): an exact pin below it gets no attention edit."""
    from packaging.version import InvalidVersion, Version

    from .pins import pins

    pin = pins(path, text).get("transformers")
    if pin is None or not pin.constraint.startswith("=="):
        return None
    try:
        if Version(pin.constraint[2:].split(",", 1)[0]) >= Version("4.36"):
            return None
    except InvalidVersion:
        return None
    return (
        f"the recipe pins {pin.spec} ({pin.where}): transformers before 4.36 has no attn_implementation (4.35.2 modeling_utils.py:2564 "
        "reads only use_flash_attention_2; 4.36.2 modeling_utils.py:1258 adds it), so the key would do nothing"
    )


def _pinned_release_lacks(fmt: str, path: str, text: str, key: str, data: Any = None, launched: str | None = None) -> str | None:
    """An edit whose key the pinned torchtune recipe / LLaMA-Factory / Axolotl release does not have
    (frameworks/releases.py; nothing without a pin of that framework)."""
    from .pins import pins
    from .releases import edit_too_old

    recipe = (launched or torchtune_recipe(path, text)[0]) if fmt == "torchtune" else None
    if fmt == "torchtune" and "." not in key:
        if (why := _own_recipe_lacks(path, text, key, pins(path, text))) is not None:
            return why
    return edit_too_old(fmt, key, pins(path, text), recipe, data)


# `tune run [flags] path/to/recipe.py`: a recipe file the config's own launch line runs instead of a registry name
_TUNE_RUN_FILE = re.compile(r"tune\s+run\s+(?:--\S+(?:[= ]\d+)?\s+)*([\w./-]+\.py)\b")


def _own_recipe_lacks(path: str, text: str, key: str, found: Any) -> str | None:
    """Why a top-level torchtune key would do nothing when the config's `tune run` line runs a recipe file: the
    repository's own copy never names the key (the recipes read config keys as `cfg.<key>` / `cfg.get("<key>")`;
    review5 #8: tradutor's recipes/lora_finetune_distributed.py has no `compile`), or, where that file is not in the
    repository, torchtune's recipe of the same name at the release the repository pins does not read it
    (key_history.json; torchtune v0.2.1 recipes/lora_finetune_distributed.py and full_finetune_distributed.py have
    no `compile`, recipes/lora_finetune_single_device.py:207 reads `cfg.compile`). None: the key is read, or not known."""
    from pathlib import Path

    from ..safepath import as_written, repository_root
    from .history import change
    from .own_recipe import run_recipe
    from .releases import pinned, recipe_reads

    m = _TUNE_RUN_FILE.search(text)
    config = as_written(path)
    root = repository_root(config) or config.parent
    if m is None:
        # a script or README of the repository runs the config with its own recipe file (review6a #4, #5:
        # scripts/launch_mi250x_fsdp.sh `tune run ... recipes/moe_full_finetune_distributed.py` with the config; review7a #7
        # a slurm job's `python recipes/distributed/lora_finetune_distributed.py --config x.yaml`: own_recipe.run_recipe)
        launched = run_recipe(path, text)
        return _recipe_file_lacks(launched[0], launched[1], root, key) if launched is not None else None
    named = m.group(1)
    for base in dict.fromkeys((root, config.parent)):  # `tune run` from the repository's root, or beside the config
        candidate = (base / named) if not Path(named).is_absolute() else Path(named)
        if candidate.is_file():
            return _recipe_file_lacks(candidate, "the config's `tune run` line", root, key)
    version = pinned("torchtune", found)
    stem = Path(named).stem
    if version and recipe_reads(stem, key, version) is False:
        pin = found["torchtune"]
        return (
            f"the config's `tune run` line runs {named}, not in the repository; torchtune {version}'s recipe {stem} ({pin.spec}, {pin.where}) "
            f"does not read `{key}` ({change('torchtune', f'recipe:{stem}', key, version)}), so `{key}` would do nothing"
        )
    return None


def _recipe_file_lacks(recipe: Any, how: str, root: Any, key: str) -> str | None:
    """Why `key` would do nothing in the repository's own recipe file: the keys it reads, found with ast (own_recipe.py:
    `cfg.get("k")`, `cfg.k`, `cfg["k"]`, `getattr(cfg, "k")`), lack it; where ast cannot tell (the recipe hands the
    whole config to code outside the file, or derives from a class defined elsewhere) only a file that never names the
    key at all. None: read, or not known."""
    from ..safepath import UnsafePath, read_text
    from .own_recipe import keys_read

    try:
        source = read_text(recipe, roots=[root])
    except (UnsafePath, OSError, UnicodeDecodeError):
        return None
    rel = recipe.relative_to(root) if recipe.is_relative_to(root) else recipe
    keys = keys_read(recipe, [root])
    if keys is not None:
        if key in keys:
            return None
        return f"{how} runs the repository's own recipe {rel}, which never reads `{key}` (its cfg reads, parsed with ast), so `{key}` would do nothing"
    if re.search(rf"(?<![\w]){re.escape(key)}(?![\w])", source):
        return None
    return f"{how} runs the repository's own recipe {rel}, which never reads `{key}` (no occurrence in the file), so `{key}` would do nothing"


__all__ = [
    "CITES",
    "TrlClass",
    "check_key",
    "check_writes",
    "parser_for",
    "plain_trainer",
    "tables",
    "torchtune_nproc",
    "torchtune_recipe",
    "trl_classes",
    "trl_config_class",
]


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
    said = "unset" if shown in (None, "None") else repr(shown)  # a report says "unset", not Python's None
    return f"{entry['framework']} {fw['version']} {entry['file']}:{entry['line']} (default {said})"
