"""LLaMA-Factory YAML: the classic layout (`stage:`, `finetuning_type:`) and the v1 layout (`model:`, `dist_config:`).

Defaults: https://github.com/hiyouga/LLaMA-Factory/blob/main/src/llamafactory/hparams/finetuning_args.py
and model_args.py / data_args.py beside it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..frameworks import where
from ..frameworks.facts import CITES
from ..frameworks.tables import table
from ..modelzoo import placeholder
from ..schemas import FieldSource, ModelShape, WorkloadConfig
from .base import (
    CODE_FIELDS,
    CODE_STRATEGY_KEYS,
    IN_LAUNCH_LINE,
    Adapter,
    Reader,
    apply_overrides,
    as_bool,
    checkpoint_off_writes,
    model_from,
    model_word_taken,
    non_negative,
    positive,
)
from .hfstyle import hf_writes, read_common, read_lora, read_preference
from .launch_line import LLAMAFACTORY_CLI_AT
from .semantics import Implied, llamafactory_precision, read_prequantized, read_world_size

V1_VERSION = table("llamafactory_v1")["version"]

HPARAMS = "https://github.com/hiyouga/LLaMA-Factory/blob/main/src/llamafactory/hparams"
_CLASSIC = frozenset({"stage", "finetuning_type", "template", "cutoff_len", "lora_target", "dataset"})
_V1 = frozenset({"micro_batch_size", "peft_config", "dist_config", "kernel_config", "train_dataset", "model_class"})
_FLASH = {"auto": "sdpa", "disabled": "eager", "sdpa": "sdpa", "fa2": "flash", "fa3": "flash"}


# OmegaConf.from_cli reads each word's value with a yaml.SafeLoader subclass (omegaconf v2.3.0 omegaconf/basecontainer.py:
# 209, _utils.py:136-137), whose YAML 1.1 booleans are these spellings (PyYAML 6.0.4 yaml/resolver.py:170-175,
# constructor.py:227-238); any other value is not a boolean there
_YAML_BOOLS = {w: w.lower() in ("yes", "true", "on") for b in ("yes", "no", "true", "false", "on", "off") for w in (b, b.capitalize(), b.upper())}


def _cli_bool(value: Any) -> bool:
    """A `key=true` / `key=off` word's value as LLaMA-Factory's OmegaConf reads it (_YAML_BOOLS)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value in _YAML_BOOLS:
        return _YAML_BOOLS[value]
    raise ValueError(f"expected true or false, got {value!r}")


# The launch line's `key=value` words goblin applies over the YAML's (launch_line.LLAMAFACTORY_CLI_AT): field, reading
# (as the reader reads the same key from the file). bf16/fp16 are applied only as `true` where the merged config sets no
# other half precision (`_precision_words`); the other words name the fields they feed as not judged (base.CODE_FIELDS).
_OVERRIDDEN: dict[str, tuple[str, Any]] = {
    "per_device_train_batch_size": ("micro_batch_size", positive),
    "gradient_accumulation_steps": ("gradient_accumulation", positive),
    "cutoff_len": ("seq_len", positive),
    "flash_attn": ("attention", lambda v: _FLASH.get(str(v).lower(), "sdpa")),
    "disable_gradient_checkpointing": ("gradient_checkpointing", lambda v: not _cli_bool(v)),
}
_HALF_KEYS = ("bf16", "fp16", "pure_bf16")
# read by formats/datasets.py (the data the run trains on), not by this reader
_DATA_KEYS = ("dataset", "dataset_dir")


def _precision_words(r: Reader, words: list[tuple[str, str, str, int, str]]) -> list[tuple[str, str, str, int, str]]:
    """The `bf16=true` / `fp16=true` words that alone decide the precision: the merged config (the YAML's bf16 / fp16 /
    pure_bf16 with the words over them) sets that one half precision and no other. The rest are returned unapplied."""
    merged = {k: r.data.get(k) for k in _HALF_KEYS}
    for key, value, _f, _l, _how in words:
        if key in _HALF_KEYS:
            merged[key] = value
    on = []
    for k, v in merged.items():
        try:
            if v is not None and _cli_bool(v):
                on.append(k)
        except ValueError:
            on.append(k)  # a value goblin cannot read: not known off
    applied = [w for w in words if w[0] in ("bf16", "fp16") and on == [w[0]]]
    for w in applied:
        r.values["precision"] = w[0]
        was = r.sources.get("precision")
        kept = f"; the YAML's own {was.key} (line {was.line}) gives way" if was is not None and was.file == r.path and was.line else ""
        r.sources["precision"] = FieldSource(
            file=w[2],
            key=w[0],
            line=w[3],
            explicit=True,
            note=f"{w[4]}: LLaMA-Factory merges it over the YAML ({LLAMAFACTORY_CLI_AT}){kept}; change it {IN_LAUNCH_LINE}",
        )
    return [w for w in words if w not in applied]


def _unread(r: Reader, key: str, why: str) -> None:
    """The fields a launch word goblin does not apply feeds (the table's, else base.CODE_FIELDS', a strategy key's
    strategy): kept as read, said not judged."""
    fields = {_OVERRIDDEN[key][0]} if key in _OVERRIDDEN else set(CODE_FIELDS.get(key, ()))
    if key in ("bf16", "fp16", "pure_bf16"):
        fields = {"precision"}
    if key in CODE_STRATEGY_KEYS:
        fields.add("strategy")
    for name in sorted(fields):
        src = r.sources.get(name)
        if name in r.values and src is not None:
            src.unread = True
            src.note = f"{src.note + '; ' if src.note else ''}{why}: not judged"


def _launch_overrides(r: Reader) -> None:
    """The `llamafactory-cli train x.yaml per_device_train_batch_size=4 bf16=true` words of the launch line that runs
    this file: LLaMA-Factory merges them over the YAML from LF_CLI_MERGE (LLAMAFACTORY_CLI_AT; hparams/parser.py:63-66@v0.9.3).
    Those `_OVERRIDDEN` maps are the fields' values, sourced at the line (base.apply_overrides); a bf16/fp16 word that
    alone decides the precision sets it; any other word, or one whose value is set at run time, leaves the fields it
    feeds read from the YAML and not judged. At a pinned release before LF_CLI_MERGE the YAML's values stand, said."""
    from .datasets import not_merged

    got = _merged_words(r)
    if got is None:
        return
    words, unset, old = got
    if old is not None:
        said = [w[4] for w in words] + [why for _k, why in unset]
        r.notes.append(f"{'; '.join(said)}: {not_merged(old)}; the YAML's own values are used")
        return
    cite = f"LLaMA-Factory merges it over the YAML ({LLAMAFACTORY_CLI_AT})"
    # the placeholder model the line's own `model_name_or_path=X` word names (base._launch_named): read, said in the model's note
    words = [w for w in words if not model_word_taken(r, w[0], w[2], w[3])]
    rest = _precision_words(r, words)
    unread = apply_overrides(r, [w for w in rest if w[0] in _OVERRIDDEN], _OVERRIDDEN, cite, "YAML")
    for key, _v, _f, _l, how in rest:
        if key not in _OVERRIDDEN:
            _unread(r, key, f"{how} is merged over the YAML ({LLAMAFACTORY_CLI_AT}), not read by goblin")
    for key, why in unset:
        _unread(r, key, f"{why}, merged over the YAML ({LLAMAFACTORY_CLI_AT})")
    others = unread + [w[4] for w in rest if w[0] not in _OVERRIDDEN] + [why for k, why in unset if k not in _OVERRIDDEN]
    if others:
        r.notes.append(f"the launch line also sets {'; '.join(others)} over the YAML ({LLAMAFACTORY_CLI_AT}): not read by goblin")


def _merged_words(r: Reader) -> tuple[list[tuple[str, str, str, int, str]], list[tuple[str, str]], Any] | None:
    """(the launch line's `key=value` words over this file, those set at run time, the pinned release before LF_CLI_MERGE
    that merges none of them or None); None where no live launch line passes any."""
    from .datasets import before_cli_merge
    from .launchers import find_launch

    launch = find_launch(r.path)
    if launch is None or launch.commented:
        return None
    words = [w for w in launch.overrides if w[0] not in _DATA_KEYS]
    unset = [(k, why) for k, why in launch.unresolved if k not in _DATA_KEYS]
    if not words and not unset:
        return None
    return words, unset, before_cli_merge(Path(r.path), r.text)


def _pinned_release(r: Reader) -> tuple[dict[str, Any], str | None]:
    """(the config's pins, the LLaMA-Factory release a pin makes it run on, or None without one)."""
    from ..frameworks.pins import pins
    from ..frameworks.releases import pinned

    found = pins(r.path, r.text)
    return found, pinned("llamafactory", found)


# LLaMA-Factory 0.9.2-0.9.5 (the same at each): FinetuningArguments freeze_vision_tower (default True),
# freeze_multi_modal_projector (default True), freeze_language_model (default False), hparams/finetuning_args.py:527,531,535
# @0.9.5; a full fine-tune's _setup_full_tuning sets requires_grad_(False) on every parameter of a forbidden module and
# casts only the others to fp32 (model/adapter.py:38-54@0.9.5); get_forbidden_modules adds a composite model's language
# model keys for freeze_language_model, its vision keys and projector keys for the other two (model/model_utils/visual.py:173-193@0.9.5)
LF_FREEZE_AT = (
    "llamafactory 0.9.5 hparams/finetuning_args.py:527,531,535 (freeze_vision_tower, freeze_multi_modal_projector default true,"
    " freeze_language_model false), model/adapter.py:48-54 (a forbidden module's parameters get requires_grad_(False)),"
    " model/model_utils/visual.py:173-193 (the composite model's language model, vision and projector keys)"
)


def _yaml_word(value: Any) -> str:
    """A value as the YAML writes it (`true`, not Python's `True`)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def _frozen_weights(r: Reader) -> None:
    """A frozen language model is not upcast: _setup_full_tuning casts only the parameters outside the forbidden modules
    to fp32 (model/adapter.py:48-54@0.9.5), so the language model stays in the load dtype, the compute dtype
    (bf16/fp16 from the config, else the checkpoint's, assumed bf16)."""
    src = r.sources.get("weight_dtype")
    if not r.values.get("frozen_language_model") or src is None or src.explicit or r.values.get("weight_dtype") != "fp32":
        return
    precision = r.values.get("precision")
    dtype = precision if precision in ("bf16", "fp16") else "bf16"
    said = f"the compute dtype {dtype}" if precision in ("bf16", "fp16") else "the checkpoint's dtype (assumed bf16, as current checkpoints are)"
    r.default(
        "weight_dtype",
        dtype,
        f"the frozen language model is not upcast (model/adapter.py:48-54@0.9.5: only trainable parameters are cast to fp32): it stays in {said}; {CITES['lf.compute_dtype']}",
    )


# LLaMA-Factory v0.9.2 (the first release with freeze_multi_modal_projector; key_history: 0.9.2-0.9.5, freeze_vision_tower
# 0.8.3-0.9.5, neither default changed): both default true (hparams/finetuning_args.py:420-427@v0.9.2), and
# get_forbidden_modules freezes a composite model's vision keys and projector key for them (model/model_utils/visual.py
# :152-167@v0.9.2); Qwen2-VL and Qwen2.5-VL register `visual.patch_embed`, `visual.blocks` and `visual.merger` (:288-303),
# every `visual.*` parameter, which is what modelzoo's `vision_params_b` counts.
LF_VISION_FROZEN_SINCE = "0.9.2"


def _frozen_vision_tower(r: Reader, pinned: str | None) -> None:
    """A full fine-tune that keeps freeze_vision_tower and freeze_multi_modal_projector true (the defaults) leaves a
    composite model's vision encoder frozen: `WorkloadConfig.frozen_vision_tower`, which takes the shape's
    `vision_params_b` out of the trained parameters (no gradients or optimizer state). Not below LLaMA-Factory 0.9.2,
    whose projector has no such switch and trains, nor on a release goblin cannot read."""
    if r.values.get("frozen_language_model"):
        return
    if pinned is not None:
        from packaging.version import InvalidVersion, Version

        try:
            if Version(pinned) < Version(LF_VISION_FROZEN_SINCE):
                return
        except InvalidVersion:
            return
    said = []
    for part in ("freeze_vision_tower", "freeze_multi_modal_projector"):
        k, v, at = r.raw(part)
        if k is not None and not as_bool(v):
            return
        said.append(f"`{k}: {_yaml_word(v)}` (line {at})" if k is not None else f"{part} unset (default true)")
    r.values["frozen_vision_tower"] = True
    note = (
        f"{' and '.join(said)}: a vision-language model's vision tower and projector stay frozen in this full fine-tune, their"
        " weights held but no gradients or optimizer state (llamafactory hparams/finetuning_args.py:420-427,"
        " model/model_utils/visual.py:152-167,288-303@v0.9.2)"
    )
    line = next((at for part in ("freeze_vision_tower", "freeze_multi_modal_projector") if (at := r.raw(part)[2]) is not None), None)
    explicit = any(r.raw(part)[0] is not None for part in ("freeze_vision_tower", "freeze_multi_modal_projector"))
    r.sources["frozen_vision_tower"] = FieldSource(file=r.path, key="freeze_vision_tower" if explicit else None, line=line, explicit=explicit, note=note)


def _frozen_language_model(r: Reader) -> None:
    """`finetuning_type: full` with `freeze_language_model: true`: the language model takes no gradients or optimizer
    state, and what trains is the vision tower and/or projector the config unfreezes (both frozen by default), which run
    before it, so backward flows through it: priced as a frozen base (`WorkloadConfig.frozen_language_model`), said with
    the keys. With both left frozen, nothing the config names trains (or the model is not one of LLaMA-Factory's
    composite models and the keys do nothing): the method is unread, never priced on a guess."""
    key, value, line = r.raw("freeze_language_model")
    if key is None or not as_bool(value):
        return
    trains = []
    for part, name in (("freeze_vision_tower", "the vision tower"), ("freeze_multi_modal_projector", "the multi-modal projector")):
        k, v, at = r.raw(part)
        if k is not None and not as_bool(v):
            trains.append(f"{name} (`{k}: {_yaml_word(v)}`, line {at})")
    if not trains:
        note = (
            f"`{key}: {_yaml_word(value)}` (line {line}) freezes the language model and freeze_vision_tower / freeze_multi_modal_projector"
            f" stay true ({LF_FREEZE_AT}): no part the config names trains, or the model is not one of LLaMA-Factory's"
            " composite models and the keys freeze nothing; method full is assumed for the projection, and no rule judges it"
        )
        src = r.sources.get("method") or FieldSource(file=r.path, explicit=False)
        r.sources["method"] = src.model_copy(update={"unread": True, "note": f"{note}; before it: {src.note}" if src.note else note})
        r.notes.append(note)
        return
    note = (
        f"`{key}: {_yaml_word(value)}` (line {line}) freezes the language model while {' and '.join(trains)} train{'s' if len(trains) == 1 else ''}"
        f" ({LF_FREEZE_AT}): priced as a frozen base, its weights in the load dtype with no gradients or optimizer state;"
        " assumed: backward flows through it to the part before it, and the model is one of LLaMA-Factory's composite models;"
        " the trained part's own size is not priced, so no memory rule spends the headroom"
    )
    r.values["frozen_language_model"] = True
    r.sources["frozen_language_model"] = FieldSource(file=r.path, key=key, line=line, explicit=True, note=note)
    r.notes.append(note)


class LlamaFactoryAdapter(Adapter):
    name = "llamafactory"
    repeats_refused = "LLaMA-Factory 0.9.5 reads its YAML with OmegaConf.load, which refuses a key written twice (omegaconf 2.3.0 omegaconf/_utils.py:136-151) (src/llamafactory/hparams/parser.py:92; releases up to 0.9.3 used yaml.safe_load, which kept the last value)"
    docs = HPARAMS

    def parse(self, path: Path, data: Any, text: str) -> WorkloadConfig:
        w = super().parse(path, data, text)
        if self._v1(data):
            return w
        from .lf_vision import with_vision

        return with_vision(w, data)

    def detect(self, data: Any) -> int:
        if not isinstance(data, dict):
            return 0
        keys = set(data)
        if "model_name_or_path" in keys and len(_CLASSIC & keys) >= 1:
            return 8 + len(_CLASSIC & keys)
        if isinstance(data.get("model"), str) and len(_V1 & keys) >= 1:
            return 8 + len(_V1 & keys)
        if {"stage", "finetuning_type"} <= keys and len(_CLASSIC & keys) >= 4:
            # a classic layout whose model keys are a fork's own (review6a #11, LinguaLIFT's vendored LLaMA-Factory
            # `stage: lb` with enc_name_or_path / lm_name_or_path): `finetuning_type` is LLaMA-Factory's alone
            # (src/llamafactory/hparams/finetuning_args.py), so no TrainingArguments reader claims it
            return 8 + len(_CLASSIC & keys)
        return 0

    def not_training(self, data: Any) -> str | None:
        if "export_dir" in data:
            return "LLaMA-Factory export/merge config (`export_dir`)"
        if "infer_backend" in data:
            return "LLaMA-Factory inference config (`infer_backend`)"
        if self._v1(data):
            if "train_dataset" not in data:
                return "LLaMA-Factory v1 config without `train_dataset`"
            return None
        if data.get("do_train") is not True and (data.get("do_predict") or data.get("do_eval")):
            return "LLaMA-Factory prediction or evaluation run (`do_predict`/`do_eval` without `do_train: true`)"
        if data.get("do_train") is False or ("stage" not in data and "do_train" not in data):
            return "LLaMA-Factory config without `stage`/`do_train: true` (inference or evaluation)"
        return None

    @staticmethod
    def _v1(data: Any) -> bool:
        return isinstance(data.get("model"), str) and "model_name_or_path" not in data

    def model_shape(self, r: Reader) -> ModelShape:
        from .datasets import before_cli_merge

        # a placeholder model takes no launch line's `model_name_or_path=X` word the pinned release does not merge
        _key, value, _line = r.raw("model_name_or_path", "model")
        old = before_cli_merge(Path(r.path), r.text)
        r.words_unmerged = isinstance(value, str) and placeholder(value) and old is not None
        # the line's `model_name_or_path=X` word names the model that runs, where the release merges it (LF_CLI_MERGE)
        merged = old is None and not self._v1(r.data)
        return model_from(
            r,
            "model_name_or_path",
            "model",
            launch=("model_name_or_path", f"LLaMA-Factory merges it over the YAML ({LLAMAFACTORY_CLI_AT})") if merged else None,
        )

    @staticmethod
    def _own_stage(r: Reader) -> None:
        """A `stage` LLaMA-Factory does not have (FinetuningArguments.stage choices, frameworks/llamafactory.json) runs a
        fork's own workflow (review6a #11, LinguaLIFT's `stage: lb`: its own preprocess_lb_dataset, no packing branch):
        whether it packs is not known, so no packing advice."""
        key, stage, line = r.raw("stage")
        field = table("llamafactory").get("classes", {}).get("FinetuningArguments", {}).get("fields", {}).get("stage", {})
        choices = field.get("choices") if isinstance(field, dict) else None
        if key is None or not isinstance(choices, list) or str(stage) in choices:
            return
        r.values["packing_blocked"] = (
            f"`stage: {stage}` (line {line}) is none of LLaMA-Factory {table('llamafactory')['version']}'s stages ({', '.join(choices)}; "
            f"src/llamafactory/hparams/finetuning_args.py:{field.get('line', '?')}): a fork's own workflow, whose packing goblin does not know"
        )

    def read(self, r: Reader) -> None:
        if self._v1(r.data):
            self._read_v1(r)
            return
        d = r.data
        r.framework = f"llamafactory {table('llamafactory')['version']} (stage {d.get('stage', 'sft')})"
        lf_pins, lf_pinned = _pinned_release(r)
        if lf_pinned:
            r.framework = f"llamafactory {lf_pinned} (stage {d.get('stage', 'sft')})"
        self._own_stage(r)
        quant = r.take(
            "quantization",
            ("quantization_bit",),
            default="none",
            note=f"quantization_bit unset: no quantization ({HPARAMS}/model_args.py)",
            convert=lambda v: "4bit" if positive(v) <= 4 else "8bit",
        )
        ftype = str(d.get("finetuning_type", "lora")).lower()
        method = {"full": "full", "freeze": "full"}.get(ftype, "lora")
        if method == "lora" and quant != "none":
            method = "qlora"
        if method == "lora" and as_bool(d.get("use_dora") or False):
            method = "dora"
        key, _, line = r.raw("finetuning_type")
        if key:
            r.explicit("method", method, key, line)
        else:
            r.default("method", method, f"finetuning_type default lora ({HPARAMS}/finetuning_args.py)")
        read_prequantized(r, "model_name_or_path")
        if ftype == "full":
            _frozen_language_model(r)
            _frozen_vision_tower(r, lf_pinned)
        stage = str(d.get("stage", "sft")).lower()
        if stage in ("dpo", "kto"):
            # stage dpo runs pref_loss (sigmoid default; orpo and simpo need no reference:
            # hparams/finetuning_args.py use_ref_model); create_ref_model (train/trainer_utils.py) returns
            # None for LoRA (TRL then uses the adapter-disabled base) and loads a full copy otherwise; stage kto always
            # runs its KL forwards (train/kto/trainer.py:188-189, :213-216@0.9.5: no option turns them off, hfstyle.PREFERENCE)
            loss = str(d.get("pref_loss", "sigmoid")).lower() if stage == "dpo" else "kto"
            kind = loss if loss in ("orpo", "simpo", "kto") else "dpo"
            adapter_ref = ftype == "lora" and d.get("ref_model") is None
            read_preference(
                r,
                kind,
                key="stage",
                line=r.raw("stage")[2],
                adapter_ref=adapter_ref,
                ref_passed=not adapter_ref,
                precompute=False,
                how=f"llamafactory {table('llamafactory')['version']} stage {stage}, pref_loss {loss}",
            )
        read_lora(r, dropout=("lora_dropout",), targets=("lora_target",))
        # cutoff_len's default changed (1024 until 0.9.0, 2048 from 0.9.1: key_history.json); flash_attn's is "auto" in 0.8.3..0.9.5
        from ..frameworks.releases import llamafactory_default

        cut = llamafactory_default("cutoff_len", lf_pins) if lf_pinned else None
        if cut is not None and isinstance(cut.value, int):
            cut_note = f"cutoff_len default {cut.value} at llamafactory {lf_pinned} ({cut.cite}; {cut.changed})"
            r.take("seq_len", ("cutoff_len",), default=cut.value, note=cut_note, convert=positive)
        else:
            r.take("seq_len", ("cutoff_len",), default=2048, note=f"cutoff_len default 2048 ({HPARAMS}/data_args.py)", convert=positive)
        r.take(
            "attention",
            ("flash_attn",),
            default="sdpa",
            note=f"flash_attn default auto: SDPA where available ({HPARAMS}/model_args.py)",
            convert=lambda v: _FLASH.get(str(v).lower(), "sdpa"),
        )
        key, value, line = r.raw("disable_gradient_checkpointing")
        if key is not None:
            r.explicit("gradient_checkpointing", not as_bool(value), key, line)
        else:
            r.default(
                "gradient_checkpointing",
                True,
                f"LLaMA-Factory turns gradient checkpointing on unless disable_gradient_checkpointing: true ({HPARAMS}/model_args.py)",
            )
        r.take(
            "sample_packing",
            ("packing", "neat_packing"),
            default=str(d.get("stage", "")) == "pt",
            note=f"packing defaults to on for stage pt only ({HPARAMS}/data_args.py)",
            convert=as_bool,
        )
        key, value, line = r.raw("neat_packing")
        if key is not None and str(value).lower() in ("true", "1", "yes"):
            r.explicit("sample_packing", True, key, line)  # neat_packing sets packing ({HPARAMS}/data_args.py:185-186)
        read_common(
            r, batch_default=8, batch_note=f"per_device_train_batch_size: {where('llamafactory', 'per_device_train_batch_size')}", parser="llamafactory"
        )
        zero3 = r.values.get("zero_stage") == 3
        llamafactory_precision(r, r.values["method"], zero3)
        _frozen_weights(r)
        k, ray, line = r.raw("ray_num_workers")
        extra = None
        if k is not None and as_bool(d.get("use_ray") or False):
            extra = (positive(ray), f"ray_num_workers with use_ray: {where('llamafactory', 'ray_num_workers')}", k, line)
        read_world_size(r, r.text, extra=extra, implied=self._global_batch(r), launch_decides_strategy=False, implied_over_assumed=True)
        _launch_overrides(r)

    @staticmethod
    def _global_batch(r: Reader) -> Implied | None:
        """GPUs a classic config's own batch arithmetic states: `global_batch_size` over
        per_device_train_batch_size x gradient_accumulation_steps, all three written in the file.
        LLaMA-Factory 0.9.5's classic arguments have no `global_batch_size` (hparams/*_args.py), so the
        number is the author's statement of the run (a repository's own launcher or fork reads it)."""
        kg, gbs, line = r.raw("global_batch_size")
        km, mbs, _ = r.raw("per_device_train_batch_size")
        ka, acc, _ = r.raw("gradient_accumulation_steps")
        if kg is None or km is None or ka is None:
            return None
        # the run's micro-batch and accumulation are the launch line's words where LLaMA-Factory merges them over the file
        # (LLAMAFACTORY_CLI_AT): the arithmetic is done with those; a word set at run time leaves it unknown
        got = _merged_words(r)
        said: list[str] = []
        if got is not None and got[2] is None:
            words, unset, _old = got
            if any(k in ("per_device_train_batch_size", "gradient_accumulation_steps") for k, _why in unset):
                return None
            for key, value, _f, _l, how in words:
                try:
                    number = positive(value)
                except (TypeError, ValueError):
                    continue  # not applied (apply_overrides keeps the YAML's value, said)
                if key == "per_device_train_batch_size":
                    mbs = number
                elif key == "gradient_accumulation_steps":
                    acc = number
                else:
                    continue
                said.append(how)
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in (gbs, mbs, acc)):
            return None
        per_gpu = mbs * acc
        if gbs % per_gpu or not 1 <= gbs // per_gpu <= 65536:
            return None
        n = gbs // per_gpu
        over = f"; {', '.join(said)}, merged over the YAML ({LLAMAFACTORY_CLI_AT})" if said else ""
        why = (
            f"global_batch_size {gbs} / (per_device_train_batch_size {mbs} x gradient_accumulation_steps {acc}) = {n} GPUs "
            f"(the file's own arithmetic{over}; LLaMA-Factory 0.9.5's classic arguments have no global_batch_size key)"
        )
        return n, why, kg, line, False

    def _read_v1(self, r: Reader) -> None:
        """v1 (llamafactory/v1/config): its own keys and defaults, read from the installed table."""
        d = r.data
        r.framework = f"llamafactory {V1_VERSION} (v1)"
        peft = d.get("peft_config")
        method = "full"
        if isinstance(peft, dict):
            method = "lora" if str(peft.get("name", "lora")).lower() in {"lora", "dora"} else "full"
        r.values["method"] = method
        r.values["quantization"] = "none"
        r.take("precision", ("bf16",), default="bf16", note=f"v1 bf16: {where('llamafactory_v1', 'bf16')}", convert=lambda v: "bf16" if as_bool(v) else "fp32")
        r.default(
            "weight_dtype",
            "bf16",
            f"v1 loads the model with dtype='auto' (the checkpoint's, assumed bf16): llamafactory {V1_VERSION} v1/core/model_engine.py:167",
        )
        r.take("seq_len", ("cutoff_len",), default=2048, note=f"v1 cutoff_len: {where('llamafactory_v1', 'cutoff_len')}", convert=positive)
        r.take(
            "attention",
            ("flash_attn",),
            default="sdpa",
            note=f"v1 flash_attn: {where('llamafactory_v1', 'flash_attn')}",
            convert=lambda v: _FLASH.get(str(v).lower(), "sdpa"),
        )
        r.take(
            "gradient_checkpointing",
            ("enable_activation_checkpointing",),
            default=True,
            note=f"v1 enable_activation_checkpointing: {where('llamafactory_v1', 'enable_activation_checkpointing')}",
            convert=as_bool,
        )
        r.take(
            "micro_batch_size", ("micro_batch_size",), default=1, note=f"v1 micro_batch_size: {where('llamafactory_v1', 'micro_batch_size')}", convert=positive
        )
        r.take(
            "dataloader_workers",
            ("batching_workers",),
            default=16,
            note=f"v1 batching_workers (the DataLoader's num_workers): {where('llamafactory_v1', 'batching_workers')}",
            convert=non_negative,
        )
        key, opt, line = r.raw("optim_config")
        if key is not None:
            name = str(opt.get("name")) if isinstance(opt, dict) else str(opt)
            r.explicit("optimizer", name.lower(), f"{key}.name" if isinstance(opt, dict) else key, line)
        else:
            r.default(
                "optimizer",
                "adamw_torch",
                f"no optim_config: torch.optim.AdamW with torch's defaults (llamafactory {V1_VERSION} v1/core/base_trainer.py:195-197)",
            )
        key, _, line = r.raw("kernel_config")
        if key is not None:
            r.explicit("fused_kernels", True, key, line)
        else:
            r.default("fused_kernels", False, f"no kernel_config: {where('llamafactory_v1', 'kernel_config')}")
        r.default("torch_compile", False, "v1 has no torch_compile key")
        dist = d.get("dist_config")
        if isinstance(dist, dict) and dist.get("name"):
            name = str(dist["name"]).lower()
            _, _, dline = r.raw("dist_config.name")
            r.explicit("strategy", "deepspeed" if "deepspeed" in name else "fsdp", "dist_config.name", dline)
            stage = dist.get("stage") or dist.get("zero_stage")
            if isinstance(stage, int):
                r.explicit("zero_stage", stage, "dist_config", dline)
        read_world_size(r, r.text, launch_decides_strategy=False)
        n = r.values.get("world_size", 1)
        k, gbs, gline = r.raw("global_batch_size")
        mbs = r.values["micro_batch_size"]
        if k is not None and positive(gbs) % (mbs * n) == 0:
            r.explicit("gradient_accumulation", positive(gbs) // (mbs * n), k, gline)
        else:
            r.default(
                "gradient_accumulation",
                1,
                f"v1 global_batch_size unset: data-parallel size x micro_batch_size, no accumulation ({where('llamafactory_v1', 'global_batch_size')})",
            )

    @staticmethod
    def _v1_writes(field: str, value: Any, data: Any) -> dict[str, Any] | None:
        """v1 keys only (its parser rejects the classic ones)."""
        if field == "gradient_checkpointing":
            return {"enable_activation_checkpointing": value}
        if field == "dataloader_workers":
            return {"batching_workers": value}
        if field == "micro_batch_size":
            return {"micro_batch_size": value}
        if field == "gradient_accumulation":
            return {} if "global_batch_size" in data else None  # follows from global_batch_size / micro_batch_size
        if field == "precision" and value in ("bf16", "fp32"):
            return {"bf16": value == "bf16"}
        return None

    def writes(self, field: str, value: Any, workload: WorkloadConfig, data: Any) -> dict[str, Any] | None:
        v1 = self._v1(data)
        if v1:
            return self._v1_writes(field, value, data)
        if field == "attention" and not v1:
            # LLaMA-Factory 0.9.5 extras/constants.py:130-135 AttentionFunction: auto, disabled, sdpa, fa2, fa3 (no flex)
            lf = {"flash": "fa2", "sdpa": "sdpa", "eager": "disabled"}.get(value)
            return {"flash_attn": lf} if lf else None
        if field == "gradient_checkpointing" and not v1:
            return checkpoint_off_writes(workload, {"disable_gradient_checkpointing": True}) if value is False else {"disable_gradient_checkpointing": False}
        if field == "sample_packing" and not v1:
            # `packing: true` alone lets packed samples attend to each other; neat_packing keeps them apart and
            # is SFT-only (llamafactory 0.9.5 hparams/data_args.py:108-115, 185-186; parser.py:320-321, 519).
            if value is True and str(data.get("stage", "sft")) == "sft":
                return {"neat_packing": True}
            return {"packing": value, **({"neat_packing": False} if "neat_packing" in data else {})}
        if field == "quantization" and value == "none" and not v1:
            return {"quantization_bit": None}
        if field == "method" and value == "lora" and not v1:
            return {"finetuning_type": "lora"}
        return hf_writes(field, value, workload, data, batch_key="micro_batch_size" if v1 else "per_device_train_batch_size", liger_key="enable_liger_kernel")
