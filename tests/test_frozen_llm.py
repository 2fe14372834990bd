"""A multimodal script that freezes its language model (lora19; the shape of OpenBMB/MiniCPM-V finetune/finetune.py
with finetune_ds.sh's `--tune_llm false --tune_vision true`): not priced as a full fine-tune of the LLM; the method is
unread with the line that freezes it. Nothing is executed."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.formats import load_config

SCRIPT = """\
from dataclasses import dataclass, field
from typing import Optional
import torch
import transformers
from transformers import AutoModel, HfArgumentParser, Trainer


@dataclass
class TrainingArguments(transformers.TrainingArguments):
    tune_vision: Optional[bool] = field(default=True)
    tune_llm: Optional[bool] = field(default=True)


def train():
    parser = HfArgumentParser((TrainingArguments,))
    (training_args,) = parser.parse_args_into_dataclasses()
    model = AutoModel.from_pretrained("meta-llama/Llama-2-7b-hf", torch_dtype=torch.bfloat16)
    if not training_args.tune_llm:
{freeze}
    Trainer(model=model, args=training_args).train()


if __name__ == "__main__":
    train()
"""
CALL = "        model.llm.requires_grad_(False)"
LOOP = "        for p in model.llm.parameters():\n            p.requires_grad = False"


def _repo(tmp_path: Path, freeze: str, words: str) -> Path:
    (tmp_path / ".git").mkdir(parents=True)
    (tmp_path / "finetune.py").write_text(SCRIPT.replace("{freeze}", freeze))
    (tmp_path / "finetune_ds.sh").write_text(f"torchrun --nproc_per_node 8 finetune.py {words} --bf16 true --output_dir out\n")
    return tmp_path / "finetune.py"


@pytest.mark.parametrize("freeze", [CALL, LOOP])
def test_a_frozen_language_model_leaves_the_method_unread(tmp_path: Path, freeze: str) -> None:
    w = load_config(_repo(tmp_path, freeze, "--tune_llm false --tune_vision true")).workload
    src = w.sources["method"]
    assert src.unread
    assert "at line 19 freezes the language model" in (src.note or "") and "`--tune_llm false`" in (src.note or "")
    assert "None" not in (src.note or "")


@pytest.mark.parametrize("words", ["--tune_llm true", ""])
def test_a_trained_language_model_is_a_full_fine_tune(tmp_path: Path, words: str) -> None:
    w = load_config(_repo(tmp_path, CALL, words)).workload
    assert w.method == "full" and not (w.sources.get("method") and w.sources["method"].unread)


def test_freezing_the_vision_tower_is_not_this(tmp_path: Path) -> None:
    w = load_config(_repo(tmp_path, CALL.replace("model.llm", "model.vpm"), "--tune_llm false")).workload
    assert not (w.sources.get("method") and w.sources["method"].unread)
