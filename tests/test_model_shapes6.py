"""Models goblin could not size after shape5 (issue 23 class 6): the corpus and tests/data name them.

Each row comes from an attributable copy of the model's config (a framework's model config that names it, or the
transformers config class whose defaults are that checkpoint's); hybrid architectures stay unknown and say why.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.formats import load_config
from pytest_goblin.modelzoo import lookup_model, path_model_part, shape_assumption

from .test_model_shapes import _empty_hf_cache  # noqa: F401  (autouse: no HF cache answers for a name)


@pytest.mark.parametrize(
    ("name", "family", "params_b", "dims"),
    [
        # (layers, hidden, heads, KV heads, intermediate, vocabulary)
        ("TinyLlama/TinyLlama_v1.1", "llama", 1.10, (22, 2048, 32, 4, 5632, 32000)),
        ("google/gemma-3-270m-it", "gemma3", 0.27, (18, 640, 4, 1, 2048, 262144)),
        ("google/gemma-3-270m", "gemma3", 0.27, (18, 640, 4, 1, 2048, 262144)),
        ("Qwen/Qwen-7B", "qwen", 7.72, (32, 4096, 32, 32, 11008, 151936)),
        ("Qwen/Qwen-7B-Chat", "qwen", 7.72, (32, 4096, 32, 32, 11008, 151936)),
        ("mosaicml/mpt-7b", "mpt", 6.65, (32, 4096, 32, 32, 16384, 50432)),
        ("mosaicml/mpt-7b-instruct", "mpt", 6.65, (32, 4096, 32, 32, 16384, 50432)),
        ("THUDM/GLM-4-32B-0414", "glm4", 32.56, (61, 6144, 48, 2, 23040, 151552)),
        ("THUDM/GLM-4-32B-Base-0414", "glm4", 32.56, (61, 6144, 48, 2, 23040, 151552)),
        ("01-ai/Yi-34B", "yi", 34.39, (60, 7168, 56, 8, 20480, 64000)),
        ("01-ai/Yi-34B-Chat", "yi", 34.39, (60, 7168, 56, 8, 20480, 64000)),
        ("Qwen/Qwen2.5-VL-3B-Instruct", "qwen2-vl", 3.75, (36, 2048, 16, 2, 11008, 151936)),
        ("/path/to/models/Qwen2.5-VL-3B-Instruct", "qwen2-vl", 3.75, (36, 2048, 16, 2, 11008, 151936)),
        ("mistralai/Magistral-Small-2506", "mistral", 23.57, (40, 5120, 32, 8, 32768, 131072)),
        ("mistralai/Magistral-Small-2507", "mistral", 23.57, (40, 5120, 32, 8, 32768, 131072)),
    ],
)
def test_dense_models_the_configs_name_have_their_config_shapes(name: str, family: str, params_b: float, dims: tuple[int, ...]) -> None:
    m = lookup_model(name)
    assert m.known and m.family == family and (m.inferred is None) == (path_model_part(name) is None) and m.n_experts is None
    assert (m.n_layers, m.hidden, m.n_heads, m.n_kv_heads, m.intermediate, m.vocab) == dims
    assert m.params_b == pytest.approx(params_b, abs=0.01)
    assert shape_assumption(m) is None


@pytest.mark.parametrize(
    ("name", "family", "params_b", "active_b", "experts", "dims"),
    [
        # (layers, hidden, heads, KV heads, expert MLP width, vocabulary)
        (
            "axolotl-ai-co/Mistral-Small-4-119B-2603-BF16",
            "mistral4",
            118.97,
            6.63,
            (128, 4),
            (36, 4096, 32, 32, 2048, 131072),
        ),
        ("mistralai/Mistral-Small-4-119B-2603", "mistral4", 118.97, 6.63, (128, 4), (36, 4096, 32, 32, 2048, 131072)),
    ],
)
def test_moe_models_the_configs_name_have_their_config_shapes(
    name: str, family: str, params_b: float, active_b: float, experts: tuple[int, int], dims: tuple[int, ...]
) -> None:
    m = lookup_model(name)
    assert m.known and m.family == family and m.inferred is None
    assert (m.n_layers, m.hidden, m.n_heads, m.n_kv_heads, m.intermediate, m.vocab) == dims
    assert (m.n_experts, m.experts_per_token) == experts
    assert m.params_b == pytest.approx(params_b, abs=0.01)
    assert m.active_params_b == pytest.approx(active_b, abs=0.01)
    assert shape_assumption(m) is None


@pytest.mark.parametrize(
    ("name", "not_family"),
    [
        ("mistralai/Mistral-Small-3.1-24B-Instruct-2503", "mistral4"),  # a dense 24B
        ("mistralai/Mistral-Small-24B-Instruct-2501", "mistral4"),
        ("ibm-granite/granite-4.0-micro", "granitemoehybrid"),  # a dense Granite 4.0
        ("mistralai/Magistral-Small-2509", "mistral"),  # adds a vision tower
        ("mistralai/Magistral-Medium-2506", "mistral"),
        ("google/gemma-3n-E2B-it", "gemma3"),  # Gemma 3n, another architecture
        ("google/gemma-3-27m", "gemma3"),  # no such size: not the 270M
        ("Qwen/Qwen-14B-Chat", "qwen"),  # another size of Qwen v1
        ("Qwen/Qwen1.5-7B", "qwen"),
        ("mosaicml/mpt-30b", "mpt"),
        ("THUDM/GLM-4-9B-0414", "glm4"),
        ("THUDM/GLM-Z1-32B-0414", "glm4"),
    ],
)
def test_near_names_do_not_take_those_rows(name: str, not_family: str) -> None:
    assert lookup_model(name).family != not_family


@pytest.mark.parametrize(
    ("name", "row"),
    [("mosaicml/mpt-7b-8k", "mpt-7b"), ("01-ai/Yi-1.5-34B-Chat", "yi-34b")],  # their own configs are not cited
)
def test_uncited_variants_are_only_inferred_from_a_row(name: str, row: str) -> None:
    m = lookup_model(name)
    assert m.inferred is not None and row in m.inferred


@pytest.mark.parametrize("name", ["ibm-granite/granite-4.0-tiny-preview", "ibm-granite/granite-4.0-tiny-base-preview"])
def test_granite_4_tiny_preview_stays_unknown_naming_its_hybrid_layers(name: str) -> None:
    m = lookup_model(name)
    assert not m.known and m.family == "granitemoehybrid" and m.n_layers is None
    why = shape_assumption(m)
    assert why is not None and "Mamba-2 state-space" in why and "cannot express" in why and "None" not in why


_LF = (
    "stage: sft\ndo_train: true\nfinetuning_type: lora\nper_device_train_batch_size: 2\ngradient_accumulation_steps: 4\n"
    "cutoff_len: 2048\nbf16: true\ndataset: alpaca_en_demo\noutput_dir: out\n"
)


def test_a_config_naming_mistral_small_4_gets_its_moe_shape(tmp_path: Path) -> None:
    path = tmp_path / "train.yaml"
    path.write_text("model_name_or_path: mistralai/Mistral-Small-4-119B-2603\n" + _LF)
    w = load_config(path).workload
    assert w.model.known and w.model.n_experts == 128 and w.model.params_b == pytest.approx(118.97, abs=0.01)
    assert not any("size unknown" in n or "not in the shape table" in n for n in w.notes)
