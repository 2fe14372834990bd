"""A YAML recipe whose launch line runs a script that parses it into the repository's own classes and builds the
repository's own trainer (review12b C3 row 37, MiuLab/FactAlign: run_kto.py:68 H4ArgumentParser((ModelArguments,
DataArguments, FGKTOConfig)), FGKTOConfig(KTOConfig), FGKTOTrainer(Trainer) computing `loss_type: fg_kto`): the script's
code decides the class (not a `# DPOTrainer arguments` comment), TRL's DPOTrainer loss list and KTOTrainer checks do not
run in a trainer that subclasses neither, and TRL ModelConfig's key history is not alignment's ModelArguments'."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin import blockers
from pytest_goblin.formats import load_config
from pytest_goblin.hardware import get_hardware
from pytest_goblin.schemas import Finding

from .repo_files import write_tree

RECIPE = (
    "# DPOTrainer arguments\n"
    "model_name_or_path: microsoft/Phi-3-mini-4k-instruct\n"
    "torch_dtype: float16\n"
    "beta: 0.1\n"
    "loss_type: fg_kto\n"
    "fg_beta: 0.1\n"
    "per_device_train_batch_size: 1\n"
    "gradient_accumulation_steps: 8\n"
    "learning_rate: 5.0e-7\n"
    "output_dir: out\n"
)
SCRIPT = (
    "from alignment import DataArguments, H4ArgumentParser, ModelArguments\n"
    "from kto_trainer_fg import FGKTOConfig, FGKTOTrainer\n\n\n"
    "def main():\n"
    "    parser = H4ArgumentParser((ModelArguments, DataArguments, FGKTOConfig))\n"
    "    model_args, data_args, training_args = parser.parse()\n"
    "    trainer = FGKTOTrainer(model=model_args.model_name_or_path, args=training_args)\n"
    "    trainer.train()\n\n\n"
    "if __name__ == '__main__':\n"
    "    main()\n"
)
OWN = (
    "from transformers import Trainer\n"
    "from trl import KTOConfig, KTOTrainer\n\n\n"
    "class FGKTOConfig(KTOConfig):\n"
    "    fg_beta: float = 0.1\n\n\n"
    "class FGKTOTrainer({base}):\n"
    "    def compute_loss(self, model, inputs):\n"
    "        if self.args.loss_type == 'fg_kto':\n"
    "            return 0.0\n"
)
RUN = "accelerate launch --num_processes 2 run_kto.py configs/kto.yaml\n"
TRL_SCRIPT = (
    "from trl import DPOConfig, DPOTrainer, ModelConfig, ScriptArguments, TrlParser\n\n"
    "if __name__ == '__main__':\n"
    "    parser = TrlParser((ScriptArguments, DPOConfig, ModelConfig))\n"
    "    script_args, training_args, model_args = parser.parse_args_and_config()\n"
    "    DPOTrainer(model=model_args.model_name_or_path, args=training_args).train()\n"
)


def _findings(tmp: Path, name: str, files: dict[str, str]) -> list[Finding]:
    path = write_tree(tmp / name, files, git=True) / "configs" / "kto.yaml"
    return blockers.findings(load_config(path), get_hardware("mi300x"))


def _repo(base: str, pins: str = "trl==1.16.0\n") -> dict[str, str]:
    return {"requirements.txt": pins, "run.sh": RUN, "run_kto.py": SCRIPT, "kto_trainer_fg.py": OWN.format(base=base), "configs/kto.yaml": RECIPE}


def test_a_repository_trainer_gets_no_trl_loss_list_nor_model_config_history(tmp_path: Path) -> None:
    got = _findings(tmp_path, "own", _repo("Trainer"))
    ids = {f.rule_id for f in got}
    # the script's FGKTOConfig(KTOConfig), not the comment's DPOTrainer; its FGKTOTrainer(Trainer) computes fg_kto itself
    assert not any("loss_type" in f.rule_id or "kto_kl" in f.rule_id for f in got), ids
    # torch_dtype goes to alignment's ModelArguments (H4ArgumentParser's), not TRL's ModelConfig
    assert not any(f.rule_id.startswith("blocker.keys_") and "torch_dtype" in f.message.split(":", 1)[0] for f in got), ids


def test_trl_trainers_and_trl_parsers_are_still_judged(tmp_path: Path) -> None:
    # must fire: the same repository whose trainer subclasses TRL's KTOTrainer runs KTOTrainer.__init__'s checks
    got = _findings(tmp_path, "trl-base", _repo("KTOTrainer"))
    assert any(f.rule_id.startswith("blocker.kto_kl_term") for f in got), [f.rule_id for f in got]
    # must fire: a script that builds TRL's DPOTrainer through TrlParser with ModelConfig (pinned trl 1.16.0): the unknown
    # loss type and ModelConfig's dropped torch_dtype (trl 0.27) both stop the run
    files = {"requirements.txt": "trl==1.16.0\n", "run.sh": RUN.replace("run_kto.py", "dpo.py"), "dpo.py": TRL_SCRIPT, "configs/kto.yaml": RECIPE}
    got = _findings(tmp_path, "trl-dpo", files)
    by = {f.rule_id: f for f in got}
    assert "blocker.dpo_unknown_loss_type" in by and by["blocker.dpo_unknown_loss_type"].blocker, list(by)
    assert any(f.rule_id == "blocker.keys_rejected_at_version" and f.message.startswith("`torch_dtype: float16`") for f in got), list(by)
