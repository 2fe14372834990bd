"""A script whose model is a sequence classifier (`AutoModelForSequenceClassification.from_pretrained`) is priced without
a vocabulary-wide head or logits and gets no packing advice: one label per row (review13b #37: KnightZhang625/
llm_relevant_study fine-tune-classifer/distributed_train.py:61; transformers 5.25.0 modeling_layers.py:130-138, :177-190)."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.costmodel import memory_gb, step
from pytest_goblin.formats import load_config
from pytest_goblin.hardware import get_hardware
from pytest_goblin.options import build_settings
from pytest_goblin.service import audit_file

from .repo_files import write_tree

SCRIPT = """\
from transformers import {load}, AutoTokenizer, Trainer, TrainingArguments

tokenizer = AutoTokenizer.from_pretrained("Qwen/Qwen2.5-0.5B-Instruct")
model = {load}.from_pretrained("Qwen/Qwen2.5-0.5B-Instruct"{extra})
{more}args = TrainingArguments(output_dir="out", per_device_train_batch_size=32, bf16=True)
Trainer(model=model, args=args, train_dataset=None, processing_class=tokenizer).train()
"""


def _script(tmp_path: Path, load: str, extra: str = "", more: str = "") -> Path:
    text = SCRIPT.format(load=load, extra=extra, more=more)
    return write_tree(tmp_path / "repo", {"train.py": text, "run.sh": "python train.py\n"}, git=True) / "train.py"


def test_a_sequence_classifier_gets_no_packing_and_no_lm_head(tmp_path: Path) -> None:
    path = _script(tmp_path, "AutoModelForSequenceClassification", ", num_labels=2")
    w = load_config(path).workload
    said = w.sequence_classification or ""
    assert said.startswith("AutoModelForSequenceClassification.from_pretrained (train.py line 4): a sequence classifier")
    assert "modeling_layers.py:130-138" in said
    assert w.packing_blocked is not None and "packing several samples into one row does not apply" in w.packing_blocked
    causal = w.model_copy(update={"sequence_classification": None})
    hw = get_hardware("mi300x")
    assert memory_gb(w) < memory_gb(causal)  # no 151,936-wide logits
    assert step(w, hw).step_s < step(causal, hw).step_s  # no vocabulary-wide head GEMM
    report = audit_file(path, build_settings({"target": "mi300x"}), shown_as="train.py").report
    assert report is not None and all(f.rule_id != "packing.sample_packing" for f in report.findings)
    assert "None" not in (report.reason or "")
    # padded micro-batches of unread lengths: not a clean PASS, and the lever said is the padding, not packing
    assert "the model is a sequence classifier (packing does not apply) whose micro-batches of 32 are padded" in (report.reason or "")


def test_a_causal_model_beside_a_classifier_is_not_a_classifier_run(tmp_path: Path) -> None:
    more = 'reward = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-0.5B-Instruct")\n'
    path = _script(tmp_path, "AutoModelForSequenceClassification", more="from transformers import AutoModelForCausalLM\n" + more)
    assert load_config(path).workload.sequence_classification is None
    plain = _script(tmp_path / "b", "AutoModelForCausalLM")
    assert load_config(plain).workload.sequence_classification is None
    report = audit_file(plain, build_settings({"target": "mi300x"}), shown_as="train.py").report
    assert report is not None and "sequence classifier" not in (report.reason or "")
