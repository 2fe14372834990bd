"""Framework tables (read from each framework's source) and the edit validation built on them."""

from __future__ import annotations

import importlib.metadata
import json
from pathlib import Path

import pytest

from pytest_goblin import rules as kb
from pytest_goblin.formats import load_config
from pytest_goblin.frameworks import check_key, check_writes, tables, torchtune_recipe
from pytest_goblin.hardware import get_hardware
from pytest_goblin.patching import build_patch


def _installed(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


@pytest.mark.parametrize("name", sorted(tables.SPECS))
def test_shipped_table_matches_the_installed_framework(name: str) -> None:
    """Regenerate from the installed package's source; skipped where it is not installed at that version."""
    shipped = json.loads((tables.OUT_DIR / f"{name}.json").read_text())
    have = _installed(tables.SPECS[name][0])
    if have is None or have != shipped["version"]:
        pytest.skip(f"{name} {shipped['version']} is not installed here (have {have})")
    assert tables.build_installed(name) == shipped


def test_tables_carry_versions_and_lines() -> None:
    for name in [*tables.SPECS, "axolotl"]:
        t = tables.shipped(name)
        assert t["version"] and t["origin"]
        for cls in t.get("classes", {}).values():
            for entry in cls["fields"].values():
                assert isinstance(entry["line"], int) and entry["line"] > 0


def test_trl_defaults_come_from_base_config() -> None:
    f = tables.class_fields("trl", "SFTConfig")
    assert f["gradient_checkpointing"]["default"] is True and f["gradient_checkpointing"]["file"].endswith("base_config.py")
    assert f["bf16"]["default"] is None  # resolved to `not fp16` in __post_init__
    assert "per_device_train_batch_size" in f and f["per_device_train_batch_size"]["framework"] == "transformers"
    assert "AsyncGRPOConfig" in tables.table("trl")["classes"]


def test_llamafactory_v1_rejects_keys_of_the_classic_layout() -> None:
    data = {"model": "Qwen/Qwen3-0.6B", "train_dataset": "x", "micro_batch_size": 1}
    for key in ("optim", "torch_compile", "enable_liger_kernel", "dataloader_num_workers"):
        why = check_key("llamafactory", data, key, True)
        assert why and "stop at start-up" in why, key
    for key in ("optim_config", "kernel_config", "batching_workers", "enable_activation_checkpointing"):
        assert check_key("llamafactory", data, key, 4) is None, key


def test_classic_llamafactory_accepts_trainer_keys_and_checks_values() -> None:
    data = {"model_name_or_path": "x", "stage": "sft"}
    assert check_key("llamafactory", data, "optim", "adamw_torch_fused") is None
    assert check_key("llamafactory", data, "enable_liger_kernel", True) is None
    assert "not an accepted value" in (check_key("llamafactory", data, "optim", "adamw_turbo") or "")


def test_axolotl_unknown_key_is_named_as_ignored() -> None:
    assert check_key("axolotl", {"base_model": "x"}, "dataloader_num_workers", 4) is None
    assert "not an Axolotl key" in (check_key("axolotl", {"base_model": "x"}, "torch_compile_everything", True) or "")


QAT = """\
# Config for multi-device QAT full finetuning in qat_distributed.py
#   tune run --nnodes 1 --nproc_per_node 8 qat_distributed --config llama3_1/8B_qat_full
model:
  _component_: torchtune.models.llama3_1.llama3_1_8b
tokenizer:
  _component_: torchtune.models.llama3.llama3_tokenizer
  path: /tmp/tokenizer.model
  max_seq_len: 2048
dataset:
  _component_: torchtune.datasets.alpaca_dataset
batch_size: 2
optimizer:
  _component_: torch.optim.AdamW
  lr: 2e-5
gradient_accumulation_steps: 1
dtype: bf16
enable_activation_checkpointing: True
compile: False
"""


def test_torchtune_qat_never_gets_compile(tmp_path: Path) -> None:
    path = tmp_path / "8B_qat_full.yaml"
    path.write_text(QAT)
    assert torchtune_recipe(str(path), QAT)[0] == "qat_distributed"
    bad = check_writes("torchtune", str(path), QAT, {}, {"compile": True})
    assert "raises" in bad["compile"] and "qat_distributed.py" in bad["compile"]
    loaded = load_config(path)
    rule = next(r for r in kb.cached_rules() if r.id == "compile.torch_compile")
    patch = build_patch(loaded, [rule], get_hardware("mi300x"), "p1")
    assert not patch.edits and "compile" not in patch.diff
    assert "raises" in patch.skipped["compile.torch_compile"]


def test_torchtune_lora_recipe_accepts_compile(tmp_path: Path) -> None:
    text = QAT.replace("qat_distributed", "lora_finetune_distributed").replace("llama3_1_8b", "lora_llama3_1_8b")
    path = tmp_path / "8B_lora.yaml"
    path.write_text(text)
    assert check_writes("torchtune", str(path), text, {}, {"compile": True}) == {}


def test_axolotl_ebft_strided_rejects_compile_with_checkpointing() -> None:
    from pytest_goblin.frameworks import check_writes

    data = {"base_model": "x", "rl": "ebft", "ebft": {"mode": "strided"}, "gradient_checkpointing": True}
    assert "validation.py:1802" in check_writes("axolotl", "a.yaml", "", data, {"torch_compile": True})["torch_compile"]
    assert check_writes("axolotl", "a.yaml", "", {**data, "gradient_checkpointing": False}, {"torch_compile": True}) == {}


def test_plain_training_arguments_script_gets_no_trl_keys() -> None:
    assert "TrainingArguments" in (check_key("python", {}, "packing", True, "TrainingArguments") or "")
    assert check_key("python", {}, "use_liger_kernel", True, "TrainingArguments") is None
    assert check_key("python", {}, "packing", True, "SFTConfig") is None
