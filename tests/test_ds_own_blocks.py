"""A DeepSpeed file's own "optimizer" / "scheduler" block replaces the Trainer's `optim` / `lr_scheduler_type`
(transformers 4.34.0 integrations/deepspeed.py:294-300, 315; 5.25.0 :578-579, 594-595): no optimizer edit is
offered then, and a note says why (review7b #35)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin import hardware
from pytest_goblin import rules as kb
from pytest_goblin.formats import load_config

from .repo_files import repo

SFT = "model_name_or_path: Qwen/Qwen2.5-7B\noptim: adamw_torch\nper_device_train_batch_size: 1\nbf16: true\n"
OWN = '{\n  "zero_optimization": {"stage": 2},\n  "optimizer": {"type": "AdamW", "params": {"lr": "auto"}},\n  "scheduler": {"type": "WarmupLR"}\n}\n'
PLAIN = '{\n  "zero_optimization": {"stage": 2}\n}\n'
ACC = "distributed_type: DEEPSPEED\ndeepspeed_config:\n  deepspeed_config_file: ds.json\nnum_machines: 1\nnum_processes: 8\n"


def _fired(path: Path) -> tuple[set[str], list[str]]:
    w = load_config(path).workload
    return {r.id for r in kb.applicable(w, hardware.get_hardware("mi300x"), kb.cached_rules())}, w.notes


@pytest.mark.parametrize("route", ["deepspeed key", "accelerate deepspeed_config_file"])
def test_a_deepspeed_optimizer_block_stops_the_optim_edit(tmp_path: Path, route: str) -> None:
    if route == "deepspeed key":
        root = repo(tmp_path, {"sft.yaml": SFT + "deepspeed: ds.json\n", "ds.json": OWN, "train.py": "from trl import SFTTrainer\n"})
    else:
        run = "accelerate launch --config_file acc.yaml train.py --config sft.yaml\n"
        root = repo(tmp_path, {"sft.yaml": SFT, "ds.json": OWN, "acc.yaml": ACC, "run.sh": run, "train.py": "from trl import SFTTrainer\n"})
    fired, notes = _fired(root / "sft.yaml")
    assert "optimizer.fused_adamw" not in fired
    note = next(n for n in notes if "defines its own" in n)
    assert (
        '"optimizer" (line 3) and "scheduler" (line 4) blocks: DeepSpeed builds them' in note
        and "are not used" in note
        and "integrations/deepspeed.py:294-300" in note
    ), note
    assert "None" not in note


@pytest.mark.parametrize("route", ["deepspeed key", "accelerate deepspeed_config_file"])
def test_a_deepspeed_file_without_an_optimizer_block_keeps_the_optim_edit(tmp_path: Path, route: str) -> None:
    """Must not fire: the Trainer builds `optim` itself when the file has no optimizer block."""
    if route == "deepspeed key":
        root = repo(tmp_path, {"sft.yaml": SFT + "deepspeed: ds.json\n", "ds.json": PLAIN, "train.py": "from trl import SFTTrainer\n"})
    else:
        run = "accelerate launch --config_file acc.yaml train.py --config sft.yaml\n"
        root = repo(tmp_path, {"sft.yaml": SFT, "ds.json": PLAIN, "acc.yaml": ACC, "run.sh": run, "train.py": "from trl import SFTTrainer\n"})
    w = load_config(root / "sft.yaml").workload
    assert w.strategy == "deepspeed"
    fired, notes = _fired(root / "sft.yaml")
    assert "optimizer.fused_adamw" in fired
    assert not any("defines its own" in n for n in notes)


def test_a_bitsandbytes_optim_the_deepspeed_file_replaces_is_not_bitsandbytes(tmp_path: Path) -> None:
    """The Trainer never builds `optim: paged_adamw_8bit` when the DeepSpeed file has its own optimizer, so the run
    does not use bitsandbytes for it; without the block it does (must not fire the other way)."""
    from pytest_goblin.rules import uses_bitsandbytes

    text = SFT.replace("adamw_torch", "paged_adamw_8bit") + "deepspeed: ds.json\n"
    root = repo(tmp_path / "own", {"sft.yaml": text, "ds.json": OWN, "train.py": "from trl import SFTTrainer\n"})
    assert not uses_bitsandbytes(load_config(root / "sft.yaml").workload)
    root = repo(tmp_path / "plain", {"sft.yaml": text, "ds.json": PLAIN, "train.py": "from trl import SFTTrainer\n"})
    assert uses_bitsandbytes(load_config(root / "sft.yaml").workload)


def _ds(block: str) -> str:
    return '{\n  "zero_optimization": {"stage": 2},\n' + block + '  "bf16": {"enabled": "auto"}\n}\n'


@pytest.mark.parametrize(
    ("block", "per", "says"),
    [
        ('  "optimizer": {"type": "AdamW", "params": {"lr": "auto"}},\n', 8.0, "FusedAdam in AdamW mode"),
        ('  "optimizer": {"type": "Lion", "params": {"lr": "auto"}},\n', 4.0, "FusedLion"),
        (
            '  "optimizer": {"type": "OneBitAdam", "params": {"lr": 1e-4}},\n',
            12.0,
            "OnebitAdam (DeepSpeed asserts it is not compatible with ZeRO, here stage 2)",
        ),
        ('  "optimizer": {"type": "SGD", "params": {"lr": 0.1, "momentum": 0.9}},\n', 4.0, "a momentum buffer (momentum 0.9)"),
        ('  "optimizer": {"type": "SGD", "params": {"lr": 0.1}},\n', 0.0, "no state (momentum 0)"),
        ('  "optimizer": {"type": "Muon", "params": {"lr": 0.02}},\n', 8.0, "a type goblin does not price"),
    ],
)
@pytest.mark.parametrize("route", ["deepspeed key", "accelerate deepspeed_config_file"])
def test_a_deepspeed_optimizer_block_prices_the_state_of_what_deepspeed_builds(tmp_path: Path, route: str, block: str, per: float, says: str) -> None:
    """ds11 kept the optim edits away; the memory was still priced by `optim` (here bitsandbytes 8-bit, 2 bytes per
    parameter). DeepSpeed builds the block's `type` (v0.19.5 runtime/engine.py:2041-2194) over fp32 partitions."""
    from pytest_goblin.costmodel import memory_gb

    text = SFT.replace("adamw_torch", "adamw_bnb_8bit")
    if route == "deepspeed key":
        root = repo(tmp_path, {"sft.yaml": text + "deepspeed: ds.json\n", "ds.json": _ds(block), "train.py": "from trl import SFTTrainer\n"})
    else:
        run = "accelerate launch --config_file acc.yaml train.py --config sft.yaml\n"
        root = repo(tmp_path, {"sft.yaml": text, "ds.json": _ds(block), "acc.yaml": ACC, "run.sh": run, "train.py": "from trl import SFTTrainer\n"})
    w = load_config(root / "sft.yaml").workload
    assert w.optimizer_state_bytes == per and "8bit" not in w.optimizer
    parts: dict[str, float] = {}
    memory_gb(w, parts)
    assert w.model.params_b is not None
    assert parts["optimizer"] == pytest.approx(w.model.params_b * per / w.world_size, rel=0.05)
    note = next(n for n in w.notes if "`optimizer.type:" in n)
    assert says in note and "the optimizer state is priced by it" in note and "None" not in note


def test_a_deepspeed_file_without_an_optimizer_block_keeps_the_optim_price(tmp_path: Path) -> None:
    """Must not fire: without the block the Trainer builds `optim`, priced as before (8-bit: 2 bytes per parameter)."""
    from pytest_goblin.costmodel import memory_gb

    text = SFT.replace("adamw_torch", "adamw_bnb_8bit") + "deepspeed: ds.json\n"
    root = repo(tmp_path, {"sft.yaml": text, "ds.json": PLAIN, "train.py": "from trl import SFTTrainer\n"})
    w = load_config(root / "sft.yaml").workload
    assert w.optimizer == "adamw_bnb_8bit" and w.optimizer_state_bytes is None
    parts: dict[str, float] = {}
    memory_gb(w, parts)
    assert w.model.params_b is not None
    assert parts["optimizer"] == pytest.approx(w.model.params_b * 2.0 / w.world_size, rel=0.05)
    assert not any("`optimizer.type:" in n for n in w.notes)
