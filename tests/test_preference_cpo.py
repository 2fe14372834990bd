"""TRL's CPO (CPOConfig / CPOTrainer) is a reference-free preference trainer like ORPO and SimPO: two sequences per
example (chosen and rejected concatenated), no reference model (trl 0.9.6 trl/trainer/cpo_trainer.py:670-729), and
the SFT-only advice (raise the micro-batch, packing, eval-batch) that preference runs skip is not given (review7b #21)."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin import hardware
from pytest_goblin import rules as kb
from pytest_goblin.formats import load_config
from pytest_goblin.schemas import WorkloadConfig

from .repo_files import repo

BASE = (
    "model_name_or_path: Qwen/Qwen2.5-7B\nbf16: true\nper_device_train_batch_size: 1\ngradient_accumulation_steps: 8\n"
    "learning_rate: 1.0e-6\nmax_length: 2048\noutput_dir: out\n"
)
CPO = BASE + "beta: 2.0\nloss_type: simpo\ncpo_alpha: 0.5\nsimpo_gamma: 1.6\n"


def _read(tmp_path: Path, text: str) -> tuple[WorkloadConfig, dict, set[str]]:
    root = repo(tmp_path, {"cfg.yaml": text})
    w = load_config(root / "cfg.yaml").workload
    hw = hardware.get_hardware("mi300x")
    return w, kb.facts(w, hw), {r.id for r in kb.applicable(w, hw, kb.cached_rules())}


def test_a_cpo_recipe_is_a_preference_run(tmp_path: Path) -> None:
    w, facts, fired = _read(tmp_path, CPO)
    assert "CPOConfig" in (w.framework or "")
    assert w.sequences_per_example == 2 and not w.reference_forward and not w.reference_copy
    assert facts["derived.preference_or_rl"] is True
    assert "batch.raise_micro_batch" not in fired


def test_an_sft_recipe_is_not(tmp_path: Path) -> None:
    """Must not fire: the same recipe without CPO's keys is SFT, and keeps the micro-batch advice."""
    w, facts, fired = _read(tmp_path, BASE)
    assert "CPO" not in (w.framework or "")
    assert facts["derived.preference_or_rl"] is False
    assert "batch.raise_micro_batch" in fired
