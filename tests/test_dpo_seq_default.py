"""A DPO recipe that leaves max_length unset runs at the length its pinned TRL release's DPOTrainer uses: 512 from 0.7.10
to 0.11.4 (None turned into 512 in DPOTrainer.__init__), 1024 from 0.14.0 (DPOConfig's own default) (review6b #25,
formats/hf_trainer._old_dpo_seq_len)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.formats import load_config

from .test_pins_sources import repo

DPO = (
    "model_name_or_path: meta-llama/Meta-Llama-3-8B\nbeta: 0.01\nmax_prompt_length: 256\nper_device_train_batch_size: 4\n"
    "gradient_accumulation_steps: 4\nbf16: true\nlearning_rate: 5.0e-7\n"
)


def _seq(path: Path) -> tuple[int, str]:
    w = load_config(path).workload
    assert w.framework is not None and "DPOConfig" in w.framework
    return w.seq_len, w.sources["seq_len"].note or ""


@pytest.mark.parametrize(("pin", "cite"), [("0.7.10", "dpo_trainer.py:281-287@0.7.10"), ("0.9.6", "dpo_trainer.py:393-399@0.9.6")])
def test_an_old_trl_dpo_trainer_uses_512(tmp_path: Path, pin: str, cite: str) -> None:
    path = repo(tmp_path, {"requirements.txt": f"transformers==4.38.2\ntrl=={pin}\n"}, "recipes/dpo/config_full.yaml", DPO)
    seq, note = _seq(path)
    assert seq == 512
    assert f"trl {pin} (trl=={pin}, requirements.txt:2)" in note and cite in note and "None" not in note.replace("leaves it None", "")


def _own_class(default: str) -> dict[str, str]:
    return {
        "requirements.txt": "trl==0.8.6\n",
        "src/pkg/configs.py": (
            "from dataclasses import dataclass, field\nfrom typing import Optional\nimport transformers\n\n\n@dataclass\n"
            "class DPOConfig(transformers.TrainingArguments):\n    beta: Optional[float] = field(default=0.1)\n"
            f"    max_length: Optional[int] = field(default={default})\n"
        ),
        "scripts/run_dpo.py": (
            "from transformers import HfArgumentParser\nfrom pkg.configs import DPOConfig\nfrom trl import DPOTrainer\n\n"
            "parser = HfArgumentParser((DPOConfig,))\n(args,) = parser.parse_yaml_file('x')\n"
            "trainer = DPOTrainer(model=None, args=args, max_length=args.max_length)\n"
        ),
        "run.sh": "accelerate launch scripts/run_dpo.py recipes/dpo/config_full.yaml\n",
    }


def test_the_repository_class_that_leaves_it_none_is_named(tmp_path: Path) -> None:
    path = repo(tmp_path, _own_class("None"), "recipes/dpo/config_full.yaml", DPO)
    seq, note = _seq(path)
    assert seq == 512 and "dpo_trainer.py:299-305@0.8.6" in note
    assert "the repository's DPOConfig (src/pkg/configs.py:9), which scripts/run_dpo.py parses this file into" in note


def test_trl_0_12_and_0_13_cap_nothing_and_say_the_length_is_assumed(tmp_path: Path) -> None:
    path = repo(tmp_path, {"requirements.txt": "trl==0.12.2\n"}, "recipes/dpo/config_full.yaml", DPO)
    seq, note = _seq(path)
    assert seq == 1024 and "truncates nothing" in note and "1024 tokens assumed" in note and "512" not in note


@pytest.mark.parametrize("requirements", ["trl==0.14.0\n", "trl\n"])
def test_a_newer_or_unpinned_trl_keeps_its_own_default(tmp_path: Path, requirements: str) -> None:
    path = repo(tmp_path, {"requirements.txt": requirements}, "recipes/dpo/config_full.yaml", DPO)
    seq, note = _seq(path)
    assert seq == 1024 and "512" not in note


def test_a_length_the_config_sets_wins(tmp_path: Path) -> None:
    path = repo(tmp_path, {"requirements.txt": "trl==0.7.10\n"}, "recipes/dpo/config_full.yaml", DPO + "max_length: 2048\n")
    w = load_config(path).workload
    assert w.seq_len == 2048 and w.sources["seq_len"].explicit


def test_a_length_the_repository_class_declares_wins(tmp_path: Path) -> None:
    path = repo(tmp_path, _own_class("768"), "recipes/dpo/config_full.yaml", DPO)
    seq, note = _seq(path)
    assert seq == 768 and "src/pkg/configs.py:9" in note and "dpo_trainer.py" not in note


OWN_TRAINER = (
    "import warnings\n\n\nclass DPOTrainer:\n    def __init__(self, model=None, args=None, max_length=None):\n"
    "        if max_length is None:\n            warnings.warn('max_length unset')\n            max_length = 384\n"
    "        self.max_length = max_length\n"
)


def _own_trainer(tmp_path: Path, trl: str, call: str, fill: bool = True) -> Path:
    files = _own_class("None")
    files["requirements.txt"] = f"trl=={trl}\n"
    files["scripts/trainer.py"] = OWN_TRAINER if fill else OWN_TRAINER.replace("max_length = 384", "pass")
    files["scripts/run_dpo.py"] = (
        files["scripts/run_dpo.py"].replace("from trl import DPOTrainer", "from trainer import DPOTrainer").replace("max_length=args.max_length", call)
    )
    return repo(tmp_path, files, "recipes/dpo/config_full.yaml", DPO)


@pytest.mark.parametrize("trl", ["0.8.6", "0.14.0"])
def test_the_repositorys_own_trainer_fills_the_none_itself(tmp_path: Path, trl: str) -> None:
    seq, note = _seq(_own_trainer(tmp_path, trl, "max_length=args.max_length"))
    assert seq == 384
    assert "the repository's DPOTrainer (scripts/trainer.py:4) then sets 384 (scripts/trainer.py:6-8)" in note and "src/pkg/configs.py:9" in note


def test_an_own_trainer_given_another_value_or_with_no_fill_is_not_read_as_trls(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    seq, note = _seq(_own_trainer(tmp_path / "a", "0.8.6", "max_length=1536"))
    assert seq != 384 and "then sets 384" not in note
    seq, note = _seq(_own_trainer(tmp_path / "b", "0.8.6", "max_length=args.max_length", fill=False))
    assert seq != 512 and "dpo_trainer.py" not in note
