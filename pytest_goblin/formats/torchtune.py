"""torchtune recipe configs (`_component_` builders).

Defaults: the recipes in https://github.com/pytorch/torchtune/tree/main/recipes read each key
with `cfg.get(key, default)`; `training.get_dtype(None)` is float32.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from ..errors import ConfigError
from ..frameworks import CITES, tables, torchtune_recipe, tune_run_named
from ..modelzoo import lookup_model, shape_from_dims
from ..schemas import FieldSource, ModelShape, WorkloadConfig
from ..yamlio import get_path
from .base import IN_LAUNCH_LINE, Adapter, Reader, apply_overrides, as_bool, elsewhere, non_negative, positive, shown_file
from .interpolation import resolve
from .semantics import PARALLEL_UNREAD, Implied, read_world_size

if TYPE_CHECKING:
    from ..frameworks.own_recipe import RecipeSharding

DOCS = "https://github.com/pytorch/torchtune/tree/main/recipes"
# goblin field -> the top-level key a recipe reads for it (frameworks/key_history.json, recipe:<name>)
RECIPE_KEYS = {
    "torch_compile": "compile",
    "activation_offloading": "enable_activation_offloading",
    "cpu_offload": "fsdp_cpu_offload",
    "gradient_checkpointing": "enable_activation_checkpointing",
}
_DTYPES = {"bf16": "bf16", "bfloat16": "bf16", "fp32": "fp32", "float32": "fp32", "fp16": "fp16", "float16": "fp16"}


def _sharding_said(r: Reader, recipe: str, file: str) -> str:
    """How the distributed recipe shards, at the release it runs on (the repository's torchtune pin, else goblin's
    tables): FSDP1's FullyShardedDataParallel wrapper up to 0.2.1, torchtune's shard_model over FSDP2's fully_shard
    from 0.3 (frameworks/tune_sharding.json, read from pytorch/torchtune's tags)."""
    version, assumed = _run_release(r)
    got = tables.tune_sharding(recipe, version)
    if got is None:
        return f"torchtune recipe {recipe} shards the model with FSDP ({file}; registry supports_distributed)"
    fsdp, at = got
    how = "FSDP1 (FullyShardedDataParallel)" if fsdp == 1 else "FSDP2 (shard_model over fully_shard)"
    return f"torchtune recipe {recipe} shards with {how} at {'assumed ' if assumed else ''}torchtune {version} ({at})"


def _run_release(r: Reader) -> tuple[str, bool]:
    """The torchtune release the config runs on and whether it is assumed: no pin, a git or vendored pin whose release
    is unknown, or a range that lets pip install a release newer than goblin read (frameworks/history.run_version)."""
    from ..frameworks.history import run_version
    from ..frameworks.pins import pins

    pin = pins(r.path, r.text).get("torchtune")
    run = run_version("torchtune", pin) if pin is not None else None
    if run is None:
        return str(tables.table("torchtune")["version"]), True
    return run.version, run.assumed


def release_said(version: str, assumed: bool, spec: str, where: str, whose: str = "the recipe") -> str:
    """The note naming the torchtune release a config is read at: "the release ... runs on" only for a release a pin
    states; a release goblin could not tell (a fork's commit, a git pin) is said assumed (review14a #6/#7)."""
    if assumed:
        return f"assumed torchtune {version}: the pin names no release goblin can tell ({spec}, {where}), so {whose}'s keys and defaults are read at {version}"
    return f"torchtune {version}: the release {whose} runs on ({spec}, {where})"


def _component(node: Any) -> str | None:
    if isinstance(node, dict):
        value = node.get("_component_")
        return str(value) if value is not None else None
    return None


def _find(data: Any, *names: str) -> str | None:
    """Dotted path of the first builder named one of `names`, at the top or one level down."""
    for name in names:
        if isinstance(data.get(name), dict):
            return name
    for key, value in data.items():
        if isinstance(value, dict):
            for name in names:
                if isinstance(value.get(name), dict):
                    return f"{key}.{name}"
    return None


def _node(data: Any, dotted: str | None) -> Any:
    node = data
    for part in (dotted or "").split("."):
        node = node.get(part) if isinstance(node, dict) and part else node
    return node if dotted else None


# The generic component builders (and their lora_/qlora_ forms) take the model's dimensions as
# arguments (torchtune 0.6.1): llama2(vocab_size, num_layers, num_heads, num_kv_heads, embed_dim,
# max_seq_len, ..., intermediate_dim=None) models/llama2/_component_builders.py:42-52, llama3 the same
# (models/llama3/_component_builders.py), qwen2(..., intermediate_dim, ..., tie_word_embeddings=False)
# models/qwen2/_component_builders.py, mistral(..., intermediate_dim, ...) models/mistral/_component_builders.py.
# A missing intermediate_dim is scale_hidden_dim_for_mlp(embed_dim) for llama2/llama3 (llama2 :84-86):
# 4 * int(2 * dim / 3) rounded up to a multiple of 256 (models/llama2/_model_utils.py:20-22,
# models/llama3/_model_utils.py:20-22); qwen2 and mistral require it. head_dim = embed_dim // num_heads
# in all four; the output projection is untied except qwen2's tie_word_embeddings.
# llama3_1(vocab_size, num_layers, num_heads, num_kv_heads, embed_dim, max_seq_len, ..., intermediate_dim=None)
# (models/llama3_1/_component_builders.py:41-53) and llama3_2(..., intermediate_dim=None, ..., tie_word_embeddings=True)
# (models/llama3_2/_component_builders.py:43-56; from torchtune 0.3.1) take the same dimensions, head_dim embed_dim //
# num_heads (llama3_1 :83, llama3_2 :85), a missing intermediate_dim llama3's scale_hidden_dim_for_mlp (llama3_1 :11,102,
# llama3_2 :12,106); llama3_1's output projection is its own nn.Linear (:113), llama3_2's a TiedLinear of the token
# embeddings unless tie_word_embeddings is false (:116-120).
_DIM_BUILDERS = {"llama2": "llama2", "llama3": "llama3", "llama3_1": "llama3", "llama3_2": "llama3", "qwen2": "qwen2", "mistral": "mistral"}
_DEFAULT_MLP = frozenset({"llama2", "llama3"})
# The builders whose tie_word_embeddings argument exists, and its default (qwen2 False, llama3_2 True).
_TIE_DEFAULT = {"qwen2": False, "llama3_2": True}


_DIM_ARGS = ("num_layers", "embed_dim", "num_heads", "num_kv_heads", "vocab_size")


def _scale_hidden_dim_for_mlp(dim: int, multiple_of: int = 256) -> int:
    hidden = 4 * int(2 * dim / 3)
    return multiple_of * ((hidden + multiple_of - 1) // multiple_of)


def _dim(node: dict[str, Any], key: str) -> int | None:
    value = node.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _shape_from_builder_args(comp: str, base: str, node: Any) -> ModelShape | None:
    """The shape a generic torchtune builder (`torchtune.models.llama2.llama2`, `lora_qwen2`, ...) is given
    in the config's `model:` arguments; None for a named-size builder or when a dimension is not a plain
    positive integer (an interpolation, a missing required argument)."""
    family = _DIM_BUILDERS.get(base)
    if family is None or not isinstance(node, dict) or not comp.startswith("torchtune.models."):
        return None
    dims = [_dim(node, k) for k in _DIM_ARGS]
    layers, hidden, heads, kv, vocab = dims
    if layers is None or hidden is None or heads is None or kv is None or vocab is None:
        return None
    if hidden % heads or heads % kv:
        return None
    written = node.get("intermediate_dim") is not None
    inter = _dim(node, "intermediate_dim")
    if written and inter is None:
        return None  # written, but not a plain positive integer
    if inter is None:
        if family not in _DEFAULT_MLP:
            return None
        inter = _scale_hidden_dim_for_mlp(hidden)
    tie_default = _TIE_DEFAULT.get(base)
    tie_written = node.get("tie_word_embeddings")
    if tie_default is not None and "tie_word_embeddings" in node and tie_written is None:
        return None  # written as null, or an interpolation goblin left unresolved (formats/interpolation.resolve): unknown
    try:
        tied = tie_default is not None and (tie_default if tie_written is None else as_bool(tie_written))
    except ValueError:
        return None  # written, but not a boolean
    mlp = f"intermediate_dim {inter}" if written else f"intermediate_dim unset: {inter} from embed_dim"
    return shape_from_dims(
        comp,
        family,
        (layers, hidden, heads, kv, inter, vocab),
        tied=tied,
        inferred=f"shape from the builder's arguments in the config (num_layers {layers}, embed_dim {hidden}, "
        f"num_heads {heads}, num_kv_heads {kv}, vocab_size {vocab}, {mlp})",
    )


def unread_builder_dims(comp: str, node: Any) -> str | None:
    """Why a generic builder's shape is unknown when a dimension it needs is not a plain positive integer in the config
    (`vocab_size: null` set at run time, an interpolation, missing): "vocab_size is null"; None where every one is."""
    builder = comp.rsplit(".", 1)[-1]
    base = re.sub(r"^(q?lora_|dora_)", "", builder)
    if _DIM_BUILDERS.get(base) is None or not isinstance(node, dict) or not comp.startswith("torchtune.models."):
        return None
    said = []
    for key in _DIM_ARGS:
        if _dim(node, key) is None:
            value = node.get(key)
            said.append(f"{key} is not in the config" if key not in node else f"{key} is {'null' if value is None else repr(value)}")
    return "; ".join(said) or None


def _builder_shape(comp: str, node: Any) -> ModelShape:
    """The shape a `_component_` builder names: from its arguments (a generic builder), else the model table."""
    builder = comp.rsplit(".", 1)[-1]
    base = re.sub(r"^(q?lora_|dora_)", "", builder)
    from_args = _shape_from_builder_args(comp, base, node)
    if from_args is not None:
        return from_args
    shape = lookup_model(base)
    return shape.model_copy(update={"name": comp or "unknown"})


def _own_flags(r: Reader, read: RecipeSharding, rel: str, file: str) -> None:
    """The cpu offload, reshard-after-forward and validation keys the repository's own recipe takes from its config
    (own_recipe.recipe_sharding), read as torchtune's recipes read theirs: `fsdp_cpu_offload` puts CPUOffloadPolicy() on
    fully_shard, `fsdp_reshard_after_forward: False` keeps each unit's gathered parameters after the forward, as
    SHARD_GRAD_OP does (torchtune v0.6.1 recipes/full_finetune_distributed.py:138,299,590-594;
    torchtune/training/_distributed.py:519-568). A key the recipe never reads does nothing."""
    said = f"the repository's recipe {rel}"
    if read.offload is not None:
        key, value, line = r.raw(read.offload.key)
        if key is not None:
            on = as_bool(value)
            r.explicit("cpu_offload", on, key, line)
            if on:
                r.explicit("offload_params", True, key, line)
        elif read.offload.has_default and isinstance(read.offload.default, bool):
            r.default("cpu_offload", read.offload.default, f"{said} line {read.offload.line} reads {read.offload.key}, default {read.offload.default}")
            r.values["offload_params"] = read.offload.default
    elif read.strategy is not None and r.values.get("cpu_offload") and "fsdp_cpu_offload" not in read.keys:
        src = r.sources.get("cpu_offload")
        at = (
            f" ({shown_file(src.file, r.path) + ' ' if src.file and elsewhere(src.file, r.path) else ''}line {src.line})"
            if src is not None and src.line
            else ""
        )
        r.notes.append(f"`fsdp_cpu_offload`{at} does nothing: {said} never reads it, so nothing is offloaded")
        r.default("cpu_offload", False, f"{said} never reads fsdp_cpu_offload")
        r.values["offload_params"] = False
        r.sources.pop("offload_params", None)
    if read.reshard is not None:
        key, value, line = r.raw(read.reshard.key)
        if key is not None and not as_bool(value):
            r.explicit("sharding", "grad_op", key, line)
            r.notes.append(
                f"`{key}: {value}` (line {line}): {said} passes it to its sharding as reshard_after_forward, so each FSDP unit keeps its "
                "gathered parameters from the forward to the backward (SHARD_GRAD_OP's behaviour; torchtune/training/_distributed.py:524,550@v0.6.1)"
            )
        elif key is None and read.reshard.default is False:
            r.default("sharding", "grad_op", f"{said} line {read.reshard.line} reads {read.reshard.key}, default False")
    if read.validation is not None and read.validation_call is not None:
        key, value, line = r.raw(read.validation.key)
        every = value if key is not None else (read.validation.default if read.validation.has_default else None)
        if every is not None and not isinstance(every, bool):
            where = f"`{key}`, line {line}" if key is not None else f"{read.validation.key} unset: {said}'s default, line {read.validation.line}"
            call, call_line = read.validation_call
            r.notes.append(
                f"validation: {said} runs {call}() (line {call_line}) every {every} steps ({where}); its forward passes over the validation set are not modelled "
                "(the projection prices the training steps only)"
            )


def _parallel_unread(r: Reader, value: int, line: int | None, why: str) -> None:
    """`tensor_parallel_dim` > 1 where goblin cannot tell what the recipe that runs does with it: the projection prices
    tensor parallel 1 (data parallel over every GPU), and the source says so and is unread, so no rule reading the degree
    is judged and no PASS is cleared on it (formats.semantics.parallelism_unread)."""
    note = f"`tensor_parallel_dim: {value}` (line {line}) not modelled: {why}; tensor parallel 1 assumed (data parallel over every GPU)"
    r.notes.append(note)
    r.values["tensor_parallel"] = 1
    r.sources["tensor_parallel"] = FieldSource(
        file=r.path, key="tensor_parallel_dim", line=line, explicit=False, note=f"{PARALLEL_UNREAD}: {note}", unread=True
    )


def _own_tensor_parallel(r: Reader, rel: str, read: RecipeSharding | None) -> Implied | None:
    """`tensor_parallel_dim` under the repository's own recipe, read as the file reads it: where it reads the key from
    its cfg and calls parallelize_module( itself, as torchtune 0.6.0 recipes/full_finetune_distributed.py does (:152
    `cfg.get("tensor_parallel_dim", 1)`, :157-159 world size divisible by it, :166 data-parallel size world //
    tensor_parallel_dim, :547 mesh (dp, tp), :557 parallelize_module over the "tp" dimension, :590 shard_model over
    "dp" only, :719 the sampler splits the data over the dp ranks), the degree is the config's, and the world size it
    implies is a minimum. A key the file never reads, where every read is its own, does nothing; anything else is unread
    (_parallel_unread)."""
    key, value, line = r.raw("tensor_parallel_dim")
    if key is None or isinstance(value, bool) or not isinstance(value, int) or value <= 1:
        return None
    said = f"the repository's recipe {rel}"
    if read is None:
        _parallel_unread(r, value, line, f"{said} could not be parsed, so whether it reads the key is unknown")
        return None
    if read.tensor_parallel is None:
        if read.complete:
            r.notes.append(f"`tensor_parallel_dim: {value}` (line {line}) does nothing: {said} never reads it")
            return None
        _parallel_unread(r, value, line, f"{said} never reads it, but hands its config to code outside the file, so whether that reads it is unknown")
        return None
    at = read.tensor_parallel.line
    if read.parallelize_line is None:
        _parallel_unread(r, value, line, f"{said} reads it (line {at}) but calls no parallelize_module(, so what it does with it is unknown")
        return None
    r.explicit("tensor_parallel", value, key, line)
    why = (
        f"tensor_parallel_dim {value}: {said} reads it (line {at}) and splits each layer over {value} GPUs with parallelize_module "
        f"(line {read.parallelize_line}), data-parallel over world // {value}, as torchtune's full_finetune_distributed does "
        "(recipes/full_finetune_distributed.py:152,166,557@v0.6.0), so at least that many GPUs"
    )
    return value, why, key, line, True


def _launch_env(path: Path) -> tuple[dict[str, str | None], list[tuple[str, str | None, str]]]:
    """The variables the launch line that runs this config sets for its process (formats/launch_env reads the same
    exports), for `${oc.env:VAR}`: a value goblin cannot read is None; and its `key=value` words (value None where set
    at run time), which torchtune merges over the YAML before it resolves it."""
    from .launchers import find_launch

    launch = find_launch(path)
    if launch is None or launch.commented or launch.beside:
        return {}, []
    words: list[tuple[str, str | None, str]] = [(key, value, how) for key, value, _f, _l, how in launch.overrides]
    words += [(key, None, why.split(":", 1)[0]) for key, why in launch.unresolved]
    return {name: value if known else None for name, value, _file, _line, known in launch.env}, words


class TorchtuneAdapter(Adapter):
    name = "torchtune"
    repeats_refused = "torchtune reads its YAML with OmegaConf.load, which refuses a key written twice (omegaconf 2.3.0 omegaconf/_utils.py:136-151) (torchtune/utils/argparse.py:52 at 0.2.0; config/_parse.py since)"
    docs = DOCS

    def parse(self, path: Path, data: Any, text: str) -> WorkloadConfig:
        # torchtune resolves OmegaConf interpolations before it reads a value (config/_instantiate.py:104 @v0.2.1,
        # :110 @v0.6.1 `OmegaConf.resolve(config)`, the file loaded by OmegaConf.load at config/_parse.py:58 @v0.6.1):
        # read `packed: ${packed}` as the file's own `packed` (review5 #7), `${oc.env:VAR,d}` as the launcher's VAR or d
        resolved, unknown = resolve(data, *_launch_env(path))
        w = super().parse(path, resolved, text)
        if unknown:
            w = w.model_copy(update={"notes": [*w.notes, *unknown]})
        return _with_vision(w, resolved, str(path), text)

    def detect(self, data: Any) -> int:
        if not isinstance(data, dict):
            return 0
        comps = [_component(v) or "" for v in data.values()]
        return 12 if any(c.startswith("torchtune.") for c in comps) else 0

    def not_training(self, data: Any) -> str | None:
        if _find(data, "model", "policy_model") is None:
            return "torchtune config without a `model` builder"
        if _find(data, "optimizer") is None:
            return "torchtune config without an `optimizer` (generation, evaluation or quantization recipe)"
        return None

    def model_shape(self, r: Reader) -> ModelShape:
        key = _find(r.data, "model", "policy_model") or "model"
        self._launch_builder(r, key)
        comp = _component(_node(r.data, key)) or ""
        _found, _, line = r.raw(f"{key}._component_")
        over = r.over.get(f"{key}._component_")
        r.sources["model"] = over[1] if over is not None else FieldSource(file=r.path, key=f"{key}._component_", line=line, explicit=True)
        shape = _builder_shape(comp, _node(r.data, key))
        if not shape.known and (unread := unread_builder_dims(comp, _node(r.data, key))) is not None:
            # review10a #6 (tuna-lm): `vocab_size: null`, set at run time from the extended tokenizer
            r.notes.append(
                f"`{key}._component_: {comp}` builds the model from the dimensions the config passes it, and {unread} "
                "(a null or interpolated value is set at run time, or not resolved by goblin): its shape is unknown"
            )
        return shape

    def read(self, r: Reader) -> None:
        d = r.data
        model = _node(d, _find(d, "model", "policy_model")) or {}
        builder = (_component(model) or "").rsplit(".", 1)[-1]
        method = "qlora" if builder.startswith("qlora_") else "lora" if builder.startswith("lora_") else "full"
        if method != "full" and as_bool(model.get("use_dora", False) or False):
            method = "dora"
        _, _, model_line = r.raw(f"{_find(d, 'model', 'policy_model') or 'model'}._component_")
        model_key = f"{_find(d, 'model', 'policy_model') or 'model'}._component_"
        r.explicit("method", method, model_key, model_line)
        r.explicit("quantization", "4bit" if method == "qlora" else "none", model_key, model_line)
        if method != "full":  # torchtune's LoRA builders: lora_dropout 0.0, adapters on lora_attn_modules, the MLP if apply_lora_to_mlp
            mkey = _find(d, "model", "policy_model") or "model"
            key, value, line = r.raw(f"{mkey}.lora_dropout")
            if key is not None and value is not None:
                r.explicit("lora_dropout", min(max(float(value), 0.0), 0.99), key, line)
            key, value, line = r.raw(f"{mkey}.apply_lora_to_mlp")
            if key is not None:
                r.explicit("lora_targets", "all" if as_bool(value or False) else "attention", key, line)
        if ".gemma2." in (_component(model) or ""):
            # Packed batches carry a BlockMask where flex attention is available (ROCm included), and
            # Gemma2's attention rejects it: torchtune 0.6.1 torchtune/models/gemma2/_attention.py:219-223.
            r.values["packing_blocked"] = (
                "torchtune 0.6.1 Gemma2Attention raises NotImplementedError on a packed batch's BlockMask "
                "(torchtune/models/gemma2/_attention.py:219-223: 'use packed=False')"
            )
        raw_ds = d.get("dataset")
        datasets = raw_ds if isinstance(raw_ds, list) else [raw_ds]
        mm = next((c for c in (_component(x) or "" for x in datasets) if ".datasets.multimodal." in c), None)
        if mm and "packing_blocked" not in r.values:
            # torchtune 0.6.1 datasets/multimodal/_multimodal.py:180, _the_cauldron.py:220, _llava_instruct.py:122,
            # _vqa.py:133: `packed=True` raises "Multimodal datasets don't support packing yet."
            r.values["packing_blocked"] = (
                f"torchtune 0.6.1 multimodal dataset {mm.rsplit('.', 1)[-1]}: the multimodal builders raise ValueError on packed=True "
                "(torchtune/datasets/multimodal/_multimodal.py:180, _the_cauldron.py:220, _llava_instruct.py:122, _vqa.py:133)"
            )
        own = next((c for c in (_component(x) or "" for x in datasets) if c and not c.startswith("torchtune.")), None)
        if own and "packing_blocked" not in r.values:
            # `packed` is an argument of torchtune's own builders; the repository's builder may have none (review1 #26:
            # FIRST-impl's first_dataset(tokenizer, max_seq_len, split) would raise TypeError on `packed=True`)
            r.values["packing_blocked"] = f"the dataset builder {own} is the repository's own, not torchtune's: whether it can pack is not known"
        r.take("precision", ("dtype",), default="fp32", note=CITES["torchtune.dtype"], convert=self._dtype)
        # torchtune has no autocast: weights, gradients and optimizer state are all held in `dtype`.
        src = r.sources["precision"]
        if src.explicit and src.key:
            r.explicit("weight_dtype", r.values["precision"], src.key, src.line)
        else:
            r.default("weight_dtype", "fp32", CITES["torchtune.dtype"])
        key, value, line = r.raw("tokenizer.max_seq_len")
        # torchtune 0.2 truncates in the dataset builder instead (torchtune 0.2.0 torchtune/datasets/_chat.py:118,
        # chat_dataset(max_seq_len=...)); a config of that era sets `dataset.max_seq_len`. The shorter one governs.
        dkey, dvalue, dline = r.raw("dataset.max_seq_len")
        if dkey is not None and (key is None or positive(dvalue) < positive(value)):
            key, value, line = dkey, dvalue, dline
        if key is not None:
            r.explicit("seq_len", positive(value), key, line)
        else:
            # a null or absent max_seq_len truncates nothing: the builders cut a sample only under one (torchtune 0.6.1
            # torchtune/datasets/_text_completion.py:71-72, models/llama3/_tokenizer.py:324-328), so its length is the data's
            found, _null, null_at = get_path(r.data, "tokenizer.max_seq_len")
            said = f"tokenizer.max_seq_len is null (line {null_at})" if found and null_at else "neither tokenizer.max_seq_len nor dataset.max_seq_len is set"
            r.default(
                "seq_len",
                2048,
                f"{said}: samples are not truncated, so their lengths are the dataset's (torchtune/datasets/_text_completion.py:71-72, "
                "models/llama3/_tokenizer.py:324-328@v0.6.1); without the data's lengths 2048 tokens assumed",
            )
        r.default("attention", "sdpa", _attention_note(r))
        r.take(
            "gradient_checkpointing",
            ("enable_activation_checkpointing",),
            default=False,
            note=f"enable_activation_checkpointing default False ({DOCS})",
            convert=as_bool,
        )
        r.take("micro_batch_size", ("batch_size",), default=1, note=f"batch_size required by the recipes ({DOCS})", convert=positive)
        r.take("gradient_accumulation", ("gradient_accumulation_steps",), default=1, note=f"gradient_accumulation_steps default 1 ({DOCS})", convert=positive)
        r.take(
            "torch_compile",
            ("compile",),
            default=False,
            note=f"compile default False ({DOCS})",
            convert=lambda v: bool(v) if isinstance(v, dict) else as_bool(v),
        )
        r.take("sample_packing", ("dataset.packed",), default=False, note=f"dataset.packed default False ({DOCS})", convert=as_bool)
        r.take(
            "dataloader_workers",
            ("num_workers", "dataloader.num_workers"),
            default=0,
            note=f"torchtune recipes build the DataLoader with num_workers=0 ({DOCS})",
            convert=non_negative,
        )
        r.take(
            "activation_offloading",
            ("enable_activation_offloading",),
            default=False,
            note=f"enable_activation_offloading default False ({DOCS})",
            convert=as_bool,
        )
        r.take("cpu_offload", ("fsdp_cpu_offload",), default=False, note=f"fsdp_cpu_offload default False ({DOCS})", convert=as_bool)
        if r.values["cpu_offload"]:
            # torchtune's shard_model (training/_distributed.py) passes CPUOffloadPolicy() to FSDP2's fully_shard,
            # which keeps parameters, gradients and optimizer states on the host (torch 2.13.0
            # torch/distributed/fsdp/_fully_shard/_fsdp_api.py:185-189)
            src = r.sources["cpu_offload"]
            r.explicit("offload_params", True, src.key or "fsdp_cpu_offload", src.line)
        opt_key = _find(d, "optimizer") or "optimizer"
        opt = _component(_node(d, opt_key)) or ""
        key, fused, line = r.raw(f"{opt_key}.fused")
        if opt.endswith("AdamW") and opt.startswith("torch.optim"):
            name = "adamw_torch_fused" if fused is not None and as_bool(fused) else "adamw_torch"
        elif "PagedAdamW8bit" in opt:
            name = "paged_adamw_8bit"
        elif "PagedAdamW" in opt:
            name = "paged_adamw_32bit"
        elif "8bit" in opt.lower():
            name = "adamw_8bit"
        else:
            name = opt.rsplit(".", 1)[-1].lower() or "unknown"
        _found, _, opt_line = r.raw(f"{opt_key}._component_")
        r.explicit("optimizer", name, key or f"{opt_key}._component_", line if key else opt_line)
        self._launch_overrides(r)  # before the pinned release's check, which then judges an overridden key too
        recipe, how = torchtune_recipe(r.path, r.text)
        own_file = self._own_recipe(r, d)
        own_read: tuple[str, RecipeSharding | None] | None = None
        if own_file is not None:
            recipe, how, own_read = own_file[0], own_file[1], own_file[2]
        else:
            recipe, how = self._launched_recipe(r, recipe, how)
        info = tables.recipe(recipe) if recipe else None
        # a recipe outside the registry (dev/grpo_...) is still named, so that what it trains is known
        named = recipe or (how if own_file is not None else None) or tune_run_named(r.text)
        if "teacher_model" in d:  # a knowledge-distillation recipe: a frozen teacher runs forward every step (rules.unmodelled_trainer)
            named = f"{named}, knowledge distillation" if named else "knowledge distillation"
            teacher = _builder_shape(_component(_node(d, "teacher_model")) or "", _node(d, "teacher_model"))
            if teacher.known and teacher.params_b is not None and own_file is None and (recipe or "").startswith("knowledge_distillation"):
                # torchtune 0.6.1 recipes/knowledge_distillation_single_device.py:255-256, :472-497 builds the teacher
                # from `teacher_model` in the recipe's `dtype` and puts it in eval mode; _distributed.py:249-254,
                # :523-587 builds it on meta and shards it with training.shard_model like the student (the same
                # fsdp_cpu_offload and fsdp_reshard_after_forward), requires_grad False; both run it under
                # torch.no_grad() on every micro-batch's tokens (single_device.py:651-653, distributed.py:795-796).
                _, _, tline = r.raw("teacher_model._component_")
                r.explicit("teacher", teacher, "teacher_model._component_", tline)
                rkey, rvalue, rline = r.raw("fsdp_reshard_after_forward")
                if rkey is not None and recipe == "knowledge_distillation_distributed" and not as_bool(rvalue):
                    r.explicit("teacher_unsharded", True, rkey, rline)
        r.framework = f"torchtune {tables.table('torchtune')['version']}" + (f" ({named})" if named else "")
        if own_file is not None and recipe is None:
            self._pinned_label(r, named or how)
        if recipe:
            r.notes.append(f"torchtune recipe {recipe} (from {how}; torchtune {tables.table('torchtune')['version']})")
            self._at_pinned_release(r, recipe)
        path = r.path.rsplit("/", 1)[-1]
        if info is not None and info.get("distributed"):
            r.default("strategy", "fsdp", _sharding_said(r, str(recipe), str(info["file"])))
        elif (
            info is None
            and own_file is None
            and "single_device" not in path
            and ("fsdp_cpu_offload" in d or "data_parallel_shard_dim" in d or "dp_shard" in d or "tensor_parallel_dim" in d)
        ):
            k, _, line = r.raw("fsdp_cpu_offload", "data_parallel_shard_dim", "dp_shard", "tensor_parallel_dim")
            r.explicit("strategy", "fsdp", k or "fsdp_cpu_offload", line)
        if (info is not None and not info.get("distributed")) or "single_device" in path:
            r.default("world_size", 1, f"torchtune {'recipe ' + recipe if recipe else 'single-device config'} runs on one device")
        implied = self._tensor_parallel(r, recipe) if own_read is None else _own_tensor_parallel(r, *own_read)
        read_world_size(r, r.text, implied=implied, launch_decides_strategy=False)
        if own_file is not None and recipe is None:
            self._comment_count_assumed(r)
        self._stock_header_assumed(r)

    @staticmethod
    def _launched_recipe(r: Reader, recipe: str | None, how: str) -> tuple[str | None, str]:
        """The registry recipe the repository's live launch line runs the config with (`tune run
        lora_finetune_single_device --config configs/x.yaml` in a notebook cell) over the config's comment or its
        file name: a `tune run` comment copied with a stock config is torchtune's template, not how this repository
        runs the file (review12a #6: the 11B_lora header's `lora_finetune_distributed` over the notebook's
        single-device line). A commented-out line counts only over a comment that is a template's header (it runs
        another config: `semantics.template_comment`; review12a #7), said as the repository's hint. A line naming no
        registry recipe, or one the comment agrees with, changes nothing."""
        from .launchers import find_launch
        from .semantics import template_comment

        launch = find_launch(r.path)
        if launch is None or not launch.recipe or launch.recipe == recipe:
            return recipe, how
        if launch.recipe not in tables.table("torchtune").get("recipes", {}):
            return recipe, how
        if launch.commented and template_comment(r.text, Path(r.path).name) is None:
            return recipe, how
        said = f"{launch.where()} `tune run {launch.recipe}`, " + (
            "the repository's line, commented out: its hint, assumed" if launch.commented else "the repository's launch line"
        )
        if recipe:
            said += f", over {how} ({recipe})"
        return launch.recipe, said

    @staticmethod
    def _stock_header_assumed(r: Reader) -> None:
        """A count read from the config's comment (no launcher states one) whose line is a torchtune stock config's
        template, word for word in what it states: `tune run --nproc_per_node 2 ... --config llama3/8B_lora` where that
        stock config's header at a release says `--nproc_per_node 2` (tune_headers.json). The comment came with the copy;
        the count is torchtune's example, used as the fallback and said assumed. A count the user changed (`4` in the
        same line) is theirs and stands."""
        src = r.sources.get("world_size")
        if src is None or not src.explicit or not (src.key or "").startswith("comment:") or src.file != r.path or not src.line:
            return
        lines = r.text.splitlines()
        body = lines[src.line - 1].strip() if src.line <= len(lines) else ""
        count = re.search(r"--nproc[_-]per[_-]node[=\s]+(\d+)", body)
        named = re.search(r"--config[=\s]+([\w./-]+)", body)
        if not body.startswith("#") or count is None or named is None:
            return
        cite = tables.tune_stock_header(named.group(1), int(count.group(1)))
        if cite is None:
            return
        phrase = (src.key or "").removeprefix("comment:").strip()
        note = (
            f"from the config's comment at line {src.line} (`{phrase}`): torchtune's template for its stock config {named.group(1)} "
            f"({cite} states the same count), kept with the copy, not this repository's statement: assumed; no repository launcher "
            "that names this file states a count"
        )
        for name in ("world_size", "nodes", "gpus_per_node"):
            if name in r.sources and (r.sources[name].key or "").startswith("comment:"):
                r.sources[name] = FieldSource(file=r.path, key=r.sources[name].key, line=r.sources[name].line, explicit=False, note=note)

    @staticmethod
    def _comment_count_assumed(r: Reader) -> None:
        """The repository runs its own recipe and no launcher states a count: a count read from the config's comment is
        the copied stock config's header, not how this repository runs it, so it is used as the fallback and said
        assumed (review7a #11: torchtune's "To launch on 2 devices ... lora_dpo_distributed --config llama2/7B_lora_dpo"
        kept over the repository's lora_orpo_ddp.py)."""
        from .launchers import find_launch
        from .semantics import template_comment

        src = r.sources.get("world_size")
        if src is None or not (src.key or "").startswith("comment:") or src.file != r.path or find_launch(r.path) is not None:
            return
        # only a stock header: its `tune run` names a registry recipe, or runs another config (not the repository's own
        # `tune run recipes/x.py --config x.yaml` line, review5 #8 tradutor configs/lora/phi3.yaml:1)
        comment = tune_run_named(r.text)
        if not ((comment and tables.recipe(comment) is not None) or template_comment(r.text, Path(r.path).name)):
            return
        phrase = (src.key or "").removeprefix("comment:").strip()
        note = (
            f"from the config's comment at line {src.line} (`{phrase}`): assumed, the comment is the copied stock config's and the "
            "repository runs its own recipe; no repository launcher that names this file states a count"
        )
        for name in ("world_size", "nodes", "gpus_per_node"):
            if name in r.sources and (r.sources[name].key or "").startswith("comment:"):
                r.sources[name] = FieldSource(file=r.path, key=r.sources[name].key, line=r.sources[name].line, explicit=False, note=note)

    @staticmethod
    def _own_recipe(r: Reader, d: dict[str, Any]) -> tuple[str | None, str, tuple[str, RecipeSharding | None]] | None:
        """The repository's own recipe file the config runs with (recipe_file.repository_recipe: a launcher's `python
        recipes/x.py --config x.yaml`, a `tune run x.py` line, a recipe file the config's name or a README ties to it),
        which outranks the stock `tune run NAME` comment a copied config keeps (review7a class 3). A byte-identical copy
        of a release's recipe is that recipe; any other file is the repository's own: no stock recipe's strategy or keys
        are applied to it, only what the file itself shows (its DDP or FSDP wrapping). (recipe or None, how, (the file's
        path relative to the repository, what it shows of its sharding)); None when the repository runs no recipe file of
        its own."""
        import os

        from .. import safepath
        from ..frameworks.own_recipe import recipe_sharding, recipe_strategy, stock_copy
        from .recipe_file import repository_recipe

        found = repository_recipe(r.path, r.text)
        if found is None:
            return None
        file, said = found
        roots = safepath.tree_of(Path(os.path.abspath(r.path)))
        rel = os.path.relpath(file, roots[0]) if file.is_relative_to(roots[0]) else file.name
        comment = tune_run_named(r.text)
        stock = stock_copy(file, roots)
        if stock is not None and tables.recipe(Path(stock[0]).stem) is not None:
            return None  # a release's recipe, byte-identical: torchtune_recipe names it
        stock_comment = comment is not None and tables.recipe(comment) is not None and comment != file.stem  # the same name: no stale comment
        kept = f"; the config's `tune run {comment}` comment is the copied stock config's, not how this repository runs it" if stock_comment else ""
        r.notes.append(
            f"torchtune recipe: the repository's own {rel} (read from {said.rstrip(',')}); it is not byte-identical to any torchtune release's recipe, so goblin applies "
            f"no stock recipe's strategy or keys to it, only what the file shows{kept}"
        )
        read = recipe_sharding(file, roots)
        how = read.strategy if read is not None else recipe_strategy(file, roots)
        if how is not None:
            strategy, line, word = how
            r.values["strategy"] = strategy
            r.sources["strategy"] = FieldSource(
                file=str(file), key=f"{rel}: {word}", line=line, explicit=True, note=f"the repository's recipe {rel} line {line} wraps the model with {word}"
            )
        else:
            r.strategy_unread = (
                f"the repository's own recipe {rel} could not be parsed"
                if read is None
                else f"the repository's own recipe {rel} shows no sharding goblin reads (training.shard_model, fully_shard, FSDP(, DistributedDataParallel)"
            )
        if read is not None:
            _own_flags(r, read, rel, str(file))
        # the loss the file is configured with names what it trains (`torchtune.modules.loss.ORPOLoss`, review7a #11)
        loss = d.get("loss")
        cls = str(loss.get("_component_", "")).rsplit(".", 1)[-1] if isinstance(loss, dict) else ""
        trains = f", loss {cls}" if re.search(r"DPO|ORPO|SimPO|KTO|CPO|IPO|RSO|PPO", cls) else ""
        return None, f"the repository's own {rel}{trains}", (rel, read)

    # the `key=value` launch words goblin applies: key -> (field, convert)
    _OVERRIDDEN: ClassVar[dict[str, tuple[str, Any]]] = {
        "batch_size": ("micro_batch_size", positive),
        "gradient_accumulation_steps": ("gradient_accumulation", positive),
        "enable_activation_checkpointing": ("gradient_checkpointing", as_bool),
        "enable_activation_offloading": ("activation_offloading", as_bool),
        "compile": ("torch_compile", as_bool),
        "dataset.packed": ("sample_packing", as_bool),
        "tokenizer.max_seq_len": ("seq_len", positive),
        # the recipes read it as `cfg.get("fsdp_cpu_offload", False)` and hand it to shard_model, which puts
        # CPUOffloadPolicy() on every layer (torchtune v0.6.1 recipes/lora_finetune_distributed.py:279,515,
        # recipes/full_finetune_distributed.py:138,611; torchtune/training/_distributed.py:551-552)
        "fsdp_cpu_offload": ("cpu_offload", as_bool),
    }

    @staticmethod
    def _launch_builder(r: Reader, key: str) -> None:
        """A `tune run ... --config x.yaml model._component_=B` (or `model=B`) word names the builder that runs: torchtune merges the
        line's words over the YAML (`OmegaConf.merge(yaml_conf, cli_conf)`, torchtune/config/_utils.py:193@v0.6.1; loaded
        at config/_parse.py:58, resolved at config/_instantiate.py:110), the other keys of the node kept. The builder
        is set in `r.data` (a copy) and in `r.over`, so the model, its method and quantization are sourced at the line."""
        from .launchers import find_launch

        node = _node(r.data, key)
        launch = find_launch(r.path)
        if launch is None or launch.commented or not isinstance(node, dict):
            return
        # `model=B` is `model._component_=B` where the YAML's top-level `model` has one (torchtune/config/_utils.py:174-175@v0.6.1)
        names = {f"{key}._component_"} | ({key} if "." not in key and "_component_" in node else set())
        words = [w for w in launch.overrides if w[0] in names]
        if not words or words[-1][1] == node.get("_component_"):
            return
        _k, value, file, line, how = words[-1]
        m = re.search(r" on (\S+) line (\d+)", how)
        shown = f"{m.group(1)}:{m.group(2)}" if m else f"{file}:{line}"
        _f, own, own_line = r.raw(f"{key}._component_")
        was = f"; the config's own `{key}._component_: {own}` (line {own_line}) is overridden" if own is not None else ""
        cite = "torchtune merges the launch line's key=value words over the YAML (torchtune/config/_utils.py:193@v0.6.1)"
        r.notes.append(f"model from {shown}: {how}: {cite}{was}; that builder is the one sized and priced")
        r.over[f"{key}._component_"] = (
            value,
            FieldSource(file=file, key=f"{key}._component_", line=line, explicit=True, note=f"{how}: {cite}{was}; change it {IN_LAUNCH_LINE}"),
        )
        node["_component_"] = value

    def _launch_overrides(self, r: Reader) -> None:
        """The `tune run ... --config x.yaml batch_size=6` words of the launch line that runs this file: torchtune
        merges them over the YAML, the command line winning (torchtune v0.5.0 torchtune/config/_parse.py:96-97,
        torchtune/config/_utils.py:112-193, `OmegaConf.merge(yaml_conf, cli_conf)` at :193). A value given through a
        variable is applied only where the variable was set for certain before the line (launch_line._tune_overrides);
        one that is not is said, and the file's own value kept."""
        from .launchers import find_launch

        launch = find_launch(r.path)
        if launch is None or launch.commented or not (launch.overrides or launch.unresolved):
            return
        cite = "torchtune merges the launch line's key=value words over the YAML (torchtune/config/_utils.py:112-193@v0.5.0)"
        apply_overrides(r, launch.overrides, self._OVERRIDDEN, cite, "file")
        src = r.sources.get("cpu_offload")
        if src is not None and src.file != r.path and src.key == "fsdp_cpu_offload":  # the line's word decides offload_params too
            if r.values.get("cpu_offload"):
                r.explicit("offload_params", True, "fsdp_cpu_offload", src.line)
                r.sources["offload_params"] = src
            else:
                r.values.pop("offload_params", None)
                r.sources.pop("offload_params", None)
        for key, why in launch.unresolved:
            if key in self._OVERRIDDEN:
                r.notes.append(f"{why}: the launch overrides {key} with a value goblin cannot read; the file's own value is used")

    @staticmethod
    def _tensor_parallel(r: Reader, recipe: str | None) -> Implied | None:
        """`tensor_parallel_dim`, where the recipe reads it at the release that runs (the pinned one, else the
        newest read): torchtune 0.6.1 recipes/full_finetune_distributed.py:152 reads it (default 1), :157-160 raises
        unless the world size divides by it, and :166 makes the data-parallel size world // tensor_parallel_dim
        (mesh (dp, tp), :547). No other recipe of 0.6.1 reads it, nor data_parallel_shard_dim /
        data_parallel_replicate_dim / context_parallel_dim (those are read on torchtune's main branch only,
        recipes/full_finetune_distributed.py:157-170@bd2a0fc, after the last release). The world size it implies
        is a minimum (world_size = dp x tp). Returns that minimum for read_world_size, or None."""
        from ..frameworks.history import present
        from ..frameworks.pins import pins
        from ..frameworks.releases import pinned

        key, value, line = r.raw("tensor_parallel_dim")
        if key is None or isinstance(value, bool) or not isinstance(value, int) or value <= 1:
            return None
        if recipe is None:
            _parallel_unread(r, value, line, "the recipe that runs is not one goblin knows, so whether it reads the key is unknown")
            return None
        version = pinned("torchtune", pins(r.path, r.text))
        said = f"torchtune {version}" if version else f"torchtune {tables.table('torchtune')['version']} (assumed: no torchtune pin)"
        reads = present("torchtune", f"recipe:{recipe}", "tensor_parallel_dim", version or tables.table("torchtune")["version"])
        if reads is not True:
            r.notes.append(f"`tensor_parallel_dim: {value}` (line {line}) does nothing: {said} recipe {recipe} does not read it (frameworks/key_history.json)")
            return None
        r.explicit("tensor_parallel", value, key, line)
        why = (
            f"tensor_parallel_dim {value}: {said} recipe {recipe} splits each layer over {value} GPUs and data-parallel over world // {value} "
            "(recipes/full_finetune_distributed.py:152,166@v0.6.1), so at least that many GPUs"
        )
        return value, why, key, line, True

    @staticmethod
    def _pinned_label(r: Reader, named: str) -> None:
        """The framework label of a config the repository's own recipe runs names the torchtune release the repository
        pins, as _at_pinned_release does for a stock recipe (no stock recipe's keys are judged at it)."""
        from ..frameworks.pins import pins
        from ..frameworks.releases import pinned

        found = pins(r.path, r.text)
        version = pinned("torchtune", found)
        if version is not None:
            pin = found["torchtune"]
            r.framework = f"torchtune {version} ({named})"
            r.notes.append(release_said(version, _run_release(r)[1], pin.spec, pin.where, "the repository's recipe"))

    def _at_pinned_release(self, r: Reader, recipe: str) -> None:
        """The repository pins another torchtune: a key its recipe does not read there does nothing (the
        recipes read keys with cfg.get / attribute access and ignore the rest), so the field falls back to
        off; the framework named is the pinned release. Without a torchtune pin nothing changes."""
        from ..frameworks.history import change, present
        from ..frameworks.pins import pins
        from ..frameworks.releases import pinned

        pinned_pins = pins(r.path, r.text)
        version = pinned("torchtune", pinned_pins)
        if version is None:
            return
        pin = pinned_pins["torchtune"]
        r.framework = f"torchtune {version} ({recipe})"
        r.notes.append(release_said(version, _run_release(r)[1], pin.spec, pin.where))
        for field, key in RECIPE_KEYS.items():
            src = r.sources.get(field)
            if src is None or not src.explicit or not r.values.get(field):
                continue
            if present("torchtune", f"recipe:{recipe}", key, version) is False:
                why = change("torchtune", f"recipe:{recipe}", key, version).replace(f"recipe:{recipe}", f"recipe {recipe}", 1)
                r.default(field, False, f"`{key}` (line {src.line}) does nothing at torchtune {version} ({pin.spec}, {pin.where}): {why}")
                if field == "cpu_offload":
                    r.values.pop("offload_params", None)
                    r.sources.pop("offload_params", None)
        self._checkpointing_at(r, recipe, version, pin)

    @staticmethod
    def _checkpointing_at(r: Reader, recipe: str, version: str, pin: Any) -> None:
        """enable_activation_checkpointing unset, at the pinned release (key_history.json): the recipes of
        0.2.1-0.3.1 (DPO and QAT: -0.4.0) read `cfg.enable_activation_checkpointing` with no default (e.g.
        recipes/full_finetune_distributed.py:213@0.3.1), and OmegaConf raises ConfigAttributeError on a missing
        key (omegaconf v2.1.0 omegaconf/dictconfig.py:341,438,470; v2.3.0 :341-358,436-447); from 0.4.0 the
        recipes default it to False (recipes/full_finetune_distributed.py:199@0.6.1)."""
        from ..frameworks.releases import default_at

        src = r.sources.get("gradient_checkpointing")
        if src is None or src.explicit:
            return
        got = default_at("torchtune", f"recipe:{recipe}", "enable_activation_checkpointing", version)
        if got is None:
            return
        if isinstance(got.value, dict) and got.value.get("required"):
            raise ConfigError(
                r.path,
                f"no `enable_activation_checkpointing`: torchtune {version} ({pin.spec}, {pin.where}) recipe {recipe} reads it with no default "
                f"({got.cite}; {got.changed}) and OmegaConf raises ConfigAttributeError on a missing key "
                "(omegaconf v2.3.0 omegaconf/dictconfig.py:341-358,436-447), so the run stops before training",
                hint="add `enable_activation_checkpointing: false` (or true) to the config",
            )
        if got.value is False:
            r.default(
                "gradient_checkpointing",
                False,
                f"enable_activation_checkpointing unset: off at torchtune {version} ({pin.spec}, {pin.where}; {got.cite}; {got.changed})",
            )

    @staticmethod
    def _dtype(value: Any) -> str:
        name = str(value).lower()
        if name not in _DTYPES:
            raise ValueError(f"unknown dtype {value!r} (expected bf16 or fp32)")
        return _DTYPES[name]

    def writes(self, field: str, value: Any, workload: WorkloadConfig, data: Any) -> dict[str, Any] | None:
        if field == "precision" and value in ("bf16", "fp32"):
            return {"dtype": value}
        if field == "micro_batch_size":
            return {"batch_size": value}
        if field == "gradient_accumulation":
            return {"gradient_accumulation_steps": value}
        if field == "gradient_checkpointing":
            return {"enable_activation_checkpointing": value}
        if field == "activation_offloading":
            return {"enable_activation_offloading": value}
        if field == "cpu_offload":
            return {"fsdp_cpu_offload": value} if "fsdp_cpu_offload" in data else None
        if field == "torch_compile":
            return {"compile": value}
        if field == "sample_packing":
            return {"dataset.packed": value} if isinstance(data.get("dataset"), dict) else None
        if field == "method" and value == "lora":
            key = _find(data, "model", "policy_model") or "model"
            comp = _component(_node(data, key)) or ""
            module, _, builder = comp.rpartition(".")
            if builder.startswith("qlora_"):
                return {f"{key}._component_": f"{module}.{builder.replace('qlora_', 'lora_', 1)}"}
            return None
        if field == "quantization" and value == "none":
            return {}  # expressed by the builder change that `method` writes
        opt_key = _find(data, "optimizer")
        if field == "optimizer" and value == "adamw_torch_fused" and opt_key:
            comp = _component(_node(data, opt_key)) or ""
            writes: dict[str, Any] = {f"{opt_key}.fused": True}
            if comp != "torch.optim.AdamW":
                writes[f"{opt_key}._component_"] = "torch.optim.AdamW"
            return writes
        return None


# torchtune's attention is its own module, with no setting: PyTorch SDPA at every release read. torchtune 0.2.1
# calls nn.functional.scaled_dot_product_attention (torchtune/modules/attention.py:218@v0.2.1); from 0.3 the call
# goes through _sdpa_or_flex_attention (torchtune/modules/attention_utils.py:166@v0.3.1, :185@v0.6.1), which runs
# flex attention when a packed dataset passes a BlockMask (:193-199@v0.3.1, :212-222@v0.6.1) and torch has it
# (_SUPPORTS_FLEX_ATTENTION, torchtune/utils/_import_guard.py:11@v0.3.1).
_TT_SDPA_ONLY = "torchtune 0.2.1 torchtune/modules/attention.py:218 calls PyTorch SDPA (no flex attention before 0.3)"
_TT_SDPA_FLEX = (
    "torchtune attention uses PyTorch SDPA, flex attention when packed (torchtune/modules/attention_utils.py:166,193-199@v0.3.1; :185,212-222@v0.6.1)"
)


def _attention_note(r: Reader) -> str:
    """The source of torchtune's attention at the pinned release; without a pin, the newest read, said as assumed."""
    from packaging.version import Version

    from ..frameworks.pins import pins
    from ..frameworks.releases import pinned

    found = pins(r.path, r.text)
    version = pinned("torchtune", found)
    if version is None:
        return f"{_TT_SDPA_FLEX}; no torchtune release pinned, the newest read assumed"
    pin = found["torchtune"]
    said = f"torchtune {version} ({pin.spec}, {pin.where})"
    return f"{said}: {_TT_SDPA_ONLY if Version(version) < Version('0.3') else _TT_SDPA_FLEX}"


_DECODER_TRAINABLE = re.compile(r"^[ \t]+decoder_trainable[ \t]*:", re.M)


def _with_vision(w: WorkloadConfig, data: Any, path: str, text: str) -> WorkloadConfig:
    """A Llama 3.2 Vision builder's image part (formats/tune_vision.py), said in a note: its tokens go through the vision
    encoder, and the text stays priced at what the collate gives it. A full builder whose text decoder stays frozen
    (`tune_vision.frozen_decoder`) is priced as a frozen base (`WorkloadConfig.frozen_language_model`), said."""
    from .tune_vision import frozen_decoder, vision_tower

    tower = vision_tower(data) if isinstance(data, dict) else None
    if tower is None:
        return w
    found = _DECODER_TRAINABLE.search(text)
    written = text[found.end() : text.find("\n", found.end()) % (len(text) + 1)].split("#", 1)[0].strip() if found else None
    frozen = frozen_decoder(data, written) if w.method == "full" else None
    if frozen is not None:
        line = text.count("\n", 0, found.start()) + 1 if found else None
        note = (
            f"{frozen}: priced as a frozen base, the decoder's weights held with no gradients or optimizer state; the trained"
            " part's own gradients and optimizer state are not priced, so no memory rule spends the headroom"
        )
        source = FieldSource(file=path, key="model.decoder_trainable" if found else None, line=line, explicit=found is not None, note=note)
        w = w.model_copy(update={"frozen_language_model": True, "sources": {**w.sources, "frozen_language_model": source}, "notes": [*w.notes, note]})
    state = "trains, so its activations are kept for backward" if tower.trains else "is frozen: no activations kept"
    note = (
        f"vision encoder priced beside the text: {tower.tokens_per_image} tokens per image (4 tiles x (patches + CLS)) through "
        f"{tower.layers} encoder layers of width {tower.hidden}, which {state}, and {tower.fusion_layers} cross-attention layers "
        f"projecting them to keys and values; the text is the collate's, padded to the batch's longest sample and cut at "
        f"max_seq_len, and images add no tokens to it but one `<|image|>` each ({tower.source})"
    )
    return w.model_copy(update={"vision": tower, "notes": [*w.notes, note]})


def run_recipe(path: str, text: str) -> str | None:
    """The registry recipe the config runs with, resolved as the reader does: its comment or file name, over which the
    repository's live `tune run` line wins (TorchtuneAdapter._launched_recipe). The edit check judges a key against it
    (frameworks.check_writes), so an edit the launched recipe's release does not read is not offered (review14a #8)."""
    r = Reader(path, None)
    r.text = text
    recipe, how = torchtune_recipe(path, text)
    return TorchtuneAdapter._launched_recipe(r, recipe, how)[0]
