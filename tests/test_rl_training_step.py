"""Review14b class 2: an online RL (GRPO) or preference item goblin leaves inconclusive still lists the rules whose premise
is the training step (memory, at an upper bound of that step's memory: rules.training_step_bound), each saying its share
of the whole step is not projected; the verdict stays inconclusive. A modelled GRPO run is unchanged, and a rule whose
premise is generation (evaluation, a colocated vLLM's memory) is not listed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pytest_goblin.options import build_settings
from pytest_goblin.service import audit_file

from .repo_files import write_tree

CHECKPOINTING = "memory.disable_checkpointing_when_hbm_free"
# trl 0.14.0 (the pin): its GRPO trainer predates the one rollout.split models (trl 0.18), so no split is projected
OLD_GRPO = (
    "# GRPOTrainer\nmodel_name_or_path: Qwen/Qwen2.5-0.5B-Instruct\nper_device_train_batch_size: 4\ngradient_accumulation_steps: 2\n"
    "bf16: true\ngradient_checkpointing: true\nnum_generations: 4\nmax_prompt_length: 256\nmax_completion_length: 256\n"
)
# trl 1.16.0 (no pin, the newest read): modelled (rollout.split)
MODELLED_GRPO = (
    "# GRPOTrainer\nmodel_name_or_path: Qwen/Qwen2.5-0.5B-Instruct\nper_device_train_batch_size: 4\ngradient_accumulation_steps: 2\n"
    "bf16: true\ngradient_checkpointing: true\nnum_generations: 4\nmax_completion_length: 256\nuse_vllm: true\nvllm_mode: colocate\n"
)
DPO = (
    "model:\n  _component_: torchtune.models.llama3_2.llama3_2_3b\n"
    "dataset:\n  _component_: torchtune.datasets.preference_dataset\n  source: json\n  data_files: pairs.json\n"
    "batch_size: 1\nepochs: 1\noptimizer:\n  _component_: torch.optim.AdamW\n  lr: 1e-5\n"
    "loss:\n  _component_: torchtune.rlhf.loss.DPOLoss\n  beta: 0.1\ngradient_accumulation_steps: 4\ndevice: cuda\ndtype: bf16\n"
    "enable_activation_checkpointing: true\nenable_activation_offloading: true\n"
)


def _audit(root: Path, files: dict[str, str], name: str) -> Any:
    write_tree(root, files, git=True)
    result = audit_file(root / name, build_settings({"target": "mi300x"}), shown_as=name)
    assert result.report is not None, result.error
    return result.report


def _no_none(report: Any) -> None:
    for text in [report.reason, report.inconclusive or "", *(f.message for f in report.findings)]:
        assert "None" not in text, text


def test_an_unmodelled_grpo_recipe_with_checkpointing_on_a_small_model_lists_the_finding(tmp_path: Path) -> None:
    r = _audit(tmp_path, {"requirements.txt": "trl==0.14.0\n", "grpo.yaml": OLD_GRPO}, "grpo.yaml")
    assert r.rollout is None and r.inconclusive is not None and "no generation/training split" in r.inconclusive
    assert r.verdict == "warn"  # inconclusive, never FAIL or PASS on the training step's number
    finding = next(f for f in r.findings if f.rule_id == CHECKPOINTING)
    assert finding.line == 6 and "training step only: generation is not projected for this recipe" in finding.message
    assert "so its share of the whole step is not projected" in finding.message
    # trl 0.14.0 trains each prompt's num_generations completions together (grpo_trainer.py:335,417): the bound holds them
    assert "4 completions trained per prompt of a micro-batch" in finding.message and "16 x 512 tokens per micro-batch" in finding.message
    # the edit is offered, as any patch's
    assert [(e.field, e.new) for e in r.patch.edits if e.rule_id == CHECKPOINTING] == [("gradient_checkpointing", False)]
    _no_none(r)


def test_a_modelled_grpo_run_is_unchanged(tmp_path: Path) -> None:
    """Must not: the modelled split judges its own memory; no training-step finding is added."""
    r = _audit(tmp_path, {"grpo.yaml": MODELLED_GRPO}, "grpo.yaml")
    assert r.rollout is not None
    assert all(f.rule_id != CHECKPOINTING and "training step only" not in f.message for f in r.findings)


def test_no_training_step_memory_finding_where_vllm_may_share_the_training_gpus(tmp_path: Path) -> None:
    """Must not: use_vllm at trl 0.14 with no world size read: where vLLM runs is unknown, so its memory may be the
    training GPUs' and the room the rule would find is not known."""
    r = _audit(tmp_path, {"requirements.txt": "trl==0.14.0\n", "grpo.yaml": OLD_GRPO + "use_vllm: true\n"}, "grpo.yaml")
    assert r.rollout is None and r.inconclusive is not None
    assert all(f.rule_id != CHECKPOINTING for f in r.findings)


def test_a_rule_whose_premise_is_generation_is_not_listed(tmp_path: Path) -> None:
    """Must not: evaluation of an online RL run generates; the eval-floor rule is not judged on the training step."""
    text = OLD_GRPO + "eval_strategy: steps\neval_steps: 1\nper_device_eval_batch_size: 64\n"
    r = _audit(tmp_path, {"requirements.txt": "trl==0.14.0\n", "grpo.yaml": text}, "grpo.yaml")
    assert any(f.rule_id == CHECKPOINTING for f in r.findings)
    assert all(f.rule_id != "job.frequent_eval_floor" for f in r.findings)


def test_an_unmodelled_preference_recipe_lists_offloading_and_checkpointing_on_its_bound(tmp_path: Path) -> None:
    """Row 35 (torchtune full DPO, 3B): activation offloading and checkpointing on a step that fits many times over."""
    r = _audit(tmp_path, {"dpo.yaml": DPO}, "dpo.yaml")
    assert r.verdict == "warn" and r.inconclusive is not None
    assert "judged on its training step only, at an upper bound of its memory" in r.inconclusive
    ids = {f.rule_id for f in r.findings}
    assert {CHECKPOINTING, "memory.activation_offloading_when_hbm_free"} <= ids
    for f in r.findings:
        if f.rule_id.startswith("memory."):
            assert "its memory bounded with chosen and rejected sequences and a reference copy" in f.message
    _no_none(r)


def test_an_unmodelled_preference_recipe_over_hbm_at_its_bound_gets_no_memory_lowering_finding(tmp_path: Path) -> None:
    """Must not: an upper bound over HBM says nothing of the run: no memory-lowering rule fires on it."""
    big = DPO.replace("llama3_2_3b", "llama3_1_70b").replace("enable_activation_checkpointing: true", "enable_activation_checkpointing: false")
    r = _audit(tmp_path, {"dpo.yaml": big}, "dpo.yaml")
    assert r.verdict == "warn" and r.inconclusive is not None
    assert all(f.rule_id not in ("memory.projected_over_hbm", "kernels.liger_fused_kernels") for f in r.findings)


def _audit_on(root: Path, files: dict[str, str], name: str, target: str) -> Any:
    write_tree(root, files, git=True)
    result = audit_file(root / name, build_settings({"target": target}), shown_as=name)
    assert result.report is not None, result.error
    return result.report


LAUNCH = "export CUDA_LAUNCH_BLOCKING={value}\naccelerate launch --num_processes=2 train.py --config grpo.yaml\n"
SCRIPT = "from trl import GRPOConfig, GRPOTrainer, TrlParser\nparser = TrlParser((GRPOConfig,))\nargs = parser.parse_args_and_config()\n"


def test_cuda_launch_blocking_in_the_launch_script_is_said_whatever_the_split(tmp_path: Path) -> None:
    """Row 32: `export CUDA_LAUNCH_BLOCKING=1` in the launcher of a GRPO recipe goblin projects no split for: on an AMD
    target a note saying ROCm does not read it (torch 2.13.0's hipify maps it to AMD_SERIALIZE_KERNEL), with its line."""
    files = {"requirements.txt": "trl==0.14.0\n", "grpo.yaml": OLD_GRPO, "train.py": SCRIPT, "run.sh": LAUNCH.format(value=1)}
    r = _audit_on(tmp_path / "a", files, "grpo.yaml", "mi300x")
    note = next(n for n in r.notes if n.startswith("CUDA_LAUNCH_BLOCKING=1"))
    assert "run.sh line 1" in note and "cuda_to_hip_mappings.py:3423-3424" in note
    assert all("CUDA_LAUNCH_BLOCKING" not in f.message for f in r.findings)  # not a finding: it does not slow a ROCm run


def test_no_cuda_launch_blocking_note_when_it_is_off_or_the_target_is_not_amd(tmp_path: Path) -> None:
    files = {"requirements.txt": "trl==0.14.0\n", "grpo.yaml": OLD_GRPO, "train.py": SCRIPT, "run.sh": LAUNCH.format(value=0)}
    off = _audit_on(tmp_path / "off", files, "grpo.yaml", "mi300x")
    assert not any("CUDA_LAUNCH_BLOCKING" in n for n in off.notes)
    h100 = _audit_on(tmp_path / "h100", {**files, "run.sh": LAUNCH.format(value=1)}, "grpo.yaml", "h100")
    assert not any(n.startswith("CUDA_LAUNCH_BLOCKING") for n in h100.notes)


WIDE = OLD_GRPO.replace("Qwen2.5-0.5B-Instruct", "Qwen2.5-1.5B-Instruct").replace("num_generations: 4", "num_generations: 16")
WIDE = WIDE.replace("max_prompt_length: 256\nmax_completion_length: 256", "max_prompt_length: 1024\nmax_completion_length: 1024")


def test_before_trl_0_15_the_bound_trains_every_completion_of_a_prompt_together(tmp_path: Path) -> None:
    """Must not: at trl 0.14.0 a micro-batch of 4 prompts trains 64 completions; checkpointing off does not fit that
    bound, so no finding; at 0.15.0 (the sampler repeats prompts: the micro-batch counts completions) it does."""
    old = _audit(tmp_path / "old", {"requirements.txt": "trl==0.14.0\n", "grpo.yaml": WIDE}, "grpo.yaml")
    assert old.rollout is None and all(f.rule_id != CHECKPOINTING for f in old.findings)
    new = _audit(tmp_path / "new", {"requirements.txt": "trl==0.15.0\n", "grpo.yaml": WIDE}, "grpo.yaml")
    finding = next(f for f in new.findings if f.rule_id == CHECKPOINTING)
    assert "completions trained per prompt" not in finding.message and "4 x 2048 tokens per micro-batch" in finding.message
