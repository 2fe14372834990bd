"""The adapter switch inside a function follows the `if` around the function's call (review7b #26: Aria
aria/train.py:77-78 `if model_config.use_peft: model = setup_peft(...)`, get_peft_model in setup_peft at :112;
use_peft is TRL ModelConfig's, default False: trl 0.9.6 trl/trainer/model_config.py:40-42)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.formats import load_config

from .repo_files import write_file, write_tree
from .test_peft_guards import RECIPE

CONFIGS = """\
from dataclasses import dataclass, field
from trl import ModelConfig


@dataclass
class MyModelConfig(ModelConfig):
    freeze_vit: bool = field(default=True)
"""
SCRIPT = """\
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM
from trl import SFTConfig, SFTTrainer, TrlParser
from configs import MyModelConfig


def setup_peft(model, model_config):
    return get_peft_model(model, LoraConfig(r=8))


def setup(model_config):
    model = AutoModelForCausalLM.from_pretrained(model_config.model_name_or_path)
    {call}
    return model


parser = TrlParser((SFTConfig, MyModelConfig))
training_args, model_config = parser.parse_args_and_config()
SFTTrainer(model=setup(model_config), args=training_args).train()
"""
GUARDED = "if model_config.use_peft:\n        model = setup_peft(model, model_config)"
UNGUARDED = "model = setup_peft(model, model_config)"


def _repo(tmp_path: Path, recipe: str, call: str) -> Path:
    files = {
        "scripts/configs.py": CONFIGS,
        "scripts/train.py": SCRIPT.replace("{call}", call),
        "run.sh": "accelerate launch scripts/train.py --config recipes/sft.yaml\n",
        "recipes/sft.yaml": recipe,
    }
    return write_tree(tmp_path, files, git=True) / "recipes" / "sft.yaml"


def test_a_false_if_at_the_call_site_keeps_the_run_full(tmp_path: Path) -> None:
    w = load_config(_repo(tmp_path, RECIPE, GUARDED)).workload
    assert w.method == "full"
    note = next(n for n in w.notes if "does not run" in n)
    assert "the `if` at line 13 is false (`use_peft` takes TRL ModelConfig's default false, trl 0.9.6 trl/trainer/model_config.py:40-42" in note
    assert "None" not in note


def test_the_recipe_turning_the_call_sites_if_on_is_lora(tmp_path: Path) -> None:
    w = load_config(_repo(tmp_path, RECIPE + "use_peft: true\n", GUARDED)).workload
    assert w.method == "lora"


@pytest.mark.parametrize("recipe", [RECIPE, RECIPE + "use_peft: false\n"])
def test_an_unconditional_call_of_the_function_wraps_the_model(tmp_path: Path, recipe: str) -> None:
    """Must not fire: nothing guards the call, so the function's get_peft_model runs whatever use_peft says."""
    w = load_config(_repo(tmp_path, recipe, UNGUARDED)).workload
    assert w.method == "lora"
    assert any("`get_peft_model(...)` at scripts/train.py:8 wraps the model in a LoRA adapter" in n for n in w.notes)


PY = """\
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM, Trainer, TrainingArguments

USE_LORA = {flag}


def setup_peft(model):
    return get_peft_model(model, LoraConfig(r=8))


model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-7B")
{call}
args = TrainingArguments(output_dir="out", per_device_train_batch_size=1, bf16=True)
Trainer(model=model, args=args).train()
"""


@pytest.mark.parametrize(
    ("flag", "call", "method"),
    [
        ("False", "if USE_LORA:\n    model = setup_peft(model)", "full"),  # the call site's `if` is false
        ("True", "if USE_LORA:\n    model = setup_peft(model)", "lora"),
        ("False", "model = setup_peft(model)", "lora"),  # must not fire: an unconditional call
    ],
)
def test_a_python_scripts_adapter_function_follows_its_call_site(tmp_path: Path, flag: str, call: str, method: str) -> None:
    (tmp_path / ".git").mkdir()
    path = write_file(tmp_path, "train.py", PY.replace("{flag}", flag).replace("{call}", call))
    w = load_config(path).workload
    assert w.method == method
    if method == "lora" and call.startswith("if"):
        assert any("(around the call of `setup_peft` at line 13)" in n for n in w.notes), w.notes
