"""The launch-line edit goblin says is one the run's parser takes (location39, blind review 15b class 6): the
word for each key of a field's edit, never the field's own value (#24 printed `--bf16 bf16`, which HfArgumentParser's
string_to_bool refuses: transformers 4.47.1 hf_argparser.py:35-45), and every key of it (#29 said "add `--bf16 True`"
on a line that keeps `--fp16`: TrainingArguments refuses both true, 4.47.1 training_args.py:1714-1715), with the
weights' dtype where the script loads them in float16 by its own argument default. Small fixture repositories; nothing
is executed."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from pytest_goblin.cli import main
from pytest_goblin.formats import load_config
from pytest_goblin.patching import launch_change

from .repo_files import repo

ARGS = """\
from dataclasses import dataclass, field
from typing import Optional


@dataclass
class ModelArguments:
    model_name_or_path: Optional[str] = field(default="facebook/opt-125m")
    torch_dtype: str = field(default="float16")
"""
SCRIPT = """\
import transformers
from transformers import Trainer

from args import ModelArguments


def train():
    parser = transformers.HfArgumentParser((ModelArguments, transformers.TrainingArguments))
    model_args, training_args = parser.parse_args_into_dataclasses()
    model = transformers.AutoModelForCausalLM.from_pretrained(model_args.model_name_or_path, torch_dtype=model_args.torch_dtype)
    Trainer(model=model, args=training_args).train()


if __name__ == "__main__":
    train()
"""
# review15b #24's shape: `--bf16 false` on line 4, `--fp16 true` on line 5
WORDS = """\
#!/bin/bash
torchrun --nproc_per_node=4 train.py \\
    --model_name_or_path meta-llama/Meta-Llama-3-8B \\
    --bf16 false \\
    --fp16 true \\
    --torch_dtype bfloat16 \\
    --output_dir out --per_device_train_batch_size 4
"""
# review15b #29's shape: a bare `--fp16` on line 4, no `--bf16`, torch_dtype left at the script's float16 default
BARE = """\
#!/bin/bash
torchrun --nproc_per_node=4 train.py \\
    --model_name_or_path meta-llama/Meta-Llama-3-8B \\
    --fp16 \\
    --output_dir out --per_device_train_batch_size 4
"""


@pytest.fixture(autouse=True)
def _in_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def _bf16_message(tmp_path: Path, launch: str) -> str:
    repo(tmp_path, {"train.py": SCRIPT, "args.py": ARGS, "run.sh": launch})
    main(["audit", "repo/train.py", "--runner", "projection", "--json", "r.json"])
    findings = json.loads((tmp_path / "r.json").read_text())["items"][0]["report"]["findings"]
    return str(next(f["message"] for f in findings if f["rule_id"] == "precision.bf16_over_fp16"))


def test_each_bool_word_of_the_launch_line_is_turned_as_the_parser_reads_it(tmp_path: Path) -> None:
    message = _bf16_message(tmp_path, WORDS)
    assert "`--bf16 false` is passed by run.sh line 4: change it in the launch line to `--bf16 true`" in message
    assert "`--fp16 true` is passed by run.sh line 5: change it in the launch line to `--fp16 false`" in message
    assert "`--bf16 bf16`" not in message and "--fp16 bf16" not in message


def test_adding_bf16_turns_the_kept_fp16_off_and_says_the_weights_dtype_default(tmp_path: Path) -> None:
    message = _bf16_message(tmp_path, BARE)
    assert "add `--bf16 True` in the launch line (run.sh line 2)" in message
    assert "`--fp16` is passed by run.sh line 4: change it in the launch line to `--fp16 False`" in message
    assert "`torch_dtype` takes its default `float16` at args.py:8" in message and "pass `--torch_dtype bfloat16` where the script is launched" in message


def test_a_word_that_already_says_the_value_or_a_parser_goblin_does_not_know_gets_no_word(tmp_path: Path) -> None:
    root = repo(tmp_path, {"train.py": SCRIPT, "args.py": ARGS, "run.sh": BARE})
    loaded = load_config(root / "train.py")
    chosen = {"precision": ("bf16", "precision.bf16_over_fp16")}
    agreed = "`--bf16 true` is passed by run.sh line 4: change it in the launch line"
    assert launch_change(loaded, "precision", {"precision": "bf16"}, chosen, agreed) == agreed  # already true: nothing to turn
    # a bare flag of a parser other than HfArgumentParser: `--fp16 False` may be no word it takes
    plain = replace(loaded, data=replace(loaded.data, parser_call=None))
    bare = "`--fp16` is passed by run.sh line 4: change it in the launch line"
    assert launch_change(plain, "precision", {"precision": "bf16"}, chosen, bare) == bare
    assert launch_change(loaded, "precision", {"precision": "bf16"}, chosen, bare) == f"{bare} to `--fp16 False`"  # HfArgumentParser's
