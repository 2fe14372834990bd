"""Models goblin could not size (issue 23 class 6): the corpus, tests/data and review batch 4 name them.

Each row comes from the model's own config (a config.json copy, the module tree printed from the checkpoint, or
the builder that defines it); hybrid architectures the cost model cannot express stay unknown and say why.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.formats import load_config
from pytest_goblin.modelzoo import lookup_model, shape_assumption, unmodelled_architecture

from .test_model_shapes import _empty_hf_cache  # noqa: F401  (autouse: no HF cache answers for a name)


@pytest.mark.parametrize(
    ("name", "family", "params_b", "dims"),
    [
        # (layers, hidden, heads, KV heads, intermediate, vocabulary)
        ("openlm-research/open_llama_3b_v2", "llama", 3.43, (26, 3200, 32, 32, 8640, 32000)),
        ("openlm-research/open_llama_3b", "llama", 3.43, (26, 3200, 32, 32, 8640, 32000)),
        ("tiiuae/falcon-7b", "falcon", 6.92, (32, 4544, 71, 1, 18176, 65024)),
        ("tiiuae/falcon-7b-instruct", "falcon", 6.92, (32, 4544, 71, 1, 18176, 65024)),
        ("Qwen/Qwen2-VL-7B-Instruct", "qwen2-vl", 8.29, (28, 3584, 28, 4, 18944, 152064)),
        ("Qwen/Qwen2.5-VL-7B-Instruct", "qwen2-vl", 8.29, (28, 3584, 28, 4, 18944, 152064)),
        ("meta-llama/Llama-3.2-90B-Vision-Instruct", "mllama", 88.57, (100, 8192, 64, 8, 28672, 128256)),
        ("torchtune.models.llama3_2_vision.qlora_llama3_2_vision_90b", "mllama", 88.57, (100, 8192, 64, 8, 28672, 128256)),
        ("THUDM/glm-4-9b-chat", "glm", 9.40, (40, 4096, 32, 2, 13696, 151552)),
        ("THUDM/glm-4-9b-chat-hf", "glm", 9.40, (40, 4096, 32, 2, 13696, 151552)),
        # alignment-handbook's Zephyr recipe: full and QLoRA SFT of mistralai/Mistral-7B-v0.1
        ("alignment-handbook/zephyr-7b-sft-full", "mistral", 7.24, (32, 4096, 32, 8, 14336, 32000)),
        ("alignment-handbook/zephyr-7b-sft-qlora", "mistral", 7.24, (32, 4096, 32, 8, 14336, 32000)),
    ],
)
def test_models_the_configs_name_have_their_config_shapes(name: str, family: str, params_b: float, dims: tuple[int, ...]) -> None:
    m = lookup_model(name)
    assert m.known and m.family == family and m.inferred is None
    assert (m.n_layers, m.hidden, m.n_heads, m.n_kv_heads, m.intermediate, m.vocab) == dims
    assert m.params_b == pytest.approx(params_b, abs=0.01)
    assert shape_assumption(m) is None


@pytest.mark.parametrize(
    ("name", "not_family"),
    [
        ("openlm-research/open_llama_7b", "llama"),  # another size of the family
        ("openlm-research/open_llama_13b", "llama"),
        ("tiiuae/falcon-40b", "falcon"),
        ("tiiuae/falcon-mamba-7b", "falcon"),  # a state-space model of the same size
        ("tiiuae/Falcon3-7B-Instruct", "falcon"),  # a Llama-architecture generation
        ("Qwen/Qwen2.5-VL-32B-Instruct", "qwen2-vl"),  # the 3B has its own row since shape6
        ("Qwen/Qwen2.5-VL-72B-Instruct", "qwen2-vl"),
        ("Qwen/Qwen2-VL-2B-Instruct", "qwen2-vl"),
        ("torchtune.models.llama3_2_vision.llama3_2_vision_11b", "mllama-90b"),
        ("THUDM/glm-4-9b-chat-1m", "glm"),  # 4 KV heads, not the chat model's 2
        ("THUDM/GLM-4-32B-0414", "glm"),
    ],
)
def test_near_names_do_not_take_those_rows(name: str, not_family: str) -> None:
    m = lookup_model(name)
    if not_family == "mllama-90b":
        assert m.params_b == pytest.approx(10.64, abs=0.01)  # the 11B keeps its own row
    else:
        assert m.family != not_family


def test_zephyr_gemma_keeps_its_gemma_base() -> None:
    m = lookup_model("HuggingFaceH4/zephyr-7b-gemma-sft-v0.1")
    assert m.family == "gemma"


@pytest.mark.parametrize(
    ("name", "family", "params_b", "words"),
    [
        ("Qwen/Qwen3.5-35B-A3B", "qwen3.5", 35.0, "Gated DeltaNet linear-attention"),
        ("Qwen/Qwen3.5-2B", "qwen3.5", 2.0, "Gated DeltaNet linear-attention"),
        ("Qwen/Qwen3-Next-80B-A3B-Instruct", "qwen3-next", 80.0, "linear-attention"),
        ("tiiuae/Falcon-H1-1.5B-Deep-Base", "falcon-h1", 1.5, "Mamba-2 state-space"),
        ("ai21labs/Jamba-v0.1", "jamba", None, "Mamba state-space"),
        ("nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16", "nemotron-h", 30.0, "Mamba state-space"),
        ("moonshotai/Kimi-Linear-48B-A3B-Instruct", "kimi-linear", 48.0, "linear-attention"),
        ("LiquidAI/LFM2-8B-A1B", "lfm2", 8.0, "gated-convolution"),
    ],
)
def test_hybrid_architectures_stay_unknown_and_say_which(name: str, family: str, params_b: float | None, words: str) -> None:
    m = lookup_model(name)
    assert not m.known and m.family == family and m.n_layers is None
    assert m.params_b == params_b  # the name's total, never the "A3B" active share
    why = shape_assumption(m)
    assert why is not None and words in why and "cannot express" in why and "None" not in why


@pytest.mark.parametrize("name", ["Qwen/Qwen3-8B", "Qwen/Qwen3-30B-A3B", "tiiuae/falcon-7b", "LiquidAI-fan/llama-3-8b-lfm2x"])
def test_attention_models_are_not_called_hybrid(name: str) -> None:
    assert unmodelled_architecture(lookup_model(name)) is None


_LF = (
    "stage: sft\ndo_train: true\nfinetuning_type: lora\nper_device_train_batch_size: 2\ngradient_accumulation_steps: 4\n"
    "cutoff_len: 2048\nbf16: true\ndataset: alpaca_en_demo\noutput_dir: out\n"
)


def test_a_config_naming_a_new_row_gets_its_shape(tmp_path: Path) -> None:
    path = tmp_path / "train.yaml"
    path.write_text("model_name_or_path: Qwen/Qwen2.5-VL-7B-Instruct\n" + _LF)
    w = load_config(path).workload
    assert w.model.known and w.model.n_layers == 28 and w.model.params_b == pytest.approx(8.29, abs=0.01)
    assert not any("size unknown" in n or "not in the shape table" in n for n in w.notes)


def test_a_config_naming_a_hybrid_with_no_size_says_why_it_is_unknown(tmp_path: Path) -> None:
    path = tmp_path / "train.yaml"
    path.write_text("model_name_or_path: ai21labs/Jamba-v0.1\n" + _LF)
    notes = load_config(path).workload.notes
    said = [n for n in notes if "size unknown" in n]
    assert said and "Jamba interleaves Mamba state-space layers" in said[0] and "None" not in said[0]
    assert "not in the shape table" not in said[0]


def test_the_projection_note_names_the_hybrid_architecture(tmp_path: Path) -> None:
    from pytest_goblin.hardware import get_hardware
    from pytest_goblin.runners.projection import ProjectionRunner

    path = tmp_path / "train.yaml"
    path.write_text("model_name_or_path: Qwen/Qwen3.5-2B\n" + _LF)
    w = load_config(path).workload
    notes = ProjectionRunner().run(w, get_hardware("mi300x"), run_id="r", variant="baseline").notes
    said = [n for n in notes if "Qwen3.5-2B" in n]
    assert said and "Gated DeltaNet" in said[0] and "not in the shape table" not in said[0]
    path.write_text("model_name_or_path: acme/Foo-7B-SFT\n" + _LF)  # an unknown attention model keeps the old note
    notes = ProjectionRunner().run(load_config(path).workload, get_hardware("mi300x"), run_id="r", variant="baseline").notes
    assert any("not in the shape table" in n for n in notes)
