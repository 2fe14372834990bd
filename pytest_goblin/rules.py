"""Load, validate and search the KB rules (pytest_goblin/kb/*.yaml, team rule files, the goblin_rules hook)."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from .errors import KBError
from .formats.base import source_place
from .frameworks import attention as attention_support
from .hardware import capacity_gb, capacity_phrase, kb_dir, load_yaml_list
from .hooks import plugin_manager
from .schemas import WORKLOAD_FIELDS, Hardware, Predicate, Rule, RuleRef, WorkloadConfig

if TYPE_CHECKING:
    from .costmodel import MicroBatchFit

SERIALIZING_ENV = ("AMD_SERIALIZE_KERNEL", "AMD_SERIALIZE_COPY", "HIP_FORCE_QUEUE_PROFILING")
GEMM_LOGGING_ENV = ("HIPBLASLT_LOG_LEVEL", "HIPBLASLT_LOG_MASK")
CU_MASK_ENV = ("HSA_CU_MASK", "ROC_GLOBAL_CU_MASK")
ALLOC_CONF_ENV = ("PYTORCH_HIP_ALLOC_CONF", "PYTORCH_ALLOC_CONF", "PYTORCH_CUDA_ALLOC_CONF")
HW_FIELDS = frozenset(Hardware.model_fields)
DERIVED_FACTS = frozenset(
    {
        "headroom_gb",
        "headroom_without_checkpointing_gb",
        "headroom_without_offload_gb",
        "headroom_unquantized_gb",
        "headroom_ddp_gb",
        "headroom_fused_gb",
        "uses_bitsandbytes",
        "parameters_offloaded",
        "serializing_env",
        "gemm_logging_env",
        "cu_mask_env",
        "debug_mode",
        "params_b",
        "model_family",
        "alloc_conf",
        "format",
        "framework",
        "tokens_per_micro_batch",
        "lengths_assumed",
        "lengths_sampled",
        "pads_to_max",
        "assumed_length_over_hbm",
        "world_size_known",
        "sharding_known",
        "preference_or_rl",
        "sharded_collectives",
        "model_type",
        "attn_supports_sdpa",
        "attn_supports_flash",
        "attn_supports_flex",
        "comm_share",
        "overlap_comm_gain",
        "checkpoint_share",
        "eval_share",
        "eval_floor_share",
        "evals_per_save",
        "eval_batch_shortfall",
        "checkpointing_off_micro_batch",
        "nodes",
        "gpus_per_node",
        "nodes_known",
        "gpus_per_node_known",
        "one_process_visible_gpus",
        "full_shard",
        "fsdp_one_unit",
        "inter_node_share",
        "hierarchical_gain",
        "deepspeed_host_optimizer",
        "deepspeed_owns_optimizer",
        "fused_optimizer_refused",
        "deepspeed_owns_scheduler",
        "lower_stage_gain",
        "micro_batch_read",
        "auto_find_batch_size",
        "larger_batch_gain",
    }
)
# Facts about the machine the audit runs on; read only where a GPU is present, since a CPU-only
# CI runner says nothing about the training host.
HOST_FACTS = frozenset({"numa_balancing"})


def _validation_message(path: Path, index: int, entry: Any, exc: ValidationError) -> str:
    ident = entry.get("id", f"#{index}") if isinstance(entry, dict) else f"#{index}"
    problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
    return f"{path}: rule {ident}: {problems}"


def check_rule_names(rule: Rule) -> list[str]:
    """Names a rule uses that are not real workload, hardware or derived facts."""
    problems = []
    for p in rule.applies_when:
        scope, _, name = p.fact.partition(".")
        if scope == "hw" and name not in HW_FIELDS:
            problems.append(f"predicate names unknown hardware field {p.fact!r}")
        elif scope == "derived" and name not in DERIVED_FACTS:
            problems.append(f"predicate names unknown derived fact {p.fact!r}")
        elif scope == "env" and not name:
            problems.append("predicate `env.` needs a variable name")
        elif scope == "host" and name not in HOST_FACTS:
            problems.append(f"predicate names unknown host fact {p.fact!r}")
        elif scope not in {"hw", "derived", "env", "host"} and p.fact not in WORKLOAD_FIELDS:
            problems.append(f"predicate names unknown workload field {p.fact!r}")
        if p.op in ("in", "not_in") and not isinstance(p.value, list):
            problems.append(f"predicate on {p.fact!r}: `{p.op}` needs a list value")
    for field, value in rule.transform.set.items():
        if field not in WORKLOAD_FIELDS:
            problems.append(f"transform sets unknown workload field {field!r}")
            continue
        try:
            WorkloadConfig.model_validate({"path": "-", "format": "-", "model": {"name": "-"}, field: value})
        except ValidationError:
            problems.append(f"transform sets {field!r} to {value!r}, which is not a valid value for that field")
    for name in rule.transform.env:
        if not re.fullmatch(r"[A-Z_][A-Z0-9_]*", name):
            problems.append(f"transform exports {name!r}, which is not an environment variable name")
    if not rule.footgun and not (rule.transform.set or rule.transform.env or rule.transform.micro_batch_to):
        problems.append("a rule that is not a footgun needs a transform")
    if rule.transform.micro_batch_down and rule.transform.micro_batch_to:
        problems.append("`micro_batch_down` and `micro_batch_to` pull the micro-batch both ways: use one")
    if rule.transform.micro_batch_down and not rule.transform.set:
        problems.append("`micro_batch_down` lowers the micro-batch so that the rule's `set` edits fit: it needs `set`")
    if rule.footgun and not rule.guidance:
        problems.append("a footgun needs guidance")
    if rule.impact.low > rule.impact.high:
        problems.append("impact.low is above impact.high")
    return problems


def _rule_files(extra_paths: tuple[str, ...]) -> list[Path]:
    files = sorted(p for p in kb_dir().glob("*.yaml") if p.name not in ("hardware.yaml", "efficiency.yaml", "blockers.yaml"))
    for extra in extra_paths:
        p = Path(extra)
        if not p.exists():
            raise KBError(f"{p}: no such rule file or folder (from goblin_kb_paths / --kb-path)")
        files.extend(sorted(p.glob("*.yaml")) if p.is_dir() else [p])
    return files


def check_rules(extra_paths: tuple[str, ...] = ()) -> tuple[list[Rule], list[str]]:
    """Every valid rule, and one message per problem found in any rule file or hook batch."""
    entries: list[tuple[Path, int, Any]] = []
    problems: list[str] = []
    for f in _rule_files(extra_paths):
        try:
            entries.extend((f, i, e) for i, e in enumerate(load_yaml_list(f)))
        except KBError as exc:
            problems.append(str(exc))
    for batch in plugin_manager().hook.goblin_rules():
        entries.extend((Path("<goblin_rules hook>"), i, e) for i, e in enumerate(batch))
    rules: list[Rule] = []
    seen: dict[str, Path] = {}
    for path, i, entry in entries:
        try:
            rule = Rule.model_validate(entry)
        except ValidationError as exc:
            problems.append(_validation_message(path, i, entry, exc))
            continue
        if rule.id in seen:
            problems.append(f"{path}: rule {rule.id}: duplicate id (also in {seen[rule.id]})")
            continue
        names = check_rule_names(rule)
        if names:
            problems.append(f"{path}: rule {rule.id}: " + "; ".join(names))
            continue
        seen[rule.id] = path
        rules.append(rule)
    return rules, problems


def load_rules(extra_paths: tuple[str, ...] = ()) -> list[Rule]:
    """All rules from kb/*.yaml, extra rule files or folders, and the `goblin_rules` hook.

    Any broken rule stops the load: an audit must not run on half a knowledge base.
    """
    rules, problems = check_rules(extra_paths)
    if problems:
        raise KBError(problems[0] + (f" (and {len(problems) - 1} more problems; run `goblin kb lint`)" if len(problems) > 1 else ""))
    return rules


@lru_cache(maxsize=8)
def cached_rules(extra_paths: tuple[str, ...] = ()) -> tuple[Rule, ...]:
    return tuple(load_rules(extra_paths))


def uses_bitsandbytes(w: WorkloadConfig) -> bool:
    """bitsandbytes quantization or optimizers; torchao's `adamw_torch_8bit` / `_4bit` are not bitsandbytes."""
    opt = w.optimizer.lower()
    if w.format == "torchtune":  # torchtune quantizes with torchao (NF4); its bitsandbytes optimizers are named bnb/paged
        return "bnb" in opt or "paged" in opt or ("8bit" in opt and "torchao" not in opt)
    bnb_optimizer = "bnb" in opt or "paged" in opt or ("8bit" in opt and "torch_8bit" not in opt and "torchao" not in opt)
    from .formats.base import DEEPSPEED_OWN

    if w.strategy == "deepspeed" and DEEPSPEED_OWN["optimizer"] in w.sources:
        bnb_optimizer = False  # the DeepSpeed file's own optimizer runs; `optim` is never built (formats.base.DEEPSPEED_OWN)
    return (w.quantization != "none" and w.prequantized is None) or bnb_optimizer


@lru_cache(maxsize=1)
def host_facts() -> dict[str, Any]:
    """`host.*` facts of this machine, or nothing when it has no GPU (then it is not the training host)."""
    from .devices import gpu_present

    if not gpu_present():
        return {}
    out: dict[str, Any] = {}
    try:
        out["host.numa_balancing"] = int(Path("/proc/sys/kernel/numa_balancing").read_text().strip())
    except (OSError, ValueError):
        pass
    return out


# Trainers that generate their own training data every step: rollouts, a colocated vLLM's memory
# and reward passes are not modelled. Matched as the exact names the adapters record in
# `framework` (TRL's config class, Axolotl's `rl:`, LLaMA-Factory's `stage:`, the torchtune recipe
# from the registry or the config's `tune run` line), never as a substring of a file name.
_ONLINE_RL = re.compile(
    r"\((?:(?P<trl>AsyncGRPO|GRPO|RLOO|PPO|OnlineDPO|NashMD|XPO|GKD)Config"
    r"|rl (?P<axolotl>grpo|gdpo|ebft)"  # gdpo: GRPO with normalize-then-sum rewards (axolotl 0.18.0 core/builders/rl.py:54, :161, :192)
    r"|stage (?P<lf>ppo)"
    r"|(?P<tt>ppo_full_finetune_single_device|dev/(?:async_)?grpo_full_finetune_distributed))\)"
)


def online_rl(w: WorkloadConfig) -> str | None:
    """The online RL method a workload trains with, or None."""
    m = _ONLINE_RL.search(w.framework or "")
    if m is None:
        return None
    name = next(g for g in m.groups() if g)
    return "grpo" if "grpo" in name.lower() else "ppo" if "ppo" in name.lower() else name.lower()


def preference_modelled(w: WorkloadConfig) -> bool:
    """A preference trainer (DPO, IPO, KTO, ORPO, SimPO, CPO) whose sequences per example and reference model
    the reader set from the trainer it named: its memory and time are in the cost model. Online RL is not."""
    src = w.sources.get("sequences_per_example")
    return src is not None and src.explicit and online_rl(w) is None


@dataclass(frozen=True)
class UnmodelledTrainer:
    """A preference or reward trainer whose memory the cost model does not hold (unmodelled_trainer)."""

    what: str  # the trainer as the label names it, or the preference keys of a file whose trainer is unknown
    from_keys: bool  # the file has a preference trainer's keys, and goblin could not tell which trainer runs it


def unmodelled_trainer(w: WorkloadConfig) -> UnmodelledTrainer | None:
    """A preference or reward trainer whose memory the cost model does not hold (no sequences per example or
    reference model read for it), so no memory rule is judged: named, for an inconclusive verdict. `from_keys`:
    the file has a preference trainer's keys but names no trainer goblin could read (formats/hf_trainer.py's
    UNRESOLVED_PREFERENCE label; then `what` is those keys). Online RL has its own reason (online_rl)."""
    from .formats.hf_trainer import UNRESOLVED_PREFERENCE

    label = w.framework or ""
    at = label.find(UNRESOLVED_PREFERENCE + ": ")
    if at >= 0:
        return UnmodelledTrainer(label[at + len(UNRESOLVED_PREFERENCE) + 2 :].rstrip(")"), from_keys=True)
    name = label.lower()
    if online_rl(w) is not None or preference_modelled(w) or w.teacher is not None:
        return None  # w.teacher: a stock torchtune KD recipe's teacher of known shape, in the cost model (costmodel.teacher_forward_s)
    # torchtune: the repository's own recipe file, named with the loss it is configured with and `knowledge distillation`
    # for a `teacher_model:` (formats/torchtune.py); what it trains is read from those words, never from the file's path
    own = re.search(r"\((the repository's own [^()]*)\)", label)
    if own is not None:
        name = re.sub(r"the repository's own \S+", "", own.group(1)).lower()
    m = re.search(r"dpo|kto|orpo|reward|simpo|cpo|\bstage (rm|dpo|kto)|knowledge distillation", name)
    if m is None:
        return None
    if own is not None:
        return UnmodelledTrainer(own.group(1), from_keys=False)
    kd = re.search(r"\(([^()]*, knowledge distillation)\)", label)
    if kd is not None:  # a stock KD recipe: named (`knowledge_distillation_single_device, knowledge distillation`)
        return UnmodelledTrainer(kd.group(1), from_keys=False)
    if "trainer not named" in name:  # a list of the config classes the file fits, preference trainers among them
        return UnmodelledTrainer("the file does not name its trainer, and preference trainers are among the classes its keys fit", from_keys=False)
    return UnmodelledTrainer(m.group(0), from_keys=False)


# The memory facts (derived.<name>): None until the model's size is known (facts); a rule reading one gets a memory sentence
_MEMORY_FACTS = (
    "headroom_gb",
    "headroom_without_checkpointing_gb",
    "headroom_unquantized_gb",
    "headroom_without_offload_gb",
    "headroom_ddp_gb",
    "headroom_fused_gb",
)


def training_step_bound(w: WorkloadConfig, per_sample: int = 1) -> WorkloadConfig:
    """The training step of an online RL or preference trainer goblin does not model, priced as an upper bound of its memory:
    a frozen reference copy of the weights and its no-grad forward (trl's GRPO and DPO keep one at a nonzero beta), and
    for a preference trainer chosen and rejected in one batch; `per_sample`: the sequences each micro-batch sample trains
    (a GRPO trainer that generates num_generations completions per prompt of the micro-batch and trains them together, trl
    0.14.0 grpo_trainer.py:335,417). Memory rules judged on it (facts(training_step=N)) say the room they find is the
    training step's only."""
    update: dict[str, Any] = {"reference_copy": True, "reference_forward": True, "micro_batch_size": w.micro_batch_size * max(1, per_sample)}
    if online_rl(w) is None:
        update["sequences_per_example"] = 2
    return w.model_copy(update=update)


def _bound_headroom(w: WorkloadConfig, hw: Hardware) -> dict[str, float]:
    """The memory facts of training_step_bound's workload (the same estimates facts() makes of a modelled one)."""
    from .costmodel import memory_gb

    cap = capacity_gb(hw)
    return {
        "headroom_gb": cap - memory_gb(w),
        "headroom_without_checkpointing_gb": cap - memory_gb(w.model_copy(update={"gradient_checkpointing": False})),
        "headroom_without_offload_gb": cap - memory_gb(w.model_copy(update={"cpu_offload": False, "activation_offloading": False})),
    }


def facts(w: WorkloadConfig, hw: Hardware, host: dict[str, Any] | None = None, *, training_step: int = 0) -> dict[str, Any]:
    """Everything a predicate can read: workload fields, hw.*, env.*, host.*, derived.*. `training_step` (0: off; else the
    sequences per micro-batch sample, training_step_bound's per_sample): an online RL or
    preference item goblin leaves inconclusive (tools.audit_tools._training_step_only) has its memory facts judged on its
    training step at an upper bound of its memory (training_step_bound): room to spare there is room in the run's training
    step, so memory-raising rules hold; a bound over HBM says nothing, so memory-lowering rules stay silent."""
    from .costmodel import memory_gb

    out: dict[str, Any] = {name: getattr(w, name) for name in WORKLOAD_FIELDS}
    out.update({f"hw.{k}": v for k, v in hw.model_dump().items()})
    for name, value in w.env.items():
        out[f"env.{name}"] = value
    # Memory facts need a model size; with none, they stay unknown and memory rules stay silent.
    # Online RL (generation, vLLM colocation) and reward modelling are not modelled: leave memory unknown.
    # A preference trainer whose sequences and reference model were read (hfstyle.read_preference) is.
    # CPO (trl CPOConfig/CPOTrainer: chosen and rejected concatenated, no reference model, trl 0.9.6 trl/trainer/cpo_trainer.py:670-729)
    # is a preference trainer as ORPO and SimPO are (review7b #21)
    rl = bool(re.search(r"dpo|grpo|kto|rloo|ppo|orpo|(?<![a-z])cpo|reward|ebft|simpo|\bstage (rm|dpo|kto|ppo)", (w.framework or "").lower()))
    sized = (w.model.known or w.model.params_b is not None) and (not rl or preference_modelled(w))
    # a frozen language model is priced without the part that trains (a vision tower, a projector: its weights, gradients,
    # optimizer state and activations are not in the shape), so the headroom is an upper bound: no rule spends it
    sized = sized and not w.frozen_language_model
    for name in _MEMORY_FACTS:
        out[f"derived.{name}"] = None
    bound = training_step > 0 and rl and not sized and not w.frozen_language_model and (w.model.known or w.model.params_b is not None)
    if bound:
        for name, room in _bound_headroom(training_step_bound(w, training_step), hw).items():
            if name == "headroom_without_offload_gb" and online_rl(w) is not None:
                continue  # an online RL run's offload is rollout.offload_message's (audit_tools._offload_findings)
            out[f"derived.{name}"] = room if room >= 0 else None  # an upper bound over HBM: no memory-lowering rule
    if sized:
        out["derived.headroom_gb"] = capacity_gb(hw) - memory_gb(w)
        dtype = w.sources.get("weight_dtype")
        if dtype is not None and dtype.unread and w.weight_dtype is None:
            # checkpoint dtype unknown (formats/pyworkload.checkpoint_weights): not over HBM on an fp32 guess alone
            out["derived.headroom_gb"] = max(out["derived.headroom_gb"], capacity_gb(hw) - memory_gb(w.model_copy(update={"weight_dtype": "bf16"})))
        out["derived.headroom_without_checkpointing_gb"] = capacity_gb(hw) - memory_gb(w.model_copy(update={"gradient_checkpointing": False}))
        unquantized = w.model_copy(update={"quantization": "none", "method": "lora" if w.method == "qlora" else w.method})
        out["derived.headroom_unquantized_gb"] = capacity_gb(hw) - memory_gb(unquantized)
        out["derived.headroom_without_offload_gb"] = capacity_gb(hw) - memory_gb(w.model_copy(update={"cpu_offload": False, "activation_offloading": False}))
        out["derived.headroom_ddp_gb"] = capacity_gb(hw) - memory_gb(w.model_copy(update={"strategy": "ddp", "cpu_offload": False}))
        # with Liger's fused linear cross-entropy the logits are held in chunks (costmodel.memory_gb)
        out["derived.headroom_fused_gb"] = capacity_gb(hw) - memory_gb(w.model_copy(update={"fused_kernels": True}))
    from .patching import SPARE_GB

    out["derived.checkpointing_off_micro_batch"] = None
    headroom = out["derived.headroom_without_checkpointing_gb"]
    if not bound and headroom is not None and headroom <= SPARE_GB and (fit := checkpointing_off_fit(w, hw)) is not None:
        out["derived.checkpointing_off_micro_batch"] = fit.micro_batch_size
    out["derived.uses_bitsandbytes"] = uses_bitsandbytes(w)
    # parameters kept in host memory (FSDP offload_params, ZeRO-3 offload_param): every forward and backward copies them
    # over the host link (costmodel._param_fetch_s), so a wider base weight there is more traffic, not less dequantizing
    out["derived.parameters_offloaded"] = bool(w.cpu_offload and w.offload_params)
    out["derived.serializing_env"] = any(w.env.get(k, "0") not in ("", "0") for k in SERIALIZING_ENV)
    out["derived.gemm_logging_env"] = any(w.env.get(k, "0") not in ("", "0") for k in GEMM_LOGGING_ENV)
    out["derived.cu_mask_env"] = any(w.env.get(k, "") != "" for k in CU_MASK_ENV)
    out["derived.debug_mode"] = bool(w.debug_modes)  # formats/pydebug.py: anomaly detection, deterministic algorithms
    out["derived.params_b"] = w.model.params_b
    out["derived.model_family"] = w.model.family
    # The attention implementations the model type's transformers class accepts (frameworks/attention.py,
    # read from transformers' source) at the release the config pins (w.attention_release), else the shipped
    # table's; None when the model's type is not known.
    out["derived.model_type"] = attention_support.model_type(w.model.family, w.attention_release)
    for impl in ("sdpa", "flash", "flex"):
        out[f"derived.attn_supports_{impl}"] = attention_support.supports(w.model.family, impl, w.attention_release)
    out["derived.format"] = w.format
    out["derived.framework"] = (w.framework or "").split(" ", 1)[0] + (" v1" if "(v1)" in (w.framework or "") else "") or None
    from .costmodel import lengths_assumed, micro_batch_tokens

    # tokens per micro-batch at the dataset's sampled lengths (padded to the batch's longest), else seq_len
    out["derived.tokens_per_micro_batch"] = micro_batch_tokens(w)
    # every sample priced at seq_len because no local dataset was measured (packed or padded-to-max
    # batches hold seq_len tokens whatever the data, so their length is not an assumption)
    out["derived.lengths_assumed"] = lengths_assumed(w)
    # the collator pads every micro-batch to seq_len (formats/datasets.pads_to_max); lengths_sampled: a local
    # dataset's lengths were read (with pad_to_max too, so what the padding costs can be priced)
    out["derived.pads_to_max"] = w.pad_to_max
    out["derived.lengths_sampled"] = bool(w.token_quantiles and w.mean_tokens)
    # that assumption projects the config as it is above the GPU's HBM: the projection contradicts the
    # run the repository makes, so no memory-bound rule is decided on it (patching, audit_tools)
    from .patching import assumed_over

    head = out["derived.headroom_gb"]
    out["derived.assumed_length_over_hbm"] = bool(out["derived.lengths_assumed"] and head is not None and head < 0 and assumed_over(w, hw))
    # DPO/GRPO/KTO/PPO/reward runs: packing and similar SFT advice does not carry over.
    out["derived.preference_or_rl"] = rl
    # FSDP and ZeRO-1/2/3 shard and gather; ZeRO-0 only all-reduces gradients, as DDP does.
    out["derived.sharded_collectives"] = w.strategy == "fsdp" or (w.strategy == "deepspeed" and w.zero_stage != 0)
    # ZeRO offload: accelerate swaps a torch optimizer for DeepSpeedCPUAdam (accelerate 1.16.0 accelerator.py:2337-2346)
    out["derived.deepspeed_host_optimizer"] = w.strategy == "deepspeed" and w.cpu_offload
    # the DeepSpeed file's own "optimizer" / "scheduler" block replaces the Trainer's (formats.base.DEEPSPEED_OWN)
    from .formats.base import DEEPSPEED_OWN

    for block, name in DEEPSPEED_OWN.items():
        out[f"derived.deepspeed_owns_{block}"] = w.strategy == "deepspeed" and name in w.sources
    # torchtune refuses a fused optimizer under tensor parallelism: "Tensor parallelism is currently incompatible with
    # fused optimizer." (torchtune v0.6.0 recipes/full_finetune_distributed.py:161-164, PR #2501); a repository's own
    # copy of the recipe without that check runs the same DTensor parameters through it
    out["derived.fused_optimizer_refused"] = w.format == "torchtune" and w.tensor_parallel > 1
    ws = w.sources.get("world_size")
    out["derived.world_size_known"] = bool(ws is not None and ws.explicit)
    from .formats.semantics import strategy_unread

    # several processes whose sharding was not read (DDP a stated guess): a per-GPU peak over HBM is not a fact
    out["derived.sharding_known"] = w.world_size <= 1 or strategy_unread(w) is None
    out["derived.alloc_conf"] = next((w.env[k] for k in ALLOC_CONF_ENV if w.env.get(k)), None)
    out["derived.comm_share"] = comm_share(w, hw) if sized else None
    out["derived.overlap_comm_gain"] = overlap_comm_gain(w, hw) if sized and w.comm_overlap is False else None
    # Checkpoint writes as a share of the job, at the realistic (slow, cited) end of the storage bandwidth: the
    # Trainer saves synchronously through torch.save / safetensors; None without a size or a per-step save interval.
    # (not where the script packs its samples to a length goblin did not read: the step, and so the share, is unknown)
    from .costmodel import pack_length_unread

    if sized and w.model.params_b is not None and w.save_interval is not None and pack_length_unread(w) is None:
        from .costmodel import REALISTIC_STORAGE_GB_S, checkpoint_share

        out["derived.checkpoint_share"] = checkpoint_share(w, hw, REALISTIC_STORAGE_GB_S)
    else:
        out["derived.checkpoint_share"] = None
    # Evaluation as a share of the job (an upper bound: every eval example at the sequence length),
    # only where the config fixes the eval interval, the eval set's size and the batch; None elsewhere.
    out["derived.eval_share"] = None
    per_step = w.eval_interval is not None and w.eval_examples is not None
    per_epoch = w.eval_fraction is not None and w.evals_per_epoch is not None
    if sized and w.model.params_b is not None and w.eval_runs and (per_step or per_epoch):
        from .costmodel import eval_share

        out["derived.eval_share"] = eval_share(w, hw)
    # The least evaluation costs (one eval batch per GPU per evaluation, costmodel.eval_floor) where it evaluates every
    # N steps over an eval set of unstated size; online RL evaluation generates (rollout.eval_floor prices GRPO's)
    out["derived.eval_floor_share"] = None
    if sized and w.model.params_b is not None and w.eval_runs and w.eval_interval is not None and w.eval_examples is None and online_rl(w) is None:
        from .costmodel import eval_floor

        floor = eval_floor(w, hw)
        out["derived.eval_floor_share"] = floor[1] if floor is not None else None
    out["derived.evals_per_save"] = w.save_interval / w.eval_interval if w.eval_runs and w.eval_interval is not None and w.save_interval is not None else None
    # How many times the training micro-batch's tokens an eval batch may hold, when the trainer evaluates
    eval_tokens = w.eval_batch_size * (w.eval_seq_len or w.seq_len) if w.eval_batch_size is not None else None
    out["derived.eval_batch_shortfall"] = w.micro_batch_size * w.seq_len / eval_tokens if w.eval_runs and eval_tokens else None
    from .costmodel import topology

    # nodes x GPUs per node as the workload states them (a launcher, the config), else filled into the target's nodes
    out["derived.nodes"], out["derived.gpus_per_node"] = topology(w, hw)
    out["derived.one_process_visible_gpus"] = one_process_visible(w)
    nodes_src = w.sources.get("nodes")
    # nodes as the config or a launcher states them; a count filled in from an assumed world size is not a premise.
    # A stated world size larger than one node of the target holds (8 MI300X per platform) spans several nodes
    # whatever the launcher says of them: the run's inter-node traffic is a fact of the target, at least that of
    # the fewest nodes that hold it (the count `topology` fills in)
    fabric = hw.gpus_per_node or 8
    spans = bool(out["derived.world_size_known"] and w.world_size > fabric)
    out["derived.nodes_known"] = bool(nodes_src is not None and nodes_src.explicit) or spans
    # GPUs per node as stated: a launcher's or scheduler's per-node count, or a stated world size that one node
    # holds; a count filled in from an assumed world size is not a premise (issue 24: partial-node advice on a guess)
    per_src = w.sources.get("gpus_per_node")
    out["derived.gpus_per_node_known"] = bool(per_src is not None and per_src.explicit) or bool(
        out["derived.world_size_known"] and (out["derived.nodes"] == 1 or out["derived.nodes_known"])
    )
    out["derived.full_shard"] = full_shard(w)
    out["derived.fsdp_one_unit"] = w.fsdp_one_unit is not None  # formats/fsdp_wrap.one_unit
    out["derived.inter_node_share"] = out["derived.hierarchical_gain"] = None
    if sized and out["derived.nodes"] > 1 and w.strategy in ("fsdp", "deepspeed"):
        from .costmodel import best_hierarchical, inter_node_share
        from .patching import spare_limit_gb

        out["derived.inter_node_share"] = inter_node_share(w, hw)
        # the hierarchical options are priced for pure data parallelism (no tensor, pipeline or expert parallelism), and
        # offloaded parameters move over the host link: no hierarchical gain is projected there
        modelled = w.tensor_parallel == 1 and w.pipeline_parallel == 1 and w.expert_parallel == 1 and not w.cpu_offload
        if modelled and out["derived.full_shard"] and out["derived.inter_node_share"] >= 0.05:
            best = best_hierarchical(w, hw, spare_limit_gb(hw))
            out["derived.hierarchical_gain"] = best.speedup if best is not None else None
    # one node of a stated world size, fully sharded, and the whole training state fits one GPU with
    # SPARE_GB to spare: what ZeRO-2 / SHARD_GRAD_OP projects over the config as it is; 1.0 (no gain) where
    # no lower stage is projected: the shape is a guess, offload or tensor/expert/context parallelism is
    # on (traffic the communication term does not model), a reference model rides along, or torchtune
    # (whose recipe goblin has not checked for a ZeRO-2-like setting). distributed.ddp_when_model_fits
    # stays silent where this is 1.05 or more, since distributed.lower_stage_when_state_fits speaks there.
    out["derived.lower_stage_gain"] = 1.0
    if (
        sized
        and out["derived.world_size_known"]
        and w.world_size > 1
        and w.format != "torchtune"
        and out["derived.nodes"] == 1
        and out["derived.full_shard"]
        and w.tensor_parallel == 1
        and w.pipeline_parallel == 1
        and w.expert_parallel == 1
        and w.context_parallel == 1
        and not w.cpu_offload
        and not w.reference_copy
    ):
        from .costmodel import lower_stage
        from .modelzoo import shape_assumption
        from .patching import spare_limit_gb

        if shape_assumption(w.model) is None and (low := lower_stage(w, hw, spare_limit_gb(hw))) is not None:
            out["derived.lower_stage_gain"] = low.speedup
    # batch.small_global_batch: the micro-batch as the config states it (not a default goblin applied, nor a value set in
    # code it could not evaluate), the Trainer's auto_find_batch_size (it lowers the micro-batch at run time), and the
    # projected tokens/s/GPU of the same run at a larger micro-batch with gradient accumulation kept at 1 (globalbatch:
    # the micro-batch doubled while it fits and gains), the low end of its interval over the assumption grid; None where
    # the premises that need no projection do not hold
    mbs_src = w.sources.get("micro_batch_size")
    out["derived.micro_batch_read"] = bool(mbs_src is not None and mbs_src.explicit and not mbs_src.unread)
    out["derived.auto_find_batch_size"] = w.auto_find_batch_size
    out["derived.larger_batch_gain"] = None
    if sized and out["derived.micro_batch_read"] and not rl and w.gradient_accumulation == 1 and not w.auto_find_batch_size:
        from .globalbatch import larger_batch

        found = larger_batch(w, hw)
        out["derived.larger_batch_gain"] = found.low if found is not None else None
    out.update(host_facts() if host is None else host)
    return out


def unjudged_on_assumed_lengths(w: WorkloadConfig, hw: Hardware, rules: tuple[Rule, ...] | list[Rule], f: dict[str, Any]) -> list[str]:
    """Memory-bound rules (their premise a derived headroom) whose other premises hold, when the assumed
    sample length projects the config as it is above the GPU's HBM: the projection cannot decide them."""
    if not f.get("derived.assumed_length_over_hbm"):
        return []
    out = []
    for rule in rules:
        memory = [p for p in rule.applies_when if p.fact.partition(".")[2] in _MEMORY_FACTS or p.fact == "derived.checkpointing_off_micro_batch"]
        if rule.footgun or not memory or rule.id in w.ignored_rules:
            continue
        if all(holds(p, f) for p in rule.applies_when if p not in memory) and not all(holds(p, f) for p in memory):
            out.append(rule.id)
    return sorted(out)


def _traded_micro_batches(w: WorkloadConfig) -> range:
    """The micro-batches checkpointing off may be weighed at, micro-batch x accumulation kept: the config's and each
    below it, but only the config's where the loss uses in-batch negatives (formats/contrastive.py: a smaller micro-batch
    with more accumulation changes the objective, review11b #30)."""
    return range(w.micro_batch_size, w.micro_batch_size - 1 if w.in_batch_negatives else 0, -1)


def undecided_checkpointing(w: WorkloadConfig, hw: Hardware, fail_at: float) -> str | None:
    """Why a config that keeps activation checkpointing is not cleared, or None: no dataset lengths were read, and
    with checkpointing off at the micro-batch or a smaller one (micro-batch x accumulation kept), at the assumed
    length or a shorter one, the workload fits with room to spare and the projection's range reaches `fail_at`.
    Whether that edit pays then rests on the samples' lengths and the efficiency assumptions, not on anything
    goblin read (review3 #15: Qwen2.5-32B ZeRO-3, micro-batch 8 x 2048, PASS 1.00x while checkpointing off at
    micro-batch 1 spans 0.66-1.10x)."""
    from .costmodel import assumed_length, at_length, at_shorter_length, lengths_assumed, memory_gb, sensitivity, seq_len_is_cutoff, shorter_length
    from .modelzoo import shape_assumption
    from .patching import spare_limit_gb

    if not w.gradient_checkpointing or w.activation_offloading or not lengths_assumed(w) or shape_assumption(w.model) is not None:
        return None
    per_gpu = w.micro_batch_size * w.gradient_accumulation
    best: tuple[int, int, float, float, float, float] | None = None  # length, micro-batch, peak, point, low, high
    priced = assumed_length(w)  # seq_len, or the stated GPU's bound below it
    for tokens in dict.fromkeys((priced, shorter_length(w))):
        at = at_length(w, tokens) if tokens == priced else at_shorter_length(w)
        for mbs in _traded_micro_batches(w):
            if per_gpu % mbs:
                continue
            trial = at.model_copy(update={"gradient_checkpointing": False, "micro_batch_size": mbs, "gradient_accumulation": per_gpu // mbs})
            peak = memory_gb(trial)
            if peak > spare_limit_gb(hw):
                continue
            point, low, high = sensitivity(at, trial, hw)
            if high >= fail_at and (best is None or point > best[3]):
                best = (tokens, mbs, peak, point, low, high)
    if best is None:
        return _checkpointing_fits_below(w, hw, fail_at)
    tokens, mbs, peak, point, low, high = best
    from .costmodel import seq_len_origin

    cutoff = seq_len_is_cutoff(w)
    if tokens == priced:
        where = (
            f"at the config's {w.seq_len} tokens per sample (its cutoff: the longest a sample can be)"
            if cutoff
            else f"at {tokens} tokens per sample ({seq_len_origin(w)})"
        )
    elif cutoff:
        where = f"with samples mostly {tokens} tokens long and the longest at the config's cutoff of {w.seq_len} (which sets the peak memory)"
    else:
        where = f"at {tokens} tokens per sample (shorter than the {priced} assumed: {seq_len_origin(w)})"
    how = (
        "at the same micro-batch"
        if mbs == w.micro_batch_size
        else f"at micro-batch {mbs} x accumulation {per_gpu // mbs} (the same {per_gpu} samples per GPU per step)"
    )
    return (
        f"activation checkpointing stays on, and whether turning it off pays is not decided: {where}, checkpointing off fits {how} "
        f"({peak:.0f} GB per GPU of {capacity_phrase(hw)}) and is projected {point:.2f}x [{low:.2f}-{high:.2f}], a range that reaches {fail_at:g}x; "
        "that rests on the samples' lengths, which goblin did not read, and on its efficiency assumptions, so it cannot clear this config; "
        "name the local dataset in the config (its sampled lengths replace seq_len), or measure with your training command (goblin_command)"
    )


def _longest_fitting(w: WorkloadConfig, hw: Hardware, mbs: int) -> int | None:
    """The longest sample (tokens, below seq_len) at which `w` with checkpointing off at micro-batch `mbs` (micro-batch x
    accumulation kept) fits with room to spare, or None when not even a 1-token sample does. Memory grows with the
    sample length, so a bisection finds it."""
    from .costmodel import assumed_length, at_length, memory_gb
    from .patching import spare_limit_gb

    per_gpu = w.micro_batch_size * w.gradient_accumulation

    def fits(tokens: int) -> bool:
        trial = at_length(w, tokens).model_copy(update={"gradient_checkpointing": False, "micro_batch_size": mbs, "gradient_accumulation": per_gpu // mbs})
        return memory_gb(trial) <= spare_limit_gb(hw)

    lo, hi = 0, assumed_length(w) - 1  # lo fits (0: none known), hi + 1 does not
    if hi < 1 or not fits(1):
        return None
    lo = 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid - 1)
    return lo


def _checkpointing_fits_below(w: WorkloadConfig, hw: Hardware, fail_at: float) -> str | None:
    """Why a config that keeps checkpointing is not cleared when checkpointing off does not fit at the assumed length
    (every sample priced at seq_len, no dataset read) but fits below some length N: the dataset's real longest sample
    decides it, and goblin did not read it (review5 #13: ViLaSR's Qwen2.5-VL-7B ZeRO-3 on 8 GPUs, every sample priced at
    the 18432-token cutoff, PASS 1.00x with checkpointing off never weighed). Issue 23: an assumed length that says an
    edit cannot fit never silences the finding."""
    from .costmodel import assumed_length, at_length, memory_gb, sensitivity

    priced = assumed_length(w)  # seq_len, or the stated GPU's bound below it
    per_gpu = w.micro_batch_size * w.gradient_accumulation
    best: tuple[int, int, float, float, float, float] | None = None  # length, micro-batch, peak, point, low, high
    for mbs in _traded_micro_batches(w):
        if per_gpu % mbs:
            continue
        tokens = _longest_fitting(w, hw, mbs)
        if tokens is None:
            continue
        at = at_length(w, tokens)
        trial = at.model_copy(update={"gradient_checkpointing": False, "micro_batch_size": mbs, "gradient_accumulation": per_gpu // mbs})
        point, low, high = sensitivity(at, trial, hw)
        if high >= fail_at and (best is None or mbs * tokens > best[0] * best[1]):
            best = (tokens, mbs, memory_gb(trial), point, low, high)
    if best is None:
        return None
    tokens, mbs, peak, point, low, high = best
    from .costmodel import seq_len_origin

    how = (
        f"at micro-batch {mbs}"
        if mbs == w.micro_batch_size
        else f"at micro-batch {mbs} x accumulation {per_gpu // mbs} (the same {per_gpu} samples per GPU per step)"
    )
    # the span it holds over, down to an eighth of the cutoff (lengthspan.LENGTH_SPAN_SHARES' bound), at the same micro-batch
    shorter = [n for n in dict.fromkeys(max(1, int(priced * s)) for s in (0.5, 0.25, 0.125)) if n < tokens]
    lows = [
        sensitivity(
            at_length(w, n),
            at_length(w, n).model_copy(update={"gradient_checkpointing": False, "micro_batch_size": mbs, "gradient_accumulation": per_gpu // mbs}),
            hw,
        )
        for n in shorter
    ]
    span = (
        f"; from {shorter[-1]} tokens per sample (1/8 of {'the bound' if priced < w.seq_len else 'the cutoff'}) up to {tokens} it is projected at least {min(x[1] for x in [*lows, (point, low, high)]):.2f}x "
        f"(lower bound) at every length goblin tried ({', '.join(str(n) for n in [tokens, *shorter])}), and above {tokens} up to {priced} it does "
        "not fit with room to spare, so the answer turns within that range"
        if lows
        else ""
    )
    return (
        f"activation checkpointing stays on, and whether turning it off pays is not decided: every sample was priced at {priced} tokens "
        f"({seq_len_origin(w)}), where checkpointing off does not fit, but it fits {how} up to {mbs * tokens} tokens per micro-batch "
        f"({tokens} per sample: {peak:.0f} GB per GPU of {capacity_phrase(hw)}) and is projected {point:.2f}x "
        f"[{low:.2f}-{high:.2f}] there, a range that reaches {fail_at:g}x{span}; the dataset's lengths are not local, so goblin cannot tell "
        "whether its longest sample stays below that: name the local dataset in the config (its sampled lengths replace seq_len), "
        "or measure with your training command (goblin_command)"
    )


def over_hbm(w: WorkloadConfig, hw: Hardware) -> str | None:
    """Why a config whose own projected peak is above the GPU's HBM is not cleared, or None: the projection then
    describes a run that does not fit (an out-of-memory at the first step) or lengths that are not the data's, and
    neither is a clean PASS (review3 #13: PASS with a 199 GB baseline on a 192 GB GPU)."""
    from .costmodel import length_phrase, length_premise, memory_gb, weights_phrase
    from .modelzoo import shape_assumption

    have = memory_gb(w)
    dtype = w.sources.get("weight_dtype")
    if dtype is not None and dtype.unread and w.weight_dtype is None:
        # checkpoint dtype unknown (formats/pyworkload.checkpoint_weights): not over HBM on an fp32 guess alone (as facts' headroom)
        have = min(have, memory_gb(w.model_copy(update={"weight_dtype": "bf16"})))
    if have <= capacity_gb(hw):
        return None
    ws = w.sources.get("world_size")
    gpus = f"{w.world_size} GPU{'s' if w.world_size != 1 else ''}" + ("" if ws is not None and ws.explicit else " (assumed)")
    # a model of unknown size is priced at the size goblin assumes (review10a #16: 575 GB at the assumed 7B, a 3.5x FAIL claimed
    # against it): the speedup is projected on that same run, so it is not claimed either
    sized = "" if (w.model.known or w.model.params_b is not None) else f" ({shape_assumption(w.model) or 'model size assumed'})"
    what = "the model is smaller than assumed, " if sized else ""
    premise = length_premise(w, capacity_gb(hw)) if not sized else None
    if premise is not None:
        # the lengths are the assumption, and shorter ones fit: the config is not declared over the GPU (review11b #23:
        # 745 GB at `max_length: 32768` for a Hub dataset of ~1K-token pairs)
        return (
            f"the config as it is projects {have:.0f} GB per GPU of {capacity_phrase(hw)} at {length_phrase(w)} on {gpus}, weights in "
            f"{weights_phrase(w)}: {premise}. The memory premise is that assumed length, so goblin claims no speedup against it and "
            "cannot clear it; name the local dataset (its sampled lengths replace the assumed one), or measure with your training "
            "command (goblin_command)"
        )
    return (
        f"the config as it is projects {have:.0f} GB per GPU of {capacity_phrase(hw)} at {length_phrase(w)} on {gpus}, weights in "
        f"{weights_phrase(w)}{sized}: either it does not fit "
        f"this GPU (an out-of-memory at the first step) or {what}the projection's lengths or topology are not the run's, so goblin claims no "
        "speedup against it and cannot clear it; "
        + ("name the model goblin should size, " if sized else "")
        + "name the local dataset and the launch (world size) goblin should read, or measure with your training command (goblin_command)"
    )


def checkpoint_phrase(w: WorkloadConfig, hw: Hardware) -> str:
    """The job-level estimate a checkpoint finding rests on, with its range over the storage bandwidth."""
    from .costmodel import STORAGE_GB_S, checkpoint_parts, checkpoint_seconds, checkpoint_share, has_masters, weights_phrase

    slow, fast = STORAGE_GB_S
    share = [checkpoint_share(w, hw, bw) or 0.0 for bw in (fast, slow)]
    model, optimizer = checkpoint_parts(w)
    weights = f"the model's weights in {weights_phrase(w)}" if w.method == "full" else "the adapters"
    masters = " and fp32 masters" if has_masters(w) else ""
    what = f"{model:,.0f} GB of {weights}" + (
        f" and {optimizer:,.0f} GB of optimizer state{masters}"
        if optimizer
        else " (`save_only_model`: no optimizer state)"
        if w.save_only_model
        else " (the language model is frozen: no optimizer state of its own; the trained part's is not priced)"
    )
    if not model and optimizer:
        what = (
            f"{optimizer:,.0f} GB of {'fp32 masters and ' if masters else ''}optimizer state in ZeRO-3 shards: without `stage3_gather_16bit_weights_on_model_save` in "
            "the DeepSpeed file the Trainer saves DeepSpeed's full checkpoint, so `save_only_model` does not leave the optimizer state out"
        )
    return (
        f"about {model + optimizer:,.0f} GB every {w.save_interval} optimizer steps ({what}), "
        f"{checkpoint_seconds(w, slow):,.0f} s per save and {share[1]:.0%} of the job's time at {slow:g} GB/s (a plain synchronous torch.save, "
        f"as the Trainer writes), {checkpoint_seconds(w, fast):,.0f} s and {share[0]:.0%} at {fast:g} GB/s (an optimized writer on a node's local "
        f"NVMe; both from DeepSpeed's DeepNVMe/FastPersist measurements; projected); {job_phrase(w, hw)}"
    )


def checkpointing_off_fit(w: WorkloadConfig, hw: Hardware) -> MicroBatchFit | None:
    """The smaller micro-batch (same micro-batch x accumulation, exactly) at which this workload with
    activation checkpointing off fits with room to spare and is projected fastest; None where that is
    not faster than the config as it is, or than keeping checkpointing at a larger micro-batch of the
    same batch that fits (what batch.raise_micro_batch proposes), where checkpointing is off or
    offloads activations, or where the model's shape is a guess (goblin projects no memory-bound edit
    on a guessed shape)."""
    from .costmodel import memory_gb, smaller_micro_batch, step
    from .modelzoo import shape_assumption
    from .patching import MEMORY_MARGIN, spare_limit_gb

    if not w.gradient_checkpointing or w.activation_offloading or w.micro_batch_size < 2 or shape_assumption(w.model) is not None:
        return None
    fit = smaller_micro_batch(w, hw, spare_limit_gb(hw), {"gradient_checkpointing": False})
    if fit is None:
        return None
    per_gpu = w.micro_batch_size * w.gradient_accumulation
    base = step(w, hw).step_s
    for mbs in range(w.micro_batch_size + 1, per_gpu + 1):
        if per_gpu % mbs:
            continue
        larger = w.model_copy(update={"micro_batch_size": mbs, "gradient_accumulation": per_gpu // mbs})
        peak = memory_gb(larger)
        if peak > capacity_gb(hw) * MEMORY_MARGIN:
            break  # memory grows with the micro-batch: no larger one fits either
        if base / step(larger, hw, peak_gb=peak).step_s >= fit.speedup:
            return None
    return fit


def full_shard(w: WorkloadConfig) -> bool:
    """Parameters sharded over every data-parallel GPU: FSDP full sharding (not SHARD_GRAD_OP, HYBRID_SHARD
    or an Axolotl shard group smaller than the run) or a stated ZeRO-3 without hpZ or MiCS."""
    from .costmodel import sharding_of

    if sharding_of(w) != "full":
        return False
    return w.strategy == "fsdp" or (w.strategy == "deepspeed" and w.zero_stage == 3)


def one_unit_phrase(w: WorkloadConfig) -> str:
    """What one FSDP unit holding the whole model gathers on every GPU (distributed.fsdp_one_unit): every parameter at
    the weights' dtype as priced (costmodel._state_bytes), with the release and its source (formats/fsdp_wrap.py)."""
    from .costmodel import _shape, _state_bytes, weights_phrase
    from .formats.fsdp_wrap import SOURCE

    params = _shape(w)[0]
    if w.precision in ("bf16", "fp16"):
        # FSDP's mixed precision gathers the parameters in the compute dtype: accelerate 0.29.3 state.py:906 hands the
        # run's mixed precision to the plugin, utils/dataclasses.py:1177-1195 MixedPrecision(param_dtype=that dtype)
        gathered, dtype = (
            params * 2 / 1e9,
            f"{w.precision}, FSDP's mixed-precision parameter dtype (accelerate 0.29.3 state.py:906; transformers 4.28.1 trainer.py:1474-1481)",
        )
    else:
        gathered, dtype = params * _state_bytes(w)[0] / 1e9, weights_phrase(w)
    return (
        f"at {w.fsdp_one_unit} `fsdp` without `auto_wrap` wraps nothing below the root ({SOURCE}), so the whole model is one FSDP "
        f"unit: every GPU all-gathers all {params / 1e9:.1f}B parameters ({gathered:.0f} GB in {dtype}) before the "
        "forward and holds them until the backward ends, where one decoder layer at a time would be gathered with wrapping"
    )


def hierarchical_phrase(w: WorkloadConfig, hw: Hardware) -> str:
    """What a multi-node fully sharded run spends across nodes, what hierarchical sharding (or ZeRO-2)
    would leave, and the keys of the config's framework that ask for it."""
    from .costmodel import hierarchical_options, inter_node_share, memory_gb, topology
    from .patching import spare_limit_gb

    nodes, per_node = topology(w, hw)
    limit = spare_limit_gb(hw)
    share = inter_node_share(w, hw)
    options = [h for h in hierarchical_options(w, hw, limit) if h.fits]
    text = (
        f"{collectives(w)} cross the {nodes} nodes on every micro-batch: exposed inter-node traffic is a projected "
        f"{share:.0%} of the step at {hw.scale_out_gb_s or 50.0:g} GB/s per GPU across nodes (kb/hardware.yaml, assumed)"
    )
    said = {
        "hybrid": "HYBRID_SHARD (HSDP: shard within each node, replicate across nodes; the all-gathers and reduce-scatters stay on the node's fabric and only each GPU's gradient shard is all-reduced across nodes, torch 2.13.0 fsdp/api.py:55-58, _runtime_utils.py:863-872)",
        "hpz": f"ZeRO++ hpZ (a secondary copy of the parameters partitioned within each node, {per_node} GPUs: the backward all-gathers stay inside the node; the forward all-gather and the gradient reduce-scatter still cross nodes, DeepSpeed v0.19.5 docs/_tutorials/zeropp.md:14)",
        "mics": "MiCS (every state sharded within a node and replicated across nodes: gathers stay inside the node, gradients are all-reduced across nodes, DeepSpeed v0.19.5 runtime/zero/mics.py)",
    }
    for h in sorted(options, key=lambda h: -h.speedup):
        text += f"; {said[h.sharding]} would leave {h.inter_node_share:.0%}, projected {h.speedup:.2f}x, {h.peak_gb:.0f} GB per GPU of {capacity_phrase(hw)}"
    text += f". {_hierarchical_keys(w, nodes, per_node, [h.sharding for h in options])}"
    if w.strategy == "deepspeed":
        lower = memory_gb(w.model_copy(update={"zero_stage": 2}))
        if lower <= limit:
            text += (
                f" ZeRO-2 also fits (projected {lower:.0f} GB per GPU): it keeps whole parameters on every GPU, so no parameter "
                "all-gather crosses nodes during forward and backward (one all-gather of the updated weights per optimizer step); its gradients still reduce across nodes"
            )
    return text


MATERIAL_INTER_NODE_SHARE = 0.10  # distributed.hierarchical_sharding_across_nodes's premise (kb/distributed.yaml)


def multi_node_note(w: WorkloadConfig, hw: Hardware, fired: set[str] | frozenset[str]) -> str | None:
    """For a fully sharded run over several stated nodes where the hierarchical rule is silent: what the
    inter-node traffic takes at the assumed network rate and, since that rate is not read from the
    repository, below which rate per GPU it would reach the rule's premise (review3 #6: a 2 x 8 70B
    ZeRO-3 run whose cluster network goblin cannot see). None where the rule spoke or does not apply."""
    from .costmodel import hierarchical_options, inter_node_share, topology
    from .formats.semantics import world_size_note
    from .patching import spare_limit_gb

    nodes, _per_node = topology(w, hw)
    nodes_src = w.sources.get("nodes")
    if (
        "distributed.hierarchical_sharding_across_nodes" in fired
        or nodes <= 1
        or nodes_src is None
        or not nodes_src.explicit
        or not full_shard(w)
        or w.cpu_offload
        or not (w.model.known or w.model.params_b is not None)
        or w.tensor_parallel * w.pipeline_parallel * w.expert_parallel > 1
    ):
        return None
    rate = hw.scale_out_gb_s or 50.0
    share = inter_node_share(w, hw)
    text = (
        f"multi-node, {world_size_note(w)}: {collectives(w)} cross nodes on every micro-batch; exposed inter-node traffic is a projected "
        f"{share:.1%} of the step at {rate:g} GB/s per GPU across nodes (kb/hardware.yaml, assumed: the cluster's network is not in the repository)"
    )
    if share >= MATERIAL_INTER_NODE_SHARE:
        return text

    # the rate per GPU below which it reaches the premise: the share falls as the rate rises (bisection)
    def at(gb_s: float) -> float:
        return inter_node_share(w, hw.model_copy(update={"scale_out_gb_s": gb_s}))

    low, high = 0.5, rate
    if at(low) < MATERIAL_INTER_NODE_SHARE:
        return f"{text}; it stays under {MATERIAL_INTER_NODE_SHARE:.0%} down to {low:g} GB/s per GPU, so hierarchical sharding (ZeRO++ hpZ, MiCS, HYBRID_SHARD) is not projected to pay"
    for _ in range(20):
        mid = (low + high) / 2
        low, high = (mid, high) if at(mid) >= MATERIAL_INTER_NODE_SHARE else (low, mid)
    slow = hw.model_copy(update={"scale_out_gb_s": low})
    options = [h for h in hierarchical_options(w, slow, spare_limit_gb(slow)) if h.fits]
    best = max(options, key=lambda h: h.speedup) if options else None
    named = {"hybrid": "HYBRID_SHARD", "hpz": "ZeRO++ hpZ", "mics": "MiCS"}
    then = f" (there {named.get(best.sharding, best.sharding)} is projected {best.speedup:.2f}x)" if best is not None else ""
    return (
        f"{text}; it reaches {MATERIAL_INTER_NODE_SHARE:.0%} only below about {low:.1f} GB/s ({low * 8:.0f} Gb/s) per GPU{then}: "
        "on a slower network keep the gathers inside the node (ZeRO++ hpZ, MiCS, FSDP HYBRID_SHARD) and measure"
    )


def naive_split_note(w: WorkloadConfig, hw: Hardware) -> str | None:
    """For one process that splits its model's layers over N visible GPUs (device_map="auto" under `python`,
    formats/pyworkload.naive_split): whether one target GPU holds the whole run, and so whether N data-parallel
    processes would do N micro-batches where the split does one; None where the split is not read."""
    from .costmodel import memory_gb
    from .formats.pyworkload import naive_split_gpus

    n = naive_split_gpus(w)
    if n is None:
        return None
    if not (w.model.known or w.model.params_b is not None):
        return f"device_map splits one process over {n} GPUs; the model's size is unknown, so whether one {hw.name} holds the run is not judged"
    total, cap = memory_gb(w), capacity_gb(hw)
    shape = f" ({w.model.inferred})" if w.model.inferred else "" if w.model.known else f" (a {w.model.params_b:g}B model: size read from its name)"
    if total <= cap:
        return (
            f"device_map splits one process over {n} GPUs, yet the run projects {total:.0f} GB{shape}, which one {hw.name} "
            f"({capacity_phrase(hw)}) holds: the split buys no memory the run needs and leaves each GPU idle about {n - 1}/{n} "
            f"of the step. Launched as {n} processes (`torchrun --nproc_per_node {n}` or `accelerate launch --num_processes {n}`, "
            f"with device_map unset or {{'': local rank}}), DDP runs {n} micro-batches per step at about {total:.0f} GB per GPU: "
            f"up to about {n}x the samples per second (the global batch grows {n}x: divide gradient_accumulation_steps by {n} to keep it)"
        )
    return (
        f"device_map splits one process over {n} GPUs: the run projects {total:.0f} GB{shape}, over one {hw.name}'s {capacity_phrase(hw)}, "
        f"so the split is what makes it fit (about {total / n:.0f} GB per GPU); FSDP or ZeRO-3 over the {n} GPUs would keep each "
        f"GPU computing its own micro-batch instead of waiting on the others"
    )


def one_process_visible(w: WorkloadConfig) -> int | None:
    """The GPUs a one-process run (`python train.py`) sees by an explicit list, its launch line's or its own
    (`formats/pyworkload.one_process_gpus`); None where the count is not stated or more than one process runs."""
    src = w.sources.get("one_process_gpus")
    if src is None or w.world_size != 1:
        return None
    m = re.search(r"=(\d+(?:,\d+)*)$", src.key or "")
    return m.group(1).count(",") + 1 if m else None


# transformers 5.25.0: TrainingArguments._setup_devices, not distributed, takes cuda:0 and n_gpu = torch.cuda.device_count()
# (training_args.py:1943-1949); Trainer._wrap_model wraps the model in nn.DataParallel where n_gpu > 1 and it is not loaded
# in 8/4-bit (trainer.py:2711-2724); torch 2.13.0 recommends DistributedDataParallel over it even on one node
# (torch/nn/parallel/data_parallel.py:66-69)
DATA_PARALLEL_AT = "transformers 5.25.0 training_args.py:1943-1949, trainer.py:2711-2724; torch 2.13.0 torch/nn/parallel/data_parallel.py:66-69"
# with TrainingArguments(deepspeed=...) _setup_devices sets n_gpu 1 and starts accelerate's PartialState with DeepSpeed, whose
# distributed type is then not NO, so the n_gpu = device_count() branch is never taken (training_args.py:1875, :1886-1888,
# :1897-1901, :1918)
DEEPSPEED_ONE_PROCESS_AT = "transformers 5.25.0 training_args.py:1875, :1886-1888, :1897-1901, :1918"


def idle_gpus(w: WorkloadConfig) -> tuple[int, int, str] | None:
    """(idle, visible, where) for a one-process run that leaves visible GPUs idle for certain: a Trainer whose
    TrainingArguments set DeepSpeed (a DeepSpeed world of one process) or that loads its model in 8/4 bits (no
    DataParallel), or a loop of the script's own (one device); None for a Trainer's DataParallel, which uses them all,
    slowly (unpriced), and where the visible count is not stated."""
    n = one_process_visible(w)
    if not n or n < 2:
        return None
    trainer = (w.framework or "").split(" ", 1)[0] in ("transformers", "trl")
    if trainer and not (w.strategy or "").startswith("deepspeed") and w.quantization in ("none", None):
        return None
    src = w.sources.get("one_process_gpus")
    where = f"{src.key}, {Path(src.file).name} line {src.line}" if src is not None and src.file else "its launch line"
    return n - 1, n, where


def one_process_phrase(w: WorkloadConfig) -> str:
    """`{one_process}`: the GPUs the one process sees, where that is set, what the process does with them, and the launch
    that runs one process per GPU."""
    n = one_process_visible(w) or 0
    src = w.sources.get("one_process_gpus")
    where = f"{Path(src.file).name} line {src.line}" if src is not None and src.file else "its launch line"
    trainer = (w.framework or "").split(" ", 1)[0] in ("transformers", "trl")
    if trainer and (w.strategy or "").startswith("deepspeed"):
        # TrainingArguments' `deepspeed` makes the one process a DeepSpeed world of one: n_gpu stays 1, no DataParallel
        # (transformers 5.25.0 training_args.py:1875, :1886-1888, :1897-1901; review14b #22 trl_mix.py:246)
        does = (
            "with DeepSpeed set in its TrainingArguments the Trainer starts a DeepSpeed world of that one process, which trains "
            f"on the first visible GPU and leaves the other {n - 1} idle"
        )
        at = DEEPSPEED_ONE_PROCESS_AT
    elif trainer and w.quantization in ("none", None):
        does = (
            f"the Trainer sees {n} GPUs in one process and wraps the model in torch.nn.DataParallel, which replicates it and "
            "scatters each batch from the first GPU every step, a path PyTorch recommends DistributedDataParallel over"
        )
    elif trainer:
        does = "the Trainer does not wrap a model loaded in 8 or 4 bits in DataParallel, so it trains on one GPU and the others stay idle"
    else:
        does = "a training loop of its own runs on one GPU unless it spreads the work itself, and the others stay idle"
    if not (trainer and (w.strategy or "").startswith("deepspeed")):
        at = DATA_PARALLEL_AT
    note = src.note if src is not None and src.note else "one process runs it"
    return (
        f"{src.key if src is not None else 'the environment'} ({where}) makes {n} GPUs visible and {note}: {does} "
        f"({at}). Launch one process per GPU: `torchrun --nproc_per_node {n} {Path(w.path).name} ...` or "
        f"`accelerate launch --num_processes {n} {Path(w.path).name} ...`; the global batch grows {n}x (divide "
        f"gradient_accumulation_steps by {n} to keep it)"
    )


def lower_stage_phrase(w: WorkloadConfig, hw: Hardware) -> str:
    """What a fully sharded single-node run spends in collectives, what ZeRO-2 / SHARD_GRAD_OP would
    leave, the memory that says it fits, and the key that asks for it, from its source."""
    from .costmodel import lower_stage
    from .patching import spare_limit_gb

    low = lower_stage(w, hw, spare_limit_gb(hw))
    if low is None:  # the rule's premise (derived.lower_stage_gain) says there is one
        return "less sharding is projected to fit and to be faster"
    per_step = w.gradient_accumulation
    if w.strategy == "deepspeed":
        what = "ZeRO-2 (whole parameters on every GPU: no parameter all-gather in forward or backward; gradients reduce-scattered each micro-batch, updated weights all-gathered once per step, DeepSpeed 0.19.6 deepspeed/runtime/zero/stage_1_and_2.py:1767-1768)"
    else:
        what = "SHARD_GRAD_OP (parameters gathered once per micro-batch and kept through the backward, gradients and optimizer state sharded, torch 2.13.0 torch/distributed/fsdp/api.py:43-49)"
    text = (
        f"{collectives(w)} take a projected {low.comm_s:.2f} s exposed per optimizer step ({per_step} micro-batch{'es' if per_step != 1 else ''}); "
        f"{what} would leave {low.comm_after_s:.2f} s, projected {low.speedup:.2f}x, {low.peak_gb:.0f} GB per GPU of {capacity_phrase(hw)} "
        f"(no sharding at all, DDP: {low.unsharded_gb:.0f} GB, so DDP fits too)"
    )
    return f"{text}. {_lower_stage_key(w)}"


def _lower_stage_key(w: WorkloadConfig) -> str:
    """Where the config's framework takes the lower stage, from its source."""
    if w.strategy == "deepspeed":
        from .formats.base import DEEPSPEED_FILE

        src = w.sources.get(DEEPSPEED_FILE)
        where = f"in {Path(src.file).name} ({src.note})" if src is not None and src.file else "in the DeepSpeed config the run uses"
        return (
            f"Set `zero_optimization.stage` to 2 {where} (DeepSpeed 0.19.6 deepspeed/runtime/zero/config.py:81 ZeroStageEnum); "
            "its `stage3_*` keys then have no effect (config.py:215-250)"
        )
    if w.format == "axolotl":
        # axolotl 067b021c src/axolotl/utils/trainer.py:621-622 exports FSDP_RESHARD_AFTER_FORWARD only when
        # `reshard_after_forward` is true: goblin names no Axolotl key it has not seen reach FSDP
        return (
            "Axolotl passes `fsdp_config.reshard_after_forward` on only when it is true (axolotl 067b021c src/axolotl/utils/trainer.py:621-622), "
            "so check how your Axolotl release selects SHARD_GRAD_OP; its deepspeed_configs/zero2.json runs ZeRO-2"
        )
    return (
        "With FSDP1 give TrainingArguments `fsdp: shard_grad_op auto_wrap` (transformers 5.25.0 trainer_utils.py:971 FSDPOption) or the accelerate "
        "config `fsdp_sharding_strategy: SHARD_GRAD_OP` (accelerate 1.14.0 utils/constants.py:38); with FSDP2 `reshard_after_forward: false` "
        "(transformers 5.24.0 training_args.py:2916-2931)"
    )


def _hierarchical_keys(w: WorkloadConfig, nodes: int, per_node: int, schemes: list[str]) -> str:
    """The keys that ask the config's framework for hierarchical sharding, each from its source."""
    if w.strategy == "deepspeed":
        from .formats.base import DEEPSPEED_FILE

        src = w.sources.get(DEEPSPEED_FILE)
        if src is not None and src.file:
            file = f"{Path(src.file).name} ({src.note})"
        else:
            # accelerate's own deepspeed_config keys have no hpZ or MiCS setting (accelerate 1.14.0
            # utils/dataclasses.py DeepSpeedPlugin): the keys live in a DeepSpeed JSON it is given
            file = "a DeepSpeed JSON config (the run names none goblin could read; accelerate takes one as `deepspeed_config_file`, commands/launch.py:411)"
        keys = []
        if "hpz" in schemes:
            keys.append(f'`"zero_hpz_partition_size": {per_node}` (ZeRO++ hpZ; default 1, "ideal is number of ranks (gpus) per node")')
        if "mics" in schemes:
            keys.append(f'`"mics_shard_size": {per_node}` (MiCS; default -1, off)')
        return f"Set {' or '.join(keys)} under `zero_optimization` in {file} (DeepSpeed v0.19.5 deepspeed/runtime/zero/config.py:309, :341; docs/_pages/config-json.md:596-600)"
    if w.format == "axolotl":
        return (
            f"In Axolotl set `dp_shard_size: {per_node}` and `dp_replicate_size: {nodes}` (HSDP over its device mesh; "
            "axolotl 0.18.0 src/axolotl/utils/schemas/config.py:1091-1100, utils/distributed.py:320-385)"
        )
    return (
        f"With FSDP2, give the accelerate config `parallelism_config:` with `parallelism_config_dp_shard_size: {per_node}` and "
        f"`parallelism_config_dp_replicate_size: {nodes}` (or `--parallelism_config_dp_replicate_size {nodes}`; accelerate 1.14.0 "
        "src/accelerate/parallelism_config.py:61-64, commands/config/config_args.py:198, commands/launch.py:900); with FSDP1, `fsdp_sharding_strategy: HYBRID_SHARD` "
        "in the accelerate config (accelerate 1.14.0 utils/constants.py:38). transformers 5.24.0 raises on `fsdp: hybrid_shard` unless fsdp_config's version is 1 "
        "(training_args.py:2916-2931)"
    )


def job_phrase(w: WorkloadConfig, hw: Hardware) -> str:
    """The job's time per optimizer step: the projected step plus the terms goblin places per step,
    and the job-level terms it leaves out and why."""
    from .costmodel import STORAGE_GB_S, job_step

    def secs(x: float) -> str:
        return "under 0.01 s" if x < 0.005 else f"{x:,.2f} s"

    job = job_step(w, hw)
    terms = [f"{secs(job.step_s)} step"]
    if job.checkpoint_s is not None:
        terms.append(f"{secs(job.checkpoint_s)} checkpoint writes (at {STORAGE_GB_S[1]:g} GB/s, the fast end)")
    if job.eval_s is not None:
        # an upper bound where a counted eval set is padded to the sequence length; per epoch, at the data's lengths
        terms.append(
            f"up to {secs(job.eval_s)} evaluation" if w.eval_examples is not None else f"{secs(job.eval_s)} evaluation (per epoch, spread over its steps)"
        )
    left: list[str] = []
    if job.checkpoint_s is None:
        left.append("checkpoint writes (not every N steps)")
    if w.eval_runs and job.eval_s is None:
        if w.eval_fraction is not None:
            left.append(f"evaluation (eval set {w.eval_fraction:.0%} of the data, evaluations per epoch not in the config)")
        else:
            left.append("evaluation (" + ("eval set size not in the config" if w.eval_examples is None else "not every N steps") + ")")
    tail = f"; not projected: {', '.join(left)}" if left else ""
    return f"job time per optimizer step {secs(job.total_s)} = " + " + ".join(terms) + f" (projected){tail}"


def _noted(w: WorkloadConfig, field: str) -> str:
    """` (where the field's value came from)`, or "" when its source says nothing."""
    src = w.sources.get(field)
    return f" ({src.note})" if src is not None and src.note else ""


def eval_phrase(w: WorkloadConfig, hw: Hardware) -> str:
    """The estimate an evaluation-frequency finding rests on, with its assumptions."""
    from .costmodel import eval_seconds, eval_share

    share = eval_share(w, hw) or 0.0
    if w.eval_examples is None and w.eval_fraction is not None and w.evals_per_epoch is not None:
        f, k = w.eval_fraction, w.evals_per_epoch
        how_s = _noted(w, "evals_per_epoch")
        return (
            f"evaluates {k:g} times per epoch{how_s} over {f:.0%} of the data at batch {w.eval_batch_size}: each epoch runs forward passes over "
            f"{k * f / (1 - f):.1f} times the {1 - f:.0%} it trains on (forward only, the training data's lengths): "
            f"a projected {share:.0%} of the job's time; {job_phrase(w, hw)}"
        )
    one = eval_seconds(w, hw) or 0.0
    return (
        f"{w.eval_examples:,} eval examples at batch {w.eval_batch_size} every {w.eval_interval} optimizer steps, up to {one:,.1f} s per evaluation "
        f"(forward only, every example padded to {w.eval_seq_len or w.seq_len} tokens): up to {share:.0%} of the job's time (projected); {job_phrase(w, hw)}"
    )


def eval_floor_phrase(w: WorkloadConfig, hw: Hardware, *, with_job: bool = True) -> str:
    """The floor an evaluation-frequency finding over an eval set of unstated size rests on (costmodel.eval_floor), or
    the note saying it where it stays under the bar; "" where it is not projected."""
    from .costmodel import eval_floor

    found = eval_floor(w, hw)
    if found is None:
        return ""
    per_step, share = found
    batch_src = w.sources.get("eval_batch_size")
    batch_said = f" ({batch_src.note})" if batch_src is not None and not batch_src.explicit and batch_src.note else ""
    pairs = (
        "; one sequence per chosen/rejected pair and no reference-model forward, less than the trainer runs"
        if w.sequences_per_example > 1 or (w.reference_forward and not w.kl_forward)
        else "; no KL or reference-model forward, less than the KTO trainer runs"
        if w.kl_forward
        else ""
    )
    return (
        f"the trainer evaluates every {w.eval_interval} optimizer step{'s' if w.eval_interval != 1 else ''}{_noted(w, 'eval_interval')} at "
        f"per-device eval batch {w.eval_batch_size}{batch_said}, and the eval set's size is not in the config, so goblin prices the least an "
        f"evaluation can cost: one eval batch per GPU (forward only, at the training data's lengths{pairs}): {per_step * 1000:,.0f} ms per "
        f"optimizer step, {'under 1%' if share < 0.01 else f'{share:.0%}'} of the job's time (projected, a floor: every further eval batch adds as much)"
        + (f"; {job_phrase(w, hw)}" if with_job else "")
    )


def eval_batch_phrase(w: WorkloadConfig) -> str:
    """Why the training micro-batch fits in evaluation too: what memory the comparison counts."""
    rows = w.micro_batch_size * w.seq_len // (w.eval_seq_len or w.seq_len)
    return (
        f"an eval batch of {rows} x {w.eval_seq_len or w.seq_len} tokens holds no more than the training micro-batch of "
        f"{w.micro_batch_size} x {w.seq_len}: the same weights, "
        "one layer's forward activations at a time and the logits, with no activations saved for backward, no gradients and no "
        "optimizer state added; fewer, larger eval forwards run the GEMMs at a higher efficiency"
    )


def comm_share(w: WorkloadConfig, hw: Hardware) -> float:
    """The share of the projected step that exposed data-parallel collectives take (costmodel's
    communication term, nominal assumptions); 0.0 when no collective runs (one GPU, no data parallelism)."""
    from .costmodel import step

    if w.strategy == "single" or w.world_size <= 1:
        return 0.0
    model = step(w, hw)
    return model.parts["communication"] / model.step_s if model.step_s > 0 else 0.0


def overlap_comm_gain(w: WorkloadConfig, hw: Hardware) -> float:
    """The share of the projected step that DeepSpeed's `overlap_comm: false` adds under ZeRO-3: the step with the
    collectives overlapped as by default (costmodel's comm_overlap), over the step as configured, less one."""
    from .costmodel import step

    if w.strategy == "single" or w.world_size <= 1:
        return 0.0
    now = step(w, hw).step_s
    return now / step(w.model_copy(update={"comm_overlap": None}), hw).step_s - 1.0 if now > 0 else 0.0


def holds(p: Predicate, f: dict[str, Any]) -> bool:
    value = f.get(p.fact)
    try:
        match p.op:
            case "eq":
                return bool(value == p.value)
            case "ne":
                return bool(value != p.value)
            case "in":
                return value in p.value
            case "not_in":
                return value not in p.value
            case "lt":
                return value is not None and value < p.value
            case "le":
                return value is not None and value <= p.value
            case "gt":
                return value is not None and value > p.value
            case "ge":
                return value is not None and value >= p.value
            case "contains":
                return value is not None and str(p.value) in str(value)
            case "matches":
                return value is not None and re.search(str(p.value), str(value)) is not None
            case "version_lt" | "version_ge":
                from packaging.version import InvalidVersion, Version

                try:
                    older = Version(str(value)) < Version(str(p.value))
                except InvalidVersion:
                    return False
                return value is not None and older == (p.op == "version_lt")
    except TypeError:
        return False
    return False


def applicable(
    w: WorkloadConfig, hw: Hardware, rules: tuple[Rule, ...] | list[Rule], host: dict[str, Any] | None = None, *, training_step: int = 0
) -> list[Rule]:
    """The rules whose premises hold; a rule reading a field the config sets in code goblin could not evaluate
    (`FieldSource.unread`) is not judged: its premise would be the default goblin assumed, not the run's value.
    `training_step`: see facts."""
    f = facts(w, hw, host, training_step=training_step)
    unread = {name for name, src in w.sources.items() if src.unread}
    return [r for r in rules if not any(p.fact in unread for p in r.applies_when) and all(holds(p, f) for p in r.applies_when)]


# derived facts computed from a workload field: unread where that field is (rules.facts builds them from its value)
_DERIVED_FROM = {
    "derived.tokens_per_micro_batch": ("micro_batch_size", "seq_len"),
    "derived.micro_batch_read": ("micro_batch_size",),
    "derived.larger_batch_gain": ("micro_batch_size", "seq_len", "gradient_accumulation"),
}
# guidance goblin prices on its own (tools/audit_tools._unpatched_guidance): a PASS beside it is a WARN, so it counts
_PRICED_GUIDANCE = frozenset({"batch.small_global_batch"})


def unjudged(w: WorkloadConfig, hw: Hardware, rules: tuple[Rule, ...] | list[Rule], host: dict[str, Any] | None = None) -> dict[str, list[str]]:
    """The rules that change the run (or priced guidance) which `applicable` left unjudged because a premise reads an
    unread field (set in code goblin could not evaluate), directly or through a derived fact built from it, while every
    other premise holds: each with the unread fields it reads. A PASS cannot clear them (review11b #32 LUMI:
    `per_device_train_batch_size=global_train_batch_size // world_size` read as the default 8)."""
    unread = {name for name, src in w.sources.items() if src.unread}
    if not unread:
        return {}
    f = facts(w, hw, host)

    def reads(fact: str) -> set[str]:
        return {fact} & unread | set(_DERIVED_FROM.get(fact, ())) & unread

    out: dict[str, list[str]] = {}
    for r in rules:
        if (r.footgun and r.id not in _PRICED_GUIDANCE) or r.id in w.ignored_rules:
            continue
        on_unread = {name for p in r.applies_when for name in reads(p.fact)}
        if on_unread and all(holds(p, f) for p in r.applies_when if not reads(p.fact)):
            out[r.id] = sorted(on_unread)
    return out


def undecided_over_span(w: WorkloadConfig, hw: Hardware, rules: tuple[Rule, ...] | list[Rule], host: dict[str, Any] | None = None) -> list[str]:
    """On a shape sized from the model's name (shapespan.spanned): the rules that change the run (not footguns, not
    acknowledged) whose premises hold at a corner of the span (shapespan.corner_shapes: the smallest and the largest
    parameter count the name allows, hidden size halved, as estimated and doubled) but not at the generic shape the
    audit priced. Their verdict rests on the guess; an empty list: every such rule is judged alike across the span."""
    from .shapespan import corner_shapes

    def changing(at: WorkloadConfig) -> set[str]:
        return {r.id for r in applicable(at, hw, rules, host) if not r.footgun and r.id not in w.ignored_rules}

    priced = changing(w)
    out: set[str] = set()
    for corner in corner_shapes(w.model):
        out |= changing(w.model_copy(update={"model": corner})) - priced
    return sorted(out)


_WORD = re.compile(r"[a-z0-9]+")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.replace("_", " ").replace(".", " ").lower())


# BM25 as bm25s 0.3.16 scores it by default (`BM25()`: method "lucene", k1=1.5, b=0.75;
# bm25s/scoring.py _score_idf_lucene, _score_tfc_robertson): idf = ln(1 + (N - df + 0.5) / (df + 0.5)),
# a term's weight idf * tf / (tf + k1 * (1 - b + b * len / avg_len)), a query's score the sum over
# its words (repeats counted again). Written out because importing bm25s (numpy, tqdm) cost a
# session 130 ms, more than ranking a KB of about a hundred rules ever will; tests/test_kb.py
# keeps the ranking equal to bm25s's own over the bundled KB.
BM25_K1 = 1.5
BM25_B = 0.75


def relevance(rules: tuple[Rule, ...] | list[Rule], symptom: str, among: list[Rule] | None = None) -> dict[str, float]:
    """BM25 score of each rule's id, category, title and symptom against the symptom text; term
    statistics over all of `rules`, scores for the rules `among` them (all by default)."""
    query = _words(symptom)
    scored = rules if among is None else among
    if not query or not rules:
        return {r.id: 0.0 for r in scored}
    weights = _weights(rules)
    return {r.id: sum(weights.get(r.id, {}).get(t, 0.0) for t in query) for r in scored}


_WEIGHTS: dict[int, tuple[tuple[Rule, ...] | list[Rule], dict[str, dict[str, float]]]] = {}


def _weights(rules: tuple[Rule, ...] | list[Rule]) -> dict[str, dict[str, float]]:
    """Rule id -> term weights, looked up by the KB object itself (every audit of a session asks
    with the same cached tuple), so the texts are not joined again per query."""
    hit = _WEIGHTS.get(id(rules))
    if hit is not None and hit[0] is rules:
        return hit[1]
    docs = _index(tuple(f"{r.id} {r.category} {r.title} {r.symptom}" for r in rules))
    weights = {r.id: w for r, w in zip(rules, docs, strict=True)}
    if isinstance(rules, tuple):
        if len(_WEIGHTS) >= 8:
            _WEIGHTS.clear()
        _WEIGHTS[id(rules)] = (rules, weights)  # holds the tuple, so its id is not reused
    return weights


def _index(docs: tuple[str, ...]) -> tuple[dict[str, float], ...]:
    """Each document's term weights (term statistics over all of them); kept by _weights."""
    corpus = [_words(doc) for doc in docs]
    avg_len = sum(map(len, corpus)) / len(corpus) or 1.0
    freq = Counter(t for doc in corpus for t in set(doc))
    idf = {t: math.log(1 + (len(corpus) - df + 0.5) / (df + 0.5)) for t, df in freq.items()}
    weights = []
    for doc in corpus:
        norm = BM25_K1 * (1 - BM25_B + BM25_B * len(doc) / avg_len)
        weights.append({t: idf[t] * tf / (tf + norm) for t, tf in Counter(doc).items()})
    return tuple(weights)


def search(
    w: WorkloadConfig,
    hw: Hardware,
    rules: tuple[Rule, ...] | list[Rule],
    symptom: str = "",
    top_k: int = 20,
    host: dict[str, Any] | None = None,
    found: list[Rule] | None = None,
) -> list[Rule]:
    """Applicable rules only (structured predicates first; `found` when the caller has worked
    them out), then ranked by BM25 relevance to the symptom text and by expected impact; ties by
    id, so the order is deterministic. Term weights come from the whole KB, so a rule's rank does
    not depend on which others apply (and the index is built once per session, not once per config)."""
    if found is None:
        found = applicable(w, hw, rules, host)
    score = relevance(rules, symptom, among=found)
    return sorted(found, key=lambda r: (-round(score[r.id], 6), -r.impact.high, r.id))[:top_k]


def slim(rule: Rule) -> RuleRef:
    edits: dict[str, Any] = dict(rule.transform.set)
    if rule.transform.micro_batch_to:
        edits["micro_batch_size"] = f"up to {rule.transform.micro_batch_to}, same global batch"
    if rule.transform.micro_batch_down:
        edits["micro_batch_size"] = "lowered until the edits fit, same global batch (more accumulation)"
    return RuleRef(
        id=rule.id,
        title=rule.title,
        symptom=rule.symptom,
        edits=edits,
        env=rule.transform.env,
        impact=f"{rule.impact.low:.2f}-{rule.impact.high:.2f}x",
        citation=rule.citation,
        footgun=rule.footgun,
    )


# ------------------------------------------------------------------ finding messages
_SHOWN = {
    "seq_len": "seq_len",
    "micro_batch_size": "micro-batch",
    "gradient_accumulation": "gradient accumulation",
    "dataloader_workers": "dataloader workers",
    "eval_batch_size": "eval batch",
    "eval_interval": "eval interval",
    "eval_fraction": "eval split",
    "evals_per_epoch": "evaluations per epoch",
}


def _env_phrase(name: str, w: WorkloadConfig) -> str:
    """`NCCL_DEBUG=INFO (scripts/run.sh line 3)`: an environment variable as the run sees it, and where it is set."""
    value = w.env.get(name)
    src = w.sources.get(f"env.{name}")
    at = f" ({source_place(src, w)})" if value is not None and src is not None and src.line else ""
    return f"{name} unset" if value is None else f'{name}=""{at}' if value == "" else f"{name}={value}{at}"


# derived facts over a list of variables (facts() above): the variables, and which value sets the fact
_DERIVED_ENV: dict[str, tuple[tuple[str, ...], Callable[[str | None], bool]]] = {
    "serializing_env": (SERIALIZING_ENV, lambda v: v not in (None, "", "0")),
    "gemm_logging_env": (GEMM_LOGGING_ENV, lambda v: v not in (None, "", "0")),
    "cu_mask_env": (CU_MASK_ENV, lambda v: v not in (None, "")),
}


def _fact_phrase(name: str, w: WorkloadConfig) -> str:
    """`micro-batch 1 (line 12)` or `precision fp32 (default: ...)`: a workload value and where it came from.

    An unset optional field (packing_blocked, prequantized, zero_stage, compile_mode) is a rule's
    premise of absence ("nothing blocks packing"), not a value: it is said as "not set" where the
    config or a framework default says so, else left out (""), never shown as Python's None."""
    value = getattr(w, name)
    src = w.sources.get(name)
    label = _SHOWN.get(name, name.replace("_", " "))
    if value is None or value == "":
        if src is not None and src.explicit and src.line:
            return f"{label} not set (`{src.key}`, {source_place(src, w)})"
        if src is not None and not src.explicit and src.note:
            return f"{label} not set ({src.note})"
        return ""
    shown = str(value).lower() if isinstance(value, bool) else f"{value:g}" if name in ("evals_per_epoch", "eval_fraction") else value
    also = ""
    fsdp = w.sources.get("fsdp_activation_checkpointing")
    if name == "gradient_checkpointing" and fsdp is not None and src is not None and fsdp.key != src.key:
        place = f"line {fsdp.line}" if fsdp.file == w.path and fsdp.line else fsdp.file
        also = f" and FSDP activation checkpointing on (`{fsdp.key}`, {place})"
    if src is not None and src.explicit and src.line:
        return f"{label} {shown} (`{src.key}`, {source_place(src, w)}){also}"
    if src is not None and not src.explicit and src.note:
        return f"{label} {shown} (not set; {src.note}){also}"
    return f"{label} {shown}{also}"


_VARIANT: dict[str, tuple[str, dict[str, Any]]] = {
    "headroom_without_checkpointing_gb": ("with checkpointing off", {"gradient_checkpointing": False}),
    "headroom_without_offload_gb": ("without offloading", {"cpu_offload": False, "activation_offloading": False}),
    "headroom_ddp_gb": ("unsharded (DDP)", {"strategy": "ddp", "cpu_offload": False}),
    "headroom_fused_gb": ("with Liger's fused kernels (the loss's logits held in chunks)", {"fused_kernels": True}),
}


def memory_phrase(w: WorkloadConfig, hw: Hardware, fact: str = "headroom_gb") -> str:
    """The memory estimate a finding rests on, with what it assumed (precision, weights, world size)."""
    from .costmodel import length_phrase, memory_gb
    from .formats.semantics import world_size_note

    parts = ""
    breakdown = getattr(__import__("pytest_goblin.costmodel", fromlist=["memory_breakdown"]), "memory_breakdown", None)
    if callable(breakdown):
        try:
            items = breakdown(w)
            parts = ", ".join(f"{k} {v:.0f}" for k, v in items.items()) + " GB; "
        except Exception:  # the breakdown is a report aid; the total below is what rules use
            parts = ""
    sharded = f"{w.strategy}" + (
        f" ZeRO-{w.zero_stage}" if w.zero_stage is not None else " ZeRO-3 (stage unknown: assumed)" if w.strategy == "deepspeed" else ""
    )
    stage_src = w.sources.get("zero_stage")
    if w.zero_stage is not None and stage_src is not None and stage_src.note and "file name" in stage_src.note:
        sharded += " (read from the file name)"
    from .formats.semantics import strategy_unread

    if (unread := strategy_unread(w)) is not None:
        own = "repository's own recipe" in unread
        sharded += f" (assumed: the sharding is unknown, {unread})" if own else " (assumed: the accelerate config the launch names was not read)"
    label, update = _VARIANT.get(fact, ("", dict[str, Any]()))
    if fact == "headroom_unquantized_gb":
        label, update = "unquantized", {"quantization": "none", "method": "lora" if w.method == "qlora" else w.method}
    shown_w = w.model_copy(update=update) if update else w
    shown = memory_gb(shown_w)
    from .costmodel import weights_phrase
    from .modelzoo import shape_assumption, shape_basis

    assumed = shape_assumption(w.model) or shape_basis(w.model)
    return (
        f"projected {shown:.0f} GB per GPU{' ' + label if label else ''} of {capacity_phrase(hw)} ({parts}{w.method}{' (language model frozen)' if w.frozen_language_model else ''} {w.precision}, weights in {weights_phrase(shown_w)}, "
        f"{length_phrase(w)}, strategy {sharded}, {world_size_note(w)})" + (f"; {assumed}" if assumed else "")
    )


def lf_neat_packing(w: WorkloadConfig) -> str:
    """What LLaMA-Factory packing means for this config: neat_packing, and what it asks of the attention and micro-batch."""
    from .frameworks.facts import CITES

    text = (
        "in LLaMA-Factory set `neat_packing: true`, not `packing: true` alone: plain packing concatenates samples under one attention mask, "
        f"so each sample attends to the ones packed before it and the objective changes; neat_packing keeps them apart ({CITES['lf.neat_packing']})"
    )
    if w.attention == "flash":
        text += (
            f"; with flash_attention_2 (this config) it runs the varlen path but needs micro-batch 1 (this config: {w.micro_batch_size}), "
            f"and gpt_oss / gemma4 raise ({CITES['lf.neat_packing_fa2']})"
        )
    else:
        text += (
            f"; with {w.attention} attention (this config) it builds a 4D block-diagonal mask per sample, which rules out SDPA's flash kernel, "
            f"so its gain is smaller than with flash_attention_2, where it needs micro-batch 1 ({CITES['lf.neat_packing_4d']}; {CITES['lf.neat_packing_fa2']})"
        )
    return text


def packing_phrase(w: WorkloadConfig) -> str:
    """What the dataset's sampled lengths say packing would recover: the padded share of a micro-batch
    and how far samples fall short of seq_len (the tokens a packed sequence holds)."""
    from .costmodel import sample_length

    padded = sample_length(w)
    mean = min(float(w.mean_tokens or 0.0), float(padded))
    pad_share = 1 - mean / padded if padded else 0.0
    where = _noted(w, "token_lengths")
    return (
        f"the sampled rows average {mean:.0f} tokens against seq_len {w.seq_len}{where}: at micro-batch {w.micro_batch_size} "
        f"a batch padded to its longest sample ({padded} tokens expected) is about {pad_share:.0%} padding, and a packed "
        f"sequence of {w.seq_len} tokens holds about {w.seq_len / max(mean, 1.0):.0f} samples"
    )


def _caveat(rule: Rule, w: WorkloadConfig) -> str | None:
    """A framework constraint the rule's advice must carry for this config (facts.CITES)."""
    if rule.id == "packing.pad_to_sequence_len" and (src := w.sources.get("token_lengths")) is not None and src.note:
        return src.note  # what pads, where, and the unpadded lengths when a local dataset was read (formats/datasets.attach)
    sampled = packing_phrase(w) if rule.id == "packing.sample_packing" and w.token_quantiles and w.mean_tokens and not w.pad_to_max else None
    if rule.id == "packing.sample_packing" and w.format == "llamafactory" and "(v1)" not in (w.framework or ""):
        return lf_neat_packing(w) + (f"; {sampled}" if sampled else "")
    if sampled:
        return sampled
    if rule.id == "packing.sample_packing" and w.format == "torchtune":
        src = w.sources.get("seq_len")
        if src is None or not src.explicit:
            from .frameworks.facts import CITES

            return (
                "this config leaves tokenizer.max_seq_len unset, and torchtune raises on `dataset.packed: True` without it, "
                f"so set tokenizer.max_seq_len together with dataset.packed ({CITES['torchtune.packed_max_seq_len']})"
            )
    return None


def collectives(w: WorkloadConfig) -> str:
    """The collectives this config's data-parallel strategy runs, for guidance whose premise is them."""
    if w.strategy == "fsdp":
        return "FSDP's parameter all-gathers and gradient reduce-scatters"
    if w.strategy == "deepspeed":
        if w.zero_stage == 3:
            return "ZeRO-3's parameter all-gathers and gradient reduce-scatters"
        if w.zero_stage in (1, 2):
            # DeepSpeed deepspeed/runtime/zero/stage_1_and_2.py: gradients are reduced to the rank that
            # owns their optimizer shard, and step() all-gathers the updated weights (all_gather_dp_groups).
            return f"ZeRO-{w.zero_stage}'s gradient reductions and the all-gather of updated weights after each step"
        if w.zero_stage == 0:
            return "ZeRO-0's gradient all-reduces"
        return "DeepSpeed's collectives (the ZeRO stage is not stated in the config)"
    return "gradient all-reduces"


WritesOf = Callable[[str, Any], "dict[str, Any] | None"]  # field, value -> the config keys that say it (Adapter.writes)


def _keys_said(field: str, old: Any, new: Any, writes_of: WritesOf | None, w: WorkloadConfig) -> str:
    """`per_device_train_batch_size` 8 -> 4, or `disable_gradient_checkpointing: true`: an edit in the config's own keys."""
    keys = writes_of(field, new) if writes_of is not None else None
    if keys is None:
        src = w.sources.get(field)
        keys = {src.key: new} if src is not None and src.key else None
    if isinstance(old, bool) or isinstance(new, bool):
        if keys:
            return ", ".join(f"`{k}: {str(v).lower() if isinstance(v, bool) else v}`" for k, v in keys.items())
        return f"{_SHOWN.get(field, field.replace('_', ' '))} {'on' if new else 'off'}"
    if keys:
        return ", ".join(f"`{k}` {old} -> {v}" for k, v in keys.items())
    # a value that follows from others (LLaMA-Factory v1 global_batch_size, Axolotl batch_size, over micro_batch_size)
    return f"{_SHOWN.get(field, field.replace('_', ' '))} {old} -> {new} (follows from the global batch size the config sets, unchanged)"


def micro_batch_down_phrase(
    w: WorkloadConfig, hw: Hardware, values: dict[str, Any], writes_of: WritesOf | None = None, patched: WorkloadConfig | None = None
) -> str:
    """What a `micro_batch_down` rule changes, in the config's own keys and values, and what the
    projection says of it: `batch_size` 8 -> 4, `gradient_accumulation_steps` 8 -> 16,
    `enable_activation_checkpointing: false`: fits in 206 GB (MI300X's 192 GiB label) at 101 GB ... The peak is the patched
    config's (`patched`, every edit of the patch) where the rule is in the patch, the gain the rule's own."""
    from .costmodel import lengths_assumed, memory_gb, seq_len_is_cutoff, shorter_length, step

    after = w.model_copy(update=values)
    order = ["micro_batch_size", "gradient_accumulation", *(f for f in values if f not in ("micro_batch_size", "gradient_accumulation"))]
    said = ", ".join(_keys_said(f, getattr(w, f), values[f], writes_of, w) for f in order if f in values)
    peak = memory_gb(patched if patched is not None else after)
    gain = step(w, hw).step_s / step(after, hw).step_s
    per_gpu = w.micro_batch_size * w.gradient_accumulation
    return (
        f"{said}: fits in {capacity_phrase(hw)} at {peak:.0f} GB, projected {gain:.2f}x faster; micro-batch x gradient accumulation "
        f"stays {per_gpu} sequences per GPU per optimizer step"
        + (
            f" (sized for every sample at the config's cutoff of {w.seq_len} tokens, the longest a sample can be, and projected "
            f"faster with samples mostly {shorter_length(w)} tokens long too; no dataset lengths were read, and with shorter samples a larger micro-batch may fit)"
            if lengths_assumed(w) and seq_len_is_cutoff(w)
            else ""
        )
    )


# Facts that depend on the topology: a finding that reads one names nodes x GPUs and where they came from.
_TOPOLOGY_FACTS = frozenset(
    {
        "world_size",
        "nodes",
        "gpus_per_node",
        "derived.nodes",
        "derived.gpus_per_node",
        "derived.comm_share",
        "derived.overlap_comm_gain",
        "derived.world_size_known",
        "derived.nodes_known",
        "derived.gpus_per_node_known",
        "derived.inter_node_share",
        "derived.hierarchical_gain",
        "derived.lower_stage_gain",
    }
)


def render_finding(
    rule: Rule,
    w: WorkloadConfig,
    hw: Hardware,
    status: str | None = None,
    *,
    values: dict[str, Any] | None = None,
    writes_of: WritesOf | None = None,
    patched: WorkloadConfig | None = None,
) -> str:
    """A finding in this config's own terms: the values that triggered the rule (with their lines or the
    framework default they come from), the rule's advice, the memory estimate when memory decided it,
    and the world size when it was assumed. A `micro_batch_down` rule also says the values it writes:
    `values` (field -> new value, as the patch wrote them; else as planned for this config alone), in
    the keys `writes_of` (the format's Adapter.writes) names."""
    from .formats.semantics import world_size_note

    if rule.transform.micro_batch_down:
        return _render_micro_batch_down(rule, w, hw, status, values, writes_of, patched)

    facts_used: list[str] = []
    memory: str | None = None
    for p in rule.applies_when:
        scope, _, name = p.fact.partition(".")
        if scope == "derived" and name in _MEMORY_FACTS:
            memory = name
        elif scope == "env":
            facts_used.append(_env_phrase(name, w))
        elif scope == "derived" and name in _DERIVED_ENV:  # the variables that set it, with where each is set
            names, is_set = _DERIVED_ENV[name]
            facts_used.extend(_env_phrase(var, w) for var in names if is_set(w.env.get(var)))
        elif scope in ("hw", "host", "derived"):
            continue
        elif p.fact in WORKLOAD_FIELDS and p.fact not in _TOPOLOGY_FACTS and p.fact not in {f.split(" ")[0] for f in facts_used}:
            facts_used.append(_fact_phrase(p.fact, w))
    lead = "; ".join(dict.fromkeys(f for f in facts_used if f))
    text = rule.guidance if rule.footgun and rule.guidance else rule.title
    text = text.replace("{collectives}", collectives(w))
    if "{debug_modes}" in text:
        text = text.replace("{debug_modes}", "; ".join(w.debug_modes))
    if rule.id == "packing.sample_packing" and w.token_quantiles:  # measured (padded to seq_len or not): the data shows it
        text = text.replace("; the gain depends on the length distribution of your data, which a config does not show", "")
    if "{hierarchical}" in text:
        text = text.replace("{hierarchical}", hierarchical_phrase(w, hw))
    if "{one_unit}" in text:
        text = text.replace("{one_unit}", one_unit_phrase(w))
    if "{overlap_gain}" in text:
        text = text.replace("{overlap_gain}", f"{overlap_comm_gain(w, hw) * 100:.0f}%")
    if "{one_process}" in text:
        text = text.replace("{one_process}", one_process_phrase(w))
    if "{lower_stage}" in text:
        text = text.replace("{lower_stage}", lower_stage_phrase(w, hw))
    if "{small_batch}" in text:
        from .globalbatch import small_batch_phrase

        text = text.replace("{small_batch}", small_batch_phrase(w, hw))
    msg = f"{lead}: {text}" if lead else text
    caveat = _caveat(rule, w)
    if caveat:
        msg += f"; {caveat}"
    over = memory in _VARIANT and any(p.fact == "derived.headroom_gb" and p.op == "lt" for p in rule.applies_when)
    if memory and over:
        # over HBM as it is, under it with the rule's change: both numbers are the claim (kernels.liger_fused_kernels)
        from .costmodel import memory_gb

        label, update = _VARIANT[str(memory)]
        msg += f". Memory: {memory_phrase(w, hw)}; {memory_gb(w.model_copy(update=update)):.0f} GB {label}"
    elif memory:
        msg += f". Memory: {memory_phrase(w, hw, memory)}"
    elif any(p.fact == "derived.checkpoint_share" for p in rule.applies_when):
        msg += f". Checkpoints: {checkpoint_phrase(w, hw)}"
    elif any(p.fact == "derived.eval_share" for p in rule.applies_when):
        msg += f". Evaluation: {eval_phrase(w, hw)}"
    elif any(p.fact == "derived.eval_floor_share" for p in rule.applies_when):
        msg += f". Evaluation: {eval_floor_phrase(w, hw)}"
    elif any(p.fact == "derived.eval_batch_shortfall" for p in rule.applies_when):
        msg += f". Memory: {eval_batch_phrase(w)}"
    elif any(p.fact in _TOPOLOGY_FACTS or p.fact == "strategy" for p in rule.applies_when) or rule.transform.micro_batch_to:
        msg += f" ({world_size_note(w)})"
    if status:
        msg += f" (not patched: {status})"
    return msg


def _render_micro_batch_down(
    rule: Rule, w: WorkloadConfig, hw: Hardware, status: str | None, values: dict[str, Any] | None, writes_of: WritesOf | None, patched: WorkloadConfig | None
) -> str:
    lead = "; ".join(x for x in (_fact_phrase("gradient_checkpointing", w), _fact_phrase("micro_batch_size", w)) if x)
    msg = f"{lead}: {rule.title}"
    if values is None:
        patched = None
        fit = checkpointing_off_fit(w, hw) if rule.transform.set == {"gradient_checkpointing": False} else None
        if fit is not None:
            values = {**rule.transform.set, "micro_batch_size": fit.micro_batch_size, "gradient_accumulation": fit.gradient_accumulation}
    if values:
        msg += f": {micro_batch_down_phrase(w, hw, values, writes_of, patched)}"
    msg += f". Checkpointing off at micro-batch {w.micro_batch_size} leaves too little HBM: {memory_phrase(w, hw, 'headroom_without_checkpointing_gb')}"
    if status:
        msg += f" (not patched: {status})"
    return msg


# Skip reasons that make a rule's advice impossible to act on in this config: the framework rejects or
# ignores the edit, or it does not fit. Such a rule is not reported as a finding (it would advise the
# very change goblin just found it cannot make); the reason stays in Patch.skipped.
_UNACTIONABLE = (
    # costmodel.PACK_LENGTH_UNREAD: a memory edit on a script's own packs of unread length (review12a #17)
    "into sequences of a length goblin did not read",
    "stop at start-up",
    "not an Axolotl key",
    " raises on ",
    " raise on ",
    "never reads",
    "not an accepted value",
    "would be ignored",
    "is not supported with",
    "have no setting",
    "fits in memory",
    "projected peak memory",
    "needs the logits",
    "computes its loss from the logits",
    "not worth patching",
)


# How a rule's skip reason starts where its edits would make a blocker fire (patchblock): the rule's advice stands (the
# blocker names what to change first, a pin or another key), so its finding is shown with the reason.
BLOCKED_EDIT = "not offered: with "


def unactionable(status: str | None) -> bool:
    if str(status).startswith(BLOCKED_EDIT):
        return False
    return bool(status) and any(m in str(status) for m in _UNACTIONABLE)


# Footguns whose gain depends on the data's lengths: priced by the projection where a local dataset's lengths were
# read (unpatched_gain), and otherwise a gain goblin says it cannot see (review6a class 8: a PASS beside them).
LENGTH_PRICED_FOOTGUNS = frozenset({"packing.sample_packing", "packing.pad_to_sequence_len"})


def unpatched_gain(rule_id: str, w: WorkloadConfig, hw: Hardware) -> float | None:
    """A footgun's own projected gain in tokens of data per second, or None where the projection cannot price it.

    packing.sample_packing: batches padded to their longest sample (costmodel.sample_length) against packed sequences
    of seq_len tokens of data; packing.pad_to_sequence_len: batches padded to seq_len against batches padded to their
    longest, the same data per step. Both read the dataset's sampled lengths; without them, None."""
    from .costmodel import step

    if rule_id not in LENGTH_PRICED_FOOTGUNS or not (w.token_quantiles and w.mean_tokens) or w.sample_packing:
        return None
    mean = min(float(w.mean_tokens), float(w.seq_len))
    if rule_id == "packing.sample_packing":
        if w.pad_to_max:
            return None  # the padding footgun prices this config's padding; packing on top is its own edit
        packed = w.model_copy(update={"sample_packing": True})
        return (w.seq_len / max(mean, 1.0)) * step(w, hw).step_s / step(packed, hw).step_s
    if not w.pad_to_max:
        return None
    return step(w, hw).step_s / step(w.model_copy(update={"pad_to_max": False}), hw).step_s


# The offload finding that does not hinge on the model's size (review7b #26 rhymes-ai/Aria config_full: ZeRO-3 offloading
# parameters and optimizer to the host on 8 GPUs for a model goblin cannot size): the largest model the config fits without
# the offload, at the config's own method, precision, strategy, world size and tokens, with a generic Llama-like shape.
OFFLOAD_BOUND_ID = "memory.cpu_offload_fits_up_to"
OFFLOAD_BOUND_TITLE = "CPU offload that a model of any size up to a bound does not need"
OFFLOAD_BOUND_WORDS = ("if the model has at most",)  # goblin's own words in every message (reporting.markdown checks them)
OFFLOAD_BOUND_CITATION = "https://www.deepspeed.ai/tutorials/zero-offload/"
# The bound is stated only where a model of the size goblin assumes for an unknown one (modelzoo: 7B) fits under it:
# a bound below that says nothing a team can act on.
OFFLOAD_BOUND_FLOOR_B = 7.0


def offload_headroom_gb() -> float:
    """The HBM memory.cpu_offload_when_it_fits leaves free before it calls the offload waste (its
    derived.headroom_without_offload_gb predicate), so both findings draw the line at the same place."""
    for rule in cached_rules():
        if rule.id == "memory.cpu_offload_when_it_fits":
            for p in rule.applies_when:
                if p.fact == "derived.headroom_without_offload_gb" and isinstance(p.value, (int, float)):
                    return float(p.value)
    return 20.0


def offload_bound(w: WorkloadConfig, hw: Hardware) -> tuple[float, WorkloadConfig] | None:
    """The largest model (billions of parameters, a generic Llama-like shape: modelzoo.estimate_shape) that this config
    holds without its CPU offload, leaving the headroom memory.cpu_offload_when_it_fits asks for, and the workload it was
    priced on (offload off; a method the config's own keys do not set priced as a full fine-tune, the most state any
    method keeps: review7b #26 read LoRA from code the run never reaches). None where the model's size is known or read
    from its name (the memory rules judge it then), nothing is offloaded, the strategy does not shard (DeepSpeed, FSDP),
    the world size is assumed (the sharding divides the state by it), the trainer's memory is not modelled (online RL,
    a preference trainer goblin does not know), only an adapter's
    optimizer state is offloaded (the parameters stay on the GPU and the method read is not a full fine-tune), or the
    bound is below OFFLOAD_BOUND_FLOOR_B."""
    from .costmodel import memory_gb

    if not w.cpu_offload or w.model.known or w.model.params_b is not None or w.strategy not in ("deepspeed", "fsdp"):
        return None
    if online_rl(w) is not None or unmodelled_trainer(w) is not None:
        return None
    if not w.offload_params and w.method != "full":
        return None  # the optimizer state of an adapter is small: its offload costs little whatever fits (review7b #34)
    ws = w.sources.get("world_size")
    if ws is None or not ws.explicit:
        return None  # the state is sharded over the world size: an assumed one would make the bound a guess
    limit = capacity_gb(hw) - offload_headroom_gb()
    method = w.sources.get("method")
    update: dict[str, Any] = {"cpu_offload": False, "offload_params": False, "activation_offloading": False}
    if method is None or not method.explicit:
        update.update(method="full", quantization="none")
    bare = w.model_copy(update=update)

    def at(params_b: float) -> WorkloadConfig:
        return bare.model_copy(update={"model": w.model.model_copy(update={"params_b": params_b})})

    if memory_gb(at(OFFLOAD_BOUND_FLOOR_B)) > limit:
        return None
    low, high = OFFLOAD_BOUND_FLOOR_B, 4096.0
    if memory_gb(at(high)) <= limit:
        return high, at(high)
    while high - low > 0.5:
        mid = (low + high) / 2
        low, high = (mid, high) if memory_gb(at(mid)) <= limit else (low, mid)
    bound = float(math.floor(low))
    return bound, at(bound)
