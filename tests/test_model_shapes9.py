"""Models blind review 12 met without a shape (shapes32, class E): Apertus-8B (A#15) and Qwen2.5-VL-72B (A#13, its
vision tower counted in the parameters), each from a cited copy of the model's own numbers; the near names no source
gives stay unknown and say so.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.formats import load_config
from pytest_goblin.modelzoo import NAME_SIZE_FACTOR, lookup_model, shape_assumption

from .test_model_shapes import _empty_hf_cache  # noqa: F401  (autouse: no HF cache answers for a name)


@pytest.mark.parametrize(
    ("name", "family", "params_b", "dims"),
    [
        # (layers, hidden, heads, KV heads, intermediate, vocabulary)
        ("swiss-ai/Apertus-8B-Instruct-2509", "apertus", 8.05, (32, 4096, 32, 8, 21504, 131072)),  # review12a #15
        ("swiss-ai/Apertus-8B-2509", "apertus", 8.05, (32, 4096, 32, 8, 21504, 131072)),
        # the vision tower's 0.70B counted in the parameters, the text decoder's shape
        ("Qwen/Qwen2.5-VL-72B-Instruct", "qwen2-5-vl", 73.41, (80, 8192, 64, 8, 29568, 152064)),  # review12a #13
    ],
)
def test_review12_models_have_their_cited_shapes(name: str, family: str, params_b: float, dims: tuple[int, ...]) -> None:
    m = lookup_model(name)
    assert m.known and m.family == family and m.inferred is None and m.n_experts is None
    assert (m.n_layers, m.hidden, m.n_heads, m.n_kv_heads, m.intermediate, m.vocab) == dims
    assert m.params_b == pytest.approx(params_b, abs=0.01)
    assert shape_assumption(m) is None


@pytest.mark.parametrize(
    "name",
    [
        "swiss-ai/Apertus-70B-Instruct-2509",  # another size: no cited numbers here
        "swiss-ai/Apertus-v1.5-8B",  # Apertus 1.5 is another architecture
        "Qwen/Qwen2.5-VL-32B-Instruct",  # no cited numbers here; not the text model Qwen2.5-32B's row either
    ],
)
def test_near_names_stay_unknown_and_say_so(name: str) -> None:
    m = lookup_model(name)
    assert not m.known and m.family not in ("apertus", "qwen2-5-vl", "qwen2")
    said = shape_assumption(m)
    assert said is not None and "not in the shape table" in said and "None" not in said


def test_the_new_rows_leave_the_span_factor_as_it_was() -> None:
    assert NAME_SIZE_FACTOR == pytest.approx(1.305)


def test_a_trl_recipe_naming_apertus_is_priced_on_its_shape(tmp_path: Path) -> None:
    """review12a #15: a TRL SFT YAML whose model_name_or_path is Apertus-8B-Instruct-2509 is read at the row's shape."""
    cfg = tmp_path / "sft_full.yaml"
    cfg.write_text(
        "model_name_or_path: swiss-ai/Apertus-8B-Instruct-2509\n"
        "per_device_train_batch_size: 2\ngradient_accumulation_steps: 1\nmax_length: 4096\nbf16: true\n"
        "gradient_checkpointing: true\nlearning_rate: 2.0e-5\n"
    )
    m = load_config(cfg).workload.model
    assert m.known and m.family == "apertus" and m.n_layers == 32 and m.intermediate == 21504


def test_a_llamafactory_recipe_naming_qwen2_5_vl_72b_is_priced_on_its_shape(tmp_path: Path) -> None:
    """review12a #13: LLaMA-Factory full SFT of Qwen2.5-VL-72B-Instruct is read at the row's shape, not a name guess."""
    cfg = tmp_path / "sft.yaml"
    cfg.write_text(
        "model_name_or_path: Qwen/Qwen2.5-VL-72B-Instruct\nstage: sft\ndo_train: true\nfinetuning_type: full\n"
        "template: qwen2_vl\ncutoff_len: 8192\nper_device_train_batch_size: 2\ngradient_accumulation_steps: 2\nbf16: true\n"
    )
    m = load_config(cfg).workload.model
    assert m.known and m.family == "qwen2-5-vl" and m.params_b == pytest.approx(73.41) and shape_assumption(m) is None
