"""What the training script's own code does to lengths and packing (issue 23, review 10b class 2): a trainer keyword
`packing=True` over a YAML recipe that says nothing (review10a #15), a `group_texts` map that concatenates and chunks
(review10b #32), a map function's tokenizer call that truncates at a literal max_length (review10b #33), and a
repository helper reached through `from utils import *` that pads every sample to max_length (review10a #16)."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.formats import load_config
from pytest_goblin.hardware import get_hardware
from pytest_goblin.rules import applicable, cached_rules
from pytest_goblin.schemas import WorkloadConfig

SFT = (
    "model_name_or_path: meta-llama/Meta-Llama-3-8B\nper_device_train_batch_size: 8\ngradient_accumulation_steps: 2\n"
    "bf16: true\nmax_seq_length: 2048\nattn_implementation: sdpa\n"
)
KD_TRAINER = """from trl import SFTTrainer


class KDTrainer(SFTTrainer):
    pass
"""
KD_SCRIPT = """import sys

sys.path.append("./")
from transformers import AutoModelForCausalLM
from alignment import H4ArgumentParser, SFTConfig
from trainer.kd_trainer import KDTrainer


def main():
    parser = H4ArgumentParser((SFTConfig,))
    (training_args,) = parser.parse()
    model = AutoModelForCausalLM.from_pretrained("meta-llama/Meta-Llama-3-8B")
    trainer = KDTrainer(model=model, args=training_args, dataset_text_field="text", {packing})
    trainer.train()


if __name__ == "__main__":
    main()
"""


def _proposes_packing(w: WorkloadConfig) -> bool:
    return "packing.sample_packing" in {r.id for r in applicable(w, get_hardware("mi300x"), cached_rules())}


def _kd_repo(tmp_path: Path, packing: str, recipe: str = SFT, path_line: bool = True) -> WorkloadConfig:
    (tmp_path / ".git").mkdir(parents=True)
    root = tmp_path / "Zebra"
    (root / "configs").mkdir(parents=True)
    (root / "train_hybrid").mkdir()
    (root / "trainer").mkdir()
    (root / "trainer" / "kd_trainer.py").write_text(KD_TRAINER)
    script = KD_SCRIPT.format(packing=packing)
    (root / "train_hybrid" / "train_distill.py").write_text(script if path_line else script.replace('sys.path.append("./")\n', ""))
    (root / "configs" / "sft.yaml").write_text(recipe)
    (root / "README.md").write_text("```bash\naccelerate launch train_hybrid/train_distill.py configs/sft.yaml\n```\n")
    return load_config(root / "configs" / "sft.yaml").workload


def test_a_trainer_keyword_packing_true_packs_where_the_recipe_says_nothing(tmp_path: Path) -> None:
    w = _kd_repo(tmp_path, "packing=True")
    assert w.sample_packing is True
    src = w.sources["sample_packing"]
    assert src.explicit and src.line == 13 and src.file is not None and src.file.endswith("train_distill.py")
    assert "`KDTrainer(..., packing=True)` at Zebra/train_hybrid/train_distill.py:13 passes packing=True to the trainer" in (src.note or "")
    assert "sft_trainer.py:142@0.8.6" in (src.note or "")
    assert not _proposes_packing(w)


def test_the_trainer_keyword_wins_over_the_recipes_packing_false(tmp_path: Path) -> None:
    w = _kd_repo(tmp_path, "packing=True", SFT + "packing: false\n")
    assert w.sample_packing is True and not _proposes_packing(w)


def test_no_packing_keyword_leaves_the_recipes_default(tmp_path: Path) -> None:
    """Must not fire: the trainer call passes no packing (or a false one, which sets nothing over the config from trl 0.9)."""
    for packing in ("max_seq_length=2048", "packing=False"):
        w = _kd_repo(tmp_path / packing.split("=")[0], packing)
        assert w.sample_packing is False and _proposes_packing(w)


def test_a_trainer_class_that_cannot_be_found_is_not_read_as_sft(tmp_path: Path) -> None:
    """Must not fire: without the script's `sys.path.append("./")` the repository's trainer module is not on the import
    path from the script's folder, so KDTrainer is not known to be an SFTTrainer."""
    w = _kd_repo(tmp_path, "packing=True", path_line=False)
    assert w.sample_packing is False
