"""Hugging Face TrainingArguments / TRL YAML (alignment-handbook style recipes)."""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from ..frameworks import CITES, tables, where
from ..frameworks.history import online_trainer_from_keys
from ..schemas import FieldSource, ModelShape, WorkloadConfig
from ..yamlio import get_path, key_line
from .base import (
    IN_CODE,
    Adapter,
    Reader,
    as_bool,
    attention_from,
    elsewhere_reason,
    mark_code_unread,
    mark_unread,
    model_from,
    positive,
    set_elsewhere,
    shown_file,
)
from .hfstyle import TA_DOCS, hf_writes, read_common, read_lora, read_preference, trl_kl_off
from .semantics import (
    dtype_key,
    explicit_precision,
    launch_precision,
    pure_half_precision,
    read_prequantized,
    read_world_size,
    trl_precision,
    trl_release_lacks,
)
from .textedit import RENAME
from .vllm_gpu import vllm_device_gpu

if TYPE_CHECKING:
    from .launched import Launched

# Keys only a preference trainer's config reads: trl 1.16.0 DPOConfig/CPOConfig/KTOConfig fields no
# SFTConfig or TrainingArguments has (beta, cpo_alpha, simpo_gamma, desirable_weight, ...; goblin's trl
# table), max_prompt_length (trl 0.11.4 trl/trainer/dpo_config.py:153, dropped later) and SimPO's own
# gamma_beta_ratio (princeton-nlp/SimPO scripts/simpo_config.py:56).
PREFERENCE_KEYS = frozenset(
    {
        "beta",
        "cpo_alpha",
        "simpo_gamma",
        "desirable_weight",
        "undesirable_weight",
        "precompute_ref_log_probs",
        "ref_model_mixup_alpha",
        "ref_model_sync_steps",
        "sync_ref_model",
        "f_divergence_type",
        "max_prompt_length",
        "gamma_beta_ratio",
    }
)
# In the framework label of a file whose keys are a preference trainer's but whose trainer class goblin
# cannot name (rules.unmodelled_trainer reads it: the verdict is inconclusive, never a clean PASS).
UNRESOLVED_PREFERENCE = "preference trainer not resolved, from its keys"

TRAINING_KEYS = frozenset(
    {
        "per_device_train_batch_size",
        "gradient_accumulation_steps",
        "learning_rate",
        "num_train_epochs",
        "max_steps",
        "gradient_checkpointing",
        "optim",
        "lr_scheduler_type",
        "warmup_ratio",
    }
)
# TrainingArguments-only files (no model key; the script names the model): collected when they
# carry at least MIN_TA_HITS of these TrainingArguments fields, one of them a batch key. Field names
# introspected from transformers 5.24.0 (dataclasses.fields(TrainingArguments)).
TA_ONLY_KEYS = frozenset(
    {
        "per_device_train_batch_size",
        "gradient_accumulation_steps",
        "learning_rate",
        "num_train_epochs",
        "max_steps",
        "activation_checkpointing",
        "gradient_checkpointing",
        "optim",
        "lr_scheduler_type",
        "warmup_steps",
        "bf16",
        "fp16",
        "logging_steps",
        "output_dir",
        "save_strategy",
    }
)
TA_BATCH_KEYS = frozenset({"per_device_train_batch_size", "gradient_accumulation_steps"})
MIN_TA_HITS = 3
# transformers 5.24.0 training_args.py:907-936 adds `activation_checkpointing` and keeps
# `gradient_checkpointing` as a deprecated alias (removed in v6); when both are set the new name
# wins (training_args.py:1533-1545).
CHECKPOINT_KEYS = ("activation_checkpointing", "gradient_checkpointing")
TRL_DOCS = "https://huggingface.co/docs/trl/sft_trainer#trl.SFTConfig"


# A run that parses into transformers' own arguments class packs nothing: TrainingArguments and
# Seq2SeqTrainingArguments have no `packing` field (transformers 5.25.0 training_args.py,
# training_args_seq2seq.py; tables.class_fields), and the Trainer's default collator pads each batch
# as it comes (review6b #30, #32, #39 cited TRL's SFTConfig.packing for such runs).
PLAIN_PACKING_AT = "transformers 5.25.0 trainer.py:562-568: without a data_collator, DataCollatorWithPadding with a tokenizer, else default_data_collator"
_TRANSFORMERS_ARGS = ("TrainingArguments", "Seq2SeqTrainingArguments")


def _no_packing(r: Reader, cls: str | None, launched: Launched | None) -> str | None:
    """Why the run cannot pack (the packing rule's premise, review7b #21/#26/#27): its TRL config class has no
    `packing` (of trl's classes only SFTConfig has one: frameworks/trl.json, read at trl's table version), the recipe
    or the script that runs it skips the trainer's dataset preparation, or that script passes its own collator."""
    from .own_packing import SKIP_PREPARE, SKIP_PREPARE_AT

    if cls is not None and (fields := tables.class_fields("trl", cls)) and "packing" not in fields and "padding_free" not in fields:
        at = tables.table("trl")["classes"][cls]["file"]
        return f"TRL {cls} has no packing (trl {tables.table('trl')['version']} {at}: no `packing` or `padding_free` field): its trainer does not pack"
    k, v, line = r.raw(f"dataset_kwargs.{SKIP_PREPARE}")
    if k is not None and as_bool(v):
        return f"`{k}` (line {line}) is true: the trainer takes the dataset as it comes and packs nothing ({SKIP_PREPARE_AT})"
    if launched is not None and launched.no_packing is not None:
        return f"{launched.no_packing} ({launched.script} is run on this file by {launched.where})"
    return None


def _skipped_packing(r: Reader) -> None:
    """`packing: true` beside `dataset_kwargs: {skip_prepare_dataset: true}`: off where the recipe's TRL release packs only
    while preparing the dataset (own_packing.skipped_packing), else said beside the padding-free collation it keeps."""
    from .own_packing import SKIP_PREPARE, skipped_packing

    pk, pv, pline = r.raw("packing")
    sk, sv, sline = r.raw(f"dataset_kwargs.{SKIP_PREPARE}")
    if pk is None or sk is None or not as_bool(pv) or not as_bool(sv):
        return
    _k, strategy, _l = r.raw("packing_strategy")
    at = lambda k, v, line: f"`{k}: {str(v).lower()}`" + (f" (line {line})" if line else "")  # noqa: E731
    judged = skipped_packing(r.path, r.text, at(pk, pv, pline), at(sk, sv, sline), strategy)
    if judged is None:
        return
    on, why = judged
    r.notes.append(why)
    if not on:
        r.default("sample_packing", False, why)
        r.values["packing_blocked"] = why


def only_read(r: Reader, launched: Launched) -> None:
    """A recipe the script loads itself and passes to its config class key by key (launched.Launched.dict_reads; review8b
    #28): only the keys it passes are the run's, under the keyword it passes them as; the others are left out of the
    reading (the config class's defaults stand) and named in a note."""
    import copy

    fit = launched.dict_reads([k for k in r.data if isinstance(k, str)])
    if fit is None:
        return
    var, cls, line, reads = fit
    kept = copy.copy(r.data)
    kept.clear()
    positions = dict(getattr(r.data, "positions", {}))
    for key, value in r.data.items():
        if key in reads:
            kw = reads[key][0]
            kept[kw] = value
            if key in positions:
                positions[kw] = positions[key]
    if hasattr(kept, "positions"):
        kept.positions = positions
    unread = [k for k in r.data if k not in reads]
    r.data = kept
    if unread:
        shown = ", ".join(f"`{k}`" for k in unread[:12]) + (f" (+{len(unread) - 12} more)" if len(unread) > 12 else "")
        r.notes.append(
            f"{launched.script} loads this file into `{var}` and passes {cls} (line {line}) only the keys it reads from it "
            f"({launched.script} is run on this file by {launched.where}): {shown} are not passed to it, so {cls}'s defaults stand for them"
        )


def plain_packing_note(declared: str | None) -> str:
    """Where `sample_packing=False` comes from for a run read as transformers' own TrainingArguments:
    the class the run parses into, named as the script names it when it is one of transformers'."""
    cls = declared if declared in _TRANSFORMERS_ARGS else "TrainingArguments"
    return f"{cls} has no packing and the Trainer does not pack: its default collator pads each batch ({PLAIN_PACKING_AT})"


def checkpoint_key(data: Any, path: str | None = None) -> str:
    """The key a checkpointing edit goes to: the one the file already uses, else the name the
    installed transformers reads without a deprecation warning (4.x has only the old name), unless
    the recipe's repository pins a transformers older than the first one read with the new name."""
    for key in CHECKPOINT_KEYS:
        if isinstance(data, dict) and key in data:
            return key
    if path:
        from ..frameworks.pins import pins, too_new

        pin = pins(path).get("transformers")
        if pin is not None and too_new("transformers", "activation_checkpointing", True, pin):
            return "gradient_checkpointing"
    from importlib.metadata import PackageNotFoundError, version

    try:
        major = int(version("transformers").split(".")[0])
    except (PackageNotFoundError, ValueError):
        return "gradient_checkpointing"  # accepted by transformers 4.x and, as an alias, by 5.x
    return "activation_checkpointing" if major >= 5 else "gradient_checkpointing"


class HFTrainerAdapter(Adapter):
    name = "hf-trainer"
    repeated_keys = (
        "trl 1.16.0 trl/scripts/utils.py:327 and transformers 5.25.0 transformers/hf_argparser.py:426 (yaml.safe_load keeps the last value of a repeated key)"
    )
    docs = TA_DOCS
    # A TrainingArguments/TRL config file is YAML (HfArgumentParser.parse_yaml_file) or JSON (parse_json_file,
    # transformers 4.34.0 hf_argparser.py:379-399), formats/jsontext.py
    suffixes = frozenset({".yaml", ".yml", ".json"})

    def apply_keys(self, text: str, data: Any, writes: dict[str, Any]) -> tuple[str, list[str]]:
        from .jsontext import JsonMap, apply_json_edits

        if not isinstance(data, JsonMap):
            return super().apply_keys(text, data, writes)
        renames = {k: v[RENAME] for k, v in writes.items() if isinstance(v, dict) and set(v) == {RENAME}}
        plain = {k: v for k, v in writes.items() if k not in renames}
        new = apply_json_edits(text, data, plain, renames)
        return (text, list(writes)) if new is None else (new, [])

    def apply(self, path: Path, text: str, data: Any, workload: WorkloadConfig, fields: dict[str, Any]) -> tuple[str, dict[str, str]]:
        from .jsontext import JsonMap, apply_json_edits

        if not isinstance(data, JsonMap):
            return super().apply(path, text, data, workload, fields)
        writes: dict[str, Any] = {}
        skipped: dict[str, str] = {}
        by_field: dict[str, dict[str, Any]] = {}
        for name, value in fields.items():
            if (elsewhere := set_elsewhere(workload, name)) is not None:
                skipped[name] = elsewhere  # the script the launch line runs sets it in code over this file's value
                continue
            w = self.writes(name, value, workload, data)
            if w is None:
                skipped[name] = elsewhere_reason(name, value, workload) or self.unwritable_reason(name)
            else:
                by_field[name] = w
                writes.update(w)
        new = apply_json_edits(text, data, writes) if writes else text
        if new is None:  # not in place (a nested object, a value over several lines): said, with where to change it
            for name, w in by_field.items():
                said = ", ".join(f"`{k}` to {json.dumps(v)}" + (f" (line {key_line(data, k)})" if key_line(data, k) else "") for k, v in w.items())
                skipped[name] = f"goblin could not write this into {Path(path).name} in place, keeping the rest of its text as it is; set {said} there"
            return text, skipped
        return new, skipped

    def detect(self, data: Any) -> int:
        if not isinstance(data, dict):
            return 0
        if "model_name_or_path" not in data:
            keys = set(data)
            hits = len(TA_ONLY_KEYS & keys)
            return 2 + hits if hits >= MIN_TA_HITS and keys & TA_BATCH_KEYS else 0
        hits = len(TRAINING_KEYS & set(data))
        return 4 + hits if hits >= 2 else 0

    def model_shape(self, r: Reader) -> ModelShape:
        if r.raw("model_name_or_path", "model")[0] is None and (own := self._script_model_key(r)) is not None:
            key, said = own
            shape = model_from(r, key, launch=self._parsed_model_word(r, key))
            r.notes.append(f"model: `{key}` of this file, {said}")
            src = r.sources.get("model")
            if src is not None and src.file == r.path and not src.note:
                r.sources["model"] = src.model_copy(update={"note": said})
            return shape
        if r.raw("model_name_or_path", "model")[0] is None and (fixed := self._script_model(r)) is not None:
            return fixed
        if r.raw("model_name_or_path", "model")[0] is None and (default := self._script_model_default(r)) is not None:
            return default
        if r.raw("model_name_or_path", "model")[0] is None and r.path.endswith((".json", ".yaml", ".yml")) and isinstance(r.data, dict):
            from .launchers import sibling_model

            found = sibling_model(r.path)
            if found is not None:  # the model file the same launch line passes (formats/launchers.sibling_model)
                model, file, line, how = found
                words = Reader(r.path, {"model_name_or_path": model})
                shape = model_from(words, "model_name_or_path")
                r.notes.extend(words.notes)
                r.sources["model"] = FieldSource(file=file, key="model_name_or_path", line=line, explicit=True, note=how)
                r.notes.append(f"model: {how}")
                return shape
            from .loader_json import loader_model

            loaded = loader_model(r.path)
            if loaded is not None and loaded.decides:
                r.notes.append(
                    f"model: {loaded.how}; that class also decides what it trains ({', '.join(loaded.decides)}), which goblin does not"
                    " read there, so the model is not priced (it would be priced as a full fine-tune)"
                )
            elif loaded is not None and (named := _shape_named(r, loaded.model)) is not None:  # a repository class's JSON (review13b #35)
                r.sources["model"] = FieldSource(file=loaded.file, key=None, line=loaded.line, explicit=True, note=loaded.how)
                r.notes.append(f"model: {loaded.how}")
                return named
        return model_from(r, "model_name_or_path", launch=self._parsed_model_word(r))

    @staticmethod
    def _script_model_key(r: Reader) -> tuple[str, str] | None:
        """(key, how it was read) where the script the launch line runs on this recipe loads its model from one field of its
        own argument classes (launched.Launched.model_field: `from_pretrained(script_args.model_id, ...)`) and the file
        sets that key (or the launch line passes it); None otherwise. Review11b #28: oci-amd-gpu-onboarding's
        `model_id: "/data/models/Meta-Llama-3-70B"`, which lora.py:112 loads."""
        launched = _recipe_script(r)
        if launched is None or launched.model_field is None:
            return None
        key, line, call = launched.model_field
        if r.raw(key)[0] is None:
            return None
        return key, f"the field {launched.script}:{line} loads as the model (`{call}`; launched by {launched.where})"

    @staticmethod
    def _script_model_default(r: Reader) -> ModelShape | None:
        """The default of the one field of the script's own argument classes its model loads read
        (launched.Launched.model_field), where neither this file nor the launch line sets that field: the parser fills
        it from the dataclass default (transformers v4.40.0 src/transformers/hf_argparser.py:216-217: the field's option
        takes `default=field.default`). Review12b row 35: llm_decisions
        train_agent_llm.py:72-74 `model_name` defaults to meta-llama/Meta-Llama-3-70B-Instruct; the YAML sets `model_id`."""
        launched = _recipe_script(r)
        if launched is None or launched.model_field is None:
            return None
        key, line, call = launched.model_field
        if r.raw(key)[0] is not None or HFTrainerAdapter._parsed_model_word(r, key) is not None:
            return None
        found = launched.defaults.get(key)
        if found is None or not isinstance(found[0], str) or not found[0]:
            return None
        model, shown, at, cls = found
        shape = _shape_named(r, model)
        if shape is None:
            return None
        how = (
            f"{launched.script}:{line} loads the field `{key}` as the model (`{call}`), which this file does not set: its default"
            f" {model} in {cls} ({shown}:{at}); {launched.script} is run on this file by {launched.where}"
        )
        file = launched.script_path if shown == launched.script and launched.script_path else shown
        r.sources["model"] = FieldSource(file=file, key=key, line=at, explicit=False, note=how)
        r.notes.append(f"model: {how}")
        return shape

    @staticmethod
    def _script_model(r: Reader) -> ModelShape | None:
        """The model the script run on this recipe fixes in its own code (launched.Launched.model_literal:
        `model_name = "Qwen/Qwen3-1.7B"` ... `from_pretrained(model_name, ...)`), where the file names none; None otherwise.
        Review11b #31: Qwen3-1.7b_RLHF scripts/train_lora.py:18,38-39."""
        launched = _recipe_script(r)
        if launched is None or launched.model_literal is None:
            return None
        model, line, call = launched.model_literal
        shape = _shape_named(r, model)
        if shape is None:
            return None
        how = f"{launched.script}:{line} loads {model} (`{call}`), fixed in its code; {launched.script} is run on this file by {launched.where}"
        r.sources["model"] = FieldSource(file=launched.script_path or launched.script, key=None, line=line, explicit=True, note=how)
        r.notes.append(f"model: {how}")
        return shape

    @staticmethod
    def _parsed_model_word(r: Reader, key: str = "model_name_or_path") -> tuple[str, str] | None:
        """(key, who sets it) where the script the launch line runs on this recipe parses the line's words over the file
        (TrlParser after `--config FILE`, parse_yaml_and_args after a recipe given first: launch_line.SCRIPT_FLAGS_AT, as
        `_launch_words` reads them): its `--model_name_or_path X` (or `--<key> X` of the field the script loads) is the model
        that runs."""
        from .launch_line import SCRIPT_FLAGS_AT
        from .launched import launched_script
        from .launchers import find_launch

        if getattr(r, "script", None) is not None or not r.path.endswith((".yaml", ".yml", ".json")) or not isinstance(r.data, dict):
            return None
        launch = find_launch(r.path)
        if launch is None or launch.commented or not launch.flag_form or not any(w[0] == key for w in launch.overrides):
            return None
        launched = launched_script(r.path)
        if launched is None or (launched.trl_parse is None if launch.flag_form == "config" else launched.yaml_args is None):
            return None
        return key, f"{launched.script} sets it over the file ({SCRIPT_FLAGS_AT[launch.flag_form]})"

    @staticmethod
    def _launched(r: Reader) -> Launched | None:
        """A YAML/JSON recipe: the script its repository's launch line runs on it, whose own argument
        classes' defaults fill the keys the file leaves out (formats/launched.py)."""
        launched = _recipe_script(r)
        if launched is None:
            return None
        only_read(r, launched)
        for key, (value, shown, line, cls) in launched.defaults.items():
            if key not in r.data:
                r.fallback[key] = (
                    value,
                    f"the default of the repository's {cls} ({shown}:{line}), which {launched.script} parses this file into ({launched.where})",
                )
        r.own_trainer = f"the repository's {launched.trainer} ({launched.own_trainer})" if launched.own_trainer else ""
        # fields the script sets in code on the parsed object (`replace(training_args, fp16=True)`): the run's, not the file's
        values, unread = launched.set_in_code(r.data)
        ran = f"{launched.script} is run on this file by {launched.where}"
        for key, (value, line, how) in values.items():
            r.code[key] = (value, launched.script_path or launched.script, line, f"{how}; {ran}")
        if "gradient_checkpointing" not in values and "gradient_checkpointing" not in unread and launched.text:
            from .checkpoint_call import checkpointing_call

            on = checkpointing_call(launched.text, module_level=True)  # at module level, no `if` around it: on, whatever the file says
            if on is not None:
                how = f"{launched.script}:{on} calls gradient_checkpointing_enable() on the model on every run, whatever this file says; {ran}"
                r.code["gradient_checkpointing"] = (True, launched.script_path or launched.script, on, how)
        r.code_unread = {key: f"{why}; {ran}" for key, why in unread.items()}
        r.notes.extend(f"{note}; {ran}" for note in launched.debug_notes)
        if launched.debug_modes:  # formats/pydebug.py: a debug mode the script leaves on is this run's
            r.values["debug_modes"] = [f"{what.replace(' at line ', f' at {launched.script} line ', 1)}; {ran}" for what, _ in launched.debug_modes]
            r.sources["debug_modes"] = FieldSource(file=launched.script_path or launched.script, key=None, line=launched.debug_modes[0][1], explicit=True)
        for key, (shown, line, cls) in launched.none_defaults.items():
            if key not in r.data and key not in r.fallback:
                said = f"the repository's {cls} ({shown}:{line}), which {launched.script} parses this file into ({launched.where}),"
                fill = launched.trainer_fills.get(key)
                if fill is not None:  # the repository's own trainer turns that None into its own value: that is the run's
                    file = launched.own_trainer.rsplit(":", 1)[0]
                    r.fallback[key] = (fill[0], f"{said} leaves it None, and {r.own_trainer} then sets {fill[0]} ({file}:{fill[1]}-{fill[2]})")
                else:
                    r.unset_by_repo[key] = said
        return launched

    def read(self, r: Reader) -> None:
        d = r.data
        launched = self._launched(r)
        if launched is not None:
            _launch_words(r, launched)
        quant = "4bit" if as_bool(d.get("load_in_4bit", False) or False) else "8bit" if as_bool(d.get("load_in_8bit", False) or False) else "none"
        r.values["quantization"] = quant
        if quant != "none":  # the file's own key: what a blocker or rule anchored on the quantization shows (blind review 15b #27)
            qkey = f"load_in_{quant}"
            found_q, _q, qline = get_path(d, qkey)
            if found_q:
                r.sources["quantization"] = FieldSource(file=r.path, key=qkey, line=qline, explicit=True)
        script_read: set[str] = set()  # fields the script the launch line runs sets in code goblin read (launched.py)
        if quant == "none" and launched is not None and isinstance(d, dict):
            # the script loads the model quantized itself (Firefly-LLaMA2-Chinese train.py:156-170 from_pretrained(load_in_4bit=True),
            # review6b #31): read when the call runs on this file
            kind, loads = launched.quantization(d)
            if kind is not None:
                quant = kind
                r.default("quantization", kind, f"{loads}; {launched.script} is run on this file by {launched.where}")
                r.notes.append(f"{loads}; {launched.script} is run on this file by {launched.where}: quantization {kind}")
                script_read.add("quantization")
            elif (unquant := launched.unquantized()) is not None:
                r.default("quantization", "none", f"{unquant}; {launched.script} is run on this file by {launched.where}")
                script_read.add("quantization")
        peft = as_bool(d.get("use_peft", False) or False)
        method = "qlora" if peft and quant != "none" else "lora" if peft else "full"
        if peft and as_bool(d.get("use_dora", False) or False):
            method = "dora"
        r.values["method"] = method
        trl_peft = peft  # TRL ModelConfig's use_peft: its LoRA defaults apply; a script's own LoraConfig has its own
        if not peft and launched is not None and isinstance(d, dict):
            # the repository's own key (`peft_enabled: true` read by its ModelArguments) decides an
            # `if` around get_peft_model in the script the launch line runs on this file (review5 #23/#24)
            runs, wraps = launched.adapter(d)
            if runs:
                peft = True
                method = "qlora" if quant != "none" else "lora"
                key = next((k for k in launched.fields if k in d and f"`{k}:" in wraps), None)
                _k, _v, line = r.raw(key) if key is not None else (None, None, None)
                if key is not None:
                    r.explicit("method", method, key, line)
                else:
                    r.default("method", method, wraps)
                    script_read.add("method")
                r.notes.append(f"{wraps}; {launched.script} is run on this file by {launched.where}: method {method}")
            elif runs is False and wraps:
                # the script has an adapter call and none runs on this file: its full fine-tune is read, not assumed
                r.default("method", "full", f"{wraps}; {launched.script} is run on this file by {launched.where}")
                script_read.add("method")
                r.notes.append(f"{wraps}; {launched.script} is run on this file by {launched.where}: method full")
            elif runs is None:
                r.default("method", "full", f"full fine-tuning assumed: {wraps}, which goblin cannot evaluate")
                r.notes.append(f"{wraps}, which goblin cannot evaluate: full fine-tuning assumed (checkpoint size and memory are a full run's)")
        read_prequantized(r, "model_name_or_path")
        if trl_peft:  # TRL ModelConfig: lora_dropout 0.05, lora_target_modules None: PEFT's per-model default, q/v for Llama
            r.values["lora_dropout"] = 0.05
            r.values["lora_targets"] = "attention"
            read_lora(r, dropout=("lora_dropout",), targets=("lora_target_modules", "target_modules"))
        elif peft:
            # the script's own LoraConfig (review11b #29 llm2vec run_mntp.py:96-111 covers all seven projections of a Llama):
            # TRL's q/v default is not the run's; every linear layer is priced (the most adapter memory), said as assumed
            r.default(
                "lora_targets",
                "all",
                f"the adapters {launched.script if launched else 'the script'} builds: every linear layer assumed (the most adapter memory)",
            )
            read_lora(r, dropout=("lora_dropout",), targets=("lora_target_modules", "target_modules"))
        declared = getattr(getattr(r, "script", None), "config_class", None)
        declared_how: str | None = None
        from ..frameworks import PLAIN_CLASSES, plain_trainer

        if launched is not None and launched.trainer is None and launched.preference is None and isinstance(d, dict):
            # the script builds several trainers under `if`s over the file's keys (Firefly train.py:397-416): the one
            # that runs on this file is the run's (review10b #28: DPOTrainer under `task_type: dpo`)
            from dataclasses import replace

            from .launched import TRL_PREFERENCE

            on = launched.trainer_on(d)
            if on is not None and on[0] in TRL_PREFERENCE:  # a copy: the script's reading is shared by the recipes it runs
                launched = replace(
                    launched, trainer=on[0], preference=(TRL_PREFERENCE[on[0]], f"{on[1]}; {launched.script} is run on this file by {launched.where}")
                )
        if declared is None and launched is not None and launched.preference is None:
            # the script the launch line runs parses this file into transformers' own TrainingArguments beside its own classes
            # (Firefly-LLaMA2-Chinese train.py:92-94 HfArgumentParser((QLoRAArguments, TrainingArguments)), review6b #31):
            # a key such as max_seq_length is its own class's field there, not TRL's
            named = [c for c in launched.parser_classes if c in PLAIN_CLASSES]
            if len(named) == 1 and not any(c.endswith("Config") for c in launched.parser_classes):
                declared = named[0]
                declared_how = (
                    f"{declared}, which {launched.script} parses this file into with {', '.join(c for c in launched.parser_classes if c != declared)}"
                )

        from_script = ""  # what the script the launch line runs says the trainer is, over the file's comments and path
        if declared is None and launched is not None:
            # the script the launch line runs decides the class the file is parsed into and the trainer built on it; a
            # comment (`# DPOTrainer arguments`) or a path word (`config_dpo.yaml`) is not code (review11b #21-#23)
            ran_on = f"{launched.script} is run on this file by {launched.where}"
            if launched.trl_args:
                declared = launched.trl_args
                from_script = f"{launched.script} parses this file into {launched.trl_args} ({launched.where})"
            elif launched.own_args and launched.own_trainer:  # with TRL's trainer on it, the TRL reading below stands
                declared = "TrainingArguments"
                declared_how = f"the repository's {launched.own_args}, which {launched.script} parses this file into ({launched.where})"
                from_script = declared_how
            elif launched.own_loop:
                # its own dataclasses and its own loop (open-instruct finetune.py, review15a #15/#17; potential-doodle sft.py,
                # review15b #22): read as transformers' plain keys, never TRL's defaults; its classes' defaults fill the rest
                declared = "TrainingArguments"
                declared_how = (
                    f"the repository's {', '.join(launched.parser_classes)}, which {launched.script} parses this file into and trains on in its own "
                    f"loop (`backward` at {launched.own_loop}, no Trainer; {launched.where})"
                )
            if from_script and (named_words := _comment_named(r, launched)):
                r.notes.append(
                    f"{named_words}, but {ran_on} and builds {launched.trainer or 'its own trainer'}: the script's code is the run's, not the file's words"
                )

        plain = plain_trainer(r.data, declared, r.path, r.text)
        own_loop = launched is not None and bool(launched.own_loop) and declared_how is not None and launched.own_loop in declared_how
        if plain:
            how = declared_how or declared or "TrainingArguments: no key only TRL reads, no TRL trainer named"
            r.framework = f"transformers {tables.table('transformers')['version']} ({how})"
            if launched is not None and from_script:
                _own_trainer_kind(r, launched, peft)
        else:
            from ..frameworks import trl_classes

            found = trl_classes(r.data if isinstance(r.data, dict) else {}, declared, r.path, r.text)
            r.framework = f"trl {tables.table('trl')['version']} ({found.label()})"
            kind = {"DPOConfig": "dpo", "KTOConfig": "kto", "ORPOConfig": "orpo", "CPOConfig": "cpo"}.get(found.one or "")
            named_from_keys = False
            how = f"trl {tables.table('trl')['version']} {found.one}: {found.how}"
            if from_script and launched is not None:
                how = f"trl {tables.table('trl')['version']} {found.one}: {from_script}"
                # the label keeps the one class in its parentheses (rollout.config_class, the release rewrite read it); the
                # script that decided it is said in a note
                r.framework = f"trl {tables.table('trl')['version']} ({found.one})"
                r.notes.append(f"trainer config class {found.one}: {from_script}")
            if launched is not None and launched.preference is not None and (from_script or (kind and kind != launched.preference[0])):
                # the trainer the script builds on it (TRL's, or a subclass of TRL's) over the file's words
                kind, read_as = launched.preference
                how = f"{read_as}; {launched.script} is run on this file by {launched.where}"
                r.framework = f"trl {tables.table('trl')['version']} ({launched.trainer or kind} in {launched.script}, run on this file by {launched.where})"
            if not kind and not found.one and launched is not None and launched.preference is not None:
                # the file names no trainer, but the script its repository runs on it does (SimPO's run_simpo.py)
                kind, how = launched.preference
                how = f"{how}; {launched.script} is run on this file by {launched.where}"
                r.framework = f"trl {tables.table('trl')['version']} ({launched.trainer or kind} in {launched.script}, run on this file by {launched.where})"
            if kind:
                pk, pre, pline = r.raw("precompute_ref_log_probs")
                read_preference(
                    r,
                    kind,
                    key=pk,
                    line=pline,
                    adapter_ref=peft,
                    ref_passed=False,
                    precompute=pk is not None and as_bool(pre),
                    how=how,
                    kl_off=trl_kl_off(r, kind),
                )
            elif not found.one and (rl := online_trainer_from_keys([k for k in (d if isinstance(d, dict) else {}) if isinstance(k, str)])):
                # generation keys (num_generations, use_vllm, vllm_*): an online-RL trainer, whose rollouts the cost
                # model does not hold (rules.online_rl: inconclusive with that reason), not a preference trainer
                r.framework = f"trl {tables.table('trl')['version']} ({rl.classes[0]})"
                # one note (review10b #22): the class read, and why edits are still checked against every candidate
                r.notes.append(
                    f"TRL config class: {rl.classes[0]}, named from the file's keys ({', '.join(rl.keys)}; of the classes with them, it has"
                    f" the most of the file's TRL keys, best at {rl.releases}"
                    + (f"; also fits {', '.join(rl.classes[1:4])}" if len(rl.classes) > 1 else "")
                    + "); "
                    f"the file names no trainer, so edits are offered only where every class its keys fit accepts them ({len(found.classes)}: "
                    f"{', '.join(found.classes[:6])}" + (", ..." if len(found.classes) > 6 else "") + ")"
                )
                named_from_keys = True
            elif not found.one and (said := sorted(PREFERENCE_KEYS & set(d if isinstance(d, dict) else {}))):
                # keys of a preference trainer, and no class to price it by: never a clean PASS (rules.unmodelled_trainer)
                r.framework = f"{r.framework[:-1]}; {UNRESOLVED_PREFERENCE}: {', '.join(said[:4])})" if r.framework else r.framework
            if not found.one and not named_from_keys:
                r.notes.append(
                    f"TRL config class: {found.how}; edits are offered only where every candidate class accepts them ({', '.join(found.classes[:6])}"
                    + (", ..." if len(found.classes) > 6 else "")
                    + ")"
                )
        from ..frameworks.history import older_names
        from ..frameworks.pins import pins

        keys = [k for k in (d if isinstance(d, dict) else {}) if isinstance(k, str)]
        for new, (old, why) in older_names(keys, () if plain else found.classes, pins(r.path, r.text), "transformers" if plain else "trl").items():
            r.aliases[new] = old
            _k, _v, at = r.raw(old)
            r.notes.append(f"`{old}`" + (f" (line {at})" if at else "") + f" is read as {new}: {why}")
        for pin in pins(r.path, r.text).values():
            if pin.dist not in ("transformers", "trl") or not pin.version:
                continue  # facts.KEY_SINCE records keys of these two; a submodule's version is unknown
            if pin.unpinned:  # no version written: read at the release its co-pin admits (pins._unpinned_copinned)
                r.notes.append(f"{pin.where}, read as {pin.dist} {pin.version}: an edit adding a key first seen in a later {pin.dist} is not offered")
                continue
            r.notes.append(f"the recipe pins {pin.spec} ({pin.where}): an edit adding a key first seen in a later {pin.dist} is not offered")
        if plain:
            # transformers' own TrainingArguments: bf16=False, gradient_checkpointing off.
            ta = tables.class_fields("transformers", "TrainingArguments")
            if not explicit_precision(r):
                r.default(
                    "precision",
                    "fp32",
                    f"{launched.script} trains in its own loop (`backward` at {launched.own_loop}): no mixed precision unless its launch sets one"
                    if own_loop and launched is not None
                    else f"TrainingArguments bf16/fp16 unset: fp32 (transformers {tables.table('transformers')['version']} training_args.py:{ta['bf16']['line']})",
                )
            k, dt, line = dtype_key(r, "torch_dtype", "dtype")
            if k is not None and dt is not None:
                r.explicit("weight_dtype", dt, k, line)
        else:
            trl_precision(r, found.classes)
        launch_precision(r)  # neither bf16 nor fp16: the accelerate launch's mixed precision stands
        if own_loop and launched is not None and (src := r.sources.get("precision")) is not None and not src.explicit and not src.unread:
            # the launch's mixed precision goblin could not read (a DeepSpeed file of its own, review15b #22 potential-doodle
            # run_sft.sh:11-16 with `"bf16": {"enabled": "auto"}`) or the script's Accelerator(...) may set it: not judged
            if (src.note or "").startswith(f"{launched.script} trains in its own loop"):
                src.unread = True
                src.note = f"{src.note}; goblin did not read one, and its Accelerator may set it: not judged"
        r.take(
            "seq_len",
            ("max_seq_length", "max_length", "model_max_length"),
            default=1024,
            note="TrainingArguments has no sequence length (your script sets it): assumed 1024"
            if plain
            else f"TRL SFTConfig/DPOConfig max_length=1024 ({TRL_DOCS})",
            convert=positive,
        )
        if not r.sources["seq_len"].explicit and plain and launched is not None and "block_size" in launched.fields:
            # the repository's data class's `block_size` (transformers' run_clm DataTrainingArguments: the length texts are
            # grouped into, examples/pytorch/language-modeling/run_clm.py `group_texts`): the run's sequence length (review8b #29)
            k, size, line = r.raw("block_size")
            if k is not None:
                try:
                    r.explicit("seq_len", positive(size), k, line)
                except ValueError:
                    pass
                else:
                    r.notes.append(f"sequence length: `{k}: {size}`, a field of the repository's argument classes that {launched.script} parses this file into")
        if not r.sources["seq_len"].explicit:
            _online_seq_len(r)
            _old_dpo_seq_len(r)
        attn_default, attn_note = _attention_default(r)
        r.take(
            "attention",
            ("attn_implementation", "model_init_kwargs.attn_implementation"),
            default=attn_default,
            note=attn_note,
            convert=attention_from,
        )
        ak, av, aline = r.raw("attn_implementation")
        if launched is not None and launched.attention_unread and ak is not None and r.sources["attention"].key == ak:
            # the script the launch line runs builds the model without the file's key (review8b #22: tengxiao1/DIL
            # scripts/run.py:232-240 passes use_flash_attention_2 only): transformers' own choice is the run's
            unread_said = f"`{ak}: {av}` (line {aline}) has no effect: {launched.attention_unread}; {launched.script} is run on this file by {launched.where}"
            r.default("attention", attn_default, f"{unread_said}; {attn_note}")
            r.notes.append(unread_said)
        k, v, line = r.raw("use_flash_attention_2", "model_init_kwargs.use_flash_attention_2")
        if k is not None and not r.sources["attention"].explicit and str(v).lower() in {"true", "1", "yes"}:
            # transformers 4.x's flag: 4.36.2 modeling_utils.py:1227-1237 and :1269 (deprecated; selects flash_attention_2),
            # taken from 4.34.0 to 4.52.x only (formats/legacy_flash.py): at another release the load raises
            from .legacy_flash import legacy_flash, rejected_note

            # the file the keyword is in: the script, or a repository module that builds its model (pybuilder.py)
            loc = getattr(getattr(r, "script", None), "where", {}).get("use_flash_attention_2")
            shown = os.path.relpath(loc.file, os.path.dirname(r.path)) if loc is not None and loc.file else os.path.basename(r.path)
            rejected = legacy_flash(r.path, r.text, shown, line or 0) if line is not None and r.path.endswith(".py") else None
            if rejected is not None:
                r.values["legacy_flash"] = rejected
            if rejected is None or rejected.assumed:  # unpinned: the release the script was written for takes it
                r.explicit("attention", "flash", k, line)
            else:
                legacy_said = rejected_note(rejected, shown)
                r.sources["attention"] = FieldSource(file=r.path, line=line, note=legacy_said, unread=True)
                r.notes.append(legacy_said)
        if launched is not None:
            _script_attention(r, launched)
        ckpt_default, ckpt_note = (
            (
                False,
                (
                    "TrainingArguments.gradient_checkpointing unset: off at every transformers release read (False at 4.36.2 training_args.py:1175-1176 "
                    "through 5.22.2 :900; from 5.23.0 it is unset and __post_init__ turns unset into off, 5.25.0 :926-927,1544-1545)"
                ),
            )
            if plain
            else _trl_checkpoint_default(r, found.classes)
        )
        r.take(
            "gradient_checkpointing",
            CHECKPOINT_KEYS,
            default=ckpt_default,
            note=ckpt_note,
            convert=lambda v: True if isinstance(v, (str, int)) and not isinstance(v, bool) and str(v).lower() not in {"false", "0", "no"} else as_bool(v),
        )
        packing_note = plain_packing_note(declared) if plain else f"SFTConfig.packing=False ({TRL_DOCS})"
        r.take("sample_packing", ("packing", "padding_free"), default=False, note=packing_note, convert=as_bool)
        if r.values.get("sample_packing") and not plain:
            _skipped_packing(r)
        if launched is not None and launched.script_path:
            from .contrastive import read_contrastive

            read_contrastive(r, launched.script_path, f"{launched.script} is run on this file by {launched.where}")  # review11b #30
            from .seqcls import read_classifier

            read_classifier(r, launched.script_path, f"{launched.script} is run on this file by {launched.where}")  # review13b #37
        if (
            not r.values.get("sample_packing")
            and r.values.get("packing_blocked") is None
            and (cannot := _no_packing(r, None if plain else found.one, launched)) is not None
        ):
            r.values["packing_blocked"] = cannot
            r.notes.append(cannot)
            if not r.sources["sample_packing"].explicit:  # the default collator's padding is not this run's premise
                r.default("sample_packing", False, cannot)
        if (
            own_loop
            and launched is not None
            and not r.values.get("sample_packing")
            and r.values.get("packing_blocked") is None
            and not {"packing", "padding_free"} & launched.own_fields
        ):
            # the script's own loop packs only what its own code packs: no key of this file turns packing on (review15a #15)
            cannot = (
                f"{launched.script} trains in its own loop (`backward` at {launched.own_loop}) and {', '.join(launched.parser_classes)} has no "
                f"packing option: packing would be a change of its code; {launched.script} is run on this file by {launched.where}"
            )
            r.values["packing_blocked"] = cannot
            r.notes.append(cannot)
            if not r.sources["sample_packing"].explicit:
                r.default("sample_packing", False, cannot)
        read_common(
            r, batch_default=8, batch_note=f"TrainingArguments.per_device_train_batch_size=8: {where('trl', 'per_device_train_batch_size')}", plain=plain
        )
        read_world_size(r, r.text)
        vllm_device_gpu(r)  # trl 0.14-0.15 GRPO: the vLLM GPU beside the training processes, in the topology note
        if launched is not None:
            _script_weights_dtype(r, launched, script_read)
            _model_built_in_code(r, launched, script_read)
        mark_code_unread(r)
        if own_loop and launched is not None:
            _own_loop_unread(r, launched)
        _pure_half(r, launched)

    def writes(self, field: str, value: Any, workload: WorkloadConfig, data: Any) -> dict[str, Any] | None:
        if field == "attention":
            return {"attn_implementation": {"flash": "flash_attention_2", "flex": "flex_attention"}.get(value, value)}
        if field == "sample_packing":
            return {"packing": value}
        if field == "quantization" and value == "none":
            return {k: False for k in ("load_in_4bit", "load_in_8bit") if k in data} or None
        if field == "method" and value == "lora":
            return {"use_peft": True}
        return hf_writes(
            field,
            value,
            workload,
            data,
            batch_key="per_device_train_batch_size",
            checkpoint_key=checkpoint_key(data, workload.path),
            liger_key="use_liger_kernel",
        )


# TRL's ModelConfig holds use_peft, load_in_4bit/8bit and dtype (trl 1.16.0 trl/trainer/model_config.py:89, :103,
# :152, :156); a script whose parser holds none of its classes builds the model, adapter and quantization in its own code
MODEL_CONFIG_CLASSES = ("ModelConfig", "ModelArguments")
SCRIPT_BUILT_FIELDS = ("method", "quantization", "weight_dtype")


def _shape_named(r: Reader, model: str) -> ModelShape | None:
    """The shape of a model the launched script names in its code (a literal or a field's default), read as the file's
    `model_name_or_path` would be, its notes kept; None where that reading refuses the name."""
    words = Reader(r.path, {"model_name_or_path": model})
    try:
        shape = model_from(words, "model_name_or_path")
    except ConfigError:
        return None
    r.notes.extend(words.notes)
    return shape


def _recipe_script(r: Reader) -> Launched | None:
    """The script a launch line runs on this YAML/JSON recipe (launched.launched_script); None for a Python script's own
    reader, another file kind, or data that is not a mapping."""
    if getattr(r, "script", None) is not None or not r.path.endswith((".yaml", ".yml", ".json")) or not isinstance(r.data, dict):
        return None
    from .launched import launched_script

    return launched_script(r.path)


def _comment_named(r: Reader, launched: Launched) -> str:
    """ "the file's own line `# DPOTrainer arguments` names DPOConfig" where the file's comments, launcher lines or path name
    a TRL config class other than the one the script the launch line runs parses it into; "" otherwise."""
    from ..frameworks import trainer_named

    classes, where_ = trainer_named(r.path, r.text)
    if not classes or (launched.trl_args and launched.trl_args in classes):
        return ""
    return f"{where_} names {' or '.join(classes)}"


def _own_trainer_kind(r: Reader, launched: Launched, peft: bool) -> None:
    """What the trainer a launched script builds on a file parsed into the repository's own TrainingArguments subclass
    does, read from its code (launched._preference_of, custom_preference), never from the file's comments or path."""
    ran = f"{launched.script} is run on this file by {launched.where}"
    if launched.preference is not None:
        kind, said = launched.preference
        pk, pre, pline = r.raw("precompute_ref_log_probs")
        read_preference(r, kind, key=pk, line=pline, adapter_ref=peft, ref_passed=False, precompute=pk is not None and as_bool(pre), how=f"{said}; {ran}")
        r.framework = f"{r.framework[:-1]}; trainer {launched.trainer})" if r.framework and launched.trainer else r.framework
    elif launched.custom is not None:
        # a preference-named repository trainer whose sequences and reference goblin cannot read: rules.unmodelled_trainer
        r.framework = f"{r.framework[:-1]}; {launched.custom})" if r.framework else r.framework
        r.notes.append(f"trainer class: {launched.custom}; goblin does not know its sequences per example or reference model, so memory is not judged; {ran}")
    elif launched.own_trainer and launched.trainer:
        r.notes.append(
            f"trainer class: the repository's {launched.trainer} ({launched.own_trainer}), which subclasses none of TRL's trainers; goblin prices"
            f" one sequence per example and no reference model, and does not read what else its code does; {ran}"
        )


# fields read from a TrainingArguments default (the Trainer's optimizer, dataloader, compile, checkpoint saving, Liger):
# a script's own loop builds its own (open-instruct finetune.py:774-781 its own AdamW, :751 its own DataLoader @f2b1523), so
# that default is not the run's
OWN_LOOP_UNREAD = ("optimizer", "dataloader_workers", "pin_memory", "torch_compile", "compile_mode", "fused_kernels", "save_interval", "save_only_model")


def _own_loop_unread(r: Reader, launched: Launched) -> None:
    """A script training in its own loop (Launched.own_loop): the fields above that no key of this file and no field
    default of its own classes gave are TrainingArguments' defaults, which that loop never reads: kept for the
    projection, judged by no rule (FieldSource.unread), said in one note."""
    why = f"{launched.script} trains in its own loop (`backward` at {launched.own_loop}), not the Trainer: TrainingArguments' default is not the run's"
    defaults = [
        name
        for name in OWN_LOOP_UNREAD
        if (src := r.sources.get(name)) is not None and not (src.explicit or src.unread or (src.note or "").startswith("the default of the repository's"))
    ]
    mark_unread(r, defaults, why)


def _launch_words(r: Reader, launched: Launched) -> None:
    """The `--key value` words the launch line passes to the script beside this recipe, where the script's parser sets
    them over the file (launch_line.SCRIPT_FLAGS_AT: TrlParser after `--config FILE`, parse_yaml_and_args after a recipe
    given first; review8b #29 `torchrun ... train.py config.yaml --deepspeed=deepspeed_z3_config_bf16.json` was read as
    DDP). Each is then the field's value, sourced at the launch line, and an edit of it is not written into the file."""
    from .base import IN_LAUNCH_LINE
    from .launch_line import SCRIPT_FLAGS_AT
    from .launchers import find_launch
    from .pyargs import word_value

    launch = find_launch(r.path)
    if launch is None or launch.commented or not launch.overrides or not launch.flag_form:
        return
    parses = launched.trl_parse is not None if launch.flag_form == "config" else launched.yaml_args is not None
    if not parses:
        return
    cite = SCRIPT_FLAGS_AT[launch.flag_form]
    taken: list[str] = []
    for key, raw, file, line, how in launch.overrides:
        if key in r.over:
            continue
        value = word_value(raw)
        own, own_value, own_line = r.raw(key)
        kept = f"; the file's own `{own}: {own_value}` (line {own_line}) gives way" if own is not None and own_line else ""
        note = f"{how}: {launched.script} sets it over the file ({cite}){kept}; change it {IN_LAUNCH_LINE}"
        r.over[key] = (value, FieldSource(file=file, key=key, line=line, explicit=True, note=note))
        taken.append(how)
    for key, why in launch.unresolved:
        r.notes.append(f"{why}: {launched.script} sets `{key}` over the file ({cite}); goblin cannot read it")
    if taken:
        r.notes.append(f"the launch line passes {'; '.join(taken)}, which {launched.script} sets over this file ({cite})")


def _script_weights_dtype(r: Reader, launched: Launched, script_read: set[str]) -> None:
    """The weights' dtype the script the launch line runs loads the model in, where the file sets no dtype key goblin
    reads and every model load that runs on it passes one goblin evaluates (Launched.weights_dtype; review10b #28:
    Firefly train.py:262,274,282 loads float16 under `fp16: true`). The source is the script's line: an edit of this
    file does not change it."""
    src = r.sources.get("weight_dtype")
    if (src is not None and src.explicit) or not isinstance(r.data, dict):
        return
    got = launched.weights_dtype(r.data)
    if got is None:
        return
    dt, line, said = got
    said = f"{said}; {launched.script} is run on this file by {launched.where}"
    r.values["weight_dtype"] = dt
    r.sources["weight_dtype"] = FieldSource(file=launched.script_path or launched.script, key=SCRIPT_DTYPE_KEY, line=line, explicit=True, note=said)
    r.notes.append(f"{said}: weights {dt}")
    script_read.add("weight_dtype")


def _script_attention(r: Reader, launched: Launched) -> None:
    """The attention the script the launch line runs asks for in its model load (`attn_implementation="..."`, or transformers
    4.x's `use_flash_attention_2=True`), where the file names none (review14b #34: KGLQA-model run_sft.sh runs
    train_qlora_flash_attn.py, whose from_pretrained passes use_flash_attention_2=True at line 97). The legacy keyword is
    flash-attention 2 only at the releases that take it (formats/legacy_flash.py); at another the load raises, the
    attention is not judged and blocker.legacy_flash_kwarg says so. The source is the script's line: an edit of this
    file would change nothing."""
    from .legacy_flash import ACCEPTED_CITE, legacy_flash, rejected_note

    src = r.sources.get("attention")
    if (src is not None and src.explicit) or not isinstance(r.data, dict):
        return
    got = launched.load_attention(r.data)
    if got is None:
        return
    value, line, written = got
    file = launched.script_path or launched.script
    run_by = f"{launched.script} is run on this file by {launched.where}"
    if value == "use_flash_attention_2":
        rejected = legacy_flash(r.path, r.text, launched.script, line)
        if rejected is not None:
            r.values["legacy_flash"] = rejected  # blocker.legacy_flash_kwarg (a requirement when no pin fixes the release)
        if rejected is not None and not rejected.assumed:
            said = f"{rejected_note(rejected, launched.script)}; {run_by}"
            r.sources["attention"] = FieldSource(file=file, line=line, note=said, unread=True)
            r.notes.append(said)
            return
        value, written = "flash_attention_2", f"{written} (transformers' legacy keyword for flash_attention_2, {ACCEPTED_CITE})"
    try:
        attention = attention_from(value)
    except ValueError:
        return
    said = f"`{written}` in the model load at {launched.script}:{line}; {run_by}: change it {IN_CODE}"
    r.values["attention"] = attention
    r.sources["attention"] = FieldSource(file=file, key=SCRIPT_ATTENTION_KEY, line=line, explicit=True, note=said)
    r.notes.append(f"attention {attention}: {said}")


# FieldSource.key of an attention read from the script's model load (hf_trainer._script_attention): no key of the file
SCRIPT_ATTENTION_KEY = "from_pretrained attn_implementation"


def _pure_half(r: Reader, launched: Launched | None) -> None:
    """Half-precision weights with neither bf16 nor fp16 on train in pure half precision (semantics.pure_half_precision;
    review11b #29/#30: llm2vec's run_mntp.py loads `torch_dtype: bfloat16` from the recipe and sets no flag). A dtype key
    of the file counts only where the script run on it reads that field (`model_args.torch_dtype`), or no script is known;
    the script's own autocast keeps fp32 as read. A Python script is judged by formats/python.py once its model load
    is read, with its own autocast."""
    from .pyscript import Script

    if isinstance(getattr(r, "script", None), Script):
        return
    weights = r.sources.get("weight_dtype")
    certain = True
    if launched is not None and weights is not None and weights.key and weights.key != SCRIPT_DTYPE_KEY:
        # TRL's trainer passes `model_init_kwargs` itself; any other key only where the script reads a field of that name
        name = weights.key.rsplit(".", 1)[-1]
        certain = weights.key.startswith("model_init_kwargs.") or (
            launched.tree is not None and any(isinstance(n, ast.Attribute) and n.attr == name and isinstance(n.ctx, ast.Load) for n in ast.walk(launched.tree))
        )
    script = launched.script if launched is not None else ""
    pure_half_precision(r, script, launched.tree if launched is not None else None, certain)


# FieldSource.key of a weight dtype read from the script's model load (hf_trainer._script_weights_dtype): no key of the file
SCRIPT_DTYPE_KEY = "from_pretrained torch_dtype"


def _model_built_in_code(r: Reader, launched: Launched, script_read: set[str] | None = None) -> None:
    """A recipe its repository's script parses into its own argument classes and no TRL ModelConfig (Firefly's
    train.py: CustomizedArguments + TrainingArguments, its `train_mode` choosing LoRA/QLoRA and its torch_dtype
    following `fp16`): the method, quantization and weight dtype the file does not set in a key goblin reads
    are set by that code, which goblin does not run. They keep the assumed value for the projection, said so,
    and no rule judges them (schemas.FieldSource.unread)."""
    classes = launched.parser_classes
    if not classes or any(c in MODEL_CONFIG_CLASSES for c in classes):
        return
    base = (
        f"{launched.script} parses this file into {', '.join(classes)} ({launched.where}), not TRL's ModelConfig: "
        "it loads the model, any adapter and quantization in its own code"
    )
    said = f"{base}, which goblin does not run"
    left = [name for name in SCRIPT_BUILT_FIELDS if name not in (script_read or set())]
    if not left:
        return  # the method, quantization and weight dtype were all read from calls that run on this file
    for name in left:
        src = r.sources.get(name)
        if src is not None and src.explicit:
            continue
        value = r.values.get(name)
        r.sources[name] = FieldSource(file=r.path, note=f"{said}; {value} assumed for the projection, no rule judges it", unread=True)
    shown = {"method": "training method", "quantization": "quantization", "weight_dtype": "weight dtype"}
    names = [shown[n] for n in left]
    what = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    read = [shown[n] for n in SCRIPT_BUILT_FIELDS if n not in left]
    note = f"{base}; goblin read its {' and '.join(read)} from calls there that run on this file" if read else said
    r.notes.append(f"{note}: the {what} {'is' if len(names) == 1 else 'are'} assumed, not read")


# The TRL releases whose DPOTrainer, given max_length None (DPOConfig's default, or no DPOConfig at all before
# 0.8), warns and uses 512: read in the wheels at 0.7.10 (trl/trainer/dpo_trainer.py:156 `max_length: Optional[int] =
# None`, :281-287 `max_length = 512`), 0.7.11 (:295-301), 0.8.6 (:299-305), 0.9.6 (:393-399 `args.max_length = 512`;
# dpo_config.py:103 `max_length: Optional[int] = None`), 0.10.1 (:670-676) and 0.11.4 (:659-665). From 0.12 the None
# is kept (0.12.2 dpo_trainer.py:525 `self.max_length = args.max_length`, :1255 truncates only when set); from 0.14.0
# DPOConfig's own default is 1024 (key_history: trl/trainer/dpo_config.py:195@1.16.0).
OLD_DPO_MAX_LENGTH = ("0.7.10", "0.11.4")
OLD_DPO_CITE = {
    "0.7.10": "trl/trainer/dpo_trainer.py:281-287@0.7.10",
    "0.7.11": "trl/trainer/dpo_trainer.py:295-301@0.7.11",
    "0.8.6": "trl/trainer/dpo_trainer.py:299-305@0.8.6",
    "0.9.6": "trl/trainer/dpo_trainer.py:393-399@0.9.6",
    "0.10.1": "trl/trainer/dpo_trainer.py:670-676@0.10.1",
    "0.11.4": "trl/trainer/dpo_trainer.py:659-665@0.11.4",
}


def _old_dpo_seq_len(r: Reader) -> None:
    """seq_len of a DPO recipe that leaves max_length unset and pins a TRL release whose DPOTrainer then uses 512, not
    TRL 0.14+'s DPOConfig max_length=1024 (review6b #25: trl==0.7.10, the repository's DPOConfig leaves max_length None and
    its own copy of DPOTrainer, scripts/trainer.py:284-290, sets 512 like TRL's). A default the repository's own class
    declares (Reader.fallback) that is a length already won in Reader.take; only its None is followed here."""
    import re

    from packaging.version import InvalidVersion, Version

    from ..frameworks.history import reading

    if not re.search(r"\((?:DPOConfig\b|DPOTrainer\b|dpo\b)", r.framework or ""):
        return
    if any(k in r.fallback for k in ("max_seq_length", "max_length", "model_max_length")):
        return  # the repository's own class or trainer declares the length: taken in Reader.take
    if r.own_trainer:
        return  # the script builds the repository's own trainer class: what it does with None is not TRL's to say
    got = reading(r.framework, r.path, r.text)
    if got is None or got.assumed or got.name != "trl":
        return
    try:
        v = Version(got.version)
    except InvalidVersion:
        return
    low, high = OLD_DPO_MAX_LENGTH
    if Version("0.12.0") <= v < Version("0.14.0"):
        # DPOConfig max_length None and kept: the sequences run at their own length, which goblin does not know here
        r.default(
            "seq_len",
            r.values.get("seq_len", 1024),
            f"max_length not set in the config: at trl {got.version} ({got.spec}, {got.source}) DPOConfig's max_length is None and "
            "DPOTrainer truncates nothing (trl/trainer/dpo_config.py:158@0.12.2, dpo_trainer.py:1255-1256@0.12.2; dpo_config.py:173@0.13.0, "
            "dpo_trainer.py:1132-1133@0.13.0): the samples run at their own length, 1024 tokens assumed",
        )
        return
    if not Version(low) <= v <= Version(high):
        return
    near = max((k for k in OLD_DPO_CITE if Version(k) <= v), key=Version)
    own = r.unset_by_repo.get("max_length")
    said = f"{own} leaves it None, and " if own is not None else ""
    r.default(
        "seq_len",
        512,
        f"max_length not set in the config: {said}TRL's DPOTrainer at trl {got.version} ({got.spec}, {got.source}) then uses 512 "
        f"({OLD_DPO_CITE[near]}; the same at every release read from {low} to {high})",
    )


# The online-RL config classes whose training step runs on prompt + completion tokens: GRPOTrainer concatenates the
# prompt and completion ids before the policy's forward (trl 1.16.0 trl/trainer/grpo_trainer.py:3024 in _compute_loss;
# 0.15.2 :699 in compute_loss); RLOOTrainer from 0.22 is built on the same generation loop (rollout.MODELLED).
ONLINE_SEQ_CLASSES = ("GRPOConfig", "RLOOConfig")


def _online_seq_len(r: Reader) -> None:
    """seq_len of a TRL GRPO/RLOO config: max_prompt_length + max_completion_length, the config's values or the
    class's default at the TRL release the recipe pins (rollout.trl_default, cited), never SFTConfig's max_length
    (review4 #15: 1024 "SFTConfig/DPOConfig max_length" for max_prompt_length 512 + max_completion_length 3584).
    Left alone when the completion length is neither set nor a known default."""
    import re

    from ..rollout import ASSUMED_PROMPT, ASSUMED_PROMPT_CITE, trl_default

    m = re.search(r"\((\w+Config)\b", r.framework or "")
    cls = m.group(1) if m else None
    if cls not in ONLINE_SEQ_CLASSES:
        return
    from ..frameworks.history import reading

    # the release the recipe is read as, the one the rollout split prices (tools/audit_tools._trl_reading)
    got_version = reading(r.framework, r.path, r.text)
    version = got_version.version if got_version is not None and got_version.version[:1].isdigit() else str(tables.table("trl")["version"])
    from ..rollout_onpolicy import ASSUMED_PROMPT as ONPOLICY_PROMPT
    from ..rollout_onpolicy import modelled as onpolicy_rloo

    onpolicy = onpolicy_rloo(cls, version)  # RLOO 0.11-0.21: response_length, no prompt length (review12b #27)
    parts: list[tuple[int, str]] = []
    for key in ("max_prompt_length", "response_length" if onpolicy else "max_completion_length"):
        if onpolicy and key == "max_prompt_length":
            parts.append((ONPOLICY_PROMPT, f"no prompt length in RLOOConfig before trl 0.22: {ONPOLICY_PROMPT} assumed"))
            continue
        k, v, line = r.raw(key)
        if k is not None:
            try:
                n = positive(v)
            except (TypeError, ValueError):
                return  # not a length goblin can read: keep the assumed seq_len and its note
            over = r.over.get(k)  # a launch line's word (Reader.raw gives it no line of this file): said at its own file and line
            at = f"{shown_file(over[1].file, r.path)} line {over[1].line}" if over is not None and over[1].file and over[1].line else None
            parts.append((n, f"{key} {n} (line {line})" if line else f"{key} {n} ({at or 'the config'})"))
            continue
        got = trl_default(cls, key, version)
        if got is not None and isinstance(got.value, int) and not isinstance(got.value, bool) and got.value > 0:
            parts.append((got.value, f"{key} unset: {got.value} ({got.source})"))
        elif key == "max_prompt_length":
            parts.append((ASSUMED_PROMPT, f"no prompt length: {ASSUMED_PROMPT} assumed ({ASSUMED_PROMPT_CITE})"))
        else:
            return
    total = sum(n for n, _ in parts)
    how = "trl v0.13.0 trl/trainer/rloo_trainer.py:415 (the policy's forward over query + response)" if onpolicy else "trl trainer/grpo_trainer.py:3024@1.16.0"
    r.default("seq_len", total, f"{cls} trains on prompt + completion ({how}): " + " + ".join(t for _, t in parts) + f" = {total} tokens")


def _trl_checkpoint_default(r: Reader, classes: tuple[str, ...]) -> tuple[bool, str]:
    """TRL's gradient_checkpointing default at the release the recipe pins: its config classes set True
    only from trl 0.22 (0.22.2 trl/trainer/sft_config.py:111-112; 1.16.0 base_config.py:62); before, they
    inherit TrainingArguments' False (transformers 4.36.2 training_args.py:1175-1176). Without a TRL pin,
    the newest release's True."""
    lacks = trl_release_lacks(r, classes, "gradient_checkpointing")
    if lacks is None:
        return (True, f"TRL configs turn gradient checkpointing on by default: {CITES['trl.gradient_checkpointing']}")
    version, spec, where, config_class = lacks
    return (
        False,
        f"gradient_checkpointing unset: off at trl {version} ({spec}, {where}): {config_class} of that release does not set it, so "
        "TrainingArguments' False applies (transformers 4.36.2 training_args.py:1175-1176); TRL's own True arrived in trl 0.22 "
        "(0.22.2 trl/trainer/sft_config.py:111-112)",
    )


def _attention_default(r: Reader) -> tuple[str, str]:
    """transformers' own default at the pinned release (formats/attn_default.py: SDPA from 4.36, eager before)."""
    from .attn_default import transformers_attention_default

    value, note, _ = transformers_attention_default(r)
    return value, note
