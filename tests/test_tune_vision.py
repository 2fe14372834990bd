"""A torchtune Llama 3.2 Vision recipe is priced with its image (review12a #6/#7: AMD's 11B/90B Vision LoRA/QLoRA on one
MI300X priced as a text decoder at max_seq_len tokens, the image not at all).

Facts from torchtune @20bdf10 (formats/tune_vision.py): 4 tiles of (image_size/14)^2 patches + 1 CLS token per image,
through 32 CLIP + 8 projection layers of width 1280 (MLP 4x), then one cross-attention layer every 4 decoder layers
projecting them to keys and values; images add one `<|image|>` token to the text; a frozen encoder keeps nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_goblin import costmodel
from pytest_goblin.formats import load_config
from pytest_goblin.hardware import hardware_table
from pytest_goblin.modelzoo import lookup_model
from pytest_goblin.service import audit_file
from pytest_goblin.settings import Settings

from .repo_files import fresh_root, write_tree

VISION = """\
# tune run lora_finetune_single_device --config recipe.yaml
model:
  _component_: torchtune.models.llama3_2_vision.{builder}
{model_keys}
tokenizer:
  _component_: torchtune.models.llama3_2_vision.llama3_2_vision_transform
  path: /models/tokenizer.model
  image_size: {image_size}
  max_seq_len: 1024
checkpointer:
  _component_: torchtune.training.FullModelHFCheckpointer
  checkpoint_dir: /models/
  checkpoint_files: [model.safetensors]
  output_dir: /tmp/out
  model_type: LLAMA3_VISION
dataset:
  _component_: torchtune.datasets.multimodal.vqa_dataset
  source: chartqa/
  column_map: {{"input": "query", "image": "image", "output": "label"}}
collate_fn: torchtune.data.padded_collate_tiled_images_and_mask
batch_size: 4
epochs: 1
gradient_accumulation_steps: 1
optimizer:
  _component_: torch.optim.AdamW
  lr: 1e-4
  fused: True
loss:
  _component_: torchtune.modules.loss.LinearCrossEntropyLoss
device: cuda
enable_activation_checkpointing: {ac}
dtype: bf16
"""
LORA_KEYS = '  decoder_trainable: "frozen"\n  encoder_trainable: "{encoder}"\n  fusion_trainable: "lora"\n  lora_attn_modules: [q_proj, v_proj]\n  lora_rank: 8\n  lora_alpha: 16'


def _config(
    tmp_path: Path, *, builder: str = "lora_llama3_2_vision_11b", encoder: str = "lora", image_size: int = 560, ac: str = "True", keys: str | None = None
) -> Path:
    model_keys = LORA_KEYS.format(encoder=encoder) if keys is None else keys
    text = VISION.format(builder=builder, model_keys=model_keys, image_size=image_size, ac=ac)
    root = write_tree(fresh_root(tmp_path), {"recipe.yaml": text}, git=True)
    return root / "recipe.yaml"


def test_the_image_goes_through_the_vision_encoder_not_the_text(tmp_path: Path) -> None:
    w = load_config(_config(tmp_path)).workload
    v = w.vision
    assert v is not None
    assert v.tokens_per_image == 4 * (40 * 40 + 1) == 6404  # 560 / 14 = 40 patches a side, one CLS per tile
    assert (v.layers, v.hidden, v.intermediate, v.fusion_layers, v.kv_dim, v.method) == (40, 1280, 5120, 8, 1024, "lora")
    assert "_model_builders.py" in v.source and "@20bdf10" in v.source
    assert w.seq_len == 1024  # the text stays the transform's max_seq_len: the image adds no tokens to it
    note = next(n for n in w.notes if n.startswith("vision encoder priced"))
    assert "6404 tokens per image" in note and "padded to the batch's longest sample" in note
    # the image costs memory and time beside the text
    text_only = w.model_copy(update={"vision": None})
    assert costmodel.memory_gb(w) > costmodel.memory_gb(text_only) + 1.0
    hw = hardware_table()["mi300x"]
    assert costmodel.step(w, hw).step_s > costmodel.step(text_only, hw).step_s
    assert "4 x 6404 image tokens through the vision encoder" in costmodel.length_phrase(w)
    # the tile size is the transform's: 224 / 14 = 16 patches a side
    assert load_config(_config(tmp_path, image_size=224)).workload.vision.tokens_per_image == 4 * (16 * 16 + 1)  # type: ignore[union-attr]
    # the 90B decoder has 80 layers: 20 cross-attention layers
    big = load_config(_config(tmp_path, builder="qlora_llama3_2_vision_90b")).workload.vision
    assert big is not None and (big.fusion_layers, big.decoder_hidden) == (20, 8192)


def test_a_frozen_encoder_keeps_no_activations_and_checkpointing_keeps_fewer(tmp_path: Path) -> None:
    lora = load_config(_config(tmp_path)).workload
    frozen = load_config(_config(tmp_path, encoder="frozen")).workload
    assert frozen.vision is not None and not frozen.vision.trains
    assert costmodel.vision_activation_bytes(frozen) < costmodel.vision_activation_bytes(lora) / 3
    off = load_config(_config(tmp_path, ac="False")).workload
    assert costmodel.vision_activation_bytes(off) > 2 * costmodel.vision_activation_bytes(lora)
    # a full builder's encoder trains by default (encoder_trainable: bool = True)
    full = load_config(_config(tmp_path, builder="llama3_2_vision_11b", keys="  image_size: 560")).workload
    assert full.vision is not None and full.vision.method == "full"


def test_a_text_model_has_no_vision_encoder(tmp_path: Path) -> None:
    # must-not: a text-only builder, and the message says no image tokens
    path = _config(tmp_path, builder="lora_llama3_1_8b", keys="  lora_attn_modules: [q_proj, v_proj]\n  lora_rank: 8\n  lora_alpha: 16")
    w = load_config(path).workload
    assert w.vision is None
    assert not any(n.startswith("vision encoder priced") for n in w.notes)
    assert "image tokens" not in costmodel.length_phrase(w)
    assert costmodel.vision_activation_bytes(w) == 0.0


def test_the_audit_message_prices_the_image_beside_the_text(tmp_path: Path) -> None:
    path = _config(tmp_path)
    result = audit_file(path, Settings(runner="projection", target="mi300x"), shown_as=path.name)
    assert result.report is not None, result.error
    text = " ".join([result.report.reason, *result.report.notes])
    assert "None" not in result.report.reason
    assert "vision encoder priced beside the text" in text


def test_the_text_of_image_rows_is_measured_apart_from_the_images(tmp_path: Path) -> None:
    row = {"query": "What is the value of the blue bar?", "image": "charts/{i}.png", "label": "The blue bar reads {i}."}
    rows = "\n".join(json.dumps({k: v.format(i=i) for k, v in row.items()}) for i in range(40))
    text = VISION.format(builder="lora_llama3_2_vision_11b", model_keys=LORA_KEYS.format(encoder="lora"), image_size=560, ac="True")
    text = text.replace("  source: chartqa/\n", "  source: json\n  data_files: chartqa.jsonl\n")
    root = write_tree(fresh_root(tmp_path), {"recipe.yaml": text, "chartqa.jsonl": rows}, git=True)
    w = load_config(root / "recipe.yaml").workload
    assert w.token_quantiles is not None and w.token_quantiles[-1] < 40  # a short question and answer, not 1024 tokens
    note = w.sources["token_lengths"].note or ""
    assert "fields query, label" in note and "one `<|image|>` token" in note and "charts/" not in note
    # must-not: a text model's rows with images are not measured as text (their image tokens would be in it)
    plain = text.replace("lora_llama3_2_vision_11b", "lora_llama3_1_8b").replace(
        LORA_KEYS.format(encoder="lora"), "  lora_attn_modules: [q_proj, v_proj]\n  lora_rank: 8\n  lora_alpha: 16"
    )
    other = write_tree(fresh_root(tmp_path), {"recipe.yaml": plain, "chartqa.jsonl": rows}, git=True)
    t = load_config(other / "recipe.yaml").workload
    assert t.token_quantiles is None and "carry images" in (t.sources["token_lengths"].note or "")


def test_a_full_builder_with_its_decoder_frozen_prices_a_frozen_decoder(tmp_path: Path) -> None:
    # torchtune@20bdf10 _model_builders.py:67-70: llama3_2_vision_11b(decoder_trainable: bool = False, ...); DeepFusionModel
    # gives requires_grad to the encoder and fusion parameters only (_deep_fusion.py:82-95)
    keys = "  decoder_trainable: False\n  encoder_trainable: True\n  fusion_trainable: True\n  image_size: 560"
    w = load_config(_config(tmp_path, builder="llama3_2_vision_11b", keys=keys)).workload
    assert w.method == "full" and w.frozen_language_model
    src = w.sources["frozen_language_model"]
    assert src.key == "model.decoder_trainable" and src.line == 4 and src.explicit
    assert "`decoder_trainable: False`" in (src.note or "") and "_deep_fusion.py:82-95" in (src.note or "")
    # unset: the builder's default False
    unset = load_config(_config(tmp_path, builder="llama3_2_vision_11b", keys="  image_size: 560")).workload
    assert unset.frozen_language_model and "default False" in (unset.sources["frozen_language_model"].note or "")
    # no gradients or optimizer state for the 10.64B: far less memory than a decoder that trains
    trained = load_config(_config(tmp_path, builder="llama3_2_vision_11b", keys=keys.replace("decoder_trainable: False", "decoder_trainable: True"))).workload
    assert not trained.frozen_language_model  # must-not: the decoder trains
    assert costmodel.memory_gb(w) < costmodel.memory_gb(trained) - 50
    # must-not: a LoRA builder's frozen decoder is the LoRA's base already
    lora = load_config(_config(tmp_path)).workload
    assert lora.method == "lora" and not lora.frozen_language_model


def test_text_tokens_do_not_pass_through_the_vision_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the Llama 3.2 Vision rows split their vision part (0.87B of 10.64B; 0.90B of 88.57B): priced on the image tokens
    assert lookup_model("torchtune.models.llama3_2_vision.llama3_2_vision_11b").vision_params_b == 0.87
    assert lookup_model("meta-llama/Llama-3.2-90B-Vision-Instruct").vision_params_b == 0.90
    w = load_config(_config(tmp_path)).workload
    assert 0.8e9 < costmodel.vision_weights(w) < 0.95e9  # 40 layers of 1280 (MLP 5120), 7680 -> 4096, 8 x K/V 4096 -> 1024
    hw = hardware_table()["mi300x"]
    once = costmodel.step(w, hw).step_s
    text = load_config(_config(tmp_path, builder="lora_llama3_1_8b", keys="  lora_attn_modules: [q_proj, v_proj]\n  lora_rank: 8\n  lora_alpha: 16")).workload
    plain = costmodel.step(text, hw).step_s
    monkeypatch.setattr(costmodel, "vision_weights", lambda _w: 0.0)
    assert costmodel.step(w, hw).step_s > once  # the text through the vision weights too: the double count
    assert costmodel.step(text, hw).step_s == plain  # must-not: a text model has no vision weights to leave out
