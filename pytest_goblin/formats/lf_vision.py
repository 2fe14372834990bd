"""The vision encoder of a LLaMA-Factory Qwen2-VL / Qwen2.5-VL recipe (review12a #13: PC-Agent-E's Qwen2.5-VL-72B full
fine-tune was priced as its decoder at cutoff_len, the vision encoder not at all).

What a sample is, read from the sources at named versions:
- the text: LLaMA-Factory's Qwen2VLPlugin (the `qwen2_vl` template's) expands each image placeholder to
  `image_grid_thw.prod() // merge_size**2` image tokens before the sample is cut at cutoff_len (data/mm_plugin.py
  :1474,1486@v0.9.3), so the image's merged tokens are inside the decoder's cutoff_len sequence, priced there already;
- the image: resized to at most `image_max_pixels` pixels (BasePlugin._preprocess_image, mm_plugin.py:223-226@v0.9.3),
  default 768 x 768 at every release 0.9.2-0.9.5 (hparams/model_args.py:219-220@v0.9.2, :222-223@v0.9.3, :324-325@v0.9.4,
  :305-306@v0.9.5), `image_resolution` 512 x 512 at 0.9.1 (model_args.py:61-62@v0.9.1), then cut into 14 x 14 patches
  (`patch_size=14`, transformers 4.57.0 models/qwen2_vl/configuration_qwen2_vl.py:38, qwen2_5_vl/
  configuration_qwen2_5_vl.py:42): at most image_max_pixels / 196 patches, which the vision encoder runs on, merge_size^2 =
  4 of them (`spatial_merge_size=2`, :39 / :43) merged into one decoder token by the merger;
- the encoder: Qwen2-VL 32 blocks of width 1280, 16 heads, MLP 4 x 1280 of two matrices (configuration_qwen2_vl.py:31-36,
  modeling_qwen2_vl.py:271-279,409-412@4.57.0); Qwen2.5-VL 32 blocks of width 1280 (alibaba/Pai-Megatron-Patch
  megatron_patch/model/qwen2_5_vl/transformer_config.py:41-59@a098ca5acbde, as modelzoo's row), a gated MLP of 3420
  (3456 for the 72B, ibid. :87-102; configuration_qwen2_5_vl.py:39, modeling_qwen2_5_vl.py:53-59), attending within
  112-pixel windows (8 x 8 = 64 patches) but in its 4 `fullatt_block_indexes` blocks (configuration_qwen2_5_vl.py:46-48,
  modeling_qwen2_5_vl.py:314-315,369); the merger: 4 x 1280 -> 5120 -> the decoder's width (modeling_qwen2_vl.py:255-263,
  modeling_qwen2_5_vl.py:107-115);
- what trains: freeze_vision_tower (default true, hparams/finetuning_args.py:420-427@v0.9.2) leaves the blocks without
  gradients: frozen, the encoder's forward keeps no activations; unfrozen, a full fine-tune trains it.
One image per sample is assumed (the dataset is not read for it), said in the note. Read from the config's keys and the
model's shape only; nothing imported or run."""

from __future__ import annotations

import re
from typing import Any

from ..schemas import ModelShape, VisionTower, WorkloadConfig

PATCH, MERGE = 14, 4  # patch_size, spatial_merge_size ** 2
LAYERS, WIDTH, HEADS = 32, 1280, 16
WINDOW, FULL_LAYERS = 64, 4  # Qwen2.5-VL: (112 / 14)^2 patches per window; fullatt_block_indexes [7, 15, 23, 31]
DEFAULT_PIXELS = {"0.9.1": 512 * 512}  # image_resolution at 0.9.1; 768 * 768 from 0.9.2 (image_max_pixels)
NEWER_PIXELS = 768 * 768
TEMPLATES = ("qwen2_vl", "mimo_vl")  # the templates whose mm_plugin is Qwen2VLPlugin (data/template.py@v0.9.3)
SOURCE = (
    "llamafactory data/mm_plugin.py:223-226,1474,1486@v0.9.3, hparams/model_args.py:219-220@v0.9.2, :222-223@v0.9.3,"
    " :324-325@v0.9.4, :305-306@v0.9.5; transformers 4.57.0 models/qwen2_vl/configuration_qwen2_vl.py:31-40,"
    " qwen2_5_vl/configuration_qwen2_5_vl.py:36-48, modeling_qwen2_5_vl.py:53-59,107-115,369"
)
_VERSION = re.compile(r"^llamafactory (\d+)\.(\d+)\.(\d+)")


def _release(framework: str | None) -> tuple[int, int, int] | None:
    found = _VERSION.match(framework or "")
    return None if found is None else (int(found.group(1)), int(found.group(2)), int(found.group(3)))


def _pixels(data: dict[str, Any], release: tuple[int, int, int] | None) -> tuple[int, str] | None:
    """The largest image in pixels and how it was read: the config's image_max_pixels (image_resolution at 0.9.1), else
    the release's default; None below 0.9.1 (no such key read) or for an unreadable value."""
    key = "image_resolution" if release is not None and release < (0, 9, 2) else "image_max_pixels"
    value = data.get(key)
    if value is not None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            return None
        return int(value), f"`{key}: {value}`"
    if release is not None and release < (0, 9, 1):
        return None
    if release is not None and release < (0, 9, 2):
        return DEFAULT_PIXELS["0.9.1"], f"{key} unset (default 512 x 512 at llamafactory 0.9.1)"
    at = "its release" if release is not None else "every release 0.9.2-0.9.5"
    return NEWER_PIXELS, f"{key} unset (default 768 x 768 at {at})"


def vision_tower(w: WorkloadConfig, data: dict[str, Any]) -> VisionTower | None:
    """The Qwen2-VL / Qwen2.5-VL vision encoder a LLaMA-Factory recipe runs on each sample's image, or None (another
    model or template, a release or image size goblin does not read)."""
    shape: ModelShape = w.model
    if shape.family not in ("qwen2-vl", "qwen2-5-vl") or not shape.hidden:
        return None
    template = data.get("template")
    if template is not None and str(template) not in TEMPLATES:
        return None
    read = _pixels(data, _release(w.framework))
    if read is None:
        return None
    pixels, said = read
    patches = max(MERGE, pixels // (PATCH * PATCH) // MERGE * MERGE)
    # the merged tokens are inside cutoff_len: an image has at most seq_len x 4 patches
    patches = min(patches, max(MERGE, w.seq_len * MERGE))
    v25 = shape.family == "qwen2-5-vl" or re.search(r"qwen2[.-]5-vl", shape.name.lower()) is not None
    intermediate = (3456 if shape.hidden == 8192 else 3420) if v25 else 4 * WIDTH
    frozen = data.get("freeze_vision_tower", True)
    trains = frozen is False or str(frozen).lower() == "false"
    method = "frozen" if not trains else "full" if w.method == "full" else "lora"
    return VisionTower(
        tokens_per_image=patches,
        layers=LAYERS,
        hidden=WIDTH,
        heads=HEADS,
        intermediate=intermediate,
        projection_in=MERGE * WIDTH,
        projection_hidden=MERGE * WIDTH,
        decoder_hidden=shape.hidden,
        fusion_layers=0,
        kv_dim=0,
        method=method,
        source=SOURCE,
        mlp_matrices=3 if v25 else 2,
        merge=MERGE,
        window=WINDOW if v25 else None,
        full_attention_layers=FULL_LAYERS if v25 else None,
        images_note=f"{said}: at most {patches} patches per image; one image per sample assumed",
    )


def with_vision(w: WorkloadConfig, data: Any) -> WorkloadConfig:
    """`w` with its Qwen-VL vision encoder priced beside the decoder (`WorkloadConfig.vision`), said in a note."""
    tower = vision_tower(w, data) if isinstance(data, dict) else None
    if tower is None:
        return w
    state = "trains, so its activations are kept for backward" if tower.trains else "is frozen (freeze_vision_tower): forward only, no activations kept"
    windowed = f", {tower.layers - (tower.full_attention_layers or 0)} of them within {tower.window}-patch windows" if tower.window else ""
    note = (
        f"vision encoder priced beside the text: {tower.images_note}, through {tower.layers} encoder blocks of width"
        f" {tower.hidden}{windowed}, which {state}; the image's {tower.tokens_per_image // tower.merge} merged tokens are"
        f" inside the cutoff_len sequence ({tower.source})"
    )
    return w.model_copy(update={"vision": tower, "notes": [*w.notes, note]})
