"""A LLaMA-Factory Qwen2-VL / Qwen2.5-VL recipe prices its vision encoder beside the decoder (review12a #13: PC-Agent-E's
Qwen2.5-VL-72B full fine-tune priced as the decoder at cutoff_len, the encoder not at all).

Facts (formats/lf_vision.py): the image's merged tokens are in the cutoff_len sequence (mm_plugin.py:1474,1486@v0.9.3);
the encoder runs on the unmerged 14 x 14 patches, at most image_max_pixels / 196 (default 768 x 768 at 0.9.2-0.9.5), 4 to
a decoder token; Qwen2.5-VL's 32 blocks attend within 64-patch windows but 4; freeze_vision_tower (default true) keeps
no activations."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin import costmodel
from pytest_goblin.formats import load_config
from pytest_goblin.hardware import hardware_table

from .repo_files import fresh_root, write_tree

RECIPE = """\
model_name_or_path: {model}
{extra}stage: sft
do_train: true
finetuning_type: full
dataset: mllm_demo
template: {template}
cutoff_len: 4096
per_device_train_batch_size: 2
gradient_accumulation_steps: 4
learning_rate: 1.0e-5
bf16: true
output_dir: saves/out
"""


def _load(tmp_path: Path, *, model: str = "Qwen/Qwen2.5-VL-7B-Instruct", extra: str = "", template: str = "qwen2_vl"):  # type: ignore[no-untyped-def]
    root = write_tree(fresh_root(tmp_path), {"sft.yaml": RECIPE.format(model=model, extra=extra, template=template)}, git=True)
    return load_config(root / "sft.yaml").workload


def test_the_encoder_runs_on_the_unmerged_patches_frozen_by_default(tmp_path: Path) -> None:
    w = _load(tmp_path)
    v = w.vision
    assert v is not None
    assert v.tokens_per_image == 768 * 768 // 196 // 4 * 4 == 3008  # image_max_pixels default 768 x 768, 14 x 14 patches
    assert (v.layers, v.hidden, v.intermediate, v.mlp_matrices, v.merge, v.window, v.full_attention_layers) == (32, 1280, 3420, 3, 4, 64, 4)
    assert v.method == "frozen" and v.fusion_layers == 0 and v.decoder_hidden == 3584
    assert w.seq_len == 4096  # the decoder stays at cutoff_len: the merged image tokens are inside it
    note = next(n for n in w.notes if n.startswith("vision encoder priced"))
    assert "image_max_pixels unset (default 768 x 768" in note and "752 merged tokens" in note and "mm_plugin.py:223-226,1474,1486@v0.9.3" in note
    assert "None" not in note
    hw = hardware_table()["mi300x"]
    tiny = w.model_copy(update={"vision": v.model_copy(update={"tokens_per_image": 4})})
    assert costmodel.step(w, hw).step_s > costmodel.step(tiny, hw).step_s  # the encoder's forward over the patches costs time
    # the text tokens no longer pass through the vision tower's weights (0.68B of the 8.29B row): less than before
    text_only = w.model_copy(update={"vision": None})
    assert costmodel.step(tiny, hw).step_s < costmodel.step(text_only, hw).step_s
    # frozen: only the merged output is kept, no encoder activations
    assert costmodel.vision_activation_bytes(w) == 2 * 3008 * 3584 / 4 * 2
    # the config's own image_max_pixels
    big = _load(tmp_path, extra="image_max_pixels: 1000000\n").vision
    assert big is not None and big.tokens_per_image == 5100


def test_an_unfrozen_tower_keeps_its_activations_and_qwen2_vl_attends_the_whole_image(tmp_path: Path) -> None:
    frozen = _load(tmp_path)
    trained = _load(tmp_path, extra="freeze_vision_tower: false\n")
    assert trained.vision is not None and trained.vision.method == "full"
    assert costmodel.vision_activation_bytes(trained) > 20 * costmodel.vision_activation_bytes(frozen)
    hw = hardware_table()["mi300x"]
    assert costmodel.step(trained, hw).step_s > costmodel.step(frozen, hw).step_s
    # Qwen2-VL: every block over the whole image, an MLP of 4 x 1280 in two matrices
    old = _load(tmp_path, model="Qwen/Qwen2-VL-7B-Instruct").vision
    assert old is not None and (old.window, old.full_attention_layers, old.intermediate, old.mlp_matrices) == (None, None, 5120, 2)


def test_a_text_model_or_another_template_has_no_qwen_vision_encoder(tmp_path: Path) -> None:
    # must-not: a text model, and a vision model under a template whose plugin is not Qwen2VLPlugin
    text = _load(tmp_path, model="Qwen/Qwen2-7B-Instruct", template="qwen")
    assert text.vision is None and not any(n.startswith("vision encoder priced") for n in text.notes)
    assert _load(tmp_path, template="llava").vision is None
