"""torchtune recipe facts stated for the release the recipe runs on (review14a #6-#9).

llama-3-llams: `tune run --nproc_per_node 3 lora_finetune_distributed --config configs/x.yaml` in multi-finetune.sh,
torchtune 0.2.1 by the config's own `torchtune.utils.FullModelMetaCheckpointer`. goblin said the recipe "shards with
FSDP2" (v0.2.1 recipes/lora_finetune_distributed.py:23 imports FullyShardedDataParallel, FSDP1; shard_model over
fully_shard comes in 0.3) and offered a `compile` edit for the config that leaves `compile` unset (the 0.2.1 recipe has
no compile) while the one setting `compile: True` was told it does nothing. marc: a fork's submodule commit, release
unknown, was called "the release the recipe runs on: 0.6.1".
"""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.formats import load_config
from pytest_goblin.frameworks import tables
from pytest_goblin.schemas import Report
from pytest_goblin.service import audit_file
from pytest_goblin.settings import Settings

from .repo_files import write_tree

RULE = "compile.torch_compile_torchtune"

CONFIG = """\
tokenizer:
  _component_: torchtune.models.llama3.llama3_tokenizer
  path: /tmp/tokenizer.model
model:
  _component_: torchtune.models.llama3.lora_llama3_8b
  lora_attn_modules: ['q_proj', 'v_proj']
  lora_rank: 8
checkpointer:
  _component_: {checkpointer}
  checkpoint_dir: /tmp/m
dataset:
  _component_: torchtune.datasets.alpaca_dataset
optimizer:
  _component_: torch.optim.AdamW
  lr: 3e-4
dtype: bf16
enable_activation_checkpointing: False
batch_size: 4
gradient_accumulation_steps: 4
{extra}"""
OLD = "torchtune.utils.FullModelMetaCheckpointer"  # torchtune.utils up to 0.2.1; torchtune.training from 0.3
NEW = "torchtune.training.FullModelMetaCheckpointer"
LAUNCH = "tune run --nproc_per_node 4 lora_finetune_distributed --config configs/x.yaml\n"


def _repo(tmp: Path, checkpointer: str, extra: str = "", files: dict[str, str] | None = None) -> Path:
    tree = {"configs/x.yaml": CONFIG.format(checkpointer=checkpointer, extra=extra), "train.sh": LAUNCH, **(files or {})}
    return write_tree(tmp, tree, git=True) / "configs" / "x.yaml"


def _audit(path: Path) -> Report:
    result = audit_file(path, Settings(runner="projection", target="mi300x"), shown_as=path.name)
    assert result.report is not None, result.error
    return result.report


def _text(report: Report) -> str:
    return " ".join([f.message for f in report.findings] + list(report.notes))


def _strategy(path: Path) -> str:
    return str(load_config(path).workload.sources["strategy"].note)


def test_the_sharding_table_is_read_per_release() -> None:
    assert tables.tune_sharding("lora_finetune_distributed", "0.2.1") == (1, "recipes/lora_finetune_distributed.py:23,415@v0.2.1")
    got = tables.tune_sharding("lora_finetune_distributed", "0.6.1")
    assert got is not None and got[0] == 2 and "torchtune/training/_distributed.py:17@v0.6.1" in got[1]
    assert tables.tune_sharding("full_finetune_distributed", "0.3.1") is not None
    assert tables.tune_sharding("lora_finetune_single_device", "0.6.1") is None  # one device: no sharding


def test_a_0_2_1_distributed_lora_is_fsdp1_and_gets_no_compile_edit(tmp_path: Path) -> None:
    path = _repo(tmp_path, OLD)
    report = _audit(path)
    said = _text(report) + _strategy(path)
    assert "FSDP2" not in said and "fully_shard" not in said
    assert "shards with FSDP1 (FullyShardedDataParallel) at torchtune 0.2.1 (recipes/lora_finetune_distributed.py:23,415@v0.2.1)" in said
    assert not any(e.rule_id == RULE for e in report.patch.edits)
    assert not any(f.rule_id == RULE for f in report.findings)
    note = next(n for n in report.notes if n.startswith(f"{RULE}: not offered"))
    assert "torchtune 0.2.1" in note and "never reads `compile`" in note


def test_a_0_2_1_config_that_sets_compile_is_told_the_same(tmp_path: Path) -> None:
    report = _audit(_repo(tmp_path, OLD, "compile: True\n"))
    assert not any(f.rule_id == RULE for f in report.findings)  # as for the config that leaves it unset
    note = next(n for n in report.notes if n.startswith(f"{RULE}: not offered"))
    assert "the config's `compile` (line 20) does nothing there either" in note


def test_a_0_6_1_distributed_lora_keeps_fsdp2_and_the_compile_edit(tmp_path: Path) -> None:
    path = _repo(tmp_path, NEW, files={"requirements.txt": "torchtune==0.6.1\n"})
    report = _audit(path)
    assert "shards with FSDP2 (shard_model over fully_shard) at torchtune 0.6.1 (" in _strategy(path)
    assert any(e.rule_id == RULE for e in report.patch.edits)
    assert not any(n.startswith(f"{RULE}: not offered") for n in report.notes)
    assert "torchtune 0.6.1: the release the recipe runs on (torchtune==0.6.1, requirements.txt" in " ".join(report.notes)


def test_an_unknown_release_is_said_assumed(tmp_path: Path) -> None:
    path = _repo(tmp_path, NEW, files={"requirements.txt": "torchtune @ git+https://github.com/someone/torchtune@abc1234\n"})
    w = load_config(path).workload
    said = " ".join(w.notes)
    assert "the release the recipe runs on" not in said
    assert (
        "assumed torchtune 0.6.1: the pin names no release goblin can tell (torchtune @ commit abc1234 (a git pin, release unknown), requirements.txt:1)"
        in said
    )
    assert "at assumed torchtune 0.6.1 (" in str(w.sources["strategy"].note)
