"""Patch planning: conflicts resolved by rank, a memory budget for the combined edits,
and diffs that `git apply` accepts."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from pytest_goblin import hardware
from pytest_goblin import rules as kb
from pytest_goblin.costmodel import memory_gb
from pytest_goblin.formats import load_config
from pytest_goblin.patching import MEMORY_MARGIN, build_patch, plan_edits
from pytest_goblin.schemas import Rule, Transform

CONFIG = """\
base_model: meta-llama/Meta-Llama-3-8B
datasets:
  - path: tatsu-lab/alpaca
    type: alpaca
adapter: lora
sequence_len: 2048
micro_batch_size: 8
gradient_accumulation_steps: 1
gradient_checkpointing: true
bf16: true
optimizer: adamw_torch
warmup_ratio: 0.1"""  # no final newline, on purpose


def _rule(rid: str, field: str, value: object, priority: int = 0, high: float = 1.2) -> Rule:
    return Rule.model_validate(
        {
            "id": rid,
            "category": "test",
            "title": rid,
            "symptom": rid,
            "applies_when": [],
            "transform": {"set": {field: value}},
            "impact": {"low": 1.0, "high": high},
            "risk": "none",
            "citation": "https://example.org",
            "priority": priority,
        }
    )


def test_two_rules_on_one_field_resolve_by_rank_and_say_why(tmp_path: Path) -> None:
    path = tmp_path / "c.yml"
    path.write_text(CONFIG)
    w = load_config(path).workload
    hw = hardware.get_hardware("mi300x")
    a, b = _rule("test.low", "optimizer", "adamw_torch_fused", priority=1), _rule("test.high", "optimizer", "adamw_8bit", priority=5)
    for order in ([a, b], [b, a]):
        chosen, _env, conflicts, skipped = plan_edits(w, order, hw)
        assert chosen["optimizer"] == ("adamw_8bit", "test.high")
        assert conflicts[0].winner == "test.high" and conflicts[0].losers == ["test.low"]
        assert "priority" in conflicts[0].reason
        assert "conflicts with test.high on optimizer" in skipped["test.low"]


def test_combined_edits_must_fit_the_memory_budget(tmp_path: Path) -> None:
    path = tmp_path / "c.yml"
    qlora_72b = CONFIG.replace("Meta-Llama-3-8B", "Qwen/Qwen2.5-72B").replace("adapter: lora", "adapter: lora\nload_in_4bit: true")
    path.write_text(qlora_72b.replace("sequence_len: 2048", "sequence_len: 4096").replace("micro_batch_size: 8", "micro_batch_size: 1"))
    loaded = load_config(path)
    w, hw = loaded.workload, hardware.get_hardware("mi325x")
    budget = hw.hbm_gb * MEMORY_MARGIN
    unquantized = w.model_copy(update={"quantization": "none", "method": "lora"})
    # each edit alone fits the budget; both together do not
    assert memory_gb(unquantized) < budget and memory_gb(w.model_copy(update={"gradient_checkpointing": False})) < budget
    assert memory_gb(unquantized.model_copy(update={"gradient_checkpointing": False})) > budget
    rules = [
        _rule("test.unquantize", "quantization", "none", priority=9).model_copy(
            update={"transform": Transform(set={"quantization": "none", "method": "lora"})}
        ),
        _rule("test.no_ckpt", "gradient_checkpointing", False, priority=1),
    ]
    patch = build_patch(loaded, rules, hw, "p1")
    assert patch.new_workload.quantization == "none"  # the higher-ranked edit stays
    assert patch.new_workload.gradient_checkpointing is True  # the one that would overflow is dropped
    assert "projected peak memory" in patch.skipped["test.no_ckpt"]
    assert memory_gb(patch.new_workload) <= budget


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_diff_applies_with_git_even_without_a_final_newline(tmp_path: Path) -> None:
    path = tmp_path / "c.yml"
    path.write_text(CONFIG)
    loaded = load_config(path)
    rules = [r for r in kb.cached_rules() if r.id in {"optimizer.fused_adamw", "data.dataloader_workers", "memory.disable_checkpointing_when_hbm_free"}]
    patch = build_patch(loaded, rules, hardware.get_hardware("mi300x"), "p1")
    assert "\\ No newline at end of file" in patch.diff
    (tmp_path / "p.diff").write_text(patch.diff)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "apply", "p.diff"], cwd=tmp_path, check=True)
    after = load_config(path).workload
    assert after.optimizer == "adamw_torch_fused" and after.dataloader_workers == 4 and after.gradient_checkpointing is False
