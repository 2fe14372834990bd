"""A classic LLaMA-Factory YAML whose model keys and stage are a fork's own (review6a #11).

LinguaLIFT's vendored LLaMA-Factory runs `stage: lb` (its own train/lb/workflow.py, preprocess_lb_dataset with no
packing branch) from a YAML with `enc_name_or_path` / `lm_name_or_path` instead of `model_name_or_path`; goblin read it
as an HF TrainingArguments YAML and cited TRL's packing. `finetuning_type` is LLaMA-Factory's alone, and the stage
choices are FinetuningArguments.stage's (frameworks/llamafactory.json).
"""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.formats import load_config

from .repo_files import write_tree

FORK = """\
enc_name_or_path: DKYoon/mt5-xl-lm-adapt
lm_name_or_path: meta-llama/Llama-2-7b
stage: {stage}
do_train: true
finetuning_type: full
dataset: 1st-stage-data
template: empty
cutoff_len: 1280
per_device_train_batch_size: 4
gradient_accumulation_steps: 2
learning_rate: 1.0e-5
bf16: true
"""


def _load(tmp_path: Path, text: str):
    return load_config(write_tree(tmp_path, {"c.yaml": text}, git=True) / "c.yaml").workload


def test_a_forks_stage_is_read_as_llamafactory_with_no_packing_advice(tmp_path: Path) -> None:
    w = _load(tmp_path, FORK.format(stage="lb"))
    assert w.format == "llamafactory" and w.seq_len == 1280
    assert w.packing_blocked is not None and "`stage: lb` (line 3) is none of LLaMA-Factory" in w.packing_blocked and "None" not in w.packing_blocked


def test_a_stage_llamafactory_has_leaves_packing_open(tmp_path: Path) -> None:
    w = _load(tmp_path, FORK.format(stage="sft"))
    assert w.format == "llamafactory" and w.packing_blocked is None


def test_a_trainingarguments_yaml_without_finetuning_type_is_not_claimed(tmp_path: Path) -> None:
    text = "\n".join(line for line in FORK.format(stage="sft").splitlines() if not line.startswith(("finetuning_type", "stage"))) + "\n"
    assert _load(tmp_path, text).format != "llamafactory"
