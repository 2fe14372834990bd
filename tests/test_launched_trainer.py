"""The trainer of a YAML recipe is the one the script its launch line runs builds on it, read from the code; the
file's comments (`# DPOTrainer arguments`) and path (`config_dpo.yaml`) are words, not code (review11b #21-#23:
LionAlignment's own PrecomputeDPOTrainer and SFTConfig(TrainingArguments); llm2025compet's `config_dpo.yaml` run
through open_r1/orpo.py, TRL's ORPOTrainer)."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.formats import load_config
from pytest_goblin.rules import unmodelled_trainer

from .repo_files import write_tree

RECIPE = (
    "# Model arguments\nmodel_name_or_path: meta-llama/Meta-Llama-3-8B\ntorch_dtype: bfloat16\n\n"
    "# DPOTrainer arguments\nbeta: 0.01\nbf16: true\nmax_length: 1024\nper_device_train_batch_size: 2\n"
    "gradient_accumulation_steps: 16\ngradient_checkpointing: true\n"
)

OWN_CONFIG = (
    "from dataclasses import dataclass, field\nfrom transformers import TrainingArguments\n\n\n@dataclass\n"
    "class DPOConfig(TrainingArguments):\n    beta: float = field(default=0.1)\n    max_length: int = field(default=512)\n"
)

# the repository's own DPO trainer: chosen and rejected together, reference log-probs read from the batch
OWN_TRAINER = (
    "from transformers import Trainer\n\n\nclass PrecomputeDPOTrainer(Trainer):\n"
    "    def concatenated_forward(self, model, batch):\n        return model(batch)\n\n"
    "    def compute_loss(self, model, inputs):\n        ref = inputs['reference_chosen_logps']\n        return self.concatenated_forward(model, inputs)\n"
)

SCRIPT = (
    "from transformers import HfArgumentParser\nfrom pkg.dpo_config import DPOConfig\nfrom pkg.trainer import {trainer}\n\n"
    "parser = HfArgumentParser((DPOConfig,))\n(args,) = parser.parse_yaml_file('x')\ntrainer = {trainer}(model=None, args=args)\ntrainer.train()\n"
)


def _own(tmp_path: Path, trainer_text: str, trainer: str) -> Path:
    root = write_tree(
        tmp_path / "repo",
        {
            "pkg/__init__.py": "",
            "pkg/dpo_config.py": OWN_CONFIG,
            "pkg/trainer.py": trainer_text,
            "scripts/run_dpo.py": SCRIPT.format(trainer=trainer),
            "run.sh": "accelerate launch --num_processes 4 scripts/run_dpo.py configs/dpo/recipe.yaml\n",
            "configs/dpo/recipe.yaml": RECIPE,
        },
        git=True,
    )
    return root / "configs/dpo/recipe.yaml"


def test_a_repository_dpo_trainer_without_a_reference_model_is_read_from_its_code(tmp_path: Path) -> None:
    w = load_config(_own(tmp_path, OWN_TRAINER, "PrecomputeDPOTrainer")).workload
    assert w.sequences_per_example == 2 and w.reference_forward is False and w.reference_copy is False
    assert w.framework is not None and "the repository's DPOConfig (pkg/dpo_config.py:6), a subclass of TrainingArguments" in w.framework
    note = w.sources["sequences_per_example"].note or ""
    assert "PrecomputeDPOTrainer (pkg/trainer.py:4) runs chosen and rejected through the model together" in note
    said = " ".join(w.notes)
    assert "the file's own line `# DPOTrainer arguments` names DPOConfig, but scripts/run_dpo.py is run on this file" in said
    assert "second copy of the weights" not in said and "None" not in said
    assert unmodelled_trainer(w) is None  # read from the code: priced


def test_a_repository_dpo_trainer_goblin_cannot_read_is_said_and_not_priced_as_trls(tmp_path: Path) -> None:
    opaque = "from transformers import Trainer\n\n\nclass MyDPOTrainer(Trainer):\n    def compute_loss(self, model, inputs):\n        return model(inputs)\n"
    w = load_config(_own(tmp_path, opaque, "MyDPOTrainer")).workload
    assert w.framework is not None and "MyDPOTrainer (pkg/trainer.py:4), the repository's own class (bases: Trainer)" in w.framework
    src = w.sources.get("sequences_per_example")
    assert (src is None or not src.explicit) and w.reference_forward is False
    assert any("goblin does not know its sequences per example or reference model" in n for n in w.notes)
    assert unmodelled_trainer(w) is not None  # memory left unjudged (tools.audit_tools: the repository's own DPO trainer class)


def test_without_a_launch_line_the_comment_still_names_trls_dpo(tmp_path: Path) -> None:
    # the premise (a script the launch line runs, whose trainer is read) does not hold: the file's own line is all there is
    path = _own(tmp_path, OWN_TRAINER, "PrecomputeDPOTrainer")
    (path.parents[2] / "run.sh").unlink()
    w = load_config(path).workload
    assert w.framework is not None and w.framework.startswith("trl") and "DPOConfig" in w.framework
    assert w.reference_forward is True and w.sequences_per_example == 2


ORPO_SCRIPT = (
    "from trl import ORPOConfig, ORPOTrainer, ModelConfig, TrlParser, ScriptArguments\n\n\ndef main(script_args, training_args, model_args):\n"
    "    trainer = ORPOTrainer(model=None, args=training_args)\n    trainer.train()\n\n\n"
    "if __name__ == '__main__':\n    parser = TrlParser((ScriptArguments, ORPOConfig, ModelConfig))\n"
    "    main(*parser.parse_args_and_config())\n"
)


def _orpo(tmp_path: Path, script: str) -> Path:
    root = write_tree(
        tmp_path / "repo",
        {
            "training/open-r1/src/open_r1/orpo.py": ORPO_SCRIPT,
            "training/open-r1/src/open_r1/dpo.py": ORPO_SCRIPT.replace("ORPO", "DPO"),
            "training/commands/run.sh": (
                f"cd repo/training/open-r1/src || exit 1\naccelerate launch --num_processes 8 open_r1/{script} --config ../../configs/Q/DPO/config_dpo.yaml\n"
            ),
            "training/configs/Q/DPO/config_dpo.yaml": (
                "model_name_or_path: Qwen/Qwen3-14B\nbeta: 0.1\nbf16: true\nmax_length: 2048\nper_device_train_batch_size: 1\n"
                "gradient_accumulation_steps: 8\nlearning_rate: 5.0e-7\n"
            ),
        },
        git=True,
    )
    return root / "training/configs/Q/DPO/config_dpo.yaml"


def test_a_dpo_named_recipe_run_through_orpo_is_orpo(tmp_path: Path) -> None:
    w = load_config(_orpo(tmp_path, "orpo.py")).workload
    assert w.reference_forward is False and w.reference_copy is False and w.sequences_per_example == 2
    assert w.framework is not None and "ORPOTrainer in training/open-r1/src/open_r1/orpo.py" in w.framework
    assert any("the path's `config_dpo.yaml` names DPOConfig, but training/open-r1/src/open_r1/orpo.py" in n for n in w.notes)


def test_the_same_recipe_run_through_dpo_keeps_its_reference(tmp_path: Path) -> None:
    w = load_config(_orpo(tmp_path, "dpo.py")).workload
    assert w.reference_forward is True and w.sequences_per_example == 2
    assert not any("names DPOConfig, but" in n for n in w.notes)
