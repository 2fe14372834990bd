"""What Unsloth does with a training script's model load and TRL trainer, read from its source at one release:
FastLanguageModel/FastModel.from_pretrained's defaults, the vLLM engine `fast_inference=True` builds, and how its
patched GRPOTrainer generates with that engine. Facts only, each cited; the Python script reader
(formats/python.py) records the load (`UnslothLoad`) and rollout.py models the step from it.

Read at unsloth 2026.8.19 (github unslothai/unsloth, commit 015bdef0, unsloth/_version.py:22) and unsloth_zoo
2026.8.13 (github unslothai/unsloth-zoo, commit ce232d6c). The from_pretrained defaults and the GRPO vLLM setter
are the same at 2025.7.2 (tag July-2025, loader.py:90-106, rl.py:718-723) and 2025.12.7 (tag December-2025,
loader.py:124-142, rl.py:1092-1099)."""

from __future__ import annotations

from dataclasses import dataclass

RELEASE = "unsloth 2026.8.19"
VERSION = "2026.8.19"
AT = "@2026.8.19"
ZOO_AT = "@unsloth_zoo 2026.8.13"

# The model classes whose from_pretrained is Unsloth's loader (unsloth/models/loader.py:407 FastLanguageModel,
# :1140 FastModel, :2180 FastVisionModel(FastModel), :2184 FastTextModel(FastModel))
LOADERS = frozenset({"FastLanguageModel", "FastModel", "FastVisionModel", "FastTextModel"})

# from_pretrained's defaults: FastLanguageModel (loader.py:410-430) and FastModel (loader.py:1167-1194) agree
DEFAULT_LENGTH = 2048
DEFAULT_UTILIZATION = 0.5
DEFAULT_AT = {
    "max_seq_length": f"unsloth/models/loader.py:412, :1169{AT}",
    "load_in_4bit": f"unsloth/models/loader.py:414, :1171{AT}",
    "fast_inference": f"unsloth/models/loader.py:429, :1193{AT}",
    "gpu_memory_utilization": f"unsloth/models/loader.py:430, :1194{AT}",
}
# Keywords that change what load_in_4bit's default does: a quantization_config (loader.py:442-456), 8-bit, full
# fine-tuning or QAT (handed to FastModel, :487; full fine-tuning turns 4-bit off, :1264-1271), 16-bit or fp8
# (:1310-1319 refuses a combination), a `-bf16` checkpoint name (:629-635)
QUANT_KEYWORDS = frozenset({"load_in_4bit", "load_in_8bit", "load_in_16bit", "load_in_fp8", "full_finetuning", "quantization_config", "qat_scheme"})

# fast_inference=True: Unsloth loads vLLM first with the load's gpu_memory_utilization, max_seq_length and
# use_bitsandbytes=load_in_4bit, builds the training model from vLLM's own weights and marks them shared
# (unsloth/models/llama.py:2775-2822); on ROCm it keeps fast_inference on (:2359-2371)
ENGINE_AT = f"unsloth/models/llama.py:2775-2822{AT}"
# Importing unsloth patches TRL's trainers and configs (llama.py:3947 PatchFastRL; rl.py:3823-3855 sets
# trl.<Trainer>/trl.<Config> to Unsloth's): a `from trl import GRPOTrainer` before the unsloth import keeps TRL's own
PATCH_AT = f"unsloth/models/llama.py:3947, unsloth/models/rl.py:3823-3855{AT}"
# Unsloth's GRPOTrainer with a model that holds that engine: use_vllm set true whatever the config says, vllm_mode
# colocate on trl >= 0.18 (rl.py:3970-3995), and the engine the load built is the one it generates with
# (rl.py:4047-4048 `self.llm = model.vllm_engine`), so GRPOConfig's vllm_gpu_memory_utilization is not what reserves
SETTER_AT = f"unsloth/models/rl.py:3970-3995, :4047-4048{AT}"
COLOCATE_FROM_TRL = "0.18.0"
# The engine's arguments: no tensor_parallel_size (one GPU per engine), bitsandbytes weights when load_in_4bit
# (unsloth_zoo/vllm_utils.py:2740-2770); its reservation is gpu_memory_utilization x the memory free when it loads,
# less an allowance for training activations (vllm_utils.py:1610-1663)
ZOO_ENGINE_AT = f"unsloth_zoo/vllm_utils.py:2740-2770{ZOO_AT}"
ZOO_RESERVE_AT = f"unsloth_zoo/vllm_utils.py:1610-1663{ZOO_AT}"
# UnslothGRPOConfig's own defaults where the config sets none (rl.py:3317-3327)
GRPO_DEFAULTS = {"beta": 0.001, "vllm_importance_sampling_correction": False}
GRPO_DEFAULTS_AT = f"unsloth/models/rl.py:3317-3327{AT}"
# Every TRL config class Unsloth generates (UnslothSFTConfig, UnslothGRPOConfig, UnslothDPOConfig, ...: one per trl
# trainer file, rl.py:4235-4243) takes these defaults in place of TrainingArguments' where the config passes none
# (rl.py:3263-3312, the `replacements` written over the generated signature); those that change the workload goblin
# prices. The same at 2025.7.2 (tag July-2025, rl.py:463-470) and 2025.12.7 (tag December-2025, rl.py:724-731).
# Not here: learning_rate, seed, logging (no workload change); bf16/fp16 False, which the trainer then fills from the
# model's dtype (rl.py:2351-2437, with a float32 list of model families goblin does not read).
CONFIG_DEFAULTS: dict[str, int | str] = {
    "per_device_train_batch_size": 4,
    "gradient_accumulation_steps": 2,
    "optim": "adamw_8bit",
    "per_device_eval_batch_size": 4,
}
CONFIG_DEFAULTS_AT = f"unsloth/models/rl.py:3263-3312{AT}"
# UnslothGRPOConfig.__init__ (its own code runs before TRL's __post_init__, rl.py:508-521) replaces
# per_device_train_batch_size with num_generations (default 8, rl.py:3283) where neither steps_per_generation nor
# generation_batch_size is set and gradient_accumulation_steps x WORLD_SIZE x the batch is not a multiple of
# num_generations (rl.py:3466-3483); on a TRL without those two keys, where the batch alone is not (rl.py:3485-3497).
# So TRL's own whole-groups ValueError is not what such a run meets.
GRPO_NUM_GENERATIONS = 8
GRPO_BATCH_AT = f"unsloth/models/rl.py:508-521, :3466-3497{AT}"
# get_peft_model turns gradient checkpointing on with use_gradient_checkpointing="unsloth" by default: FastModel's
# (loader.py:1147-1151 -> FastBaseModel.get_peft_model, vision.py:1869, applied by post_patch_model :2137, which records
# the mode on the model, :2217) and FastLanguageModel's (FastLlamaModel.get_peft_model, llama.py:3079, recorded by
# patch_peft_model :3499, :3604). Unsloth's trainers put that recorded mode back over the config's
# gradient_checkpointing (rl.py:439-442 and :554-555, the generated trainer's __init__ :3127-3128), so a config's
# `gradient_checkpointing=False` does not turn it off; the call's own keyword does.
PEFT_LOADERS = frozenset({"FastLanguageModel", "FastModel", "FastVisionModel", "FastTextModel"})
PEFT_CHECKPOINTING_DEFAULT = "unsloth"
PEFT_CHECKPOINTING_AT = f"unsloth/models/vision.py:1869, :2137, :2217; llama.py:3079, :3604{AT}"
PEFT_CHECKPOINTING_KEPT_AT = f"unsloth/models/rl.py:439-442, :554-555, :3127-3128{AT}"
# Sleep mode: Unsloth turns TRL's on where its engine was built with it (UNSLOTH_VLLM_STANDBY, rl.py:4001-4005)
STANDBY_AT = f"unsloth/models/rl.py:4001-4005{AT}"


# load_in_8bit=True beside load_in_4bit True (its default where the call passes none): FastLanguageModel hands an 8-bit
# load to FastModel (loader.py:487), whose from_pretrained raises RuntimeError("Unsloth: Can only load in 4bit or 8bit
# or 16bit, not a combination!") when two of load_in_4bit, load_in_8bit, load_in_16bit, load_in_fp8 are on
# (loader.py:1310-1319), before any weight loads. Not where full_finetuning turns them all off first (:1264-1271), nor
# where a quantization_config asking for 8-bit turns load_in_4bit off (:442-456), nor where bitsandbytes is unusable
# and both are dropped to 16-bit (:1276-1308; on ROCm: no bitsandbytes newer than 0.48.2.dev0, device_type.py:160-170).
# The same refusal (`if load_in_4bit and load_in_8bit: raise RuntimeError`) in every tagged release read from 2025.3.11
# (tag 2025-03, loader.py:476-477) on, through 2025.9.6 (tag September-2025-v2, :572-573) and 2025.10.10 (tag
# October-2025, the sum of the flags, :637-638); 2025.2.4 (tag 2025-02) has no load_in_8bit keyword.
EIGHT_BIT_RAISES_FROM = "2025.3.11"
EIGHT_BIT_AT = f"unsloth/models/loader.py:487, :1310-1319{AT}; the same refusal from 2025.3.11 (tag 2025-03, loader.py:476-477)"
EIGHT_BIT_SAYS = "Unsloth: Can only load in 4bit or 8bit or 16bit, not a combination!"

# ROCm: the release runs on AMD GPUs (unsloth/device_type.py:53-56 is_hip, :70-73 "hip", :87 "only works on NVIDIA, AMD
# and Intel GPUs"); there, without a bitsandbytes newer than 0.48.2.dev0, it loads 16-bit instead of 4-bit rather than
# failing (device_type.py:160-170 ALLOW_BITSANDBYTES, loader.py:554-584 "disabling 4bit/8bit"). No blocker follows from
# it; the bitsandbytes findings (quant.bitsandbytes_rocm_build, blocker.bitsandbytes_before_rocm_wheels) cover the build.
ROCM_AT = f"unsloth/device_type.py:53-87, :160-170; unsloth/models/loader.py:554-584{AT}"


@dataclass(frozen=True)
class UnslothLoad:
    """One `Fast*Model.from_pretrained(...)` call of a script that imports unsloth, as written (None: not passed)."""

    loader: str  # FastLanguageModel, FastModel, ...
    line: int
    fast_inference: bool | None  # the keyword's literal value; None: not passed, or not a literal goblin reads
    fast_inference_passed: bool  # the keyword is there (a value goblin cannot read leaves the engine unknown)
    gpu_memory_utilization: float | None
    gpu_memory_utilization_line: int | None
    load_in_4bit: bool | None  # the quantization as the load runs it: its own keyword, else the default where it applies
    patches_trl: bool  # unsloth is imported before the trl trainer the script builds (PATCH_AT)
    standby: bool  # UNSLOTH_VLLM_STANDBY set to other than "0" in the script's environment settings
    max_seq_length: int | None = None
    max_seq_length_line: int | None = None
    max_seq_length_file: str | None = None  # the file that line is in, where not the script (a YAML it loads: formats/dictcfg.py)
    length_passed: bool = False  # the keyword is there (None above: a value goblin cannot read)
    # load_in_8bit=True with load_in_4bit on (written True, or its default): the line of load_in_8bit, and whether 4-bit
    # is the default (EIGHT_BIT_AT); None where the call does not combine them or a keyword turns one off first
    eight_bit_with_4bit: tuple[int, bool] | None = None

    @property
    def vllm(self) -> bool | None:
        """Whether the load builds a vLLM engine: fast_inference true; None where goblin cannot read it."""
        if self.fast_inference_passed and self.fast_inference is None:
            return None
        return bool(self.fast_inference)  # not passed: fast_inference=False (DEFAULT_AT)

    @property
    def utilization(self) -> tuple[float, str]:
        """The engine's gpu_memory_utilization and where it comes from."""
        if self.gpu_memory_utilization is not None:
            return (
                self.gpu_memory_utilization,
                f"gpu_memory_utilization {self.gpu_memory_utilization:g} of {self.loader}.from_pretrained (line {self.gpu_memory_utilization_line or self.line})",
            )
        return DEFAULT_UTILIZATION, (
            f"{self.loader}.from_pretrained passes no gpu_memory_utilization (line {self.line}): Unsloth's default {DEFAULT_UTILIZATION:g} "
            f"({DEFAULT_AT['gpu_memory_utilization']})"
        )
