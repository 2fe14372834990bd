"""A script's TrainingArguments subclass defined in a sibling module over an aliased base (`from transformers import
TrainingArguments as HfTrainingArguments`; `class TrainingArguments(HfTrainingArguments)`) is transformers' subclass, and a
script its launchers run only through a shell variable (`header="torchrun ... -m training.train"`, then `${header} ...`)
is not collected with that said, not with "no launch line runs it" (review11b #34: ProLong training/trainer.py:73,235,
train_64K.sh:81-96)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.errors import NotATrainingConfig
from pytest_goblin.formats import load_config

from .repo_files import write_tree

TRAINER = (
    "from dataclasses import dataclass, field\nfrom {module} import TrainingArguments as HfTrainingArguments\n\n\n@dataclass\n"
    "class TrainingArguments(HfTrainingArguments):\n    min_lr_ratio: float = field(default=0.0)\n"
)

SCRIPT = (
    "from dataclasses import dataclass, field\nfrom transformers import HfArgumentParser\n"
    "from training.trainer import TrainingArguments\n\n\n@dataclass\nclass ScriptArguments:\n    model_name: str = field(default='m')\n\n\n"
    "def main():\n    parser = HfArgumentParser((ScriptArguments, TrainingArguments))\n"
    "    script_args, training_args = parser.parse_args_into_dataclasses()\n\n\nif __name__ == '__main__':\n    main()\n"
)

DIRECT = (
    "torchrun --nproc-per-node=8 -m training.train --model_name meta-llama/Meta-Llama-3-8B --per_device_train_batch_size 1"
    " --gradient_accumulation_steps 4 --bf16 --output_dir out\n"
)

HELD = 'header="torchrun \\\n    --nnodes=1 \\\n    --nproc-per-node=8 \\\n    -m training.train"\nargs=( --bf16 --output_dir out )\n${header} "${args[@]}"\n'


def _repo(tmp_path: Path, module: str, launcher: str) -> Path:
    root = write_tree(
        tmp_path / "repo",
        {
            "training/__init__.py": "",
            "training/trainer.py": TRAINER.format(module=module),
            "training/train.py": SCRIPT,
            "train.sh": launcher,
        },
        git=True,
    )
    return root / "training/train.py"


def test_a_sibling_modules_aliased_subclass_of_training_arguments_is_collected(tmp_path: Path) -> None:
    w = load_config(_repo(tmp_path, "transformers", DIRECT)).workload
    assert w.micro_batch_size == 1 and w.gradient_accumulation == 4 and w.precision == "bf16"


def test_an_alias_of_another_packages_class_is_not_training_arguments(tmp_path: Path) -> None:
    with pytest.raises(NotATrainingConfig, match="none of them TrainingArguments"):
        load_config(_repo(tmp_path, "mypkg.args", DIRECT))


def test_a_launch_held_in_a_shell_variable_is_said(tmp_path: Path) -> None:
    with pytest.raises(NotATrainingConfig) as err:
        load_config(_repo(tmp_path, "transformers", HELD))
    said = str(err.value)
    assert "build the command in a shell variable (train.sh line 1 (`header`, run as `${header}`))" in said
    assert "no launch line in its repository runs it" not in said


def test_a_variable_that_is_never_run_is_not_a_launch(tmp_path: Path) -> None:
    quiet = 'header="torchrun -m training.train"\necho "$header"\n'
    with pytest.raises(NotATrainingConfig) as err:
        load_config(_repo(tmp_path, "transformers", quiet))
    assert "shell variable" not in str(err.value) and "no launch line in its repository runs it" in str(err.value)
