"""An assumed cutoff that does not fit decides nothing where the edit pays at every length the config runs at (issue 23;
review12b #30, SihengLi99/24Game configs/sft.yaml: TRL SFT, Qwen2.5-3B, micro-batch 16, max_seq_length 32768, no local
data: 859 GB at the cutoff, INCONCLUSIVE where the expert failed it for activation checkpointing on short samples).

TRL 1.16.0 SFTTrainer pads each micro-batch to its longest sample (trl/trainer/sft_trainer.py:87-99,
DataCollatorForLanguageModeling "dynamically padded to the maximum length of a batch"), so on the GPU the config runs only
where that sample is at most the length at which it fits (costmodel.fitting_length); lengthspan.fitting_span projects
checkpointing off over that length down to an eighth of it, and audit_tools._over_fitting_span fails the config where
the lowest bound reaches goblin_fail_at at every length, and says the span where it does not."""

from __future__ import annotations

import json
from pathlib import Path

from pytest_goblin.schemas import Report
from pytest_goblin.service import audit_file
from pytest_goblin.settings import Settings

from .repo_files import fresh_root, write_tree

SFT = """\
# SFTTrainer
# accelerate launch --num_processes 8 sft.py --config sft.yaml
model_name_or_path: {model}
dataset_name: {data}
torch_dtype: bfloat16
bf16: true
attn_implementation: flash_attention_2
per_device_train_batch_size: 16
gradient_accumulation_steps: 1
gradient_checkpointing: true
max_length: {cutoff}
output_dir: out
"""


def _report(tmp_path: Path, *, model: str = "Qwen/Qwen2.5-3B", data: str = "someone/short-puzzles", cutoff: int = 32768) -> Report:
    rows = "".join(json.dumps({"text": "word " * 300}) + "\n" for _ in range(50))
    root = write_tree(fresh_root(tmp_path), {"sft.yaml": SFT.format(model=model, data=data, cutoff=cutoff), "data/train.jsonl": rows}, git=True)
    result = audit_file(root / "sft.yaml", Settings(runner="projection", target="mi300x"), shown_as="sft.yaml")
    assert result.report is not None, result.error
    assert "None" not in result.report.reason and "None" not in (result.report.inconclusive or "")
    return result.report


def test_checkpointing_off_paying_at_every_length_the_config_fits_at_fails_it(tmp_path: Path) -> None:
    r = _report(tmp_path)
    assert r.verdict == "fail" and not r.inconclusive and not r.patch.edits
    assert "at its cutoff of 32768 tokens the config as it is projects 872 GB per GPU" in r.reason
    assert "it runs only where the longest sample of each micro-batch (the collator pads to it) is at most about 6955 tokens" in r.reason
    assert "(6955, 3477, 1738, 869)" in r.reason and "at 6955 tokens micro-batch 2 x accumulation 8, at 869 the current micro-batch 16" in r.reason
    assert "recovers at least 1.13x (lower bound) at every length of it" in r.reason


def test_a_gain_whose_lower_bound_falls_below_fail_at_within_the_span_stays_inconclusive_and_says_the_span(tmp_path: Path) -> None:
    """Must not fire: a 7B model fits at most 4943 tokens per sample, and there checkpointing off at micro-batch 2 projects
    1.08x at its lower bound: the answer turns within the span."""
    r = _report(tmp_path, model="Qwen/Qwen2.5-7B")
    assert r.verdict == "warn" and r.inconclusive
    assert "over the lengths at which the config as it is fits this GPU (at most about 4943 tokens per sample)" in r.inconclusive
    assert "[1.08-1.35] at 4943 tokens per sample, below goblin_fail_at=1.10 at its lower bound, so the answer turns within that span" in r.inconclusive


def test_read_lengths_or_a_cutoff_that_fits_leave_the_span_out(tmp_path: Path) -> None:
    """Must not fire: the premise is an assumed length over the GPU's memory. A local dataset's sampled lengths (395
    tokens) are priced as they are; a cutoff that fits is the usual projection."""
    for r in (_report(tmp_path, data="data/train.jsonl"), _report(tmp_path, cutoff=2048)):
        said = f"{r.reason} {r.inconclusive or ''}"
        assert "runs only where the longest sample" not in said and "over the lengths at which the config as it is fits" not in said
