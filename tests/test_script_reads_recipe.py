"""A YAML/JSON recipe judged as the script its repository runs on it reads it (review8b class 1): an
attention key the script never hands to the model is not the run's attention. Nothing is executed."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.formats import load_config

from .repo_files import write_tree

RECIPE = """\
model_name_or_path: mistralai/Mistral-7B-v0.1
attn_implementation: flash_attention_2
bf16: true
per_device_train_batch_size: 2
gradient_accumulation_steps: 16
max_length: 1024
beta: 2.0
output_dir: out
"""

CONFIGS = """\
from dataclasses import dataclass, field
from typing import Optional


@dataclass
class ModelArguments:
    model_name_or_path: Optional[str] = field(default=None)
    attn_implementation: Optional[str] = field(default=None)
    use_flash_attention_2: bool = field(default=False)
    load_in_4bit: bool = field(default=False)


def get_quantization_config(model_args):
    return None if not model_args.load_in_4bit else {"load_in_4bit": True}
"""

# tengxiao1/DIL scripts/run.py:232-240: the model kwargs pass use_flash_attention_2 only
SCRIPT = """\
from transformers import AutoModelForCausalLM, HfArgumentParser, TrainingArguments
from handbook import ModelArguments, get_quantization_config
from trl import DPOTrainer

parser = HfArgumentParser((ModelArguments, TrainingArguments))
model_args, training_args = parser.parse()
print(f"{model_args}")
model_kwargs = dict(use_flash_attention_2=model_args.use_flash_attention_2, quantization_config=get_quantization_config(model_args))
model = AutoModelForCausalLM.from_pretrained(model_args.model_name_or_path, **model_kwargs)
DPOTrainer(model, args=training_args).train()
"""


def _tree(tmp_path: Path, script: str, configs: str = CONFIGS) -> Path:
    files = {
        "handbook.py": configs,
        "scripts/run.py": script,
        "recipes/simpo.yaml": RECIPE,
        "run.sh": "accelerate launch scripts/run.py recipes/simpo.yaml\n",
        "requirements.txt": "transformers==4.40.2\n",
    }
    return write_tree(tmp_path, files, git=True) / "recipes" / "simpo.yaml"


def test_an_attention_key_the_script_never_passes_to_the_model_is_not_the_runs(tmp_path: Path) -> None:
    w = load_config(_tree(tmp_path, SCRIPT)).workload
    assert w.attention == "sdpa"
    note = w.sources["attention"].note or ""
    assert not w.sources["attention"].explicit
    assert "`attn_implementation: flash_attention_2` (line 2) has no effect: scripts/run.py never reads `attn_implementation` from ModelArguments" in note
    assert "transformers==4.40.2" in note and "None" not in note


def test_a_script_that_passes_the_attention_key_keeps_the_files_attention(tmp_path: Path) -> None:
    passed = SCRIPT.replace("model_kwargs = dict(", "model_kwargs = dict(attn_implementation=model_args.attn_implementation, ")
    w = load_config(_tree(tmp_path, passed)).workload
    assert w.attention == "flash" and w.sources["attention"].explicit


def test_model_arguments_handed_to_a_helper_that_names_the_key_keep_the_files_attention(tmp_path: Path) -> None:
    # the handbook's get_model(model_args, ...) reads attn_implementation in the repository's own module
    helper = CONFIGS + "\n\ndef get_model(model_args):\n    return dict(attn_implementation=model_args.attn_implementation)\n"
    script = SCRIPT.replace("get_quantization_config\n", "get_quantization_config, get_model\n").replace(
        "model = AutoModelForCausalLM", "model_kwargs.update(get_model(model_args))\nmodel = AutoModelForCausalLM"
    )
    w = load_config(_tree(tmp_path / "a", script, helper)).workload
    assert w.attention == "flash" and w.sources["attention"].explicit
    # handed to a function of an installed package: goblin cannot tell, so the file's key stands
    script = SCRIPT.replace('print(f"{model_args}")', "from somepkg import build\nbuild(model_args)")
    w = load_config(_tree(tmp_path / "b", script)).workload
    assert w.attention == "flash"


def test_a_recipe_run_by_trls_own_script_keeps_its_attention(tmp_path: Path) -> None:
    # TRL's sft.py parses the file into TRL's ModelConfig (an installed class goblin does not read): the key stands
    script = (
        "from trl import ModelConfig, SFTConfig, SFTTrainer, TrlParser\n"
        "parser = TrlParser((ModelConfig, SFTConfig))\nmodel_args, training_args = parser.parse_args_and_config()\n"
        "SFTTrainer(model=model_args.model_name_or_path, args=training_args).train()\n"
    )
    w = load_config(_tree(tmp_path, script)).workload
    assert w.attention == "flash" and w.sources["attention"].explicit


OWN_SFT_CONFIG = """\
from dataclasses import dataclass, field
from typing import Optional

import transformers
{imports}

@dataclass
class SFTConfig{bases}:
    model_name_or_path: Optional[str] = field(default=None)
    max_length: int = field(default=1024)


def main():
    parser = transformers.HfArgumentParser((SFTConfig, transformers.TrainingArguments))
    sft_args, training_args = parser.parse_args_into_dataclasses()
    model = transformers.AutoModelForCausalLM.from_pretrained(sft_args.model_name_or_path)
    transformers.Trainer(model=model, args=training_args).train()


if __name__ == "__main__":
    main()
"""


def _script_tree(tmp_path: Path, imports: str, bases: str) -> Path:
    files = {
        "train/train_sft.py": OWN_SFT_CONFIG.format(imports=imports, bases=bases),
        "README.md": (
            "```\ndeepspeed train/train_sft.py --model_name_or_path meta-llama/Llama-2-7b-hf --output_dir out --bf16 True --per_device_train_batch_size 2\n```\n"
        ),
    }
    return write_tree(tmp_path, files, git=True) / "train" / "train_sft.py"


def test_a_class_the_repository_defines_is_never_trls_by_name(tmp_path: Path) -> None:
    # 631068264/TigerBot train/train_sft.py:14 `class SFTConfig:` beside transformers.TrainingArguments (review8b #32)
    w = load_config(_script_tree(tmp_path, "", "")).workload
    assert w.gradient_checkpointing is False
    assert "TrainingArguments.gradient_checkpointing unset" in (w.sources["gradient_checkpointing"].note or "")
    assert "trl" not in (w.framework or "").lower()


def test_a_repository_subclass_of_trls_sftconfig_is_still_trls(tmp_path: Path) -> None:
    w = load_config(_script_tree(tmp_path, "import trl\n", "(trl.SFTConfig)")).workload
    assert "trl" in (w.framework or "").lower()
    assert w.gradient_checkpointing is True  # TRL configs' default (trl 1.16.0 trl/trainer/base_config.py:62)


COLLATED = """\
from transformers import AutoModelForCausalLM, Trainer, TrainingArguments{imports}
{collator_class}
model = AutoModelForCausalLM.from_pretrained("meta-llama/Llama-2-7b-hf")
args = TrainingArguments(output_dir="out", per_device_train_batch_size=4, gradient_accumulation_steps=4, bf16=True)
trainer = Trainer(model=model, args=args, train_dataset=None, data_collator={collator})
trainer.train()
"""


def _collated(tmp_path: Path, imports: str, collator_class: str, collator: str) -> Path:
    files = {"finetune.py": COLLATED.format(imports=imports, collator_class=collator_class, collator=collator)}
    return write_tree(tmp_path, files, git=True) / "finetune.py"


def test_a_scripts_own_collator_is_not_the_trainers_padding_default(tmp_path: Path) -> None:
    # sudy-super/coencoder_utils finetune_mn.py:469 data_collator=DataCollatorAssistantWithContext(tokenizer) (review8b #36)
    own = "\n\nclass DataCollatorAssistantWithContext:\n    def __call__(self, batch):\n        return batch\n\n"
    w = load_config(_collated(tmp_path, "", own, "DataCollatorAssistantWithContext()")).workload
    assert w.packing_blocked is not None and "finetune.py line 11 passes Trainer a collator of the repository's own" in w.packing_blocked
    note = w.sources["sample_packing"].note or ""
    assert "default collator" not in note and "collator of the repository's own" in note


def test_a_transformers_collator_keeps_the_packing_reading(tmp_path: Path) -> None:
    w = load_config(_collated(tmp_path, ", DataCollatorForSeq2Seq", "", "DataCollatorForSeq2Seq(None)")).workload
    assert w.packing_blocked is None
    assert "default collator pads each batch" in (w.sources["sample_packing"].note or "")


TRAINING_ARGS = """\
per_device_train_batch_size: 4
gradient_accumulation_steps: 4
learning_rate: 2.0e-5
bf16: true
evaluation_strategy: steps
eval_steps: 25
optim: adamw_8bit
max_steps: -1
"""

# sriksmachi/text2sql-slm-finetuning-grpo src/grpo_trainer.py:289,426-449: the YAML loaded into a dict, keys passed one by one
DICT_SCRIPT = """\
import yaml
from trl import GRPOConfig, GRPOTrainer


def main(path):
    train_cfg = yaml.safe_load(open(path))
    train_cfg["logging_steps"] = 5
    cfg = GRPOConfig(
        output_dir="out",
        per_device_train_batch_size=train_cfg.get("per_device_train_batch_size", 3),
        gradient_accumulation_steps=train_cfg.get("gradient_accumulation_steps", 6),
        learning_rate=train_cfg.get("learning_rate", 2e-5),
        bf16=train_cfg["bf16"],
        eval_steps=train_cfg.get("eval_steps", 25),
    )
    GRPOTrainer(model="Qwen/Qwen2.5-3B-Instruct", args=cfg).train()
"""

AZURE_JOB = """\
$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json
type: command
code: ../../
command: >-
  python src/grpo_trainer.py
  --training-args configs/training_args.yaml
"""


def _dict_tree(tmp_path: Path, script: str) -> Path:
    files = {"src/grpo_trainer.py": script, "configs/training_args.yaml": TRAINING_ARGS, "azure/ml_jobs/grpo_train_job.yaml": AZURE_JOB}
    return write_tree(tmp_path, files, git=True) / "configs" / "training_args.yaml"


def test_keys_a_script_never_passes_to_its_config_class_are_not_the_runs(tmp_path: Path) -> None:
    from pytest_goblin.formats.launched import launched_script

    config = _dict_tree(tmp_path, DICT_SCRIPT)
    launched = launched_script(config)
    assert launched is not None and launched.where == "azure/ml_jobs/grpo_train_job.yaml line 4"
    w = load_config(config).workload
    assert w.eval_runs is False  # evaluation_strategy is never passed: GRPOConfig's own default stands
    assert w.optimizer != "adamw_8bit" and not w.sources["optimizer"].explicit
    assert w.micro_batch_size == 4 and w.sources["micro_batch_size"].explicit
    said = next(n for n in w.notes if "only the keys it reads" in n)
    assert "`evaluation_strategy`, `optim`, `max_steps` are not passed to it, so GRPOConfig's defaults stand for them" in said


def test_a_dict_handed_on_whole_keeps_every_key(tmp_path: Path) -> None:
    script = DICT_SCRIPT.replace('    train_cfg["logging_steps"] = 5\n', '    train_cfg["logging_steps"] = 5\n    print(**train_cfg)\n')
    w = load_config(_dict_tree(tmp_path, script)).workload
    assert w.optimizer == "adamw_8bit" and w.sources["optimizer"].explicit
    assert not any("only the keys it reads" in n for n in w.notes)


def test_a_key_the_script_never_passes_gets_no_key_finding(tmp_path: Path) -> None:
    from pytest_goblin import blockers
    from pytest_goblin.hardware import get_hardware

    def keys(root: Path, script: str) -> set[str | None]:
        config = _dict_tree(root, script)
        (root / "requirements.txt").write_text("transformers==4.56.2\ntrl==0.22.2\n")
        return {f.key for f in blockers.findings(load_config(config), get_hardware("mi300x")) if f.rule_id.startswith("blocker.keys_")}

    assert "evaluation_strategy" not in keys(tmp_path / "a", DICT_SCRIPT)
    # the dict handed on whole: every key reaches GRPOConfig, and transformers 4.56.2 has no evaluation_strategy
    whole = DICT_SCRIPT.replace('    train_cfg["logging_steps"] = 5\n', '    train_cfg["logging_steps"] = 5\n    print(**train_cfg)\n')
    assert "evaluation_strategy" in keys(tmp_path / "b", whole)
