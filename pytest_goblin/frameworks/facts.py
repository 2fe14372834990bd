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
    # Liger's fused linear cross-entropy does not return the logits in training: llama.py/qwen2.py
    # `skip_logits = self.training and (labels is not None or shift_labels is not None)`
    # (liger-kernel v0.8.2-7 ead96b61 src/liger_kernel/transformers/model/qwen2.py:98-113, llama.py:113-118).
    "lf.liger_asft": (
        "llamafactory 0.9.5 train/sft/trainer.py:152-160 (use_asft_loss: compute_loss calls model(**inputs) with the labels) and "
        "train/trainer_utils.py:693-695 (asft_loss_func: without logits it returns outputs.loss, the plain cross-entropy); "
        "liger-kernel ead96b61 src/liger_kernel/transformers/model/qwen2.py:98-113 (training with labels: logits not materialised)"
    ),
    "lf.liger_logits_loss": (
        "llamafactory 0.9.5 train/sft/trainer.py:108-118 (use_dft_loss / use_eaft_loss set compute_loss_func, which reads outputs['logits']: "
        "train/trainer_utils.py:642, :774); transformers 5.24.0 trainer.py:2163-2164 pops the labels before the forward, so Liger "
        "materialises the logits and its fused linear cross-entropy never runs"
    ),
    "lf.liger_stage": (
        "llamafactory 0.9.5 model/loader.py:142 (require_logits for every stage but pt/sft) and model/model_utils/liger_kernel.py:94-96 "
        "(then fused_linear_cross_entropy=False: the logits are materialised)"
    ),
    # packing alone concatenates samples under one all-ones attention mask (cross-attention between them);
    # neat_packing numbers each sample in the mask and turns on block-diagonal attention.
    "lf.neat_packing": (
        "llamafactory 0.9.5 hparams/data_args.py:108-115 (packing: 'Enable sequences packing'; neat_packing: 'Enable sequence packing "
        "without cross-attention'), :185-186 (neat_packing sets packing), data/processor/supervised.py:213-216 (packing alone: mask all 1s), "
        "hparams/parser.py:519 (block_diag_attn = neat_packing), :320-321 (neat_packing raises outside stage sft)"
    ),
    "lf.neat_packing_fa2": (
        "llamafactory 0.9.5 data/collator.py:527-528 (neat_packing with flash_attention_2 unpads the packed row and asserts "
        "'bsz should be 1 for neat packing'), :491-493 (raises for gemma4 and gpt_oss with flash_attention_2)"
    ),
    "lf.neat_packing_4d": "llamafactory 0.9.5 data/collator.py:524-525 (without flash_attention_2: a 4D block-diagonal mask of seq x seq per sample)",
    "lf.checkpointing": "llamafactory 0.9.5 hparams/model_args.py (disable_gradient_checkpointing=False: checkpointing on)",
    # LLaMA-Factory v1.
    "lfv1.parser": "llamafactory 0.9.5 v1/config/arg_parser.py:36-58 (parse_dict with allow_extra_keys=False unless ALLOW_EXTRA_KEYS)",
    # Axolotl.
    "axolotl.dataloader": f"{AXOLOTL_AT} src/axolotl/utils/schemas/config.py:2132-2140 (without a dataloader_* key, num_workers is the GPU count, pin_memory True, prefetch_factor 256)",
    "axolotl.bf16": f"{AXOLOTL_AT} src/axolotl/utils/schemas/config.py:559 (bf16 default 'auto': bf16 where the GPU supports it)",
    "axolotl.extra_keys": f"{AXOLOTL_AT} src/axolotl/utils/schemas/config.py:212 (pydantic model without extra='forbid': unknown keys are dropped)",
    # torchtune.
    "torchtune.dtype": "torchtune 0.6.1 torchtune/training/precision.py:101 (get_dtype with no dtype given is float32); with dtype bf16 weights, gradients and optimizer state are bf16 (recipes/full_finetune_distributed.py:77-78)",
    "torchtune.packed_max_seq_len": (
        "torchtune 0.6.1 (a6290a5b) torchtune/datasets/_chat.py:181-185, _instruct.py:149-153, _alpaca.py:89-93 "
        "(packed=True with tokenizer.max_seq_len unset raises ValueError 'PackedDataset requires a max_seq_len to be set on the tokenizer.')"
    ),
    # read by hand: the recipes check it on self._optimizer_in_bwd, which the table's extractor (cfg.* reads) does not see
    "torchtune.optimizer_in_bwd_accumulation": (
        "torchtune 0.6.1 recipes/full_finetune_single_device.py:147-157, full_finetune_distributed.py:186-196, qat_distributed.py:165-175, "
        "full_dpo_distributed.py:146-156, ppo_full_finetune_single_device.py:410-414 (optimizer_in_bwd with gradient_accumulation_steps > 1 raises "
        "RuntimeError 'Gradient accumulation is not supported with optimizer in bwd.')"
    ),
    "torchtune.qat_compile": "torchtune 0.6.1 recipes/qat_distributed.py:137-139 (compile=True raises ValueError)",
}

# The version a key a goblin edit may write first appeared in, read from the framework's source at
# both versions (the first where it is present, the last before it where it is absent). A config
# whose repository pins an older version gets no edit that adds the key (pins.py). `oldest` is the
# oldest version read: for a pin older than that, presence is not known and the edit is not offered.
# transformers wheels read: 4.36.2, 4.44.2, 4.45.0 (pip download --no-deps), 5.24.0 (the venv).
# trl: the huggingface/trl repository's tags (v0.7.10 d9a1d189, v0.7.11 399eed78, v0.8.6 a82f9ea1, v0.9.3 c0819ee9).
OLDEST_READ = "the oldest version read"  # in a citation: present there, first appearance not known
KEY_SINCE: dict[tuple[str, str], tuple[str, str]] = {
    ("transformers", "use_liger_kernel"): (
        "4.45.0",
        "transformers 4.45.0 transformers/training_args.py:1507 (use_liger_kernel field); not in 4.44.2 transformers/training_args.py",
    ),
    ("transformers", "activation_checkpointing"): (
        "5.24.0",
        "transformers 5.24.0 transformers/training_args.py:908 (activation_checkpointing, with gradient_checkpointing:926 as its alias); "
        "not in 4.45.0; 5.x versions before 5.24.0 not read, so a pin below 5.24.0 gets gradient_checkpointing",
    ),
}
for _key, _line in (
    ("per_device_train_batch_size", 690),
    ("bf16", 891),
    ("dataloader_num_workers", 984),
    ("optim", 1096),
    ("dataloader_pin_memory", 1140),
    ("gradient_checkpointing", 1175),
    ("torch_compile", 1256),
    ("torch_compile_mode", 1265),
    ("gradient_accumulation_steps", 716),
    ("fp16", 900),
):
    KEY_SINCE[("transformers", _key)] = ("4.36.2", f"transformers 4.36.2 transformers/training_args.py:{_line} (the oldest version read)")
KEY_SINCE[("trl", "packing")] = (
    "0.9.3",
    "trl v0.9.3 trl/trainer/sft_config.py:56 (SFTConfig.packing, the class added in f30daa42); v0.8.6 has no sft_config.py (packing was an SFTTrainer argument)",
)
KEY_SINCE[("trl", "attn_implementation")] = (
    "0.7.11",
    "trl v0.7.11 trl/trainer/model_config.py:32 (ModelConfig.attn_implementation, added in 9a71e67b); v0.7.10 has no model_config.py",
)
KEY_SINCE[("trl", "use_peft")] = ("0.7.11", "trl v0.7.11 trl/trainer/model_config.py:40 (ModelConfig.use_peft); v0.7.10 has no model_config.py")
# The value a `optim` edit writes: OptimizerNames.ADAMW_TORCH_FUSED is in 4.36.2 training_args.py:140.
VALUE_SINCE: dict[tuple[str, str, str], tuple[str, str]] = {
    ("transformers", "optim", "adamw_torch_fused"): (
        "4.36.2",
        "transformers 4.36.2 transformers/training_args.py:140 (OptimizerNames.ADAMW_TORCH_FUSED; the oldest version read)",
    ),
    # from the wheels: 4.46.3 modeling_utils.py:1579-1584 accepts eager, sdpa, flash_attention_2 and raises ValueError
    # for anything else; 4.47.1 modeling_utils.py:1544-1549 adds flex_attention
    ("transformers", "attn_implementation", "flex_attention"): (
        "4.47.1",
        "transformers 4.47.1 transformers/modeling_utils.py:1544-1549 (flex_attention accepted); 4.46.3 modeling_utils.py:1579-1584 raises ValueError on it",
    ),
}
