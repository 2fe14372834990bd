"""LoRA gated by a script flag the launch line sets (lora19): an HfArgumentParser field `use_peft_lora: bool = False`
with `--use_peft_lora True` (HfArgumentParser's string_to_bool words), a LoraConfig built unguarded but applied only by
a guarded get_peft_model, and a trainer's `peft_config=` built by a repository helper goblin does not follow (the shape
of huggingface/peft examples/sft/train.py + utils.py + run_peft.sh). Nothing is executed."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.formats import load_config

from .repo_files import write_tree

ARGS = """\
from dataclasses import dataclass


@dataclass
class ModelArguments:
    model_name_or_path: str = "meta-llama/Llama-2-7b-hf"
    use_peft_lora: bool = False
"""
WRAP = """\
import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM, HfArgumentParser, TrainingArguments, Trainer
from src.args import ModelArguments


def main():
    parser = HfArgumentParser((ModelArguments, TrainingArguments))
    args, training_args = parser.parse_args_into_dataclasses()
    model = AutoModelForCausalLM.from_pretrained(args.model_name_or_path, torch_dtype=torch.bfloat16)
    peft_config = LoraConfig(r=8)
    if args.use_peft_lora:
        model = get_peft_model(model, peft_config)
    Trainer(model=model, args=training_args).train()


if __name__ == "__main__":
    main()
"""
IFEXP = """\
import torch
from peft import LoraConfig
from transformers import AutoModelForCausalLM, HfArgumentParser, TrainingArguments
from trl import SFTTrainer
from src.args import ModelArguments

parser = HfArgumentParser((ModelArguments, TrainingArguments))
model_args, training_args = parser.parse_args_into_dataclasses()
model = AutoModelForCausalLM.from_pretrained(model_args.model_name_or_path, torch_dtype=torch.bfloat16)
peft_config = LoraConfig(r=8) if model_args.use_peft_lora else None
SFTTrainer(model=model, args=training_args, peft_config=peft_config).train()
"""
HELPER = """\
from peft import LoraConfig
from transformers import AutoModelForCausalLM


def create_and_prepare_model(args, training_args):
    peft_config = None
    model = AutoModelForCausalLM.from_pretrained(args.model_name_or_path)
    if args.use_peft_lora:
        peft_config = LoraConfig(r=8)
    return model, peft_config
"""
BY_HELPER = """\
from transformers import HfArgumentParser, TrainingArguments
from trl import SFTTrainer
from src.args import ModelArguments
from utils import create_and_prepare_model

parser = HfArgumentParser((ModelArguments, TrainingArguments))
model_args, training_args = parser.parse_args_into_dataclasses()
model, peft_config = create_and_prepare_model(model_args, training_args)
SFTTrainer(model=model, args=training_args, peft_config=peft_config).train()
"""


def _repo(tmp_path: Path, script: str, flag: str | None) -> Path:
    words = f" --use_peft_lora {flag}" if flag is not None else ""
    files = {
        "src/args.py": ARGS,
        "utils.py": HELPER,
        "train.py": script,
        "run.sh": f"torchrun --nproc_per_node 8 train.py{words} --bf16 True --output_dir out\n",
    }
    return write_tree(tmp_path, files, git=True) / "train.py"


@pytest.mark.parametrize("word", ["True", "true", "1", "yes"])
def test_the_launch_lines_flag_turns_on_a_guarded_wrap(tmp_path: Path, word: str) -> None:
    w = load_config(_repo(tmp_path, WRAP, word)).workload
    assert w.method == "lora"
    assert any(f"the `if` at line 12 is true (`--use_peft_lora {word}` is passed by run.sh line 1)" in n for n in w.notes)


@pytest.mark.parametrize("word", ["False", None])
def test_an_unguarded_lora_config_applied_only_under_a_false_flag_is_a_full_run(tmp_path: Path, word: str | None) -> None:
    w = load_config(_repo(tmp_path, WRAP, word)).workload
    assert w.method == "full"
    assert not any("LoRA" in n or "LoraConfig" in n for n in w.notes)


def test_a_config_built_if_the_flag_and_handed_to_sfttrainer_is_lora(tmp_path: Path) -> None:
    assert load_config(_repo(tmp_path, IFEXP, "True")).workload.method == "lora"


def test_the_same_with_the_flag_left_at_its_default_is_full(tmp_path: Path) -> None:
    w = load_config(_repo(tmp_path, IFEXP, None)).workload
    assert w.method == "full" and not (w.sources.get("method") and w.sources["method"].unread)


def test_an_adapter_config_from_a_helper_goblin_does_not_follow_leaves_the_method_unread(tmp_path: Path) -> None:
    w = load_config(_repo(tmp_path, BY_HELPER, "True")).workload
    src = w.sources["method"]
    assert src.unread
    assert "`SFTTrainer(peft_config=peft_config)` at line 9 takes an adapter config that `create_and_prepare_model(...)` (line 8) builds" in (src.note or "")
    assert "None" not in (src.note or "")


def test_a_trainer_given_no_adapter_config_keeps_a_read_full_method(tmp_path: Path) -> None:
    script = BY_HELPER.replace(", peft_config=peft_config", ", peft_config=None")
    w = load_config(_repo(tmp_path, script, "True")).workload
    assert w.method == "full" and not (w.sources.get("method") and w.sources["method"].unread)
