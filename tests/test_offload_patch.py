"""Host offload found in the DeepSpeed / FSDP file a config names, turned off where it lives (issue 23,
issue 24 class 3): the config pointed at a file the repository already has that is the same file
without offload (by content), else the named file itself edited on its own lines, read back with the
edit in place, shown in every output and written by --goblin-fix inside the tree only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_goblin import __version__
from pytest_goblin import rules as kb
from pytest_goblin.formats import load_config
from pytest_goblin.formats.deepspeed import configs_naming, offload_off_text
from pytest_goblin.hardware import get_hardware
from pytest_goblin.outcome import ItemOutcome, SessionReport
from pytest_goblin.patching import FixRefused, build_patch, write_fix
from pytest_goblin.reporting.markdown import render
from pytest_goblin.reporting.text import failure_text
from pytest_goblin.service import audit_file
from pytest_goblin.settings import Settings

from .repo_files import repo

HW = get_hardware("mi300x")
RULE = "memory.cpu_offload_when_it_fits"
LF = (
    "model_name_or_path: meta-llama/Meta-Llama-3-8B-Instruct\nstage: sft\ndo_train: true\nfinetuning_type: lora\nlora_target: all\n"
    "deepspeed: {ref}\ndataset: identity\ntemplate: llama3\ncutoff_len: 1024\nper_device_train_batch_size: 1\n"
    "gradient_accumulation_steps: 8\nbf16: true\n# torchrun --nproc_per_node 8\n"
)
# axolotl 067b021c deepspeed_configs/zero3_bf16.json and zero3_bf16_cpuoffload_all.json, in shape:
# the offload file adds the two offload blocks and two top-level optimizer keys
Z3 = {
    "zero_optimization": {"stage": 3, "overlap_comm": True, "contiguous_gradients": True, "sub_group_size": 0},
    "bf16": {"enabled": True},
    "train_batch_size": "auto",
}
Z3_OFFLOAD = {
    "zero_force_ds_cpu_optimizer": False,
    "zero_optimization": {
        "stage": 3,
        "offload_optimizer": {"device": "cpu", "pin_memory": True},
        "offload_param": {"device": "cpu", "pin_memory": True},
        "overlap_comm": True,
        "contiguous_gradients": True,
        "sub_group_size": 0,
    },
    "bf16": {"enabled": True},
    "train_batch_size": "auto",
}


def _dump(data: object) -> str:
    return json.dumps(data, indent=2) + "\n"


def _patch(cfg: Path, *, other_files: bool = True):  # type: ignore[no-untyped-def]
    loaded = load_config(cfg)
    rules = kb.applicable(loaded.workload, HW, kb.cached_rules())
    assert RULE in {r.id for r in rules}, "the offload rule must fire for an 8B LoRA on 8 x 192 GB"
    return loaded, build_patch(loaded, rules, HW, "p1", other_files=other_files)


# ---------------------------------------------------------------- 1. a file the repository already has
def test_sibling_is_found_by_content_not_by_name(tmp_path: Path) -> None:
    """Axolotl's zero3_bf16.json is its offload file without the offload blocks and without
    `zero_force_ds_cpu_optimizer` (read only with offload): the config is pointed at it."""
    root = repo(
        tmp_path,
        {
            "deepspeed_configs/zero3_bf16_cpuoffload_all.json": _dump(Z3_OFFLOAD),
            "deepspeed_configs/zero3_bf16.json": _dump(Z3),
            "deepspeed_configs/a_zero3_other.json": _dump({**Z3, "gradient_clipping": 1.0}),  # one more key: not the same file
            "train.yaml": LF.format(ref="deepspeed_configs/zero3_bf16_cpuoffload_all.json"),
        },
    )
    _, patch = _patch(root / "train.yaml")
    assert "+deepspeed: deepspeed_configs/zero3_bf16.json" in patch.diff
    assert not patch.other_files and patch.new_workload.cpu_offload is False and patch.new_workload.zero_stage == 3


def test_sibling_differing_in_a_key_offload_does_not_read_is_not_taken(tmp_path: Path) -> None:
    """`zero_allow_untested_optimizer` acts with or without offload (DeepSpeed 0.19.6
    engine.py:1986-1990): a file without it is another file, so the named file is edited instead."""
    root = repo(
        tmp_path,
        {
            "ds/z3_offload.json": _dump({**Z3_OFFLOAD, "zero_allow_untested_optimizer": True}),
            "ds/z3.json": _dump(Z3),
            "train.yaml": LF.format(ref="ds/z3_offload.json"),
        },
    )
    _, patch = _patch(root / "train.yaml")
    assert "+deepspeed" not in patch.diff
    assert [o.path for o in patch.other_files] == ["ds/z3_offload.json"]


def test_sibling_in_the_repositorys_deepspeed_folder(tmp_path: Path) -> None:
    """Not beside the offload file but in the repository's deepspeed_configs/ folder: named the way
    the config names files (from the folder the reference resolves against)."""
    root = repo(
        tmp_path,
        {
            "recipes/ds/zero3_offload.json": _dump(Z3_OFFLOAD),
            "deepspeed_configs/zero3.json": _dump(Z3),
            "recipes/train.yaml": LF.format(ref="ds/zero3_offload.json"),
        },
    )
    _, patch = _patch(root / "recipes" / "train.yaml")
    assert "+deepspeed: ../deepspeed_configs/zero3.json" not in patch.diff  # never leaves the folder it resolves against
    assert patch.other_files and patch.other_files[0].path == "ds/zero3_offload.json"
    # resolved from the repository root: the usual folder is then named as it is
    (root / "recipes" / "train.yaml").unlink()
    (root / "train.yaml").write_text(LF.format(ref="recipes/ds/zero3_offload.json"))
    _, patch = _patch(root / "train.yaml")
    assert "+deepspeed: deepspeed_configs/zero3.json" in patch.diff and not patch.other_files


# ---------------------------------------------------------------- 2. the named file edited in place
def test_named_file_is_edited_on_its_device_lines_and_read_back(tmp_path: Path) -> None:
    root = repo(tmp_path, {"ds/zero3_offload.json": _dump(Z3_OFFLOAD), "train.yaml": LF.format(ref="ds/zero3_offload.json")})
    loaded, patch = _patch(root / "train.yaml")
    assert loaded.workload.cpu_offload and loaded.workload.offload_params
    assert RULE in patch.rule_ids and RULE not in patch.skipped
    (other,) = patch.other_files
    assert other.edits == {"zero_optimization.offload_optimizer.device": "none", "zero_optimization.offload_param.device": "none"}
    changed = [line for line in other.diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert changed == ['-      "device": "cpu",', '+      "device": "none",'] * 2
    assert other.path == "ds/zero3_offload.json" and not other.from_root and other.note == ""
    # read back with the edit in place: no offload, stage kept; the file on disk is untouched
    assert patch.new_workload.cpu_offload is False and patch.new_workload.offload_params is False
    assert json.loads((root / "ds" / "zero3_offload.json").read_text()) == Z3_OFFLOAD
    assert other.diff in patch.rule_diffs[RULE]
    # must-not: a patch that may not edit other files (the command runner's) leaves the rule out with where to change it
    _, kept = _patch(root / "train.yaml", other_files=False)
    assert not kept.other_files and "goblin edits only the audited file" in kept.skipped[RULE]


def test_fsdp_yaml_named_by_the_config_is_edited_in_place(tmp_path: Path) -> None:
    fsdp = "fsdp_config:\n  fsdp_offload_params: true  # keep the host busy\n  fsdp_sharding_strategy: FULL_SHARD\n"
    cfg = (
        "model_name_or_path: meta-llama/Meta-Llama-3-8B\ndataset_name: trl-lib/Capybara\nper_device_train_batch_size: 1\n"
        "gradient_accumulation_steps: 8\nfsdp: full_shard auto_wrap\nfsdp_config: fsdp.yaml\nuse_peft: true\nlora_r: 16\n"
        "# torchrun --nproc_per_node 8\n"
    )
    root = repo(tmp_path, {"fsdp.yaml": fsdp, "sft.yaml": cfg})
    # review12b #35: TrainingArguments reads no offload from its fsdp_config (transformers 4.40.0 training_args.py:1804-1805:
    # only `offload` in the `fsdp` string), so there is no offload to turn off and no file to edit
    w = load_config(root / "sft.yaml").workload
    assert not w.cpu_offload and RULE not in {r.id for r in kb.applicable(w, HW, kb.cached_rules())}


def test_offload_off_text_refuses_what_it_cannot_edit_in_place() -> None:
    # a device written as a variable-like value, or a key goblin does not know: no edit
    assert (
        offload_off_text(Path("z.json"), '{"zero_optimization": {"offload_optimizer": {"device": "CPU"}}}', ["zero_optimization.offload_optimizer.device"])
        is None
    )
    assert offload_off_text(Path("z.json"), '{"a": {"device": "cpu"}}', ["a.device"]) is None
    assert offload_off_text(Path("z.json"), "not json", ["zero_optimization.offload_param.device"]) is None
    # the device of another block first in the text is not the one edited
    text = '{"offload_param": {"device": "cpu"}, "zero_optimization": {"offload_param": {"device": "cpu"}}}'
    new, _ = offload_off_text(Path("z.json"), text, ["zero_optimization.offload_param.device"]) or ("", {})
    assert json.loads(new) == {"offload_param": {"device": "cpu"}, "zero_optimization": {"offload_param": {"device": "none"}}}


def test_a_file_other_configs_name_too_is_said(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {
            "ds/zero3_offload.json": _dump(Z3_OFFLOAD),
            "train.yaml": LF.format(ref="ds/zero3_offload.json"),
            "other/dpo.yaml": "deepspeed: ds/zero3_offload.json\n",
            "other/unrelated.yaml": "deepspeed: elsewhere/zero3_offload.json\n",  # the same name, another file
        },
    )
    assert configs_naming(root / "train.yaml", root / "ds" / "zero3_offload.json") == [root / "train.yaml", root / "other" / "dpo.yaml"]
    _, patch = _patch(root / "train.yaml")
    assert patch.other_files[0].note == ("ds/zero3_offload.json is also named by 1 other config (other/dpo.yaml): editing it turns offload off for them too")


def test_a_named_file_outside_the_tree_is_not_edited(tmp_path: Path) -> None:
    outside = tmp_path / "shared"
    outside.mkdir()
    (outside / "zero3_offload.json").write_text(_dump(Z3_OFFLOAD))
    root = repo(tmp_path, {"train.yaml": LF.format(ref="../shared/zero3_offload.json")})
    _, patch = _patch(root / "train.yaml")
    assert not patch.other_files
    assert "could not read (outside the audited tree: goblin neither reads nor edits it)" in patch.skipped[RULE]
    assert "goblin edits only the audited file" in patch.skipped[RULE]


# ---------------------------------------------------------------- the whole path: outputs and --goblin-fix
def _audit(root: Path, *, fix: bool = False):  # type: ignore[no-untyped-def]
    result = audit_file(root / "train.yaml", Settings(runner="projection", target="mi300x"), shown_as="train.yaml", fix=fix)
    assert result.report is not None, result.error
    return result.report


def test_audit_shows_the_named_files_diff_in_every_output_and_fix_writes_it(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {"ds/zero3_offload.json": _dump(Z3_OFFLOAD), "train.yaml": LF.format(ref="ds/zero3_offload.json"), "dpo.yaml": "deepspeed: ds/zero3_offload.json\n"},
    )
    report = _audit(root)
    assert report.verdict in ("fail", "warn") and report.patch is not None and report.patch.other_files
    finding = next(f for f in report.findings if f.rule_id == RULE)
    assert "The edit is in ds/zero3_offload.json, the file this config names" in finding.message
    assert "also named by 1 other config (dpo.yaml)" in finding.message and "None" not in finding.message
    item = ItemOutcome(nodeid="train.yaml", path="train.yaml", verdict=report.verdict, message=report.reason, report=report)
    md = render(SessionReport(version=__version__, target="mi300x", items=[item]))
    assert "the file the config names (apply from the config's folder with `git apply`)" in md and '+      "device": "none",' in md
    assert '+      "device": "none",' in failure_text(report)
    assert json.loads(report.model_dump_json())["patch"]["other_files"][0]["edits"]["zero_optimization.offload_param.device"] == "none"
    # --goblin-fix writes both files; the named one changes on its device lines only
    fixed = _audit(root, fix=True)
    assert any(n.startswith("--goblin-fix wrote") and "ds/zero3_offload.json" in n for n in fixed.notes), fixed.notes
    after = (root / "ds" / "zero3_offload.json").read_text()
    assert after == _dump(Z3_OFFLOAD).replace('"device": "cpu"', '"device": "none"')
    assert load_config(root / "train.yaml").workload.cpu_offload is False


def test_fix_refuses_a_named_file_changed_since_the_audit(tmp_path: Path) -> None:
    root = repo(tmp_path, {"ds/zero3_offload.json": _dump(Z3_OFFLOAD), "train.yaml": LF.format(ref="ds/zero3_offload.json")})
    loaded, patch = _patch(root / "train.yaml")
    (root / "ds" / "zero3_offload.json").write_text(_dump({**Z3_OFFLOAD, "steps_per_print": 10}))
    with pytest.raises(FixRefused, match="changed since it was audited"):
        write_fix(root / "train.yaml", patch, loaded)
    assert (root / "train.yaml").read_text() == LF.format(ref="ds/zero3_offload.json")  # nothing written when one file is refused


def test_fsdp_file_named_by_the_config_has_a_sibling_without_offload(tmp_path: Path) -> None:
    body = "fsdp_config:\n  fsdp_sharding_strategy: FULL_SHARD\n  fsdp_state_dict_type: SHARDED_STATE_DICT\n"
    cfg = (
        "model_name_or_path: meta-llama/Meta-Llama-3-8B\ndataset_name: trl-lib/Capybara\nper_device_train_batch_size: 1\n"
        "gradient_accumulation_steps: 8\nfsdp: full_shard auto_wrap\nfsdp_config: fsdp/offload.yaml\nuse_peft: true\nlora_r: 16\n"
        "# torchrun --nproc_per_node 8\n"
    )
    root = repo(
        tmp_path,
        {
            "fsdp/offload.yaml": body + "  fsdp_offload_params: true\n",
            "fsdp/full.yaml": body + "  fsdp_offload_params: false\n",
            "fsdp/other.yaml": "fsdp_config:\n  fsdp_sharding_strategy: SHARD_GRAD_OP\n",  # another file: not a swap
            "sft.yaml": cfg,
        },
    )
    # TrainingArguments reads no offload from its fsdp_config (transformers 4.40.0 training_args.py:1804-1805): no swap offered
    w = load_config(root / "sft.yaml").workload
    assert not w.cpu_offload and RULE not in {r.id for r in kb.applicable(w, HW, kb.cached_rules())}


def test_a_model_sees_which_other_file_is_edited_but_not_its_diff(tmp_path: Path) -> None:
    from pytest_goblin.tools import _view

    root = repo(tmp_path, {"ds/zero3_offload.json": _dump(Z3_OFFLOAD), "train.yaml": LF.format(ref="ds/zero3_offload.json")})
    _, patch = _patch(root / "train.yaml")
    shown = _view("propose_patch", patch.model_dump(mode="json", exclude={"new_workload"}))
    assert shown["other_files"] == [{"path": "ds/zero3_offload.json", "edits": patch.other_files[0].edits}]
    assert all(set(o) == {"path", "edits"} for o in shown["other_files"])  # no diff, no resolved path
