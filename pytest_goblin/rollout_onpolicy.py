"""TRL's RLOO before 0.22 (the OnPolicyConfig trainer, trl 0.11.0-0.21.x): one optimizer step split into generation,
reference, reward and training, and the finding that raises its rollout chunk (review12b #27).

What the trainer does per update (read at trl v0.13.0 trl/trainer/rloo_trainer.py, the same loop at v0.11.0 :282-310 and
v0.21.0 :308-339):

- it takes local_batch_size = per_device_train_batch_size x gradient_accumulation_steps x num_mini_batches completions
  per GPU (:131-133), local_batch_size / rloo_k prompts each repeated rloo_k times (:151-153, :307);
- it generates them with transformers' `generate` (no vLLM) in chunks of local_rollout_forward_batch_size sequences
  (:316-322, `batch_generation`, trl/trainer/utils.py:1300-1329), response_length new tokens each (:260-266); the policy's
  log-probs come from that generate's scores, no second policy forward (:324-331);
- the reference model and the reward model each run a no-grad forward over every completion, in the same chunks
  (:333-354);
- it then trains num_ppo_epochs passes over the batch, each in num_mini_batches mini-batches of
  per_device_train_batch_size x gradient_accumulation_steps completions (:139-141, :399-411): one optimizer step per mini-batch.

Defaults (trl v0.13.0 trl/trainer/utils.py:1058 num_mini_batches 1, :1060 local_rollout_forward_batch_size 64, :1062
response_length 53; trl/trainer/rloo_config.py:49 num_ppo_epochs 4, :53 rloo_k 2) come from frameworks/key_history.json
through rollout.trl_default, each cited. transformers' `generate` has no sourced efficiency on ROCm, so generation is a
floor (the HBM-bandwidth roofline of its decode, rollout.decode_seconds), never a time; the verdict stays inconclusive.
"""

from __future__ import annotations

import math

from packaging.version import Version

from .costmodel import memory_gb, step
from .hardware import capacity_gb, capacity_phrase
from .modelzoo import shape_assumption
from .rollout import FLOOR_GAP, Lookup, Value, _get, _ms, _num, _version, decode_seconds, kv_gb
from .schemas import Hardware, RolloutSplit, WorkloadConfig

# the releases whose RLOOTrainer is the OnPolicyConfig trainer read here (chunked batch_generation from 0.11.0; rewritten
# on GRPO's loop in 0.22.0: rollout.MODELLED)
FROM, UNTIL = "0.11.0", "0.22.0"
LOOP_AT = "trl v0.13.0 trl/trainer/rloo_trainer.py"
GENERATE_AT = f"{LOOP_AT}:316-322 (batch_generation: one transformers generate per chunk, trl/trainer/utils.py:1300-1329@v0.13.0)"
ASSUMED_PROMPT = 512  # no prompt length in an OnPolicyConfig: the dataset's tokenized prompts, unread

CHUNK_ID = "rl.rollout_chunk_small"
CHUNK_TITLE = "Online RL rollouts generated in small chunks (TRL RLOO local_rollout_forward_batch_size)"
CHUNK_CITATION = "https://huggingface.co/docs/trl/v0.13.0/en/rloo_trainer"
CHUNK_WORDS = ("one transformers generate call per chunk",)  # goblin's own words in every message (reporting.markdown)
# The share of the step the floor saving must reach: goblin's >= 10% bar for a finding.
CHUNK_SHARE = 0.1
# What the training state, a reference copy and the larger chunk's KV cache may take of the GPU for the raise to be
# proposed: the reward model's weights and the activations of generate and the forwards are not modelled, so at least
# half stays for them (rollout.OFFLOAD_STATE_SHARE's reasoning).
CHUNK_STATE_SHARE = 0.5


def modelled(cls: str | None, version: str) -> bool:
    v = _version(version)
    return cls == "RLOOConfig" and v is not None and Version(FROM) <= v < Version(UNTIL)


def _int(lookup: Lookup, values: dict[str, str], version: str, key: str, default: int) -> int:
    got: Value | None = _get(lookup, "RLOOConfig", key, version)
    if got is not None:
        values[key] = f"{got.value} ({got.source})"
    return max(1, int(_num(got, default)))


def split(w: WorkloadConfig, hw: Hardware, lookup: Lookup, version: str, version_source: str) -> RolloutSplit | None:
    """The projected split of one optimizer step of a pre-0.22 TRL RLOO run, per GPU; None outside FROM-UNTIL."""
    if not modelled("RLOOConfig", version):
        return None
    values: dict[str, str] = {"trl": f"trl {version} ({version_source})"}
    rloo_k = _int(lookup, values, version, "rloo_k", 2)
    chunk = _int(lookup, values, version, "local_rollout_forward_batch_size", 64)
    epochs = _int(lookup, values, version, "num_ppo_epochs", 4)
    minis = _int(lookup, values, version, "num_mini_batches", 1)
    completion = _int(lookup, values, version, "response_length", 53)
    if w.mean_tokens is not None:
        prompt = max(1, round(w.mean_tokens))
        values["prompt_tokens"] = f"{prompt} (the mean sampled length of the dataset's rows)"
    else:
        prompt = ASSUMED_PROMPT
        values["prompt_tokens"] = f"{prompt} assumed: RLOOConfig before trl 0.22 has no prompt length, and no dataset was read"
    batch, accumulation = w.micro_batch_size, w.gradient_accumulation
    local = batch * accumulation * minis  # completions per GPU per update (rloo_trainer.py:131-133@v0.13.0)
    values["local_batch_size"] = (
        f"{local} (per_device_train_batch_size {batch} x gradient_accumulation_steps {accumulation} x num_mini_batches {minis}, "
        f"{LOOP_AT}:131-133; {local / rloo_k:g} prompts x rloo_k {rloo_k}, :151-153, :307)"
    )
    steps = epochs * minis  # optimizer steps per update (:399-411)
    values["optimizer_steps_per_update"] = f"{steps} (num_ppo_epochs {epochs} x num_mini_batches {minis}, {LOOP_AT}:399-411)"
    not_modelled = [
        "the reward model's forward over every completion (reward_model_path: its size is another model's, not read) and its weights in memory",
    ]
    if (guess := shape_assumption(w.model)) is not None:
        values["model"] = guess
        not_modelled.append(f"the model's real shape ({guess}): every figure here rests on it, and no memory finding is made")
    length = prompt + completion
    train = w.model_copy(
        update={"seq_len": length, "token_quantiles": None, "mean_tokens": None, "reference_forward": False, "reference_copy": w.method == "full"}
    )
    model = step(train, hw)
    # the reference forward runs over every completion of the update once (:333-340), shared by its optimizer steps
    reference_s = model.forward_s * (local / batch) / steps
    floor_s = generation_floor(w, hw, local, chunk, prompt, completion) / steps
    not_modelled.append(
        f"generation through transformers' generate ({GENERATE_AT}): goblin has no sourced efficiency for it on ROCm, so its time is "
        f"not projected; the HBM-bandwidth roofline of that decode, in chunks of {min(chunk, local)}, is {_ms(floor_s):,.0f} ms per optimizer "
        f"step, a floor it runs above by an unmeasured factor (vLLM's published latencies on MI300X run {FLOOR_GAP} that floor)"
    )
    return RolloutSplit(
        method="rloo",
        trainer=f"trl {version} (RLOOConfig, the OnPolicyConfig trainer before 0.22)",
        generation_on=f"the training GPUs, through transformers' generate in chunks of local_rollout_forward_batch_size {chunk}",
        vllm_mode=None,
        prompts_per_step=round(local / rloo_k / steps, 2),
        completions_per_step=round(local / steps, 2),
        completions_per_generation=min(chunk, local),
        prompt_tokens=prompt,
        completion_tokens=completion,
        generation_ms=None,
        generation_floor_ms=_ms(floor_s),
        reference_ms=_ms(reference_s),
        logprob_ms=0.0,  # from generate's scores (:324-331)
        training_ms=_ms(model.step_s),
        total_ms=None,
        training_memory_gb=round(memory_gb(train), 1),
        hbm_gb=capacity_gb(hw),
        hbm_phrase=capacity_phrase(hw),
        values=values,
        not_modelled=not_modelled,
    )


def generation_floor(w: WorkloadConfig, hw: Hardware, local: int, chunk: int, prompt: int, completion: int) -> float:
    """Seconds: the decode roofline of `local` sequences generated `chunk` at a time, one generate per chunk, per update."""
    full, rest = divmod(local, chunk)
    seconds = 0.0
    for sequences, count in ((chunk, full), (rest, 1 if rest else 0)):
        if count:
            prefill, decode = decode_seconds(w, hw, sequences=sequences, prompt=prompt, completion=completion, weight_bytes=_weight_bytes(w))
            seconds += (prefill + decode) * count
    return seconds


def _weight_bytes(w: WorkloadConfig) -> float:
    """The bytes per weight transformers' generate reads: the policy's own load dtype (the one being trained)."""
    return 4.0 if w.weight_dtype == "fp32" else 2.0


def chunk_message(w: WorkloadConfig, hw: Hardware, r: RolloutSplit, flags: bool) -> str | None:
    """The finding that raises local_rollout_forward_batch_size: the chunk is below both the update's completions and TRL's
    default, the decode floor it saves reaches CHUNK_SHARE of the step's floor, and the training state, a reference copy and
    the larger chunk's KV cache fit in CHUNK_STATE_SHARE of the GPU. None otherwise (or where the shape is assumed)."""
    if not r.trainer.endswith("the OnPolicyConfig trainer before 0.22)") or "model" in r.values or r.generation_floor_ms is None:
        return None
    try:
        chunk = int(r.values["local_rollout_forward_batch_size"].split(" ", 1)[0])
        local = int(r.values["local_batch_size"].split(" ", 1)[0])
        steps = int(r.values["optimizer_steps_per_update"].split(" ", 1)[0])
    except (KeyError, ValueError):
        return None
    version = r.values.get("trl", "").split(" ")[1] if r.values.get("trl", "").startswith("trl ") else ""
    from .rollout import trl_default

    default = trl_default("RLOOConfig", "local_rollout_forward_batch_size", version)
    if default is None or isinstance(default.value, bool) or not isinstance(default.value, int):
        return None
    proposed = min(local, int(default.value))
    if proposed <= chunk:
        return None
    kv = kv_gb(w, proposed, r.prompt_tokens + r.completion_tokens)
    counted = r.training_memory_gb + kv
    if counted > CHUNK_STATE_SHARE * r.hbm_gb:
        return None
    now = generation_floor(w, hw, local, chunk, r.prompt_tokens, r.completion_tokens) / steps
    then = generation_floor(w, hw, local, proposed, r.prompt_tokens, r.completion_tokens) / steps
    rest = r.reference_ms / 1e3 + r.training_ms / 1e3
    saved = now - then
    if saved < CHUNK_SHARE * (now + rest):
        return None
    key = f"`--local_rollout_forward_batch_size {proposed}`" if flags else f"`local_rollout_forward_batch_size: {proposed}`"
    src = r.values["local_rollout_forward_batch_size"]
    return (
        f"the run generates its {local} completions per GPU per update (local_batch_size {r.values['local_batch_size']}) with "
        f"local_rollout_forward_batch_size {src}: {math.ceil(local / chunk)} chunks, one transformers generate call per chunk "
        f"({GENERATE_AT}), each decoding {r.completion_tokens} tokens and reading every weight once per token. At the HBM-bandwidth "
        f"floor that decode is {_ms(now):,.0f} ms per optimizer step against {_ms(then):,.0f} ms in chunks of {proposed} "
        f"(TRL's default {default.value}, {default.source}, capped at the {local} completions there are), a saving of "
        f"{saved / (now + rest):.0%} of the step's floor ({_ms(now):,.0f} ms generation floor + reference {r.reference_ms:,.0f} ms + training "
        f"{r.training_ms:,.0f} ms); generate runs above that floor by an unmeasured factor that also grows with the calls. The chunk "
        f"of {proposed} holds a KV cache of {kv:.1f} GB beside the {r.training_memory_gb:.1f} GB training state goblin projects "
        f"({counted:.1f} GB of {capacity_phrase(hw)}; the reward model's weights and generate's activations are not counted, so "
        f"goblin proposes it only while that stays under half the GPU). Set {key} and measure the step with your training command"
    )
