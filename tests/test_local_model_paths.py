"""Local model paths and placeholder paths (issue 23; review9b rows 29, 34, 37).

A local path no config.json was read from is sized by the model its last part names (the part before where
the last names only what the folder holds: `hf`, `final`, `checkpoint-500`), said as assumed; a placeholder
(`/path/to/model`, `<your_model_path>`) names no model and the message says so.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_goblin.formats import load_config
from pytest_goblin.modelzoo import lookup_model, lookup_model_noted, path_model_part, placeholder, shape_assumption

from .repo_files import write_tree
from .test_model_shapes import _empty_hf_cache  # noqa: F401  (autouse: no HF cache answers for a name)


def _trainer_yaml(tmp_path: Path, model: str) -> Path:
    text = f"model_name_or_path: '{model}'\nper_device_train_batch_size: 2\nlearning_rate: 2.0e-5\nbf16: true\noutput_dir: out\n"
    return write_tree(tmp_path, {"sft.yaml": text}, git=True) / "sft.yaml"


@pytest.mark.parametrize(
    ("model", "family", "layers", "named"),
    [
        ("~/vicuna-7b-v1.5-16k", "llama2", 32, "llama-2-7b"),  # FastChat's training scripts
        ("/data/models/Llama-2-7b-hf", "llama2", 32, "llama-2-7b"),
        ("./checkpoints/Qwen2-7B-Instruct", "qwen2", 28, "qwen2-7b"),
        ("../pretrained/llama3-8b-instruct/", "llama3", 32, "llama3-8b"),
        ("/data/llama-2-13b/hf", "llama2", 40, "llama-2-13b"),  # a generic last part: the part before names the model
        ("/ckpt/Qwen2-7B/checkpoint-500", "qwen2", 28, "qwen2-7b"),
        ("path/to/Llama-3-8B", "llama3", 32, "llama-3-8b"),  # a placeholder folder, but the last part names the model
    ],
)
def test_a_local_path_is_sized_by_the_model_its_name_names(tmp_path: Path, model: str, family: str, layers: int, named: str) -> None:
    w = load_config(_trainer_yaml(tmp_path, model)).workload
    assert w.model.known and w.model.family == family and w.model.n_layers == layers
    said = f"shape of {named}, from the path's name {model}; the folder was not read"
    assert w.model.inferred == said
    assert any(n.startswith(f"model {model}: {said}: that model's layers") for n in w.notes)


def test_a_folder_above_naming_another_model_is_not_taken(tmp_path: Path) -> None:
    """The last part names the model; a model-named folder above it is where it was kept, not what it is."""
    w = load_config(_trainer_yaml(tmp_path, "/models/llama-2-7b/Qwen2-1.5B")).workload
    assert w.model.family == "qwen2" and w.model.params_b == pytest.approx(1.54, abs=0.01)
    unnamed = load_config(_trainer_yaml(tmp_path, "/data/llama-2-7b/my-sft")).workload  # the last part names no model
    assert not unnamed.model.known and unnamed.model.family != "llama2"
    assert shape_assumption(unnamed.model) == "model /data/llama-2-7b/my-sft: size unknown, 7B assumed"


def test_a_readable_local_config_json_wins_over_the_name(tmp_path: Path) -> None:
    folder = tmp_path / "ckpt" / "vicuna-7b-v1.5"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(
        json.dumps({"model_type": "llama", "num_hidden_layers": 3, "hidden_size": 64, "num_attention_heads": 4, "intermediate_size": 128, "vocab_size": 100})
    )
    w = load_config(_trainer_yaml(tmp_path, "./ckpt/vicuna-7b-v1.5")).workload
    assert w.model.known and w.model.n_layers == 3 and w.model.inferred is None
    assert not any("from the path's name" in n for n in w.notes)


def test_a_hub_id_is_no_local_path() -> None:
    assert path_model_part("meta-llama/Llama-2-7b-hf") is None and path_model_part("Qwen2-7B") is None
    assert lookup_model("meta-llama/Llama-2-7b-hf").inferred is None
    cache = "/home/u/.cache/huggingface/hub/models--meta-llama--Llama-2-7b-hf/snapshots/0123abcd"
    assert path_model_part(cache) == "models--meta-llama--Llama-2-7b-hf"


def test_vicuna_v1_5_is_llama_2_and_older_vicuna_is_not() -> None:
    """lmsys/vicuna-7b-v1.5 model card README.md:15,36 (copy in bgorlick/getai @6b7200996b2c): fine-tuned from Llama 2."""
    for name, layers in (("lmsys/vicuna-7b-v1.5", 32), ("lmsys/vicuna-13b-v1.5-16k", 40)):
        m = lookup_model(name)
        assert m.known and m.family == "llama2" and m.n_layers == layers
    old = lookup_model("lmsys/vicuna-7b-v1.3")  # LLaMA 1: no row, sized from its name only
    assert not old.known and old.family != "llama2" and old.params_b == 7.0


@pytest.mark.parametrize(
    "model",
    ["/path/to/model", "<your_model_path>", "YOUR_MODEL_PATH", "${MODEL_PATH}", "xxx", "/workspace/models/MODEL_NAME"],
)
def test_a_placeholder_names_no_model_and_says_so(tmp_path: Path, model: str) -> None:
    shape, unread = lookup_model_noted(model, tmp_path)
    assert placeholder(model) and not shape.known and shape.params_b is None and unread is None
    assert shape_assumption(shape) == f"model {model}: a placeholder, not a model: the model is unknown, 7B assumed"
    w = load_config(_trainer_yaml(tmp_path, model)).workload
    said = f"model {model}: the config names a placeholder, not a model: the model is unknown; the projection assumes 7B parameters"
    assert said in w.notes
    assert not any("was not read" in n or "size unknown (not in the shape table" in n for n in w.notes)


@pytest.mark.parametrize("model", ["acme/Widget", "./my_model_dir", "/data/models/sft-run", "modelscope/xxx-like"])
def test_a_name_that_is_no_placeholder_keeps_the_plain_unknown(tmp_path: Path, model: str) -> None:
    assert not placeholder(model)
    w = load_config(_trainer_yaml(tmp_path, model)).workload
    assert not any("placeholder" in n for n in w.notes)
    assert any(n.startswith(f"model {model}: size unknown (not in the shape table") for n in w.notes)


def test_path_patterns_stay_linear_on_large_inputs() -> None:
    big = "a/" * 200_000 + "x" * 200_000
    assert path_model_part(big) is not None
    assert not placeholder("p" * 400_000 + "/")


def _readme_repo(tmp_path: Path, readme: str, model: str = "/path/to/model") -> Path:
    files = {
        "configs/sft.yaml": f"model_name_or_path: '{model}'\nper_device_train_batch_size: 2\nlearning_rate: 2.0e-5\nbf16: true\noutput_dir: out\n",
        "README.md": readme,
    }
    return write_tree(tmp_path, files, git=True) / "configs" / "sft.yaml"


_BLOCK = "# Demo\n\nTrain:\n\n```bash\ntorchrun --nproc_per_node 8 train.py {config} \\\n  --model_name_or_path {model}\n```\n"


def test_a_placeholder_takes_the_model_a_readme_block_launches_the_config_with(tmp_path: Path) -> None:
    w = load_config(_readme_repo(tmp_path, _BLOCK.format(config="configs/sft.yaml", model="Qwen/Qwen2-7B-Instruct"))).workload
    assert w.model.known and w.model.family == "qwen2" and w.model.n_layers == 28
    said = "shape of Qwen/Qwen2-7B-Instruct (the model README.md:7 launches this config with; the config names the placeholder /path/to/model)"
    assert w.model.inferred == said and any(n.startswith(f"model /path/to/model: {said}") for n in w.notes)


@pytest.mark.parametrize(
    "readme",
    [
        _BLOCK.format(config="configs/other.yaml", model="Qwen/Qwen2-7B-Instruct"),  # the block launches another config
        _BLOCK.format(config="configs/sft.yaml", model="$MODEL"),  # a variable: no model named
        _BLOCK.format(config="configs/sft.yaml", model="Qwen/Qwen2-7B-Instruct")
        + _BLOCK.format(config="configs/sft.yaml", model="meta-llama/Llama-2-13b-hf"),  # two models: neither is the one
        "Run `train.py configs/sft.yaml --model_name_or_path Qwen/Qwen2-7B-Instruct` (prose, no code block)\n",
    ],
)
def test_a_readme_naming_no_one_model_for_the_config_leaves_the_placeholder(tmp_path: Path, readme: str) -> None:
    w = load_config(_readme_repo(tmp_path, readme)).workload
    assert not w.model.known and w.model.inferred is None
    assert "model /path/to/model: the config names a placeholder, not a model: the model is unknown; the projection assumes 7B parameters" in w.notes


def test_a_named_model_is_not_replaced_by_the_readme(tmp_path: Path) -> None:
    """The README counts for a placeholder only: a config that names its model keeps it."""
    w = load_config(_readme_repo(tmp_path, _BLOCK.format(config="configs/sft.yaml", model="Qwen/Qwen2-7B-Instruct"), "meta-llama/Llama-2-13b-hf")).workload
    assert w.model.family == "llama2" and w.model.n_layers == 40 and w.model.inferred is None
