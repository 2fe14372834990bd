"""blocker.deepspeed_value_mismatch over the other routes a Trainer gets its DeepSpeed file by: LLaMA-Factory's
`deepspeed:` key (TrainingArguments' own field, llamafactory v0.9.5 hparams/training_args.py:143) and the
`deepspeed_config_file` of the accelerate config a Trainer recipe is launched with (transformers 5.25.0
trainer.py:886-887, integrations/deepspeed.py:718-720: the same HfTrainerDeepSpeedConfig check)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pytest_goblin import blockers
from pytest_goblin.formats import load_config
from pytest_goblin.hardware import get_hardware

from .repo_files import repo
from .test_blockers import DS_BF16, HF, LF

ACC = "distributed_type: DEEPSPEED\ndeepspeed_config:\n  deepspeed_config_file: ds.json\nnum_machines: 1\nnum_processes: 8\n"


def _found(root: Path, name: str) -> list[Any]:
    return [f for f in blockers.findings(load_config(root / name), get_hardware("mi300x")) if f.rule_id == "blocker.deepspeed_value_mismatch"]


def test_llamafactorys_deepspeed_key_is_checked(tmp_path: Path) -> None:
    root = repo(tmp_path, {"lf.yaml": LF.replace("bf16: true", "bf16: false") + "deepspeed: ds.json\n", "ds.json": DS_BF16})
    (f,) = _found(root, "lf.yaml")
    assert f.blocker and "`bf16: false` (line 7) but `bf16.enabled: true` in ds.json (line 4)" in f.message
    assert "`deepspeed: ds.json` (line 8)" in f.message and "None" not in f.message


def test_an_accelerate_deepspeed_config_file_is_checked(tmp_path: Path) -> None:
    run = "accelerate launch --config_file acc.yaml train.py --config sft.yaml\n"
    text = HF.replace("bf16: true", "bf16: false")
    root = repo(tmp_path, {"sft.yaml": text, "ds.json": DS_BF16, "acc.yaml": ACC, "run.sh": run, "train.py": "from trl import TrlParser\n"})
    (f,) = _found(root, "sft.yaml")
    assert "`bf16: false` (line 5) but `bf16.enabled: true` in ds.json (line 4)" in f.message
    assert "`deepspeed_config_file` of the accelerate config acc.yaml" in f.message and "None" not in f.message


@pytest.mark.parametrize(
    "files",
    [
        # agreeing values through the accelerate file
        {"sft.yaml": HF.replace("per_device_train_batch_size: 4", "per_device_train_batch_size: 2"), "acc.yaml": ACC},
        # an accelerate config without a DeepSpeed file
        {"sft.yaml": HF.replace("bf16: true", "bf16: false"), "acc.yaml": "distributed_type: MULTI_GPU\nnum_machines: 1\nnum_processes: 8\n"},
    ],
)
def test_no_mismatch_or_no_file_is_not_a_blocker(tmp_path: Path, files: dict[str, str]) -> None:
    run = "accelerate launch --config_file acc.yaml train.py --config sft.yaml\n"
    root = repo(tmp_path, {**files, "ds.json": DS_BF16, "run.sh": run, "train.py": "from trl import TrlParser\n"})
    assert _found(root, "sft.yaml") == []


def test_llamafactory_pure_bf16_is_not_compared(tmp_path: Path) -> None:
    """Must not fire: LLaMA-Factory's pure_bf16 is its own bf16 path beside TrainingArguments' bf16."""
    text = (
        LF.replace("bf16: true", "bf16: false\npure_bf16: true").replace("per_device_train_batch_size: 2", "per_device_train_batch_size: 2")
        + "deepspeed: ds.json\n"
    )
    root = repo(tmp_path, {"lf.yaml": text, "ds.json": DS_BF16})
    assert _found(root, "lf.yaml") == []
