"""A script that packs its own batches, or whose TRL release raises on packing with its collator, is never told to pack
(formats/own_packing.py): review4 #31 (LongWriter `--batch_method "pack"`) and #26 (llm-jp DataCollatorForCompletionOnlyLM
with trl==0.7.4, trl/trainer/sft_trainer.py:151-153@v0.7.4)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.formats import load_config
from pytest_goblin.hardware import get_hardware
from pytest_goblin.rules import applicable, cached_rules
from pytest_goblin.schemas import WorkloadConfig

from .repo_files import write_tree

MAIN = """from dataclasses import dataclass, field
from transformers import AutoModelForCausalLM, HfArgumentParser, Trainer, TrainingArguments


@dataclass
class ModelArguments:
    model_name_or_path: str = field(default="meta-llama/Meta-Llama-3-8B")


@dataclass
class DataArguments:
    train_file: str = field(default="data")
    batch_method: str = field(default="naive")


def train():
    parser = HfArgumentParser((ModelArguments, DataArguments, TrainingArguments))
    model_args, data_args, training_args = parser.parse_args_into_dataclasses()
    model = AutoModelForCausalLM.from_pretrained(model_args.model_name_or_path, attn_implementation="sdpa")
    trainer = Trainer(model=model, args=training_args)
    trainer.train()


if __name__ == "__main__":
    train()
"""
LAUNCH = "torchrun --nproc_per_node 8 main.py --model_name_or_path meta-llama/Meta-Llama-3-8B --output_dir o --bf16 True {extra}\n"

SFT = """from transformers import AutoModelForCausalLM, TrainingArguments
from trl import DataCollatorForCompletionOnlyLM, SFTTrainer

args = TrainingArguments(output_dir="o", per_device_train_batch_size=4, bf16=True)
model = AutoModelForCausalLM.from_pretrained("meta-llama/Meta-Llama-3-8B", attn_implementation="sdpa")
collator = DataCollatorForCompletionOnlyLM(response_template="### Response:", tokenizer=None)
trainer = SFTTrainer(model, args=args, data_collator=collator, max_seq_length=2048)
trainer.train()
"""


def _workload(tmp: Path, files: dict[str, str], config: str) -> WorkloadConfig:
    return load_config(write_tree(tmp, files) / config).workload


def _proposes_packing(w: WorkloadConfig) -> bool:
    return "packing.sample_packing" in {r.id for r in applicable(w, get_hardware("mi300x"), cached_rules())}


def test_a_launcher_that_selects_the_scripts_own_packing_is_not_told_to_pack(tmp_path: Path) -> None:
    w = _workload(tmp_path, {"main.py": MAIN, "train.sh": LAUNCH.format(extra='--batch_method "pack"')}, "main.py")
    assert w.packing_blocked == "the script packs its own batches: `batch_method` is 'pack' (train.sh line 1); goblin does not propose packing on top of it"
    assert not _proposes_packing(w)


def test_the_scripts_unpacked_default_is_still_told_to_pack(tmp_path: Path) -> None:
    w = _workload(tmp_path, {"main.py": MAIN, "train.sh": LAUNCH.format(extra="--batch_method naive")}, "main.py")
    assert w.packing_blocked is None
    assert _proposes_packing(w)


@pytest.mark.parametrize(
    ("pin", "blocked"),
    [
        ("trl==0.7.4", "on trl 0.7.4 (the recipe pins trl==0.7.4 (requirements.txt:1)) SFTTrainer raises ValueError on packing"),
        ("trl==0.14.0", "raises ValueError on packing"),
        ("trl==0.15.0", None),  # the check is gone from 0.15.0's sft_trainer.py
        ("", "may raise ValueError on packing"),  # not pinned: the release is not known to accept it
    ],
)
def test_a_completion_only_collator_blocks_packing_where_the_release_raises(tmp_path: Path, pin: str, blocked: str | None) -> None:
    w = _workload(tmp_path, {"train.py": SFT, "requirements.txt": pin + "\n"}, "train.py")
    if blocked is None:
        assert w.packing_blocked is None
        assert _proposes_packing(w)
    else:
        assert w.packing_blocked is not None and blocked in w.packing_blocked and "(line 6)" in w.packing_blocked
        assert "None" not in w.packing_blocked
        assert not _proposes_packing(w)


def test_a_script_without_that_collator_is_still_told_to_pack(tmp_path: Path) -> None:
    text = SFT.replace('collator = DataCollatorForCompletionOnlyLM(response_template="### Response:", tokenizer=None)\n', "collator = None\n")
    w = _workload(tmp_path, {"train.py": text, "requirements.txt": "trl==0.7.4\n"}, "train.py")
    assert w.packing_blocked is None
    assert _proposes_packing(w)


@pytest.mark.parametrize(
    ("extra", "blocked"),
    [
        ("--train_file ./data/glm4/packed_32k", "its dataset path names packed rows: `train_file` is './data/glm4/packed_32k' (train.sh line 1)"),
        ("--train_file ./data/train_pack.npy", "its dataset path names packed rows"),
        ("--train_file ./data/glm4/longwriter", None),
        ("--train_file ./data/backpack_reviews", None),  # `pack` inside a word is not packing
        ("--output_dir ./out/packed", None),  # not the training data
    ],
)
def test_a_launcher_that_passes_a_packed_dataset_path(tmp_path: Path, extra: str, blocked: str | None) -> None:
    w = _workload(tmp_path, {"main.py": MAIN, "train.sh": LAUNCH.replace("--output_dir o ", "").format(extra=extra)}, "main.py")
    if blocked is None:
        assert w.packing_blocked is None
    else:
        assert w.packing_blocked is not None and w.packing_blocked.startswith(blocked)
        assert not _proposes_packing(w)
