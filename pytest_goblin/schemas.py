"""The pydantic models every layer shares.

Values cross module boundaries only as these models, so a backend, a tool, a runner
and a reporter can never disagree about a field's meaning or unit.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1

# mxfp4 / mxfp6: OCP microscaling formats for the linear layers' GEMMs (MI355X's matrix cores run them;
# kb/hardware.yaml `fp4_tflops` / `fp6_tflops`), like fp8 with bf16 attention and output projection
Precision = Literal["fp32", "fp16", "bf16", "fp8", "mxfp4", "mxfp6"]
Attention = Literal["eager", "sdpa", "flash", "flex"]
Method = Literal["full", "lora", "qlora", "dora"]
Evidence = Literal["measured", "projected"]
Verdict = Literal["pass", "warn", "fail", "error"]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldSource(Model):
    """Where a workload field's value came from, so a patch can land on the right line."""

    file: str
    key: str | None = None  # dotted key path in the file, None for a framework default
    line: int | None = None  # 1-based
    explicit: bool = False
    note: str | None = None  # for defaults: which framework default and where it is documented
    # the config sets this field in code goblin cannot evaluate (`bf16=bf16` from a launcher variable set at run
    # time): the value is the default assumed for the projection, and no rule judges it (rules.applicable)
    unread: bool = False


class LegacyFlash(Model):
    """`from_pretrained(..., use_flash_attention_2=True)` at a transformers release that does not take the keyword
    (formats/legacy_flash.py): the load raises TypeError (blocker.legacy_flash_kwarg)."""

    file: str  # the file the call is in, as shown
    line: int
    release: str  # the transformers release the run is on
    how: str  # how that release was found (history.RunVersion.how)
    assumed: bool  # no pin fixes it: the newest goblin read


class StatedGpu(Model):
    """The GPU the repository says a config ran on, where goblin knows its memory (formats/stated_gpu.py): a run that
    trained there fits there, so a projection above it is the projection's (its assumed lengths), not the config's."""

    phrase: str  # the words as written ("8xMI300X 192GB")
    gpu: str  # the GPU named ("MI300X 192GB")
    capacity_gb: float  # decimal GB, as costmodel.memory_gb projects
    capacity: str  # how a message says it ("206 GB (MI300X's 192 GiB label)")
    file: str
    line: int


class VisionTower(Model):
    """The vision encoder a multimodal recipe runs on each sample's image beside the text decoder
    (formats/tune_vision.py: torchtune's Llama 3.2 Vision builders and transform; formats/lf_vision.py: LLaMA-Factory's
    Qwen2-VL / Qwen2.5-VL). Its tokens never enter the text sequence as they are: the encoder runs on them, and the
    decoder's cross-attention layers project them to keys and values (Llama 3.2 Vision), or the projector merges `merge`
    of them into one token the text sequence already holds (Qwen-VL)."""

    tokens_per_image: int  # max_num_tiles x (patches per tile + 1 CLS): the collate pads tiles to the batch's most
    images_per_sample: int = 1
    layers: int  # encoder transformer layers (CLIP layers + projection-head layers)
    hidden: int
    heads: int
    intermediate: int
    projection_in: int  # width of the concatenated hidden states the projection to the decoder reads
    decoder_hidden: int
    fusion_layers: int  # decoder cross-attention layers reading the image tokens
    kv_dim: int  # their key/value width
    method: str  # how the encoder trains: "full", "lora" or "frozen" (encoder_trainable); frozen: no activations kept
    source: str  # where the figures were read (repo, file:line@version)
    mlp_matrices: int = 2  # 2: fc1/fc2 (CLIP, Qwen2-VL); 3: a gated MLP (Qwen2.5-VL's gate/up/down)
    # encoder tokens merged into one decoder token by the projector (Qwen2-VL's spatial_merge_size**2 = 4; 1: none)
    merge: int = 1
    projection_hidden: int = 0  # the projector MLP's inner width (Qwen2-VL's merger); 0: one linear map
    # tokens a windowed layer attends to (Qwen2.5-VL's 112-pixel windows: 64 patches) and the layers attending over the
    # whole image; None: every layer attends over the whole image
    window: int | None = None
    full_attention_layers: int | None = None
    # how many images per sample, and where that was read or assumed (a message says it); None: read from the builder
    images_note: str | None = None

    @property
    def trains(self) -> bool:
        return self.method != "frozen"


class ModelShape(Model):
    """Decoder-transformer shape; enough to count FLOPs, bytes and memory."""

    name: str
    family: str = "unknown"
    params_b: float | None = None  # billions of parameters
    active_params_b: float | None = None  # MoE: parameters touched per token
    n_experts: int | None = None  # MoE: routed experts per layer
    experts_per_token: int | None = None  # MoE: routed experts each token goes to
    n_layers: int | None = None
    hidden: int | None = None
    n_heads: int | None = None
    n_kv_heads: int | None = None
    intermediate: int | None = None
    vocab: int | None = None
    known: bool = False  # False when the shape was not found in the table
    # Set when the shape is a base model's, inferred for a fine-tune from its name (or its name and the
    # chat template the config names): "shape of llama-3-8b (inferred from the name)". None: the
    # model's own shape (table row, config.json) or no shape at all.
    inferred: str | None = None
    # The dtype the checkpoint's config.json records (`torch_dtype`, transformers 5 writes `dtype`): what
    # `from_pretrained(..., torch_dtype="auto")` loads (transformers 5.25.0 modeling_utils.py:830-834). None: not read.
    checkpoint_dtype: Literal["fp32", "bf16", "fp16"] | None = None
    # A vision-language model's vision encoder (tower and the projector merging it into the decoder), in billions of
    # parameters, counted in params_b (modelzoo's vision-language rows); None: not a vision-language row, or not split.
    vision_params_b: float | None = None


class WorkloadConfig(Model):
    """The normalized, format-independent training workload."""

    path: str
    format: str
    framework: str | None = None  # the framework and version whose defaults were applied, e.g. "trl 1.16.0"
    model: ModelShape
    method: Method = "full"
    # A multimodal full fine-tune whose language model is frozen (LLaMA-Factory `freeze_language_model: true`, a
    # script's `model.llm.requires_grad_(False)`): the shape priced is the language model's, held in its load dtype with
    # no gradients, optimizer state or master copy (only `requires_grad` parameters reach the optimizer, transformers
    # 5.25.0 trainer.py:1274,1291,1297); the part that trains (a vision tower, a projector, a resampler) runs before it,
    # so backward still flows through it for input gradients (costmodel.trains_language_model). The trained part's own
    # size is not in the shape: not priced. Read in `sources["frozen_language_model"]`.
    frozen_language_model: bool = False
    # A full fine-tune of a vision-language model that leaves its vision tower and projector frozen (LLaMA-Factory's
    # freeze_vision_tower and freeze_multi_modal_projector, both true by default): the shape's `vision_params_b` keep
    # their weights but take no gradients or optimizer state (costmodel.trainable_params). Read in
    # `sources["frozen_vision_tower"]`.
    frozen_vision_tower: bool = False
    precision: Precision = "fp32"  # the dtype the GEMMs compute in (autocast or pure half precision)
    # The dtype the model's weights are held in (torch_dtype / dtype / the checkpoint's, where the
    # framework infers it). None: not known from the config; the cost model then assumes fp32
    # weights under mixed precision. Gradients and AdamW states follow the weights' dtype.
    weight_dtype: Literal["fp32", "bf16", "fp16"] | None = None
    # The dtype gradients are accumulated and reduced in, where the framework lets a config choose it apart
    # from the weights' (Megatron-LM: `--bf16` accumulates and all-reduces in fp32 unless `--grad-reduce-in-bf16`,
    # NVIDIA/Megatron-LM megatron/training/arguments.py:1204-1216, training.py:2635 and
    # core/distributed/param_and_grad_buffer.py:924 @d98e8a64dd). None: the cost model's default (fp32 under
    # mixed precision, the weights' dtype for pure half precision and adapters; the collectives move 2 bytes a gradient,
    # 4 under fp32 precision). Set, it is what memory holds and what the gradient collectives move (costmodel._communication).
    grad_dtype: Literal["fp32", "bf16", "fp16"] | None = None
    # The dtype a LoRA/DoRA adapter computes in where no autocast runs (pure half precision over a half base,
    # formats/semantics.pure_half_precision): PEFT from 0.12.0 casts bf16/fp16 adapters to fp32 (peft 0.12.0
    # peft/mapping.py:138, peft/tuners/tuners_utils.py:316-332), before it they take the base weight's dtype (peft 0.11.1
    # peft/tuners/lora/layer.py:123-131); each adapter casts its input to it (lora/layer.py:553@0.12.0), so its dropped
    # copy and output are held in it (costmodel.layer_activation_bytes). None: the compute dtype (under autocast).
    adapter_dtype: Literal["fp32", "bf16", "fp16"] | None = None
    seq_len: int = 2048
    micro_batch_size: int = 1
    gradient_accumulation: int = 1
    # TrainingArguments' `auto_find_batch_size: true` (HF/TRL, Axolotl, LLaMA-Factory): the Trainer starts at the
    # micro-batch and halves it on out-of-memory (transformers 5.25.0 training_args.py:989-994, trainer.py:1585-1586
    # find_executable_batch_size), so the micro-batch the file states is a ceiling; read only where set (hfstyle.read_common)
    auto_find_batch_size: bool = False
    attention: Attention = "sdpa"
    # Sliding-window attention: keys each query attends to, itself included (flash_attn's window_size=(W-1, 0)
    # with causal=True). Priced only for `flash`, whose kernels skip the tiles outside the band
    # (costmodel.attended_keys). None: full causal attention.
    attention_window: int | None = Field(default=None, ge=1)
    gradient_checkpointing: bool = False
    recompute_share: float = Field(default=1.0, gt=0.0, le=1.0)  # with checkpointing: share of layers recomputed
    activation_offloading: bool = False  # checkpointed activations parked in host memory
    cpu_offload: bool = False  # parameters or optimizer state offloaded to the host (FSDP / ZeRO)
    # With cpu_offload: parameters (and their gradients) live on the host too, not only the optimizer
    # state and its step: FSDP's offload_params / CPUOffloadPolicy, DeepSpeed's `offload_param`.
    offload_params: bool = False
    # Preference training (DPO / IPO / KTO / ORPO / SimPO / CPO): the sequences each example runs through the
    # model (2: chosen and rejected in one batch), a frozen reference model's no-grad forward of the same
    # batch every micro-batch, and whether that reference is a second copy of the weights in GPU memory
    # (false for a LoRA's adapter-disabled base). Read from the trainer class / `rl` / `stage` (hfstyle.read_preference).
    sequences_per_example: int = Field(default=1, ge=1, le=2)
    reference_forward: bool = False
    reference_copy: bool = False
    # KTO's KL term: every micro-batch also runs a no-grad forward of the policy over a batch of mismatched (prompt,
    # completion) pairs, one per example, and with `reference_forward` the reference's forward of it too (trl 1.16.0
    # kto_trainer.py:1379, :1424-1435; llamafactory 0.9.5 train/kto/trainer.py:188-189, :213-216). False for every
    # other trainer and for TRL's `loss_type: apo_zero_unpaired` (kto_trainer.py:815). Priced in costmodel.no_grad_forwards.
    kl_forward: bool = False
    # Knowledge distillation (torchtune's knowledge_distillation_* recipes, `teacher_model:`): the frozen teacher's shape
    # when the config names a builder goblin knows. It is built in the recipe's `dtype`, sharded like the student, and
    # runs one no-grad forward of every micro-batch (costmodel.teacher_*). None: no teacher, or one of unknown shape.
    teacher: ModelShape | None = None
    # `fsdp_reshard_after_forward: False` (torchtune 0.6.1 knowledge_distillation_distributed.py:253): the teacher's FSDP units
    # are never resharded, as the teacher runs no backward (costmodel._teacher_memory)
    teacher_unsharded: bool = False
    fused_kernels: bool = False  # Liger-style fused RMSNorm / SwiGLU / RoPE / cross-entropy
    optimizer: str = "adamw_torch"
    # Optimizer state per trainable parameter, in bytes, where a DeepSpeed file's own "optimizer" block names what runs
    # (formats.deepspeed.own_optimizer); None: priced from `optimizer` (costmodel._state_bytes)
    optimizer_state_bytes: float | None = Field(default=None, ge=0)
    torch_compile: bool = False
    compile_mode: str | None = None  # torch.compile's mode when the config names one (`max-autotune`, ...)
    dataloader_workers: int = 0
    pin_memory: bool = True
    quantization: Literal["none", "4bit", "8bit"] = "none"
    # LoRA adapters: PEFT's dropout on each adapted linear's input (each keeps its own dropped copy
    # for backward) and which linears carry adapters; the frameworks' defaults when a file does not say
    lora_dropout: float = Field(default=0.0, ge=0.0, lt=1.0)
    lora_targets: Literal["all", "attention"] = "all"
    # A checkpoint quantized ahead of time (GPTQ / AWQ): its int weights are fixed by the model, not a key
    prequantized: Literal["gptq", "awq"] | None = None
    sample_packing: bool = False
    # The job around the step: optimizer steps between checkpoint saves when the trainer saves every
    # N steps (None: per epoch, never, a share of the run's steps, or not known), and whether a save
    # leaves out the optimizer state (`save_only_model`). Read by costmodel.checkpoint_seconds.
    save_interval: int | None = Field(default=None, ge=1)
    save_only_model: bool = False
    # ZeRO-3 from a DeepSpeed file without `stage3_gather_16bit_weights_on_model_save: true`: every save writes
    # DeepSpeed's full checkpoint (optimizer state included) even with save_only_model (costmodel.checkpoint_parts)
    zero3_full_saves: bool = False
    # Evaluation during training: whether the trainer evaluates at all (an eval strategy other than
    # "no", or a validation split), the optimizer steps between evaluations when it evaluates every N
    # steps (None: per epoch, a share of the run, or not known), the per-device eval batch size, and
    # the eval set's size when the config states it as a count (None: a fraction of an unknown
    # dataset, or a dataset the config only names). Read by costmodel.eval_seconds.
    eval_runs: bool = False
    eval_interval: int | None = Field(default=None, ge=1)
    eval_batch_size: int | None = Field(default=None, ge=1)
    eval_examples: int | None = Field(default=None, ge=1)
    eval_seq_len: int | None = Field(default=None, ge=1)  # an eval-only length cap (Axolotl eval_sequence_len); None: seq_len
    # The eval set as a share of the dataset (Axolotl val_set_size, LLaMA-Factory val_size below 1: a split of
    # the training data) and how many evaluations an epoch holds (Axolotl evals_per_epoch, an eval_steps
    # share of a run of num_epochs epochs without max_steps, or one per epoch): the eval share is then a
    # ratio that needs no dataset size (costmodel.per_epoch_eval_ratio). None: not stated that way.
    eval_fraction: float | None = Field(default=None, gt=0, lt=1)
    evals_per_epoch: float | None = Field(default=None, gt=0)
    # Sampled token lengths of the dataset's samples (formats/datasets.py): the lengths at 0, 5, ..., 100
    # percent of the rows read and their mean; None: no local dataset was measured, every sample is
    # priced at seq_len (sources["token_lengths"] says which and why).
    token_quantiles: list[int] | None = None
    mean_tokens: float | None = None
    # The collator pads every micro-batch to seq_len (Axolotl pad_to_sequence_len, a script's
    # padding="max_length"), so sampled lengths do not shorten it; False: padded to the batch's longest.
    pad_to_max: bool = False
    # Why this trainer or model cannot pack samples (the framework's own source, cited); None: it can.
    packing_blocked: str | None = None
    # The contrastive loss with in-batch negatives the training code computes, as read (formats/contrastive.py: the file and
    # line of its cross-entropy against arange targets); None: none read. The loss's batch is then the micro-batch, so
    # trading micro-batch for accumulation changes the objective (rules that do are not applied), and packing is not offered.
    in_batch_negatives: str | None = None
    # The model is a sequence classifier (formats/seqcls.py: the script's `...ForSequenceClassification.from_pretrained`,
    # with the cited transformers source): one label per row through a hidden x num_labels head, so the cost model prices
    # no vocabulary logits or LM-head GEMM, and packing is not offered. None: a language model.
    sequence_classification: str | None = None
    # Why the attention is not the attn_implementation's: a script calls its own replacement (LongLoRA's
    # replace_llama_attn(use_flash_attn, ...)); rules on the attention value are then not judged. None: not replaced.
    attention_patched: str | None = None
    # Debug modes the training script turns on where it runs, each "what (the call, its line and torch's source)"
    # (formats/pydebug.py: autograd anomaly detection, deterministic algorithms). They slow every step by an amount
    # goblin does not price: a footgun (debug.mode_left_on), and a projected verdict that is not decided.
    debug_modes: list[str] = Field(default_factory=list)
    # Why eager attention is the model's own training choice at the transformers release the recipe pins
    # (frameworks/attention.eager_for_training): no attention swap is offered. None: not so, or not known.
    eager_for_training: str | None = None
    # The config or script lets the checkpoint's own code build the model (`trust_remote_code` true: formats/attn_default.py):
    # the class that runs is not transformers', so the attention support read from transformers' source is not its.
    remote_code: bool = False
    # `use_flash_attention_2=True` passed to a model load at a transformers release without it (formats/legacy_flash.py)
    legacy_flash: LegacyFlash | None = None
    # The transformers release whose attention support the rules read (frameworks/attention.attention_release: the
    # release goblin reads the config at, from its pin). None: the shipped table (not pinned, or pinned outside it).
    attention_release: str | None = None
    # The DeepSpeed file the config or its launch line names, where no folder of the config's git repository holds a
    # file at that path (formats/deepspeed.absent_from_repository): blocker.deepspeed_file_missing. None: found or not concluded.
    deepspeed_missing: str | None = None
    # The GPU the repository says this config ran on, with its memory (formats/stated_gpu.py); None: not stated, or its memory unknown.
    stated_gpu: StatedGpu | None = None
    # Where every sample's length is assumed and the config as it is projects above the stated GPU's memory at seq_len:
    # the longest sample that fits there, which the run that trained there bounds its samples to; every assumed sample is
    # priced at it (costmodel.assumed_length, costmodel.bounded_by_stated; issue 23). None: no such bound.
    length_bound: int | None = Field(default=None, ge=1)
    # The vision encoder each sample's image runs through (formats/tune_vision.py); None: a text-only model, or not read.
    vision: VisionTower | None = None
    # False: a ZeRO-3 DeepSpeed file sets `zero_optimization.overlap_comm: false`, so its all-gathers and reduce-scatters
    # run on the compute stream (DeepSpeed v0.19.5 runtime/zero/parameter_offload.py:189-190, stage3.py:335-336) and the
    # cost model hides none of them (costmodel._communication). None: not read, or DeepSpeed's default (ZeRO-3: on,
    # runtime/zero/config.py:383-385).
    comm_overlap: bool | None = None
    # A file parsed into TrainingArguments names `fsdp` sharding without its `auto_wrap` option (formats/fsdp_wrap.py).
    fsdp_no_auto_wrap: bool = False
    # ... and the pinned transformers release (as said, with its pin) that then wraps nothing below the root, the whole
    # model trained (formats/fsdp_wrap.one_unit): distributed.fsdp_one_unit. None: not so, or not judged.
    fsdp_one_unit: str | None = None
    world_size: int = 1  # GPUs the job runs on; sources["world_size"] says whether it was read or assumed
    # The topology behind world_size: nodes and GPUs (processes) per node, each with its own source
    # (the config, a launcher script in its repository, or assumed). None: not known; the cost model
    # then fills nodes by the target's GPUs per node (formats/launchers.py, costmodel.topology).
    nodes: int | None = Field(default=None, ge=1)
    gpus_per_node: int | None = Field(default=None, ge=1)
    context_parallel: int = 1  # GPUs one sequence is split across (context / sequence parallelism)
    tensor_parallel: int = 1  # GPUs each layer's weights are split across (tensor parallelism)
    # Pipeline parallelism: stages the layers are split across (GPUs per pipeline), and the model chunks
    # each stage holds under the interleaved 1F1B schedule (Megatron's virtual pipeline; 1: plain 1F1B).
    # The micro-batches per pipeline flush are the gradient accumulation steps. costmodel.pipeline_bubble.
    pipeline_parallel: int = Field(default=1, ge=1)
    virtual_pipeline: int = Field(default=1, ge=1)
    expert_parallel: int = Field(default=1, ge=1)  # GPUs the routed experts are split across (expert parallelism)
    strategy: Literal["single", "ddp", "fsdp", "deepspeed"] = "single"
    zero_stage: int | None = None
    # How a sharded strategy places its shards, where the config (or a file it names) says:
    # "full" (FSDP FULL_SHARD / ZeRO-3 over every data-parallel rank), "grad_op" (FSDP SHARD_GRAD_OP),
    # "hybrid" / "hybrid_zero2" (FSDP HYBRID_SHARD / _HYBRID_SHARD_ZERO2, HSDP: sharded within
    # `shard_group` GPUs, replicated across groups), "hpz" (ZeRO++ `zero_hpz_partition_size`: a
    # secondary parameter partition within `shard_group` GPUs for the backward all-gathers), "mics"
    # (DeepSpeed MiCS `mics_shard_size`: every state sharded within `shard_group`, replicated across).
    # None: not stated (FSDP's and ZeRO-3's default is full sharding). costmodel._communication.
    sharding: Literal["full", "grad_op", "hybrid", "hybrid_zero2", "hpz", "mics"] | None = None
    shard_group: int | None = Field(default=None, ge=1)  # GPUs of one shard group; None: the GPUs of a node
    env: dict[str, str] = Field(default_factory=dict)
    ignored_rules: list[str] = Field(default_factory=list)
    sources: dict[str, FieldSource] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)

    @property
    def tokens_per_micro_batch(self) -> int:
        """Tokens one GPU holds per micro-batch; context parallelism splits each sequence."""
        return self.micro_batch_size * self.seq_len // max(1, self.context_parallel)

    @property
    def tokens_per_step(self) -> int:
        """Tokens one optimizer step consumes on one device."""
        return self.tokens_per_micro_batch * self.gradient_accumulation


# Fields a rule may read or edit. Kept explicit so `goblin kb lint` can check names.
WORKLOAD_FIELDS: frozenset[str] = frozenset(
    name
    for name in WorkloadConfig.model_fields
    if name
    not in {
        "path",
        "format",
        "framework",
        "model",
        "sources",
        "notes",
        "ignored_rules",
        "env",
        "token_quantiles",
        "mean_tokens",
        "pad_to_max",
        "stated_gpu",
        "length_bound",
        "vision",
    }
)


class Hardware(Model):
    """One accelerator from kb/hardware.yaml; every figure cites its source."""

    id: str
    name: str
    vendor: Literal["amd", "nvidia"]
    arch: str
    # the vendor's label, in GiB about (the MI300X's "192 GB" reports 191.98 GiB, the H100's "80 GB" 79.65 GiB);
    # fit checks use hardware.capacity_gb
    hbm_gb: float
    # The memory the device itself reports, in bytes (rocminfo pool, nvidia-smi), when a source gives it;
    # None: only the label is known, and capacity is the label read as decimal GB
    reported_bytes: int | None = Field(default=None, gt=0)
    hbm_tb_s: float
    bf16_tflops: float
    fp16_tflops: float
    fp8_tflops: float | None = None
    fp32_tflops: float | None = None  # None: no source gives it; the projection says what it assumed
    fp4_tflops: float | None = None  # dense MXFP4 matrix peak; None: the GPU has no MXFP4 path
    fp6_tflops: float | None = None  # dense MXFP6 matrix peak; None: the GPU has no MXFP6 path
    compute_units: int | None = None
    interconnect: str | None = None
    gpus_per_node: int | None = None  # GPUs on one scale-up fabric
    scale_up_gb_s: float | None = None  # per-GPU one-direction bandwidth to its node's peers (xGMI, NVLink)
    scale_out_gb_s: float | None = None  # per-GPU one-direction network bandwidth across nodes
    bf16_native: bool = True
    # The figures are one die's of a multi-die package that shows each die as its own device (MI250X: a GCD)
    per_gcd: bool = False
    citations: list[str]
    notes: list[str] = Field(default_factory=list)  # figures derived rather than read, and how


class WasteBudget(Model):
    """Share of one step (0..1 each) by where the time goes."""

    compute: float = 0.0
    memory_bound: float = 0.0
    attention: float = 0.0
    recompute: float = 0.0
    data_wait: float = 0.0  # measured (a profile) only: the projection has no data-loading term
    optimizer: float = 0.0
    communication: float = 0.0
    idle: float = 0.0


class ThroughputInterval(Model):
    """A projected tokens/s per GPU and the interval a real run is expected inside (projection only;
    docs/projection.md, "Assumptions and the interval")."""

    nominal: float
    low: float
    high: float
    # Why the interval is wider than the assumption grid and the target's calibration residuals:
    # what the calibration rows do not cover, or a model shape that is a guess. Empty: covered.
    widened: list[str] = Field(default_factory=list)


class RunMetrics(Model):
    run_id: str
    variant: str  # "baseline" or a patch id
    evidence: Evidence
    runner: str
    device: str
    step_time_s: list[float]  # one sample per timed step (projected: one value)
    tokens_per_step: int
    # None where nothing counted them: a training command's log gives tokens/s only when the
    # framework counted the tokens (never samples/s x the padded length)
    tokens_per_s: float | None
    samples_per_s: float | None
    throughput: str | None = None  # the figure as read, with its unit and source (command runner)
    peak_memory_gb: float | None = None
    mfu: float | None = None  # model FLOPs utilization against the target's dense peak
    waste: WasteBudget | None = None
    tokens_per_s_interval: ThroughputInterval | None = None  # projected runs: tokens/s per GPU, nominal and interval
    versions: dict[str, str] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)


# `matches`: a regular expression searched in the value's text; `version_lt`: a version older than the value;
# `version_ge`: a version the same as or newer than the value.
Op = Literal["eq", "ne", "in", "not_in", "lt", "le", "gt", "ge", "contains", "matches", "version_lt", "version_ge"]


class Predicate(Model):
    """`fact op value`; a fact is a workload field, `hw.<field>`, `env.<NAME>`, `host.<name>` or `derived.<name>`.

    An unset fact is None: `{fact: env.X, op: eq, value: null}` reads "X is not set".
    """

    fact: str
    op: Op = "eq"
    value: Any


class Transform(Model):
    set: dict[str, Any] = Field(default_factory=dict)  # workload field -> new value
    env: dict[str, str] = Field(default_factory=dict)  # environment variables to export
    # Raise the micro-batch toward this size at the same global batch, as far as memory allows.
    micro_batch_to: int | None = Field(default=None, ge=2)
    # Lower the micro-batch, raising gradient accumulation so that micro-batch x accumulation stays exactly
    # the same, to the fastest micro-batch at which the workload with `set` applied fits with room to spare
    # (rules.checkpointing_off_limit_gb), and only where that is projected faster than the config as it is.
    micro_batch_down: bool = False


class MeasuredAblation(Model):
    """Published runs of the same training with only the rule's change made, on GPUs the cost model does not price
    the change from (docs/projection.md names each pair): where they measure more than the projection, a small
    projected gain cannot clear a config (tools/audit_tools._unsure_small_rule)."""

    low: float = Field(ge=1.0)  # the least published ratio, after / before throughput
    high: float = Field(ge=1.0)
    gpus: str  # "NVIDIA A100, H100": whose hardware measured them
    pairs: int = Field(ge=1)
    source: str  # where each figure is, file:line or URL and table
    # True: goblin's projection prices every term the runs measure (benchmarks/offload_ablations.py sets each beside it),
    # so the figures are a record, not a bar a small projected gain must clear (audit_tools._measured_beyond)
    priced: bool = False


class Impact(Model):
    low: float = Field(ge=1.0)  # speedup multiplier, lower end
    high: float = Field(ge=1.0)
    source_figure: str | None = None  # the source's own figure, quoted
    measured: MeasuredAblation | None = None


class Rule(Model):
    id: str = Field(pattern=r"^[a-z0-9_]+\.[a-z0-9_]+$")
    category: str
    title: str
    symptom: str
    applies_when: list[Predicate]
    transform: Transform = Field(default_factory=Transform)
    footgun: bool = False  # no safe automatic patch: guidance only
    guidance: str | None = None
    impact: Impact
    risk: str
    citation: str = Field(pattern=r"^https://")
    priority: int = 0  # ties between rules editing one field: higher wins
    # Everything the rule's edit gains is a term of the projection (host data time, optimizer passes): where it
    # projects under 0.5% on its own, the edit is not offered even in a patch that pays (tools.audit_tools).
    # False: part of its worth is outside the model (numerics, a kernel the projection prices as another).
    priced: bool = False
    # the package whose ROCm build the rule asks for: a footgun is not raised where the repository installs that build
    # (frameworks/rocm_ship.py); a patch rule whose edit needs it is shown, with a note that the repository installs it
    rocm_build: Literal["torch", "vllm", "flash-attn", "bitsandbytes"] | None = None


class Blocker(Model):
    """A reason the run will not start (or will crash) on the target GPU: kb/blockers.yaml.

    Read from the config's own keys and launcher lines (not from the normalized workload, which
    keeps only what the cost model needs). `severity: blocker` fails the item whatever the
    speedup; `requirement` (a package build the target needs, or a launch line wrong only on some hosts: not a certain failure) is reported
    as a footgun. Every entry names the framework source, at a version, that shows the failure.
    """

    id: str = Field(pattern=r"^blocker\.[a-z0-9_]+$")
    severity: Literal["blocker", "requirement"] = "blocker"
    title: str
    symptom: str  # what the run does on the target: the error, and where it is raised
    formats: list[str] = Field(default_factory=list)  # the formats whose keys it reads; empty: all
    keys: list[str] = Field(default_factory=list)  # config keys (dotted), the first present is `value`
    launch: str | None = None  # a regular expression over the config's comment and launcher lines
    # `launch` read only on a variable assignment inside a shell `if` block of the repository launcher the topology comes from
    # (a fallback some hosts take: `elif command -v nvidia-smi; then N=$(nvidia-smi -L | wc -l)`), never on an unconditional line
    launch_fallback: bool = False
    anchor: list[str] = Field(default_factory=list)  # workload fields whose line a finding without `keys` points at
    when: list[Predicate] = Field(default_factory=list)  # over `value`, workload, hw.*, derived.*, pin.*, key.<another config key>
    fix: Any = None  # the one value that, written to the key found, removes the blocker (None: no one-edit fix)
    # the package whose ROCm build the entry asks for: not raised where the repository installs that build (frameworks/rocm_ship.py)
    rocm_build: Literal["torch", "vllm", "flash-attn", "bitsandbytes"] | None = None
    # a built-in check in place of keys/launch/pin (blockers.CHECKS): `keys_at_version`, the keys the
    # transformers/TRL release the recipe runs on does not have (frameworks/history.py); `torch_rocm_build`,
    # a torch pin with no ROCm build for the GPU's architecture (frameworks/torch_rocm.py); `module_removed_at_version`,
    # a script's import of a module its framework release removed (frameworks/modules.py); `model_type_unknown_at_version`,
    # a model whose model_type the pinned transformers does not have (frameworks/model_types.py); `grpo_generation_batch`, a TRL
    # GRPO/RLOO batch that does not hold whole groups of num_generations, `grpo_eval_batch` its eval batch, and `dpo_loss_type`, a DPO loss_type the release's
    # DPOTrainer does not compute, and `kto_kl_term`, a KTOConfig KTOTrainer refuses while its KL term is on, and `trl_config_raises`, other valid keys a TRL config or trainer refuses at start-up (frameworks/trl_limits.py); `unsloth_load_raises`, an Unsloth load's load_in_8bit beside its default load_in_4bit (frameworks/unsloth.py); `deepspeed_mismatch`, a DeepSpeed JSON passed as
    # TrainingArguments' `deepspeed` whose explicit value differs from the run's own (formats/deepspeed.explicit_values);
    # `cuda_launch_path`, an NVIDIA GPU resource or CUDA-only image on the launch path found for the config (formats/container.py);
    # `fp16_weights_in_script`, `fp16: true` on a recipe whose launched script loads the weights in float16 (formats/script_dtype.py);
    # `cuda_repository_image`, a CUDA-only image the repository builds or names off that path (container.repository_cuda_images);
    # `flash_attn_v1_import`, a flash-attn 1.x name the script or a repository module it imports imports (formats/flash_v1.py)
    # `gfx_override`, HSA_OVERRIDE_GFX_VERSION in the run's environment other than the target's gfx version (blockers._gfx_override)
    # `launch_args_unknown`, a launch-line `--flag` none of the dataclasses of the script's TrlParser has (blockers._launch_args_unknown)
    check: (
        Literal[
            "keys_at_version",
            "torch_rocm_build",
            "module_removed_at_version",
            "model_type_unknown_at_version",
            "grpo_generation_batch",
            "grpo_eval_batch",
            "dpo_loss_type",
            "kto_kl_term",
            "trl_config_raises",
            "unsloth_load_raises",
            "deepspeed_mismatch",
            "cuda_launch_path",
            "cuda_repository_image",
            "fp16_weights_in_script",
            "flash_attn_v1_import",
            "launch_args_unknown",
            "legacy_flash_kwarg",
            "gfx_override",
        ]
        | None
    ) = None
    guidance: str  # what to change
    sources: list[str] = Field(min_length=1)  # "<dist> <version> <file>:<lines>: what it shows"
    citation: str = Field(pattern=r"^https://")


class RuleRef(Model):
    """The slim view of a rule handed to a backend."""

    id: str
    title: str
    symptom: str
    edits: dict[str, Any]
    env: dict[str, str]
    impact: str
    citation: str
    footgun: bool = False


class Edit(Model):
    field: str
    old: Any
    new: Any
    rule_id: str
    source: FieldSource | None = None


class Conflict(Model):
    field: str
    winner: str
    losers: list[str]
    reason: str


class FileDiff(Model):
    """An edit of a file other than the audited config: the DeepSpeed / FSDP file it names, when the
    switch a rule turns off lives there (`"device": "cpu"` -> `"none"`)."""

    path: str  # as shown in the diff: relative to the config's folder, else to the repository root
    real_path: str  # the file's resolved path, where --goblin-fix writes
    from_root: bool = False  # the diff's path is relative to the repository root, not the config's folder
    diff: str  # unified diff of that file
    edits: dict[str, Any]  # dotted key -> new value
    rule_id: str
    sha256: str  # of the text the diff was made from: --goblin-fix refuses a file changed since
    note: str = ""  # what else editing it changes (other configs that name the same file)


class Patch(Model):
    patch_id: str
    rule_ids: list[str]
    edits: list[Edit]
    env: dict[str, str] = Field(default_factory=dict)
    conflicts: list[Conflict] = Field(default_factory=list)
    skipped: dict[str, str] = Field(default_factory=dict)  # rule id -> why it was not applied
    new_workload: WorkloadConfig
    diff: str  # unified diff of the original file, its own format, comments kept
    rule_diffs: dict[str, str] = Field(default_factory=dict)  # rule id -> that rule's edits alone, as a diff
    other_files: list[FileDiff] = Field(default_factory=list)  # edits of files the config names (read back with them in place)


class Usage(Model):
    """What an LLM-driven audit cost: calls, tokens and an estimate in USD (None when unpriced)."""

    backend: str
    model: str | None = None
    calls: int = 0
    retries: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    estimated_cost_usd: float | None = None
    price_source: str | None = None  # where the per-token prices come from


class Finding(Model):
    rule_id: str
    title: str
    category: str
    line: int | None = None
    # the file `line` is in where that is not the config (a launch line's value: README.md), as formats.base.shown_file
    # shows it, relative to the repository root; None: the line is the config's own
    file: str | None = None
    key: str | None = None
    message: str
    citation: str
    footgun: bool = False
    blocker: bool = False  # the run will not start on the target: the item fails whatever the speedup
    fix: dict[str, Any] | None = None  # a blocker's one edit (config key -> value), checked by frameworks.check_writes


class Speedup(Model):
    point: float
    low: float
    high: float
    method: str  # how the interval was obtained

    @property
    def half_width(self) -> float:
        """Half the interval, relative to the point estimate (0.03 is +-3%)."""
        return (self.high - self.low) / 2 / self.point


DEVICE_LABEL = r"^[\w .:,()/+@-]+$"
DEVICE_LABEL_MAX = 120


def device_label(name: str) -> str:
    """A device name as Report.measured_on holds it: characters a device name has, at most 120."""
    import re

    return re.sub(r"[^\w .:,()/+@-]", "?", name)[:DEVICE_LABEL_MAX] or "unknown device"


class RolloutSplit(Model):
    """Online RL (TRL GRPO / RLOO / online DPO): one optimizer step per GPU split into its parts, projected
    (pytest_goblin/rollout.py, docs/projection.md "Online RL"). A part goblin does not project is None
    and named in `not_modelled`."""

    method: str  # "grpo", "rloo", "online_dpo"
    trainer: str  # the TRL release and config class, "trl 1.16.0 (GRPOConfig)"
    generation_on: str  # which GPUs generate: the training GPUs (colocated vLLM, transformers) or a vLLM server's
    vllm_mode: Literal["colocate", "server"] | None = None  # None: transformers' generate (use_vllm false)
    prompts_per_step: float  # per GPU and optimizer step
    completions_per_step: float  # prompts x num_generations, per GPU and optimizer step
    completions_per_generation: int  # sequences one generation batch decodes at once on a GPU
    prompt_tokens: int
    completion_tokens: int  # max_completion_length: every completion taken at full length (an upper bound)
    kv_waves: int = 1  # rounds the generation batch runs in when the KV cache cannot hold it at once
    generation_ms: float | None  # None: not projected (transformers' generate)
    generation_floor_ms: float | None = None  # transformers' generate: the HBM-bandwidth roofline of its decode, a floor only
    reference_ms: float  # the reference model's no-grad forward (beta > 0), 0 without one
    logprob_ms: float  # the policy's no-grad forward for vLLM's importance sampling correction, 0 without
    training_ms: float  # the training step on prompt + completion tokens (costmodel.step)
    total_ms: float | None  # the sum of the four, None when generation is not projected
    training_memory_gb: float  # peak training state per GPU, with the reference copy when there is one
    vllm_reserved_gb: float | None = None  # colocated vLLM: vllm_gpu_memory_utilization x HBM
    vllm_weights_gb: float | None = None  # colocated vLLM: its copy of the weights per GPU, inside the reservation
    hbm_gb: float  # decimal GB, hardware.capacity_gb
    hbm_phrase: str = ""  # as messages print it, hardware.capacity_phrase ("206 GB (MI300X's 192 GiB label)")
    values: dict[str, str] = Field(default_factory=dict)  # each value used and where it came from (config line or cited TRL default)
    not_modelled: list[str] = Field(default_factory=list)


class Report(Model):
    schema_version: int = SCHEMA_VERSION
    path: str
    format: str
    target: str
    backend: str
    verdict: Verdict
    reason: str
    # Set when a measurement could not decide (interval too wide, implausible or warm-up-dominated
    # throughput): the verdict is then "warn" and this says why and what to change.
    inconclusive: str | None = None
    # Set when the measurement ended (budget spent) with its interval across goblin_warn_at or
    # goblin_fail_at: the levels it still allows and what to raise. The verdict is the point's level.
    straddles: str | None = None
    evidence: Evidence | None = None
    # The device the numbers came from, when measured (the advice is for `target`): a device name
    # (`AMD Instinct MI300X`, `this machine: CPU only`), so a forged artifact cannot put a sentence there.
    measured_on: str | None = Field(default=None, max_length=DEVICE_LABEL_MAX, pattern=DEVICE_LABEL)
    speedup: Speedup | None = None
    # The projected speedup with the edits the user makes by hand counted (a value the launch line passes, the script's
    # code: goblin writes the config only), set where the verdict rests on them; `speedup` stays the config patch's.
    hand_speedup: Speedup | None = None
    before: RunMetrics | None = None
    after: RunMetrics | None = None
    patch: Patch | None = None
    findings: list[Finding] = Field(default_factory=list)
    footer: dict[str, str] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)
    usage: Usage | None = None  # LLM backends: calls, tokens, estimated cost
    rollout: RolloutSplit | None = None  # online RL: the projected generation / reference / training split


class ToolResult(Model):
    ok: bool
    result: Any = None
    error: str | None = None
