"""A model whose own transformers code asks for eager attention in training at the pinned release gets no attention
swap (review7b #23: Gemma-2 at transformers 4.42.4 warns to train with eager, modeling_gemma2.py:1061-1064, and
accepts SDPA there, :712, so "the model does not support SDPA" was false)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin import hardware
from pytest_goblin import rules as kb
from pytest_goblin.formats import load_config

from .repo_files import repo

CFG = "model_name_or_path: {model}\nattn_implementation: eager\nper_device_train_batch_size: 1\nlearning_rate: 1.0e-5\nnum_train_epochs: 1\nbf16: true\noutput_dir: out\n"
SWAPS = {"attention.flex_over_eager", "attention.sdpa_over_eager"}


def _fired(root: Path) -> tuple[set[str], list[str]]:
    w = load_config(root / "sft.yaml").workload
    return {r.id for r in kb.applicable(w, hardware.get_hardware("mi300x"), kb.cached_rules())}, w.notes


def test_gemma2_pinned_where_its_code_asks_for_eager_gets_no_attention_swap(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {"sft.yaml": CFG.format(model="google/gemma-2-9b-it"), "requirements.txt": "transformers==4.42.4\n", "train.py": "from trl import SFTTrainer\n"},
    )
    fired, notes = _fired(root)
    assert not SWAPS & fired
    note = next(n for n in notes if n.startswith("eager attention kept"))
    assert "transformers==4.42.4 (requirements.txt:1)" in note and "modeling_gemma2.py:1061-1064" in note and "None" not in note


@pytest.mark.parametrize(
    ("model", "pin", "rule"),
    [
        # the warning is gone there, and 4.57.6's Gemma2 accepts SDPA (models/gemma2/modeling_gemma2.py:346@4.57.6 `_supports_sdpa = True`;
        # frameworks/attention.json's history): SDPA, not the flex_attention 5.24.0's class would need
        ("google/gemma-2-9b-it", "transformers==4.57.6\n", "attention.sdpa_over_eager"),
        ("google/gemma-2-9b-it", "transformers>=4.42.4\n", "attention.flex_over_eager"),  # a range: any release may run
        ("meta-llama/Meta-Llama-3-8B", "transformers==4.42.4\n", "attention.sdpa_over_eager"),  # no such request in Llama's code
    ],
)
def test_no_eager_request_at_the_pin_keeps_the_swap(tmp_path: Path, model: str, pin: str, rule: str) -> None:
    """Must not fire: another release, a range, or a model whose code asks for nothing."""
    root = repo(tmp_path, {"sft.yaml": CFG.format(model=model), "requirements.txt": pin, "train.py": "from trl import SFTTrainer\n"})
    fired, notes = _fired(root)
    assert rule in fired
    assert not any(n.startswith("eager attention kept") for n in notes)
