"""Models blind review 10 met whose names state their size but which the shape table lacked (namesize22): LLaMA 1,
GPT-Neo 1.3B, Instella-3B and Poro-34B, each from a cited copy of the model's own numbers; and torchtune's
llama3_1 / llama3_2 generic builders read from the dimensions a config passes them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.formats import load_config
from pytest_goblin.modelzoo import NAME_SIZE_FACTOR, lookup_model, shape_assumption

from .test_model_shapes import _empty_hf_cache  # noqa: F401  (autouse: no HF cache answers for a name)
from .test_model_shapes import _tune as tune_yaml


@pytest.mark.parametrize(
    ("name", "family", "params_b", "published_b", "dims"),
    [
        # (layers, hidden, heads, KV heads, intermediate, vocabulary); published_b: the model card's count where cited
        ("huggyllama/llama-7b", "llama", 6.74, None, (32, 4096, 32, 32, 11008, 32000)),
        ("decapoda-research/llama-7b-hf", "llama", 6.74, None, (32, 4096, 32, 32, 11008, 32000)),  # review10b #36
        ("huggyllama/llama-13b", "llama", 13.02, None, (40, 5120, 40, 40, 13824, 32000)),
        ("decapoda-research/llama-13b-hf", "llama", 13.02, None, (40, 5120, 40, 40, 13824, 32000)),
        ("EleutherAI/gpt-neo-1.3B", "gpt_neo", 1.31, None, (24, 2048, 16, 16, 8192, 50257)),  # review10b #33
        ("amd/Instella-3B", "instella", 3.11, None, (36, 2560, 32, 32, 6912, 50304)),
        ("amd/Instella-3B-SFT", "instella", 3.11, None, (36, 2560, 32, 32, 6912, 50304)),  # review10b #34
        ("amd/Instella-3B-Instruct", "instella", 3.11, None, (36, 2560, 32, 32, 6912, 50304)),
        ("LumiOpen/Poro-34B", "bloom", 34.21, 34.2, (54, 7168, 56, 56, 28672, 128000)),  # review10b #26
    ],
)
def test_review10_models_have_their_cited_shapes(name: str, family: str, params_b: float, published_b: float | None, dims: tuple[int, ...]) -> None:
    m = lookup_model(name)
    assert m.known and m.family == family and m.inferred is None and m.n_experts is None
    assert (m.n_layers, m.hidden, m.n_heads, m.n_kv_heads, m.intermediate, m.vocab) == dims
    assert m.params_b == pytest.approx(params_b, abs=0.01)
    if published_b is not None:
        assert m.params_b == pytest.approx(published_b, rel=0.01)
    assert shape_assumption(m) is None


@pytest.mark.parametrize(
    "name",
    [
        "meta-llama/Llama-2-7b-hf",  # its own row (llama2)
        "ziqingyang/chinese-llama-7b",  # a fine-tune's name: not LLaMA 1's row
        "lmsys/vicuna-7b-v1.3",  # LLaMA 1 based, but no cited source names its base here
        "openlm-research/open_llama_7b",  # another model of the same numbers, not cited
        "EleutherAI/gpt-neo-2.7B",  # not cited: stays a name-sized guess
        "EleutherAI/gpt-neox-20b",
        "EleutherAI/gpt-neo-125m",
    ],
)
def test_near_names_do_not_take_the_new_rows(name: str) -> None:
    m = lookup_model(name)
    assert m.family not in ("gpt_neo", "instella", "bloom") and not (m.family == "llama" and m.hidden in (4096, 5120) and m.vocab == 32000)


def test_the_new_rows_leave_the_span_factor_as_it_was() -> None:
    """Each new row's parameters over its name's size stays below gemma-2-2b's x1.305, the span's factor."""
    assert NAME_SIZE_FACTOR == pytest.approx(1.305)


# Llama 3.2 1B's numbers, as review10a #6 (anilkeshwani/tuna-lm) writes them for the generic builder
_L32_1B = "  num_layers: 16\n  num_heads: 32\n  num_kv_heads: 8\n  embed_dim: 2048\n  max_seq_len: 131072\n  intermediate_dim: 8192\n"


def _tune(tmp_path: Path, builder: str, args: str) -> Path:
    return tune_yaml(tmp_path, builder, args, tokenizer="llama3")


def test_a_llama3_2_builder_given_every_dimension_gets_its_shape_with_tied_embeddings(tmp_path: Path) -> None:
    """torchtune 0.6.1 llama3_2(..., tie_word_embeddings=True): the output projection is the token embedding (TiedLinear),
    so the count is the table's Llama-3.2-1B row's, 1.24B."""
    m = load_config(_tune(tmp_path, "llama3_2.llama3_2", "  vocab_size: 128256\n" + _L32_1B)).workload.model
    assert m.known and (m.n_layers, m.hidden, m.n_heads, m.n_kv_heads, m.intermediate, m.vocab) == (16, 2048, 32, 8, 8192, 128256)
    assert m.params_b == pytest.approx(lookup_model("meta-llama/Llama-3.2-1B").params_b, abs=0.01)
    assert shape_assumption(m) is None and m.inferred is not None and "builder's arguments" in m.inferred


def test_llama3_2_untied_and_llama3_1_count_the_output_projection(tmp_path: Path) -> None:
    tied = load_config(_tune(tmp_path, "llama3_2.llama3_2", "  vocab_size: 128256\n" + _L32_1B)).workload.model
    untied = load_config(
        _tune(
            tmp_path,
            "llama3_2.lora_llama3_2",
            "  lora_attn_modules: [q_proj]\n  lora_rank: 8\n  lora_alpha: 16\n  vocab_size: 128256\n  tie_word_embeddings: false\n" + _L32_1B,
        )
    ).workload.model
    l31 = load_config(_tune(tmp_path, "llama3_1.llama3_1", "  vocab_size: 128256\n" + _L32_1B)).workload.model
    assert tied.params_b is not None and untied.params_b is not None and l31.params_b is not None
    assert untied.params_b - tied.params_b == pytest.approx(128256 * 2048 / 1e9, abs=0.002)
    assert l31.params_b == pytest.approx(untied.params_b)


@pytest.mark.parametrize(
    "args",
    [
        "  vocab_size: null\n" + _L32_1B,  # review10a #6: vocab_size set at run time (null in the file)
        "  vocab_size: ${vocab}\n" + _L32_1B,  # an interpolation
        _L32_1B,  # no vocab_size at all
        "  vocab_size: 128256\n  tie_word_embeddings: ${tie}\n" + _L32_1B,  # a tie goblin cannot read
    ],
)
def test_a_llama3_2_builder_missing_a_dimension_stays_unknown(tmp_path: Path, args: str) -> None:
    m = load_config(_tune(tmp_path, "llama3_2.llama3_2", args)).workload.model
    assert not m.known and (m.inferred is None or "builder's arguments" not in m.inferred)
    assert shape_assumption(m) is not None


def test_a_builder_missing_a_dimension_says_which_in_a_note(tmp_path: Path) -> None:
    """review10a #6: `vocab_size: null` (set at run time): the note names it, with no Python None."""
    w = load_config(_tune(tmp_path, "llama3_2.llama3_2", "  vocab_size: null\n" + _L32_1B)).workload
    note = next(n for n in w.notes if "builds the model from the dimensions" in n)
    assert "vocab_size is null" in note and "its shape is unknown" in note and "None" not in note
    known = load_config(_tune(tmp_path, "llama3_2.llama3_2", "  vocab_size: 128256\n" + _L32_1B)).workload
    assert not any("builds the model from the dimensions" in n for n in known.notes)
