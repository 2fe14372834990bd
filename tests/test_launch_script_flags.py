"""Launch-line words a script's parser sets over its recipe (review8b #29/#30): `torchrun ... train.py config.yaml
--deepspeed=zero3.json` was read as DDP, and 61.5 GB per GPU projected for a run the repository trains on 40 GB GPUs.
H4ArgumentParser.parse_yaml_and_args sets `--field=value` words over the YAML; TrlParser the words beside `--config`.
A script that parses the file alone takes none. Nothing is executed."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.formats import load_config

from .repo_files import write_tree

RECIPE = """\
model_name_or_path: meta-llama/Llama-2-7b-hf
bf16: true
gradient_checkpointing: true
per_device_train_batch_size: 1
gradient_accumulation_steps: 1
block_size: 128
output_dir: out
"""
DS = '{"zero_optimization": {"stage": 3}, "train_micro_batch_size_per_gpu": "auto"}\n'
H4_SCRIPT = """\
import os, sys
from dataclasses import dataclass, field
from typing import Optional
from transformers import HfArgumentParser, Trainer, TrainingArguments


@dataclass
class DataArguments:
    block_size: Optional[int] = field(default=None)


class H4ArgumentParser(HfArgumentParser):
    def parse_yaml_and_args(self, yaml_arg, other_args=None):
        return self.parse_yaml_file(yaml_arg)


parser = H4ArgumentParser((DataArguments, TrainingArguments))
if len(sys.argv) > 2 and sys.argv[1].endswith(".yaml"):
    data_args, training_args = parser.parse_yaml_and_args(os.path.abspath(sys.argv[1]), sys.argv[2:])
else:
    data_args, training_args = parser.parse_args_into_dataclasses()
Trainer(args=training_args).train()
"""
PLAIN_SCRIPT = """\
import sys
from dataclasses import dataclass, field
from typing import Optional
from transformers import HfArgumentParser, Trainer, TrainingArguments


@dataclass
class DataArguments:
    block_size: Optional[int] = field(default=None)


parser = HfArgumentParser((DataArguments, TrainingArguments))
data_args, training_args = parser.parse_yaml_file(sys.argv[1])
Trainer(args=training_args).train()
"""


def _tree(root: Path, script: str, launch: str) -> Path:
    files = {"chat/train.py": script, "chat/zero3.json": DS, "chat/train.sh": launch, "chat/config.yaml": RECIPE}
    return write_tree(root, files, git=True) / "chat" / "config.yaml"


def test_a_field_value_word_after_the_recipe_is_set_over_it_by_parse_yaml_and_args(tmp_path: Path) -> None:
    config = _tree(tmp_path, H4_SCRIPT, "torchrun --nproc_per_node=4 train.py config.yaml --deepspeed=zero3.json --per_device_train_batch_size=8\n")
    w = load_config(config).workload
    assert (w.strategy, w.zero_stage, w.world_size) == ("deepspeed", 3, 4)
    assert w.micro_batch_size == 8
    src = w.sources["micro_batch_size"]
    assert src.file.endswith("train.sh") and src.line == 1 and src.explicit
    assert "the file's own `per_device_train_batch_size: 1` (line 4) gives way" in (src.note or "")
    assert "in the launch line" in (src.note or "")  # an edit of it is not written into the YAML
    assert w.seq_len == 128 and w.sources["seq_len"].key == "block_size"  # the repository's DataArguments field


def test_words_the_script_does_not_parse_over_the_file_are_not_taken(tmp_path: Path) -> None:
    # parse_yaml_file(sys.argv[1]) reads the file alone: the launch line's words change nothing
    config = _tree(tmp_path, PLAIN_SCRIPT, "torchrun --nproc_per_node=4 train.py config.yaml --deepspeed=zero3.json\n")
    w = load_config(config).workload
    assert w.strategy == "ddp" and w.micro_batch_size == 1
    assert not any("sets it over the file" in (s.note or "") for s in w.sources.values())


def test_a_space_separated_pair_after_a_positional_recipe_is_not_split_by_parse_yaml_and_args(tmp_path: Path) -> None:
    config = _tree(tmp_path, H4_SCRIPT, "torchrun --nproc_per_node=4 train.py config.yaml --deepspeed zero3.json\n")
    w = load_config(config).workload
    assert w.strategy == "ddp"


def test_trlparser_sets_the_words_beside_config_over_the_file(tmp_path: Path) -> None:
    script = (
        "from trl import SFTConfig, SFTTrainer, TrlParser, ModelConfig, ScriptArguments\n"
        "parser = TrlParser((ScriptArguments, SFTConfig, ModelConfig))\n"
        "script_args, training_args, model_args = parser.parse_args_and_config()\n"
        "SFTTrainer(args=training_args).train()\n"
    )
    config = _tree(
        tmp_path, script, "accelerate launch --num_processes 2 train.py --config config.yaml --per_device_train_batch_size 4 --deepspeed zero3.json\n"
    )
    w = load_config(config).workload
    assert w.micro_batch_size == 4 and (w.strategy, w.zero_stage) == ("deepspeed", 3)
    assert w.sources["micro_batch_size"].file.endswith("train.sh")
