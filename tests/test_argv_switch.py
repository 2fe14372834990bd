"""A script that reads a JSON file only when its command line is that one file name, else its flags
(princeton-nlp/LESS@8abf962 less/train/train.py:31-35; review6b #35): the file read is not the reason it is
not collected, and a launch line's flags are read (pycommand._argv_switched)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.errors import NotATrainingConfig
from pytest_goblin.formats import load_config

from .repo_files import write_tree

SCRIPT = """import os
import sys
from dataclasses import dataclass, field

from transformers import HfArgumentParser, TrainingArguments


@dataclass
class ModelArguments:
    model_name_or_path: str = field(default="m")


def main():
    parser = HfArgumentParser((ModelArguments, TrainingArguments))
{parse}


if __name__ == "__main__":
    main()
"""
SWITCH = """    if len(sys.argv) == 2 and sys.argv[1].endswith(".json"):
        model_args, training_args = parser.parse_json_file(json_file=os.path.abspath(sys.argv[1]))
    else:
        model_args, training_args = parser.parse_args_into_dataclasses()"""
FILE_ONLY = "    model_args, training_args = parser.parse_json_file(json_file=os.path.abspath(sys.argv[1]))"


def _tree(tmp: Path, parse: str, launch: str | None) -> Path:
    files = {"train.py": SCRIPT.format(parse=parse)}
    if launch is not None:
        files["run.sh"] = launch + "\n"
    return write_tree(tmp, files, git=True) / "train.py"


def _reason(path: Path) -> str:
    with pytest.raises(NotATrainingConfig) as err:
        load_config(path)
    return str(err.value)


def test_a_switched_file_read_is_not_the_reason_when_no_launch_line_runs_it(tmp_path: Path) -> None:
    why = _reason(_tree(tmp_path, SWITCH, None))
    assert "no launch line in its repository runs it" in why and "file named at run time" not in why


def test_a_switched_script_reads_the_launch_lines_flags(tmp_path: Path) -> None:
    flags = "torchrun --nproc_per_node 2 train.py --model_name_or_path Qwen/Qwen2.5-0.5B --per_device_train_batch_size 4 --output_dir o"
    w = load_config(_tree(tmp_path, SWITCH, flags)).workload
    assert (w.micro_batch_size, w.world_size) == (4, 2)


def test_a_switched_script_launched_on_one_json_file_names_that_file(tmp_path: Path) -> None:
    why = _reason(_tree(tmp_path, SWITCH, "torchrun --nproc_per_node 2 train.py args.json"))
    assert "read from args.json, passed by run.sh line 1" in why


def test_an_unconditional_file_read_keeps_its_reason(tmp_path: Path) -> None:
    why = _reason(_tree(tmp_path, FILE_ONLY, None))
    assert "is read by `parse_json_file(...)` (line 15) from a file named at run time" in why
