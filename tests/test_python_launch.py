"""Values a Python script or its launcher sets (issue 23; review2 classes 2 and 4): a quantization or
adapter config nothing uses, a script named relative to another folder, python-fire defaults, values
assigned in code, Python launchers that build a launch command. Small synthetic trees; nothing run."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.formats import load_config


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# ------------------------------------------------------------------ a config built but never passed
UNUSED_BNB = """\
import torch
from transformers import AutoModelForCausalLM, BitsAndBytesConfig
from trl import SFTConfig, SFTTrainer

quant_config = BitsAndBytesConfig(load_in_8bit=True)
model = AutoModelForCausalLM.from_pretrained(
    "Qwen/Qwen2.5-7B",
    dtype=torch.bfloat16,
    {use}
)
SFTTrainer(model=model, args=SFTConfig(output_dir="o", per_device_train_batch_size=2)).train()
"""


def test_a_quantization_config_passed_only_in_a_comment_is_not_read(tmp_path: Path) -> None:
    path = _write(tmp_path, "train.py", UNUSED_BNB.replace("{use}", "# quantization_config=quant_config,"))
    loaded = load_config(path)
    assert loaded.workload.quantization == "none"
    assert any("BitsAndBytesConfig(...) is bound to a name nothing reads" in n for n in loaded.workload.notes)


def test_a_quantization_config_that_is_passed_is_read(tmp_path: Path) -> None:
    path = _write(tmp_path, "train.py", UNUSED_BNB.replace("{use}", "quantization_config=quant_config,"))
    loaded = load_config(path)
    assert loaded.workload.quantization == "8bit"
    assert not any("nothing reads" in n for n in loaded.workload.notes)


def test_a_lora_config_nobody_uses_is_not_an_adapter(tmp_path: Path) -> None:
    text = UNUSED_BNB.replace("{use}", "").replace("quant_config = BitsAndBytesConfig(load_in_8bit=True)", "from peft import LoraConfig\nlora = LoraConfig(r=8)")
    used = text.replace("SFTTrainer(model=model, ", "SFTTrainer(model=model, peft_config=lora, ")
    assert load_config(_write(tmp_path, "a/train.py", text)).workload.method == "full"
    assert load_config(_write(tmp_path, "b/train.py", used)).workload.method == "lora"
