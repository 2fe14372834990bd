"""The vision encoder of a torchtune Llama 3.2 Vision recipe (review12a #6/#7: the 11B and 90B Vision LoRA/QLoRA
configs AMD ran on one MI300X were priced as a text decoder at `tokenizer.max_seq_len` tokens, the image not at all).

What a sample is, read from torchtune @20bdf10 (the commit the workshop installs; the same figures at v0.6.1):
- the text: the transform truncates the tokenized messages to `max_seq_len` (models/llama3_2_vision/_model_builders.py:24-
  61: default 8192, `tile_size=image_size`, `patch_size=14`, `max_num_tiles=4`), and an image is one `<|image|>` token
  of it; `padded_collate_tiled_images_and_mask` pads the text to the batch's longest sample and the tiles to the batch's
  most (data/_collate.py:275-306), so the text a micro-batch holds is at most max_seq_len per sample;
- the image: `max_num_tiles x (patches per tile + 1)` tokens, (tile/patch)^2 patches and one CLS token per tile
  (models/llama3_2_vision/_transform.py:103, modules/vision_transformer.py:227,257), attended all together
  (vision_transformer.py:378: `n_tiles * n_tokens` per image); a VQA row has one image (datasets/multimodal/_vqa.py);
- the encoder: CLIP with `clip_num_layers=32` layers of width `clip_embed_dim=1280`, 16 heads and an MLP of 4 x width
  (clip/_component_builders.py:125-135), then a projection head of `num_layers_projection=8` such layers and a linear map
  of the 5 hidden states `clip_hidden_states=[3, 7, 15, 23, 30]` plus the output (6 x 1280) to the decoder's width
  (llama3_2_vision/_component_builders.py:255-322; _model_builders.py:86-94 for 11B, 249-257 for 90B);
- the decoder: a cross-attention layer every `fusion_interval=4` of its `num_layers` (32 for 11B, 80 for 90B;
  _component_builders.py:184-236), `num_kv_heads=8` of head width embed_dim/num_heads (128): its keys and values are
  projections of the image tokens;
- what trains: `encoder_trainable` / `fusion_trainable` / `decoder_trainable` "frozen", "lora" or "full"
  (_model_builders.py:119-226); a frozen encoder builds no autograd graph for the image, so it keeps no activations;
  the full builders take bools, `decoder_trainable: bool = False` by default (_model_builders.py:67-70 for 11B, 230-233
  for 90B), and DeepFusionModel gives requires_grad only to the encoder's parameters (encoder_trainable), the decoder's
  (decoder_trainable) and the fusion parameters, the cross-attention layers and the fusion embedding (fusion_trainable;
  modules/model_fusion/_deep_fusion.py:82-95, _fusion_layers.py:138-145,236-241): a full builder whose decoder is left
  frozen trains its encoder and cross-attention layers only, over a frozen text decoder (`frozen_decoder`);
- activation checkpointing wraps every `TransformerSelfAttentionLayer` (recipes/lora_finetune_single_device.py:415-416),
  which the CLIP and projection layers are, not the cross-attention layers.
Read from the config's keys only; nothing imported or run."""

from __future__ import annotations

from typing import Any

from ..schemas import VisionTower

VERSION = "torchtune@20bdf10"
# (decoder width, decoder layers) of the builders, _model_builders.py:91-108 (11B), 254-271 (90B)
_DECODERS = {"11b": (4096, 32), "90b": (8192, 80)}
_BUILDERS = "llama3_2_vision_"
PATCH_SIZE = 14  # _model_builders.py:58 (the transform), 86 (the encoder)
MAX_NUM_TILES = 4  # _model_builders.py:59, 94
IMAGE_SIZE = 560  # the builders' and the transform's default, _model_builders.py:27,71
CLIP_LAYERS, PROJECTION_LAYERS, CLIP_WIDTH, CLIP_HEADS = 32, 8, 1280, 16  # _model_builders.py:87-92
HIDDEN_STATES = 5  # clip_hidden_states=[3, 7, 15, 23, 30], _model_builders.py:90
FUSION_INTERVAL, KV_HEADS, HEAD_DIM = 4, 8, 128  # _model_builders.py:100-103 (embed_dim 4096 / 32 heads)
SOURCE = (
    f"{VERSION} models/llama3_2_vision/_model_builders.py:24-108, _component_builders.py:255-322, _transform.py:103, "
    "modules/vision_transformer.py:227,257,378, data/_collate.py:275-306"
)


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else default


FROZEN_DECODER_AT = f"{VERSION} models/llama3_2_vision/_model_builders.py:67-70,230-233, modules/model_fusion/_deep_fusion.py:82-95"


def frozen_decoder(data: dict[str, Any], written: str | None = None) -> str | None:
    """How a full Llama 3.2 Vision builder (`llama3_2_vision_11b` / `_90b`, not a LoRA one) leaves its text decoder frozen:
    `decoder_trainable` false or unset (the builders' default False); None where the decoder trains or the builder is
    another; `written` is the value as the file writes it. The decoder is then priced as a frozen base (`WorkloadConfig.frozen_language_model`)."""
    model = data.get("model")
    if not isinstance(model, dict):
        return None
    builder = str(model.get("_component_", "")).rsplit(".", 1)[-1]
    if not builder.startswith(_BUILDERS) or builder.rsplit("_", 1)[-1] not in _DECODERS:
        return None
    value = model.get("decoder_trainable", False)
    if value is True or str(value).lower() in ("true", "full"):
        return None
    shown = written or (str(value).lower() if isinstance(value, bool) else str(value))
    said = f"`decoder_trainable: {shown}`" if "decoder_trainable" in model else "decoder_trainable unset (the builder's default False)"
    return f"{said}: {builder} trains its vision encoder and cross-attention layers over a frozen text decoder ({FROZEN_DECODER_AT})"


def vision_tower(data: dict[str, Any]) -> VisionTower | None:
    """The vision encoder a torchtune Llama 3.2 Vision builder (`model._component_`) runs, with the tiles its transform
    (`tokenizer._component_`) cuts an image into; None for any other model."""
    model = data.get("model")
    if not isinstance(model, dict):
        return None
    builder = str(model.get("_component_", "")).rsplit(".", 1)[-1]
    size = builder.rsplit("_", 1)[-1]
    if _BUILDERS not in builder or size not in _DECODERS:
        return None
    tokenizer = data.get("tokenizer")
    transform = tokenizer if isinstance(tokenizer, dict) else {}
    # the transform cuts tiles of its own image_size; the encoder's must match it (the configs say so)
    tile = _int(transform.get("image_size"), _int(model.get("image_size"), IMAGE_SIZE))
    patches = (tile // PATCH_SIZE) ** 2
    decoder_hidden, decoder_layers = _DECODERS[size]
    lora = builder.startswith(("lora_", "qlora_"))
    # a lora builder takes "frozen" / "lora" / "full" (default "lora"), the full builders a bool (default True)
    encoder = str(model.get("encoder_trainable", "lora" if lora else True)).lower()
    method = "frozen" if encoder in ("frozen", "false") else "lora" if encoder == "lora" else "full"
    return VisionTower(
        tokens_per_image=MAX_NUM_TILES * (patches + 1),
        layers=CLIP_LAYERS + PROJECTION_LAYERS,
        hidden=CLIP_WIDTH,
        heads=CLIP_HEADS,
        intermediate=4 * CLIP_WIDTH,
        projection_in=(HIDDEN_STATES + 1) * CLIP_WIDTH,
        decoder_hidden=decoder_hidden,
        fusion_layers=decoder_layers // FUSION_INTERVAL,
        kv_dim=KV_HEADS * HEAD_DIM,
        method=method,
        source=SOURCE,
    )
