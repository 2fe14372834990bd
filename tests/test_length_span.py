"""A verdict resting on a smaller micro-batch sized at the config's own cutoff, with no dataset lengths read, is projected
over a span of sample lengths (blind review 10a #14: AMD-AGI/ReasonLite's train/config_stage1.yaml, a Qwen3-0.6B SFT at
max_length 32768, micro-batch 8, no local dataset: INCONCLUSIVE 1.33x "the patch's gain rests on ... a smaller micro-batch
sized for every sample at the config's cutoff", the expert's FAIL).

At every length of `lengthspan.length_span` (the cutoff down to 1/8 of it) the patch's other edits and the checkpointing-off
edit the planner chooses there (the current micro-batch where it fits, else a smaller one at the same micro-batch x
accumulation) are projected; where the least gain reaches goblin_fail_at the verdict is FAIL (WARN at goblin_warn_at),
and where some length falls below goblin_warn_at the doubt stands: inconclusive, as before.
"""

from __future__ import annotations

import json
from pathlib import Path

from pytest_goblin.lengthspan import LENGTH_SPAN_SHARES, length_span
from pytest_goblin.schemas import Report
from pytest_goblin.service import audit_file
from pytest_goblin.settings import Settings

from .repo_files import write_tree
from .test_assumed_lengths import LF

SPAN_SAID = "goblin projected checkpointing off at sample lengths from the config's cutoff"
CUTOFF_DOUBT = "a smaller micro-batch sized for every sample at the config's cutoff"

# row 14's shape: a long cutoff, no local dataset, checkpointing on, and HBM for it off only at a smaller micro-batch
TRL = """\
model_name_or_path: Qwen/Qwen3-0.6B
torch_dtype: bfloat16
attn_implementation: flash_attention_2
dataset_name: {dataset}
bf16: true
gradient_accumulation_steps: 1
gradient_checkpointing: true
learning_rate: 3.0e-04
packing: false
max_length: 32768
num_train_epochs: 1
output_dir: out
per_device_train_batch_size: 8
use_liger_kernel: true
"""


def _audit(root: Path, files: dict[str, str], name: str, world_size: int = 8) -> Report:
    path = write_tree(root, files) / name
    result = audit_file(path, Settings(runner="projection", target="mi300x", world_size=world_size), shown_as=name)
    assert result.report is not None, result.error
    return result.report


def test_span_is_the_cutoff_down_to_an_eighth() -> None:
    assert LENGTH_SPAN_SHARES[0] == 1.0 and LENGTH_SPAN_SHARES[-1] == 0.125
    from pytest_goblin.schemas import WorkloadConfig

    w = WorkloadConfig.model_validate({"path": "c.yaml", "format": "trl", "model": {"name": "x"}, "seq_len": 32768})
    assert length_span(w) == (32768, 16384, 8192, 4096)


def test_long_cutoff_without_lengths_fails_when_every_length_of_the_span_pays(tmp_path: Path) -> None:
    report = _audit(tmp_path, {"config.yaml": TRL.format(dataset="some-org/long-reasoning-traces")}, "config.yaml")
    # before: INCONCLUSIVE 1.33x [1.26-1.40], "the patch's gain rests on memory.checkpointing_off_at_smaller_micro_batch"
    assert report.verdict == "fail" and report.inconclusive is None
    why = report.reason
    assert SPAN_SAID in why and "32768 tokens down to 1/8 of it (32768, 16384, 8192, 4096;" in why
    assert "at or above goblin_fail_at=1.10; its least, 1.33x [1.26-1.40], with every sample 32768 tokens long" in why
    # the patch written is the cutoff's smaller micro-batch, and the reason says the current one fits at shorter lengths
    edits = {e.field: e.new for e in report.patch.edits if e.rule_id == "memory.checkpointing_off_at_smaller_micro_batch"}
    assert edits == {"gradient_checkpointing": False, "micro_batch_size": 4, "gradient_accumulation": 2}
    assert "The patch goblin writes is the cutoff's, micro-batch 4 x accumulation 2 (the same 8 samples per GPU per step)" in why
    assert "with samples 16384 tokens long or shorter, checkpointing off fits at the current micro-batch 8 too" in why
    assert "None" not in why


def test_read_lengths_are_not_projected_over_a_span(tmp_path: Path) -> None:
    rows = [{"messages": [{"role": "user", "content": "q " * 300}, {"role": "assistant", "content": "a " * (400 + 7 * i)}]} for i in range(60)]
    files = {
        "config.yaml": TRL.format(dataset="data/train.jsonl"),
        "data/train.jsonl": "".join(json.dumps(r) + "\n" for r in rows),
    }
    report = _audit(tmp_path, files, "config.yaml")
    # the rows are read (~200 tokens each): checkpointing off fits at the current micro-batch, decided without a span
    assert report.patch.rule_ids == ["memory.disable_checkpointing_when_hbm_free"]
    assert SPAN_SAID not in report.reason and CUTOFF_DOUBT not in (report.inconclusive or "")


def test_a_guessed_shape_is_left_to_the_shape_rules(tmp_path: Path) -> None:
    report = _audit(
        tmp_path, {"config.yaml": TRL.format(dataset="some-org/long-reasoning-traces").replace("Qwen/Qwen3-0.6B", "some-org/Reasoner-0.6B")}, "config.yaml"
    )
    assert report.verdict == "warn" and "not in the shape table" in (report.inconclusive or "")
    assert SPAN_SAID not in report.reason


def test_stays_inconclusive_where_a_short_length_falls_below_warn_at(tmp_path: Path) -> None:
    # 32B ZeRO-3 with its parameters offloaded to the host (offload kept: acknowledged in the config): at the 2048 cutoff
    # micro-batch 2 x 2 without checkpointing projects 1.10x, but with samples mostly 256 tokens (the longest at the cutoff,
    # so still micro-batch 2) the host fetches of twice the micro-batches eat it, below goblin_warn_at. Accumulation 2: the
    # host's CPU AdamW step (a node's rate, shared by its eight ranks) would outweigh every micro-batch at accumulation 1
    ds = '{"zero_optimization": {"stage": 3, "overlap_comm": true, "offload_param": {"device": "cpu"}}, "bf16": {"enabled": "auto"}}\n'
    text = LF.replace("gradient_accumulation_steps: 8", "gradient_accumulation_steps: 2").format(
        model="Qwen2.5-32B", stage="sft", cutoff="cutoff_len: 2048\n", save_steps=500, mb=4, extra="# goblin: ignore[memory.cpu_offload_when_it_fits]\n"
    )
    report = _audit(tmp_path, {"ds_z3_config.json": ds, "lf.yaml": text}, "lf.yaml")
    assert report.patch.rule_ids == ["memory.checkpointing_off_at_smaller_micro_batch"]
    assert report.verdict == "warn" and CUTOFF_DOUBT in (report.inconclusive or "")
    assert SPAN_SAID not in report.reason


def test_warn_where_the_least_gain_reaches_warn_at_only(tmp_path: Path) -> None:
    # 14B ZeRO-3 with parameter and optimizer offload, both kept: every length of the span pays goblin_warn_at or more, but the
    # lower bound at the cutoff is below goblin_fail_at. Accumulation 16: the host's CPU AdamW step (a node's rate, shared by
    # its eight ranks) would outweigh every micro-batch at accumulation 1
    ds = (
        '{"zero_optimization": {"stage": 3, "overlap_comm": true, "offload_param": {"device": "cpu"}, '
        '"offload_optimizer": {"device": "cpu"}}, "bf16": {"enabled": "auto"}}\n'
    )
    text = LF.replace("gradient_accumulation_steps: 8", "gradient_accumulation_steps: 16").format(
        model="Qwen2.5-14B", stage="sft", cutoff="cutoff_len: 4096\n", save_steps=500, mb=4, extra="# goblin: ignore[memory.cpu_offload_when_it_fits]\n"
    )
    report = _audit(tmp_path, {"ds_z3_config.json": ds, "lf.yaml": text}, "lf.yaml")
    assert report.verdict == "warn" and report.inconclusive is None
    assert SPAN_SAID in report.reason and "below goblin_fail_at=1.10), at or above goblin_warn_at=1.03" in report.reason
