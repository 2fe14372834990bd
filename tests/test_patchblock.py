"""No edit goblin offers makes the run stop: a rule whose edits would make a blocker fire is left out (issue 24)."""

from __future__ import annotations

import json
from pathlib import Path

from pytest_goblin.cli import main
from pytest_goblin.formats import load_config
from pytest_goblin.hardware import get_hardware
from pytest_goblin.patchblock import blocked_rules, build_patch
from pytest_goblin.rules import applicable, cached_rules, unactionable
from pytest_goblin.schemas import Finding, Rule

# FSDP with parameter offload and the unfused AdamW: optimizer.fused_adamw applies and would set `optim: adamw_torch_fused`,
# which torch before 2.4.0 refuses on host parameters (blocker.fused_adamw_on_host_params; torch 2.3.1
# torch/utils/_foreach_utils.py:12-14, torch/optim/adamw.py:63-70)
FSDP_OFFLOAD = (
    "# accelerate launch --num_processes 8 train.py --config sft.yaml\n"
    "model_name_or_path: meta-llama/Meta-Llama-3-8B\nper_device_train_batch_size: 4\ngradient_accumulation_steps: 4\n"
    "learning_rate: 2.0e-5\nbf16: true\noptim: adamw_torch\nfsdp: full_shard offload auto_wrap\n"
)
FUSED = "optimizer.fused_adamw"


def _repo(tmp: Path, requirements: str | None, text: str = FSDP_OFFLOAD, name: str = "sft.yaml") -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / ".git").mkdir()
    if requirements is not None:
        (tmp / "requirements.txt").write_text(requirements)
    path = tmp / name
    path.write_text(text)
    return path


def _patch(path: Path, rules: list[Rule] | None = None):  # type: ignore[no-untyped-def]
    loaded = load_config(path)
    hw = get_hardware("mi300x")
    chosen = rules if rules is not None else [r for r in applicable(loaded.workload, hw, cached_rules()) if not r.footgun]
    return build_patch(loaded, chosen, hw, "p1")


def test_fused_adamw_not_offered_where_the_pinned_torch_refuses_it_on_host_parameters(tmp_path: Path) -> None:
    patch = _patch(_repo(tmp_path, "torch==2.3.1\n"))
    assert FUSED not in patch.rule_ids
    assert all(e.rule_id != FUSED for e in patch.edits)
    assert patch.new_workload is not None and patch.new_workload.optimizer == "adamw_torch"  # its gain is not projected
    why = patch.skipped[FUSED]
    assert why.startswith("not offered: with `optim: adamw_torch_fused` the run would stop at start-up: ")
    assert "the recipe pins torch==2.3.1 (requirements.txt:1)" in why and "fused=True" in why
    assert "None" not in why and "(line " not in why  # the patched file's lines are not the config's
    assert "What to change" not in why
    assert not unactionable(why)  # the finding is shown with the reason
    assert patch.rule_ids  # the other rules' edits stay
    assert "adamw_torch_fused" not in patch.diff


def test_fused_adamw_offered_where_torch_runs_it_on_the_host_or_nothing_pins_torch(tmp_path: Path) -> None:
    for where, pin in (("new", "torch==2.5.1\n"), ("unpinned", None)):
        patch = _patch(_repo(tmp_path / where, pin))
        assert FUSED in patch.rule_ids, where
        assert FUSED not in patch.skipped, where
        assert patch.new_workload is not None and patch.new_workload.optimizer == "adamw_torch_fused"


def test_the_finding_says_why_and_goblin_fix_writes_no_dropped_edit(tmp_path: Path) -> None:
    path = _repo(tmp_path, "torch==2.3.1\n")
    out = tmp_path / "r.json"
    main(["audit", str(path), "--runner", "projection", "--fix", "--json", str(out)])
    report = json.loads(out.read_text())["items"][0]["report"]
    found = next(f for f in report["findings"] if f["rule_id"] == FUSED)
    assert "not offered: with `optim: adamw_torch_fused` the run would stop at start-up" in found["message"]
    assert FUSED not in report["patch"]["rule_ids"]
    written = path.read_text()
    assert written != FSDP_OFFLOAD  # the rest of the patch was written
    assert "optim: adamw_torch\n" in written and "adamw_torch_fused" not in written
    assert not any(f["blocker"] for f in report["findings"])


def test_the_audit_says_no_blocker_where_torch_allows_the_fused_edit(tmp_path: Path) -> None:
    path = _repo(tmp_path, "torch==2.5.1\n")
    out = tmp_path / "r.json"
    main(["audit", str(path), "--runner", "projection", "--fix", "--json", str(out)])
    report = json.loads(out.read_text())["items"][0]["report"]
    # with the optimizer step on the host the projection prices fused AdamW at nothing: left out for that, not a blocker
    assert not report["patch"]["skipped"][FUSED].startswith("not offered")
    assert not any("would stop at start-up" in f["message"] for f in report["findings"])


# torchtune's 70B_full with fused off and FSDP's CPU offload: `optimizer.fused: True` meets
# blocker.fused_adamw_on_host_params_torchtune under a pinned torch 2.2.2 (torch/utils/_foreach_utils.py:12-14)
TT_OFFLOAD = (
    "# Config for multi-device full finetuning in full_finetune_distributed.py\n"
    "#   tune run --nproc_per_node 8 full_finetune_distributed --config llama3_1/70B_full\n"
    "model:\n  _component_: torchtune.models.llama3_1.llama3_1_70b\nbatch_size: 2\nepochs: 1\n"
    "optimizer:\n  _component_: torch.optim.AdamW\n  lr: 2e-5\n  fused: False\nfsdp_cpu_offload: True\ndtype: bf16\n"
)


def test_torchtune_fused_edit_not_offered_under_cpu_offload_at_torch_2_2(tmp_path: Path) -> None:
    patch = _patch(_repo(tmp_path / "old", "torch==2.2.2\n", TT_OFFLOAD, "c.yaml"))
    assert FUSED not in patch.rule_ids
    assert patch.skipped[FUSED].startswith("not offered: with `optimizer.fused: true` the run would stop at start-up: the recipe pins torch==2.2.2")
    kept = _patch(_repo(tmp_path / "unpinned", None, TT_OFFLOAD, "c.yaml"))
    assert FUSED in kept.rule_ids and FUSED not in kept.skipped


# A GRPO recipe at trl 0.16.0: per_device_train_batch_size x processes must hold whole groups of num_generations (trl
# 0.16.0 trl/trainer/grpo_trainer.py:425-433). No KB rule edits an online-RL config's micro-batch today
# (batch.raise_micro_batch needs derived.preference_or_rl false), so a rule of the test's own lowers it.
GRPO = (
    "# accelerate launch --num_processes 2 -m trl.scripts.grpo --config grpo.yaml\n# pip install trl==0.16.0\n"
    "model_name_or_path: Qwen/Qwen2.5-1.5B\nper_device_train_batch_size: 8\ngradient_accumulation_steps: 2\n"
    "num_generations: {n}\nbf16: true\n"
)
HALVE = Rule.model_validate(
    {
        "id": "test.smaller_micro_batch",
        "category": "batch",
        "title": "A smaller micro-batch",
        "symptom": "test",
        "applies_when": [],
        "transform": {"set": {"micro_batch_size": 4, "gradient_accumulation": 4}},
        "impact": {"low": 1.0, "high": 1.1, "source_figure": "test"},
        "risk": "none",
        "citation": "https://example.org/test",
    }
)


def test_a_micro_batch_edit_that_splits_a_grpo_group_is_not_offered(tmp_path: Path) -> None:
    patch = _patch(_repo(tmp_path, None, GRPO.format(n=16), "grpo.yaml"), [HALVE])
    assert patch.rule_ids == [] and patch.edits == []
    why = patch.skipped[HALVE.id]
    assert why.startswith("not offered: with `per_device_train_batch_size: 4`, `gradient_accumulation_steps: 4` the run would stop at start-up: ")
    assert "num_generations" in why and "16" in why


def test_a_micro_batch_edit_that_keeps_whole_grpo_groups_stays(tmp_path: Path) -> None:
    patch = _patch(_repo(tmp_path, None, GRPO.format(n=8), "grpo.yaml"), [HALVE])  # 4 x 2 processes holds groups of 8
    assert patch.rule_ids == [HALVE.id]
    assert HALVE.id not in patch.skipped


def _blocker(rule_id: str, key: str | None = None) -> Finding:
    return Finding(
        rule_id=rule_id,
        title="t",
        category="blocker",
        message=f"`{key}: x` (line 3): it stops. What to change: y",
        key=key,
        blocker=True,
        citation="https://example.org/b",
    )


def test_blockers_are_judged_once_per_patch_when_nothing_conflicts() -> None:
    calls: list[frozenset[str]] = []

    def judge(ids: frozenset[str]) -> list[Finding]:
        calls.append(ids)
        return []

    assert blocked_rules(["a.one", "b.two"], judge, lambda rid: rid) == {}
    assert calls == [frozenset({"a.one", "b.two"})]


def test_a_blocker_the_config_has_already_drops_no_edit() -> None:
    calls: list[frozenset[str]] = []

    def judge(ids: frozenset[str]) -> list[Finding]:
        calls.append(ids)
        return [_blocker("blocker.old", "k")]  # fires with or without the edits

    assert blocked_rules(["a.one", "b.two"], judge, lambda rid: rid) == {}
    assert len(calls) == 2  # the patch, then the config as it is: no per-rule search


def test_only_the_rule_whose_edit_makes_the_blocker_fire_is_left_out() -> None:
    def judge(ids: frozenset[str]) -> list[Finding]:
        return [_blocker("blocker.new", "b_key")] if "b.two" in ids else []

    out = blocked_rules(["a.one", "b.two", "c.three"], judge, lambda rid: f"`{rid[0]}_key: x`")
    assert set(out) == {"b.two"}
    assert out["b.two"] == "not offered: with `b_key: x` the run would stop at start-up: it stops"


def test_two_edits_that_block_only_together_leave_out_the_lower_ranked() -> None:
    def judge(ids: frozenset[str]) -> list[Finding]:
        return [_blocker("blocker.pair")] if {"a.one", "b.two"} <= ids else []

    assert set(blocked_rules(["a.one", "b.two"], judge, lambda rid: rid)) == {"b.two"}
