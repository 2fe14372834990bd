"""Host offload goblin finds but cannot patch (the DeepSpeed file that sets it is the framework's copy, outside the
tree, or unread) is not dropped from the verdict (review11a #3: ZeRO-3 offload_param on a 72B QLoRA, WARN 1.12x
with memory.cpu_offload_when_it_fits "not patched"; #11 the same skip): where goblin read the setting, its edit is
counted as an edit the user makes in that file (`audit_tools._hand_edit_gain`, `formats.base.IN_OTHER_FILE`); where
it read only the file's name, a PASS or WARN it could change is inconclusive naming it (`audit_tools._unread_elsewhere`)."""

from __future__ import annotations

import json
from pathlib import Path

from pytest_goblin.schemas import Report
from pytest_goblin.service import audit_file
from pytest_goblin.settings import Settings

from .repo_files import fresh_root, write_tree

RULE = "memory.cpu_offload_when_it_fits"
# a QLoRA of a 72B model on ZeRO-3 with its parameters offloaded (review11a #3's shape, written here)
AXO = (
    "base_model: Qwen/Qwen2-72B-Instruct\nload_in_4bit: true\nadapter: qlora\nlora_r: 32\nlora_alpha: 16\nlora_target_linear: true\n"
    "sequence_len: 8192\nsample_packing: true\npad_to_sequence_len: true\nmicro_batch_size: 1\ngradient_accumulation_steps: 4\n"
    "optimizer: adamw_bnb_8bit\nbf16: true\ngradient_checkpointing: true\nflash_attention: true\ndeepspeed: {ref}\n"
)
LF = (
    "model_name_or_path: meta-llama/Meta-Llama-3-8B-Instruct\nstage: sft\ndo_train: true\nfinetuning_type: full\n"
    "deepspeed: {ref}\ndataset: identity\ntemplate: llama3\ncutoff_len: 1024\nper_device_train_batch_size: 1\n"
    "gradient_accumulation_steps: 8\nbf16: true\n# torchrun --nproc_per_node 8\n"
)
Z3_PARAMS = {
    "zero_optimization": {"stage": 3, "offload_param": {"device": "cpu", "pin_memory": True}, "overlap_comm": True},
    "bf16": {"enabled": True},
}
COUNTED = f"with the edits of {RULE} made in the file that sets it"


def _audit(tmp_path: Path, files: dict[str, str], fail_at: float = 1.10) -> Report:
    root = write_tree(fresh_root(tmp_path), files, git=True)
    result = audit_file(root / "train.yaml", Settings(runner="projection", target="mi300x", fail_at=fail_at), shown_as="train.yaml")
    assert result.report is not None, result.error
    return result.report


def test_offload_in_the_frameworks_copy_is_counted_in_the_verdict(tmp_path: Path) -> None:
    report = _audit(tmp_path, {"train.yaml": AXO.format(ref="zero3_bf16_cpuoffload_params.json")})
    assert report.patch is not None and "the framework's copy" in report.patch.skipped[RULE]
    assert COUNTED in report.reason and "None" not in report.reason
    # must-not: the repository's own file is edited in place, so the patch holds the change and nothing is left to count
    own = _audit(tmp_path, {"train.yaml": AXO.format(ref="ds/zero3_params.json"), "ds/zero3_params.json": json.dumps(Z3_PARAMS, indent=2)})
    assert own.patch is not None and RULE in own.patch.rule_ids and RULE not in own.patch.skipped
    assert COUNTED not in own.reason


def test_offload_read_from_a_file_name_only_leaves_a_verdict_it_could_change_undecided(tmp_path: Path) -> None:
    files = {"train.yaml": LF.format(ref="../shared/zero3_offload.json")}
    # a bar the patch alone stays under and the patch with offload off reaches: not a WARN
    report = _audit(tmp_path, files, fail_at=2.5)
    assert report.reason.startswith("inconclusive"), report.reason
    assert f"{RULE} is not patched: the setting it changes was read from the name of the file that holds it" in report.reason
    assert "None" not in report.reason
    # must-not: a FAIL stays a FAIL; a bar out of reach with the offload's gain leaves the WARN as it is
    assert _audit(tmp_path, files).verdict == "fail"
    high = _audit(tmp_path, files, fail_at=8.0)  # the offload's own gain (a node's CPU AdamW over 8B) reaches 4.8x
    assert high.verdict == "warn" and not high.reason.startswith("inconclusive") and RULE not in high.reason
