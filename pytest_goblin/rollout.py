"""Online RL (TRL GRPO, RLOO, online DPO): one optimizer step split into generation, reference, log-prob and training.

The cost model (costmodel.py) projects a training step; an online RL step first generates its own data.
`split` projects, per GPU and optimizer step, at the TRL release the recipe runs on
(frameworks/history.py) and with that release's defaults (frameworks/key_history.json, each cited):

- **generation**: prompts x `num_generations` completions of `max_completion_length` tokens, decoded on the
  HBM-bandwidth roofline (every decode step reads the weights once for the whole batch of sequences, plus each
  sequence's KV cache; the GEMMs' FLOPs bound it from below), after a prefill of the prompt tokens priced by
  compute. vLLM colocated (`vllm_mode: colocate`) runs on the training GPUs; server mode runs on GPUs apart
  from them (also where the config sets no vllm_mode, its release is assumed and its launcher starts a vLLM
  server: `server_mode`). Completions are taken at `max_completion_length` (an upper bound: a completion may stop early).
  transformers' `generate` (`use_vllm: false`) is not modelled: goblin has no sourced efficiency for it.
- **reference** (beta > 0) and **log-prob** (the policy's no-grad forward that vLLM's importance sampling
  correction needs) forwards over prompt + completion tokens.
- **training**: costmodel.step with the sequence length set to prompt + completion tokens and the micro-batch
  the per-device batch (which TRL counts in completions).
- **memory**: the training state (with a reference copy of the weights when beta > 0 and the model is not
  PEFT) plus what a colocated vLLM reserves, `vllm_gpu_memory_utilization` x HBM.

Reward functions (Python in the training script) and reward models are never modelled, so an online RL
verdict stays inconclusive; the split says what was projected and what was not.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from packaging.version import InvalidVersion, Version

from .costmodel import GB, _gemm_eff, memory_gb, nominal_for, peak_tflops, step, weights_phrase
from .hardware import capacity_gb, capacity_phrase
from .modelzoo import estimate_shape, shape_assumption
from .schemas import Hardware, RolloutSplit, WorkloadConfig

if TYPE_CHECKING:
    from .frameworks.unsloth import UnslothLoad

# (found, value, line) of a config key, as blockers.raw_key reads it
# (found, value, where): the config's line number, or a place outside it (a launch line's flag: blockers.launch_config_flags)
Lookup = Callable[[str], tuple[bool, Any, int | str | None]]


def _at(line: int | str | None) -> str:
    """Where a looked-up value was read, as a message says it."""
    return line if isinstance(line, str) else f"line {line}" if line else "the config"


# The TRL config classes whose step `split` models, and the first release whose trainer generates as
# modelled here (per_device_train_batch_size counts completions, one generation batch per
# steps_per_generation x num_iterations micro-steps: trl 1.16.0 trl/trainer/grpo_config.py:1098-1117).
# RLOO before 0.22 was the PPO-style OnPolicyConfig trainer (rloo_k, response_length), modelled in rollout_onpolicy. Online DPO
# (two completions per prompt every micro-step, trained as a chosen/rejected pair against a reference) from 0.23,
# the release that gave it vllm_mode and vllm_gpu_memory_utilization (frameworks/key_history.json).
MODELLED = {"GRPOConfig": "0.18.0", "RLOOConfig": "0.22.0", "OnlineDPOConfig": "0.23.0"}

# A prompt length where the config states none and no dataset was read: TRL's own max_prompt_length default
# while it had one (trl 0.25.1 trl/trainer/grpo_config.py:333; later releases do not truncate prompts).
ASSUMED_PROMPT = 512
ASSUMED_PROMPT_CITE = "TRL's max_prompt_length default through 0.25 (trl/trainer/grpo_config.py:333@0.25.1)"

VLLM_BYTES = 2.0  # vLLM serves the policy in its half-precision dtype (bf16/fp16 weights and KV cache)
# How far published vLLM latencies on MI300X sit above the roofline of decode_seconds: vLLM benchmark_latency, Llama 3.1
# 405B fp8 on 8 x MI300X, 128 + 128 tokens, batch 1-256 (Oracle Cloud Infrastructure blog, 2024-10-10; docs/projection.md,
# tests/test_rollout.py checks it)
FLOOR_GAP = "1.6-2.0x"


@dataclass(frozen=True)
class Value:
    value: Any
    source: str  # "line 9" or the TRL default and where it is


def config_class(w: WorkloadConfig) -> str | None:
    """The TRL config class the workload was read as (`trl 1.16.0 (GRPOConfig)`), or None."""
    label = w.framework or ""
    if not label.startswith("trl "):
        return None
    # the class is the label's first word in parentheses: `trl 1.16.0 (GRPOConfig, grpo.py parses this file into ...)`
    inner = re.split(r"[,;)]", label[label.find("(") + 1 :], maxsplit=1)[0].strip() if "(" in label else ""
    return inner if inner.endswith("Config") else None


def _version(s: str) -> Version | None:
    try:
        return Version(s)
    except InvalidVersion:
        return None


def trl_default(cls: str, key: str, version: str) -> Value | None:
    """`key`'s default in TRL's `cls` at `version`, cited (file:line@release); None when the class has no
    such key at that release or goblin cannot tell."""
    from .frameworks.history import _read_as, history, present
    from .frameworks.tables import shipped

    entry = history()["trl"]["classes"].get(cls, {}).get("keys", {}).get(key)
    if entry is None or present("trl", cls, key, version) is not True:
        return None
    runs = entry.get("defaults")
    if runs:
        # the runs of releases that stand for `version` (itself, its minor's read release, or both neighbours)
        hits = [(d, cite) for a, b, d, cite in runs for r in _read_as("trl", version) if Version(a) <= Version(r) <= Version(b)]
        if not hits or len({repr(d) for d, _cite in hits}) != 1:
            return None  # not read, or the neighbours disagree
        value, cite = hits[0]
        said = f"TRL {cls}.{key} default at trl {version}: trl {cite}"
    else:
        field = shipped("trl")["classes"].get(cls, {}).get("fields", {}).get(key)
        if field is None:
            return None
        value = field.get("default")
        at = entry["at"].split(" ", 1)  # "1.16.0 trl/trainer/grpo_config.py:480": the default did not change across releases
        said = f"TRL {cls}.{key} default (unchanged in every release read): trl {at[1]}@{at[0]}"
    if value is None or isinstance(value, dict):  # unset, or a factory: not a value goblin can use
        return None
    return Value(value, said)


def _get(lookup: Lookup, cls: str, key: str, version: str, preset: dict[str, Value] | None = None) -> Value | None:
    """The config's value of `key`, else what the framework around TRL passes for it (`preset`: Axolotl's own
    defaults), else TRL's default at `version`, else (a release goblin did not read, newer than the newest it
    did) the newest read release's default, said to be assumed."""
    from .frameworks.history import newest

    found, value, line = lookup(key)
    if found and value is not None:
        return Value(value, _at(line))
    if preset and key in preset:
        return preset[key]
    got = trl_default(cls, key, version)
    top = newest("trl")
    v, t = _version(version), _version(top)
    if got is None and v is not None and t is not None and v > t and (latest := trl_default(cls, key, top)) is not None:
        return Value(latest.value, f"assumed: trl {version} was not read; {latest.source}")
    return got


def _num(v: Value | None, default: float) -> float:
    if v is None or isinstance(v.value, bool):
        return default
    try:
        return float(v.value)
    except (TypeError, ValueError):
        return default


def _flag(v: Value | None) -> bool:
    if v is None:
        return False
    if isinstance(v.value, str):
        return v.value.strip().lower() in ("true", "1", "yes")
    return bool(v.value)


def _ms(s: float) -> float:
    return round(s * 1e3, 1)


def decode_seconds(
    w: WorkloadConfig, hw: Hardware, *, sequences: int, prompt: int, completion: int, tp: int = 1, waves: int = 1, weight_bytes: float = VLLM_BYTES
) -> tuple[float, float]:
    """(prefill, decode) seconds for `sequences` sequences of `prompt` tokens each generating `completion`
    tokens on one GPU holding 1/tp of the weights: prefill by compute (2N FLOPs per prompt token at the
    GEMM efficiency of that many tokens); decode, per generated token, the larger of reading the weights
    once plus every sequence's KV cache at the achieved HBM bandwidth (`bw_eff`, kb/efficiency.yaml) and
    2N FLOPs per sequence at the GEMMs' best achieved efficiency (`gemm_eff_max`). `waves`: the batch runs in that many
    rounds when the KV cache cannot hold it at once (each round reads the weights again). `weight_bytes`: bytes per
    weight vLLM reads (its half precision; 1 for an fp8 checkpoint, as in the published check of docs/projection.md)."""
    a = nominal_for(hw)
    shape = estimate_shape(w.model)
    params = (shape.params_b if shape.params_b is not None else 7.0) * 1e9
    active = shape.active_params_b * 1e9 if shape.active_params_b else params  # MoE: FLOPs of the experts a token takes
    hidden = shape.hidden or 4096
    kv_per_token = kv_bytes_per_token(w, tp)
    peak = peak_tflops(hw, "bf16") * 1e12
    eff_max = a.gemm_eff_max * a.matrix_scale
    prefill_tokens = sequences * prompt
    prefill = 2 * active * prefill_tokens / tp / (peak * _gemm_eff(eff_max, a, max(prefill_tokens, 1), hidden)) if prompt else 0.0
    bw = hw.hbm_tb_s * 1e12 * a.bw_eff
    # every expert's weights are read (an upper bound for an MoE at a batch too small to touch them all)
    weights = params * weight_bytes / tp * completion * waves
    kv = sequences * kv_per_token * (prompt * completion + completion * completion / 2)
    memory = (weights + kv) / bw
    # the FLOPs at the GEMMs' best efficiency: the token-count curve of costmodel._gemm_eff stands for weight
    # reads at few rows, which the memory term already counts
    flops = 2 * active / tp * sequences * completion / (peak * eff_max)
    return prefill, max(memory, flops)


def kv_bytes_per_token(w: WorkloadConfig, tp: int = 1) -> float:
    """K and V of every layer for one token of context, on one of `tp` GPUs, in vLLM's half precision."""
    shape = estimate_shape(w.model)
    layers, hidden = shape.n_layers or 32, shape.hidden or 4096
    heads = shape.n_heads or 32
    kv_heads = shape.n_kv_heads or heads
    return 2 * layers * kv_heads * (hidden // heads) * VLLM_BYTES / tp


def kv_gb(w: WorkloadConfig, sequences: int, length: int, tp: int = 1) -> float:
    return kv_bytes_per_token(w, tp) * sequences * length / GB


# A line that starts TRL's vLLM server (`trl vllm-serve`) or vLLM's own (`vllm serve`), and its GPUs
SERVE = r"\b(?:trl\s+vllm-serve|vllm\s+serve)\b"
_TP = re.compile(r"--tensor[-_]parallel[-_]size[=\s]+(\d+)")
_DP = re.compile(r"--data[-_]parallel[-_]size[=\s]+(\d+)")
_UTIL = re.compile(r"--gpu[-_]memory[-_]utilization[=\s]+(0?\.\d+|1(?:\.0+)?)\b")
_VISIBLE = re.compile(r"(?:CUDA|HIP|ROCR)_VISIBLE_DEVICES=[\"']?([\d,]+)")


@dataclass(frozen=True)
class Server:
    """The vLLM server's GPUs as its launch line gives them: tensor x data parallel and the share of each GPU's
    memory it reserves, defaults of trl vllm-serve (tensor_parallel_size 1, data_parallel_size 1,
    gpu_memory_utilization 0.9: trl 1.16.0 trl/scripts/vllm_serve.py:92-102, :111-112; vLLM's own `vllm serve`
    has the same 0.9, vllm/config/cache.py:48 at commit c1d8642)."""

    tp: int
    dp: int
    said: str  # where it was read, or that no line was found
    util: float = 0.9

    @property
    def gpus(self) -> int:
        return self.tp * self.dp


def server_of(line: str | None) -> Server:
    """The server's parallelism from its launch line (`file:line: text`), else trl vllm-serve's defaults."""
    if line is None:
        return Server(
            1,
            1,
            "no `trl vllm-serve` line found beside the config; trl vllm-serve's defaults, tensor and data parallel 1 and "
            "gpu_memory_utilization 0.9 (trl 1.16.0 trl/scripts/vllm_serve.py:92-102, :111-112)",
        )
    tp = int(m.group(1)) if (m := _TP.search(line)) else 1
    dp = int(m.group(1)) if (m := _DP.search(line)) else 1
    visible = len([d for d in m.group(1).split(",") if d]) if (m := _VISIBLE.search(line)) else None
    said = f"{line.strip()[:200]}"
    if visible is not None and visible != tp * dp:
        said += f" ({visible} GPUs visible to it, {tp * dp} used)"
    util = float(m.group(1)) if (m := _UTIL.search(line)) and 0 < float(m.group(1)) <= 1 else 0.9
    return Server(max(1, tp), max(1, dp), said, util)


# TRL GRPOConfig.vllm_mode's default: "server" through 0.29.1 (trl/trainer/grpo_config.py:474@0.29.1), "colocate" from
# 1.0.0 (trl/trainer/grpo_config.py:594@1.16.0) (frameworks/key_history.json)
SERVER_DEFAULT_THROUGH = "0.29.1"


def server_mode(version: str, version_source: str, server_line: str, default: Value) -> Value:
    """vllm_mode for a config that sets none while its launcher starts a vLLM server (`server_line`) and the release it is
    read at defaults to colocate: a release goblin assumed (no pin) is the launcher's server mode, the default until
    0.29.1 (review5 #22: run_grpo.sh:5 `CUDA_VISIBLE_DEVICES=3 trl vllm-serve`); a pinned release's colocate default is
    what the trainer runs, so the pin's colocate stays and the unused server is said."""
    assumed = "assumed" in version_source or "no pin" in version_source or "not pinned" in version_source
    if not assumed:
        return Value(
            default.value,
            f"{default.source}; the launcher starts a vLLM server ({server_line[:160]}) that the trainer at trl {version} does not "
            "use: set vllm_mode: server to generate there",
        )
    return Value(
        "server",
        f"unset; the launcher starts a vLLM server ({server_line[:160]}), so the run is read in server mode, TRL's default "
        f"through trl {SERVER_DEFAULT_THROUGH} (trl/trainer/grpo_config.py:474@{SERVER_DEFAULT_THROUGH}); from trl 1.0.0 the default "
        f"is colocate (trl/trainer/grpo_config.py:594@1.16.0), which leaves that server unused: set vllm_mode: server",
    )


def _weights_gb(w: WorkloadConfig, tp: int) -> float:
    """vLLM's copy of the weights on one GPU, in its half-precision dtype."""
    return (estimate_shape(w.model).params_b or 7.0) * 1e9 * VLLM_BYTES / tp / GB


def _waves(reserved_gb: float, weights_gb: float, need_gb: float) -> int:
    """Rounds a generation batch runs in when its KV cache (`need_gb` at full length) exceeds what the reservation
    leaves beside the weights (vLLM then schedules what fits and the rest after); 1 when no room is left at all
    (vLLM does not start: the memory finding says so)."""
    pool = reserved_gb - weights_gb
    return math.ceil(need_gb / pool) if pool > 0 and need_gb > pool else 1


def split(
    w: WorkloadConfig,
    hw: Hardware,
    lookup: Lookup,
    version: str,
    version_source: str,
    *,
    server_line: str | None = None,
    cls: str | None = None,
    trainer: str | None = None,
    preset: dict[str, Value] | None = None,
    server: Server | None = None,
    unmodelled: tuple[str, ...] = (),
    generation_unmodelled: str | None = None,
) -> RolloutSplit | None:
    """The projected split of one optimizer step of a TRL GRPO / RLOO / online DPO recipe, or None when the recipe is not
    one `split` models (another trainer or framework, a TRL release before the modelled trainer). `server_line`:
    the line that starts the vLLM server (`file:line: text`), for server mode. A framework that builds TRL's config
    for the recipe (Axolotl `rl: grpo`) passes the class (`cls`), its label (`trainer`), a lookup that reads TRL's
    keys where it keeps them and `preset`, the values it passes where the file sets none (axolotl_grpo); `server`, the
    vLLM server's GPUs where the framework starts it from the same file (axolotl_server). `unmodelled`: what the
    framework around TRL does that goblin does not model (said as is); `generation_unmodelled`: why its vLLM generation
    is not projected (Unsloth's 4-bit engine: unsloth_grpo)."""
    cls = cls or config_class(w)
    v = _version(version)
    if cls is None or cls not in MODELLED or v is None or v < Version(MODELLED[cls]):
        return None
    values: dict[str, str] = {"trl": f"trl {version} ({version_source})"}

    def get(key: str) -> Value | None:
        got = _get(lookup, cls, key, version, preset)
        if got is not None:
            values[key] = f"{got.value} ({got.source})"
        return got

    not_modelled = ["reward functions and reward models (Python in the training script, or a model of a size the config does not give)", *unmodelled]
    guess = shape_assumption(w.model)
    if guess is not None:
        values["model"] = guess
        not_modelled.append(f"the model's real shape ({guess}): every figure here rests on it, and no memory finding is made")
    online_dpo = cls == "OnlineDPOConfig"
    if online_dpo:  # two completions of every prompt (trl 1.16.0 trl/experimental/online_dpo/online_dpo_trainer.py:372)
        generations = 2
        values["num_generations"] = "2 (OnlineDPOTrainer generates 2 completions per prompt: online_dpo_trainer.py:372@1.16.0)"
        completion = max(1, int(_num(get("max_new_tokens"), 64)))
        max_length = max(2, int(_num(get("max_length"), 512)))  # prompt + completion, the prompt's left truncated
    else:
        generations = max(1, int(_num(get("num_generations"), 8)))
        completion = max(1, int(_num(get("max_completion_length"), 512)))
    prompt_v = lookup("max_prompt_length")
    if prompt_v[0] and isinstance(prompt_v[1], int) and not isinstance(prompt_v[1], bool) and prompt_v[1] > 0:
        prompt = int(prompt_v[1])
        values["max_prompt_length"] = f"{prompt} ({_at(prompt_v[2])})"
    elif w.mean_tokens is not None:
        prompt = max(1, round(w.mean_tokens))
        values["prompt_tokens"] = f"{prompt} (the mean sampled length of the dataset's rows)"
    else:
        prompt = ASSUMED_PROMPT
        values["prompt_tokens"] = f"{prompt} assumed: no prompt length in the config and no dataset read ({ASSUMED_PROMPT_CITE})"
    if online_dpo and prompt + completion > max_length:
        prompt = max(1, max_length - completion)
        values["prompt_tokens"] = f"{prompt} (max_length {max_length} less max_new_tokens {completion}: the prompt's left is truncated)"
    batch = w.micro_batch_size  # per_device_train_batch_size: completions (GRPO, RLOO) or prompts (online DPO) per micro-step
    accumulation = w.gradient_accumulation
    world = max(1, w.world_size)
    spg_v, gbs_v = lookup("steps_per_generation"), lookup("generation_batch_size")
    if online_dpo:
        spg = 1  # online DPO generates for each micro-batch (online_dpo_trainer.py:1141-1177@1.16.0)
    elif spg_v[0] and isinstance(spg_v[1], int) and spg_v[1] > 0:
        spg = spg_v[1]
        values["steps_per_generation"] = f"{spg} ({_at(spg_v[2])})"
    elif gbs_v[0] and isinstance(gbs_v[1], int) and gbs_v[1] > 0 and gbs_v[1] % (batch * world) == 0:
        spg = gbs_v[1] // (batch * world)
        values["steps_per_generation"] = f"{spg} (generation_batch_size {gbs_v[1]} / (per-device batch {batch} x {world} GPUs))"
    else:
        spg = accumulation
        values["steps_per_generation"] = f"{spg} (unset: gradient_accumulation_steps, trl 1.16.0 trl/trainer/grpo_config.py:1098-1100)"
    iterations = 1 if online_dpo else max(1, int(_num(get("num_iterations"), 1)))
    # online DPO runs a reference forward whatever its beta: a copy of the model, or the PEFT model with its adapter
    # disabled (online_dpo_trainer.py:335-339, :1181-1190@1.16.0)
    reference = online_dpo or _num(get("beta"), 0.0) > 0
    use_vllm = _flag(get("use_vllm"))
    mode_v = get("vllm_mode") if use_vllm else None
    if use_vllm and server_line is not None and not lookup("vllm_mode")[0] and mode_v is not None and str(mode_v.value) == "colocate":
        mode_v = server_mode(version, version_source, server_line, mode_v)
        values["vllm_mode"] = f"{mode_v.value} ({mode_v.source})"
    elif use_vllm and server_line is not None and mode_v is not None and str(mode_v.value) == "colocate":
        # the config's own vllm_mode: colocate is what GRPOTrainer reads (self.vllm_mode = args.vllm_mode, trl/trainer/grpo_trainer.py:812@1.16.0); a server started beside it is not used
        not_modelled.append(
            f"the vLLM server the launcher starts ({server_line[:160]}): the config's vllm_mode colocate ({mode_v.source}) is what the trainer uses, so that server is not used"
        )
    # before 0.18 TRL had no colocate mode: vLLM ran on a GPU of its own (trl_default finds no vllm_mode there)
    mode: Literal["colocate", "server"] = "colocate" if mode_v is not None and str(mode_v.value) == "colocate" else "server"
    tp = max(1, int(_num(get("vllm_tensor_parallel_size"), 1))) if use_vllm and mode == "colocate" else 1
    util_v = get("vllm_gpu_memory_utilization") if use_vllm and mode == "colocate" else None
    sleep = _flag(get("vllm_enable_sleep_mode")) if use_vllm and mode == "colocate" else False
    # GRPO: the policy's no-grad log-prob pass runs for vLLM's importance sampling correction or when generation is
    # out of step with accumulation (trl 1.16.0 grpo_trainer.py:2642-2657); RLOO runs it on every generation
    # batch (rloo_trainer.py:1598-1610@1.16.0); online DPO has none
    correction = cls == "RLOOConfig" or (use_vllm and _flag(get("vllm_importance_sampling_correction") or Value(False, "")))

    # Per GPU and optimizer step: one generation batch of batch x spg completions every spg x iterations micro-steps
    # (online DPO: 2 x batch completions every micro-step).
    events = accumulation / (spg * iterations)
    per_event = batch * spg * (2 if online_dpo else 1)
    completions = per_event * events
    length = prompt + completion
    train = w.model_copy(
        update={
            "seq_len": length,
            "token_quantiles": None,
            "mean_tokens": None,
            "sequences_per_example": 2 if online_dpo else 1,  # online DPO trains on both completions of each prompt
            "reference_forward": False,
            # PEFT: the adapter is disabled instead (grpo_trainer.py:984-990, online_dpo_trainer.py:335-339)
            "reference_copy": reference and w.method == "full",
        }
    )
    if online_dpo and use_vllm:
        not_modelled.append(
            "vLLM's cap on concurrent sequences (max_num_seqs = per_device_train_batch_size x tensor parallel, "
            "online_dpo_trainer.py:495@1.16.0), which may decode the two completions of each prompt in two rounds"
        )
    model = step(train, hw)
    training_s = model.step_s
    forward_micro = model.forward_s  # one micro-batch's forward of prompt + completion tokens
    reference_s = forward_micro * accumulation / iterations if reference else 0.0
    logprob_s = forward_micro * accumulation / iterations if (correction or accumulation % (spg * iterations) != 0) else 0.0
    training_gb = memory_gb(train)
    strategy = {"deepspeed": f"DeepSpeed ZeRO-{w.zero_stage}" if w.zero_stage is not None else "DeepSpeed", "fsdp": "FSDP"}.get(w.strategy)
    values["training_sharding"] = (
        f"{strategy} over {world} GPU{'s' if world > 1 else ''}" if strategy else f"not sharded ({w.strategy}, {world} GPU{'s' if world > 1 else ''})"
    )
    reserved = weights_gb = None
    generation_s: float | None = None
    floor_s: float | None = None
    waves = 1
    if not use_vllm:
        where = "the training GPUs, through transformers' generate (use_vllm false)"
        prefill, decode = decode_seconds(w, hw, sequences=per_event, prompt=prompt, completion=completion)
        floor = floor_s = (prefill + decode) * events
        not_modelled.append(
            "generation through transformers' generate (use_vllm false): goblin has no sourced efficiency for it on ROCm, so its "
            f"time is not projected; the HBM-bandwidth roofline of the same decode is {_ms(floor):,.0f} ms per optimizer step, a floor "
            f"it runs above by an unmeasured factor (vLLM's published latencies on MI300X run {FLOOR_GAP} that floor)"
        )
    elif mode == "colocate":
        where = f"the training GPUs (vLLM colocated{f', tensor parallel {tp}' if tp > 1 else ''})"
        util = _num(util_v, 0.3)
        # vLLM reserves this share of the device's total memory as torch reports it (vllm/v1/worker/gpu_worker.py
        # init_device: requested_memory = init_snapshot.total_memory x gpu_memory_utilization): the reported bytes
        reserved = util * capacity_gb(hw)
        weights_gb = _weights_gb(w, tp)
        # a tensor-parallel group decodes its GPUs' sequences together, each GPU holding 1/tp of the weights and of every KV cache
        waves = _waves(reserved, weights_gb, kv_gb(w, per_event * tp, length, tp))
        prefill, decode = decode_seconds(w, hw, sequences=per_event * tp, prompt=prompt, completion=completion, tp=tp, waves=waves)
        generation_s = (prefill + decode) * events
        if generation_unmodelled is not None:
            generation_s = None
            not_modelled.append(generation_unmodelled)
        not_modelled.append("moving the updated weights into vLLM after each optimizer step")
        if tp > 1:
            not_modelled.append(f"vLLM's tensor-parallel collectives (tensor parallel {tp})")
        if sleep:
            not_modelled.append("vLLM sleep mode (vllm_enable_sleep_mode): what it frees during training is not counted")
    else:
        srv = server or server_of(server_line)
        replica = math.ceil(per_event * world / srv.dp)  # every training GPU's prompts, shared by the data-parallel replicas
        where = (
            f"{srv.gpus} GPU{'s' if srv.gpus > 1 else ''} apart from the training ones (vLLM server mode, tensor parallel {srv.tp}, "
            f"data parallel {srv.dp}: {srv.said}), serving all {world} training GPU{'s' if world > 1 else ''}"
        )
        values["vllm_server"] = srv.said
        if server_line is not None:  # the repository's own line starts it: its GPUs are the job's too (server_topology)
            values["vllm_server_gpus"] = f"{srv.gpus} (tensor parallel {srv.tp} x data parallel {srv.dp})"
        # the server's GPUs taken as the target's: its reservation less its weights holds the KV cache
        waves = _waves(srv.util * capacity_gb(hw), _weights_gb(w, srv.tp), kv_gb(w, replica, length, srv.tp))
        prefill, decode = decode_seconds(w, hw, sequences=replica, prompt=prompt, completion=completion, tp=srv.tp, waves=waves)
        generation_s = (prefill + decode) * events
        not_modelled.append("the weight broadcast to the vLLM server after each optimizer step")
    if generation_s is not None:
        not_modelled.append(
            "vLLM's scheduling, sampling and kernel-launch time beyond the decode roofline (the generation time is a floor at "
            "completions of full length, which are themselves a ceiling: completions that stop early take less; vLLM's published "
            f"latencies on MI300X run {FLOOR_GAP} this floor, docs/projection.md)"
        )
    total = None if generation_s is None else generation_s + reference_s + logprob_s + training_s
    return RolloutSplit(
        method={"GRPOConfig": "grpo", "RLOOConfig": "rloo"}.get(cls, "online_dpo"),
        trainer=trainer or f"trl {version} ({cls})",
        generation_on=where,
        vllm_mode=mode if use_vllm else None,
        prompts_per_step=round(completions / generations, 2),
        completions_per_step=round(completions, 2),
        completions_per_generation=per_event,
        prompt_tokens=prompt,
        completion_tokens=completion,
        kv_waves=waves,
        generation_ms=None if generation_s is None else _ms(generation_s),
        generation_floor_ms=None if floor_s is None else _ms(floor_s),
        reference_ms=_ms(reference_s),
        logprob_ms=_ms(logprob_s),
        training_ms=_ms(training_s),
        total_ms=None if total is None else _ms(total),
        training_memory_gb=round(training_gb, 1),
        vllm_reserved_gb=None if reserved is None else round(reserved, 1),
        vllm_weights_gb=None if weights_gb is None else round(weights_gb, 1),
        hbm_gb=capacity_gb(hw),
        hbm_phrase=capacity_phrase(hw),
        values=values,
        not_modelled=not_modelled,
    )


def _judged(r: RolloutSplit) -> bool:
    """Whether the memory figures may back a finding: a known model shape, no sleep mode freeing memory, and not
    Unsloth's engine, whose weights the training model shares (unsloth_grpo)."""
    return "model" not in r.values and not any("sleep mode" in n or n.startswith(UNSLOTH_SHARED) for n in r.not_modelled)


def over_memory(r: RolloutSplit) -> bool:
    """A colocated vLLM's reservation on top of the training state exceeds the GPU's memory (sleep mode aside)."""
    return r.vllm_reserved_gb is not None and r.training_memory_gb + r.vllm_reserved_gb > r.hbm_gb and _judged(r)


def parts_text(r: RolloutSplit) -> str:
    """The split in one clause, with the config's numbers: what is projected per GPU and optimizer step."""
    gen = f"generation {r.generation_ms:,.0f} ms" if r.generation_ms is not None else "generation not projected"
    total = f" = {r.total_ms:,.0f} ms" if r.total_ms is not None else ""
    return (
        f"{gen} + reference {r.reference_ms:,.0f} ms + log-prob forward {r.logprob_ms:,.0f} ms + training {r.training_ms:,.0f} ms{total} "
        f"per optimizer step per GPU, projected ({r.completions_per_step:g} completions of {r.prompt_tokens} prompt + "
        f"{r.completion_tokens} completion tokens; generation on {r.generation_on})"
    )


def hbm_text(r: RolloutSplit) -> str:
    """The GPU's capacity as messages print it (hardware.capacity_phrase)."""
    return r.hbm_phrase or f"{r.hbm_gb:.0f} GB"


def memory_text(r: RolloutSplit) -> str:
    if r.vllm_reserved_gb is None:
        return f"training state {r.training_memory_gb:.1f} GB of {hbm_text(r)}"
    return (
        f"training state {r.training_memory_gb:.1f} GB + colocated vLLM's reservation {r.vllm_reserved_gb:.1f} GB "
        f"= {r.training_memory_gb + r.vllm_reserved_gb:.1f} GB of {hbm_text(r)}"
    )


def inconclusive_reason(r: RolloutSplit) -> str:
    """Why an online RL verdict stays undecided: what is projected, with its numbers, and what is not."""
    return (
        f"goblin models part of this online RL step ({r.method}, {r.trainer}): {parts_text(r)}; memory: {memory_text(r)}. "
        f"Not modelled: {'; '.join(r.not_modelled)}. The patch's speedup covers the training step only, so goblin cannot judge "
        "this config; measure it with your training command (goblin_command)"
    )


FINDING_ID = "rl.colocated_vllm_memory"
FINDING_TITLE = "A colocated vLLM's memory reservation does not fit beside the training state"
FINDING_CITATION = "https://huggingface.co/docs/trl/main/en/grpo_trainer"
FINDING_WORDS = ("or run vLLM in server mode",)  # goblin's own words in every message (reporting.markdown checks them)


def memory_message(r: RolloutSplit) -> str | None:
    """The memory finding's message with the config's numbers, or None when the reservation fits."""
    if r.vllm_reserved_gb is None or r.vllm_weights_gb is None:
        return None
    util = r.values.get("vllm_gpu_memory_utilization", "")
    if over_memory(r):
        left = max(0.0, r.hbm_gb - r.training_memory_gb)
        sharding = r.values.get("training_sharding", "")
        if left > r.vllm_weights_gb * 1.2:
            lower = (
                f"Lower vllm_gpu_memory_utilization to at most {left / r.hbm_gb:.2f} ({left:.1f} GB left beside the training state, "
                f"above the {r.vllm_weights_gb:.1f} GB of weights vLLM holds, the rest its KV cache), or "
            )
        else:
            lower = (
                f"Lowering vllm_gpu_memory_utilization cannot make it fit: the {left:.1f} GB the training state leaves is not "
                f"enough for the {r.vllm_weights_gb:.1f} GB of weights vLLM holds and a KV cache; "
            )
        return (
            f"projected {memory_text(r)}: over the GPU's memory, so the run runs out of memory when vLLM starts beside the "
            f"training model or at the first optimizer step (vllm_gpu_memory_utilization {util}; training state {sharding}). "
            f"{lower}instead shard the training state (ZeRO-3 / FSDP over more GPUs), train LoRA adapters, "
            "or run vLLM in server mode on GPUs of its own"
        )
    if r.vllm_reserved_gb <= r.vllm_weights_gb and _judged(r):
        return (
            f"the colocated vLLM reserves {r.vllm_reserved_gb:.1f} GB (vllm_gpu_memory_utilization {util}), no more than the "
            f"{r.vllm_weights_gb:.1f} GB of weights it holds, which leaves no room for its KV cache: vLLM stops at start-up. "
            "Raise vllm_gpu_memory_utilization where the training state leaves room, or run vLLM in server mode"
        )
    return None


GENERATE_ID = "rl.generate_with_vllm"
GENERATE_TITLE = "Online RL generating its completions with transformers' generate (use_vllm false)"
GENERATE_CITATION = "https://huggingface.co/docs/trl/main/en/vllm_integration"
GENERATE_WORDS = ("goblin has no sourced efficiency for transformers' generate on ROCm",)  # in every message (reporting.markdown)
# GRPOConfig.use_vllm defaults to False at every release (trl v0.14.0 trl/trainer/grpo_config.py:122-123, v0.18.0 :318-319,
# v1.0.0 :495-496, v1.9.0 :577-578): the trainer then generates with the policy's own `generate`. vllm_mode (from v0.18.0,
# :332-333) picks where vLLM runs: "colocate" on the training GPUs, "server" on a `trl vllm-serve` of its own
# (the default through v0.29.1 :474-475; "colocate" from v1.0.0 :502-503). Whether the run's class has vllm_mode at its
# release is read from frameworks/key_history.json (history.present).
_CLASS = {"grpo": "GRPOConfig", "rloo": "RLOOConfig", "online_dpo": "OnlineDPOConfig"}


def server_topology(r: RolloutSplit, world: int) -> str | None:
    """'3 training processes + 1 vLLM server GPU (...): 4 GPUs in all' for a run in server mode whose server's launch
    line (or the framework's own server block) was read; None otherwise (review10b #21)."""
    got = r.values.get("vllm_server_gpus")
    if r.vllm_mode != "server" or got is None:
        return None
    gpus = int(got.split(" ", 1)[0])
    return (
        f"{world} training process{'es' if world != 1 else ''} + {gpus} vLLM server GPU{'s' if gpus != 1 else ''} "
        f"({r.values.get('vllm_server', '')}): {world + gpus} GPUs in all"
    )


# TRL GRPO from 0.16 to 0.17 generates on a `trl vllm-serve` server whenever use_vllm is on: GRPOTrainer builds a
# VLLMClient on vllm_server_host (trl v0.16.1 trl/trainer/grpo_trainer.py:449-458); vllm_mode (colocate) came in 0.18
# (`split` models those releases). Whether the run's class has vllm_server_host and no vllm_mode at its release is read
# from frameworks/key_history.json (history.present).
SERVER_ONLY_CITE = "trl v0.16.1 trl/trainer/grpo_trainer.py:449-458 (use_vllm: a VLLMClient on vllm_server_host; no vllm_mode before 0.18)"


def unsplit_server_topology(cls: str | None, version: str | None, world: int, use_vllm: bool, server_line: str | None) -> str | None:
    """'4 training processes + 4 vLLM server GPUs (...): 8 GPUs in all' for an online RL run goblin projects no split for
    (a GRPO release before `split`'s) whose release generates only on a vLLM server (vllm_server_host, no vllm_mode) with
    use_vllm on, where the repository's line starting that server was read (review12b #25: grpo_weave README.md:17
    `CUDA_VISIBLE_DEVICES=0,1,2,3 trl vllm-serve --tensor-parallel-size 4` beside 4 training GPUs at trl 0.16.1); None otherwise."""
    from .frameworks.history import present

    if not use_vllm or server_line is None or cls is None or version is None:
        return None
    if present("trl", cls, "vllm_server_host", version) is not True or present("trl", cls, "vllm_mode", version) is not False:
        return None
    srv = server_of(server_line)
    return (
        f"{world} training process{'es' if world != 1 else ''} + {srv.gpus} vLLM server GPU{'s' if srv.gpus != 1 else ''} "
        f"({srv.said}): {world + srv.gpus} GPUs in all (trl {version} {cls} generates on that server whenever use_vllm is on: {SERVER_ONLY_CITE})"
    )


def generate_message(r: RolloutSplit, *, flags: bool = False, prefix: str = "") -> str | None:
    """The finding for an online RL run that generates with transformers' generate (`use_vllm` false or unset): its own
    num_generations and completion length, the roofline floor of that decode against the rest of the step goblin projects,
    and vLLM (colocated where the release has vllm_mode) with the ROCm build it needs. None where the run uses vLLM or
    goblin priced no floor. `flags`: the keys are a Python script's command-line options; `prefix`: where the file keeps
    TRL's keys (Axolotl's `trl.`)."""
    from .frameworks.history import present

    if r.vllm_mode is not None or r.generation_floor_ms is None or "OnPolicyConfig trainer" in r.trainer:
        return None  # RLOO before 0.22 has no use_vllm: rollout_onpolicy.chunk_message is its lever
    cls = _CLASS.get(r.method)
    trl = r.values.get("trl", "")
    version = trl.split(" ")[1] if trl.startswith("trl ") and len(trl.split(" ")) > 1 else None
    if cls is None or version is None:
        return None

    def key(name: str, value: str) -> str:
        return f"`--{name} {value}`" if flags else f"`{prefix}{name}: {value}`"

    gens = r.values.get("num_generations", "")
    length_key = "max_new_tokens" if r.method == "online_dpo" else "max_completion_length"
    length = r.values.get(length_key, f"{r.completion_tokens}")
    what = (
        f"num_generations {gens}, {length_key} {length}: {r.completions_per_step:g} completions of up to {r.completion_tokens} tokens "
        "per GPU every optimizer step"
    )
    floor = r.generation_floor_ms
    rest = r.reference_ms + r.logprob_ms + r.training_ms
    parts = f"reference {r.reference_ms:,.0f} ms + log-prob forward {r.logprob_ms:,.0f} ms + training {r.training_ms:,.0f} ms"
    share = (
        f"that floor alone is more than the {rest:,.0f} ms goblin projects for the rest of the step ({parts}), so generation is the largest part of this step"
        if floor > rest
        else f"the rest of the step is projected at {rest:,.0f} ms ({parts}); how far above that floor generate runs, and so its share of the step, is not projected"
    )
    assumed = " (at the model shape goblin assumed, which the split names)" if "model" in r.values else ""
    if present("trl", cls, "vllm_mode", version) is True:
        util = trl_default(cls, "vllm_gpu_memory_utilization", version)
        reserve = ""
        if util is not None and isinstance(util.value, (int, float)) and not isinstance(util.value, bool):
            reserve = (
                f", reserving vllm_gpu_memory_utilization {util.value:g} ({util.source}) x {r.hbm_phrase} = {float(util.value) * r.hbm_gb:.1f} GB "
                f"of each GPU beside the {r.training_memory_gb:.1f} GB training state, which goblin then checks"
            )
        how = (
            f"{key('use_vllm', 'true' if not flags else 'True')} with {key('vllm_mode', 'colocate')} (trl {version} {cls} has vllm_mode; "
            f"colocate runs vLLM on the training GPUs{reserve})"
        )
    else:
        how = (
            f"{key('use_vllm', 'true' if not flags else 'True')} (trl {version} {cls} has no vllm_mode: vLLM runs apart from the "
            "training processes, on a GPU or server of its own)"
        )
    return (
        f"the run generates its completions with transformers' generate on the training GPUs (use_vllm {r.values.get('use_vllm', 'unset')}; {what}); "
        f"goblin has no sourced efficiency for transformers' generate on ROCm, so its time is not projected: the HBM-bandwidth "
        f"floor of this decode is {floor:,.0f} ms per optimizer step{assumed}; {share}. Generate with vLLM instead: {how}; vLLM's published "
        f"latencies on MI300X run {FLOOR_GAP} that floor. On ROCm vLLM needs its ROCm build (vLLM's ROCm installation or AMD's "
        'rocm/vllm image; check `python -c "import vllm"` on the runner), so goblin does not write the change: make it and measure '
        "the step with your training command"
    )


# Axolotl `rl: grpo` (axolotl 0.18.0, commit 067b021c, tag v0.18.0): Axolotl builds TRL's GRPOConfig from its own
# `trl:` and `vllm:` blocks (src/axolotl/core/trainers/grpo/__init__.py:58-147@067b021c; beta from `trl.beta`, else
# `rl_beta`: core/builders/rl.py:122-125) on the TRL release it requires (pyproject.toml:23@067b021c: trl==1.8.0).
# max_prompt_length is blocklisted for GRPO (grpo/__init__.py:239-245): prompts are not truncated.
AXOLOTL_GRPO_AT = "0.18.0"
AXOLOTL_TRL = "1.8.0"
AXOLOTL_TRL_CITE = "the trl==1.8.0 Axolotl 0.18.0 requires, pyproject.toml:23@067b021c"
AXOLOTL_GRPO_CITE = "axolotl 0.18.0 src/axolotl/core/trainers/grpo/__init__.py"
# TRL GRPOConfig key -> where an Axolotl file keeps it (first found wins)
AXOLOTL_GRPO_KEYS: dict[str, tuple[str, ...]] = {
    "use_vllm": ("trl.use_vllm",),  # :68-69
    "vllm_mode": ("trl.vllm_mode",),  # :70-71
    "vllm_enable_sleep_mode": ("trl.vllm_enable_sleep_mode",),  # :72-73, colocate only
    "vllm_gpu_memory_utilization": ("vllm.gpu_memory_utilization",),  # :74-76, colocate only
    "vllm_tensor_parallel_size": ("vllm.tensor_parallel_size",),  # :77-79, colocate only
    "num_generations": ("trl.num_generations",),  # :89-90
    "generation_batch_size": ("trl.generation_batch_size",),  # :91-92
    "max_completion_length": ("trl.max_completion_length",),  # :103, passed even when unset
    "num_iterations": ("trl.num_iterations",),  # :139-140
    "vllm_importance_sampling_correction": ("trl.vllm_importance_sampling_correction",),  # :167-170
    "beta": ("trl.beta", "rl_beta"),  # builders/rl.py:122-125
}
AXOLOTL_GRPO_RL = ("(rl grpo)", "(rl gdpo)")  # both build GRPOConfig (axolotl 0.18.0 core/builders/rl.py:54, :161@067b021c)


def is_axolotl_grpo(w: WorkloadConfig) -> bool:
    label = w.framework or ""
    return label.startswith("axolotl ") and any(t in label for t in AXOLOTL_GRPO_RL)


_COLOCATE_ONLY = ("vllm_enable_sleep_mode", "vllm_gpu_memory_utilization", "vllm_tensor_parallel_size")


def axolotl_grpo(lookup: Lookup) -> tuple[Lookup, dict[str, Value], str | None]:
    """(a lookup of TRL's GRPOConfig keys in an Axolotl file, the values Axolotl passes where the file sets none,
    the reason no split is projected or None). `lookup` reads the file's own (dotted) keys."""
    trl_found, trl_block, _ = lookup("trl")
    has_trl = trl_found and isinstance(trl_block, dict) and bool(trl_block)
    mode_found, mode, _ = lookup("trl.vllm_mode")
    colocate = mode_found and str(mode) == "colocate"
    vllm_on = lookup("trl.use_vllm")
    use_vllm = vllm_on[0] and (vllm_on[1] is True or str(vllm_on[1]).strip().lower() == "true")

    def mapped(key: str) -> tuple[bool, Any, int | str | None]:
        if not has_trl:  # no `trl:` block: Axolotl passes no GRPO key (:62-63), TRL's defaults hold
            return (False, None, None) if key != "beta" else lookup("rl_beta")
        if key in _COLOCATE_ONLY and not (use_vllm and colocate):
            return False, None, None  # passed only with use_vllm and vllm_mode: colocate (:68-79)
        for path in AXOLOTL_GRPO_KEYS.get(key, ()):
            found, value, line = lookup(path)
            if found and value is not None:
                return found, value, line
        return False, None, None

    preset: dict[str, Value] = {}
    if has_trl and use_vllm and colocate:
        preset["vllm_gpu_memory_utilization"] = Value(
            0.9,
            "Axolotl's vllm.gpu_memory_utilization default, passed to GRPOConfig in colocate mode "
            f"(axolotl 0.18.0 src/axolotl/utils/schemas/vllm.py:25-26, {AXOLOTL_GRPO_CITE}:72-76@067b021c)",
        )
        preset["vllm_tensor_parallel_size"] = Value(
            1, f"assumed: vllm.tensor_parallel_size unset, and Axolotl passes it unset ({AXOLOTL_GRPO_CITE}:77-79@067b021c)"
        )
    why = None
    if has_trl and not mapped("max_completion_length")[0]:
        why = (
            f"the file's `trl:` block does not set max_completion_length, and Axolotl passes it to GRPOConfig unset "
            f"({AXOLOTL_GRPO_CITE}:103@067b021c; trl 1.8.0 grpo_config.py:485 accepts an unset length and hands it on as the "
            "generation limit, grpo_trainer.py:1024, :1031@v1.8.0, so completions stop only at the model's or the generation "
            "config's own limit), so the completion length, and with it generation, "
            "the reference forward and the training step, is not known; set trl.max_completion_length"
        )
    return mapped, preset, why


def axolotl_server(lookup: Lookup) -> Server:
    """The vLLM server `axolotl vllm-serve` starts from the same file's `vllm:` block: tensor and data parallel
    (default 1) and gpu_memory_utilization (default 0.9), unless its command line overrides them (axolotl 0.18.0
    src/axolotl/cli/vllm_serve.py:50-65@067b021c; schemas/vllm.py:17-26)."""
    said = []

    def read(key: str, default: float) -> float:
        found, value, line = lookup(f"vllm.{key}")
        if found and isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
            said.append(f"vllm.{key} {value} ({_at(line)})" if line else f"vllm.{key} {value}")
            return float(value)
        return default

    tp, dp, util = int(read("tensor_parallel_size", 1)), int(read("data_parallel_size", 1)), read("gpu_memory_utilization", 0.9)
    where = ", ".join(said) if said else "no vllm: sizes in the file"
    return Server(
        max(1, tp),
        max(1, dp),
        f"axolotl vllm-serve on this file's vllm: block ({where}; defaults tensor and data parallel 1, gpu_memory_utilization 0.9: "
        "axolotl 0.18.0 src/axolotl/cli/vllm_serve.py:50-65, schemas/vllm.py:17-26@067b021c; its command line may override them)",
        min(util, 1.0),
    )


# Unsloth (frameworks/unsloth.py): a model loaded with fast_inference=True holds a vLLM engine that Unsloth's patched
# GRPOTrainer generates with, colocated, whatever the GRPOConfig's use_vllm, vllm_mode and vllm_gpu_memory_utilization
UNSLOTH_SHARED = "Unsloth builds the training model from the vLLM engine's own weights"


def unsloth_grpo(load: UnslothLoad, cls: str | None, lookup: Lookup) -> tuple[Lookup, dict[str, Value], tuple[str, ...], str | None] | str:
    """How Unsloth runs a TRL online trainer on a model whose load built a vLLM engine (`load.vllm` true): the lookup
    with the keys Unsloth sets over the config's, its UnslothGRPOConfig defaults where the config sets none, what goblin
    does not model, and why generation is not projected (a 4-bit engine); or, where goblin cannot model it, the reason."""
    from .frameworks import unsloth as u

    at = f"{load.loader}.from_pretrained(fast_inference=True) at line {load.line}"
    if cls != "GRPOConfig":
        return (
            f"the script loads its model with Unsloth's {at}, and Unsloth's {cls or 'online'} trainer then generates with that "
            f"vLLM engine (use_vllm set true, {u.SETTER_AT}); goblin read how Unsloth places that engine for GRPO only "
            "(vllm_mode colocate), so this step's generation is not modelled"
        )
    util, util_said = load.utilization
    setter = f"Unsloth's GRPOTrainer, for a model loaded with {at}, over the config's ({u.SETTER_AT})"
    forced: dict[str, tuple[Any, str]] = {
        "use_vllm": (True, f"set true by {setter}"),
        "vllm_mode": ("colocate", f"set by {setter}"),
        "vllm_gpu_memory_utilization": (util, f"{util_said}: the engine Unsloth builds ({u.ENGINE_AT}) and generates with ({u.SETTER_AT})"),
        "vllm_tensor_parallel_size": (1, f"Unsloth's engine is built with no tensor_parallel_size ({u.ZOO_ENGINE_AT})"),
    }
    if load.standby:
        forced["vllm_enable_sleep_mode"] = (True, f"UNSLOTH_VLLM_STANDBY set in the script: Unsloth turns on TRL's sleep mode ({u.STANDBY_AT})")

    def wrapped(key: str) -> tuple[bool, Any, int | str | None]:
        if key in forced:
            value, said = forced[key]
            return True, value, said
        return lookup(key)

    preset = {k: Value(v, f"UnslothGRPOConfig's default, the config sets none ({u.GRPO_DEFAULTS_AT})") for k, v in u.GRPO_DEFAULTS.items()}
    unmodelled = (
        f"{UNSLOTH_SHARED} ({u.ENGINE_AT}: load_vllm, then convert_vllm_to_huggingface, shared_weights): the base weights "
        "sit once, inside the engine's reservation, where goblin's training state plus reservation counts them twice; and "
        f"Unsloth sizes that reservation as gpu_memory_utilization x the memory free when the engine loads, less an allowance for "
        f"training activations ({u.ZOO_RESERVE_AT}): no memory finding is made",
    )
    gen = None
    if load.load_in_4bit:
        gen = (
            "generation on Unsloth's engine, which holds the weights as bitsandbytes 4-bit (use_bitsandbytes=load_in_4bit, "
            f"unsloth/models/llama.py:2800{u.AT}; quantization bitsandbytes, {u.ZOO_ENGINE_AT}): goblin has no sourced efficiency for "
            "vLLM's 4-bit decode on ROCm, so its time is not projected"
        )
    return wrapped, preset, unmodelled, gen


def unsloth_unread(load: UnslothLoad) -> str:
    """The reason for a load whose fast_inference goblin cannot read (a computed value, `**kwargs`)."""
    from .frameworks.unsloth import SETTER_AT

    return (
        f"the script's {load.loader}.from_pretrained at line {load.line} passes fast_inference as a value goblin cannot read: "
        f"whether Unsloth builds a vLLM engine that its trainer generates with ({SETTER_AT}) is unknown, so the step is not split"
    )


def _said(lookup: Lookup, key: str) -> tuple[Any, str]:
    found, value, line = lookup(key)
    if not found or value is None:
        return None, f"{key} unset"
    return value, f"{key} {value}" + (f" ({_at(line)})" if line else "")


def unsplit_reason(w: WorkloadConfig, lookup: Lookup, version: str | None, hw: Hardware | None = None) -> str | None:
    """Why an online RL recipe whose trainer `split` does not model gets no split, in its own keys, or None when
    goblin has nothing more specific to say than the generic reason. `version`: the TRL release it runs on and where
    that was read, "0.17.0 (trl==0.17.0, requirements.txt:3)". `hw`: the target, for the decode roofline given as a
    floor where the recipe's keys give the batch, the length and the model."""
    label = w.framework or ""
    if is_axolotl_grpo(w):
        at = label.split(" ")[1]
        if at != AXOLOTL_GRPO_AT:
            # said without "axolotl <release>" beside the tables' release, which frameworks.history.in_run_terms rewrites
            return (
                f"the repository runs Axolotl {at}; goblin read how Axolotl builds TRL's GRPOConfig from its `trl:` and `vllm:` "
                f"blocks at its release {AXOLOTL_GRPO_AT} only (src/axolotl/core/trainers/grpo/__init__.py:58-147, commit "
                f"067b021c, tag v{AXOLOTL_GRPO_AT}, on trl {AXOLOTL_TRL}), so it cannot say which keys reach the trainer at "
                f"release {at}"
            )
        return axolotl_grpo(lookup)[2]
    if "(dev/grpo_full_finetune_distributed)" in label:
        parts = [_said(lookup, k) for k in ("batch_size", "grpo_samples", "max_generated_tokens")]
        unset = [said for value, said in parts if value is None]
        if unset:
            return (
                f"torchtune's GRPO recipe needs {', '.join(unset)} (it reads cfg.batch_size, cfg.grpo_samples and "
                "cfg.max_generated_tokens, recipes/dev/grpo_full_finetune_distributed.py:285-289@v0.6.1), so the "
                "completions it generates per step are not known"
            )
        (b, bs), (g, gs), (t, ts) = parts
        n = floor = ""
        try:
            sequences, tokens = int(b) * int(g), int(t)
        except (TypeError, ValueError):
            sequences = tokens = 0
        if sequences > 0 and tokens > 0:
            n = f" = {sequences} completions"
            if hw is not None and shape_assumption(w.model) is None:
                # generate_trajectory runs on forward_batch_size prompts at a time (:842-852@v0.6.1), each chunk reading
                # the weights again; the prompt's length is not in the recipe's keys: left out, so the figure stays a floor
                fb, _fs = _said(lookup, "forward_batch_size")
                chunk = max(1, min(int(b), int(fb))) if isinstance(fb, int) and not isinstance(fb, bool) and fb > 0 else int(b)
                rounds = math.ceil(int(b) / chunk)
                _p, decode = decode_seconds(w, hw, sequences=chunk * int(g), prompt=0, completion=tokens)
                floor = (
                    f"; the HBM-bandwidth roofline of that decode alone ({rounds} round{'s' if rounds > 1 else ''} of "
                    f"forward_batch_size {chunk} prompts, :842-852; prompts left out: no prompt length in the config) is "
                    f"{_ms(decode * rounds):,.0f} ms per step, a floor it runs above by an unmeasured factor"
                )
        return (
            f"torchtune's GRPO recipe generates with its own decoding loop over a local KV cache, not vLLM "
            "(torchtune.dev.grpo.generation.generate, recipes/dev/grpo_full_finetune_distributed.py:23, :723-735@v0.6.1), "
            f"and goblin has no sourced efficiency for that loop on ROCm: the generation of {bs} prompts x {gs}{n} "
            f"of up to {ts} tokens per GPU per step is not projected{floor}; nor are its reward "
            "(batch_shaped_correctness_reward, :24, :792) and the reference model's forward"
        )
    if "(dev/async_grpo_full_finetune_distributed)" in label:
        _e, es = _said(lookup, "inference.engine")
        _i, inf = _said(lookup, "orchestration.num_inference_workers")
        _t, tr = _said(lookup, "orchestration.num_training_workers")
        return (
            f"torchtune's asynchronous GRPO recipe runs generation ({es}) on inference workers apart from the training "
            f"ones ({inf}, {tr}), overlapping with training: goblin does not model a step whose generation and training "
            "run concurrently on separate workers"
        )
    if "(ppo_full_finetune_single_device)" in label:
        _t, ts = _said(lookup, "max_generated_tokens")
        return (
            "torchtune's PPO recipe generates with torchtune's decoding loop and scores every trajectory with a reward model "
            f"and a value model (reward_and_value_model, recipes/ppo_full_finetune_single_device.py:191-196@v0.6.1; {ts}): "
            "goblin has no sourced efficiency for that loop on ROCm and does not model the reward and value models"
        )
    if "(stage ppo)" in label:
        _r, rs = _said(lookup, "reward_model")
        _k, ks = _said(lookup, "reward_model_type")
        n, ns = _said(lookup, "max_new_tokens")
        b, bs = _said(lookup, "ppo_buffer_size")
        floor = ""
        tokens = n if isinstance(n, int) and not isinstance(n, bool) and n > 0 else 1024 if n is None else 0
        buffer = b if isinstance(b, int) and not isinstance(b, bool) and b > 0 else 1 if b is None else 0
        if hw is not None and shape_assumption(w.model) is None and tokens and buffer:
            # one PPO step generates accumulation x ppo_buffer_size mini-batches of per_device_train_batch_size prompts,
            # one response each, one mini-batch at a time (trainer.py:99-104, :255-260@v0.9.5)
            rounds = w.gradient_accumulation * buffer
            _p, decode = decode_seconds(w, hw, sequences=w.micro_batch_size, prompt=0, completion=tokens)
            floor = (
                f"; the HBM-bandwidth roofline of that decode alone ({rounds} mini-batch{'es' if rounds > 1 else ''} of "
                f"{w.micro_batch_size} prompt{'s' if w.micro_batch_size > 1 else ''} x {tokens} tokens, trainer.py:99-104, :255-260; "
                f"prompts left out) is {_ms(decode * rounds):,.0f} ms per PPO step, a floor it runs above by an unmeasured factor"
            )
        return (
            "LLaMA-Factory's PPO generates through transformers' generate (unwrapped_model.generate, "
            "src/llamafactory/train/ppo/trainer.py:363@v0.9.5) on TRL's PPOTrainer, and scores each response with a reward "
            f"model ({rs}; {ks}, default lora: hparams/finetuning_args.py:235-250@v0.9.5) and a value head: goblin has no sourced "
            f"efficiency for transformers' generate on ROCm ({ns}, default 1024: hparams/generating_args.py:53-54@v0.9.5; "
            f"{bs}, default 1: finetuning_args.py:203-205){floor}; nor does it model the reward model's passes"
        )
    cls = config_class(w)
    release = (version or "").split(" (", 1)[0]  # "0.17.0 (where it was read)"
    v = _version(release)
    # RLOO 0.11.0-0.21.x is the OnPolicyConfig trainer, modelled in rollout_onpolicy (audit_tools._rollout)
    first = "0.11.0" if cls == "RLOOConfig" else MODELLED.get(cls or "", "")
    if cls in MODELLED and v is not None and v < Version(first):
        return (
            f"goblin reads the recipe as trl {version}, whose {cls.removesuffix('Config')} trainer predates the one goblin models "
            f"(from trl {first}"
            + (", the release that gave GRPOConfig steps_per_generation, the batching `split` follows" if cls == "GRPOConfig" else "")
            + ")"
        )
    return None


# TRL's online trainers, whose generation `split` models; a trainer class of the repository's own that subclasses
# one of them inherits its generation
TRL_ONLINE_TRAINERS = frozenset({"GRPOTrainer", "RLOOTrainer", "OnlineDPOTrainer"})
_IMPORT = re.compile(r"^\s*from\s+([\w.]+)\s+import\s+\(?([\w\s,]+)\)?", re.M)
_USED = re.compile(r"(?:\btrainer_cls\s*=\s*|\btrainer\s*=\s*)(\w+Trainer)\b")


def own_trainer(text: str, path: str, sources: Callable[[], list[tuple[str, str]]]) -> str | None:
    """Why a training script's online RL step is not TRL's: it builds its trainer from a class of the repository's own
    (imported from a module outside trl, or defined in the script) that does not subclass TRL's GRPO/RLOO/online DPO
    trainer (review5 #31: open-r1-multimodal grpo.py:153 `trainer_cls = Qwen2VLGRPOTrainer`, `class
    Qwen2VLGRPOTrainer(Trainer)`, which generates per completion in a loop); None otherwise. `sources`: the repository's
    Python files as (relative path, text), read only when such a class is found."""
    used = {m.group(1): text[: m.start()].count("\n") + 1 for m in _USED.finditer(text)}
    if not used or any(name in TRL_ONLINE_TRAINERS for name in used):
        return None
    imported = {n.strip(): mod for mod, names in _IMPORT.findall(text) for n in names.split(",") if n.strip()}
    for name, line in used.items():
        module = imported.get(name)
        if module is not None and module.split(".")[0] in ("trl", "transformers"):
            continue
        defined = re.compile(rf"^class\s+{name}\s*\(([^)]*)\)", re.M)
        for rel, src in [(path, text), *sources()]:
            if (m := defined.search(src)) is not None:
                bases = {b.strip().split(".")[-1] for b in m.group(1).split(",")}
                if bases & TRL_ONLINE_TRAINERS:
                    return None
                at = src[: m.start()].count("\n") + 1
                return (
                    f"the script trains with {name} (line {line}), the repository's own class ({rel}:{at}: class {name}"
                    f"({m.group(1).strip()})), not a subclass of TRL's GRPOTrainer, RLOOTrainer or OnlineDPOTrainer: how it "
                    "generates completions is its own code, which goblin does not model, so no generation/training split is projected"
                )
        if module is not None:
            return (
                f"the script trains with {name} (line {line}), imported from the repository's module {module}, not TRL's trainer, "
                "and goblin could not find its class in the repository to tell how it generates, so no generation/training split is projected"
            )
    return None


OFFLOAD_ID = "rl.cpu_offload_state_fits"
OFFLOAD_TITLE = "CPU offload of a training state that fits in HBM (online RL)"
OFFLOAD_CITATION = "https://www.deepspeed.ai/tutorials/zero-offload/"
OFFLOAD_WORDS = ("goblin does not model for online RL",)  # goblin's own words in every message (reporting.markdown checks them)
# The share of the GPU's memory the training state (and a colocated vLLM's reservation) may take for the offload to be
# called waste: activations, logits and generation are not modelled for online RL, so at least half stays for them.
OFFLOAD_STATE_SHARE = 0.5
# TRL's GRPO had no vllm_mode before 0.18 (trl 0.18.0 trl/trainer/grpo_config.py:95; none at 0.17.0): vLLM ran on a GPU
# of its own, `vllm_device` "auto" (the default, trl 0.14.0 trl/trainer/grpo_config.py:59,130) being the next GPU after
# the training processes' (trl 0.14.0 trl/trainer/grpo_trainer.py:288-290); a device among the training GPUs is allowed
# with a warning (:300-302), so a vllm_device the config sets is not bounded here
COLOCATE_FROM = "0.18.0"


def offload_message(w: WorkloadConfig, hw: Hardware, lookup: Lookup, version: str | None, r: RolloutSplit | None, where: str = "") -> str | None:
    """The online RL CPU-offload finding's message, with the config's numbers, or None where goblin cannot bound what the
    training GPUs hold without the offload (issue 24, review5 #20 EMPO: ZeRO-3 offloading a 3B model's parameters and
    optimizer over 6 x 192 GB). Bounded: the policy's weights, fp32 masters, gradients and optimizer state as the strategy
    shards them (costmodel.memory_gb's terms), a reference copy where beta > 0 (or beta is unknown) and the model is not
    PEFT, and a colocated vLLM's reservation. Activations, logits and generation are not modelled for online RL, so the
    offload is called waste only where all that takes at most OFFLOAD_STATE_SHARE of the GPU's memory."""
    if not w.cpu_offload or shape_assumption(w.model) is not None or not (w.model.known or w.model.params_b is not None):
        return None
    if w.strategy not in ("deepspeed", "fsdp"):
        return None
    cls = config_class(w)
    if r is None and cls != "GRPOConfig":
        return None  # RLOO / online DPO / PPO before the modelled trainers, other frameworks: not bounded here
    v = _version(version) if version else None
    said: list[str] = []
    if r is not None:
        reserved = r.vllm_reserved_gb or 0.0
        if reserved:
            said.append(f"a colocated vLLM's reservation {reserved:.1f} GB (vllm_gpu_memory_utilization {r.values.get('vllm_gpu_memory_utilization', '')})")
        elif r.vllm_mode == "server":
            said.append(f"vLLM generating on {r.generation_on}")
        if any("sleep mode" in n for n in r.not_modelled):
            return None
    else:
        use_vllm = lookup("use_vllm")
        if use_vllm[0] and str(use_vllm[1]).strip().lower() in ("true", "1", "yes"):
            device = lookup("vllm_device")
            if v is None or v >= Version(COLOCATE_FROM) or lookup("vllm_mode")[0] or (device[0] and str(device[1]) != "auto"):
                return None  # vLLM may share the training GPUs: its reservation is not bounded here
            said.append(f"vLLM on a GPU of its own (trl {version} has no colocated vLLM; vllm_device {device[1] if device[0] else 'auto'})")
        reserved = 0.0
    beta_k = lookup("beta")
    beta: Value | None = Value(beta_k[1], _at(beta_k[2])) if beta_k[0] else None
    if beta is None and version and cls:
        beta = trl_default(cls, "beta", version)
    reference = w.method == "full" and (beta is None or _num(beta, 1.0) > 0)
    parts: dict[str, float] = {}
    bare = w.model_copy(update={"cpu_offload": False, "offload_params": False, "activation_offloading": False, "reference_copy": False})
    memory_gb(bare, parts)
    state = parts["weights"] + parts["masters"] + parts["grads"] + parts["optimizer"]
    ref_gb = 0.0
    if reference:
        with_ref: dict[str, float] = {}
        memory_gb(bare.model_copy(update={"reference_copy": True}), with_ref)
        ref_gb = with_ref["weights"] - parts["weights"]
    hbm = capacity_gb(hw)
    total = state + ref_gb + reserved
    if total > OFFLOAD_STATE_SHARE * hbm:
        return None
    src = w.sources.get("cpu_offload")
    if not where and src is not None and src.explicit:
        # "accelerate config x/zero3.yaml: offload" (formats/semantics.py) names the file; else the file's own name
        place = src.key.rsplit(":", 1)[0] if src.key and ":" in src.key else Path(src.file).name if src.file else "the config"
        where = f"{place}{f' line {src.line}' if src.line else ''}"
    sharding = {"deepspeed": f"DeepSpeed ZeRO-{w.zero_stage}" if w.zero_stage is not None else "DeepSpeed", "fsdp": "FSDP"}[w.strategy]
    what = "parameters and optimizer state" if w.offload_params else "optimizer state"
    params = estimate_shape(w.model).params_b
    ref_text = (
        f" + a reference copy {ref_gb:.1f} GB (beta {beta.value}, {beta.source})"
        if reference and beta is not None
        else f" + a reference copy {ref_gb:.1f} GB (counted: beta not known)"
        if reference
        else ""
    )
    vllm_text = f" + {said[0]}" if said and reserved else ""
    apart = f"; {said[0]}" if said and not reserved else ""
    return (
        f"the run offloads {what} to the host{f' ({where})' if where else ''}, but without the offload the training GPUs hold, per GPU, "
        f"weights {parts['weights']:.1f} GB + fp32 master copy {parts['masters']:.1f} GB + gradients {parts['grads']:.1f} GB + "
        f"optimizer state {parts['optimizer']:.1f} GB{ref_text}{vllm_text} = {total:.1f} GB of {capacity_phrase(hw)} "
        f"({params:g}B parameters, {w.method} {w.precision}, weights in {weights_phrase(w)}, {sharding} over "
        f"{w.world_size} GPU{'s' if w.world_size > 1 else ''}{apart}), leaving {hbm - total:.0f} GB for activations, logits and generation, "
        "which goblin does not model for online RL. The offload moves the sharded state over PCIe and runs the optimizer step on "
        "the host every step: remove it (offload_optimizer_device / offload_param_device `none` in a DeepSpeed or accelerate file, "
        "FSDP offload_params false) and measure; the verdict stays inconclusive for what is not modelled"
    )


EVAL_ID = "job.eval_generates_every_few_steps"
EVAL_TITLE = "Online RL evaluation that generates completions every few optimizer steps"
EVAL_WORDS = ("the least an evaluation can cost",)  # goblin's own words in every message (reporting.markdown checks them)
EVAL_CITATION = "https://huggingface.co/docs/transformers/main_classes/trainer#transformers.TrainingArguments.eval_steps"
# The share of the job's time at which the floor of evaluation is called waste: goblin's >= 10% bar for a finding.
EVAL_FLOOR_SHARE = 0.1
# TRL's GRPOTrainer generates completions for every eval batch, without buffering or reuse (trl v0.18.0
# trl/trainer/grpo_trainer.py:962-964,976-981, prediction_step :1406-1411; the same at v0.17.0 :891 and v1.9.0 :1566,1580-1583);
# its eval sampler repeats each prompt num_generations times, so an eval batch of per_device_eval_batch_size rows is that
# many completions (grpo_trainer.py:794-800@v0.18.0)
EVAL_CITE = "trl v0.18.0 trl/trainer/grpo_trainer.py:962-964,976-981,1406-1411 (every eval batch generates its completions)"


def eval_floor(w: WorkloadConfig, hw: Hardware, r: RolloutSplit) -> tuple[float, float] | None:
    """(seconds, share of the job): the least GRPO's evaluation costs per optimizer step where the config evaluates every
    eval_interval steps over an eval set whose size it does not give: one eval batch per GPU (per_device_eval_batch_size
    completions at the split's prompt and completion lengths, decoded at the split's roofline: `decode_seconds`), amortized
    over the interval, against the split's step. None where the split projects no generation, generation is not colocated
    on one GPU per vLLM (a server's or a tensor-parallel group's decode is not priced here), the config states the eval
    set's size (costmodel.eval_seconds then prices it), or the trainer is not GRPO."""
    if r.method != "grpo" or r.generation_ms is None or r.total_ms is None or r.vllm_mode != "colocate":
        return None
    if "tensor parallel" in r.generation_on:
        return None
    if not w.eval_runs or w.eval_interval is None or w.eval_batch_size is None or w.eval_examples is not None or w.eval_fraction is not None:
        return None
    prefill, decode = decode_seconds(w, hw, sequences=w.eval_batch_size, prompt=r.prompt_tokens, completion=r.completion_tokens)
    per_step = (prefill + decode) / w.eval_interval
    return per_step, per_step / (r.total_ms / 1000 + per_step)


def eval_message(w: WorkloadConfig, hw: Hardware, r: RolloutSplit) -> str | None:
    """The GRPO evaluation-frequency finding's message (eval_floor at or above EVAL_FLOOR_SHARE), in the config's values."""
    found = eval_floor(w, hw, r)
    if found is None or found[1] < EVAL_FLOOR_SHARE:
        return None
    per_step, share = found
    said: dict[str, str] = {}  # key -> where, once per key
    for field in ("eval_runs", "eval_interval"):
        src = w.sources.get(field)
        if src is not None and src.key and src.line and src.key not in said:
            said[src.key] = f"`{src.key}`, line {src.line}{f': {src.note}' if src.note else ''}"
    how = f" ({'; '.join(said.values())})" if said else ""
    return (
        f"the trainer evaluates every {w.eval_interval} optimizer step{'s' if w.eval_interval != 1 else ''}{how} at per-device eval batch "
        f"{w.eval_batch_size}, and GRPO generates completions for every eval batch ({EVAL_CITE}). The eval set's size is not in the config, "
        f"so goblin prices the least an evaluation can cost, one eval batch per GPU (an assumed eval set of {w.eval_batch_size} completions "
        f"per GPU of {r.prompt_tokens} prompt + {r.completion_tokens} completion tokens, at the split's decode floor): {per_step * 1000:,.0f} ms "
        f"per optimizer step, {share:.0%} of the job's time next to the projected {r.total_ms:,.0f} ms step; every further eval batch adds "
        "as much. How often to evaluate is a research choice, so goblin does not change it: raise `eval_steps` (or evaluate per epoch, "
        "or on fewer eval prompts) and measure"
    )
