"""Keys shared by formats built on Hugging Face TrainingArguments (HF/TRL, Axolotl, LLaMA-Factory).

Defaults are those of `transformers.TrainingArguments`:
https://huggingface.co/docs/transformers/main_classes/trainer#transformers.TrainingArguments
"""

from __future__ import annotations

import re
from typing import Any

from ..schemas import FieldSource, WorkloadConfig
from ..yamlio import get_path
from .base import DEEPSPEED_FILE, FSDP_AC, OFFLOAD_AT, Reader, as_bool, checkpoint_off_writes, non_negative, positive, record_deepspeed_own

TA_DOCS = "https://huggingface.co/docs/transformers/main_classes/trainer#transformers.TrainingArguments"

OPTIMIZER_ALIASES = {"adamw": "adamw_torch", "adamw_torch_fused": "adamw_torch_fused"}


OPTIM_DEFAULT_NOTE = (
    "TrainingArguments.optim default: adamw_torch_fused with torch >= 2.8 (assumed on a current ROCm stack), adamw_torch before; "
    "transformers 5.24.0 transformers/training_args.py:806-813"
)


def _maybe_on(value: Any) -> bool:
    """A switch's value that may be on: anything but a value that reads as false."""
    try:
        return as_bool(value)
    except ValueError:
        return True


def read_common(
    r: Reader,
    *,
    batch_default: int,
    batch_note: str,
    optim_default: str = "adamw_torch_fused",
    optim_note: str = OPTIM_DEFAULT_NOTE,
    parser: str = "trl",
    plain: bool = False,
) -> None:
    """TrainingArguments keys; each default's note names the framework version, file and line it comes
    from. `plain`: a bare TrainingArguments file (transformers' defaults) rather than a TRL config."""
    from ..frameworks import where

    r.take("micro_batch_size", ("per_device_train_batch_size", "micro_batch_size"), default=batch_default, note=batch_note, convert=positive)
    key, value, line = r.raw("auto_find_batch_size")
    if key is not None and _maybe_on(value):
        # the Trainer halves the micro-batch on out-of-memory from the value stated (transformers 5.25.0 trainer.py:1585-1586);
        # recorded only where the file sets it, so an unset key adds no field to `goblin parse`; a value goblin cannot read
        # as false counts as on (no batch rule is then judged on a micro-batch that may be lowered at run time)
        r.explicit("auto_find_batch_size", True, key, line)
    r.take(
        "gradient_accumulation",
        ("gradient_accumulation_steps",),
        default=1,
        note=f"TrainingArguments.gradient_accumulation_steps=1: {where(parser, 'gradient_accumulation_steps')}",
        convert=positive,
    )
    r.take(
        "optimizer",
        ("optim", "optimizer"),
        default=optim_default,
        note=optim_note,
        convert=lambda v: OPTIMIZER_ALIASES.get(str(v), str(v)),
    )
    r.take(
        "torch_compile",
        ("torch_compile",),
        default=False,
        note=f"TrainingArguments.torch_compile=False: {where(parser, 'torch_compile')}",
        convert=_compile_flag,
    )
    r.take(
        "compile_mode",
        ("torch_compile_mode",),
        default=None,
        note=f"TrainingArguments.torch_compile_mode unset (torch.compile's default mode): {where(parser, 'torch_compile_mode')}",
        convert=lambda v: None if v is None else str(v),
    )
    r.take(
        "dataloader_workers",
        ("dataloader_num_workers",),
        default=0,
        note=f"TrainingArguments.dataloader_num_workers=0, batches load in the training process: {where(parser, 'dataloader_num_workers')}",
        convert=non_negative,
    )
    r.take(
        "pin_memory",
        ("dataloader_pin_memory",),
        default=True,
        note=f"TrainingArguments.dataloader_pin_memory=True: {where(parser, 'dataloader_pin_memory')}",
        convert=as_bool,
    )
    read_offload_and_kernels(r, ta_fsdp=parser != "axolotl")
    read_saves(r, parser)
    read_evals(r, "transformers" if plain and parser == "trl" else parser)
    key, value, line = r.raw("deepspeed")
    if key is not None:
        r.explicit("strategy", "deepspeed", key, line)
        if isinstance(value, str) and value.strip():
            read_deepspeed(r, value.strip(), key, line)
        return
    key, value, line = r.raw("fsdp", "fsdp_config")
    if key is not None and value not in ("", False, []):
        r.explicit("strategy", "fsdp", key, line)
    if parser != "axolotl":
        from .fsdp_wrap import no_auto_wrap

        fkey, fvalue, fline = r.raw("fsdp")
        if fkey is not None and no_auto_wrap(fvalue):
            r.explicit("fsdp_no_auto_wrap", True, fkey, fline)
    k, ref, ref_line = r.raw("fsdp_config")
    if k is not None and isinstance(ref, str) and ref.strip():
        from pathlib import Path

        from .deepspeed import read_fsdp_file

        found, note = read_fsdp_file(Path(r.path), ref.strip())
        r.notes.append(note)
        if parser != "axolotl" and found.get("offload_params"):  # TrainingArguments reads no offload from fsdp_config (TA_FSDP_OFFLOAD)
            file, dotted, _at = (found.get("offload_at") or [("", "offload_params", None)])[0]
            for field in ("cpu_offload", "offload_params", "offload_at"):
                found.pop(field, None)
            r.notes.append(
                f"`{dotted}` in {Path(file).name or ref.strip()} moves nothing to the host: TrainingArguments offloads FSDP parameters "
                f"only for `offload` in its `fsdp` option string ({TA_FSDP_OFFLOAD}); read as no offload"
            )
        found.pop("sharding_key", None)  # the sharding is recorded against the `fsdp_config:` line that names the file
        switch = found.pop("activation_checkpointing", None)
        offload_at = found.pop("offload_at", None)
        params = found.pop("offload_params", None)
        for field, val in found.items():
            if field not in r.sources or not r.sources[field].explicit:
                r.explicit(field, val, k, ref_line)
        if r.sources.get("cpu_offload") is not None and r.sources["cpu_offload"].key == k:
            record_offload(r, {"offload_params": params, "offload_at": offload_at})
        if switch:
            file, key, line = switch
            fold_fsdp_checkpointing(r, file, key, line, main_key=k, main_line=ref_line)
    if r.values.get("strategy") == "fsdp":
        read_fsdp_sharding(r)
        key, value, line = r.raw(*INLINE_FSDP_AC)
        if key is not None and _on(value):
            fold_fsdp_checkpointing(r, r.path, key, line, main_key=key, main_line=line)


def read_fsdp_sharding(r: Reader) -> None:
    """The FSDP sharding strategy the config names, where it names one: an inline `fsdp_config`
    strategy key, else TrainingArguments' `fsdp` options (`full_shard`, `shard_grad_op`,
    `hybrid_shard`, `hybrid_shard_zero2`: transformers 5.24.0 trainer_utils.py:969-976)."""
    from .deepspeed import FSDP_SHARDING_KEYS

    if r.values.get("sharding") is not None:
        return
    key, value, line = r.raw(*(f"fsdp_config.{k}" for k in FSDP_SHARDING_KEYS))
    if key is not None:
        from .deepspeed import fsdp_sharding

        named = fsdp_sharding({key.split(".", 1)[1]: value})
        if named is not None:
            r.explicit("sharding", named[0], key, line)
            return
    key, value, line = r.raw("fsdp")
    if key is None or isinstance(value, bool):
        return
    options = value.split() if isinstance(value, str) else [str(v) for v in value] if isinstance(value, list) else []
    for option, name in (("hybrid_shard_zero2", "hybrid_zero2"), ("hybrid_shard", "hybrid"), ("shard_grad_op", "grad_op"), ("full_shard", "full")):
        if option in [o.strip().lower() for o in options]:
            r.explicit("sharding", name, key, line)
            return


def read_saves(r: Reader, parser: str) -> None:
    """How often the trainer writes a checkpoint and what goes in it (TrainingArguments' save_strategy,
    save_steps, save_only_model), for the job-level checkpoint term. Axolotl leaves all three unset
    by default (its own schema) and its trainer builder saves every `save_steps` steps whenever that
    is set, else by `save_strategy`, else per epoch (axolotl 0.18 core/builders,
    TrainerBuilderBase._configure_save_and_eval_strategy); saves_per_epoch is a share of the run's
    steps, which a config does not fix: there only an explicit save_steps is read."""
    from ..frameworks import tables, where

    keys = tables.parser_keys(parser, "SFTConfig" if parser == "trl" else None)
    r.take(
        "save_only_model",
        ("save_only_model",),
        default=False,
        note=f"save_only_model=False, a checkpoint holds the optimizer state too: {where(parser, 'save_only_model')}",
        convert=as_bool,
    )
    s_key, strategy, _line = r.raw("save_strategy")
    n_key, steps, n_line = r.raw("save_steps")
    if parser == "axolotl" and n_key is None:
        return
    default_strategy = (keys.get("save_strategy") or {}).get("default")
    default_steps = (keys.get("save_steps") or {}).get("default")
    strategy = "steps" if parser == "axolotl" else str(strategy if s_key is not None else default_strategy or "").lower()
    if strategy != "steps":
        return  # per epoch, never, or only the best: not a per-step cost goblin can place
    if n_key is None:
        if isinstance(default_steps, int) and not isinstance(default_steps, bool) and default_steps >= 1:
            r.default("save_interval", default_steps, f"save_steps unset: {where(parser, 'save_steps')}")
        return
    if isinstance(steps, bool) or not isinstance(steps, (int, float)) or steps < 1 or (isinstance(steps, float) and not steps.is_integer()):
        r.notes.append(
            f"save_steps {steps!r} (line {n_line}) is a share of the run's total steps, which the config does not fix: checkpoint writes are not projected"
        )
        return
    r.explicit("save_interval", int(steps), n_key, n_line)


def _steps(value: Any) -> int | None:
    """A step count (an integer >= 1), else None: unset, 0, or a float below 1 (a share of the run)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 1 or (isinstance(value, float) and not value.is_integer()):
        return None
    return int(value)


def _positive(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def _is_share(value: Any) -> bool:
    """A number strictly between 0 and 1: a share (of the dataset, or of the run's steps)."""
    return _positive(value) and value < 1


def _epochs(r: Reader, key: str, default: float | None) -> float | None:
    k, value, _line = r.raw(key)
    if k is None:
        return default
    return float(value) if _positive(value) else None


def _read_evals_per_epoch(r: Reader, strategy: str, s_key: str | None, s_line: int | None, keys: dict[str, Any]) -> None:
    """Evaluations per epoch under transformers' TrainingArguments: one with eval_strategy "epoch"; with
    "steps", an eval_steps below 1 is a share of the run's steps (ceil(max_steps x share):
    transformers 5.25.0 trainer_callback.py:162-167), 1 / (share x num_train_epochs) per epoch when
    the run is a number of epochs (num_train_epochs default 3.0, max_steps default -1: the tables'
    TrainingArguments). Read only where the eval set is a share of the data (eval_fraction)."""
    if r.values.get("eval_fraction") is None:
        return
    m_key, max_steps, _ = r.raw("max_steps")
    if m_key is not None and _positive(max_steps):
        return  # a run of max_steps steps: how many an epoch holds needs the dataset's size
    if strategy == "epoch":
        if s_key is not None:
            r.explicit("evals_per_epoch", 1.0, s_key, s_line)
        return
    default_epochs = (keys.get("num_train_epochs") or {}).get("default")
    epochs = _epochs(r, "num_train_epochs", float(default_epochs) if isinstance(default_epochs, (int, float)) and _positive(default_epochs) else None)
    n_key, steps, n_line = r.raw("eval_steps")
    if strategy == "steps" and n_key is not None and _is_share(steps) and epochs is not None:
        r.explicit("evals_per_epoch", round(1 / (steps * epochs), 4), n_key, n_line)
        r.sources["evals_per_epoch"].note = f"eval_steps {steps:g} of a run of {epochs:g} epoch(s)"


def read_evals(r: Reader, parser: str) -> None:
    """The trainer's evaluation settings (_read_evals), and a note where it evaluates every N steps
    over an eval set whose size the config does not give: that term is left out, and said to be."""
    _read_evals(r, parser)
    interval, batch = r.values.get("eval_interval"), r.values.get("eval_batch_size")
    if r.values.get("eval_runs") and interval is not None and r.values.get("eval_examples") is None:
        at = f" at batch {batch}" if batch is not None else ""
        r.notes.append(
            f"evaluation every {interval} optimizer steps{at}: the eval set's size is not in the config, so its time is not projected (the verdict is the step's alone)"
        )


def _read_evals(r: Reader, parser: str) -> None:
    """Whether the trainer evaluates during training, how often, at what batch, and over how many
    examples, for the job-level evaluation term. Sources (each at the tables' version):

    - transformers 5.24.0 training_args.py: `eval_strategy` default "no" (:1106), `eval_steps` unset
      (:1110) falls back to `logging_steps` when the strategy is "steps" (__post_init__ :1574-1578),
      `per_device_eval_batch_size` 8 (:1128); `do_eval` is not read by the Trainer (its help, :1489-1492)
      and is set from the strategy (:1571-1572). The older key `evaluation_strategy` is accepted in
      4.36.2-4.50.3 and `eval_strategy` from 4.41.2 (frameworks/key_history.json). TRL's configs change `logging_steps` to 10 (trl 1.16.0 trainer/base_config.py:55).
    - Axolotl 0.18.0: evaluation only with a validation split (`val_set_size` > 0, default 0.0,
      schemas/config.py:1084) or `test_datasets` (core/builders/base.py:515-517); `eval_steps` sets
      steps (:518-521), `evals_per_epoch` becomes a share of the run's steps (utils/config/__init__.py:250-253);
      `eval_batch_size` unset is the micro-batch size (utils/config/__init__.py:208-209); a
      `val_set_size` above 1 is a count of examples (utils/data/sft.py:440-441).
    - LLaMA-Factory 0.9.5: its TrainingArguments are transformers' (eval keys and defaults as above);
      evaluation needs `val_size` or `eval_dataset` (hparams/parser.py:362-365), and a `val_size`
      above 1 is a count of examples (data/data_utils.py:114).
    - torchtune 0.6.1: no recipe reads a validation key (frameworks/torchtune.json), so its format
      does not come here.
    The eval set's size is read only where the config states it as a count; a fraction of a dataset
    of unknown size, or a dataset a script loads, leaves it unknown and the term unprojected."""
    from ..frameworks import tables, where

    keys = tables.parser_keys(parser, "SFTConfig" if parser == "trl" else None)
    if parser == "axolotl":
        v_key, val, v_line = r.raw("val_set_size")
        has_val = (isinstance(val, (int, float)) and not isinstance(val, bool) and val > 0) or r.raw("test_datasets")[0] is not None
        s_key, strategy, s_line = r.raw("eval_strategy", "evaluation_strategy")
        n_key, steps, n_line = r.raw("eval_steps")
        per_epoch = r.raw("evals_per_epoch")[0] is not None
        stated = n_key is not None or per_epoch or (s_key is not None and str(strategy).lower() != "no")
        if not (has_val and stated):
            return
        r.explicit("eval_runs", True, n_key or s_key or "evals_per_epoch", n_line)
        micro = r.values.get("micro_batch_size")
        r.take(
            "eval_batch_size",
            ("eval_batch_size",),
            default=micro,
            note="eval_batch_size unset: the micro-batch size (axolotl 0.18.0 utils/config/__init__.py:208-209)",
            convert=positive,
        )
        # eval_sequence_len caps eval rows instead of sequence_len (schemas/config.py:677-682, utils/data/sft.py:347-348)
        r.take("eval_seq_len", ("eval_sequence_len",), default=None, note="eval_sequence_len unset: sequence_len", convert=positive)
        if isinstance(val, (int, float)) and not isinstance(val, bool) and val > 1 and r.raw("rl")[0] is None and v_key is not None:
            r.explicit("eval_examples", int(val), v_key, v_line)
        if n_key is not None and (interval := _steps(steps)) is not None:
            r.explicit("eval_interval", interval, n_key, n_line)
            return
        if _is_share(val) and v_key is not None:
            r.explicit("eval_fraction", float(val), v_key, v_line)
        # evals_per_epoch k becomes eval_steps 1 / (k x num_epochs), a share of the run's steps (utils/config/__init__.py:250-253),
        # which the Trainer turns into ceil(max_steps x share) steps (transformers 5.25.0 trainer_callback.py:162-167):
        # k evaluations per epoch when the run is num_epochs epochs (default 1.0, schemas/training.py:267), not max_steps
        e_key, per_epoch_value, e_line = r.raw("evals_per_epoch")
        epochs = _epochs(r, "num_epochs", 1.0)
        if r.raw("max_steps")[0] is None and epochs is not None:
            if e_key is not None and _positive(per_epoch_value) and per_epoch_value * epochs > 1:
                r.explicit("evals_per_epoch", float(per_epoch_value), e_key, e_line)
            elif n_key is not None and _is_share(steps):
                r.explicit("evals_per_epoch", round(1 / (steps * epochs), 4), n_key, n_line)
                r.sources["evals_per_epoch"].note = f"eval_steps {steps:g} of a run of {epochs:g} epoch(s)"
        if e_key is None and n_key is None and s_key is not None and str(strategy).lower() == "epoch":
            r.explicit("evals_per_epoch", 1.0, s_key, s_line)
        if r.values.get("eval_fraction") is None or r.values.get("evals_per_epoch") is None:
            r.notes.append("evaluation per epoch or a share of the run's steps, which the config does not fix: evaluation time is not projected")
        return
    s_key, strategy, s_line = r.raw("eval_strategy", "evaluation_strategy")
    default_strategy = (keys.get("eval_strategy") or {}).get("default")
    strategy = str(strategy if s_key is not None else default_strategy or "no").lower()
    if strategy == "no":
        return
    if s_key is not None:
        r.explicit("eval_runs", True, s_key, s_line)
    else:  # a framework whose default strategy evaluates
        r.default("eval_runs", True, f"eval_strategy unset: {where(parser, 'eval_strategy')}")
    default_batch = (keys.get("per_device_eval_batch_size") or {}).get("default")
    r.take(
        "eval_batch_size",
        ("per_device_eval_batch_size", "per_gpu_eval_batch_size"),
        default=default_batch if isinstance(default_batch, int) and not isinstance(default_batch, bool) else None,
        note=f"per_device_eval_batch_size unset: {where(parser, 'per_device_eval_batch_size')}",
        convert=positive,
    )
    if parser.startswith("llamafactory"):
        v_key, val, v_line = r.raw("val_size")
        if v_key is not None and isinstance(val, (int, float)) and not isinstance(val, bool) and val > 1:
            r.explicit("eval_examples", int(val), v_key, v_line)
        elif v_key is not None and _is_share(val) and not _on(r.raw("streaming")[1]):
            # a share of the dataset it splits off; streaming takes int(val_size) rows instead (data/data_utils.py:110-114)
            r.explicit("eval_fraction", float(val), v_key, v_line)
    _read_evals_per_epoch(r, strategy, s_key, s_line, keys)
    if strategy != "steps":
        r.notes.append(f"evaluation per {strategy}, not every N steps: evaluation time is not projected")
        return
    n_key, steps, n_line = r.raw("eval_steps")
    if n_key is not None and steps != 0:
        interval = _steps(steps)
        if interval is None and r.values.get("eval_fraction") is not None and r.values.get("evals_per_epoch") is not None:
            return  # a share of the run over a share of the data: projected per epoch
        if interval is None:
            r.notes.append(
                f"eval_steps {steps!r} (line {n_line}) is a share of the run's total steps, which the config does not fix: evaluation time is not projected"
            )
            return
        r.explicit("eval_interval", interval, n_key, n_line)
        return
    # eval_steps unset or 0: TrainingArguments.__post_init__ takes logging_steps (transformers 5.24.0 training_args.py:1574-1578)
    l_key, logging, l_line = r.raw("logging_steps")
    logging_default = (keys.get("logging_steps") or {}).get("default")
    interval = _steps(logging if l_key is not None else logging_default)
    if interval is None:
        return
    fallback = "transformers 5.24.0 training_args.py:1574-1578"
    if l_key is not None:
        r.values["eval_interval"] = interval
        r.sources["eval_interval"] = FieldSource(
            file=r.path, key=l_key, line=l_line, explicit=True, note=f"eval_steps unset: logging_steps is used ({fallback})"
        )
    else:
        r.default("eval_interval", interval, f"eval_steps unset: logging_steps {interval} is used ({fallback}; {where(parser, 'logging_steps')})")


# FSDP's own activation checkpointing in the config itself; the `fsdp_` prefix is stripped by both
# transformers 5.24.0 (training_args.py:2784-2786) and Axolotl 0.18.0 (validation.py:1086-1100).
INLINE_FSDP_AC = ("fsdp_config.activation_checkpointing", "fsdp_config.fsdp_activation_checkpointing")


def _on(value: Any) -> bool:
    try:
        return as_bool(value)
    except ValueError:
        return False


def fold_fsdp_checkpointing(r: Reader, file: str, key: str, line: int | None, *, main_key: str, main_line: int | None) -> None:
    """FSDP's activation checkpointing is a second switch for recompute: record where it is, and read
    recompute as on even when the trainer's own flag is off."""
    r.sources[FSDP_AC] = FieldSource(
        file=file, key=key, line=line, explicit=True, note="FSDP activation checkpointing: every wrapped layer recomputes its forward"
    )
    where = "" if file == r.path else f" in {file}"
    if not r.values.get("gradient_checkpointing"):
        r.explicit("gradient_checkpointing", True, main_key, main_line)
        r.sources[
            "gradient_checkpointing"
        ].note = f"`{key}`{where} turns on FSDP's own activation checkpointing, which recomputes whatever the trainer's flag says"
    else:
        r.notes.append(
            f"both the trainer's checkpointing flag and `{key}`{where} are on; transformers 5.24.0 rejects that pair at Trainer init "
            "(trainer.py:879-884: use FSDP's activation checkpointing when using FSDP)"
        )


# FSDP's offload moves the parameters, not only the optimizer: torch 2.13.0 FSDP1
# torch/distributed/fsdp/api.py:235-238 (CPUOffload.offload_params "offloads gradients to CPU as well,
# meaning that the optimizer step runs on CPU"), FSDP2 _fully_shard/_fsdp_api.py:185-189
# (CPUOffloadPolicy: parameters, gradients and optimizer states on the host).
FSDP_PARAM_OFFLOAD = "torch 2.13.0 torch/distributed/fsdp/api.py:235-238, _fully_shard/_fsdp_api.py:185-189"
OFFLOAD_KEYS = ("fsdp_config.fsdp_offload_params", "fsdp_config.offload_params", "fsdp_offload_params", "fsdp_cpu_offload")
ACTIVATION_OFFLOAD_KEYS = ("activation_offloading", "enable_activation_offloading")
LIGER_KEYS = (
    "use_liger_kernel",  # TrainingArguments
    "enable_liger_kernel",  # LLaMA-Factory
    "liger_fused_linear_cross_entropy",  # Axolotl's Liger plugin
    "liger_rms_norm",
    "liger_glu_activation",
)


def _offloads(value: Any) -> bool:
    """Axolotl's activation_offloading takes true, false, `legacy` or `disk`."""
    if isinstance(value, str) and value.lower() in {"legacy", "disk"}:
        return True
    return as_bool(value)


# How the source of an offload read from a framework's own copy of a DeepSpeed file begins (base.offload_elsewhere).
SHIPPED_OFFLOAD = "host offload set in the framework's copy,"


# TrainingArguments bf16 with a DeepSpeed file whose bf16 block is absent or `"enabled": "auto"` (review12b #24): DeepSpeed
# runs bf16. TrainingArguments exports ACCELERATE_MIXED_PRECISION=bf16 (transformers 4.57.0 training_args.py:1873-1878) and
# fills an "auto" (integrations/deepspeed.py:116-123,197, fill_match; an absent block is left alone; 4.40.0 training_args.py:1682-1687,1886,
# trainer.py:4355 the same); the Accelerator hands
# that mixed precision to the DeepSpeed plugin, whose set_mixed_precision adds `"bf16": {"enabled": true}` where the file has
# no bf16 block (accelerate v0.29.3 accelerator.py:302-306, utils/dataclasses.py:884-886; v1.10.1 state.py:967,
# utils/dataclasses.py:1385-1387; the same block from v0.20.0 utils/dataclasses.py:645-647).
DS_BF16_SOURCE = (
    "accelerate v0.29.3 accelerator.py:302-306 and utils/dataclasses.py:884-886 (v1.10.1 state.py:967, utils/dataclasses.py:1385-1387): "
    'the DeepSpeed plugin adds `"bf16": {"enabled": true}` where the file has no bf16 block; transformers 4.57.0 '
    'integrations/deepspeed.py:116-123,197 fills an "auto" from TrainingArguments.bf16; read at transformers 4.40.0 and 4.57.0'
)


def ds_bf16_note(r: Reader, block: Any, name: str) -> None:
    """Says, with the source, that DeepSpeed runs the bf16 TrainingArguments asks for where the DeepSpeed file's bf16
    block is absent or "auto" (not a finding: the run gets bf16)."""
    k, v, at = r.raw("bf16")
    if k is None or not as_bool_or_false(v) or block not in ("absent", "auto"):
        return
    from ..frameworks.history import reading

    got = reading("transformers 5.25.0", r.path)
    m = re.match(r"(\d+)\.(\d+)", got.version) if got is not None and not got.assumed else None
    if m is not None and (int(m.group(1)), int(m.group(2))) < (4, 40):  # an older Trainer is not read: nothing said
        return
    said = "has no bf16 block" if block == "absent" else 'sets `bf16.enabled: "auto"`'
    where_at = f", line {at}" if at else ""
    r.notes.append(f"bf16 true (`{k}`{where_at}) with {name}, which {said}: DeepSpeed runs bf16 ({DS_BF16_SOURCE})")


def read_deepspeed(r: Reader, ref: str, key: str, line: int | None) -> None:
    from pathlib import Path

    from .deepspeed import read

    found, note = read(Path(r.path), ref, r.framework)
    r.notes.append(note)
    if found.get("missing") and r.path.endswith(".py"):
        from .launchers import find_script_launch

        launch = find_script_launch(r.path)
        if launch is not None and launch.elsewhere:  # a relative path of the other checkout the script runs from
            r.notes.append(f"{launch.where()} runs the script from another checkout: {ref!r} is read from there, not judged missing here")
            found["missing"] = False
    if found.get("missing"):
        r.values["deepspeed_missing"] = ref
    if found.get("path"):
        # the DeepSpeed file this config runs with, for advice about keys that live there
        r.sources[DEEPSPEED_FILE] = FieldSource(file=found["path"], key=key, line=line, explicit=True, note=f"`{key}: {ref}`")
    record_deepspeed_own(r.sources, r.notes, found, key, r.values)
    ds_bf16_note(r, found.get("bf16_block"), Path(ref).name)
    if "sharding" in found:
        r.explicit("sharding", found["sharding"], key, line)
        r.explicit("shard_group", found["shard_group"], key, line)
        r.sources["sharding"].note = f"`{found['sharding_key']}: {found['shard_group']}` in {Path(ref).name}"
    if found.get("zero3_full_saves"):
        r.explicit("zero3_full_saves", True, key, line)
    if found.get("overlap_comm") is False:
        r.explicit("comm_overlap", False, key, line)
        at = found.get("overlap_comm_line")
        in_file = found.get("shipped") or Path(ref).name
        r.sources["comm_overlap"].note = f"`zero_optimization.overlap_comm: false` in {in_file}" + (f" line {at}" if at else "")
    if "zero_stage" in found:
        r.explicit("zero_stage", found["zero_stage"], key, line)
        if found.get("shipped"):
            r.sources["zero_stage"].note = f"read from {found['shipped']}, the framework's copy"
        if found.get("stage_from") == "name":
            r.sources["zero_stage"].note = f"ZeRO stage read from the file name {Path(ref).name!r}, not its content"
    if found.get("cpu_offload") and not r.values.get("cpu_offload"):
        r.explicit("cpu_offload", True, key, line)
    if found.get("cpu_offload") and found.get("shipped") and r.sources.get("cpu_offload") is not None and r.sources["cpu_offload"].key == key:
        other = found.get("shipped_without_offload")
        r.sources["cpu_offload"].note = f"{SHIPPED_OFFLOAD} {found['shipped']}" + (f" (without offload: {other})" if other else "")
    src = r.sources.get("cpu_offload")
    if found.get("content") and not found.get("cpu_offload") and r.values.get("cpu_offload") and src is not None and src.key == key:
        # the name said offload (zero3_offload.json) but no offload block moves anything to the host
        r.explicit("cpu_offload", False, key, line)
        r.sources["cpu_offload"].note = f"{Path(ref).name} sets no offload device to cpu or nvme, whatever its name says"
    record_offload(r, found)


def record_offload(r: Reader, found: dict[str, Any]) -> None:
    """Parameter offload and where a referenced file switches offload on (OFFLOAD_AT sources)."""
    if not r.values.get("cpu_offload"):
        return
    if found.get("offload_params"):
        src = r.sources["cpu_offload"]
        r.explicit("offload_params", True, src.key or "", src.line)
    for i, (file, dotted, at) in enumerate(found.get("offload_at") or []):
        r.sources[f"{OFFLOAD_AT}.{i}"] = FieldSource(file=file, key=dotted, line=at, explicit=True, note="host offload switched on in a referenced file")


# TrainingArguments' FSDP offload comes from the `offload` option of its `fsdp` string alone: nothing in transformers reads
# `fsdp_config.offload_params` (nor its `fsdp_`-prefixed spelling). transformers 4.28.1 trainer.py:1449-1452
# (CPUOffload(offload_params=True) only for FSDPOption.OFFLOAD in args.fsdp); 4.40.0 training_args.py:1804-1805, 4.41.1
# :1848-1849, 4.44.2 :1921-1922, 4.48.0 :1974-1975, 4.57.0 :2014-2015 (FSDP_OFFLOAD_PARAMS set only for `offload` in the
# fsdp list), with trainer.py 4.40.0:4375-4382 copying only limit_all_gathers / activation_checkpointing from fsdp_config, and
# accelerate 0.29.3 utils/dataclasses.py:1093-1095 taking the offload from that environment variable; 5.14.1
# training_args.py:2746-2747 and :2849-2850 (the plugin's cpu_offload from `offload` or fsdp_config `cpu_offload`, not
# `offload_params`). Axolotl's own fsdp_config (its `fsdp_offload_params`) is another reader and keeps OFFLOAD_KEYS.
TA_FSDP_OFFLOAD = (
    "transformers 4.40.0 training_args.py:1804-1805 (FSDP_OFFLOAD_PARAMS only for `offload` in `fsdp`; likewise 4.28.1 "
    "trainer.py:1449-1452, 4.57.0 training_args.py:2014-2015, 5.14.1 :2849-2850)"
)
TA_IGNORED_OFFLOAD_KEYS = ("fsdp_config.fsdp_offload_params", "fsdp_config.offload_params")


def read_offload_and_kernels(r: Reader, *, ta_fsdp: bool = False) -> None:
    """Host offload (FSDP / ZeRO), activation offloading and Liger kernels, where the format has them. `ta_fsdp`: the
    file is parsed into TrainingArguments, whose FSDP offload is the `offload` option of `fsdp` (TA_FSDP_OFFLOAD)."""
    keys = tuple(k for k in OFFLOAD_KEYS if not (ta_fsdp and k in TA_IGNORED_OFFLOAD_KEYS))
    if ta_fsdp:
        ignored, said, at = r.raw(*TA_IGNORED_OFFLOAD_KEYS)
        fsdp_key, fsdp, _fl = r.raw("fsdp")
        if ignored is not None and as_bool_or_false(said) and not (fsdp_key is not None and "offload" in str(fsdp).lower()):
            where_at = f" (line {at})" if at else ""
            r.notes.append(
                f"`{ignored}: {str(said).lower()}`{where_at} moves nothing to the host: TrainingArguments offloads FSDP parameters only for "
                f"`offload` in its `fsdp` option string ({TA_FSDP_OFFLOAD}); read as no offload"
            )
    key, value, line = r.raw(*keys)
    if key is not None:
        r.explicit("cpu_offload", as_bool(value), key, line)
        if r.values["cpu_offload"]:
            r.explicit("offload_params", True, key, line)  # every one of these keys is FSDP's (FSDP_PARAM_OFFLOAD)
    else:
        fsdp_key, fsdp, fsdp_line = r.raw("fsdp")
        ds_key, ds, ds_line = r.raw("deepspeed")
        # TrainingArguments.fsdp is a string or list of options such as "full_shard auto_wrap offload".
        if fsdp_key is not None and "offload" in str(fsdp).lower():
            r.explicit("cpu_offload", True, fsdp_key, fsdp_line)
            r.explicit("offload_params", True, fsdp_key, fsdp_line)
        elif ds_key is not None and isinstance(ds, str) and "offload" in ds.lower():
            # The referenced ZeRO file is named for its offload (e.g. zero3_bf16_cpuoffload_all.json).
            r.explicit("cpu_offload", True, ds_key, ds_line)
        else:
            r.default("cpu_offload", False, "no offload option set: parameters and optimizer state stay on the GPU")
    r.take(
        "activation_offloading",
        ACTIVATION_OFFLOAD_KEYS,
        default=False,
        note="activation offloading is off unless asked for",
        convert=_offloads,
    )
    if r.values.get("activation_offloading") is False:
        k, v, ln = r.raw("gradient_checkpointing")
        if k is not None and isinstance(v, str) and v.lower() == "offload":
            r.explicit("activation_offloading", True, k, ln)
    r.take("fused_kernels", LIGER_KEYS, default=False, note=f"TrainingArguments.use_liger_kernel=False ({TA_DOCS})", convert=as_bool)


def as_bool_or_false(value: Any) -> bool:
    """A config value read as a flag; one goblin cannot read as a flag counts as off."""
    try:
        return as_bool(value)
    except (TypeError, ValueError):
        return False


def _compile_flag(value: Any) -> bool:
    if isinstance(value, str) and value.lower() == "auto":
        return True
    return as_bool(value)


def precision_writes(value: str, r_data: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if value == "bf16":
        out["bf16"] = True
        if isinstance(r_data, dict) and "fp16" in r_data:
            out["fp16"] = False
        # the weights' dtype follows: an fp16 recipe's `dtype: float16` (TRL ModelConfig.dtype,
        # trl 1.16.0 model_config.py:89; `torch_dtype` before) would keep fp16 weights under bf16
        for key in ("dtype", "torch_dtype"):
            if isinstance(r_data, dict) and str(r_data.get(key, "")).lower() in {"float16", "fp16", "half"}:
                out[key] = "bfloat16"
    elif value == "fp16":
        out["fp16"] = True
        if isinstance(r_data, dict) and "bf16" in r_data:
            out["bf16"] = False
    return out


def hf_writes(
    field: str,
    value: Any,
    workload: WorkloadConfig,
    data: Any,
    *,
    batch_key: str,
    checkpoint_key: str = "gradient_checkpointing",
    liger_key: str | None = None,
) -> dict[str, Any] | None:
    """Writes for a format whose keys follow TrainingArguments names."""
    if field == "precision":
        return precision_writes(value, data) or None
    if field == "micro_batch_size":
        return {batch_key: value}
    if field == "gradient_accumulation":
        return {"gradient_accumulation_steps": value}
    if field == "gradient_checkpointing":
        return checkpoint_off_writes(workload, {checkpoint_key: value}) if value is False else {checkpoint_key: value}
    if field == "optimizer":
        key = "optimizer" if isinstance(data, dict) and "optimizer" in data and "optim" not in data else "optim"
        return {key: value}
    if field == "torch_compile":
        return {"torch_compile": value}
    if field == "dataloader_workers":
        return {"dataloader_num_workers": value}
    if field == "pin_memory":
        return {"dataloader_pin_memory": value}
    if field == "activation_offloading":
        present = [k for k in ACTIVATION_OFFLOAD_KEYS if isinstance(data, dict) and k in data]
        return {present[0]: value} if present else None
    if field == "cpu_offload":
        present = [k for k in OFFLOAD_KEYS if get_path(data, k)[0]]
        if present:
            return {present[0]: value}
        return deepspeed_off_writes(workload, data) if value is False else None
    if field == "fused_kernels" and liger_key:
        return {liger_key: value}
    return None


def deepspeed_off_writes(workload: WorkloadConfig, data: Any) -> dict[str, Any] | None:
    """Offload off by naming the non-offload DeepSpeed (or FSDP) file the repository already has beside
    the offload one (`deepspeed: ds_z3_offload_config.json` -> `ds_z3_config.json`; `fsdp_config:
    fsdp_offload.yaml` -> the same content without offload); None when there is none, and the patch
    then edits the named file (patching.offload_in_referenced_file) or the skip says where the
    offload is set (base.offload_elsewhere)."""
    from pathlib import Path

    from .deepspeed import non_offload_fsdp_sibling, non_offload_sibling

    src = workload.sources.get("cpu_offload")
    kind = src.key.split(".")[-1] if src is not None and src.key else None
    if src is None or not src.key or kind not in ("deepspeed", "fsdp_config"):
        return None
    found, ref, _ = get_path(data, src.key)
    if not found or not isinstance(ref, str):
        return None
    if (src.note or "").startswith(SHIPPED_OFFLOAD):
        # the framework's copy (read_deepspeed): point the key at the file the same framework release ships without
        # offload (LLaMA-Factory's ds_z3_config.json beside ds_z3_offload_config.json), read back from the same table;
        # the gain is priced (costmodel: the host AdamW step, and ZeRO-3 parameter fetches, costmodel._param_fetch_s).
        # None when the release ships none: base.offload_elsewhere then says where the offload is set
        _, sep, shipped = (src.note or "").partition(" (without offload: ")
        if not sep or not shipped.endswith(")"):
            return None
        shipped = shipped.removesuffix(")")
        lead = "./" if ref.strip().startswith("./") and "/" in shipped else ""
        return {src.key: lead + shipped}  # `./examples/deepspeed/...` stays written as the config writes it
    if kind == "fsdp_config":  # an FSDP / accelerate file the config names: the same file with offload off
        other = non_offload_fsdp_sibling(Path(workload.path), ref.strip())
    else:
        other = non_offload_sibling(Path(workload.path), ref.strip(), workload.zero_stage)
    return {src.key: other} if other else None


# kind -> (sequences per example, a reference model). TRL 1.16.0: DPO batches chosen and rejected
# together (trl/trainer/dpo_trainer.py:306-318 repeats the prompts "for chosen and rejected", :1316
# "batch is [chosen, rejected]") and runs the reference on the same batch (:1321-1347); KTO scores one
# completion per example against a reference (kto_trainer.py:919-940); ORPO and CPO/SimPO concatenate
# chosen and rejected (experimental/orpo/orpo_trainer.py:745 concatenated_forward,
# experimental/cpo/cpo_trainer.py:792) and have no reference model.
# KTO's KL term (kl_forward): each row is one completion with a label, and the trainer also runs the policy, under
# no_grad, over the batch's completions paired with other rows' prompts, and the reference over the batch and that
# KL batch. TRL 1.16.0 kto_trainer.py: _compute_kl_logps :1337-1368 (no_grad :1364-1365) called at :1379 before the
# training forward :1396; reference forwards of both :1424-1435 unless `precompute_ref_log_probs` (read from the
# batch, :1417-1423; the policy's KL forward still runs); off only for `loss_type` apo_zero_unpaired (:815,
# `calculate_kl`). TRL 0.8.6 (the oldest release read with KTO): forward :906-967 (KL no_grad :925-929, then the
# training forward :931), reference forward of both :1047-1065 or precomputed :1040-1046; no loss_type, KL always
# (apo_zero_unpaired turns it off from 0.11.4, kto_trainer.py:533-535). LLaMA-Factory 0.9.5 train/kto/trainer.py:
# concatenated_forward :184-198 (KL no_grad :188-189, whatever `calculate_KL` :82-87 says), reference :202-219 runs
# it again under no_grad (:213-216), called from get_batch_loss_metrics :221-244; pref_ftx adds an SFT loss on the
# same log-probs (:249-251), kto_chosen_weight/kto_rejected_weight only weigh the loss: no option turns the KL pass
# off. 0.8.3 the same: :141-154 (:145-146), :156-174, :176-188.
PREFERENCE: dict[str, tuple[int, bool]] = {
    "dpo": (2, True),
    "ipo": (2, True),
    "kto": (1, True),
    "orpo": (2, False),
    "simpo": (2, False),
    "cpo": (2, False),
    # a repository trainer read from its code: chosen and rejected through the model together, no reference model
    # (launched._preference_of; review11b #22 LionAlignment PrecomputeDPOTrainer reads reference log-probs from the batch)
    "paired": (2, False),
}


KL_OFF_LOSSES = frozenset({"apo_zero_unpaired"})  # trl 1.16.0 kto_trainer.py:815, 0.11.4 :533-535


def trl_kl_off(r: Reader, kind: str) -> str | None:
    """What turns a TRL KTO run's KL term off, in the config's words (`loss_type: apo_zero_unpaired`, line 7); None
    when the KL forwards run (any other loss_type, or none: KTOConfig's default "kto", kto_config.py:198@1.16.0)."""
    if kind != "kto":
        return None
    key, value, line = r.raw("loss_type")
    if key is None or not isinstance(value, str) or value.strip().lower() not in KL_OFF_LOSSES:
        return None
    return f"{key}: {value.strip()}" + (f", line {line}" if line else "")


def read_preference(
    r: Reader, kind: str, *, key: str | None, line: int | None, adapter_ref: bool, ref_passed: bool, precompute: bool, how: str, kl_off: str | None = None
) -> None:
    """Chosen + rejected sequences and the reference model of a preference trainer.

    `adapter_ref`: the reference is the PEFT model with its adapter disabled (no second copy;
    trl 1.16.0 dpo_trainer.py:908-914, :1328-1336). `ref_passed`: the framework loads a reference
    itself and hands it to TRL, which then keeps it even when log-probs are precomputed
    (dpo_trainer.py:928-929; only a reference TRL made itself is dropped, :909-914, :1033-1034).
    `precompute`: `precompute_ref_log_probs`, no reference forward during training (:1323-1324).
    `kl_off`: for KTO, what in the config turns the KL term off (TRL's `loss_type: apo_zero_unpaired`); None: the
    KL forwards run (see PREFERENCE above)."""
    seqs, has_ref = PREFERENCE[kind]
    src = FieldSource(file=r.path, key=key, line=line, explicit=True, note=how)
    r.values["sequences_per_example"] = seqs
    r.sources["sequences_per_example"] = src
    forward = has_ref and not precompute
    copy = has_ref and not adapter_ref and (ref_passed or not precompute)
    r.values["reference_forward"] = forward
    r.values["reference_copy"] = copy
    kl = kind == "kto" and kl_off is None
    r.values["kl_forward"] = kl
    r.sources["reference_forward"] = r.sources["reference_copy"] = r.sources["kl_forward"] = src
    said = (
        "no reference model"
        if not has_ref
        else ("reference log-probs precomputed, no reference forward in training" if precompute else "a reference forward of the same batch every micro-batch")
        + ("; the reference is the adapter-disabled base (no second copy)" if adapter_ref else "; a second copy of the weights in GPU memory" if copy else "")
    )
    if kind == "kto":
        said += (
            (
                "; the KL term: a no-grad forward of the policy over each example's completion paired with another example's prompt"
                + (", and the reference's forward of those pairs" if forward else "")
            )
            if kl
            else f"; no KL term ({kl_off})"
        )
    shown = "chosen and rejected together" if kind == "paired" else kind
    r.notes.append(f"preference training ({shown}): {seqs} sequence{'s' if seqs > 1 else ''} per example, {said} ({how})")


ATTENTION_MODULES = frozenset({"q_proj", "k_proj", "v_proj", "o_proj", "qkv_proj", "q", "k", "v", "o", "query_key_value", "attention", "self_attn"})


def lora_targets_of(value: Any) -> str:
    """ "attention" when every named module is an attention projection, else "all" (all-linear, MLP names, regexes)."""
    names = [value] if isinstance(value, str) else list(value) if isinstance(value, list | tuple) else []
    names = [str(n).strip() for part in names for n in str(part).split(",") if str(n).strip()]
    if names and all(n.rsplit(".", 1)[-1] in ATTENTION_MODULES for n in names):
        return "attention"
    return "all"


def read_lora(r: Reader, *, dropout: tuple[str, ...], targets: tuple[str, ...], linear: str | None = None) -> None:
    """LoRA dropout and adapted modules where the file names them; the schema's defaults (0.0, all
    linears) are PEFT's, Axolotl's and LLaMA-Factory's when a file does not say."""
    key, value, line = r.raw(*dropout)
    if key is not None and value is not None:
        r.explicit("lora_dropout", min(max(float(value), 0.0), 0.99), key, line)
    if linear is not None:
        key, value, line = r.raw(linear)
        if key is not None and as_bool(value or False):
            r.explicit("lora_targets", "all", key, line)
            return
    key, value, line = r.raw(*targets)
    if key is not None and value:
        r.explicit("lora_targets", lora_targets_of(value), key, line)
