"""Attention support at the transformers release a repository pins (frameworks/attention.json's history, read from the
released wheels by scripts/gen_attention_support.py --wheels)."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin import rules as kb
from pytest_goblin.formats import load_config
from pytest_goblin.frameworks import attention
from pytest_goblin.hardware import get_hardware
from pytest_goblin.patching import invalid_fields

from .repo_files import write_tree

RECIPE = (
    "model_name_or_path: google/gemma-2-9b\ntorch_dtype: bfloat16\nbf16: true\nattn_implementation: eager\n"
    "per_device_train_batch_size: 1\ngradient_accumulation_steps: 8\nmax_seq_length: 2048\n"
)


def _repo(tmp_path: Path, requirement: str | None) -> Path:
    files = {"recipes/gemma2/sft.yaml": RECIPE}
    if requirement:
        files["requirements.txt"] = f"torch>=2.1\n{requirement}\n"
    return write_tree(tmp_path, files, git=True) / "recipes/gemma2/sft.yaml"


def _attention_rules(path: Path) -> set[str]:
    loaded = load_config(path)
    hw = get_hardware("mi300x")
    return {r.id for r in kb.applicable(loaded.workload, hw, kb.cached_rules()) if r.id.startswith("attention.")}


def test_the_history_holds_the_flags_each_release_set() -> None:
    # Gemma-2: _supports_sdpa = True from 4.42.4 (models/gemma2/modeling_gemma2.py:712@4.42.4) until 5.21.1 sets it False
    assert attention.supports("gemma2", "sdpa") is False  # the shipped 5.24.0 table
    assert attention.supports("gemma2", "sdpa", "4.47.1") is True
    assert attention.supports("gemma2", "sdpa", "5.21.1") is False
    # flex_attention: no such implementation before 4.47; llama, mistral and qwen2 set _supports_flex_attn from 4.48
    for mt in ("llama", "mistral", "qwen2"):
        assert attention.supports(mt, "flex", "4.46.3") is False
        assert attention.supports(mt, "flex", "4.47.1") is False
        assert attention.supports(mt, "flex", "4.48.3") is True
    assert attention.supports("mistral", "sdpa", "4.36.2") is False and attention.supports("mistral", "sdpa", "4.37.2") is True
    assert attention.read_release("4.47.0") == "4.47.1" and attention.read_release("4.30.2") is None
    why = attention.unsupported_reason("gemma2", "flex", "4.47.1") or ""
    assert why.startswith("transformers 4.47.1 Gemma2ForCausalLM does not support attn_implementation flex_attention")
    assert "modeling_utils.py:1347@4.47.1" in why and "modeling_utils.py:1826@4.47.1" in why and "supports flash_attention_2, sdpa" in why
    old = attention.unsupported_reason("llama", "flex", "4.46.3") or ""
    assert "transformers 4.46.3 does not accept attn_implementation flex_attention at all" in old and "@4.46.3" in old
    assert attention.unsupported_reason("gemma2", "sdpa", "4.47.1") is None


def test_a_pinned_release_judges_the_swap_by_its_own_flags(tmp_path: Path) -> None:
    """Gemma-2 pinned at transformers 4.47.1 accepts SDPA (5.24.0 refuses it): SDPA is proposed, not flex_attention,
    which 4.47.1's Gemma2 class does not support."""
    path = _repo(tmp_path, "transformers==4.47.1")
    loaded = load_config(path)
    assert loaded.workload.attention_release == "4.47.1"
    assert _attention_rules(path) >= {"attention.sdpa_over_eager"}
    assert "attention.flex_over_eager" not in _attention_rules(path)
    assert "4.47.1" in invalid_fields(loaded, {"attention": "flex"})["attention"]
    assert invalid_fields(loaded, {"attention": "sdpa"}) == {}


def test_an_unpinned_config_keeps_the_shipped_table(tmp_path: Path) -> None:
    path = _repo(tmp_path, None)
    loaded = load_config(path)
    assert loaded.workload.attention_release is None
    assert not any("attention support read at" in n for n in loaded.workload.notes)
    assert "attention.flex_over_eager" in _attention_rules(path) and "attention.sdpa_over_eager" not in _attention_rules(path)


def test_a_pin_outside_the_history_reads_the_newest_table_with_a_note(tmp_path: Path) -> None:
    path = _repo(tmp_path, "transformers==4.30.2")
    loaded = load_config(path)
    assert loaded.workload.attention_release is None
    note = next(n for n in loaded.workload.notes if "attention support read at" in n)
    assert "transformers 4.30.2" in note and "4.36.2-5.25.0" in note and "transformers 5.24.0, the newest table" in note
