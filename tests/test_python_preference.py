"""A Python script's trainer class sets the preference method (formats/pyworkload.py trainer_class)."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.formats import load_config
from pytest_goblin.rules import unmodelled_trainer

from .repo_files import write_tree

HEAD = """from transformers import AutoModelForCausalLM, TrainingArguments
model = AutoModelForCausalLM.from_pretrained("meta-llama/Llama-3.1-8B")
args = TrainingArguments(output_dir="out", per_device_train_batch_size=2, bf16=True)
"""


def _write(tmp_path: Path, script: str, **files: str) -> Path:
    tree = {name.replace("__", "/"): text for name, text in files.items()}
    return write_tree(tmp_path, {**tree, "train.py": script}, git=True) / "train.py"


def test_trl_dpo_trainer_with_training_arguments_is_preference(tmp_path: Path) -> None:
    path = _write(tmp_path, HEAD + "from trl import DPOTrainer\ntrainer = DPOTrainer(model, args=args)\ntrainer.train()\n")
    w = load_config(path).workload
    assert w.sequences_per_example == 2
    assert w.reference_forward is True and w.reference_copy is True
    assert "DPOTrainer" in (w.framework or "")
    assert unmodelled_trainer(w) is None


def test_repository_subclass_of_trl_orpo_has_no_reference(tmp_path: Path) -> None:
    mine = "from trl import ORPOTrainer\n\nclass MyORPOTrainer(ORPOTrainer):\n    pass\n"
    path = _write(tmp_path, HEAD + "from mine import MyORPOTrainer\nMyORPOTrainer(model, args=args).train()\n", **{"mine.py": mine})
    w = load_config(path).workload
    assert w.sequences_per_example == 2
    assert w.reference_forward is False and w.reference_copy is False
    assert any("a subclass of TRL's ORPOTrainer" in n for n in w.notes)


def test_dpo_with_peft_and_no_ref_model_keeps_no_second_copy(tmp_path: Path) -> None:
    script = HEAD.replace("TrainingArguments\n", "TrainingArguments\nfrom peft import LoraConfig, get_peft_model\n") + (
        "model = get_peft_model(model, LoraConfig(r=8))\nfrom trl import DPOTrainer\nDPOTrainer(model, ref_model=None, args=args).train()\n"
    )
    w = load_config(_write(tmp_path, script)).workload
    assert w.method == "lora"
    assert w.sequences_per_example == 2 and w.reference_forward is True and w.reference_copy is False


def test_custom_preference_trainer_is_not_priced_as_sft(tmp_path: Path) -> None:
    own = "from transformers import Trainer\n\nclass ORPOTrainer(Trainer):\n    def compute_loss(self, model, inputs):\n        return 0\n"
    path = _write(tmp_path, HEAD + "from src.orpo_trainer import ORPOTrainer\nORPOTrainer(model=model, args=args).train()\n", **{"src__orpo_trainer.py": own})
    w = load_config(path).workload
    hit = unmodelled_trainer(w)
    assert hit is not None and hit.what == "orpo"
    assert any("subclasses none of TRL's preference trainers" in n for n in w.notes)


def test_sft_script_must_not_fire(tmp_path: Path) -> None:
    path = _write(tmp_path, HEAD + "from transformers import Trainer\nTrainer(model=model, args=args).train()\n")
    w = load_config(path).workload
    assert w.sequences_per_example == 1 and w.reference_copy is False
    assert unmodelled_trainer(w) is None
    assert not any("preference" in n or "trainer class" in n for n in w.notes)


def test_repository_trainer_with_other_name_must_not_fire(tmp_path: Path) -> None:
    own = "from transformers import Trainer\n\nclass MyTrainer(Trainer):\n    pass\n"
    path = _write(tmp_path, HEAD + "from mine import MyTrainer\nMyTrainer(model=model, args=args).train()\n", **{"mine.py": own})
    w = load_config(path).workload
    assert w.sequences_per_example == 1 and unmodelled_trainer(w) is None


def test_config_class_already_priced_is_read_once(tmp_path: Path) -> None:
    script = HEAD.replace("args = TrainingArguments(", "from trl import DPOConfig, DPOTrainer\nargs = DPOConfig(precompute_ref_log_probs=True, ") + (
        "DPOTrainer(model, args=args).train()\n"
    )
    w = load_config(_write(tmp_path, script)).workload
    assert w.sequences_per_example == 2 and w.reference_forward is False
    assert len([n for n in w.notes if n.startswith("preference training")]) == 1


def test_custom_preference_trainer_audit_is_inconclusive(tmp_path: Path) -> None:
    from pytest_goblin.options import build_settings
    from pytest_goblin.service import audit_file

    own = "from transformers import Trainer\n\nclass ORPOTrainer(Trainer):\n    pass\n"
    path = _write(tmp_path, HEAD + "from src.orpo_trainer import ORPOTrainer\nORPOTrainer(model=model, args=args).train()\n", **{"src__orpo_trainer.py": own})
    r = audit_file(path, build_settings({}), shown_as="train.py").report
    assert r is not None and r.verdict != "pass"
    assert r.inconclusive is not None and "repository's own ORPO trainer class" in r.inconclusive
    # must not: an SFT script's Trainer gives no such reason
    (tmp_path / "sft").mkdir()
    sft = _write(tmp_path / "sft", HEAD + "from transformers import Trainer\nTrainer(model=model, args=args).train()\n")
    r = audit_file(sft, build_settings({}), shown_as="train.py").report
    assert r is not None and (r.inconclusive is None or "trainer class" not in r.inconclusive)
