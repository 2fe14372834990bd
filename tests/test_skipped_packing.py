"""`packing: true` beside `dataset_kwargs: {skip_prepare_dataset: true}` (own_packing.skipped_packing): SFTTrainer packs only
while it prepares the dataset (trl 0.14.0 trl/trainer/sft_trainer.py:349-350), so below 0.19.0 the packing key does nothing
and goblin reads packing as off; from 0.19.0 packing with the default strategy keeps a padding-free collator (trl 1.16.0
sft_trainer.py:916), so packing stays read as on there; the 'wrapped' strategy packs nothing when preparation is skipped."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.formats import load_config
from pytest_goblin.hardware import get_hardware
from pytest_goblin.rules import applicable, cached_rules
from pytest_goblin.schemas import WorkloadConfig

from .repo_files import write_tree

SFT = (
    "model_name_or_path: meta-llama/Meta-Llama-3-8B\nper_device_train_batch_size: 8\ngradient_accumulation_steps: 2\n"
    "bf16: true\nmax_seq_length: 2048\ndataset_text_field: text\nattn_implementation: sdpa\npacking: true\n"
)
SKIP = "dataset_kwargs:\n  skip_prepare_dataset: true\n"
SCRIPT = """from datasets import load_dataset
from transformers import AutoModelForCausalLM
from trl import SFTConfig, SFTTrainer

model = AutoModelForCausalLM.from_pretrained("meta-llama/Meta-Llama-3-8B", attn_implementation="sdpa")
args = SFTConfig(output_dir="out", per_device_train_batch_size=8, bf16=True, max_seq_length=2048, packing=True, dataset_kwargs={"skip_prepare_dataset": True})
trainer = SFTTrainer(model=model, args=args, train_dataset=load_dataset("json", data_files="d.json")["train"])
trainer.train()
"""


def _recipe(tmp_path: Path, text: str, trl: str | None) -> WorkloadConfig:
    files = {"configs/train.yaml": text}
    if trl is not None:
        files["requirements.txt"] = f"trl=={trl}\n"
    return load_config(write_tree(tmp_path, files, git=True) / "configs" / "train.yaml").workload


def _proposes_packing(w: WorkloadConfig) -> bool:
    return "packing.sample_packing" in {r.id for r in applicable(w, get_hardware("mi300x"), cached_rules())}


def test_packing_with_skipped_preparation_is_off_on_trl_0_14(tmp_path: Path) -> None:
    w = _recipe(tmp_path, SFT + SKIP, "0.14.0")
    assert w.sample_packing is False
    why = w.packing_blocked
    assert why is not None and why.startswith("`packing: true` (line 8) with `dataset_kwargs.skip_prepare_dataset: true` (line 10): on trl 0.14.0")
    assert "sft_trainer.py:349-350" in why and "goblin reads packing as off" in why
    assert w.sources["sample_packing"].explicit is False and any("goblin reads packing as off" in n for n in w.notes)
    assert not _proposes_packing(w)  # setting packing on again would do nothing either


def test_packing_without_skipped_preparation_stays_on_on_trl_0_14(tmp_path: Path) -> None:
    """Must not fire: the dataset is prepared, so SFTTrainer packs it."""
    w = _recipe(tmp_path, SFT, "0.14.0")
    assert w.sample_packing is True and w.packing_blocked is None
    assert not any("skip_prepare_dataset" in n for n in w.notes)


@pytest.mark.parametrize("trl", ["1.16.0", None])
def test_packing_with_skipped_preparation_stays_padding_free_on_newer_trl(tmp_path: Path, trl: str | None) -> None:
    """Must not fire: from trl 0.19.0 packing's default strategy keeps the collator padding-free (1.16.0 sft_trainer.py:916)."""
    w = _recipe(tmp_path, SFT + SKIP, trl)
    assert w.sample_packing is True and w.packing_blocked is None
    assert any("packing_strategy 'bfd' makes the collator padding-free" in n and "sft_trainer.py:394" in n for n in w.notes)


def test_wrapped_packing_with_skipped_preparation_is_off_on_trl_1_16(tmp_path: Path) -> None:
    w = _recipe(tmp_path, SFT + "packing_strategy: wrapped\n" + SKIP, "1.16.0")
    assert w.sample_packing is False
    assert w.packing_blocked is not None and "packing_strategy 'wrapped' packs only while the dataset is prepared" in w.packing_blocked


def test_a_script_sft_config_call_is_read_the_same(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "requirements.txt").write_text("trl==0.14.0\n")
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    w = load_config(script).workload
    assert w.sample_packing is False
    assert w.packing_blocked is not None and w.packing_blocked.startswith("`packing: true` (line 6) with `dataset_kwargs.skip_prepare_dataset: true` (line 6)")
