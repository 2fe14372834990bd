"""Families users fine-tune that the shape table lacked (modelzoo18): each row from a cited copy of the model's config.

A near name (another size, another architecture of the family, a later generation) must not take these rows.
"""

from __future__ import annotations

import pytest

from pytest_goblin.modelzoo import lookup_model, path_model_part, shape_assumption

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
        ("Qwen/Qwen1.5-7B", "qwen2", 7.72, 7.72, (32, 4096, 32, 32, 11008, 151936)),  # published: its bf16 weight map's size / 2
        ("Qwen/Qwen1.5-7B-Chat", "qwen2", 7.72, 7.72, (32, 4096, 32, 32, 11008, 151936)),
        ("/models/Mistral-Nemo-Instruct-2407", "mistral", 12.25, 12.0, (40, 5120, 32, 8, 14336, 131072)),
    ],
)
def test_new_families_have_their_config_shapes(name: str, family: str, params_b: float, published_b: float | None, dims: tuple[int, ...]) -> None:
    m = lookup_model(name)
    assert m.known and m.family == family and (m.inferred is None) == (path_model_part(name) is None) and m.n_experts is None
    assert (m.n_layers, m.hidden, m.n_heads, m.n_kv_heads, m.intermediate, m.vocab) == dims
    assert m.params_b == pytest.approx(params_b, abs=0.01)
    if published_b is not None:
        assert m.params_b == pytest.approx(published_b, rel=0.03)
    assert shape_assumption(m) is None


_NEMO = ("mistral", 40, 5120, 8, 131072)
_PHI3_MEDIUM = ("phi3", 40, 5120, 10, 32064)
_YI_6B = ("yi", 32, 4096, 4, 64000)
_BAICHUAN2_7B = ("baichuan", 32, 4096, 32, 125696)
_QWEN15_7B = ("qwen2", 32, 4096, 32, 151936)


@pytest.mark.parametrize(
    ("name", "row"),
    [
        # (family, layers, hidden, KV heads, vocabulary) of the row the name must not take
        ("mistralai/Mistral-Small-24B-Instruct-2501", _NEMO),  # another Mistral, not Nemo
        ("mistralai/Mistral-Nemo-Instruct-2407-FP8", _NEMO),  # another checkpoint's config: not cited
        ("microsoft/Phi-3-small-8k-instruct", _PHI3_MEDIUM),  # another architecture (phi3small)
        ("microsoft/Phi-3-mini-4k-instruct", _PHI3_MEDIUM),  # its own row
        ("microsoft/Phi-3.5-MoE-instruct", _PHI3_MEDIUM),
        ("01-ai/Yi-34B", _YI_6B),  # its own row
        ("01-ai/Yi-9B", _YI_6B),
        ("baichuan-inc/Baichuan2-13B-Chat", _BAICHUAN2_7B),  # another size: not cited
        ("baichuan-inc/Baichuan-7B", _BAICHUAN2_7B),  # Baichuan 1: another vocabulary
        ("Qwen/Qwen2-7B-Instruct", _QWEN15_7B),  # its own row (GQA, 3584 wide)
        ("Qwen/Qwen2.5-7B", _QWEN15_7B),
        ("Qwen/Qwen1.5-14B-Chat", _QWEN15_7B),  # another size: not cited
        ("Qwen/Qwen1.5-MoE-A2.7B", _QWEN15_7B),
        ("Qwen/Qwen-7B-Chat", _QWEN15_7B),  # Qwen v1: its own row (family qwen)
        ("Qwen/Qwen2-VL-2B-Instruct", _QWEN15_7B),
    ],
)
def test_near_names_do_not_take_the_new_rows(name: str, row: tuple[object, ...]) -> None:
    m = lookup_model(name)
    assert (m.family, m.n_layers, m.hidden, m.n_kv_heads, m.vocab) != row


def test_qwen1_5_7b_is_not_a_qwen2_row_and_qwen2_7b_is_not_its_row() -> None:
    assert lookup_model("Qwen/Qwen1.5-7B").hidden == 4096
    assert lookup_model("Qwen/Qwen2-7B").hidden == 3584


def test_uncited_variants_are_inferred_from_a_new_row_and_say_so() -> None:
    m = lookup_model("01-ai/Yi-1.5-6B-Chat")  # its own config is not cited: the name's yi-6b, labelled
    assert m.known and m.inferred is not None and "yi-6b" in m.inferred


def test_yi_6b_does_not_take_the_34b_row() -> None:
    assert lookup_model("01-ai/Yi-6B").n_layers == 32 and lookup_model("01-ai/Yi-34B").n_layers == 60
