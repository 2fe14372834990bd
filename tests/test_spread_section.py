"""A YAML whose `train:` section holds only trainer config keys, which a repository script spreads into SFTConfig, is not
collected with that said (review11b #27: AMD-AGI/PARD config/train/example_qwen.yaml, pard/pard2_train.py:962,1096)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.errors import NotATrainingConfig
from pytest_goblin.formats import load_config

from .repo_files import write_tree

CONFIG = (
    "general:\n  model_name: Qwen/Qwen2.5-0.5B-Instruct\n  save_base_path: ./ckpt\n\n"
    "train:\n  per_device_train_batch_size: 8\n  gradient_accumulation_steps: 1\n  max_seq_length: 512\n  gradient_checkpointing: true\n"
)

SCRIPT = (
    "import yaml\nfrom trl import SFTConfig\n\n\ndef main(path):\n    config = yaml.safe_load(open(path))\n"
    "    config_train = config.get('train', {})\n    kwargs = dict(config_train)\n    cfg = SFTConfig(\n        output_dir='x',\n        **kwargs,\n    )\n"
)


def _reason(tmp_path: Path, files: dict[str, str]) -> str:
    root = write_tree(tmp_path / "repo", {"config/train/example.yaml": CONFIG, **files}, git=True)
    with pytest.raises(NotATrainingConfig) as err:
        load_config(root / "config/train/example.yaml")
    return str(err.value)


def test_a_section_a_script_spreads_into_sftconfig_is_named_with_the_script(tmp_path: Path) -> None:
    said = _reason(tmp_path, {"pkg/train.py": SCRIPT})
    assert "its `train:` section (line 5) holds only TrainingArguments/TRL config keys (per_device_train_batch_size," in said
    assert "pkg/train.py reads a `train` section (line 7) and spreads a mapping into SFTConfig (line 9" in said


def test_without_a_spreading_script_the_section_alone_is_said(tmp_path: Path) -> None:
    said = _reason(tmp_path, {"pkg/train.py": SCRIPT.replace("**kwargs", "learning_rate=1e-5")})
    assert "holds only TrainingArguments/TRL config keys" in said and "spreads" not in said


def test_a_section_with_other_keys_is_not_called_a_trainer_section(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "repo", {"c.yaml": "train:\n  epochs_total: 3\n  per_device_train_batch_size: 8\n  foo: 1\n", "t.py": SCRIPT}, git=True)
    with pytest.raises(NotATrainingConfig) as err:
        load_config(root / "c.yaml")
    assert "TrainingArguments/TRL config keys" not in str(err.value)
