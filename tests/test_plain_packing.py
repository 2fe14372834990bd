"""Where `sample_packing=False` comes from on a run read as transformers' own TrainingArguments (review6b #30, #32,
#39): the class the run parses into has no packing and the Trainer does not pack; TRL's SFTConfig.packing is cited only
for a run read as TRL."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.formats import load_config
from pytest_goblin.frameworks import tables

from .repo_files import write_tree
from .test_unrendered import NESTED, _nested_repo

PLAIN = "model_name_or_path: meta-llama/Meta-Llama-3-8B\nper_device_train_batch_size: 4\ngradient_accumulation_steps: 2\nlearning_rate: 1e-4\nbf16: true\n"
TRL_SFT = PLAIN + "max_seq_length: 2048\ndataset_text_field: text\n"


def _config(tmp_path: Path, text: str) -> Path:
    return write_tree(tmp_path, {"configs/train.yaml": text}, git=True) / "configs" / "train.yaml"


@pytest.mark.parametrize("cls", ["TrainingArguments", "Seq2SeqTrainingArguments"])
def test_transformers_arguments_classes_have_no_packing_field(cls: str) -> None:
    fields = tables.class_fields("transformers", cls)
    assert "per_device_train_batch_size" in fields and "packing" not in fields


def test_a_plain_training_arguments_file_cites_the_trainer_not_sft_config(tmp_path: Path) -> None:
    w = load_config(_config(tmp_path, PLAIN)).workload
    assert w.framework.startswith("transformers ")
    src = w.sources["sample_packing"]
    assert w.sample_packing is False and not src.explicit
    assert src.note.startswith("TrainingArguments has no packing and the Trainer does not pack") and "trainer.py:562-568" in src.note
    assert "SFTConfig" not in src.note


def test_a_seq2seq_run_names_its_own_class(tmp_path: Path) -> None:
    w = load_config(_nested_repo(tmp_path, NESTED)).workload
    assert w.sources["sample_packing"].note.startswith("Seq2SeqTrainingArguments has no packing")


def test_a_trl_file_still_cites_sft_config_packing(tmp_path: Path) -> None:
    w = load_config(_config(tmp_path, TRL_SFT)).workload
    assert w.framework.startswith("trl ")
    assert w.sources["sample_packing"].note.startswith("SFTConfig.packing=False")
