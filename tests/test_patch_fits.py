"""A patch goblin offers fits, and no speedup is claimed against a baseline that does not (issues 23/24, review10).

- review10b #30 (LongQLoRA vicuna-13b-sft.yaml): batch.raise_micro_batch chose 1 -> 8 beside bf16 over fp16 and SDPA
  over eager, neither of which could be written at the pinned transformers 4.31.0; without them the patch projected
  210 GB per GPU of the 206 GB goblin uses as MI300X capacity. The rest is planned again without the rules left out.
- review10a #16 (moai-examples train.py): 575 GB projected for the config as it is (a model of unknown size, 7B
  assumed) and a 3.5x FAIL claimed against it: the verdict is inconclusive with rules.over_hbm's reason.
"""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.costmodel import memory_gb
from pytest_goblin.formats import load_config
from pytest_goblin.hardware import get_hardware
from pytest_goblin.patching import _over_fit_limit, build_patch, fit_limit_gb
from pytest_goblin.rules import applicable, load_rules
from pytest_goblin.schemas import Edit, Patch, Report
from pytest_goblin.service import audit_file
from pytest_goblin.settings import Settings

LORA_LONG = """\
model_name_or_path: meta-llama/Llama-2-7b-hf
output_dir: out
num_train_epochs: 1
per_device_train_batch_size: 1
gradient_accumulation_steps: 16
learning_rate: 0.0002
max_seq_length: 8192
fp16: true
gradient_checkpointing: true
use_peft: true
lora_r: 16
"""


def _repo(tmp_path: Path, text: str, transformers: str) -> Path:
    (tmp_path / "requirements.txt").write_text(f"transformers=={transformers}\n")
    path = tmp_path / "sft.yaml"
    path.write_text(text)
    return path


def _patch(path: Path) -> tuple[Patch, float]:
    hw = get_hardware("mi300x")
    loaded = load_config(path)
    rules = applicable(loaded.workload, hw, load_rules())
    return build_patch(loaded, rules, hw, "p1"), fit_limit_gb(hw)


def test_micro_batch_is_chosen_again_without_the_edits_that_could_not_be_written(tmp_path: Path) -> None:
    path = _repo(tmp_path, LORA_LONG, "4.31.0")  # no bf16 key, no attn_implementation goblin has read at 4.31
    patch, limit = _patch(path)
    assert "precision.bf16_over_fp16" in patch.skipped and "attention.sdpa_over_eager" in patch.skipped
    w = patch.new_workload
    assert w.precision == "fp16" and w.attention == "eager"  # the edits that lowered memory are not in the patch
    assert w.micro_batch_size > 1 and memory_gb(w) <= limit  # on 69eaa21: micro-batch 8, 191 GB over the 175 GB limit
    # the micro-batch planned beside them would not fit
    assert memory_gb(w.model_copy(update={"micro_batch_size": 8, "gradient_accumulation": 2})) > limit


def test_micro_batch_planned_beside_written_edits_is_kept(tmp_path: Path) -> None:
    path = _repo(tmp_path, LORA_LONG, "4.46.0")  # bf16 is written here: nothing is left out, nothing planned again
    patch, limit = _patch(path)
    assert not any("could be written" in why for why in patch.skipped.values())
    assert patch.new_workload.precision == "bf16" and memory_gb(patch.new_workload) <= limit
    assert patch.new_workload.micro_batch_size > 1


def test_a_patch_over_the_fit_limit_loses_its_memory_raising_rule(tmp_path: Path) -> None:
    path = _repo(tmp_path, LORA_LONG, "4.31.0")
    hw = get_hardware("mi300x")
    w = load_config(path).workload
    rules = applicable(w, hw, load_rules())

    def patch_at(mbs: int) -> Patch:
        edits = [
            Edit(field="micro_batch_size", old=1, new=mbs, rule_id="batch.raise_micro_batch"),
            Edit(field="gradient_accumulation", old=16, new=16 // mbs, rule_id="batch.raise_micro_batch"),
        ]
        new = w.model_copy(update={"micro_batch_size": mbs, "gradient_accumulation": 16 // mbs})
        return Patch(patch_id="p1", rule_ids=["batch.raise_micro_batch"], edits=edits, new_workload=new, diff="")

    over = _over_fit_limit(w, patch_at(16), rules, hw)
    assert over is not None and "batch.raise_micro_batch" in over and "GB per GPU, above 85% of 206 GB" in next(iter(over.values()))
    assert _over_fit_limit(w, patch_at(2), rules, hw) is None  # fits: nothing dropped


FULL_FP32 = """\
model_name_or_path: {model}
output_dir: out
per_device_train_batch_size: {mb}
gradient_accumulation_steps: 1
max_seq_length: 1024
bf16: false
gradient_checkpointing: false
optim: adamw_torch
"""


def _audit(tmp_path: Path, model: str, mb: int) -> Report:
    path = _repo(tmp_path, FULL_FP32.format(model=model, mb=mb), "4.46.0")
    result = audit_file(path, Settings(runner="projection", target="mi300x"), shown_as=path.name)
    assert result.report is not None, result.error
    return result.report


def test_no_speedup_is_claimed_against_a_baseline_above_hbm(tmp_path: Path) -> None:
    report = _audit(tmp_path, "meta-llama/Llama-2-7b-hf", 32)
    # on 69eaa21: FAIL 3.50x against a 511 GB baseline
    assert report.verdict == "warn" and report.inconclusive is not None
    assert "GB per GPU of 206 GB (MI300X's 192 GiB label)" in report.inconclusive and "claims no speedup against it" in report.inconclusive
    assert "None" not in report.inconclusive


def test_a_model_of_unknown_size_over_hbm_at_the_assumed_size_is_said(tmp_path: Path) -> None:
    report = _audit(tmp_path, "my-org/private-model", 32)
    assert report.verdict == "warn" and report.inconclusive is not None  # on 69eaa21: FAIL 3.50x against 575 GB
    assert "size unknown, 7B assumed" in report.inconclusive and "the model is smaller than assumed" in report.inconclusive


def test_a_fail_whose_baseline_fits_stays_a_fail(tmp_path: Path) -> None:
    report = _audit(tmp_path, "my-org/private-model", 1)
    assert report.verdict == "fail" and report.inconclusive is None
