"""A script's parser class that the repository defines as a subclass of TRL's OnPolicyConfig (the PPO/RLOO config base of
trl 0.11-0.21) is not collected with that said, not with "none of them TrainingArguments or a TRL config" (review13a #18:
HuatuoGPT-o1 ppo_utils/ppo_config_medo1.py:19-23 `class PPOConfig(OnPolicyConfig)` from trl.trainer.utils)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.errors import NotATrainingConfig
from pytest_goblin.formats import load_config

from .repo_files import write_tree

CONFIG = (
    "from dataclasses import dataclass\n{imports}\n\n\n@dataclass\nclass PPOConfig(OnPolicyConfig):\n"
    "    num_ppo_epochs: int = 4\n    value_model_path: str = 'v'\n"
)

SCRIPT = (
    "from transformers import HfArgumentParser\nfrom trl import ModelConfig, ScriptArguments\n"
    "from ppo_utils.ppo_config import PPOConfig\n\n\nif __name__ == '__main__':\n"
    "    parser = HfArgumentParser((ScriptArguments, PPOConfig, ModelConfig))\n"
    "    script_args, training_args, model_config = parser.parse_args_into_dataclasses()\n"
)


def _repo(tmp_path: Path, imports: str, extra: dict[str, str] | None = None) -> Path:
    files = {
        "ppo_utils/__init__.py": "",
        "ppo_utils/ppo_config.py": CONFIG.format(imports=imports),
        "RL_stage2.py": SCRIPT,
        "train.sh": "accelerate launch --num_processes 8 RL_stage2.py --per_device_train_batch_size 1 --output_dir out\n",
        **(extra or {}),
    }
    return write_tree(tmp_path / "repo", files, git=True) / "RL_stage2.py"


def test_a_repository_subclass_of_trls_onpolicy_config_is_refused_as_ppo(tmp_path: Path) -> None:
    with pytest.raises(NotATrainingConfig) as err:
        load_config(_repo(tmp_path, "from trl.trainer.utils import OnPolicyConfig"))
    said = str(err.value)
    assert "parses PPOConfig, which ppo_utils/ppo_config.py:6 defines as a subclass of TRL's OnPolicyConfig" in said
    assert "trl v0.13.0 trl/trainer/utils.py:1003" in said and "no generation/training split" in said
    assert "none of them TrainingArguments" not in said


def test_a_repository_onpolicy_config_of_its_own_is_not_trls(tmp_path: Path) -> None:
    own = {"ppo_utils/base.py": "class OnPolicyConfig:\n    pass\n"}
    with pytest.raises(NotATrainingConfig) as err:
        load_config(_repo(tmp_path, "from ppo_utils.base import OnPolicyConfig", own))
    said = str(err.value)
    assert "none of them TrainingArguments" in said and "OnPolicyConfig" not in said
