"""LoRA set by the repository's own key or code (issue 23, review5 class 2: #23/#24 `peft_enabled: true`
in a TRL recipe read by the script's own ModelArguments; #29 `if training_args.peft_path is not None:`
with a declared `default=None`). Nothing is executed."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.formats import load_config

from .repo_files import write_file, write_tree

# The shape of jonathanlu31/final_project scripts/run_dpo.py:24,100-111 and src/reasoning/configs.py:57
CONFIGS = """\
from dataclasses import dataclass, field


@dataclass
class ModelArguments:
    model_name_or_path: str = field(default="Qwen/Qwen3-8B")
    peft_enabled: bool = field(default=False)
    lora_r: int = field(default=16)
"""
SCRIPT = """\
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM, HfArgumentParser
from trl import DPOConfig, DPOTrainer
from configs import ModelArguments

parser = HfArgumentParser((ModelArguments, DPOConfig))
model_args, training_args = parser.parse_yaml_file("x")
model = AutoModelForCausalLM.from_pretrained(model_args.model_name_or_path)
if model_args.peft_enabled:
    model = get_peft_model(model, LoraConfig(r=model_args.lora_r))
DPOTrainer(model=model, args=training_args).train()
"""
RECIPE = """\
model_name_or_path: Qwen/Qwen3-8B
bf16: true
per_device_train_batch_size: 1
gradient_accumulation_steps: 8
learning_rate: 5.0e-6
beta: 0.01
max_length: 4096
output_dir: out
"""


def _repo(tmp_path: Path, recipe: str, script: str = SCRIPT) -> Path:
    files = {
        "scripts/configs.py": CONFIGS,
        "scripts/run_dpo.py": script,
        "run.sh": "accelerate launch scripts/run_dpo.py --config recipes/dpo_lora.yaml\n",
        "recipes/dpo_lora.yaml": recipe,
    }
    return write_tree(tmp_path, files, git=True) / "recipes" / "dpo_lora.yaml"


def test_the_recipes_own_key_turns_on_the_scripts_lora(tmp_path: Path) -> None:
    w = load_config(_repo(tmp_path, RECIPE + "peft_enabled: true\n")).workload
    assert w.method == "lora"
    src = w.sources["method"]
    assert src.explicit and src.key == "peft_enabled" and src.line == 9
    assert any(
        "`get_peft_model(...)` at scripts/run_dpo.py:10 wraps the model in a LoRA adapter: the `if` at line 9 is true (`peft_enabled: true` in the file)" in n
        for n in w.notes
    )


def test_a_recipe_that_leaves_the_key_at_its_false_default_is_full(tmp_path: Path) -> None:
    w = load_config(_repo(tmp_path, RECIPE)).workload
    assert w.method == "full"
    w = load_config(_repo(tmp_path, RECIPE + "peft_enabled: false\n")).workload
    assert w.method == "full" and not any("LoRA adapter" in n for n in w.notes)


def test_the_key_defaulting_to_true_in_the_repositorys_class_turns_it_on(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    config = _repo(tmp_path, RECIPE)
    write_file(tmp_path, "scripts/configs.py", CONFIGS.replace("peft_enabled: bool = field(default=False)", "peft_enabled: bool = field(default=True)"))
    w = load_config(config).workload
    assert w.method == "lora" and not w.sources["method"].explicit
    assert "`peft_enabled` takes its default true" in (w.sources["method"].note or "")


def test_an_if_goblin_cannot_evaluate_says_full_fine_tuning_was_assumed(tmp_path: Path) -> None:
    script = SCRIPT.replace("if model_args.peft_enabled:", "if model_args.peft_enabled and torch.cuda.device_count() > 1:")
    w = load_config(_repo(tmp_path, RECIPE + "peft_enabled: true\n", script)).workload
    assert w.method == "full"
    assert "full fine-tuning assumed" in (w.sources["method"].note or "")
    assert any("full fine-tuning assumed (checkpoint size and memory are a full run's)" in n for n in w.notes)


# ymcui/Chinese-LLaMA-Alpaca-2 scripts/training/run_clm_sft_with_peft.py:242,428-450: `peft_path` declared
# `default=None`, not passed by run_sft.sh: the `else` branch builds the adapter.
PEFT_PATH = """\
from dataclasses import dataclass, field
from typing import Optional
import transformers
from transformers import AutoModelForCausalLM, HfArgumentParser, Trainer
from peft import LoraConfig, PeftModel, get_peft_model


@dataclass
class MyTrainingArguments(transformers.TrainingArguments):
    peft_path: Optional[str] = field(default=None)
    full_finetuning: Optional[bool] = field(default=False)


parser = HfArgumentParser((MyTrainingArguments,))
(training_args,) = parser.parse_args_into_dataclasses()
model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-7B")
if not training_args.full_finetuning:
    if training_args.peft_path is not None:
        model = PeftModel.from_pretrained(model, training_args.peft_path)
    else:
        model = get_peft_model(model, LoraConfig(r=64))
Trainer(model=model, args=training_args).train()
"""


def test_a_declared_none_default_decides_an_is_not_none_test(tmp_path: Path) -> None:
    path = write_file(tmp_path, "run_clm_sft_with_peft.py", PEFT_PATH)
    write_file(tmp_path, "run_sft.sh", "torchrun --nproc_per_node 1 run_clm_sft_with_peft.py --bf16 --output_dir o\n")
    w = load_config(path).workload
    assert w.method == "lora"
    assert any("`get_peft_model(...)` at line 21 runs as the script is launched" in n and "the `if` at line 18 is false" in n for n in w.notes)


def test_a_passed_path_takes_the_other_branch(tmp_path: Path) -> None:
    path = write_file(tmp_path, "run_clm_sft_with_peft.py", PEFT_PATH)
    write_file(tmp_path, "run_sft.sh", "torchrun --nproc_per_node 1 run_clm_sft_with_peft.py --peft_path ckpt --bf16 --output_dir o\n")
    w = load_config(path).workload
    assert w.method == "full"  # PeftModel.from_pretrained without is_trainable: the adapter is loaded frozen
    write_file(tmp_path, "run_sft.sh", "torchrun --nproc_per_node 1 run_clm_sft_with_peft.py --full_finetuning True --bf16 --output_dir o\n")
    assert load_config(path).workload.method == "full"


SAVES = RECIPE.replace("Qwen/Qwen3-8B", "Qwen/Qwen2.5-7B") + "save_strategy: steps\nsave_steps: 10\nmax_steps: 1000\n"


def test_the_checkpoint_finding_prices_a_full_run_only_when_the_run_is_full(tmp_path: Path) -> None:
    from pytest_goblin.options import build_settings
    from pytest_goblin.service import audit_file

    # firing: the `if` cannot be read, the full-checkpoint finding says full fine-tuning was assumed and why
    script = SCRIPT.replace("if model_args.peft_enabled:", "if model_args.peft_enabled and torch.cuda.device_count() > 1:")
    config = _repo(tmp_path / "unknown", SAVES + "peft_enabled: true\n", script)
    report = audit_file(config, build_settings({}), shown_as="recipes/dpo_lora.yaml").report
    assert report is not None
    finding = next(f for f in report.findings if f.rule_id == "job.frequent_full_checkpoints")
    assert "method full (not set; full fine-tuning assumed: `get_peft_model(...)` at scripts/run_dpo.py:10 is under the `if` at line 9" in finding.message
    # must not fire: the recipe's key turns the script's LoRA on, so only the adapters are saved
    config = _repo(tmp_path / "lora", SAVES + "peft_enabled: true\n")
    report = audit_file(config, build_settings({}), shown_as="recipes/dpo_lora.yaml").report
    assert report is not None and not any(f.rule_id == "job.frequent_full_checkpoints" for f in report.findings)


# NJUDeepEngine/meteora meteora_train.py:258-264: every parameter frozen but the adapters'
FROZEN = """\
import transformers
from transformers import AutoModelForCausalLM, Trainer, TrainingArguments
from peft import PeftModel

model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-7B"), "adapters")
for name, weight in model.named_parameters():
    if "moe_gate" in name or "lora_" in name:
        weight.requires_grad = True
    else:
        weight.requires_grad = False
Trainer(model=model, args=TrainingArguments(output_dir="o", bf16=True)).train()
"""


def test_a_base_frozen_by_hand_around_its_adapters_is_an_adapter_run(tmp_path: Path) -> None:
    w = load_config(write_file(tmp_path, "train.py", FROZEN)).workload
    assert w.method == "lora"
    assert any("the loop over `model.named_parameters()` at line 6 freezes every parameter but the adapter's (the `if` at line 7" in n for n in w.notes)


def test_a_partial_freeze_of_other_layers_is_not_an_adapter_run(tmp_path: Path) -> None:
    text = FROZEN.replace('"moe_gate" in name or "lora_" in name', '"embed_tokens" in name')
    w = load_config(write_file(tmp_path, "train.py", text)).workload
    assert w.method == "full" and not any("freezes every parameter" in n for n in w.notes)
    text = FROZEN.replace("for name, weight", "if False:\n  for name, weight").replace("\n    ", "\n      ")
    assert load_config(write_file(tmp_path, "train.py", text)).workload.method == "full"  # a loop that never runs
