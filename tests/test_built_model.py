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


# An earlier stage's launch line writes the folder (review11a row 16, review11b row 37: InstellaVL's instruction
# tuning loads the folder its pretraining.sh passes as `--output_dir "${CKPT_DIR}/${MID_RUN_NAME}"`).


def _stage(tmp_path: Path, base: str, out: str, name: str = "stage1.sh") -> Path:
    path = tmp_path / "scripts" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/bash\ntorchrun --nproc_per_node=8 train.py \\\n  --model_name_or_path {base} \\\n  --output_dir {out} \\\n  --bf16 True\n")
    (tmp_path / "train.py").write_text("print('train')\n")
    return path


def test_a_folder_an_earlier_stages_launch_line_writes_has_its_base_models_shape(tmp_path: Path) -> None:
    train = _repo(tmp_path, "checkpoints/stage1")
    _stage(tmp_path, "Qwen/Qwen2.5-7B", "checkpoints/stage1")
    w = load_config(train).workload
    assert w.model.known and w.model.family == "qwen2" and w.model.n_layers == 28
    said = "shape of Qwen/Qwen2.5-7B, the base model of scripts/stage1.sh line 2, which writes checkpoints/stage1 (`--output_dir`)"
    assert w.model.inferred is not None and w.model.inferred.startswith(said)
    assert not any("size unknown" in n for n in w.notes)


def test_a_bare_name_is_the_last_part_of_a_folder_under_a_run_time_variable(tmp_path: Path) -> None:
    train = _repo(tmp_path, "vlm-olmo-1b-pretrain")
    _stage(tmp_path, "Qwen/Qwen2.5-7B", '"${CKPT_DIR}/vlm-olmo-1b-pretrain"')
    w = load_config(train).workload
    assert w.model.family == "qwen2"
    assert w.model.inferred is not None and "--output_dir ${CKPT_DIR}/vlm-olmo-1b-pretrain, whose last part it names" in w.model.inferred


def test_no_launch_line_writes_it_or_the_match_is_too_loose_the_model_stays_unknown(tmp_path: Path) -> None:
    train = _repo(tmp_path, "checkpoints/stage1")
    _stage(tmp_path, "Qwen/Qwen2.5-7B", "checkpoints/other")  # another folder
    _stage(tmp_path, "$BASE", "checkpoints/stage1", "unset.sh")  # a base set at run time names none
    assert not load_config(train).workload.model.known
    short = tmp_path / "short"
    short.mkdir()
    train = _repo(short, "run1")  # a short bare name is not matched to `${CKPT_DIR}/run1`
    _stage(short, "Qwen/Qwen2.5-7B", "${CKPT_DIR}/run1")
    assert not load_config(train).workload.model.known
    fixed = tmp_path / "fixed"
    fixed.mkdir()
    train = _repo(fixed, "vlm-olmo-1b-pretrain")  # the folder's parent is no variable: a bare name is another folder
    _stage(fixed, "Qwen/Qwen2.5-7B", "/data/ckpt/vlm-olmo-1b-pretrain")
    assert not load_config(train).workload.model.known


def test_a_folder_written_from_an_unknown_model_stays_unknown_and_says_so(tmp_path: Path) -> None:
    train = _repo(tmp_path, "checkpoints/stage1")
    _stage(tmp_path, "acme/mystery-lm", "checkpoints/stage1")
    w = load_config(train).workload
    assert not w.model.known and w.model.inferred is None
    said = "model checkpoints/stage1: the folder scripts/stage1.sh line 2 writes (`--output_dir`), trained from acme/mystery-lm, whose shape goblin does not know either"
    assert said in w.notes
