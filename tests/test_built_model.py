"""A model the repository builds itself (issue 23; review10a row 10).

`model_name_or_path: models/GL-X` is a folder the repository's own LLaMA-Factory export config writes
(`export_dir: models/GL-X` from `model_name_or_path: models/llama3_8b` and an adapter): its shape is that base
model's, labelled with the config and line. Two writers of different bases name none; a config that only
predicts writes no model.
"""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.formats import load_config
from pytest_goblin.formats.built_model import writers

from .test_model_shapes import _empty_hf_cache  # noqa: F401  (autouse: no HF cache answers for a name)

_TRAIN = """model_name_or_path: {model}
stage: sft
do_train: true
finetuning_type: lora
lora_target: all
dataset: alpaca_en_demo
template: empty
cutoff_len: 1024
output_dir: outputs/SL-X
per_device_train_batch_size: 2
gradient_accumulation_steps: 1
learning_rate: 1.0e-4
bf16: true
"""


def _repo(tmp_path: Path, model: str = "models/GL-X") -> Path:
    (tmp_path / ".git").mkdir()
    train = tmp_path / "config" / "specific" / "train.yaml"
    train.parent.mkdir(parents=True)
    train.write_text(_TRAIN.format(model=model))
    return train


def _merge(tmp_path: Path, name: str, base: str, export: str = "models/GL-X") -> None:
    path = tmp_path / "config" / "merge" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"### model\nmodel_name_or_path: {base}\nadapter_name_or_path: outputs/GL-X\ntemplate: empty\nfinetuning_type: lora\n\n"
        f"### export\nexport_dir: {export}\nexport_size: 5\n"
    )


def test_a_folder_the_repositorys_export_config_writes_has_its_base_models_shape(tmp_path: Path) -> None:
    train = _repo(tmp_path)
    _merge(tmp_path, "GL-X.yaml", "models/llama3_8b")
    w = load_config(train).workload
    assert w.model.known and w.model.family == "llama3" and w.model.n_layers == 32
    said = "shape of models/llama3_8b, the base model of config/merge/GL-X.yaml line 2, which writes models/GL-X (`export_dir`)"
    assert w.model.inferred is not None and w.model.inferred.startswith(said)
    assert any(n.startswith(f"model models/GL-X: {said}") for n in w.notes)
    assert not any("size unknown" in n for n in w.notes)


def test_an_axolotl_merge_and_a_checkpoint_folder_are_followed_too(tmp_path: Path) -> None:
    train = _repo(tmp_path, "./out/qlora-run/merged")
    axolotl = tmp_path / "axolotl" / "qlora.yml"
    axolotl.parent.mkdir()
    axolotl.write_text("base_model: Qwen/Qwen2.5-7B\nadapter: qlora\noutput_dir: ./out/qlora-run\nmicro_batch_size: 1\n")
    w = load_config(train).workload
    assert w.model.family == "qwen2" and w.model.n_layers == 28
    assert w.model.inferred is not None and "the base model of axolotl/qlora.yml line 1, which writes ./out/qlora-run/merged (`output_dir`)" in w.model.inferred


def test_a_built_base_is_followed_one_hop_further(tmp_path: Path) -> None:
    train = _repo(tmp_path)
    _merge(tmp_path, "GL-X.yaml", "models/stage1")
    stage1 = tmp_path / "config" / "stage1.yaml"
    stage1.write_text("model_name_or_path: meta-llama/Meta-Llama-3-8B\nstage: sft\ndo_train: true\nfinetuning_type: full\noutput_dir: models/stage1\n")
    w = load_config(train).workload
    assert w.model.family == "llama3"
    assert w.model.inferred is not None and "meta-llama/Meta-Llama-3-8B, the base model of config/stage1.yaml line 1" in w.model.inferred


def test_two_writers_of_different_bases_name_none(tmp_path: Path) -> None:
    train = _repo(tmp_path)
    _merge(tmp_path, "a.yaml", "models/llama3_8b")
    _merge(tmp_path, "b.yaml", "Qwen/Qwen2.5-7B")
    w = load_config(train).workload
    assert not w.model.known
    assert any("2 configs of the repository write it from different base models" in n and "none is taken" in n for n in w.notes)
    assert any("size unknown" in n for n in w.notes)


def test_no_writer_a_predict_config_or_another_folder_leaves_the_model_unknown(tmp_path: Path) -> None:
    train = _repo(tmp_path)
    _merge(tmp_path, "other.yaml", "models/llama3_8b", export="models/GL-Y")  # writes another folder
    predict = tmp_path / "config" / "predict.yaml"  # predicts into the folder's name: writes no model
    predict.write_text("model_name_or_path: models/llama3_8b\ndo_predict: true\noutput_dir: models/GL-X\n")
    values = tmp_path / "values.yaml"  # names the folder but writes nothing
    values.write_text("model: models/GL-X\nexport_dir_note: models/GL-X\n")
    assert writers("models/GL-X", train) == []
    w = load_config(train).workload
    assert not w.model.known and w.model.inferred is None
    assert any(n.startswith("model models/GL-X: size unknown") for n in w.notes)


def test_the_config_itself_is_not_its_own_writer(tmp_path: Path) -> None:
    """A config that loads and writes the same folder (continued training) names no base by itself."""
    train = _repo(tmp_path, "outputs/SL-X")
    assert writers("outputs/SL-X", train) == []
    assert not load_config(train).workload.model.known
