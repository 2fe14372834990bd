"""The framework classes and keywords the Python script reader looks for: TrainingArguments and the TRL
config classes (from the shipped tables), the argument parser classes, `from_pretrained`'s model keywords,
list-typed fields and dtype words."""

from __future__ import annotations

import re


def _trl_config_classes() -> frozenset[str]:
    """Every TRL trainer config class in the shipped table (SFTConfig ... AsyncGRPOConfig), plus PPOConfig of older TRL."""
    from ..frameworks.tables import shipped

    names = {c for c in shipped("trl").get("classes", {}) if c.endswith("Config") and c not in {"ModelConfig", "DatasetConfig", "DatasetMixtureConfig"}}
    return frozenset(names | {"PPOConfig"})


HF_ARGS = frozenset({"TrainingArguments", "Seq2SeqTrainingArguments"})
CONFIG_CLASSES = HF_ARGS | _trl_config_classes()
CONFIG_CALL = re.compile(r"\b(" + "|".join(sorted(CONFIG_CLASSES)) + r")\s*\(")
PARSER_CALL = re.compile(r"\b(HfArgumentParser|TrlParser|H4ArgumentParser)\s*\(")
ANY_CALL = re.compile(f"{CONFIG_CALL.pattern}|{PARSER_CALL.pattern}")
# a script that trains in a loop of its own (formats/pyloop.py)
LOOP_MARKER = re.compile(r"\bAccelerator\s*\(|\bdeepspeed\s*\.\s*initialize\s*\(|\bFullyShardedDataParallel\b")
MODEL_KEYS = {
    "torch_dtype": "torch_dtype",
    "dtype": "torch_dtype",
    "attn_implementation": "attn_implementation",
    # the private keyword sets the config's `_attn_implementation` property, which the load honours: transformers 4.51.3
    # models/auto/auto_factory.py:533 passes the keywords to AutoConfig.from_pretrained, configuration_utils.py:753-759
    # sets every one the config has (the property, :355-368), modeling_utils.py:2060,2083 takes it as the requested
    # implementation; 5.25.0 models/auto/auto_factory.py:405-407, configuration_utils.py:1100-1109 and the property :600-610, checked at
    # modeling_utils.py:1258-1259
    "_attn_implementation": "attn_implementation",
    "use_flash_attention_2": "use_flash_attention_2",  # transformers 4.x's flag (4.36.2 modeling_utils.py:1227, 1269)
    "quantization_config": "quantization_config",
    # transformers 4.x's legacy flags: 4.36.2 modeling_utils.py:2745-2746 pops them and :2874-2880 builds
    # a BitsAndBytesConfig from them when no quantization_config is given.
    "load_in_8bit": "load_in_8bit",
    "load_in_4bit": "load_in_4bit",
}
# framework fields of a list type, which HfArgumentParser reads with nargs="+" (hf_argparser.py:220-222@5.25.0): trl 1.16.0
# trl/trainer/model_config.py:119-127 (lora_target_modules, lora_target_parameters, lora_modules_to_save: list[str] | None),
# transformers 5.25.0 training_args.py:1377 (label_names: list[str] | None)
LIST_FIELDS = frozenset({"lora_target_modules", "lora_target_parameters", "lora_modules_to_save", "label_names"})
DTYPES = {"bfloat16": "bfloat16", "bf16": "bfloat16", "float16": "float16", "half": "float16", "float32": "float32", "float": "float32"}


# TRL's SFTTrainer takes `packing` itself before SFTConfig holds it, and a true keyword is set over the config's after:
# trl 0.8.6 trl/trainer/sft_trainer.py:142 (`packing: Optional[bool] = False`, the trainer's own argument); trl 0.11.4
# trl/trainer/sft_trainer.py:194-198 (`if packing: ... args.packing = packing`, "will override the one in the SFTConfig");
# the same at trl 0.12.0 :211-215. A false keyword overrides nothing from 0.9 on (`if packing:`), so only a true one is read.
TRAINER_PACKING_AT = "trl/trainer/sft_trainer.py:142@0.8.6 and :194-198@0.11.4"
