"""TrainingArguments bf16 with a DeepSpeed file whose bf16 block is absent or "auto" (review12b #24): DeepSpeed runs bf16
(accelerate's DeepSpeed plugin adds the block; transformers fills "auto"), so goblin reads bf16, says why with the source,
and raises no precision finding; nothing is said for a Trainer older than the releases read or where bf16 is off."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_goblin import rules as kb
from pytest_goblin.formats import load_config
from pytest_goblin.hardware import get_hardware

from .repo_files import write_tree

HW = get_hardware("mi300x")
Z3 = {"zero_optimization": {"stage": 3}, "fp16": {"enabled": "auto"}, "train_micro_batch_size_per_gpu": "auto"}
CFG = (
    "model_name_or_path: meta-llama/Meta-Llama-3-8B\ndataset_name: trl-lib/Capybara\nper_device_train_batch_size: 1\n"
    "max_length: 1024\nbf16: {bf16}\ngradient_checkpointing: true\ndeepspeed: ds.json\n# torchrun --nproc_per_node 8 sft.py\n"
)


def _load(tmp_path: Path, ds: dict[str, object], *, bf16: str = "true", pin: str = "transformers==4.57.0") -> tuple[str, list[str], set[str]]:
    root = write_tree(tmp_path, {"ds.json": json.dumps(ds, indent=2), "sft.yaml": CFG.format(bf16=bf16), "requirements.txt": f"{pin}\n"}, git=True)
    w = load_config(root / "sft.yaml").workload
    said = [n for n in w.notes if "DeepSpeed runs bf16" in n]
    return w.precision, said, {r.id for r in kb.applicable(w, HW, kb.cached_rules())}


@pytest.mark.parametrize(("block", "phrase"), [(None, "has no bf16 block"), ("auto", 'sets `bf16.enabled: "auto"`')])
def test_bf16_runs_where_the_block_is_absent_or_auto(tmp_path: Path, block: str | None, phrase: str) -> None:
    ds = dict(Z3) if block is None else {**Z3, "bf16": {"enabled": block}}
    precision, said, fired = _load(tmp_path, ds)
    assert precision == "bf16" and len(said) == 1
    assert f"bf16 true (`bf16`, line 5) with ds.json, which {phrase}" in said[0]
    assert "utils/dataclasses.py:884-886" in said[0] and "None" not in said[0]
    assert not any(r.startswith("precision.") for r in fired)


def test_nothing_said_where_bf16_is_off_or_the_trainer_is_older(tmp_path: Path) -> None:
    assert _load(tmp_path / "off", dict(Z3), bf16="false")[1] == []
    assert _load(tmp_path / "set", {**Z3, "bf16": {"enabled": True}})[1] == []
    assert _load(tmp_path / "old", dict(Z3), pin="transformers==4.28.1")[1] == []
