"""A TrainingArguments keyword the script computes at run time is unread: the projection keeps the default,
said as assumed, and no rule judges the field (databrickslabs/dolly training/trainer.py: `fp16=fp16, bf16=bf16`
from a click option its notebook sets from a widget; goblin said "train in bf16 instead of fp32" of an fp32 it
had only assumed)."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin import hardware
from pytest_goblin import rules as kb
from pytest_goblin.formats import load_config

from .repo_files import repo

SCRIPT = """import os
from transformers import AutoModelForCausalLM, Trainer, TrainingArguments

model = AutoModelForCausalLM.from_pretrained("meta-llama/Meta-Llama-3-8B")
bf16 = os.environ.get("USE_BF16") == "1"
args = TrainingArguments(output_dir="o", per_device_train_batch_size=4, bf16={bf16}, fp16={fp16}, dataloader_num_workers=4)
Trainer(model=model, args=args).train()
"""


def _fired(root: Path) -> set[str]:
    w = load_config(root / "train.py").workload
    return {r.id for r in kb.applicable(w, hardware.get_hardware("mi300x"), list(kb.cached_rules()))}


def test_a_computed_precision_is_unread_and_not_judged(tmp_path: Path) -> None:
    root = repo(tmp_path, {"train.py": SCRIPT.format(bf16="bf16", fp16="not bf16"), "run.sh": "python train.py\n"})
    w = load_config(root / "train.py").workload
    src = w.sources["precision"]
    assert w.precision == "fp32" and src.unread and not src.explicit
    assert (
        "`bf16=` (line 6) and `fp16=` (line 6) in train.py computed at run time: precision fp32 is the default assumed, and no rule judges it; the default: "
        in (src.note or "")
    )
    assert "precision.bf16_amp_over_fp32" not in _fired(root)
    assert not w.sources["micro_batch_size"].unread  # a literal stays read


def test_a_literal_precision_is_judged(tmp_path: Path) -> None:
    root = repo(tmp_path, {"train.py": SCRIPT.format(bf16="False", fp16="False"), "run.sh": "python train.py\n"})
    w = load_config(root / "train.py").workload
    assert w.precision == "fp32" and not w.sources["precision"].unread
    assert "precision.bf16_amp_over_fp32" in _fired(root)
