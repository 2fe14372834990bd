"""An accelerate loop whose optimizer is accelerate's DummyOptim (wrapper38, blind review 14a #3: LongVA@f4c8781
text_extend/text_extend_train.py:101): DeepSpeed builds the optimizer the DeepSpeed file of the launch's accelerate
config names; with no "optimizer" block there accelerate's prepare raises ValueError (accelerate v0.28.0
accelerator.py:1529-1532). A loop that hands each process a part of every sequence (its rank and the process count
passed to a function inside the loop) is named, not read. Small fixture repositories; nothing is executed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_goblin.errors import NotATrainingConfig
from pytest_goblin.formats import load_config
from pytest_goblin.service import check_config

from .repo_files import repo


@pytest.fixture(autouse=True)
def _in_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


LOOP = """\
import argparse

import torch
from accelerate import Accelerator
from accelerate.utils import DummyOptim, DummyScheduler
from torch.utils.data import DataLoader
from transformers import AutoModelForCausalLM, default_data_collator
{extra_import}

p = argparse.ArgumentParser()
p.add_argument("--batch-size", type=int, default=1)
p.add_argument("--seq-length", type=int, default=8192)
p.add_argument("--model", type=str)
args = p.parse_args()
accelerator = Accelerator(gradient_accumulation_steps=4, mixed_precision="bf16")
model = AutoModelForCausalLM.from_pretrained(args.model, torch_dtype=torch.bfloat16)
loader = DataLoader(ds, collate_fn=default_data_collator, batch_size=args.batch_size)
optim = DummyOptim(model.parameters(), lr=1e-5)
scheduler = DummyScheduler(optim, total_num_steps=100)
model, optim, scheduler = accelerator.prepare(model, optim, scheduler)
for step, batch in enumerate(loader):
    input_ids = batch["input_ids"][..., : args.seq_length]
{split}    with accelerator.accumulate(model):
        loss = model(input_ids, labels=input_ids).loss
        accelerator.backward(loss)
        optim.step()
        scheduler.step()
"""
SPLIT = "    input_ids = split_sequence(input_ids, accelerator.process_index, accelerator.num_processes)\n"
ACCEL = "distributed_type: {kind}\n{ds}num_machines: 1\nnum_processes: 8\n"
DS_LINE = "deepspeed_config:\n  deepspeed_config_file: configs/zero3.json\n"
RUN = "accelerate launch --config_file configs/accel.yaml train.py --batch-size 1 --seq-length 8192 --model Qwen/Qwen2-7B-Instruct\n"
ZERO3 = {"bf16": {"enabled": "auto"}, "zero_optimization": {"stage": 3}, "train_micro_batch_size_per_gpu": 1}
ADAMW = {"type": "AdamW", "params": {"lr": "auto", "weight_decay": 0.1}}


def _tree(tmp_path: Path, *, optimizer: bool = True, deepspeed: bool = True, split: bool = False) -> Path:
    ds = {**ZERO3, **({"optimizer": ADAMW} if optimizer else {})}
    return repo(
        tmp_path,
        {
            "train.py": LOOP.format(extra_import="from seqpar import split_sequence" if split else "", split=SPLIT if split else ""),
            "seqpar.py": "def split_sequence(x, rank, world):\n    return x\n",
            "configs/accel.yaml": ACCEL.format(kind="DEEPSPEED" if deepspeed else "MULTI_GPU", ds=DS_LINE if deepspeed else ""),
            "configs/zero3.json": json.dumps(ds, indent=2),
            "run.sh": RUN,
        },
    )


def test_a_dummy_optimizer_is_read_as_the_one_the_deepspeed_file_names(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    w = load_config(root / "train.py").workload
    assert w.optimizer.startswith("deepspeed:") and w.sources["optimizer"].file == str((root / "configs/zero3.json").resolve())
    assert (w.micro_batch_size, w.gradient_accumulation, w.seq_len, w.world_size, w.zero_stage) == (1, 4, 8192, 8, 3)
    assert any("`DummyOptim(...)` at line 18 is accelerate's placeholder" in n and "configs/zero3.json" in n for n in w.notes)
    checked = check_config(root / "run.sh")  # the launcher named on the command line: the same run
    assert checked.loaded is not None and checked.loaded.workload.optimizer == w.optimizer


def test_a_dummy_optimizer_with_no_optimizer_block_is_said_not_to_start(tmp_path: Path) -> None:
    root = _tree(tmp_path, optimizer=False)
    with pytest.raises(NotATrainingConfig, match=r"has no \"optimizer\" block: accelerate's prepare raises ValueError") as got:
        load_config(root / "train.py")
    assert "accelerator.py:1529-1532" in got.value.reason


def test_a_dummy_optimizer_without_deepspeed_is_not_read(tmp_path: Path) -> None:
    root = _tree(tmp_path, deepspeed=False)
    with pytest.raises(NotATrainingConfig, match="no DeepSpeed config file is named by an accelerate config of its launch"):
        load_config(root / "train.py")


def test_a_loop_that_splits_each_sequence_over_the_processes_is_named_not_read(tmp_path: Path) -> None:
    root = _tree(tmp_path, split=True)
    with pytest.raises(NotATrainingConfig, match=r"the sequence split \(`split_sequence\(\.\.\.\)` at line 23 is given the process index and count"):
        load_config(root / "train.py")
