"""The base model a repository's Markdown names for a local model folder it neither holds nor writes (review11a row 12:
PhysCoT's README.md:81 "**Base**: `stage1_merged_fixed` (Qwen2.5-VL-7B + 3 physics tokens)")."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.formats import load_config

from .test_model_shapes import _empty_hf_cache  # noqa: F401  (autouse: no HF cache answers for a name)

_TRAIN = """model_name_or_path: {model}
stage: sft
do_train: true
finetuning_type: full
dataset: alpaca_en_demo
template: qwen
cutoff_len: 1024
output_dir: saves/stage2
per_device_train_batch_size: 1
gradient_accumulation_steps: 2
learning_rate: 1.0e-5
bf16: true
"""


def _repo(tmp_path: Path, readme: str, model: str = "checkpoints/stage1_merged_fixed") -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "README.md").write_text(readme)
    config = tmp_path / "configs" / "stage2.yaml"
    config.parent.mkdir()
    config.write_text(_TRAIN.format(model=model))
    return config


def test_the_readme_names_the_folders_base_model(tmp_path: Path) -> None:
    config = _repo(tmp_path, "# X\n\n- **Config**: `configs/stage2.yaml`\n- **Base**: `stage1_merged_fixed` (Qwen2.5-7B + 3 special tokens)\n")
    w = load_config(config).workload
    assert w.model.known and w.model.family == "qwen2" and w.model.n_layers == 28
    said = "shape of Qwen2.5-7B, which README.md line 4 names as what stage1_merged_fixed holds; the folder is not in the checkout"
    assert w.model.inferred is not None and w.model.inferred.startswith(said)
    assert not any("size unknown" in n for n in w.notes)


def test_no_known_model_another_name_a_short_name_or_two_models_name_none(tmp_path: Path) -> None:
    unknown = tmp_path / "unknown"
    unknown.mkdir()
    config = _repo(unknown, "- **Base**: `stage1_merged_fixed` (our own 7B model)\n")  # no model in the table
    assert not load_config(config).workload.model.known
    other = tmp_path / "other"
    other.mkdir()
    config = _repo(other, "- **Base**: `stage0_merged_fixed` (Qwen2.5-7B)\n")  # another folder
    assert not load_config(config).workload.model.known
    short = tmp_path / "short"
    short.mkdir()
    config = _repo(short, "- **Base**: `base` (Qwen2.5-7B)\n", model="checkpoints/base")  # too common a name
    assert not load_config(config).workload.model.known
    hub = tmp_path / "hub"
    hub.mkdir()
    config = _repo(hub, "- `stage1_merged_fixed` (Qwen2.5-7B)\n", model="acme/stage1_merged_fixed")  # a Hub id, no folder
    assert not load_config(config).workload.model.known
    two = tmp_path / "two"
    two.mkdir()
    config = _repo(two, "- `stage1_merged_fixed` (Qwen2.5-7B)\n- `stage1_merged_fixed` (Meta-Llama-3-8B)\n")
    w = load_config(config).workload
    assert not w.model.known
    assert any("the repository's documents name 2 base models for stage1_merged_fixed" in n and "none is taken" in n for n in w.notes)
