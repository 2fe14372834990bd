"""A multimodal script that freezes its language model (the shape of OpenBMB/MiniCPM-V finetune/finetune.py with
finetune_ds.sh's `--tune_llm false --tune_vision true`): not priced as a full fine-tune of the LLM. Where the freeze runs
for certain it is priced as a frozen base (frozen20); where an `if` goblin cannot evaluate guards it, the method is
unread with the line that freezes it (lora19). Nothing is executed."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin import costmodel
from pytest_goblin.formats import load_config

from .repo_files import write_tree

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


def _repo(tmp_path: Path, freeze: str, words: str, script: str = SCRIPT) -> Path:
    files = {
        "finetune.py": script.replace("{freeze}", freeze),
        "finetune_ds.sh": f"torchrun --nproc_per_node 8 finetune.py {words} --bf16 true --output_dir out\n",
    }
    return write_tree(tmp_path, files, git=True) / "finetune.py"


@pytest.mark.parametrize("freeze", [CALL, LOOP])
def test_a_frozen_language_model_is_priced_as_a_frozen_base(tmp_path: Path, freeze: str) -> None:
    w = load_config(_repo(tmp_path, freeze, "--tune_llm false --tune_vision true")).workload
    assert w.method == "full" and w.frozen_language_model
    assert not w.sources["method"].unread if "method" in w.sources else True
    note = w.sources["frozen_language_model"].note or ""
    assert w.sources["frozen_language_model"].line == 19 and "at line 19 freezes the language model" in note
    assert "`--tune_llm false`" in note and "priced as a frozen base" in note
    assert "assumed: the rest of the model (a vision tower, a resampler) trains before it" in note
    assert "None" not in note
    # no gradients, optimizer state or masters for the language model: well under the full fine-tune's peak
    full = w.model_copy(update={"frozen_language_model": False})
    assert costmodel.memory_gb(w) < 0.6 * costmodel.memory_gb(full)


def test_the_scripts_own_default_freezes_it_without_a_launch_word(tmp_path: Path) -> None:
    own = SCRIPT.replace("tune_llm: Optional[bool] = field(default=True)", "tune_llm: Optional[bool] = field(default=False)")
    w = load_config(_repo(tmp_path, CALL, "", own)).workload
    assert w.frozen_language_model and "line 19" in (w.sources["frozen_language_model"].note or "")


def test_a_freeze_under_an_unreadable_if_leaves_the_method_unread(tmp_path: Path) -> None:
    own = SCRIPT.replace("if not training_args.tune_llm:", "if os.environ.get('FREEZE'):").replace("import torch\n", "import os\nimport torch\n")
    w = load_config(_repo(tmp_path, CALL, "--tune_llm false", own)).workload
    assert not w.frozen_language_model
    src = w.sources["method"]
    assert src.unread and "freezes the language model (under the `if` at" in (src.note or "") and "None" not in (src.note or "")


@pytest.mark.parametrize("words", ["--tune_llm true", ""])
def test_a_trained_language_model_is_a_full_fine_tune(tmp_path: Path, words: str) -> None:
    w = load_config(_repo(tmp_path, CALL, words)).workload
    assert w.method == "full" and not (w.sources.get("method") and w.sources["method"].unread)
    assert not w.frozen_language_model and "frozen_language_model" not in w.sources


def test_freezing_the_vision_tower_is_not_this(tmp_path: Path) -> None:
    w = load_config(_repo(tmp_path, CALL.replace("model.llm", "model.vpm"), "--tune_llm false")).workload
    assert not (w.sources.get("method") and w.sources["method"].unread) and not w.frozen_language_model
