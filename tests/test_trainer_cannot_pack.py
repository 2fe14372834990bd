"""The packing footgun only where the run can pack (review7b #21, #26, #27): a TRL config class without `packing`
(CPOConfig: trl 1.16.0 trl/experimental/cpo/cpo_config.py), a run whose dataset preparation is skipped
(`dataset_kwargs: {skip_prepare_dataset: true}`: trl 0.9.6 trl/trainer/sft_trainer.py:495-496), and a script that hands
the trainer its own collator (rhymes-ai/Aria aria/train.py:217-229) are not told to pack; a plain SFT text recipe is."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.formats import load_config
from pytest_goblin.frameworks import tables
from pytest_goblin.hardware import get_hardware
from pytest_goblin.rules import applicable, cached_rules
from pytest_goblin.schemas import WorkloadConfig

from .repo_files import write_tree

SFT = (
    "model_name_or_path: meta-llama/Meta-Llama-3-8B\nper_device_train_batch_size: 8\ngradient_accumulation_steps: 2\n"
    "bf16: true\nmax_seq_length: 2048\ndataset_text_field: text\nattn_implementation: sdpa\n"
)
CPO = (
    "# CPOTrainer arguments\nmodel_name_or_path: meta-llama/Meta-Llama-3-8B\nper_device_train_batch_size: 2\nbf16: true\n"
    "gradient_accumulation_steps: 16\nlearning_rate: 1.0e-6\noutput_dir: out\nnum_train_epochs: 1\nmax_length: 2048\nloss_type: simpo\ncpo_alpha: 0.05\nsimpo_gamma: 0.5\nattn_implementation: sdpa\n"
)
SCRIPT = """from transformers import AutoModelForCausalLM
from trl import SFTConfig, SFTTrainer, TrlParser
{imports}

def collate_fn(examples, processor):
    return processor(examples)


def main():
    parser = TrlParser((SFTConfig,))
    (training_args,) = parser.parse_args_and_config()
{setup}    model = AutoModelForCausalLM.from_pretrained("meta-llama/Meta-Llama-3-8B")
    trainer = SFTTrainer(model=model, args=training_args, data_collator={collator})
    trainer.train()
"""


def _repo(tmp_path: Path, recipe: str, script: str | None = None) -> WorkloadConfig:
    files = {"configs/train.yaml": recipe}
    if script is not None:
        files["train.py"] = script
        files["README.md"] = "```bash\naccelerate launch train.py --config configs/train.yaml\n```\n"
    return load_config(write_tree(tmp_path, files, git=True) / "configs" / "train.yaml").workload


def _proposes_packing(w: WorkloadConfig) -> bool:
    return "packing.sample_packing" in {r.id for r in applicable(w, get_hardware("mi300x"), cached_rules())}


def test_only_sft_config_has_packing_among_trl_classes() -> None:
    classes = tables.table("trl")["classes"]
    assert "packing" in tables.class_fields("trl", "SFTConfig")
    assert "packing" not in tables.class_fields("trl", "CPOConfig") and "padding_free" not in tables.class_fields("trl", "CPOConfig")
    assert [c for c in classes if "packing" in classes[c]["fields"]] == ["SFTConfig"]


def test_a_plain_sft_text_recipe_unpacked_at_batch_8_is_told_to_pack(tmp_path: Path) -> None:
    """Must not fire: nothing blocks packing on a plain SFTTrainer text recipe."""
    w = _repo(tmp_path, SFT)
    assert w.micro_batch_size == 8 and w.sample_packing is False
    assert w.packing_blocked is None
    assert _proposes_packing(w)


def test_a_cpo_recipe_is_not_told_to_pack(tmp_path: Path) -> None:
    w = _repo(tmp_path, CPO)
    assert "CPOConfig" in (w.framework or "")
    assert w.packing_blocked is not None and w.packing_blocked.startswith("TRL CPOConfig has no packing (trl ")
    assert "cpo_config.py" in w.packing_blocked and w.packing_blocked in w.notes
    assert not _proposes_packing(w)


def test_a_recipe_that_skips_dataset_preparation_is_not_told_to_pack(tmp_path: Path) -> None:
    w = _repo(tmp_path, SFT + "dataset_kwargs:\n  skip_prepare_dataset: true\n")
    assert w.packing_blocked is not None and w.packing_blocked.startswith("`dataset_kwargs.skip_prepare_dataset` (line 9) is true")
    assert "sft_trainer.py:495-496" in w.packing_blocked
    assert not _proposes_packing(w)


@pytest.mark.parametrize(
    ("imports", "setup", "collator", "blocked"),
    [
        ("", "", "lambda examples: collate_fn(examples, None)", "passes SFTTrainer a collator of the repository's own (a lambda"),
        ("", '    training_args.dataset_kwargs = {"skip_prepare_dataset": True}\n', "None", "sets dataset_kwargs skip_prepare_dataset True"),
        ("from transformers import DataCollatorForLanguageModeling", "", "DataCollatorForLanguageModeling(tokenizer=None, mlm=False)", None),
        ("", "", "None", None),
    ],
)
def test_the_script_that_runs_the_recipe_decides(tmp_path: Path, imports: str, setup: str, collator: str, blocked: str | None) -> None:
    w = _repo(tmp_path, SFT, SCRIPT.format(imports=imports, setup=setup, collator=collator))
    if blocked is None:  # must not fire: the framework's own collator, or none
        assert w.packing_blocked is None and _proposes_packing(w)
    else:
        assert w.packing_blocked is not None and blocked in w.packing_blocked and "train.py is run on this file by README.md line 2" in w.packing_blocked
        assert not _proposes_packing(w)
