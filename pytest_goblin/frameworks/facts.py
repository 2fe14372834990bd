"""Framework behaviour that lives in code, not in a field default: read by hand, cited file:line.

The tables (*.json) give keys and their declared defaults; these are the rules a trainer applies
on top of them (post-init rewrites, validators, dtype inference). Each entry names the version
and the place it was read, so a finding can say where a default comes from.
"""

from __future__ import annotations

AXOLOTL_COMMIT = "067b021c8b87a9e5e380b9173c704cf7340e30f5"
AXOLOTL_AT = f"axolotl 0.18.0 ({AXOLOTL_COMMIT[:10]})"

CITES: dict[str, str] = {
    # TRL: bf16 None -> `not fp16` in __post_init__; gradient_checkpointing True for every TRL config.
    "trl.bf16": "trl 1.16.0 trl/trainer/base_config.py:68 (bf16=None) and :108 (__post_init__: bf16 = not fp16)",
    "trl.gradient_checkpointing": "trl 1.16.0 trl/trainer/base_config.py:62 (gradient_checkpointing=True)",
    "trl.parser": "trl 1.16.0 trl/scripts/utils.py:353 (TrlParser: unknown config keys raise)",
    # transformers: the default optimizer follows the installed torch.
    "transformers.optim": "transformers 5.24.0 transformers/training_args.py:806-813 (optim adamw_torch_fused when torch >= 2.8, else adamw_torch)",
    # LLaMA-Factory classic.
    "lf.compute_dtype": (
        "llamafactory 0.9.5 hparams/parser.py:512-515 (bf16/pure_bf16 -> bfloat16, fp16 -> float16), model/patcher.py:321-325 "
        "(else inferred from the checkpoint by extras/misc.py:241 infer_optim_dtype: bfloat16 where supported), model/loader.py:155 (torch_dtype='auto')"
    ),
    "lf.upcast": (
        "llamafactory 0.9.5 model/adapter.py:313-325 (trainable parameters upcast to float32 unless pure_bf16, use_badam, or ZeRO-3 without quantization)"
    ),
    "lf.parser": "llamafactory 0.9.5 hparams/parser.py:103-114 (parse_dict with allow_extra_keys=False unless ALLOW_EXTRA_ARGS)",
    "lf.checkpointing": "llamafactory 0.9.5 hparams/model_args.py (disable_gradient_checkpointing=False: checkpointing on)",
    # LLaMA-Factory v1.
    "lfv1.parser": "llamafactory 0.9.5 v1/config/arg_parser.py:36-58 (parse_dict with allow_extra_keys=False unless ALLOW_EXTRA_KEYS)",
    # Axolotl.
    "axolotl.dataloader": f"{AXOLOTL_AT} src/axolotl/utils/schemas/config.py:2132-2140 (no dataloader_* key: num_workers = GPU count, pin_memory True, prefetch_factor 256)",
    "axolotl.bf16": f"{AXOLOTL_AT} src/axolotl/utils/schemas/config.py:559 (bf16 default 'auto': bf16 where the GPU supports it)",
    "axolotl.extra_keys": f"{AXOLOTL_AT} src/axolotl/utils/schemas/config.py:212 (pydantic model without extra='forbid': unknown keys are dropped)",
    # torchtune.
    "torchtune.dtype": "torchtune 0.6.1 torchtune/training/precision.py:101 (get_dtype(None) is float32); with dtype bf16 weights, gradients and optimizer state are bf16 (recipes/full_finetune_distributed.py:77-78)",
    "torchtune.qat_compile": "torchtune 0.6.1 recipes/qat_distributed.py:137-139 (compile=True raises ValueError)",
}
