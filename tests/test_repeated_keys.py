"""A key written twice is read as the framework's own YAML loader reads it: Axolotl and TRL / HF
(yaml.safe_load) run the last value, so goblin reads it, says so and edits that line; torchtune and
LLaMA-Factory 0.9.4+ (OmegaConf.load) refuse the file, so goblin's item is an error naming both lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.errors import ConfigError
from pytest_goblin.formats import load_config
from pytest_goblin.hardware import get_hardware
from pytest_goblin.patching import build_patch
from pytest_goblin.rules import applicable, cached_rules

AXOLOTL = (
    "base_model: meta-llama/Meta-Llama-3-8B\nmicro_batch_size: 2\ngradient_checkpointing: false\nsequence_len: 2048\nbf16: true\ngradient_checkpointing: true\n"
)
TRL = "model_name_or_path: Qwen/Qwen2.5-7B\nper_device_train_batch_size: 1\nper_device_train_batch_size: 4\ngradient_accumulation_steps: 4\nlearning_rate: 2.0e-5\nbf16: true\n"
TORCHTUNE = "model:\n  _component_: torchtune.models.llama3.lora_llama3_8b\noptimizer:\n  _component_: torch.optim.AdamW\nbatch_size: 2\nbatch_size: 4\n"
LLAMAFACTORY = (
    "model_name_or_path: meta-llama/Meta-Llama-3-8B-Instruct\nstage: sft\ndo_train: true\nfinetuning_type: lora\n"
    "cutoff_len: 2048\nper_device_train_batch_size: 1\nbf16: true\ncutoff_len: 4096\n"
)


@pytest.mark.parametrize(
    ("text", "field", "value", "key", "lines"),
    [(AXOLOTL, "gradient_checkpointing", True, "gradient_checkpointing", (3, 6)), (TRL, "micro_batch_size", 4, "per_device_train_batch_size", (2, 3))],
)
def test_a_safe_load_framework_runs_the_last_value_and_goblin_says_so(
    tmp_path: Path, text: str, field: str, value: object, key: str, lines: tuple[int, int]
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    w = load_config(path).workload
    assert getattr(w, field) == value and w.sources[field].line == lines[1]
    note = next(n for n in w.notes if "written twice" in n)
    assert f"`{key}`" in note and f"lines {lines[0]} and {lines[1]}" in note and "yaml.safe_load" in note


def test_an_edit_of_a_repeated_key_lands_on_the_line_the_run_reads(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(AXOLOTL)
    loaded = load_config(path)
    hw = get_hardware("mi300x")
    rules = [r for r in applicable(loaded.workload, hw, cached_rules(), host={}) if r.id == "memory.disable_checkpointing_when_hbm_free"]
    assert rules
    patch = build_patch(loaded, rules, hw, "p1")
    assert patch.new_workload.gradient_checkpointing is False
    lines = patch.diff.splitlines()
    assert "-gradient_checkpointing: true" in lines and "-gradient_checkpointing: false" not in lines


@pytest.mark.parametrize(("text", "framework", "lines"), [(TORCHTUNE, "torchtune", (5, 6)), (LLAMAFACTORY, "LLaMA-Factory", (5, 8))])
def test_an_omegaconf_framework_refuses_the_file_and_so_does_goblin(tmp_path: Path, text: str, framework: str, lines: tuple[int, int]) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.line == lines[1] and f"lines {lines[0]} and {lines[1]}" in str(info.value)
    assert framework in str(info.value) and "OmegaConf" in str(info.value)
