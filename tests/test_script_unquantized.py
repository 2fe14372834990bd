"""A recipe its repository's script parses into its own argument classes: the quantization is read as none where the
script's model loads pass none and nothing in it can quantize the weights (launched.Launched.unquantized), so the
quantization rules are judged; review11b #28 oci-amd-gpu-onboarding MI300X/single-node-finetuning/lora.py:112-117
loads bfloat16 with no quantization, and a PASS turned INCONCLUSIVE over an "assumed" quantization."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.formats import load_config
from pytest_goblin.schemas import FieldSource

from .repo_files import write_tree

SCRIPT = """\
from dataclasses import dataclass, field

import torch
from transformers import AutoModelForCausalLM, HfArgumentParser, TrainingArguments
{imports}

@dataclass
class ScriptArguments:
    model_id: str = field(default=None)


parser = HfArgumentParser((ScriptArguments, TrainingArguments))
script_args, training_args = parser.parse_yaml_file("recipe.yaml")
{before}
model = AutoModelForCausalLM.from_pretrained(script_args.model_id, torch_dtype=torch.bfloat16{kwargs})
"""

RECIPE = "model_id: meta-llama/Meta-Llama-3-8B\noutput_dir: o\nbf16: true\nper_device_train_batch_size: 4\n"


def _quant(tmp_path: Path, imports: str = "", before: str = "", kwargs: str = "") -> tuple[str, FieldSource]:
    files = {
        "lora.py": SCRIPT.format(imports=imports, before=before, kwargs=kwargs),
        "recipe.yaml": RECIPE,
        "run.sh": "torchrun --nproc_per_node=8 lora.py --config recipe.yaml\n",
    }
    w = load_config(write_tree(tmp_path, files, git=True) / "recipe.yaml").workload
    return w.quantization, w.sources["quantization"]


def test_a_script_that_loads_unquantized_is_read_as_none(tmp_path: Path) -> None:
    quant, src = _quant(tmp_path)
    assert quant == "none" and not src.unread
    assert "lora.py:" in (src.note or "") and "pass no quantization" in (src.note or "")


@pytest.mark.parametrize(
    ("imports", "before", "kwargs"),
    [
        ("from transformers import BitsAndBytesConfig", "bnb = BitsAndBytesConfig(load_in_4bit=script_args.q)", ", quantization_config=bnb"),
        ("", "extra = {}", ", **extra"),  # a dict goblin does not read may carry quantization_config
        ("from peft import prepare_model_for_kbit_training", "", ""),
        ("import unsloth", "", ""),  # Unsloth's loader quantizes to 4 bits by default
        ("", "q = script_args.model_id.endswith('4bit')", ", load_in_4bit=q"),
    ],
)
def test_a_script_that_may_quantize_leaves_it_assumed(tmp_path: Path, imports: str, before: str, kwargs: str) -> None:
    _quant_value, src = _quant(tmp_path, imports, before, kwargs)
    assert src.unread or "load_in_" in (src.note or "")  # never "pass no quantization"
    assert "pass no quantization" not in (src.note or "")
