"""The six tools of the canonical trajectory."""

from __future__ import annotations

import json
import platform
import re
import statistics
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.version import InvalidVersion, Version
from pydantic import BaseModel, ConfigDict, Field

from .. import __version__
from ..attribution import KEEP_THRESHOLD, leave_one_out
from ..blockers import blocked_reason, key_file, raw_key, shipped_build, shipped_notes
from ..blockers import findings as blocker_findings
from ..costmodel import (
    assumed_length,
    calibration_note,
    eager_elementwise_passes,
    memory_gb,
    nominal_for,
    sensitivity,
    stated_bound,
    stated_contradiction,
    step,
    weights_phrase,
)
from ..errors import BenchmarkFailed, GoblinError, StartupRefused
from ..formats import load_config
from ..formats.base import FROM_NAME_ONLY, IN_CODE_BY_HAND, IN_LAUNCH_LINE, IN_OTHER_FILE, source_place
from ..formats.launched import CUSTOM_PREFERENCE
from ..formats.semantics import loaded_with_world_size, parallelism_unread, strategy_unread, topology_ambiguous
from ..frameworks.unsloth import UnslothLoad
from ..hardware import capacity_gb, capacity_phrase
from ..modelzoo import shape_assumption
from ..patchblock import build_patch
from ..patching import (
    NOT_DOWN_ON_ASSUMED_LENGTHS,
    NOT_ON_A_GUESS,
    NOT_ON_ASSUMED_LENGTHS,
    NOT_READ_BACK,
    assumed_over,
    fit_limit_gb,
    packed_unread,
    plan_edits,
    span_note,
)
from ..rollout import inconclusive_reason as rollout_reason
from ..rollout import server_topology
from ..rollout import split as rollout_split
from ..rules import (
    idle_gpus,
    offload_bound,
    online_rl,
    over_hbm,
    render_finding,
    search,
    slim,
    training_step_bound,
    unactionable,
    undecided_checkpointing,
    undecided_over_span,
    unjudged,
    unmodelled_trainer,
)
from ..schemas import Finding, Patch, Report, RolloutSplit, Rule, RunMetrics, Speedup, Verdict, WorkloadConfig, device_label
from ..shapespan import corner_shapes, full_span_phrase, span_memory_gb, spanned
from ..stats import HAND_COUNTED, MAX_HALF_WIDTH, bootstrap_speedup, decide, inconclusive, settled, straddled
from .context import AuditContext

if TYPE_CHECKING:
    from ..formats import LoadedConfig
    from ..frameworks.history import Reading


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------- parse_config
PARSE_DOC = "Read the training config under audit into a normalized workload: each field with its value, the line it came from, and whether it was explicit or a framework default."


class ParseConfigInput(_Input):
    path: str | None = Field(default=None, description="The config file; defaults to the file under audit. Must lie in that file's directory.")


def parse_config(ctx: AuditContext, args: ParseConfigInput) -> dict[str, Any]:
    path = ctx.path
    if args.path:
        candidate = (ctx.root / args.path).resolve() if not Path(args.path).is_absolute() else Path(args.path).resolve()
        if not candidate.is_relative_to(ctx.root):
            raise GoblinError(f"refused: {args.path} is outside the config's directory {ctx.root}")
        if candidate != ctx.path.resolve():
            raise GoblinError(f"refused: this audit is of {ctx.path.name}; parse_config reads only that file")
    if ctx.loaded is None:
        ctx.loaded = loaded_with_world_size(load_config(path), ctx.settings.world_size)
    w = ctx.loaded.workload
    return {"format": ctx.loaded.adapter.name, "workload": _workload_view(w)}


def _workload_view(w: WorkloadConfig) -> dict[str, Any]:
    fields = {}
    for name in (
        "method",
        "precision",
        "seq_len",
        "micro_batch_size",
        "gradient_accumulation",
        "attention",
        "gradient_checkpointing",
        "optimizer",
        "torch_compile",
        "dataloader_workers",
        "quantization",
        "sample_packing",
        "strategy",
    ):
        src = w.sources.get(name)
        fields[name] = {"value": getattr(w, name), "line": src.line if src else None, "explicit": bool(src and src.explicit)}
        if src is not None and src.line and src.file != w.path:  # set in another file (the launcher that passes it)
            fields[name]["line"] = None
            fields[name]["set_in"] = source_place(src, w)
    # numbers and a word only: the dataset's file name is config text and stays out of the model's view
    basis = (
        "packed"
        if w.sample_packing
        else "padded to seq_len"
        if w.pad_to_max
        else "sampled from the dataset"
        if w.token_quantiles
        else "bounded by the stated GPU"
        if w.length_bound
        else "assumed seq_len"
    )
    lengths: dict[str, Any] = {"basis": basis}
    if w.length_bound is not None and not w.token_quantiles:
        lengths["bound_tokens"] = w.length_bound
    if w.token_quantiles and w.mean_tokens is not None:
        lengths.update(mean_tokens=w.mean_tokens, p95_tokens=w.token_quantiles[19], longest_tokens=w.token_quantiles[-1])
    return {
        "model": w.model.model_dump(exclude_none=True),
        "fields": fields,
        "sample_lengths": lengths,
        "env": sorted(w.env),
        "ignored_rules": w.ignored_rules,
    }


def _workload(ctx: AuditContext) -> WorkloadConfig:
    if ctx.loaded is None:
        ctx.loaded = loaded_with_world_size(load_config(ctx.path), ctx.settings.world_size)
    if ctx.training_step is None:
        ctx.training_step = ""  # decided once, before any rule is judged (context.applicable reads it)
        got = _training_step_only(ctx, ctx.loaded.workload)
        ctx.training_step, ctx.training_sequences = got if got is not None else ("", 1)
    return ctx.loaded.workload


# trl 0.15.0 gave GRPOTrainer the RepeatRandomSampler (grpo_trainer.py:468@v0.15.0): from then per_device_train_batch_size
# counts completions; before, each prompt's num_generations completions (default 8, grpo_config.py:108-111@v0.14.0) train together
GRPO_SAMPLER_AT = "0.15.0"
OLD_GRPO_GENERATIONS = 8
# said in every finding a rule judged on the training step of an item goblin leaves inconclusive (rules.facts(training_step=True))
TRAINING_STEP_ONLY = "training step only: generation is not projected for this recipe (its memory bounded with a reference copy of the weights)"
TRAINING_STEP_BOUND = (
    "training step only: this trainer's own step is not projected (its memory bounded with chosen and rejected sequences and a reference copy)"
)
# the categories whose findings are about the step's time: a requirement or an environment setting holds whatever the split
_STEP_SHARE_CATEGORIES = frozenset({"memory", "precision", "attention", "kernels", "gemm", "compile", "optimizer", "quantization", "batch"})


# ROCm's torch reads AMD_SERIALIZE_KERNEL where CUDA's reads CUDA_LAUNCH_BLOCKING (its hipify maps the name in c10), and
# the HIP runtime has no flag of that name (ROCm/clr rocm-6.2.2: none in the tree; HIP_LAUNCH_BLOCKING is flags.hpp:169)
CUDA_BLOCKING_CITE = (
    "torch 2.13.0 torch/utils/hipify/cuda_to_hip_mappings.py:3423-3424 (CUDA_LAUNCH_BLOCKING -> AMD_SERIALIZE_KERNEL); "
    "ROCm/clr rocm-6.2.2 has no CUDA_LAUNCH_BLOCKING flag (rocclr/utils/flags.hpp:169 is HIP_LAUNCH_BLOCKING)"
)


def _cuda_launch_blocking_note(ctx: AuditContext, w: WorkloadConfig) -> str | None:
    """CUDA_LAUNCH_BLOCKING set on in the job's environment on an AMD target: said, not a finding (it does not slow a ROCm
    run; HIP_LAUNCH_BLOCKING does, env.hip_launch_blocking), whatever the trainer."""
    value = w.env.get("CUDA_LAUNCH_BLOCKING")
    if ctx.hw.vendor != "amd" or value is None or value.strip() in ("", "0"):
        return None
    src = w.sources.get("env.CUDA_LAUNCH_BLOCKING")
    where = f" ({source_place(src, w)})" if src is not None and src.line else ""
    return (
        f"CUDA_LAUNCH_BLOCKING={value}{where} does not serialize kernels on {ctx.hw.name}: neither ROCm's torch build (its c10 reads "
        f"AMD_SERIALIZE_KERNEL in its place) nor the HIP runtime reads it ({CUDA_BLOCKING_CITE}); it can go, and HIP_LAUNCH_BLOCKING or AMD_SERIALIZE_KERNEL are the variables that would"
    )


def _training_step_only(ctx: AuditContext, w: WorkloadConfig) -> tuple[str, int] | None:
    """A GRPO recipe goblin projects no generation/training split for, or a preference trainer whose memory it does
    not model: its memory rules are judged on the training step at an upper bound of its memory (rules.training_step_bound)
    and listed with the clause returned here, beside the sequences each micro-batch sample trains (a GRPO trainer before
    trl 0.15.0, or a repository's own, may train num_generations completions per prompt of the micro-batch: trl 0.14.0
    grpo_trainer.py:335,417, default 8 at grpo_config.py:108-111; from 0.15.0 the sampler repeats each prompt and the
    micro-batch counts completions, grpo_trainer.py:468); the verdict stays inconclusive (build_report). None for a modelled run
    (rollout split or a modelled preference trainer), a measured one, and where generation shares the training GPUs'
    memory with a vLLM engine (colocated: the room a training-step rule finds is the engine's too)."""
    if ctx.runner.measured or ctx.loaded is None:
        return None
    rl = online_rl(w)
    if rl is None:
        return (TRAINING_STEP_BOUND, 1) if unmodelled_trainer(w) is not None else None
    if rl != "grpo":
        return None  # PPO, RLOO and online DPO hold a reward or value model beside the policy, outside the bound
    if _rollout(ctx, w) is not None:
        return None  # the modelled split judges its own memory (rollout.memory_message)
    if _unsloth_load(ctx) is not None:
        return None  # fast_inference: a colocated vLLM engine, or a load goblin did not read
    from ..blockers import run_placed

    found, value, _line = run_placed(ctx.loaded, "use_vllm")
    if found and str(value).strip().lower() not in ("false", "0", "no", "none") and not _vllm_apart(ctx, w):
        return None  # vLLM on the training GPUs, or where it runs is not read
    read = _trl_reading(ctx, w) if (w.framework or "").startswith("trl ") else None
    try:
        per_prompt = _own_trainer(ctx) is not None or read is None or Version(read.version) < Version(GRPO_SAMPLER_AT)
    except InvalidVersion:
        per_prompt = True
    if not per_prompt:
        return TRAINING_STEP_ONLY, 1
    g_found, g_value, _g_line = run_placed(ctx.loaded, "num_generations")
    try:
        generations = max(1, int(g_value)) if g_found and g_value is not None else OLD_GRPO_GENERATIONS
    except (TypeError, ValueError):
        return None  # a count goblin cannot read
    return f"{TRAINING_STEP_ONLY[:-1]}, and {generations} completions trained per prompt of a micro-batch)", generations


def _vllm_apart(ctx: AuditContext, w: WorkloadConfig) -> bool:
    """An online RL run goblin projects no split for generates with vLLM on GPUs of its own: a `trl vllm-serve` server
    the repository starts (_unsplit_server), or the GPU trl 0.14-0.15 starts vLLM on past the training processes'
    (formats/vllm_gpu.placement, on one node of a world size read from the repository)."""
    from ..blockers import launch_config_flags, placed_key
    from ..formats.vllm_gpu import placement

    if _unsplit_server(ctx, w) is not None:
        return True
    loaded = ctx.loaded
    ws = w.sources.get("world_size")
    if loaded is None or ws is None or not ws.explicit or (w.nodes or 1) != 1:
        return False
    passed = launch_config_flags(loaded)

    def raw(key: str) -> tuple[bool, Any, int | str | None]:
        return (True, *passed[key]) if key in passed else placed_key(loaded, key)

    got = placement(w.framework, w.path, loaded.text, raw, w.world_size)
    return got is not None and got[0] >= w.world_size


def _variant(ctx: AuditContext, variant: str) -> WorkloadConfig:
    if variant == "baseline":
        return _workload(ctx)
    if variant not in ctx.patches:
        known = ", ".join(["baseline", *ctx.patches]) or "baseline"
        raise GoblinError(f"unknown variant {variant!r}; use one of: {known} (propose_patch returns a patch_id)")
    return ctx.patches[variant].new_workload


# ---------------------------------------------------------------- profile_run
PROFILE_DOC = "Profile one training step of the baseline (or a patch): step time, tokens/s, peak memory, MFU and the waste budget (where step time goes). Use it to pick symptoms for query_rocm_kb."


class ProfileRunInput(_Input):
    variant: str = Field(default="baseline", description="'baseline' or a patch_id from propose_patch")


def profile_run(ctx: AuditContext, args: ProfileRunInput) -> RunMetrics:
    """Measured (a torch.profiler trace in the worker) when the runner measures; else projected."""
    w = _variant(ctx, args.variant)
    return ctx.runner.profile(w, ctx.hw, run_id=f"profile-{args.variant}", variant=args.variant)


# ---------------------------------------------------------------- query_rocm_kb
QUERY_DOC = "Find knowledge-base rules that apply to this workload on the target GPU. Only rules whose conditions hold are returned, ranked by relevance to the symptom text, then expected impact."


class QueryKBInput(_Input):
    symptom: str = Field(default="", description="What the profile or config shows, in words; may be empty")
    top_k: int = Field(default=10, ge=1, le=50)


def query_rocm_kb(ctx: AuditContext, args: QueryKBInput) -> dict[str, Any]:
    w = _workload(ctx)
    found = [r for r in search(w, ctx.hw, ctx.rules, args.symptom, args.top_k, found=ctx.applicable(w)) if r.id not in w.ignored_rules]
    return {"target": ctx.hw.id, "rules": [slim(r).model_dump() for r in found]}


# ---------------------------------------------------------------- propose_patch
PATCH_DOC = "Combine knowledge-base rules into one patch of the config: resolved edits, environment variables and the unified diff of the file in its own format. Only rules that apply can be chosen; footguns become findings, not edits."


class ProposePatchInput(_Input):
    rule_ids: list[str] = Field(description="Rule ids from query_rocm_kb; an empty list records that nothing applies")


def _edits_other_files(ctx: AuditContext) -> bool:
    """Whether a patch may edit the files the config names: not when the command runner measures it,
    since it runs a patched copy of the config only (runners/command.py) and would measure the
    referenced file as it is."""
    return ctx.runner.name != "command"


def _release_notes(ctx: AuditContext, w: WorkloadConfig, chosen: list[Rule], patch: Patch) -> None:
    """A rule whose edit writes a key the torchtune recipe does not read at the release it runs on is not offered
    (rules.unactionable): the note says so, with the config's own value of the field where it sets one that does
    nothing there (review14a #8/#9: `compile` at torchtune 0.2.1)."""
    from ..frameworks.releases import RECIPE_NEVER_READS

    for rule in chosen:
        why = patch.skipped.get(rule.id, "")
        if RECIPE_NEVER_READS not in why:
            continue
        dead = [
            src.note.split(" does nothing at ", 1)[0] + " does nothing there either"
            for f in rule.transform.set
            if (src := w.sources.get(f)) is not None and src.note and " does nothing at " in src.note
        ]
        note = f"{rule.id}: not offered: {why}" + (f"; the config's {', '.join(dead)}" if dead else "")
        if note not in ctx.notes:
            ctx.notes.append(note)


def propose_patch(ctx: AuditContext, args: ProposePatchInput) -> dict[str, Any]:
    w = _workload(ctx)
    assert ctx.loaded is not None
    by_id = {r.id: r for r in ctx.applicable(w)}
    unknown = [rid for rid in args.rule_ids if rid not in by_id]
    chosen = [by_id[rid] for rid in dict.fromkeys(args.rule_ids) if rid in by_id]
    if args.rule_ids and not chosen:
        raise GoblinError(f"none of {args.rule_ids} applies to this workload; applicable rules: {', '.join(sorted(by_id)) or 'none'}")
    patch_id = f"p{len(ctx.patches) + 1}"
    unavailable = ctx.runner.unavailable(chosen)  # packages the training command lacks
    chosen = [r for r in chosen if r.id not in unavailable]
    dropped: dict[str, float] = {}
    if ctx.settings.attribution and hasattr(ctx.runner, "contribution"):
        pass  # the command runner attributes after the whole patch is measured (benchmark -> _attribute_measured)
    elif ctx.settings.attribution and not ctx.runner.attribution:
        ctx.notes.append(f"--goblin-attribution needs a runner that times single rules (torch); the {ctx.runner.name} runner measures whole patches only")
    elif ctx.settings.attribution:
        chosen, dropped = _attribute(ctx, w, chosen)
    patch = build_patch(ctx.loaded, chosen, ctx.hw, patch_id, other_files=_edits_other_files(ctx))
    if not ctx.runner.measured:
        small = _not_worth_patching(w, patch, ctx.hw, ctx.settings.warn_at, frozenset(r.id for r in chosen if r.priced))
        if small:
            patch = build_patch(ctx.loaded, [r for r in chosen if r.id not in small], ctx.hw, patch_id, other_files=_edits_other_files(ctx))
            patch.skipped.update({rid: why for rid, (_, why) in small.items()})
            ctx.small_gains.update({rid: gain for rid, (gain, _) in small.items()})
            for rid, (_, why) in small.items():
                note = f"{rid}: {why}"
                if note not in ctx.notes:
                    ctx.notes.append(note)
    _release_notes(ctx, w, chosen, patch)
    for rid, contribution in dropped.items():
        patch.skipped[rid] = f"attribution: measured contribution {contribution:.3f}x, below the {KEEP_THRESHOLD:.2f}x keep threshold"
    for rid in unknown:
        patch.skipped[rid] = "not an applicable rule for this workload"
    patch.skipped.update(unavailable)
    ctx.patches[patch_id] = patch
    return patch.model_dump(mode="json", exclude={"new_workload"})


def _own_gains(w: WorkloadConfig, patch: Patch, hw: Any, base: float | None = None, only: frozenset[str] | None = None) -> dict[str, float]:
    """Each rule's own projected gain: the baseline's step time over the step with only that rule's
    edits (side effects left out); `only`: just these rules."""
    base = step(w, hw).step_s if base is None else base
    by_rule: dict[str, dict[str, Any]] = {}
    for e in patch.edits:
        if e.rule_id != "side effect" and (only is None or e.rule_id in only):
            by_rule.setdefault(e.rule_id, {})[e.field] = e.new
    return {rid: base / step(w.model_copy(update=fields), hw).step_s for rid, fields in by_rule.items()}


def _not_worth_patching(w: WorkloadConfig, patch: Patch, hw: Any, warn_at: float, priced: frozenset[str] = frozenset()) -> dict[str, tuple[float, str]]:
    """In a patch whose whole projected gain is below goblin_warn_at (the item passes), the rules whose
    own edits alone project a gain above 1 but below it: noise for a projection, reported as not
    worth patching instead of as findings (the verdict thresholds are unchanged). A rule the
    projection does not model projects exactly 1.00x and is left alone. In a patch that does
    reach goblin_warn_at, small rules stay: they add up (blind review 4 found torchtune compile at
    a projected 1.01x, Liger and the quantization edits correct there). Each left-out rule comes with its own gain, so
    that later verdict notes quote the number rather than read it back out of the skip reason."""
    out: dict[str, tuple[float, str]] = {}
    base = step(w, hw).step_s
    if not patch.edits:
        return out
    whole = base / step(patch.new_workload, hw).step_s
    if whole >= warn_at and not priced & set(patch.rule_ids):
        return out
    for rid, gain in _own_gains(w, patch, hw, base, None if whole < warn_at else priced).items():
        if whole < warn_at and 1.0 + 1e-9 < gain < warn_at:
            out[rid] = (
                gain,
                f"not worth patching: its own projected gain is {gain:.3f}x ({(gain - 1) * 100:.1f}%), below goblin_warn_at={warn_at:.2f}, "
                "within the projection's noise",
            )
        elif whole >= warn_at and rid in priced and gain < NEGLIGIBLE:
            # an edit the model prices at almost nothing rides along a patch that pays for other reasons (review2:
            # dataloader workers at 1.000x in a 1.33x patch, on a recipe that tokenizes before training)
            out[rid] = (gain, f"not worth patching: its own projected gain is {gain:.4f}x, under {(NEGLIGIBLE - 1) * 100:.1f}%: an edit for nothing")
    return out


NEGLIGIBLE = 1.005  # an edit's own projected gain under this is not offered, whatever the rest of the patch recovers


def _attribute(ctx: AuditContext, w: WorkloadConfig, chosen: list[Rule]) -> tuple[list[Rule], dict[str, float]]:
    """--goblin-attribution: leave-one-out measurements on the device; rules that do not pay go."""

    def time_of(v: WorkloadConfig) -> float:
        m = ctx.runner.run(v, ctx.hw, run_id="attribution", variant="attribution", steps=ctx.settings.bench_steps)
        return statistics.median(m.step_time_s) / m.tokens_per_step

    return leave_one_out(w, chosen, ctx.hw, time_of)


# ---------------------------------------------------------------- benchmark
BENCH_DOC = (
    "Benchmark the baseline or a patch with the session's runner (measured on a device, or projected for the target GPU). Returns a run_id for compare_runs."
)


class BenchmarkInput(_Input):
    variant: str = Field(default="baseline", description="'baseline' or a patch_id")
    steps: int | None = Field(default=None, ge=2, le=200, description="Timed steps (measured runner only)")


TARGET_HALF_WIDTH = 0.03  # stop adding interleaved trials once the interval is within +-3%
MAX_PAIR_CALLS = 2  # the worker adds rounds itself; a second call only if the first was cut short


def benchmark(ctx: AuditContext, args: BenchmarkInput) -> dict[str, Any]:
    run_id = f"r{len(ctx.runs) + 1}"
    steps = args.steps or ctx.settings.bench_steps
    base = next((rid for rid, m in reversed(ctx.runs.items()) if m.variant == "baseline" and m.evidence == "measured"), None)
    while True:
        w = _variant(ctx, args.variant)
        try:
            if args.variant != "baseline" and base is not None and ctx.runner.measured:
                metrics = _interleaved(ctx, base, w, run_id, args.variant)
            else:
                metrics = ctx.runner.run(w, ctx.hw, run_id=run_id, variant=args.variant, steps=steps)
            break
        except StartupRefused as exc:
            if args.variant == "baseline":
                raise
            if not _drop_refused(ctx, args.variant, exc):
                rules = ", ".join(ctx.patches[args.variant].rule_ids)
                raise BenchmarkFailed(
                    f"{exc}; if an edit of the patch is what {exc.device} refused, leave its rule out with "
                    f"`# goblin: ignore[RULE]` in the config (the patch's rules: {rules})"
                ) from None
    ctx.runs[run_id] = metrics
    if args.variant != "baseline" and base is not None and ctx.settings.attribution and hasattr(ctx.runner, "contribution"):
        _attribute_measured(ctx, args.variant, ctx.runs[base], metrics)
    return metrics.model_dump(mode="json", exclude={"waste"})


def _attribute_measured(ctx: AuditContext, variant: str, before: RunMetrics, after: RunMetrics) -> None:
    """--goblin-attribution (and --goblin-fix) on the command path: once the whole patch is measured
    and wins, each rule's edits are left out in turn and that patch is interleaved with the patch
    kept so far, within what is left of goblin_budget_s; a rule whose removal costs under
    KEEP_THRESHOLD leaves the patch (as attribution.leave_one_out, the reference shrinks with
    each drop, so of two edits that do the same thing one stays). A rule the time did not reach is
    named as not attributed. The report's speedup stays the measured whole patch's."""
    patch = ctx.patches[variant]
    sp = measured_speedup(ctx, before, after)
    editing = sorted({e.rule_id for e in patch.edits if e.rule_id in patch.rule_ids})
    if len(editing) < 2 or sp.point < ctx.settings.warn_at or ctx.loaded is None:
        return  # one rule is the patch; a patch that does not win is not written
    by_id = {r.id: r for r in ctx.applicable(_workload(ctx))}
    runner: Any = ctx.runner
    kept = [r for r in patch.rule_ids if r in by_id]
    reference = patch
    dropped: dict[str, Speedup] = {}
    unattributed: list[str] = []
    for i, rid in enumerate(editing):
        without = build_patch(ctx.loaded, [by_id[r] for r in kept if r != rid], ctx.hw, f"{variant}-without{i + 1}", other_files=_edits_other_files(ctx))
        ctx.patches[without.patch_id] = without
        try:
            got = runner.contribution(
                without.new_workload,
                without.patch_id,
                reference.new_workload,
                reference.patch_id,
                rule=rid,
                keep=KEEP_THRESHOLD,
                max_seconds=float(getattr(runner, "budget_left", 0.0)) / (len(editing) - i),
            )
        except GoblinError as exc:  # a run of the smaller patch failed: this rule stays, unattributed
            got = None
            ctx.notes.append(f"attribution of {rid}: {exc}")
        if got is None:
            unattributed.append(rid)
            del ctx.patches[without.patch_id]
        elif got.point < KEEP_THRESHOLD and len(kept) > 1:
            dropped[rid] = got
            kept = [r for r in kept if r != rid]
            if reference.patch_id != variant:
                del ctx.patches[reference.patch_id]
            reference = without  # the patch kept so far is the next rules' reference
        else:
            del ctx.patches[without.patch_id]
            ctx.notes.append(f"attribution: {rid} kept, the patch without it is {got.point:.3f}x slower [{got.low:.3f}-{got.high:.3f}] ({got.method})")
    if reference.patch_id != variant:
        del ctx.patches[reference.patch_id]
    if unattributed:
        ctx.notes.append(f"not attributed (goblin_budget_s ran out): {', '.join(unattributed)}; they stay in the patch unmeasured on their own")
    if not dropped:
        return
    new = build_patch(ctx.loaded, [by_id[r] for r in kept], ctx.hw, variant, other_files=_edits_other_files(ctx))
    new.skipped = {**patch.skipped, **new.skipped}
    for rid, got in dropped.items():
        why = (
            f"attribution: removing it from the measured patch costs {got.point:.3f}x [{got.low:.3f}-{got.high:.3f}], "
            f"below the {KEEP_THRESHOLD:.2f}x keep threshold (leave-one-out, {got.method})"
        )
        new.skipped[rid] = why
        ctx.notes.append(f"{rid}: {why}; the speedup shown is the whole patch's")
    ctx.patches[variant] = new


_NOT_KEYS = frozenset({"true", "false", "none", "null", "yes", "no", "True", "False", "None"})


def named_by(patch: Patch, said: str) -> list[str]:
    """The rules of `patch` whose written lines name a word of the framework's message: a key or a
    value it wrote (`bf16` in "Your setup doesn't support bf16/gpu"). Only identifiers of three or
    more characters count, never true/false/none."""
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", said))
    out = []
    for rid, diff in patch.rule_diffs.items():
        added = " ".join(line[1:] for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++"))
        written = {t for t in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", added) if len(t) >= 3 and t not in _NOT_KEYS}
        if written & words:
            out.append(rid)
    return out


def _drop_refused(ctx: AuditContext, variant: str, exc: StartupRefused) -> bool:
    """The measuring device is a target too: when the training command refused to start on the
    patched file and its message names edits of the patch, those rules leave the measured patch
    (the finding keeps the advice for the target, with the framework's message) and the rest is
    measured, as for a rule whose package the command lacks. False when no edit is named."""
    patch = ctx.patches[variant]
    refused = named_by(patch, exc.said)
    if not refused or ctx.loaded is None:
        return False
    by_id = {r.id: r for r in ctx.applicable(_workload(ctx))}
    kept = [by_id[rid] for rid in patch.rule_ids if rid in by_id and rid not in refused]
    new = build_patch(ctx.loaded, kept, ctx.hw, variant, other_files=_edits_other_files(ctx))
    new.skipped = {**patch.skipped, **new.skipped}
    for rid in refused:
        why = f"left out of the measured patch: the training command refused it on {exc.device} ({exc.said}); the advice is for {ctx.hw.id}, measure it there"
        new.skipped[rid] = why
        ctx.notes.append(f"{rid}: {why}")
    if hasattr(ctx.runner, "say"):
        ctx.runner.say(f"{variant}: {exc.device} refused {', '.join(refused)} ({exc.said}); measuring the rest of the patch")
    if not new.edits and not new.env:
        raise BenchmarkFailed(f"{exc}; every edit of the patch was refused on {exc.device}, so nothing is left to measure") from None
    ctx.patches[variant] = new
    return True


def _interleaved(ctx: AuditContext, base_id: str, w: WorkloadConfig, run_id: str, variant: str) -> RunMetrics:
    """Baseline and patch re-measured together, A B B A ..., adding rounds until the speedup's
    interval is within TARGET_HALF_WIDTH or the time budget (goblin_budget_s) would run out.
    The baseline's samples are replaced by the interleaved ones, so both sides share the drift."""
    import time

    base_w = _variant(ctx, "baseline")
    a: list[float] = []
    b: list[float] = []
    start = time.monotonic()
    calls = 0
    # a runner that measures until the verdict is decided (the command runner) has the whole budget
    # for it (it keeps its own clock); the torch proxy aims for TARGET_HALF_WIDTH in half of it
    until_decided = getattr(ctx.runner, "thresholds", None) is not None
    share = 1.0 if until_decided else 0.5
    while True:
        t0 = time.monotonic()
        remaining = max(0.0, ctx.settings.budget_s * share - (time.monotonic() - start))
        ma, mb = ctx.runner.run_pair(
            base_w,
            w,
            ctx.hw,
            run_ids=(base_id, run_id),
            variants=("baseline", variant),
            rounds=3,
            steps=2,
            target_half_width=TARGET_HALF_WIDTH,
            max_seconds=remaining,
        )
        calls += 1
        a += ma.step_time_s
        b += mb.step_time_s
        sp = _paired(ctx, variant) or bootstrap_speedup(a, b, unit=ctx.runner.sample_unit)
        half = sp.half_width
        spent, last = time.monotonic() - start, time.monotonic() - t0
        done = settled(sp, fail_at=ctx.settings.fail_at, warn_at=ctx.settings.warn_at) if until_decided else half <= TARGET_HALF_WIDTH
        # a runner that measures until decided has had its share of the budget in one call
        if done or until_decided or calls >= MAX_PAIR_CALLS or spent + last > ctx.settings.budget_s:
            break
    aim = (
        f"until the interval lies on one side of goblin_warn_at and goblin_fail_at, within +-{MAX_HALF_WIDTH:.0%}"
        if until_decided
        else f"target {TARGET_HALF_WIDTH:.0%}"
    )
    note = f"{calls} interleaved call(s), {len(a)}+{len(b)} {ctx.runner.sample_unit}s; interval half-width {half:.1%} ({aim})"
    ctx.runs[base_id] = _with_samples(ma, a, note)
    return _with_samples(mb, b, note)


def _paired(ctx: AuditContext, variant: str) -> Speedup | None:
    """The runner's paired speedup of `variant` (each round's runs back to back), where it keeps one."""
    paired = getattr(ctx.runner, "paired", None)
    return paired(variant) if callable(paired) else None


def measured_speedup(ctx: AuditContext, before: RunMetrics, after: RunMetrics) -> Speedup:
    """The speedup of two measured runs: paired by round where the runner interleaved whole runs
    (the command runner), else the ratio of the two sides' medians."""
    return _paired(ctx, after.variant) or bootstrap_speedup(before.step_time_s, after.step_time_s, unit=ctx.runner.sample_unit)


def _with_samples(m: RunMetrics, samples: list[float], note: str) -> RunMetrics:
    median = sorted(samples)[len(samples) // 2]
    return m.model_copy(
        update={
            "step_time_s": samples,
            "tokens_per_s": m.tokens_per_step / median if m.tokens_per_s is not None else None,  # None: nothing counted tokens
            "samples_per_s": m.samples_per_s * (sorted(m.step_time_s)[len(m.step_time_s) // 2] / median) if m.samples_per_s is not None else None,
            "notes": [*m.notes, note],
        }
    )


# ---------------------------------------------------------------- compare_runs
COMPARE_DOC = (
    "Compare two benchmark runs (before, after) of the same audit and produce the final report with the speedup, its confidence interval and the verdict."
)


class CompareRunsInput(_Input):
    before: str = Field(description="run_id of the baseline benchmark")
    after: str = Field(description="run_id of the patched benchmark")


def compare_runs(ctx: AuditContext, args: CompareRunsInput) -> Report:
    for rid in (args.before, args.after):
        if rid not in ctx.runs:
            raise GoblinError(f"unknown run_id {rid!r}; benchmark runs so far: {', '.join(ctx.runs) or 'none'}")
    before, after = ctx.runs[args.before], ctx.runs[args.after]
    if before.variant != "baseline":
        raise GoblinError(f"before must be a baseline run; {args.before} benchmarked {before.variant}")
    if after.variant not in ctx.patches:
        raise GoblinError(f"after must benchmark a patch; {args.after} benchmarked {after.variant}")
    report = build_report(ctx, before, after, ctx.patches[after.variant])
    ctx.reports.append(report)
    return report


DEBUG_RULE = "debug.mode_left_on"  # kb/debug.yaml


def _assumed_lengths(ctx: AuditContext, w: WorkloadConfig, patch: Patch) -> str | None:
    """Why the verdict is not decided when an assumed sample length (no dataset read) projects the config
    as it is above the GPU's HBM: the memory-bound rules it left out or could not judge are named."""
    from ..rules import facts, unjudged_on_assumed_lengths

    left = {rid for rid, skip in patch.skipped.items() if NOT_ON_ASSUMED_LENGTHS in skip}
    left |= set(unjudged_on_assumed_lengths(w, ctx.hw, ctx.rules, facts(w, ctx.hw)))
    if not left:
        return None
    said = assumed_over(w, ctx.hw) or packed_unread(w) or ""
    why = said.split(f"; {NOT_ON_ASSUMED_LENGTHS}")[0] or "the config as it is projects above the GPU's memory at the assumed sample length"
    return (
        f"{why}, so goblin did not judge {', '.join(sorted(left))}, whose gain depends on what fits in memory; name the local "
        "dataset in the config (its sampled lengths replace seq_len), or measure with your training command (goblin_command)"
    )


def _sized_at_cutoff(ctx: AuditContext, w: WorkloadConfig, patch: Patch) -> str | None:
    """Why the verdict is not decided when it rests on a smaller micro-batch sized for samples at the config's own
    cutoff (patching._holds_when_shorter: it fits at any real length and is projected faster at a shorter one too),
    while no dataset lengths were read: with much shorter samples checkpointing off may fit at the current
    micro-batch, and the smaller one then costs more than it saves (review2: modal's SQL LoRA, 32 -> 2 on ~200-token
    rows). The edit is proposed; the verdict waits for the lengths. None where the rest of the patch reaches
    goblin_fail_at without it."""
    from ..costmodel import lengths_assumed, shorter_length

    if not lengths_assumed(w):
        return None
    down = {r.id for r in ctx.rules if r.transform.micro_batch_down}
    ids = sorted(rid for rid in patch.rule_ids if rid in down)
    if not ids:
        return None
    base = step(w, ctx.hw).step_s
    rest = w.model_copy(update={e.field: e.new for e in patch.edits if e.rule_id not in ids})
    if base / step(rest, ctx.hw).step_s >= ctx.settings.fail_at:
        return None
    own = _own_gains(w, patch, ctx.hw, base, frozenset(ids))
    gains = ", ".join(f"{rid} {gain:.2f}x on its own" for rid, gain in sorted(own.items()))
    return (
        f"the patch's gain rests on {gains}, a smaller micro-batch sized for every sample at the config's cutoff of {w.seq_len} "
        f"tokens (the longest a sample can be, so it fits at any real length) and projected faster with samples mostly {shorter_length(w)} tokens long "
        "too; no dataset lengths were read, and with much shorter samples checkpointing off may fit at the current "
        "micro-batch, where the smaller one costs more than it saves; name the local dataset in the config (its sampled "
        "lengths replace seq_len), or measure with your training command (goblin_command)"
    )


def _over_length_span(ctx: AuditContext, w: WorkloadConfig, patch: Patch) -> tuple[Verdict, str] | None:
    """The verdict and reason where `_sized_at_cutoff`'s doubt is only which checkpointing-off edit is best: at every
    length of lengthspan.length_span (the cutoff down to an eighth of it, samples all that long and mostly that long with
    the longest at the cutoff), the patch's other edits and the checkpointing-off edit the planner chooses there (the
    current micro-batch where it fits, else the smaller one) project goblin_warn_at or more (review10a #14: ReasonLite's
    32768-token cutoff, 1.33x on its own, inconclusive where the expert failed it). A "fail" needs the lowest bound over
    the span at goblin_fail_at. None where some length falls below goblin_warn_at (the doubt stands), on a guessed shape
    (the shape rules decide) and for online RL."""
    from ..costmodel import seq_len_is_cutoff
    from ..lengthspan import LENGTH_SPAN_SHARES, gains_over_lengths, length_span

    if online_rl(w) or shape_assumption(w.model) is not None or not seq_len_is_cutoff(w):
        return None
    down = {r.id for r in ctx.rules if r.transform.micro_batch_down}
    rest = {e.field: e.new for e in patch.edits if e.rule_id not in down}
    written = {e.field: e.new for e in patch.edits if e.rule_id in down}
    if {"gradient_checkpointing", "micro_batch_size", "gradient_accumulation"} & rest.keys() or "micro_batch_size" not in written:
        return None
    rows = gains_over_lengths(w, rest, ctx.hw, ctx.rules)
    tokens, tail, _, (point, low, high) = min(rows, key=lambda r: r[3][0])
    lowest = min(r[3][1] for r in rows)
    fail_at, warn_at = ctx.settings.fail_at, ctx.settings.warn_at
    verdict: Verdict
    if lowest >= fail_at:
        verdict, level = "fail", f"at least {lowest:.2f}x (lower bound) at every length of it, at or above goblin_fail_at={fail_at:.2f}"
    elif point >= warn_at:
        verdict = "warn"
        level = f"{point:.2f}x or more at every length of it (lower bound {lowest:.2f}x, below goblin_fail_at={fail_at:.2f}), at or above goblin_warn_at={warn_at:.2f}"
    else:
        return None
    span = length_span(w)
    at = f"samples mostly {tokens} tokens long, the longest at the cutoff" if tail else f"every sample {tokens} tokens long"
    current = [t for t, tl, off, _ in rows if not tl and off.get("gradient_checkpointing") is False and "micro_batch_size" not in off]
    per_gpu = w.micro_batch_size * w.gradient_accumulation
    also = f"; with samples {current[0]} tokens long or shorter, checkpointing off fits at the current micro-batch {w.micro_batch_size} too" if current else ""
    return verdict, (
        f"no dataset lengths were read, so goblin projected checkpointing off at sample lengths from the config's cutoff of {w.seq_len} "
        f"tokens down to 1/{round(1 / LENGTH_SPAN_SHARES[-1])} of it ({', '.join(str(t) for t in span)}; samples all that long, and mostly that long with the longest "
        f"at the cutoff), at the micro-batch the planner chooses at each (the current one where it fits, else a smaller one): the patch "
        f"recovers {level}; its least, {point:.2f}x [{low:.2f}-{high:.2f}], with {at}. The patch goblin writes is the cutoff's, micro-batch "
        f"{written['micro_batch_size']} x accumulation {written.get('gradient_accumulation', per_gpu // written['micro_batch_size'])} "
        f"(the same {per_gpu} samples per GPU per step), sized so it fits at any real length{also}"
    )


def _over_fitting_span(ctx: AuditContext, w: WorkloadConfig, patch: Patch) -> tuple[Verdict | None, str] | None:
    """Where `_assumed_lengths` leaves the memory rules unjudged because the config as it is projects above the GPU at its
    own cutoff (no dataset lengths read): checkpointing off projected over the lengths at which the config does fit
    (lengthspan.fitting_span). ("fail", reason) where its lowest bound over that span reaches goblin_fail_at (issue 23:
    an assumed length that says the baseline cannot fit never silences a finding; review12b #30); (None, clause) saying
    the span and where the gain falls, for the inconclusive reason, where it does not; None where the premise fails."""
    from ..costmodel import memory_gb
    from ..lengthspan import LENGTH_SPAN_SHARES, fitting_span

    if online_rl(w):
        return None
    down = {r.id for r in ctx.rules if r.transform.micro_batch_down}
    rest = {e.field: e.new for e in patch.edits if e.rule_id not in down}
    if {"gradient_checkpointing", "micro_batch_size", "gradient_accumulation"} & rest.keys():
        return None
    span = fitting_span(w, ctx.hw, ctx.rules, rest)
    if span is None:
        return None
    per_gpu = w.micro_batch_size * w.gradient_accumulation

    def how(off: dict[str, Any]) -> str:
        if not off:
            return "does not fit"
        mbs = off.get("micro_batch_size", w.micro_batch_size)
        return f"micro-batch {mbs} x accumulation {per_gpu // mbs}" if mbs != w.micro_batch_size else f"the current micro-batch {mbs}"

    ends = f"at {span.rows[0][0]} tokens {how(span.rows[0][1])}, at {span.rows[-1][0]} {how(span.rows[-1][1])}"
    over = (
        f"goblin projected activation checkpointing off over {span.top} tokens down to 1/{round(1 / LENGTH_SPAN_SHARES[-1])} of it "
        f"({', '.join(str(r[0]) for r in span.rows)}), at the micro-batch that fits at each with the same {per_gpu} samples per GPU per step ({ends}): "
    )
    fail_at = ctx.settings.fail_at
    if span.lowest >= fail_at:
        tokens, _, point, low, high = span.least
        return "fail", (
            f"no dataset lengths were read; at its cutoff of {w.seq_len} tokens the config as it is projects {memory_gb(w):.0f} GB per GPU of "
            f"{capacity_phrase(ctx.hw)}, so on this GPU it runs only where the longest sample of each micro-batch (the collator pads to it) "
            f"is at most about {span.top} tokens; {over}it recovers at least {span.lowest:.2f}x (lower bound) at every length of it, at or above "
            f"goblin_fail_at={fail_at:.2f}; its least, {point:.2f}x [{low:.2f}-{high:.2f}], at {tokens} tokens per sample. goblin does not "
            "write that edit on an assumed length, as the micro-batch depends on the data's longest sample: make it by hand "
            "(memory.disable_checkpointing_when_hbm_free, memory.checkpointing_off_at_smaller_micro_batch), or name the local dataset "
            "in the config and audit again"
        )
    tokens, off, point, low, high = min(span.rows, key=lambda r: r[3])
    there = f"{point:.2f}x [{low:.2f}-{high:.2f}]" if off else "no checkpointing-off edit fits"
    return None, (
        f"over the lengths at which the config as it is fits this GPU (at most about {span.top} tokens per sample), {over}{there} at "
        f"{tokens} tokens per sample, below goblin_fail_at={fail_at:.2f} at its lower bound, so the answer turns within that span"
    )


def _left_out_on_a_guess(ctx: AuditContext, patch: Patch) -> list[str]:
    """The rules skipped on a guessed shape whose edits the patch does not make anyway (another rule's edit of the same
    values): the ones really left out, which the inconclusive reason names."""
    by_id = {r.id: r for r in ctx.rules}
    new = patch.new_workload
    out = []
    for rid, skip in patch.skipped.items():
        if NOT_ON_A_GUESS not in skip:
            continue
        rule = by_id.get(rid)
        made = (
            rule is not None
            and bool(rule.transform.set)
            and not rule.transform.micro_batch_to
            and not rule.transform.micro_batch_down
            and all(getattr(new, f, None) == v for f, v in rule.transform.set.items())
        )
        if not made:
            out.append(rid)
    return sorted(out)


def _undecided_over_span(ctx: AuditContext, w: WorkloadConfig, patch: Patch, verdict: str) -> str | None:
    """On a guessed shape whose patch leaves nothing out: "" where the size comes from the name (shapespan.spanned) and
    the verdict holds over the whole span (the config as it is fits at its largest shape, no rule that changes the run
    applies at one end of it and not at the shape priced, and, for a PASS keeping checkpointing, turning it off is decided
    at every corner as at a known shape); else what is left undecided, as a clause for the reason (None: no span)."""
    if not spanned(w.model):
        return None
    cap = capacity_gb(ctx.hw)
    if (peak := span_memory_gb(w)) is not None and peak > cap:
        return f" (at the largest shape its name allows the config as it is projects {peak:.0f} GB per GPU of {capacity_phrase(ctx.hw)})"
    if undecided := undecided_over_span(w, ctx.hw, ctx.rules):
        return f" ({', '.join(undecided)} would apply at other shapes its name allows, not at the one priced)"
    if verdict == "pass" and patch.new_workload.gradient_checkpointing:
        for corner in corner_shapes(w.model):
            if undecided_checkpointing(w.model_copy(update={"model": corner}), ctx.hw, ctx.settings.fail_at) is not None:
                return " (at another shape its name allows, turning activation checkpointing off may pay)"
    return ""


def build_report(ctx: AuditContext, before: RunMetrics, after: RunMetrics, patch: Patch, *, notes: list[str] | None = None) -> Report:
    w = _workload(ctx)
    if before.evidence == "measured" and after.evidence == "measured":
        speedup = measured_speedup(ctx, before, after)
        evidence = "measured"
    else:
        point, low, high = sensitivity(w, patch.new_workload, ctx.hw)
        speedup = Speedup(point=point, low=low, high=high, method="projection: range over the model's efficiency assumptions (docs/projection.md)")
        evidence = "projected"
    if not patch.edits and not patch.env:
        speedup = Speedup(point=1.0, low=1.0, high=1.0, method="no edits: nothing to recover")
    verdict, reason = decide(speedup, fail_at=ctx.settings.fail_at, warn_at=ctx.settings.warn_at)
    launch = _hand_edit_gain(ctx, w, patch) if evidence == "projected" else None
    hand_speedup: Speedup | None = None
    if launch is not None:
        # an edit the user makes on the launch line or in the script's code is still recoverable: the verdict counts it
        # (goblin writes the config only)
        ids, combined, places = launch
        counted, said = decide(combined, fail_at=ctx.settings.fail_at, warn_at=ctx.settings.warn_at)
        made = f"with the edits of {', '.join(ids)} made {places}, {HAND_COUNTED}"
        if _SEVERITY[counted] > _SEVERITY[verdict]:
            verdict, reason = counted, f"{made}, {said}; the config's own patch recovers {speedup.point:.2f}x [{speedup.low:.2f}-{speedup.high:.2f}]"
            hand_speedup = combined
        elif combined.point > speedup.point:
            reason = f"{reason}; {made}, {combined.point:.2f}x [{combined.low:.2f}-{combined.high:.2f}]"
    idle = idle_gpus(w)
    if idle is not None and verdict != "fail":
        # the job, not only the step: GPUs the run makes visible and leaves idle for certain are waste no per-GPU speedup
        # shows (review14b #22: 7 of 8 visible GPUs idle under `python`; distributed.one_process_many_gpus says the launch)
        verdict = "fail"
        reason = (
            f"{idle[0]} of the {idle[1]} GPUs the run makes visible ({idle[2]}) stay idle: one process trains on one of them "
            f"(distributed.one_process_many_gpus), so the job runs at most 1/{idle[1]} of the node's rate; {reason}"
        )
    measured = evidence == "measured" and bool(patch.edits or patch.env)
    problems = list(ctx.runner.problems) if measured else []
    why = inconclusive(speedup, fail_at=ctx.settings.fail_at, measured=measured, problems=problems)
    straddles = straddled(speedup, fail_at=ctx.settings.fail_at, warn_at=ctx.settings.warn_at) if measured and not why else None
    rl = online_rl(w) if evidence == "projected" else None
    rollout = _rollout(ctx, w) if rl else None
    if not why and rollout is not None:
        why = rollout_reason(rollout)
    elif not why and rl and (specific := _unsplit(ctx, w)) is not None:
        why = (
            f"goblin projects no generation/training split for this online RL ({rl}) recipe: {specific}. The patch's speedup "
            "covers the training step only, so it cannot judge this config; measure it with your training command (goblin_command)"
        )
    elif not why and rl:
        why = (
            f"goblin does not model online RL ({rl}) for this trainer (it projects the generation/training split of TRL GRPO from "
            "trl 0.18, RLOO from trl 0.11 and online DPO from trl 0.23 only): the rollouts (generating completions, in vLLM or the trainer), "
            "the memory a colocated vLLM reserves and the reference and reward passes are not in the projection, which covers "
            "the training step only, so it cannot judge this config; measure it with your training command (goblin_command)"
        )
    trainer = unmodelled_trainer(w) if evidence == "projected" else None
    launched_custom = _launched_custom(ctx) if not why and trainer is not None and trainer.from_keys else None
    if launched_custom is not None:
        # review7b #25: the launch line does run a script, whose trainer is the repository's own preference class
        why = (
            f"the file has a preference trainer's keys ({trainer.what if trainer is not None else ''}) and {launched_custom}: a repository "
            "preference trainer goblin does not model, so it does not know the sequences each example runs or the reference model, "
            "and cannot judge this config's memory; measure it with your training command (goblin_command)"
        )
    if not why and trainer is not None and trainer.from_keys:
        why = (
            f"the file has a preference trainer's keys ({trainer.what}) but goblin could not tell which trainer runs it (the file names none,"
            " and no launch line in its repository runs a script goblin could read the trainer from): chosen and rejected"
            " sequences and a reference model change the memory and time, so it cannot judge this config; name the trainer"
            " in a comment of the file (`# DPOTrainer`) or measure it with your training command (goblin_command)"
        )
    if not why and trainer is not None and not trainer.from_keys and CUSTOM_PREFERENCE in (w.framework or ""):
        why = (
            f"the script trains with the repository's own {trainer.what.upper()} trainer class, which subclasses none of TRL's"
            " preference trainers, so goblin does not know its sequences per example or reference model; it cannot judge"
            " this config's memory; measure it with your training command (goblin_command)"
        )
    if not why and evidence == "projected" and (patch.edits or patch.env):
        why = _projection_contradicted(ctx, w, patch)
    bounded = _offload_bound_findings(ctx, w, evidence)
    guessed = _left_out_on_a_guess(ctx, patch)
    if not why and guessed and verdict != "fail":
        why = (
            f"{patch.skipped[guessed[0]].split(';')[0]}, so goblin left out {', '.join(guessed)}, whose gain depends on what fits in memory"
            + (" (not fitting at the largest shape its name allows)" if all("largest shape of the span" in patch.skipped[g] for g in guessed) else "")
            + "; "
            "it cannot judge this config until it knows the model (a model id in its table, or a config.json it can read: "
            "a local model folder inside the repository, or the Hub with goblin_hub)"
        )
    if not why and (verdict != "fail" or ctx.training_step) and trainer is not None and not trainer.from_keys:
        judged = (
            "checkpointing and offload were judged on its training step only, at an upper bound of its memory (chosen and rejected "
            "sequences and a reference copy: the findings say so), and the micro-batch not at all; the patch's speedup covers that "
            "step only, so"
            if ctx.training_step
            else "checkpointing, the micro-batch and offload were not judged;"
        )
        why = (
            f"goblin does not model this trainer's memory ({trainer.what}; {_unread_of(trainer.what)}), so {judged} it cannot clear this config ("
            + ("" if "repository's own" in trainer.what or "distillation" in trainer.what else "name the trainer class, or ")
            + "measure with your training command: goblin_command)"
        )
    span_decided: str | None = None
    if not why and evidence == "projected" and verdict != "fail" and shape_assumption(w.model) is not None:
        # Nothing left out, yet nothing judged: with the size or the shape unknown, every memory-dependent
        # setting (checkpointing, micro-batch, offload, quantization) was priced on a guess (review1: a DPO
        # config PASSed where its SFT sibling, with one more rule in play, was inconclusive; review2 class 6:
        # a CodeLlama-7b LoRA PASSed on a guessed shape where its siblings were inconclusive). One rule for
        # one architecture: a guessed shape is inconclusive unless the patch fails the config anyway, or, for a size
        # read from the name, every rule is judged alike over the span of shapes that size allows (issue 23, namesize22).
        over_span = _undecided_over_span(ctx, w, patch, verdict)
        if over_span == "":
            span_decided = (
                f"model {w.model.name}: not in the shape table; its shape is a span from its name ({full_span_phrase(w.model)}): "
                "every rule goblin applies holds or fails alike at both ends of it, and the patch's memory-raising edits fit at its "
                "largest shape, so the guess does not decide the verdict; the memory figures are the generic shape's"
            )
        else:
            why = (
                f"{shape_assumption(w.model)}: what fits in memory, and so whether checkpointing, the micro-batch, offload or "
                f"quantization leave time on the table, is a guess{over_span or ''}; it cannot judge this config until it knows the model (a model id "
                "in its table, or a config.json it can read: a local model folder inside the repository, or the Hub with goblin_hub)"
            )
    if why and bounded and shape_assumption(w.model) is not None and (found_bound := offload_bound(w, ctx.hw)) is not None:
        # what holds for every size up to a bound is listed, not dropped with the rest (review7b #26)
        why += f"; without its CPU offload it holds any model up to {found_bound[0]:g}B parameters ({bounded[0].rule_id}, listed)"
    if not why and evidence == "projected" and verdict != "fail" and w.world_size > 1 and (unread := strategy_unread(w)) is not None:
        # review3 #3 magpie DPO: the README launches with an accelerate ZeRO-3 file the repository does not hold;
        # on the DDP goblin assumed nothing fit, under ZeRO-3 checkpointing off does: the verdict rests on the guess
        fix = (
            "goblin reads a recipe's sharding from its training.shard_model, fully_shard, FSDP( or DistributedDataParallel( call"
            if "repository's own recipe" in unread
            else "put the accelerate/DeepSpeed file the launch names in the repository"
        )
        why = (
            f"{unread}; goblin assumed DDP, and what fits in memory (so whether checkpointing, the micro-batch or offload "
            f"leave time on the table) and what the collectives cost depend on it, so it cannot judge this config; {fix}, "
            "or measure with your training command (goblin_command)"
        )
    if not why and evidence == "projected" and (ambiguous := topology_ambiguous(w)) is not None:
        # review11b #36 gritlm: run.py is run by seven launch scripts on 1 to 32 nodes of 8 GPUs, each its own run; the
        # verdict priced on the first one found would be presented as the entry point's
        why = (
            f"{ambiguous}; what fits in memory per GPU and what the collectives cost depend on which run this is, so goblin "
            "cannot judge this file on the one it read; state the GPUs (goblin_world_size) or measure with your "
            "training command (goblin_command)"
        )
    if not why and evidence == "projected" and verdict != "fail" and (parallel := parallelism_unread(w)) is not None:
        # review12a #10 emattia tune-sft: `tensor_parallel_dim: 8` priced as data parallel over 8 GPUs printed PASS
        why = (
            f"{parallel}: the samples per optimizer step, what fits in memory and what the collectives cost all depend on the degree, "
            "so goblin cannot judge this config; measure with your training command (goblin_command)"
        )
    if not why and evidence == "projected" and verdict == "pass":
        why = _tensor_parallel_unjudged(ctx, w)
    span_fitted = False
    if not why and verdict != "fail":
        why = _assumed_lengths(ctx, w, patch)
        fitted = _over_fitting_span(ctx, w, patch) if why and evidence == "projected" and launch is None else None
        if fitted is not None and fitted[0] == "fail":
            # issue 23: the assumed cutoff that does not fit decides nothing where the edit pays at every length the config runs at
            why, span_fitted = None, True
            verdict, reason = "fail", fitted[1]
        elif fitted is not None and why:
            why = f"{why}; {fitted[1]}"
    if not why and evidence == "projected" and not span_fitted:
        # a baseline projected above HBM is never cleared, whatever path left the memory rules silent, and no speedup is
        # claimed against it: a FAIL too is inconclusive (review10a #16: 3.5x against 575 GB on a 192 GB GPU); a blocker still fails
        why = over_hbm(w, ctx.hw)
    if not why and evidence == "projected":
        why = stated_contradiction(w)  # known lengths, and still above the GPU the run ran on (issue 23)
    lowered = sorted(rid for rid, skip in patch.skipped.items() if NOT_DOWN_ON_ASSUMED_LENGTHS in skip)
    if not why and lowered and verdict != "fail" and evidence == "projected":
        why = (
            f"goblin left out {', '.join(lowered)}: it would turn checkpointing off at a smaller micro-batch sized for samples assumed "
            f"{assumed_length(w)} tokens long, and at the data's real lengths it may fit at the current one; name the local dataset in the "
            "config (its sampled lengths replace seq_len), or measure with your training command (goblin_command)"
        )
    if not why and evidence == "projected":
        why = _sized_at_cutoff(ctx, w, patch)
        over = _over_length_span(ctx, w, patch) if why and launch is None else None
        if over is not None and _SEVERITY[over[0]] <= _SEVERITY[verdict]:
            # the lengths decide which checkpointing-off edit is best, not whether the patch pays (review10a #14); never
            # more severe than the patch as written projects
            why = None
            verdict, reason = over
    unwritten = sorted(rid for rid, skip in patch.skipped.items() if skip.endswith(NOT_READ_BACK))
    if not why and unwritten and verdict != "fail":
        why = (
            f"goblin could not write the edit of {', '.join(unwritten)} into this file's layout (it did not read back as "
            "intended), so the patch leaves out waste it found; apply that change by hand and audit again"
        )
    if not why and verdict != "fail" and launch is None:
        why = _left_to_launcher(ctx, w, patch)
    if not why and evidence == "projected":
        why = _unread_elsewhere(ctx, w, patch, verdict)
    if not why and verdict == "pass" and evidence == "projected" and patch.new_workload.gradient_checkpointing:
        # a PASS is not decided on an assumed length: checkpointing off tried at it and at a shorter one
        why = undecided_checkpointing(w, ctx.hw, ctx.settings.fail_at)
    if not why and verdict != "fail" and w.debug_modes and DEBUG_RULE not in w.ignored_rules:
        # review8b #36: a training script left `torch.autograd.set_detect_anomaly(True)` on; torch says it slows
        # execution, by an amount goblin does not price, so nothing it projects clears the run
        why = (
            f"{'; '.join(m.split(', which')[0] for m in w.debug_modes)}: a debug mode that slows every step by an amount goblin does not price ({DEBUG_RULE}), "
            "so it cannot clear this config; remove the call or guard it with a debug flag that defaults off, and audit again"
        )
    if not why and verdict == "pass":
        priced, unpriced = _unpatched_footguns(ctx, w)
        priced = sorted([*priced, *_unpatched_guidance(ctx, w)], key=lambda p: -p[1])
        if priced:
            rid, gain = priced[0]
            verdict, reason = (
                "warn",
                f"the patch recovers {speedup.point:.2f}x, but {rid}, which goblin reports as guidance and does not patch, projects "
                f"{gain:.2f}x on its own, at or above goblin_warn_at={ctx.settings.warn_at:.2f}: make that change by hand (the finding says how) and audit again",
            )
        elif unpriced:
            why = (
                f"{', '.join(unpriced)} is not patched, and its gain rests on the lengths of the data, which goblin did not read "
                f"({_lengths_note(w)}): with samples much shorter than seq_len {w.seq_len} it can reach goblin_warn_at={ctx.settings.warn_at:.2f}, "
                "so it cannot clear this config; name the local dataset in the config (its sampled lengths price the padding), or "
                "measure with that change made (goblin_command)"
            )
        elif w.sequence_classification and (w.micro_batch_size > 1 or w.pad_to_max) and not (w.token_quantiles and w.mean_tokens):
            # review13b #37: a classifier padded to max_length; packing does not apply (formats/seqcls.py), the padding does
            from ..formats.hf_trainer import PLAIN_PACKING_AT

            why = (
                f"the model is a sequence classifier (packing does not apply) whose micro-batches of {w.micro_batch_size} are padded, and goblin "
                f"did not read the data's lengths ({_lengths_note(w)}): the pad tokens' share of seq_len {w.seq_len} is unknown, so it cannot "
                'clear this config; with a tokenizer call without padding="max_length" and the tokenizer given to the Trainer, its default '
                f"collator, DataCollatorWithPadding, pads each batch to its longest sample ({PLAIN_PACKING_AT}); name the local dataset in the config, or measure (goblin_command)"
            )
    if not why and verdict == "pass" and evidence == "projected":
        why = _unsure_small_rule(ctx, w, patch)
    if not why and verdict == "pass" and evidence == "projected":
        why = _unjudged_premises(ctx, w)
    if why:
        verdict, reason = "warn", f"inconclusive ({speedup.point:.2f}x [{speedup.low:.2f}-{speedup.high:.2f}] {evidence}, not decided): {why}"
    elif straddles:
        reason = f"{reason}; not decided between levels, {straddles}"
    all_notes = list(ctx.notes) + list(_workload(ctx).notes) + list(notes or [])
    if rollout is not None and (serving := server_topology(rollout, w.world_size)) is not None:
        # review10b #21: the vLLM server the repository starts holds GPUs of its own beside the training processes
        topo = "topology from the repository: "
        all_notes = [f"{n}; the job uses {serving}" if n.startswith(topo) else n for n in all_notes]
        if not any(n.startswith(topo) for n in all_notes):
            all_notes.append(f"the job uses {serving}")
    elif rollout is None and rl and (serving := _unsplit_server(ctx, w)) is not None:
        # review12b #25: a release goblin projects no split for still runs its vLLM server on GPUs of its own
        topo = "topology from the repository: "
        all_notes = [f"{n}; the job uses {serving}" if n.startswith(topo) else n for n in all_notes]
        if not any(n.startswith(topo) for n in all_notes):
            all_notes.append(f"the job uses {serving}")
    if evidence == "projected" and (span_text := span_note(w, patch.new_workload, ctx.hw)) is not None:
        all_notes.append(span_text)
    if span_decided is not None:
        all_notes.append(span_decided)
    if evidence == "projected" and (bound := stated_bound(w)) is not None:
        all_notes.append(bound)
    if floor_notes := _eval_floor_notes(ctx, w):  # the floor replaces the reader's "its time is not projected"
        all_notes = [n for n in all_notes if not (n.startswith("evaluation every ") and "so its time is not projected" in n)] + floor_notes
    stops = sorted(_blockers(ctx), key=_by_line)
    if any(f.blocker for f in stops):  # a run that does not start fails whatever the speedup
        if why:
            all_notes.append(f"the measurement was inconclusive too: {why}")
        verdict, reason, why = "fail", blocked_reason([f for f in stops if f.blocker], ctx.hw.name), None
    if (blocking := _cuda_launch_blocking_note(ctx, w)) is not None:
        all_notes.append(blocking)
    env_only = [rid for rid in patch.rule_ids if rid not in {e.rule_id for e in patch.edits}]
    if evidence == "projected" and env_only:
        all_notes.append(f"not modelled by the projection (measure on a GPU): {', '.join(env_only)}")
    all_notes.extend(before.notes + [n for n in after.notes if n not in before.notes])
    shown = [f for f in stops if f.blocker] + sorted(
        [
            *(f for f in stops if not f.blocker),
            *findings(ctx, patch),
            *_rollout_findings(ctx, rollout),
            *_generate_findings(ctx, rollout),
            *_chunk_findings(ctx, w, rollout),
            *_offload_findings(ctx, w, rl, rollout),
            *_eval_findings(ctx, w, rollout),
            *bounded,
        ],
        key=_by_line,
    )
    from ..rules import multi_node_note, naive_split_note

    if (multi := multi_node_note(w, ctx.hw, {f.rule_id for f in shown})) is not None:
        all_notes.append(multi)
    if (split := naive_split_note(w, ctx.hw)) is not None:
        all_notes.append(split)
    if ctx.loaded is not None:
        # a "needs a ROCm build" finding left out because the repository installs that build says where (review11b class 7)
        # (a footgun's only: an edit that needs the build, attention.flash_over_eager, is shown where it is installed, and said so)
        asked = {r.id: r.rocm_build for r in ctx.applicable(w) if r.rocm_build is not None and r.footgun and r.id not in w.ignored_rules}
        needs = {r.id: r.rocm_build for r in ctx.applicable(w) if r.rocm_build is not None and not r.footgun and r.id not in w.ignored_rules}
        all_notes.extend(shipped_notes(ctx.loaded, ctx.hw, asked, needs))
    if ctx.loaded is not None:
        # every message names the framework at the release the repository runs (frameworks.history.in_run_terms)
        from ..frameworks.history import run_readings, said_at_run

        got = run_readings(w.framework, str(ctx.path), ctx.loaded.text)
        shown = [f.model_copy(update={"message": said_at_run(f.message, got)}) for f in shown]
        all_notes = [said_at_run(n, got) for n in all_notes]
        reason = said_at_run(reason, got)
        why = said_at_run(why, got) if why else why
        patch = patch.model_copy(update={"skipped": {rid: said_at_run(t, got) for rid, t in patch.skipped.items()}})
    return Report(
        path=str(ctx.path),
        format=ctx.loaded.adapter.name if ctx.loaded else "unknown",
        target=ctx.hw.id,
        backend=ctx.backend,
        verdict=verdict,
        reason=reason,
        inconclusive=why,
        straddles=straddles,
        evidence=evidence,  # type: ignore[arg-type]
        measured_on=device_label(before.device) if evidence == "measured" else None,
        speedup=speedup,
        hand_speedup=hand_speedup,
        before=before,
        after=after,
        patch=patch,
        findings=shown,
        footer=footer(ctx, before, after),
        notes=all_notes,
        rollout=rollout,
    )


def _rollout(ctx: AuditContext, w: WorkloadConfig) -> RolloutSplit | None:
    """The projected generation / reference / training split of an online RL recipe goblin models (rollout.py)."""
    from ..blockers import launch_config_flags, launch_lines, placed_key
    from ..formats.launchers import topology_launcher_line
    from ..rollout import AXOLOTL_GRPO_AT, AXOLOTL_TRL, AXOLOTL_TRL_CITE, SERVE, axolotl_grpo, axolotl_server, is_axolotl_grpo

    loaded = ctx.loaded
    if loaded is None:
        return None
    # the line that starts the vLLM server: the config's own comment lines, else the launcher its topology came from
    own = next((f"the config's line {n}: {text.strip()}" for n, text in launch_lines(loaded.text) if re.search(SERVE, text)), None)
    server = own or topology_launcher_line(loaded.workload, SERVE)
    if (w.framework or "").startswith(f"axolotl {AXOLOTL_GRPO_AT}") and is_axolotl_grpo(w):
        # Axolotl builds GRPOConfig from its `trl:` and `vllm:` blocks on the trl it requires (rollout.axolotl_grpo)
        lookup, preset, why = axolotl_grpo(lambda key: placed_key(loaded, key))
        if why is not None:
            return None
        rl_name = "gdpo" if "(rl gdpo)" in (w.framework or "") else "grpo"
        return rollout_split(
            w,
            ctx.hw,
            lookup,
            AXOLOTL_TRL,
            AXOLOTL_TRL_CITE,
            server_line=server,
            cls="GRPOConfig",
            trainer=f"axolotl {AXOLOTL_GRPO_AT} rl: {rl_name} on trl {AXOLOTL_TRL} (GRPOConfig)",
            preset=preset,
            server=axolotl_server(lambda key: placed_key(loaded, key)),  # used in server mode only
        )
    if _own_trainer(ctx) is not None:
        return None
    read = _trl_reading(ctx, w)
    if read is None:
        return None
    passed = launch_config_flags(loaded)  # `--key value` beside `--config x.yaml`: TrlParser parses them over the file

    def launched(key: str) -> tuple[bool, Any, int | str | None]:
        return (True, *passed[key]) if key in passed else placed_key(loaded, key)

    from ..rollout import config_class
    from ..rollout_onpolicy import modelled as onpolicy_rloo
    from ..rollout_onpolicy import split as onpolicy_split

    if onpolicy_rloo(config_class(w), read.version):  # RLOO before 0.22: the OnPolicyConfig trainer (review12b #27)
        return onpolicy_split(w, ctx.hw, launched, read.version, read.source)

    load = _unsloth_load(ctx)
    if load is not None:
        # Unsloth's GRPOTrainer generates with the vLLM engine its fast_inference load built (rollout.unsloth_grpo)
        from ..rollout import config_class, unsloth_grpo

        cls = config_class(w)
        got = unsloth_grpo(load, cls, launched) if load.vllm else None
        if not isinstance(got, tuple):
            return None
        lookup, preset, unmodelled, gen = got
        return rollout_split(
            w,
            ctx.hw,
            lookup,
            read.version,
            read.source,
            server_line=server,
            trainer=f"unsloth {load.loader} fast_inference on trl {read.version} ({cls})",
            preset=preset,
            unmodelled=unmodelled,
            generation_unmodelled=gen,
        )
    return rollout_split(w, ctx.hw, launched, read.version, read.source, server_line=server)


def _unsplit_server(ctx: AuditContext, w: WorkloadConfig) -> str | None:
    """rollout.unsplit_server_topology of a recipe goblin projects no split for: use_vllm as the file or its launch line
    sets it, the server line as `_rollout` finds it, the TRL release it runs on."""
    from ..blockers import launch_config_flags, launch_lines, placed_key
    from ..formats.launchers import topology_launcher_line
    from ..rollout import SERVE, config_class, unsplit_server_topology

    loaded = ctx.loaded
    if loaded is None or not (w.framework or "").startswith("trl "):
        return None
    read = _trl_reading(ctx, w)
    if read is None:
        return None
    passed = launch_config_flags(loaded)
    found, value, _line = (True, *passed["use_vllm"]) if "use_vllm" in passed else placed_key(loaded, "use_vllm")
    on = found and (value is True or str(value).strip().lower() in ("true", "1", "yes"))
    own = next((f"the config's line {n}: {text.strip()}" for n, text in launch_lines(loaded.text) if re.search(SERVE, text)), None)
    server = own or topology_launcher_line(loaded.workload, SERVE)
    return unsplit_server_topology(config_class(w), read.version, w.world_size, on, server)


def _unsloth_load(ctx: AuditContext) -> UnslothLoad | None:
    """A Python script's Unsloth load whose fast_inference is on or unread, where Unsloth's patched TRL trainers are the
    script's (it imports unsloth before trl); None otherwise."""
    loaded = ctx.loaded
    load = getattr(loaded.data, "unsloth", None) if loaded is not None else None
    if not isinstance(load, UnslothLoad) or not load.patches_trl or load.vllm is False:
        return None
    return load


def _trl_reading(ctx: AuditContext, w: WorkloadConfig) -> Reading | None:
    """The TRL release an online RL recipe runs on (history.reading: its pin; else, unpinned or pinned to a commit
    goblin cannot place, the newest release with the file's keys; else the newest goblin read, said assumed). Its
    defaults and whether `rollout.split` models it follow that release."""
    from ..frameworks.history import reading

    loaded = ctx.loaded
    if loaded is None:
        return None
    return reading(w.framework, w.path, loaded.text)


def _unsplit(ctx: AuditContext, w: WorkloadConfig) -> str | None:
    """Why this online RL recipe gets no split, in its own keys (rollout.unsplit_reason), or None."""
    from ..blockers import placed_key, run_placed
    from ..rollout import unsplit_reason

    loaded = ctx.loaded
    if loaded is None:
        return None
    if (own := _own_trainer(ctx)) is not None:
        return own
    if (load := _unsloth_load(ctx)) is not None:
        from ..rollout import config_class, unsloth_grpo, unsloth_unread

        if load.vllm is None:
            return unsloth_unread(load)
        got = unsloth_grpo(load, config_class(w), lambda key: placed_key(loaded, key))
        if isinstance(got, str):
            return got
    read = _trl_reading(ctx, w) if (w.framework or "").startswith("trl ") else None
    version = f"{read.version} ({read.source})" if read is not None else None
    return unsplit_reason(w, lambda key: run_placed(loaded, key), version, ctx.hw)


def _own_trainer(ctx: AuditContext) -> str | None:
    """rollout.own_trainer of a Python training script: its trainer is a class of the repository's own, not TRL's."""
    from ..rollout import own_trainer
    from ..safepath import text_or_empty, tree_of

    loaded = ctx.loaded
    if loaded is None or not str(ctx.path).endswith(".py"):
        return None

    def sources() -> list[tuple[str, str]]:
        roots = tree_of(Path(ctx.path))
        if not roots:
            return []
        root = roots[0]
        out: list[tuple[str, str]] = []
        for f in sorted(root.rglob("*.py"))[:2000]:
            if ".git" in f.parts or not f.is_file():
                continue
            if text := text_or_empty(f, roots=[root], limit=512_000):
                out.append((str(f.relative_to(root)), text))
        return out

    return own_trainer(loaded.text, str(ctx.path), sources)


def _rollout_findings(ctx: AuditContext, rollout: RolloutSplit | None) -> list[Finding]:
    """The colocated vLLM memory finding, with the config's numbers, where its reservation does not fit."""
    from ..rollout import FINDING_CITATION, FINDING_ID, FINDING_TITLE, memory_message

    message = memory_message(rollout) if rollout is not None else None
    if message is None or ctx.loaded is None or FINDING_ID in _workload(ctx).ignored_rules:
        return []
    # Axolotl keeps the reservation in its `vllm:` block (rollout.AXOLOTL_GRPO_KEYS)
    key = "vllm.gpu_memory_utilization" if rollout is not None and rollout.trainer.startswith("axolotl ") else "vllm_gpu_memory_utilization"
    message = message.replace("vllm_gpu_memory_utilization", key)
    return [_keyed_footgun(ctx.loaded, key, FINDING_ID, FINDING_TITLE, "memory", message, FINDING_CITATION)]


def _generate_findings(ctx: AuditContext, rollout: RolloutSplit | None) -> list[Finding]:
    """An online RL run that generates with transformers' generate (rollout.generate_message): vLLM is the first lever,
    unpatched (a ROCm build of vLLM is a requirement goblin cannot check) and unquantified (generate is not projected).
    Not for an Unsloth script (its own patched trainer: fast_inference is its switch)."""
    from ..rollout import GENERATE_CITATION, GENERATE_ID, GENERATE_TITLE, generate_message

    loaded = ctx.loaded
    if rollout is None or loaded is None or GENERATE_ID in _workload(ctx).ignored_rules:
        return []
    if isinstance(getattr(loaded.data, "unsloth", None), UnslothLoad):
        return []
    axolotl = rollout.trainer.startswith("axolotl ")
    message = generate_message(rollout, flags=str(ctx.path).endswith(".py"), prefix="trl." if axolotl else "")
    if message is None:
        return []
    key = "trl.use_vllm" if axolotl else "use_vllm"
    return [_keyed_footgun(loaded, key, GENERATE_ID, GENERATE_TITLE, "efficiency", message, GENERATE_CITATION)]


def _chunk_findings(ctx: AuditContext, w: WorkloadConfig, rollout: RolloutSplit | None) -> list[Finding]:
    """A pre-0.22 TRL RLOO run that generates its rollouts in small chunks (rollout_onpolicy.chunk_message): unpatched, as
    its generation is a floor, not a projected time."""
    from ..rollout_onpolicy import CHUNK_CITATION, CHUNK_ID, CHUNK_TITLE, chunk_message

    loaded = ctx.loaded
    if rollout is None or loaded is None or CHUNK_ID in w.ignored_rules:
        return []
    message = chunk_message(w, ctx.hw, rollout, flags=str(ctx.path).endswith(".py"))
    if message is None:
        return []
    return [_keyed_footgun(loaded, "local_rollout_forward_batch_size", CHUNK_ID, CHUNK_TITLE, "efficiency", message, CHUNK_CITATION)]


def _keyed_footgun(loaded: LoadedConfig, key: str, rule_id: str, title: str, category: str, message: str, citation: str) -> Finding:
    """A footgun built here rather than by a KB rule, anchored at `key` as the config (or the launch line that passes
    it: its line is that file's) writes it, unlined where neither does."""
    found, _value, line = raw_key(loaded, key)
    return Finding(
        rule_id=rule_id,
        title=title,
        category=category,
        line=line if found else None,
        file=key_file(loaded, key, line) if found else None,
        key=key,
        message=message,
        citation=citation,
        footgun=True,
    )


def _offload_findings(ctx: AuditContext, w: WorkloadConfig, rl: str | None, rollout: RolloutSplit | None) -> list[Finding]:
    """An online RL run's CPU offload where the training state it moves fits in HBM (rollout.offload_message): memory
    rules are not judged for online RL (rules.facts), so this is the one place the offload is reported."""
    from ..blockers import run_placed
    from ..rollout import OFFLOAD_CITATION, OFFLOAD_ID, OFFLOAD_TITLE, offload_message

    loaded = ctx.loaded
    if rl is None or loaded is None or OFFLOAD_ID in w.ignored_rules or not w.cpu_offload:
        return []
    read = _trl_reading(ctx, w) if (w.framework or "").startswith("trl ") and rollout is None else None
    version = rollout.values.get("trl", "").split(" ")[1] if rollout is not None and rollout.values.get("trl", "").startswith("trl ") else None
    from ..formats.base import OFFLOAD_AT

    where = "; ".join(f"`{at.key}`, {source_place(at, w)}" for name, at in w.sources.items() if name.startswith(f"{OFFLOAD_AT}.") and at.key)
    message = offload_message(w, ctx.hw, lambda key: run_placed(loaded, key), version or (read.version if read is not None else None), rollout, where)
    if message is None:
        return []
    src = w.sources.get("cpu_offload")
    line = src.line if src is not None and src.file == w.path else None
    return [
        Finding(
            rule_id=OFFLOAD_ID,
            title=OFFLOAD_TITLE,
            category="memory",
            line=line,
            key=src.key if src is not None and src.key else "cpu_offload",
            message=message,
            citation=OFFLOAD_CITATION,
            footgun=True,
        )
    ]


def _launched_custom(ctx: AuditContext) -> str | None:
    """ "scripts/x.py, run on this file by run.sh line 3, trains with X (file:line), the repository's own class ...": the
    script a launch line runs on this recipe builds a repository preference trainer that subclasses none of TRL's
    (formats.launched.custom_preference); None otherwise."""
    from ..formats.launched import launched_script

    if ctx.loaded is None or str(ctx.path).endswith(".py"):
        return None
    got = launched_script(ctx.path)
    if got is None or got.custom is None:
        return None
    return f"{got.script}, run on this file by {got.where}, trains with {got.custom}"


def _eval_findings(ctx: AuditContext, w: WorkloadConfig, rollout: RolloutSplit | None) -> list[Finding]:
    """GRPO evaluation every few steps over an eval set of unstated size (rollout.eval_message; review7b #36): the job
    terms price evaluation only with the eval set's size (costmodel.eval_seconds), so its floor is reported here."""
    from ..rollout import EVAL_CITATION, EVAL_ID, EVAL_TITLE, eval_message

    message = eval_message(w, ctx.hw, rollout) if rollout is not None and EVAL_ID not in w.ignored_rules else None
    if message is None:
        return []
    return [_listed_footgun(w, "eval_interval", "eval_steps", EVAL_ID, EVAL_TITLE, "job", message, EVAL_CITATION)]


def _listed_footgun(w: WorkloadConfig, field: str, key: str, rule_id: str, title: str, category: str, message: str, citation: str) -> Finding:
    """A footgun built here rather than by a KB rule, anchored at the line of `field` when this file sets it (else at
    `key`, unlined)."""
    src = w.sources.get(field)
    return Finding(
        rule_id=rule_id,
        title=title,
        category=category,
        line=src.line if src is not None and src.file == w.path else None,
        key=src.key if src is not None and src.key else key,
        message=message,
        citation=citation,
        footgun=True,
    )


def _eval_floor_notes(ctx: AuditContext, w: WorkloadConfig) -> list[str]:
    """Evaluation every few steps over an eval set of unstated size, outside online RL, where its floor (one eval batch
    per GPU per evaluation: costmodel.eval_floor) stays under job.frequent_eval_floor's bar: a note stating the floor, so
    the term is priced at the least it costs rather than left out unsaid; [] elsewhere (at or over the bar the rule says it)."""
    from ..costmodel import EVAL_FLOOR_SHARE, eval_floor
    from ..rules import eval_floor_phrase, online_rl

    if not w.eval_runs or w.eval_interval is None or w.eval_examples is not None or online_rl(w) is not None or w.model.params_b is None:
        return []
    if unmodelled_trainer(w) is not None:  # its step is not priced with pairs and a reference: the share would be overstated
        return []
    found = eval_floor(w, ctx.hw)
    if found is None or found[1] >= EVAL_FLOOR_SHARE:
        return []
    return [f"evaluation: {eval_floor_phrase(w, ctx.hw, with_job=False)}; under goblin's {EVAL_FLOOR_SHARE:.0%} bar, so no finding"]


def _offload_bound_findings(ctx: AuditContext, w: WorkloadConfig, evidence: str) -> list[Finding]:
    """CPU offload where the model's size is unknown but every model up to a bound fits without it (rules.offload_bound;
    review7b #26): memory rules are silent without a size (rules.facts), so this finding states the bound in the config's
    own numbers and leaves the verdict to the size goblin does not know."""
    from ..costmodel import length_phrase, memory_gb
    from ..formats.base import OFFLOAD_AT
    from ..formats.deepspeed import non_offload_accelerate_sibling
    from ..formats.semantics import world_size_note
    from ..hardware import capacity_gb, capacity_phrase
    from ..rules import OFFLOAD_BOUND_CITATION, OFFLOAD_BOUND_ID, OFFLOAD_BOUND_TITLE, offload_headroom_gb

    if evidence != "projected" or OFFLOAD_BOUND_ID in w.ignored_rules or (found_bound := offload_bound(w, ctx.hw)) is None:
        return []
    bound, priced = found_bound
    at = [s for name, s in w.sources.items() if name.startswith(f"{OFFLOAD_AT}.") and s.key]
    where = "; ".join(f"`{s.key}`, {source_place(s, w)}" for s in at)
    parts: dict[str, float] = {}
    total = memory_gb(priced, parts)
    method_src = w.sources.get("method")
    as_full = (
        f"; priced as a full fine-tune: the config's keys do not set the method (goblin read {w.method})"
        if priced.method != w.method and (method_src is None or not method_src.explicit)
        else ""
    )
    what = "parameters and optimizer state" if w.offload_params else "optimizer state"
    sharding = (
        f"DeepSpeed ZeRO-{w.zero_stage}" if w.strategy == "deepspeed" and w.zero_stage is not None else "DeepSpeed" if w.strategy == "deepspeed" else "FSDP"
    )
    files = {s.file for s in at if s.file}
    src = w.sources.get("cpu_offload")
    sibling = None
    if len(files) == 1 and (f := next(iter(files))).endswith((".yaml", ".yml")):
        found = non_offload_accelerate_sibling(Path(ctx.path), Path(f))
        # the launch's own spelling of the file ("accelerate config recipes/x/zero3_offload.yaml: offload", formats/semantics.py)
        written = (
            src.key.removeprefix("accelerate config ").rsplit(":", 1)[0] if src is not None and src.key and src.key.startswith("accelerate config ") else None
        )
        if found is not None:
            sibling = written[: len(written) - len(Path(written).name)] + found.name if written and Path(written).name == Path(f).name else found.name
    how = (
        f"point the launch at {sibling}, which the repository ships as the same file without the offload"
        if sibling
        else "set offload_optimizer_device / offload_param_device `none` in the DeepSpeed or accelerate file, or FSDP offload_params false"
    )
    hbm = capacity_gb(ctx.hw)
    message = (
        f"the run offloads {what} to the host{f' ({where})' if where else ''}. goblin does not know the size of model {w.model.name}, "
        f"but without the offload this config holds any model up to {bound:g}B parameters in memory: at {bound:g}B "
        f"(a generic Llama-like shape) it projects weights {parts['weights']:.0f} + fp32 master copy {parts['masters']:.0f} + gradients "
        f"{parts['grads']:.0f} + optimizer state {parts['optimizer']:.0f} + activations {parts['activations']:.0f} + logits {parts['logits']:.0f} GB "
        f"(+8% allocator) = {total:.0f} GB per GPU of {capacity_phrase(ctx.hw)} ({priced.method} {w.precision}, weights in "
        f"{weights_phrase(priced)}{as_full}, {sharding} {world_size_note(w)}, {length_phrase(w)}, checkpointing "
        f"{'on' if w.gradient_checkpointing else 'off'}), leaving {hbm - total:.0f} GB free (at least the {offload_headroom_gb():.0f} GB "
        f"memory.cpu_offload_when_it_fits keeps). The offload moves the sharded state over PCIe and runs the optimizer step on the host "
        f"every step: if the model has at most {bound:g}B parameters, {how}, and measure; the verdict waits for the model's size"
    )
    return [_listed_footgun(w, "cpu_offload", "cpu_offload", OFFLOAD_BOUND_ID, OFFLOAD_BOUND_TITLE, "memory", message, OFFLOAD_BOUND_CITATION)]


def _projection_contradicted(ctx: AuditContext, w: WorkloadConfig, patch: Patch) -> str | None:
    """Why the projection cannot decide this config, or None: one of the patch's rules, projected
    alone, slows the step where the rule's own source reports a gain (impact.low >= 1). The model
    is then wrong for this workload, not the source: it has no term for kernel launches and Python
    overhead, which are most of a very small model's step (a 0.1M-parameter model's bf16 edit
    projected 0.16x, and the patch 0.47x, offered as a PASS). Such a config is not judged on the
    projection; a measurement (goblin_command) decides it."""
    rules = {r.id: r for r in ctx.applicable(w)}
    wrong = []
    for rid, gain in _own_gains(w, patch, ctx.hw).items():
        if rid in rules and gain < 1.0 - 1e-9 and rules[rid].impact.low >= 1.0:
            wrong.append(f"{rid} alone projects {gain:.2f}x where its source reports {rules[rid].impact.low:.2f}x or more")
    if not wrong:
        return None
    size = f"{w.model.params_b * 1e3:.3g}M" if w.model.params_b is not None and w.model.params_b < 1 else f"{w.model.params_b or '?'}B"
    return (
        f"the projection contradicts the knowledge base's sources here ({'; '.join(wrong)}): the cost model has no term for "
        f"kernel launches and Python overhead, which dominate the step of a model this size ({size} parameters), so it "
        "cannot judge this config; measure it with your training command (goblin_command)"
    )


def findings(ctx: AuditContext, patch: Patch) -> list[Finding]:
    from ..rules import unpatched_gain

    w = _workload(ctx)
    out = []
    loaded = ctx.loaded
    # the config keys a field's edit writes in this format (a micro_batch_down finding names them)
    writes_of = (lambda f, v: loaded.adapter.writes(f, v, w, loaded.data)) if loaded is not None else None
    for rule in ctx.applicable(w):
        if rule.id in w.ignored_rules:
            continue
        if rule.footgun and rule.rocm_build is not None and loaded is not None and shipped_build(loaded, rule.rocm_build) is not None:
            continue  # the repository installs that ROCm build: said in the report's notes (blockers.shipped_notes)
        line, key = _anchor(rule, w)
        status = patch.skipped.get(rule.id)
        if not rule.footgun and unactionable(status):
            continue
        extra: dict[str, Any] = {}
        if rule.transform.micro_batch_down and writes_of is not None:
            own = {e.field: e.new for e in patch.edits if e.rule_id == rule.id}
            extra = {"values": own or None, "writes_of": writes_of, "patched": patch.new_workload if own else None}
        # judged on the training step's memory bound (rules.facts(training_step=True)): its figures are the bound's
        shown_w = training_step_bound(w, ctx.training_sequences) if ctx.training_step else w
        message = render_finding(rule, shown_w, ctx.hw, None if rule.footgun else status, **extra)
        if rule.footgun and (gain := unpatched_gain(rule.id, w, ctx.hw)) is not None:
            message += f"; on its own this change projects {gain:.2f}x tokens of data per second (not patched: guidance only)"
        if ctx.training_step and rule.category in _STEP_SHARE_CATEGORIES and rule.rocm_build is None:
            message += f" ({ctx.training_step}, so its share of the whole step is not projected)"
        for other in (o for o in patch.other_files if o.rule_id == rule.id and rule.id in patch.rule_ids):
            edits = ", ".join(f"`{k}: {json.dumps(v)}`" for k, v in other.edits.items())
            from ..patching import referenced_phrase

            message += f" The edit is in {other.path}, {referenced_phrase(w)}: {edits}." + (f" {other.note}." if other.note else "")
        out.append(
            Finding(
                rule_id=rule.id, title=rule.title, category=rule.category, line=line, key=key, message=message, citation=rule.citation, footgun=rule.footgun
            )
        )
    return sorted(out, key=_by_line)


def _by_line(f: Finding) -> tuple[bool, int, str]:
    return (f.line is None, f.line or 0, f.rule_id)


def _blockers(ctx: AuditContext) -> list[Finding]:
    """What stops the run on the target (kb/blockers.yaml), blockers and build requirements alike."""
    _workload(ctx)
    assert ctx.loaded is not None
    return blocker_findings(ctx.loaded, ctx.hw)


def _unpatched_footguns(ctx: AuditContext, w: WorkloadConfig) -> tuple[list[tuple[str, float]], list[str]]:
    """The footguns this config triggers whose waste depends on its data's lengths (rules.LENGTH_PRICED_FOOTGUNS): those
    the projection prices at or above goblin_warn_at on their own (rules.unpatched_gain), largest first, and those it
    cannot price because no dataset lengths were read while pad tokens exist and the rule's source allows
    goblin_warn_at. A PASS beside either is not clean (review6a class 8)."""
    from ..rules import LENGTH_PRICED_FOOTGUNS, unpatched_gain

    priced: list[tuple[str, float]] = []
    unpriced: list[str] = []
    for rule in ctx.applicable(w):
        if not rule.footgun or rule.id not in LENGTH_PRICED_FOOTGUNS or rule.id in w.ignored_rules:
            continue
        if not (w.token_quantiles and w.mean_tokens):
            # unread lengths leave the gain open only where pad tokens exist (more than one sample per micro-batch, or
            # padded to seq_len) and where the rule's own source allows goblin_warn_at (impact.high)
            if (w.micro_batch_size > 1 or w.pad_to_max) and rule.impact.high >= ctx.settings.warn_at:
                unpriced.append(rule.id)
        elif (gain := unpatched_gain(rule.id, w, ctx.hw)) is not None and gain >= ctx.settings.warn_at:
            priced.append((rule.id, gain))
    return sorted(priced, key=lambda p: -p[1]), sorted(unpriced)


HIERARCHICAL_RULE = "distributed.hierarchical_sharding_across_nodes"


def _unpatched_sharding(ctx: AuditContext, w: WorkloadConfig) -> list[tuple[str, float]]:
    """The hierarchical-sharding guidance's own projected gain (costmodel.hierarchical_options: the best sharding within a
    node that fits under the spare limit), where the rule fires and the gain reaches goblin_warn_at: goblin does not
    rewrite the sharding, so a PASS beside it is not clean (review10b #32: FSDP FULL_SHARD over 4 nodes x 8 GPUs, HSDP
    projected 1.12x by the finding itself, and the item said PASS 1.00x)."""
    from ..costmodel import hierarchical_options
    from ..patching import spare_limit_gb

    if HIERARCHICAL_RULE in w.ignored_rules or all(r.id != HIERARCHICAL_RULE for r in ctx.applicable(w)):
        return []
    gains = [h.speedup for h in hierarchical_options(w, ctx.hw, spare_limit_gb(ctx.hw)) if h.fits]
    best = max(gains, default=1.0)
    return [(HIERARCHICAL_RULE, best)] if best >= ctx.settings.warn_at else []


SMALL_BATCH_RULE = "batch.small_global_batch"


def _unpatched_global_batch(ctx: AuditContext, w: WorkloadConfig) -> list[tuple[str, float]]:
    """The small-global-batch guidance's own projected gain (globalbatch.larger_batch: the same run at a larger
    micro-batch that fits, gradient accumulation kept at 1), where the rule fires and the gain reaches goblin_warn_at:
    goblin does not raise the global batch (the learning rate and schedule must be retuned), so a PASS beside it is not
    clean (review10b #33: CSC finetuning.py, micro-batch 1 x 256 tokens on one GPU, projected at 3% of peak, said PASS
    1.00x)."""
    from ..globalbatch import larger_batch

    if SMALL_BATCH_RULE in w.ignored_rules or all(r.id != SMALL_BATCH_RULE for r in ctx.applicable(w)):
        return []
    found = larger_batch(w, ctx.hw)  # decided on the low end of its interval (the GEMM efficiency at small sizes is assumed)
    return [(SMALL_BATCH_RULE, found.speedup)] if found is not None and found.low >= ctx.settings.warn_at else []


def _unpatched_guidance(ctx: AuditContext, w: WorkloadConfig) -> list[tuple[str, float]]:
    """The guidance goblin prices on its own and never patches (it changes the sharding, or the optimisation), each
    with its projected gain where that reaches goblin_warn_at: a PASS beside one is a WARN naming it."""
    return [*_unpatched_sharding(ctx, w), *_unpatched_global_batch(ctx, w)]


def _unjudged_premises(ctx: AuditContext, w: WorkloadConfig) -> str | None:
    """Why a projected PASS is not clean: a rule that would change the run reads a field the config sets in code goblin
    could not evaluate (rules.unjudged), so the PASS rests on the default goblin assumed for it, not the run's value."""
    left = unjudged(w, ctx.hw, ctx.rules)
    if not left:
        return None
    fields = sorted({f for fs in left.values() for f in fs})
    said = []
    for name in fields:
        src = w.sources.get(name)
        where = src.note.split(": ", 1)[0] if src is not None and src.note else f"{name} in {ctx.path.name}"
        said.append(f"{where}; goblin assumed {name} {getattr(w, name, None)!s}")
    return (
        f"{', '.join(sorted(left))} would judge {' and '.join(fields)}, which the config sets in code goblin could not "
        f"evaluate ({'; '.join(said)}), so {'it was' if len(left) == 1 else 'they were'} not judged and goblin cannot clear this config; "
        "write the value out in the config or script, or measure with your training command (goblin_command)"
    )


def _unsure_small_rule(ctx: AuditContext, w: WorkloadConfig, patch: Patch) -> str | None:
    """Why a projected PASS is not clean: a rule left out as not worth patching (_not_worth_patching) whose own gain, with
    the elementwise term at the far end of its span (costmodel.eager_elementwise_passes, an op count of an eager Llama
    layer, against the assumed `elementwise_passes`), reaches goblin_fail_at: the far end is an upper count (every eager
    op unfused, backward twice forward), so the bar is the level that would fail the config, not goblin_warn_at (issue
    24/25, compile9: torchtune compile on a 1B LoRA priced 1.01x, 1.14x at the count). The point estimate stays the
    assumed one: no AMD measurement prices the eager layer's elementwise time (docs/projection.md, Elementwise)."""
    small = [rid for rid, skip in patch.skipped.items() if skip.startswith("not worth patching")]
    if not small or ctx.loaded is None:
        return None
    bar = ctx.settings.fail_at
    by_id = {r.id: r for r in ctx.applicable(w)}
    measured = _measured_beyond(ctx, [by_id[rid] for rid in small if rid in by_id])
    nominal = nominal_for(ctx.hw)
    counted = eager_elementwise_passes(w)
    if counted <= nominal.elementwise_passes:
        return measured
    from dataclasses import replace

    far = replace(nominal, elementwise_passes=round(counted))
    for rid in small:
        if rid not in by_id:
            continue
        own = build_patch(ctx.loaded, [by_id[rid]], ctx.hw, "own", other_files=False)
        fields = {e.field: e.new for e in own.edits if e.rule_id == rid}
        if not fields:
            continue
        after = w.model_copy(update=fields)
        near = step(w, ctx.hw, nominal).step_s / step(after, ctx.hw, nominal).step_s
        reach = step(w, ctx.hw, far).step_s / step(after, ctx.hw, far).step_s
        if reach >= bar:
            return (
                f"{rid} was left out as not worth patching at its projected {near:.3f}x, which rests on {nominal.elementwise_passes} "
                f"activation-sized memory passes per layer for the elementwise ops it removes, an assumption; an eager Llama layer "
                f"of this shape makes up to {counted:.0f} (an op count of torchtune 0.5.0's model code: fp32 RMSNorm and RoPE, SwiGLU, "
                f"residual adds{', LoRA adapters' if w.method in ('lora', 'qlora', 'dora') else ''}), at which it projects {reach:.2f}x: "
                f"its own interval [{min(near, reach):.2f}-{max(near, reach):.2f}] reaches goblin_fail_at={bar:.2f} and no AMD measurement "
                f"narrows it, so goblin cannot clear this config; {by_id[rid].title[0].lower()}{by_id[rid].title[1:]} and measure it (goblin_command)"
            )
    return measured


def _measured_beyond(ctx: AuditContext, small: list[Rule]) -> str | None:
    """Why a projected PASS is not clean: a rule left out as not worth patching whose change published same-run
    ablations measure at goblin_fail_at or more (`Impact.measured`; compile33: torch.compile on/off, 1.10-1.27x on
    A100/H100, where goblin projects 1-3% on those GPUs and about 1% on MI300X; docs/projection.md). The projection
    has no term that explains them, and a published run outranks it: it cannot clear what runs measured."""
    bar = ctx.settings.fail_at
    for rule in small:
        m = rule.impact.measured
        if m is None or m.high < bar or m.priced:
            continue
        gain = ctx.small_gains.get(rule.id)
        return (
            f"{rule.id} was left out as not worth patching{f' at its projected {gain:.3f}x' if gain is not None else ''}, but {m.pairs} published runs "
            f"of the same training with only that change made measure {m.low:.2f}-{m.high:.2f}x on {m.gpus} ({m.source}), reaching "
            f"goblin_fail_at={bar:.2f}; goblin's projection has no term that explains them and no {ctx.hw.name} pair narrows them, so it "
            f"cannot clear this config; {rule.title[0].lower()}{rule.title[1:]} and measure it (goblin_command)"
        )
    return None


def _lengths_note(w: WorkloadConfig) -> str:
    src = w.sources.get("token_lengths")
    return src.note if src is not None and src.note else f"every sample assumed {assumed_length(w)} tokens"


_SEVERITY = {"pass": 0, "warn": 1, "fail": 2}


# where a skipped edit is the user's to make: the skip reason's marker -> how the verdict says it
_HAND_PLACES = {IN_LAUNCH_LINE: "in the launch line", IN_CODE_BY_HAND: "in the script's code", IN_OTHER_FILE: "in the file that sets it"}


def _by_hand(patch: Patch) -> dict[str, str]:
    """rule id -> where the user makes the edit goblin left out: the launch line that passes the script's arguments
    (`formats.base.IN_LAUNCH_LINE`), the script's own code that sets the value with certainty
    (`formats.base.IN_CODE_BY_HAND`: a `load_in_8bit=True` load, a `gradient_checkpointing_enable()` call, a packing
    dataset), or the other file of the run whose setting goblin read (`formats.base.IN_OTHER_FILE`: host offload in the
    DeepSpeed/FSDP/accelerate file, or the framework's copy of it, review11a #3). A value goblin did not read is never
    such an edit: no rule judges it, and a setting read from a file's name only (`FROM_NAME_ONLY`) is not counted
    (`_unread_elsewhere`)."""
    return {rid: place for rid, skip in patch.skipped.items() for marker, place in _HAND_PLACES.items() if marker in skip and FROM_NAME_ONLY not in skip}


def _tensor_parallel_unjudged(ctx: AuditContext, w: WorkloadConfig) -> str | None:
    """Why a PASS on a tensor-parallel run is not decided: the degree is priced as configured, but where FSDP alone over
    the same GPUs is projected to fit at the config's micro-batch, that layout (more samples per step, no per-layer
    all-reduces) is the alternative, and no rule prices one against the other (review12a #10 emattia/tune-sft: a 70B full
    fine-tune at tensor_parallel_dim 8 on 8 GPUs, one sample per optimizer step). None where the degree is 1 or the
    layout without it does not fit."""
    tp = w.tensor_parallel
    if tp <= 1 or w.world_size < tp or w.pipeline_parallel > 1 or w.expert_parallel > 1:
        return None
    flat = w.model_copy(update={"tensor_parallel": 1, "strategy": "fsdp"})
    limit = fit_limit_gb(ctx.hw)
    gb = memory_gb(flat)
    if gb > limit:
        return None
    src = w.sources.get("tensor_parallel")
    at = f"`{src.key}: {tp}`" + (f" (line {src.line})" if src.line else "") if src is not None and src.key else f"tensor parallel {tp}"
    dp = max(1, w.world_size // (tp * max(1, w.context_parallel)))
    per_step = dp * w.micro_batch_size * max(1, w.gradient_accumulation)
    return (
        f"{at}: each layer is split over {tp} GPUs, leaving {dp} data-parallel rank{'s' if dp > 1 else ''} and {per_step} "
        f"sample{'s' if per_step > 1 else ''} per optimizer step (micro-batch {w.micro_batch_size}, accumulation {w.gradient_accumulation}); "
        f"without tensor parallelism, FSDP over the {w.world_size} GPUs is projected to fit at the same micro-batch ({gb:.0f} GB per GPU "
        f"of {limit:.0f} GB usable), with no per-layer all-reduces, and goblin has no rule that prices that layout against this one, "
        "so it cannot clear this config; measure both with your training command (goblin_command)"
    )


def _planned_alone(ctx: AuditContext, w: WorkloadConfig, rule_ids: set[str]) -> tuple[dict[str, Any], list[str]] | None:
    """The fields the rules `rule_ids`, left out of the patch, change when planned on their own (as a patch of just them
    would be), and the rules plan_edits chose; None where they change nothing. What such edits project alone decides
    whether a verdict may stand without them (`_unread_elsewhere`, `_left_to_launcher`)."""
    rules = [r for r in ctx.rules if r.id in rule_ids]
    if not rules:
        return None
    chosen, _env, _conflicts, _skipped = plan_edits(w, rules, ctx.hw)
    fields = {f: v for f, (v, _) in chosen.items() if getattr(w, f) != v}
    return (fields, sorted({rid for _, rid in chosen.values()})) if fields else None


def _unread_elsewhere(ctx: AuditContext, w: WorkloadConfig, patch: Patch, verdict: Verdict) -> str | None:
    """Why a PASS or WARN is not decided when a rule left out of the patch changes a setting goblin read only from the
    name of the file that holds it (`formats.base.FROM_NAME_ONLY`: a `zero3_offload.json` outside the repository) and on
    its own projects enough to change the verdict: its gain is neither counted nor dropped (review11a #3, #11)."""
    if verdict == "fail":
        return None
    planned = _planned_alone(ctx, w, {rid for rid, skip in patch.skipped.items() if FROM_NAME_ONLY in skip})
    if planned is None:
        return None
    fields, ids = planned
    after = w.model_copy(update=fields)
    if memory_gb(after) > max(fit_limit_gb(ctx.hw), memory_gb(w)):
        return None
    point, low, high = sensitivity(w, after, ctx.hw)
    bar = ctx.settings.warn_at if verdict == "pass" else ctx.settings.fail_at
    combined = sensitivity(w, patch.new_workload.model_copy(update=fields), ctx.hw)[0]
    if point < bar and combined < ctx.settings.fail_at:
        return None
    return (
        f"{', '.join(ids)} is not patched: the setting it changes was {FROM_NAME_ONLY} that holds it, which goblin could not read "
        f"(the finding says which), and on its own it projects {point:.2f}x [{low:.2f}-{high:.2f}] (with the patch {combined:.2f}x): "
        "goblin neither counts that gain on a guess from a file name nor drops it, so it cannot judge this config; put the file in "
        "the repository (or make the change there) and audit again"
    )


def _hand_edit_gain(ctx: AuditContext, w: WorkloadConfig, patch: Patch) -> tuple[list[str], Speedup, str] | None:
    """The projected speedup of the patch together with the edits it left to the user (`_by_hand`: the launch line, the
    script's code), planned with the patch's own rules so the two fit together, and where they are made; None where
    there are none, or where together they project above `fit_limit_gb` and above the config as it is (then
    `_left_to_launcher` says what they project alone)."""
    hand = _by_hand(patch)
    left = set(hand)
    launch_rules = [r for r in ctx.rules if r.id in left]
    if not launch_rules:
        return None
    own = set(patch.rule_ids)
    chosen, _env, _conflicts, _skipped = plan_edits(w, [r for r in ctx.rules if r.id in own] + launch_rules, ctx.hw)
    fields = {f: v for f, (v, rid) in chosen.items() if rid in left and getattr(w, f) != v}
    if not fields:
        return None
    combined = patch.new_workload.model_copy(update=fields)
    if memory_gb(combined) > max(fit_limit_gb(ctx.hw), memory_gb(w)):
        return None
    point, low, high = sensitivity(w, combined, ctx.hw)
    ids = sorted({chosen[f][1] for f in fields})
    places = " and ".join(sorted({hand[i] for i in ids}, reverse=True))
    return ids, Speedup(point=point, low=low, high=high, method=f"projection: the patch with the edits left to the user ({places})"), places


def _left_to_launcher(ctx: AuditContext, w: WorkloadConfig, patch: Patch) -> str | None:
    """Why the verdict is not decided when the waste found sits in the launch line that passes a
    script's arguments or in the script's code (which goblin does not write): what those edits project
    on their own, if that reaches goblin_warn_at; None otherwise."""
    hand = _by_hand(patch)
    planned = _planned_alone(ctx, w, set(hand))
    if planned is None:
        return None
    fields, ids = planned
    point, low, high = sensitivity(w, w.model_copy(update=fields), ctx.hw)
    if point < ctx.settings.warn_at:
        return None
    places = " and ".join(sorted({hand[i] for i in ids if i in hand}, reverse=True)).replace(
        "in the launch line", "in the launch line that passes the script's arguments"
    )
    return (
        f"the edits of {', '.join(ids)} belong {places}, which goblin does not write; "
        f"on their own they project {point:.2f}x [{low:.2f}-{high:.2f}]: make them there by hand (the findings say where) and audit again"
    )


def _anchor(rule: Rule, w: WorkloadConfig) -> tuple[int | None, str | None]:
    """The config line a finding points at: the first field its transform or predicates name."""
    names = list(rule.transform.set) + (["micro_batch_size"] if rule.transform.micro_batch_to else [])
    # a padded-to-max workload's source is the key that pads (formats/datasets.attach, "token_lengths")
    # a debug mode's source is the script line that turns it on (formats/pydebug.py)
    names += [{"derived.pads_to_max": "token_lengths", "derived.debug_mode": "debug_modes"}.get(p.fact, p.fact) for p in rule.applies_when]
    for name in names:
        src = w.sources.get(name)
        if src is not None and src.file == w.path:  # a launcher script's line is not a line of this config
            return src.line, src.key
    return None, None


def footer(ctx: AuditContext, before: RunMetrics, after: RunMetrics) -> dict[str, str]:
    out = {
        "evidence": f"{before.evidence} / {after.evidence}",
        "runner": before.runner,
        "device": before.device,
        "target": ctx.hw.name,
        "trials": f"{len(before.step_time_s)} + {len(after.step_time_s)} {ctx.runner.sample_unit}s",
        "pytest-goblin": __version__,
        "python": platform.python_version(),
    }
    out.update({k: v for k, v in before.versions.items() if v and v != "None"})
    # the framework release the config was read as, and where that came from (history.reading: "assumed" when unpinned)
    fw = ctx.loaded.workload.sources.get("framework") if ctx.loaded is not None else None
    if fw is not None and fw.note:
        out["framework"] = fw.note
    if before.mfu is not None and after.mfu is not None:
        out["mfu"] = f"{before.mfu:.0%} -> {after.mfu:.0%} (of the bf16 dense peak)"
    if "projected" in (before.evidence, after.evidence):
        out["calibration"] = calibration_note(ctx.hw)
    return out


def _unread_of(what: str) -> str:
    """What the cost model lacks for an unmodelled trainer, in its own terms: a knowledge-distillation recipe's frozen
    teacher (torchtune 0.6.1 recipes/knowledge_distillation_single_device.py:255-256 builds it from `teacher_model`,
    :653 runs its forward every step beside the student's; review7a #9 src/kd_recipe.py:215, :485 the same); ORPO,
    SimPO and CPO losses take the policy's chosen and rejected log-probabilities only, no reference model's (review7a
    #11 lora_orpo_ddp.py:527-530 calls its ORPOLoss with the policy's two averages); the others' reference model."""
    low = what.lower()
    if "distillation" in low:
        return (
            "the frozen teacher model's weights and its forward pass every step are not in the projection: goblin models them only for "
            "torchtune's own knowledge_distillation_* recipes with a teacher_model builder of known shape"
        )
    if re.search(r"orpo|simpo|\bcpo", low):
        return "the chosen and rejected sequences each example runs were not read from a trainer it knows; this loss uses no reference model"
    return "the sequences each example runs and the reference model were not read from a trainer it knows"
