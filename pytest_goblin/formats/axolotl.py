"""Axolotl YAML. Defaults: https://docs.axolotl.ai/docs/config-reference.html"""

from __future__ import annotations

import re
from typing import Any

from ..errors import ConfigError
from ..frameworks import CITES, where
from ..frameworks.facts import AXOLOTL_AT
from ..schemas import FieldSource, ModelShape, WorkloadConfig
from .base import Adapter, Reader, apply_overrides, as_bool, attention_from, model_from, positive
from .hfstyle import PREFERENCE, hf_writes, read_common, read_lora, read_preference
from .semantics import Implied, axolotl_precision, read_prequantized, read_world_size

DOCS = "https://docs.axolotl.ai/docs/config-reference.html"
# where Axolotl leaves attn_implementation unset without a flag (facts in formats/attn_default.py)
_NO_FLAG_CITE = (
    "v0.4.0 src/axolotl/utils/models.py:450-470 sets it only under flash_attention; v0.18.0 src/axolotl/loaders/model.py:757-762 "
    "only when attn_implementation is set, which is unset by default (src/axolotl/utils/schemas/config.py:839-840)"
)
_MARKERS = frozenset({"datasets", "micro_batch_size", "sequence_len", "adapter", "num_epochs", "sample_packing", "rl"})


_OPTIMIZER_MEMBER = re.compile(r"^OptimizerNames\.(ADAMW_HF|ADAMW_TORCH_FUSED|ADAMW_TORCH)(\.value)?$")


def _pinned_optimizer(r: Reader) -> tuple[str | None, str, str | None]:
    """(the pinned Axolotl release as a framework label, the optimizer default there, its note). Axolotl's
    default optimizer changed from adamw_hf (0.5.2-0.7.0) to adamw_torch_fused (0.8.1 on) (key_history.json;
    transformers' OptimizerNames.ADAMW_HF = "adamw_hf", 4.36.2 training_args.py:138). Without a pin: today's."""
    from ..frameworks.pins import pins
    from ..frameworks.releases import default_at, pinned

    found = pins(r.path, r.text)
    version = pinned("axolotl", found)
    if version is None:
        return None, "adamw_torch_fused", None
    label = f"axolotl {version}"
    got = default_at("axolotl", "AxolotlInputConfig", "optimizer", version)
    expr = got.value.get("expr", "") if got is not None and isinstance(got.value, dict) else got.value if got is not None else None
    m = _OPTIMIZER_MEMBER.match(str(expr or ""))
    name = m.group(1).lower() if m else str(expr) if isinstance(expr, str) and expr.islower() else None
    if got is None or name is None:
        return label, "adamw_torch_fused", None
    return label, name, f"Axolotl optimizer unset at axolotl {version} ({found['axolotl'].spec}, {found['axolotl'].where}): {name} ({got.cite}; {got.changed})"


# The launch line's `--key value` words goblin applies over the YAML's (launch_line.AXOLOTL_CLI_AT): field, reading.
_OVERRIDDEN: dict[str, tuple[str, Any]] = {
    "micro_batch_size": ("micro_batch_size", positive),
    "gradient_accumulation_steps": ("gradient_accumulation", positive),
    "sequence_len": ("seq_len", positive),
    "gradient_checkpointing": ("gradient_checkpointing", as_bool),
    "sample_packing": ("sample_packing", as_bool),
}


def _plain_overrides(r: Reader, overrides: list[tuple[str, str, str, int, str]]) -> None:
    """The launch line's `--micro_batch_size 4`-style words: Axolotl writes them over the YAML (launch_line.AXOLOTL_CLI_AT);
    those goblin reads are taken from the line, the rest named as not read."""
    from .launch_line import AXOLOTL_CLI_AT

    unread = apply_overrides(r, [o for o in overrides if o[0] != "deepspeed"], _OVERRIDDEN, f"Axolotl writes it over the YAML ({AXOLOTL_CLI_AT})", "YAML")
    if unread:
        r.notes.append(f"the launch line also sets {'; '.join(unread)} over the YAML ({AXOLOTL_CLI_AT}): not read by goblin")


class AxolotlAdapter(Adapter):
    name = "axolotl"
    repeated_keys = "axolotl 0.18.0 src/axolotl/cli/config.py:254 (yaml.safe_load keeps the last value of a repeated key)"
    docs = DOCS

    def detect(self, data: Any) -> int:
        if not isinstance(data, dict) or "base_model" not in data:
            return 0
        return 10 + len(_MARKERS & set(data))

    def model_shape(self, r: Reader) -> ModelShape:
        from .launch_line import AXOLOTL_CLI_AT

        return model_from(r, "base_model", launch=("base_model", f"Axolotl writes it over the YAML ({AXOLOTL_CLI_AT})"))

    def read(self, r: Reader) -> None:
        d = r.data
        four = as_bool(d.get("load_in_4bit") or False)
        eight = as_bool(d.get("load_in_8bit") or False)
        r.values["quantization"] = "4bit" if four else "8bit" if eight else "none"
        key, adapter, line = r.raw("adapter")
        if key is not None:
            method = {"qlora": "qlora", "lora": "qlora" if four else "lora"}.get(str(adapter).lower(), "lora")
            if as_bool(d.get("peft_use_dora") or False):
                method = "dora"
            r.explicit("method", method, key, line)
        else:
            r.default("method", "full", f"no `adapter`: full fine-tuning ({DOCS})")
        read_prequantized(r, "base_model")
        read_lora(r, dropout=("lora_dropout",), targets=("lora_target_modules",), linear="lora_target_linear")

        rl = r.data.get("rl") if isinstance(r.data, dict) else None
        pinned_at, optim_default, optim_note = _pinned_optimizer(r)
        r.framework = (pinned_at or AXOLOTL_AT) + (f" (rl {rl})" if rl else "")
        if re.search(r"bnb|8bit|4bit|paged", r.text or ""):  # a repository bitsandbytes pin Axolotl's install replaces (review6a #7)
            from ..frameworks.pins import bitsandbytes_set_aside

            if (said := bitsandbytes_set_aside(r.path, r.text, "axolotl")) is not None:
                r.notes.append(said)
        if isinstance(rl, str) and rl.lower() in PREFERENCE:
            # Axolotl's setup_reference_model (src/axolotl/train.py) loads a reference for every `rl`
            # but ORPO and hands it to TRL, except with an adapter and no rl_adapter_ref_model, where TRL
            # uses the adapter-disabled base. rl: kto builds TRL's KTOConfig with no loss_type (src/axolotl/core/builders/
            # rl.py:149-159@v0.18.0): TRL's default "kto" (kto_config.py:198@1.16.0), whose KL forwards run (kl_forward).
            adapter_ref = key is not None and not as_bool(d.get("rl_adapter_ref_model") or False)
            rk, rl_line = "rl", r.raw("rl")[2]
            read_preference(
                r,
                rl.lower(),
                key=rk,
                line=rl_line,
                adapter_ref=adapter_ref,
                ref_passed=not adapter_ref and rl.lower() != "orpo",
                precompute=as_bool(d.get("precompute_ref_log_probs") or False),
                how=f"{AXOLOTL_AT} rl: {rl}",
            )
        axolotl_precision(r)
        r.take("seq_len", ("sequence_len",), default=512, note=f"Axolotl sequence_len: {where('axolotl', 'sequence_len')}", convert=positive)
        self._read_attention(r)
        r.take(
            "gradient_checkpointing",
            ("gradient_checkpointing",),
            default=False,
            note=f"gradient_checkpointing unset: off ({DOCS})",
            convert=lambda v: True if isinstance(v, str) and v.lower() == "offload" else as_bool(v),
        )
        r.take("sample_packing", ("sample_packing",), default=False, note=f"sample_packing default false ({DOCS})", convert=as_bool)
        self._packing_blocked(r)
        read_common(
            r,
            batch_default=1,
            batch_note=f"Axolotl micro_batch_size: {where('axolotl', 'micro_batch_size')}",
            optim_default=optim_default,
            optim_note=optim_note or f"Axolotl optimizer: {where('axolotl', 'optimizer')}",
            parser="axolotl",
        )
        self._launch_overrides(r)
        bk, bsz, bline = r.raw("batch_size")
        if bk is not None and r.raw("gradient_accumulation_steps")[0] is None and not as_bool(d.get("use_ray") or False):
            # Only batch_size set: Axolotl takes gradient_accumulation_steps = batch_size // micro_batch_size
            # (axolotl 0.18.0 (067b021c) src/axolotl/utils/config/__init__.py:202-204; validation.py:272-278 rejects both keys).
            try:
                accumulation = max(1, positive(bsz) // r.values["micro_batch_size"])
            except (TypeError, ValueError) as exc:
                raise ConfigError(r.path, f"`{bk}`: {exc}", line=bline, hint=f"give `{bk}` a valid value") from None
            r.explicit("gradient_accumulation", accumulation, bk, bline)
        r.take(
            "context_parallel",
            ("context_parallel_size", "sequence_parallel_degree"),
            default=1,
            note=f"no context parallelism unless context_parallel_size is set ({DOCS})",
            convert=positive,
        )
        r.take(
            "tensor_parallel",
            ("tensor_parallel_size",),
            default=1,
            note=f"no tensor parallelism unless tensor_parallel_size is set ({DOCS})",
            convert=positive,
        )
        r.take(
            "expert_parallel",
            ("expert_parallel_size",),
            default=1,
            note="expert_parallel_size default 1 (axolotl 0.18.0 src/axolotl/integrations/expert_parallel/args.py:23)",
            convert=positive,
        )
        read_world_size(r, r.text, implied=self._parallel_sizes(r), launch_decides_strategy=False)
        self._shard_sizes(r)
        if not any(k in d for k in ("dataloader_num_workers", "dataloader_pin_memory", "dataloader_prefetch_factor")):
            n = r.values.get("world_size", 1)
            note = f"no dataloader_* key, so Axolotl sets dataloader_num_workers to the GPU count ({n}, the world size goblin assumed or read), pin memory on, prefetch 256; {CITES['axolotl.dataloader']}"
            r.default("dataloader_workers", max(1, n), note)
            r.default("pin_memory", True, note)
        if not r.values.get("fused_kernels"):
            key, plugins, line = r.raw("plugins")
            if key is not None and any("liger" in str(p).lower() or "cut_cross_entropy" in str(p).lower() for p in plugins or []):
                r.explicit("fused_kernels", True, key, line)

    @staticmethod
    def _launch_overrides(r: Reader) -> None:
        """`--deepspeed FILE` on the launch line that runs this YAML (review7a #4 `accelerate launch -m axolotl.cli.train
        x.yml --deepspeed deepspeed_configs/zero3_bf16.json`): Axolotl writes it over the YAML's own `deepspeed:`
        (launch_line.AXOLOTL_CLI_AT), so the strategy, ZeRO stage and offload are that file's, read from the launcher."""
        from .base import IN_LAUNCH_LINE
        from .hfstyle import read_deepspeed
        from .launch_line import AXOLOTL_CLI_AT
        from .launchers import find_launch

        launch = find_launch(r.path)
        if launch is None or launch.commented:
            return
        for key, why in launch.unresolved:
            if key == "deepspeed":
                r.notes.append(f"{why}: Axolotl runs with that DeepSpeed config over the YAML's ({AXOLOTL_CLI_AT}); goblin cannot read it")
        _plain_overrides(r, launch.overrides)
        given = next(((value, file, line, how) for key, value, file, line, how in launch.overrides if key == "deepspeed"), None)
        if given is None:
            return
        value, file, line, how = given
        own, own_value, own_line = r.raw("deepspeed")
        if own is not None:  # what the YAML's own file set gives way to the launch line's
            for field in [f for f, src in r.sources.items() if src.file == r.path and src.key == own]:
                r.values.pop(field, None)
                r.sources.pop(field, None)
            r.notes.append(f"the YAML's `{own}: {own_value}` (line {own_line}) is overridden by {how}")
        mark = "deepspeed (launch line)"
        r.explicit("strategy", "deepspeed", mark, line)
        read_deepspeed(r, value, mark, line)
        note = f"{how}: Axolotl writes it over the YAML ({AXOLOTL_CLI_AT}); change it {IN_LAUNCH_LINE}"
        for field, src in list(r.sources.items()):
            if src.key == mark:
                r.sources[field] = src.model_copy(update={"file": file if src.file == r.path else src.file, "key": "deepspeed", "note": src.note or note})
        r.notes.append(f"strategy: DeepSpeed from {how} ({AXOLOTL_CLI_AT})")

    @staticmethod
    def _shard_sizes(r: Reader) -> None:
        """HSDP from Axolotl's mesh sizes: `dp_shard_size` GPUs per shard group, and `dp_replicate_size`
        > 1 replicas of it (axolotl 0.18.0 src/axolotl/utils/schemas/config.py:1091-1100; the world size
        beyond the other sizes fills dp_replicate when dp_shard_size is set, utils/distributed.py:320-385)."""
        k, shard, line = r.raw("dp_shard_size")
        if k is not None and isinstance(shard, int) and not isinstance(shard, bool) and shard >= 1:
            r.explicit("shard_group", shard, k, line)
        k2, replicate, line2 = r.raw("dp_replicate_size")
        if k2 is not None and isinstance(replicate, int) and not isinstance(replicate, bool) and replicate > 1:
            r.explicit("sharding", "hybrid", k2, line2)

    @staticmethod
    def _parallel_sizes(r: Reader) -> Implied | None:
        """GPUs Axolotl's parallel sizes need: expert x tensor x context x dp_replicate x dp_shard.
        Axolotl builds its device mesh from them and fills whatever the world size leaves with
        dp_replicate (dp_shard_size set) or dp_shard (unset), so the product is a minimum unless both
        dp_shard_size and dp_replicate_size are set (axolotl 0.18.0 src/axolotl/utils/distributed.py:320-385,
        _get_parallel_config_kwargs)."""
        keys = ("dp_shard_size", "dp_replicate_size", "tensor_parallel_size", "context_parallel_size", "expert_parallel_size")
        product, said, first = 1, [], None
        for key in keys:
            k, value, line = r.raw(key)
            if k is None or isinstance(value, bool) or not isinstance(value, int) or value <= 1:
                continue
            product *= value
            said.append(f"{key} {value}")
            first = first or (key, line)
        if first is None or product <= 1 or product > 65536:
            return None
        exact = all(isinstance(r.data.get(k), int) and r.data[k] >= 1 for k in ("dp_shard_size", "dp_replicate_size"))
        why = f"Axolotl parallel sizes {' x '.join(said)}: {'exactly' if exact else 'at least'} {product} GPUs (axolotl 0.18.0 src/axolotl/utils/distributed.py:320-385)"
        return product, why, first[0], first[1], not exact

    @staticmethod
    def _packing_blocked(r: Reader) -> None:
        """Trainers Axolotl cannot pack for: RL (sample_packing with rl raises,
        src/axolotl/utils/schemas/validation.py:688-690), (process) reward models, trained on
        chosen/rejected pairs with DataCollatorForPreference (src/axolotl/core/builders/causal.py:515-519)
        and padded to sequence_len (validation.py:246-252), and multimodal configs (processor_type:
        causal.py:520-536 picks the multimodal collator only without packing; docs/multimodal.qmd:42)."""
        d = r.data
        if d.get("rl"):
            r.values["packing_blocked"] = f"Axolotl rl {d['rl']}: {AXOLOTL_AT} validation.py:688-690 raises on sample_packing with rl"
        elif any(d.get(k) in (True, "true", "True") for k in ("reward_model", "process_reward_model")):
            r.values["packing_blocked"] = (
                f"Axolotl reward model: pairs go through DataCollatorForPreference ({AXOLOTL_AT} src/axolotl/core/builders/causal.py:515-519) "
                "padded to sequence_len (validation.py:246-252); sample packing does not apply"
            )
        elif d.get("processor_type") or d.get("is_multimodal") in (True, "true", "True"):
            # The multimodal data path: with processor_type the collator is MultiModalChatDataCollator,
            # reached only when sample packing is off (the batch-sampler collators come first); no
            # validator in validation.py checks it, the docs say it: "sample_packing: false  # not yet
            # supported with multimodal" (docs/multimodal.qmd:42).
            what = f"processor_type {d['processor_type']}" if d.get("processor_type") else "is_multimodal: true"
            r.values["packing_blocked"] = (
                f"Axolotl multimodal config ({what}): images go through MultiModalChatDataCollator, which {AXOLOTL_AT} "
                "src/axolotl/core/builders/causal.py:520-536 uses only when sample packing is off; docs/multimodal.qmd:42 "
                "'sample_packing: false  # not yet supported with multimodal'"
            )

    def _read_attention(self, r: Reader) -> None:
        key, value, line = r.raw("attn_implementation")
        if key is not None:
            r.explicit("attention", attention_from(value), key, line)
            return
        for flag, impl in (
            ("flash_attention", "flash"),
            ("sdp_attention", "sdpa"),
            ("flex_attention", "flex"),
            ("xformers_attention", "sdpa"),
            ("eager_attention", "eager"),
        ):
            key, value, line = r.raw(flag)
            if key is not None and as_bool(value):
                r.explicit("attention", impl, key, line)
                return
        self._default_attention(r)

    @staticmethod
    def _default_attention(r: Reader) -> None:
        """No attention flag: Axolotl passes no attn_implementation, so the transformers release the run
        has decides (formats/attn_default.py): eager below 4.36, SDPA from 4.36 on. The Axolotl release
        is named when one is pinned; without a pin, today's default, said as assumed."""
        from ..frameworks.pins import pins
        from ..frameworks.releases import pinned
        from .attn_default import transformers_attention_default

        version = pinned("axolotl", pins(r.path, r.text))
        if version is not None:
            who = f"no attention flag: axolotl {version} passes no attn_implementation then ({_NO_FLAG_CITE})"
        else:
            who = f"no attention flag and no Axolotl release pinned (assumed {AXOLOTL_AT}, which passes no attn_implementation then)"
        value, note, _decided = transformers_attention_default(r, who)
        r.default("attention", value, note)

    def unwritable_reason(self, field: str) -> str:
        if field == "fused_kernels":
            return "Axolotl enables Liger through `plugins: [axolotl.integrations.liger.LigerPlugin]` plus liger_* flags; add them by hand"
        return super().unwritable_reason(field)

    def writes(self, field: str, value: Any, workload: WorkloadConfig, data: Any) -> dict[str, Any] | None:
        if field == "attention":
            if "attn_implementation" in data:
                return {"attn_implementation": {"flash": "flash_attention_2", "flex": "flex_attention"}.get(value, value)}
            out: dict[str, Any] = {"flash_attention": value == "flash"} if value == "flash" or "flash_attention" in data else {}
            if value == "sdpa":
                out["sdp_attention"] = True
            if value == "flex" or "flex_attention" in data:
                out["flex_attention"] = value == "flex"
            if "eager_attention" in data:
                out["eager_attention"] = value == "eager"
            return out or None
        if field == "sample_packing":
            return {"sample_packing": value}
        if field == "quantization" and value == "none":
            return {k: False for k in ("load_in_4bit", "load_in_8bit") if k in data} or None
        if field == "method" and value == "lora":
            return {"adapter": "lora"}
        if field == "gradient_accumulation" and (workload.sources.get("gradient_accumulation") or FieldSource(file="")).key == "batch_size":
            return {}  # follows from batch_size / micro_batch_size (setting both keys raises in Axolotl's validation)
        return hf_writes(field, value, workload, data, batch_key="micro_batch_size")
