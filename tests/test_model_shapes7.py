"""Families users fine-tune that the shape table lacked (modelzoo18): each row from a cited copy of the model's config.

A near name (another size, another architecture of the family, a later generation) must not take these rows.
"""

from __future__ import annotations

import pytest

from pytest_goblin.modelzoo import lookup_model, shape_assumption

from .test_model_shapes import _empty_hf_cache  # noqa: F401  (autouse: no HF cache answers for a name)


@pytest.mark.parametrize(
    ("name", "family", "params_b", "published_b", "dims"),
    [
        # (layers, hidden, heads, KV heads, intermediate, vocabulary); published_b: the model card's count
        ("mistralai/Mistral-Nemo-Instruct-2407", "mistral", 12.25, 12.0, (40, 5120, 32, 8, 14336, 131072)),
        ("mistralai/Mistral-Nemo-Base-2407", "mistral", 12.25, 12.0, (40, 5120, 32, 8, 14336, 131072)),
        ("microsoft/Phi-3-medium-4k-instruct", "phi3", 13.96, 14.0, (40, 5120, 40, 10, 17920, 32064)),
        ("microsoft/Phi-3-medium-128k-instruct", "phi3", 13.96, 14.0, (40, 5120, 40, 10, 17920, 32064)),
        ("01-ai/Yi-6B", "yi", 6.06, 6.0, (32, 4096, 32, 4, 11008, 64000)),
        ("01-ai/Yi-6B-Chat", "yi", 6.06, 6.0, (32, 4096, 32, 4, 11008, 64000)),
        ("baichuan-inc/Baichuan2-7B-Base", "baichuan", 7.51, None, (32, 4096, 32, 32, 11008, 125696)),
        ("baichuan-inc/Baichuan2-7B-Chat", "baichuan", 7.51, None, (32, 4096, 32, 32, 11008, 125696)),
        ("/models/Mistral-Nemo-Instruct-2407", "mistral", 12.25, 12.0, (40, 5120, 32, 8, 14336, 131072)),
    ],
)
def test_new_families_have_their_config_shapes(name: str, family: str, params_b: float, published_b: float | None, dims: tuple[int, ...]) -> None:
    m = lookup_model(name)
    assert m.known and m.family == family and m.inferred is None and m.n_experts is None
    assert (m.n_layers, m.hidden, m.n_heads, m.n_kv_heads, m.intermediate, m.vocab) == dims
    assert m.params_b == pytest.approx(params_b, abs=0.01)
    if published_b is not None:
        assert m.params_b == pytest.approx(published_b, rel=0.03)
    assert shape_assumption(m) is None


@pytest.mark.parametrize(
    ("name", "not_params_b"),
    [
        ("mistralai/Mistral-Small-24B-Instruct-2501", 12.247),  # another Mistral, not Nemo
        ("mistralai/Mistral-Nemo-Instruct-2407-FP8", 12.247),  # another checkpoint's config: not cited
        ("microsoft/Phi-3-small-8k-instruct", 13.96),  # another architecture (phi3small)
        ("microsoft/Phi-3-mini-4k-instruct", 13.96),  # its own row
        ("microsoft/Phi-3.5-MoE-instruct", 13.96),
        ("01-ai/Yi-34B", 6.061),  # its own row
        ("01-ai/Yi-9B", 6.061),
        ("01-ai/Yi-6B-200K", 6.061),  # a long-context checkpoint of its own
        ("baichuan-inc/Baichuan2-13B-Chat", 7.506),  # another size: not cited
        ("baichuan-inc/Baichuan-7B", 7.506),  # Baichuan 1: another vocabulary
    ],
)
def test_near_names_do_not_take_the_new_rows(name: str, not_params_b: float) -> None:
    m = lookup_model(name)
    assert m.params_b != not_params_b or m.inferred is not None


def test_uncited_variants_are_inferred_from_a_new_row_and_say_so() -> None:
    m = lookup_model("01-ai/Yi-1.5-6B-Chat")  # its own config is not cited: the name's yi-6b, labelled
    assert m.known and m.inferred is not None and "yi-6b" in m.inferred


def test_yi_6b_does_not_take_the_34b_row() -> None:
    assert lookup_model("01-ai/Yi-6B").n_layers == 32 and lookup_model("01-ai/Yi-34B").n_layers == 60
