"""What the projection cannot judge is inconclusive, never a PASS or a FAIL on a figure its own
sources contradict (issue 27 point 6, the class behind it)."""

from __future__ import annotations

import json
from pathlib import Path

from pytest_goblin.options import build_settings
from pytest_goblin.service import audit_file

from .repo_files import write_tree

# a TRL recipe written for a GPU: fp32 (bf16 off), eager attention, plain AdamW
RECIPE = """\
model_name_or_path: {model}
dataset_name: data
per_device_train_batch_size: 2
gradient_accumulation_steps: 1
max_length: 32
bf16: false
attn_implementation: eager
optim: adamw_torch
output_dir: out
"""
# the shape of tests/data/trainers/make_tiny_model.py: 0.1M parameters
TINY = {
    "model_type": "llama",
    "architectures": ["LlamaForCausalLM"],
    "vocab_size": 254,
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
}


def _audit(tmp_path: Path, model: str, length: int = 32):
    files = {"tiny/config.json": json.dumps(TINY), "sft.yaml": RECIPE.format(model=model).replace("max_length: 32", f"max_length: {length}")}
    cfg = write_tree(tmp_path, files, git=True) / "sft.yaml"
    result = audit_file(cfg, build_settings({}), shown_as="sft.yaml")
    assert result.report is not None, result.error
    return result.report


def test_a_projection_its_sources_contradict_is_inconclusive(tmp_path: Path) -> None:
    """A 0.1M-parameter model: the bf16 edit alone projected 0.16x (the model has no kernel-launch
    or Python-overhead term) and the patch 0.47x, reported as PASS with the patch offered."""
    report = _audit(tmp_path, "tiny")
    assert report.evidence == "projected"
    assert report.inconclusive is not None and "contradicts" in report.inconclusive
    assert "precision.bf16_amp_over_fp32 alone projects" in report.inconclusive and "goblin_command" in report.inconclusive
    assert report.verdict == "warn" and report.reason.startswith("inconclusive (") and "projected, not decided" in report.reason


def test_a_model_in_the_models_range_is_judged(tmp_path: Path) -> None:
    """Must not fire: the recipe on an 8B model at 2,048 tokens projects a gain for every rule and
    fails. (At 32 tokens it does fire: 64 tokens per micro-batch is a memory-bound step that the
    GEMM-efficiency model prices fp32 below bf16, a gap issue 25's roofline is to close.)"""
    report = _audit(tmp_path, "meta-llama/Llama-3.1-8B-Instruct", length=2048)
    assert report.inconclusive is None
    assert report.verdict == "fail" and report.speedup is not None and report.speedup.low > 1.1


CORPUS = Path(__file__).parent / "data" / "reference_corpus"


def test_online_rl_is_inconclusive_under_projection() -> None:
    """Issue 24: every GRPO recipe came out PASS 1.00x (or, read as SFT, FAIL 1.32x) from a step
    without its rollouts. A torchtune dev/ GRPO recipe is named as such (its `tune run` line),
    not guessed as full_finetune_distributed from the file name."""
    for name, why in (
        ("torchtune/recipes/configs/dev/3B_full_grpo.yaml", "its own decoding loop"),  # rollout.unsplit_reason: the recipe's own reason
        ("axolotl/examples/ebft/llama-1b-ebft-strided.yaml", "does not model online RL"),
    ):
        result = audit_file(CORPUS / name, build_settings({}), shown_as=name)
        r = result.report
        assert r is not None and r.inconclusive is not None and "online RL (" in r.inconclusive and why in r.inconclusive, name
        assert r.verdict == "warn"
    from pytest_goblin.formats import load_config

    assert load_config(CORPUS / "torchtune/recipes/configs/dev/3B_full_grpo.yaml").workload.framework == "torchtune 0.6.1 (dev/grpo_full_finetune_distributed)"


def test_offline_preference_and_sft_are_still_judged() -> None:
    """Must not fire: DPO (offline: its pairs are data) and an SFT recipe for GRPO are projected as before."""
    for name in ("torchtune/recipes/configs/dev/3B_sft_for_grpo.yaml",):
        r = audit_file(CORPUS / name, build_settings({}), shown_as=name).report
        assert r is not None and (r.inconclusive is None or "online RL" not in r.inconclusive), name
    dpo = next(p for p in sorted(CORPUS.rglob("*.y*ml")) if "dpo" in p.name and "torchtune" in str(p))
    r = audit_file(dpo, build_settings({}), shown_as=dpo.name).report
    assert r is not None and (r.inconclusive is None or "online RL" not in r.inconclusive)


def test_online_rl_is_read_from_the_trainer_not_from_words_in_names(tmp_path: Path) -> None:
    """Red team round 4, R4-5: 'ppo' inside support_team.yaml, or 'xpo' in an export name, made an
    SFT recipe inconclusive (exit 0 instead of a FAIL)."""
    from pytest_goblin.formats import load_config
    from pytest_goblin.rules import online_rl

    from .conftest import EXAMPLES

    text = (EXAMPLES / "torchtune-qwen2_5-7b-full.yaml").read_text()
    for name in ("support_team.yaml", "export_full.yaml", "sft_ppo_notes_full.yaml"):
        path = tmp_path / name
        path.write_text(text)
        assert online_rl(load_config(path).workload) is None, name
        r = audit_file(path, build_settings({}), shown_as=name).report
        assert r is not None and r.inconclusive is None and r.verdict == "fail", name
