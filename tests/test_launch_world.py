"""A script's `WORLD_SIZE` read from the launcher goblin found for it (formats/launch_world.py): review10b #33 CSCfi
llm-fine-tuning-examples finetuning.py:184 `per_device_train_batch_size=train_batch_size // world_size` under
`srun torchrun --standalone --nnodes=1 --nproc-per-node=1` was read as TrainingArguments' default 8."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.formats import load_config
from pytest_goblin.formats.launch_line import Launch
from pytest_goblin.formats.launch_world import _value

from .repo_files import repo

SCRIPT = """\
import argparse
import os

from transformers import AutoModelForCausalLM, Trainer, TrainingArguments

parser = argparse.ArgumentParser()
parser.add_argument("--batch_size", type=int, default=32)
args, _ = parser.parse_known_args()
world_size = {world}
train_batch_size = args.batch_size
model = AutoModelForCausalLM.from_pretrained("EleutherAI/gpt-neo-1.3B")
ta = TrainingArguments(output_dir="o", bf16=True, per_device_train_batch_size=train_batch_size // world_size)
Trainer(model=model, args=ta, train_dataset=None).train()
"""


def _read(tmp_path: Path, world: str, launch: str) -> tuple[int, str | None]:
    root = repo(tmp_path, {"train.py": SCRIPT.format(world=world), "run.sh": launch})
    w = load_config(root / "train.py").workload
    src = w.sources.get("micro_batch_size")
    return w.micro_batch_size, src.note if src is not None else None


@pytest.mark.parametrize(
    ("world", "launch", "micro"),
    [
        ('int(os.environ["WORLD_SIZE"])', "torchrun --nnodes=1 --nproc-per-node=4 train.py\n", 8),
        ('int(os.environ["WORLD_SIZE"])', "srun torchrun --standalone --nnodes=1 --nproc-per-node=1 train.py\n", 32),
        ('int(os.environ.get("WORLD_SIZE", 1))', "python train.py\n", 32),  # no launcher: the default
        ('int(os.getenv("WORLD_SIZE", "1"))', "deepspeed --num_gpus 2 train.py\n", 16),
        ('int(os.environ["WORLD_SIZE"])', "WORLD_SIZE=2 python train.py\n", 16),  # the launcher's own export
    ],
)
def test_world_size_from_the_launcher(tmp_path: Path, world: str, launch: str, micro: int) -> None:
    got, note = _read(tmp_path, world, launch)
    assert got == micro
    assert note is None or "computed at run time" not in note


@pytest.mark.parametrize(
    ("world", "launch"),
    [
        ('int(os.environ["WORLD_SIZE"])', "python train.py\n"),  # KeyError where it runs: no value
        ('int(os.environ["WORLD_SIZE"])', "torchrun --nproc-per-node=$NGPU train.py\n"),  # a count goblin does not know
        ('int(os.environ["RANK"])', "torchrun --nproc-per-node=4 train.py\n"),  # differs per process
    ],
)
def test_an_unknown_world_size_stays_assumed(tmp_path: Path, world: str, launch: str) -> None:
    got, note = _read(tmp_path, world, launch)
    assert got == 8  # TrainingArguments' default, said as assumed
    assert note is not None and "computed at run time" in note


def test_deepspeed_sets_no_local_world_size() -> None:
    launch = Launch(nodes=1, per_node=2, file="run.sh", shown="run.sh", line=1, command="deepspeed --num_gpus 2 train.py")
    assert _value(launch, "WORLD_SIZE") == (True, "2")
    assert _value(launch, "LOCAL_WORLD_SIZE") == (False, None)  # DeepSpeed's launcher sets LOCAL_SIZE
    assert _value(launch.__class__(**{**launch.__dict__, "command": "torchrun --nproc-per-node=2 train.py"}), "LOCAL_WORLD_SIZE") == (True, "2")
