"""Turn chosen KB rules into one Patch: resolved edits, the new workload, the file's own diff."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .costmodel import MicroBatchFit, assumed_length, length_phrase, length_premise, lengths_assumed, memory_gb, pack_length_unread, smaller_micro_batch, step
from .errors import GoblinError
from .formats import LoadedConfig, parse_text
from .formats.base import IN_LAUNCH_LINE, unified_diff
from .formats.pyliteral import call_name
from .frameworks import attention as attention_support
from .hardware import capacity_gb, capacity_phrase
from .safepath import DEFAULT_LIMIT
from .schemas import WORKLOAD_FIELDS, Conflict, Edit, FieldSource, FileDiff, Hardware, Patch, Report, Rule, WorkloadConfig
from .shapespan import span_memory_gb, span_phrase, spanned

MEMORY_MARGIN = 0.85  # the patched workload must fit in 85% of HBM by the projection
# The HBM memory.disable_checkpointing_when_hbm_free leaves spare when it turns checkpointing off
# (kb/memory.yaml; tests/test_patching.py keeps the two equal). A `micro_batch_down` rule lowers the
# micro-batch until its edits leave as much.
SPARE_GB = 40.0


def spare_limit_gb(hw: Hardware) -> float:
    """The projected peak a `micro_batch_down` rule's edits must stay under: SPARE_GB of HBM left
    free, and within MEMORY_MARGIN."""
    return min(capacity_gb(hw) - SPARE_GB, capacity_gb(hw) * MEMORY_MARGIN)


# Why a rule's edit was left out when goblin could not write it to the file's layout: the waste is
# there, goblin just cannot patch it, so a verdict without it is not decided (audit_tools).
NOT_READ_BACK = "did not read back as intended; left out"
# Why a memory-bound rule was left out: the model's size is a guess, so its fit is unknown; a verdict
# without it is not decided either (audit_tools).
NOT_ON_A_GUESS = "goblin does not project a memory-raising edit to fit on a guessed size or shape"


# Why a memory-bound rule was left out: no dataset lengths were read, and at seq_len per sample the config
# as it is projects above the GPU's HBM, which the run its repository makes contradicts; a verdict
# without it is not decided (audit_tools), and nothing is blocked on that projection.
NOT_ON_ASSUMED_LENGTHS = "goblin does not decide a memory-bound edit on an assumed sample length"
# Why a smaller micro-batch is not proposed: its size would follow from a sample length nobody measured.
NOT_DOWN_ON_ASSUMED_LENGTHS = "goblin does not lower the micro-batch for samples of an assumed length"


def assumed_over(w: WorkloadConfig, hw: Hardware) -> str | None:
    """Why memory cannot decide an edit: the assumed sample length puts the config as it is over HBM."""
    if not lengths_assumed(w):
        return None
    have = memory_gb(w)
    if have <= capacity_gb(hw):
        return None
    if memory_gb(w.model_copy(update={"token_quantiles": [1] * 21, "mean_tokens": 1.0})) > capacity_gb(hw):
        return None  # it does not fit at any sample length: the length is not what decides (memory.projected_over_hbm)
    premise = length_premise(w, capacity_gb(hw))
    said = f": {premise}" if premise else ": if this config trains, its samples are shorter than assumed"
    return (
        f"the config as it is projects {have:.0f} GB per GPU of {capacity_phrase(hw)} at {length_phrase(w)}, more than the GPU "
        f"holds{said}; {NOT_ON_ASSUMED_LENGTHS} (name a local dataset in the config, or measure)"
    )


def packed_unread(w: WorkloadConfig) -> str | None:
    """Why memory cannot decide an edit: the script packs its own samples to a length goblin did not read
    (costmodel.pack_length_unread), so what fits at the assumed seq_len says nothing of the run (review12a #17)."""
    why = pack_length_unread(w)
    return f"{why}; {NOT_ON_ASSUMED_LENGTHS} (state the packs' length where goblin reads it, or measure)" if why else None


def _order(rules: list[Rule]) -> list[Rule]:
    """Deterministic: higher priority first, then the larger expected impact, then id."""
    return sorted(rules, key=lambda r: (-r.priority, -r.impact.high, r.id))


def _micro_batch_target(w: WorkloadConfig, target: int, hw: Hardware, memory: Callable[[WorkloadConfig], float] = memory_gb) -> tuple[int, int] | None:
    """Largest micro-batch <= target that divides the global batch and fits in memory (`memory`: the projected peak,
    or on a guessed shape the peak at the worst shape of its span, `_span_peak`)."""
    global_batch = w.micro_batch_size * w.gradient_accumulation
    best = None
    for mbs in range(w.micro_batch_size + 1, min(target, global_batch) + 1):
        if global_batch % mbs:
            continue
        trial = w.model_copy(update={"micro_batch_size": mbs, "gradient_accumulation": global_batch // mbs})
        if memory(trial) <= capacity_gb(hw) * MEMORY_MARGIN:
            best = (mbs, global_batch // mbs)
    return best


# a frozen language model is priced without the part that trains (WorkloadConfig.frozen_language_model)
FROZEN_UNPRICED = (
    "the language model is frozen and the part that trains (a vision tower, a projector) is not priced: no larger"
    " micro-batch is projected to fit (check the memory on the GPU)"
)


def raised_peak(w: WorkloadConfig) -> Callable[[WorkloadConfig], float] | None:
    """The projected peak a memory-raising micro-batch edit of `w` is checked with against `fit_limit_gb`, as
    batch.raise_micro_batch's (`plan_edits`, `micro_batch_to`) is: at the priced shape, or on a guessed shape at the
    worst shape of its span (`_span_peak`); None where no larger micro-batch is projected to fit at all (a guessed shape
    with no span, a frozen language model whose trained part is not priced). batch.small_global_batch
    (globalbatch.larger_batch) sizes its larger micro-batch with the same check."""
    if w.frozen_language_model:
        return None
    guess = _guessed_shape(w)
    if guess is not None and not spanned(w.model):
        return None
    return memory_gb if guess is None else _span_peak


def _said(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _guessed_shape(w: WorkloadConfig) -> str | None:
    """Why no memory-raising edit is projected to fit: the model's size or shape is a guess."""
    from .modelzoo import shape_assumption

    why = shape_assumption(w.model)
    if why and spanned(w.model):
        return f"{why}; {NOT_ON_A_GUESS} unless it fits at the largest shape of the span ({span_phrase(w.model)}), and this one does not (check the memory on the GPU)"
    return f"{why}; {NOT_ON_A_GUESS} (check the memory on the GPU)" if why else None


def _span_peak(w: WorkloadConfig) -> float:
    """The projected peak at the worst shape of a guessed shape's span (shapespan); only called where `spanned`."""
    peak = span_memory_gb(w)
    assert peak is not None
    return peak


def _fits_over_span(w: WorkloadConfig, trial: WorkloadConfig, limit: float) -> bool:
    """A memory-raising edit on a guessed shape holds over the whole span: the edited workload fits under `limit` at
    the span's worst shape (shapespan.span_shapes). No span (size assumed, experts, an unmodelled architecture): False."""
    return spanned(w.model) and _span_peak(trial) <= limit


def span_note(before: WorkloadConfig, after: WorkloadConfig, hw: Hardware) -> str | None:
    """What a patch offered on a guessed shape rests on: its edits fit at the largest shape of the span; None where
    the model's shape is known, no span applies or the patch does not raise memory."""
    if not spanned(before.model) or memory_gb(after) <= memory_gb(before) or _span_peak(after) > capacity_gb(hw) * MEMORY_MARGIN:
        return None
    return (
        f"model {before.model.name}: its shape is a guess, and the patch's memory-raising edits were offered because they fit at the "
        f"largest shape of the span ({span_phrase(before.model)}): {_span_peak(after):.0f} GB per GPU there, under {MEMORY_MARGIN:.0%} of "
        f"{capacity_phrase(hw)} (the config as it is: {_span_peak(before):.0f} GB)"
    )


def _holds_when_shorter(w: WorkloadConfig, hw: Hardware, sets: dict[str, Any], down: MicroBatchFit | None) -> bool:
    """A smaller micro-batch sized for samples at the config's own cutoff (seq_len set in the config: every sample
    at its longest, so it fits at any real length) that is also projected faster than the config as it is when the
    samples are shorter (rules.SHORTER_LENGTH_SHARE of it): the edit does not rest on the assumed length."""
    from .costmodel import at_shorter_length, seq_len_is_cutoff

    if down is None or not seq_len_is_cutoff(w):
        return False
    short = at_shorter_length(w)
    trial = short.model_copy(update={**sets, "micro_batch_size": down.micro_batch_size, "gradient_accumulation": down.gradient_accumulation})
    return step(short, hw).step_s > step(trial, hw).step_s


def plan_edits(w: WorkloadConfig, rules: list[Rule], hw: Hardware) -> tuple[dict[str, tuple[Any, str]], dict[str, str], list[Conflict], dict[str, str]]:
    """field -> (value, rule id); env; conflicts; skipped rules with reasons."""
    chosen: dict[str, tuple[Any, str]] = {}
    env: dict[str, str] = {}
    conflicts: dict[str, Conflict] = {}
    skipped: dict[str, str] = {}
    for rule in _order(rules):
        if rule.id in w.ignored_rules:
            skipped[rule.id] = "acknowledged in the config with `# goblin: ignore[...]`"
            continue
        if rule.footgun:
            skipped[rule.id] = "footgun: guidance only, no automatic patch"
            continue
        sets = dict(rule.transform.set)
        if rule.transform.micro_batch_to:
            current = w.model_copy(update={k: v for k, (v, _) in chosen.items()})
            guess = _guessed_shape(w)
            if guess is not None and not spanned(w.model):
                skipped[rule.id] = guess
                continue
            if w.frozen_language_model:
                skipped[rule.id] = FROZEN_UNPRICED
                continue
            if (packed := packed_unread(w)) is not None:
                skipped[rule.id] = packed
                continue
            # on a guessed shape, the largest micro-batch that fits at the worst shape of the span
            fit = _micro_batch_target(current, rule.transform.micro_batch_to, hw, raised_peak(w) or memory_gb)
            if fit is None and guess is not None:
                skipped[rule.id] = guess
                continue
            if fit is None and (assumed := assumed_over(w, hw)) is not None:
                skipped[rule.id] = assumed
                continue
            if fit is None:
                skipped[rule.id] = "no larger micro-batch divides the global batch and fits in memory"
                continue
            sets.update({"micro_batch_size": fit[0], "gradient_accumulation": fit[1]})
        if rule.transform.micro_batch_down:
            current = w.model_copy(update={k: v for k, (v, _) in chosen.items()})
            guess = _guessed_shape(w)
            if guess is not None and not spanned(w.model):
                skipped[rule.id] = guess
                continue
            if (assumed := assumed_over(w, hw) or packed_unread(w)) is not None:
                # the micro-batch would be lowered to fit a projection the run itself contradicts (review1 #16:
                # 32 -> 2 on ~100-token SQL rows priced at 4096 tokens each)
                skipped[rule.id] = assumed
                continue
            down = smaller_micro_batch(current, hw, spare_limit_gb(hw), sets)
            if lengths_assumed(w) and not _holds_when_shorter(current, hw, sets, down):
                # ... or lowered because every sample is priced at seq_len: at the data's real lengths checkpointing off
                # may fit at the current micro-batch (review2: modal's SQL LoRA, 32 -> 2 while it fits at 32). Sized at
                # the config's own cutoff (the longest a sample can be) and faster at a shorter length too, it is proposed.
                skipped[rule.id] = f"every sample is assumed {assumed_length(w)} tokens long (no local dataset read); {NOT_DOWN_ON_ASSUMED_LENGTHS}"
                continue
            if down is None:
                per_gpu = current.micro_batch_size * current.gradient_accumulation
                skipped[rule.id] = (
                    f"no smaller micro-batch dividing {per_gpu} (micro-batch x accumulation, kept) fits in memory with "
                    f"{', '.join(f'{k} {_said(v)}' for k, v in sets.items())} and the higher-ranked edits and is projected faster"
                )
                continue
            sets.update({"micro_batch_size": down.micro_batch_size, "gradient_accumulation": down.gradient_accumulation})
            if guess is not None and not _fits_over_span(w, current.model_copy(update=sets), spare_limit_gb(hw)):
                skipped[rule.id] = guess
                continue
        clash = [f for f, v in sets.items() if f in chosen and chosen[f][0] != v]
        if clash:
            for f in clash:
                winner = chosen[f][1]
                c = conflicts.setdefault(f, Conflict(field=f, winner=winner, losers=[], reason=""))
                c.losers.append(rule.id)
                c.reason = f"{winner} ranks first (priority, then expected impact, then id)"
            skipped[rule.id] = f"conflicts with {', '.join(dict.fromkeys(chosen[f][1] for f in clash))} on {', '.join(clash)}"
            continue
        current = w.model_copy(update={k: v for k, (v, _) in chosen.items()})
        trial = current.model_copy(update=sets)
        if sets and not rule.transform.micro_batch_to:
            need, have = memory_gb(trial), memory_gb(current)
            if need > have and (guess := _guessed_shape(w)) is not None and not _fits_over_span(w, trial, capacity_gb(hw) * MEMORY_MARGIN):
                skipped[rule.id] = guess
                continue
            if need > have and (packed := packed_unread(w)) is not None:
                skipped[rule.id] = packed
                continue
            if need > capacity_gb(hw) * MEMORY_MARGIN and need > have and (assumed := assumed_over(w, hw)) is not None:
                skipped[rule.id] = assumed
                continue
            if need > capacity_gb(hw) * MEMORY_MARGIN and need > have:
                skipped[rule.id] = (
                    f"with the higher-ranked edits it would raise projected peak memory to {need:.0f} GB, above {MEMORY_MARGIN:.0%} of {capacity_phrase(hw)}"
                )
                continue
        for f, v in sets.items():
            chosen.setdefault(f, (v, rule.id))
        env.update(rule.transform.env)
    return chosen, env, list(conflicts.values()), skipped


def fit_limit_gb(hw: Hardware) -> float:
    """The projected peak a patch that raises memory must stay under: MEMORY_MARGIN of HBM (the spare the
    memory-raising edits of plan_edits keep)."""
    return capacity_gb(hw) * MEMORY_MARGIN


def as_audited(w: WorkloadConfig, reread: WorkloadConfig | None, env: dict[str, str]) -> WorkloadConfig:
    """The re-read patched workload with what the audit read from outside the file kept as the audit saw it."""
    # Topology is never edited by a rule; keep it as the audit saw it (a goblin_world_size override included).
    topology = {f: getattr(w, f) for f in _TOPOLOGY}
    # The dataset's sampled token lengths come from the repository, not the file: the read-back keeps them.
    topology.update(token_quantiles=w.token_quantiles, mean_tokens=w.mean_tokens, pad_to_max=w.pad_to_max)
    topology.update({f: getattr(w, f) for f in _KEPT})
    # Every value here is validated already (the read-back or audited workload, a rule's env): copied, not validated again.
    return (reread or w).model_copy(update={"env": {**w.env, **env}, "sources": w.sources, "notes": w.notes, **topology})


def build_patch(loaded: LoadedConfig, rules: list[Rule], hw: Hardware, patch_id: str, *, other_files: bool = True) -> Patch:
    """One patch of the chosen rules. With `other_files`, a rule that turns host offload off may edit
    the DeepSpeed/FSDP file the config names (Patch.other_files) when the config cannot say it.

    A rule whose edit cannot be written (rejected by the framework, not expressible in the file, not read back)
    is left out and the rest planned again without it: a micro-batch chosen to fit beside an edit that lowered
    memory (bf16 over fp16, SDPA over eager) does not fit without it (review10b #30: 1 -> 8 planned beside bf16 and
    SDPA, neither writable at transformers 4.31, 210 GB of 206). A patch whose read-back still projects above
    `fit_limit_gb` and above the config as it is loses its memory-raising rules, lowest-ranked first.
    Its edits are not yet judged against the blockers: `patchblock.build_patch` does that (the audit's entry)."""
    w = loaded.workload
    left_out: dict[str, str] = {}
    while True:
        patch, dropped = _build(loaded, [r for r in rules if r.id not in left_out], hw, patch_id, other_files=other_files)
        if not dropped and (raised := _over_fit_limit(w, patch, rules, hw)) is not None:
            dropped = raised
        if not dropped:
            break
        left_out.update(dropped)
    patch.skipped.update({rid: why for rid, why in left_out.items() if rid not in patch.skipped})
    return patch


def _over_fit_limit(w: WorkloadConfig, patch: Patch, rules: list[Rule], hw: Hardware) -> dict[str, str] | None:
    """The lowest-ranked rule of a patch whose read-back projects above fit_limit_gb and above the config as it is,
    among the rules whose own edits raise memory, with why; None where the patch fits or raises nothing."""
    if not patch.edits:
        return None
    after, before = memory_gb(patch.new_workload), memory_gb(w)
    if after <= fit_limit_gb(hw) or after <= before:
        return None
    applied = {e.rule_id for e in patch.edits}
    for rule in reversed(_order([r for r in rules if r.id in applied])):
        own = {e.field: e.new for e in patch.edits if e.rule_id == rule.id}
        if memory_gb(w.model_copy(update=own)) > before:
            return {
                rule.id: f"with the edits that could be written the patch projects a peak of {after:.0f} GB per GPU, above "
                f"{MEMORY_MARGIN:.0%} of {capacity_phrase(hw)}, and this rule's edits raise it"
            }
    return None


def _build(loaded: LoadedConfig, rules: list[Rule], hw: Hardware, patch_id: str, *, other_files: bool) -> tuple[Patch, dict[str, str]]:
    """build_patch's one pass, and the rules it left out because their edits could not be written (rule id -> why)."""
    w = loaded.workload
    chosen, env, conflicts, skipped = plan_edits(w, rules, hw)
    planned = dict(skipped)
    fields = {f: v for f, (v, _) in chosen.items() if getattr(w, f) != v}
    invalid = invalid_fields(loaded, fields)
    if invalid:
        # An edit the trainer would reject (or ignore) is never offered: drop its rule whole.
        fields = _drop_rules(fields, chosen, invalid, skipped)
    new_text, unwritable = loaded.adapter.apply(loaded.path, loaded.text, loaded.data, w, fields)
    unwritable = {f: launch_change(loaded, f, fields, chosen, why) for f, why in unwritable.items()}
    others: list[tuple[FileDiff, str]] = []
    if other_files and unwritable.get("cpu_offload") and fields.get("cpu_offload") is False:
        # the switch is in the DeepSpeed/FSDP file the config names: edit it there, read back below
        found = offload_in_referenced_file(loaded, chosen["cpu_offload"][1])
        if found is not None:
            others.append(found)
            unwritable = {f: why for f, why in unwritable.items() if f != "cpu_offload"}
    if unwritable:
        # A rule this format cannot express in full is left out whole: no half-applied rules.
        fields = _drop_rules(fields, chosen, unwritable, skipped)
        new_text, _ = loaded.adapter.apply(loaded.path, loaded.text, loaded.data, w, fields)
    others = [o for o in others if o[0].rule_id in {chosen[f][1] for f in fields}]
    reread = _reread_with(loaded, new_text, others) if fields else w
    wrong = _misread(loaded, reread, fields)
    if wrong:
        # Never ship an edit that does not read back: drop the rules behind it, keep the rest.
        why = f"the {loaded.adapter.name} edit {NOT_READ_BACK}"
        fields = _drop_rules(fields, chosen, dict.fromkeys(wrong, why), skipped)
        others = [o for o in others if o[0].rule_id in {chosen[f][1] for f in fields}]
        new_text, _ = loaded.adapter.apply(loaded.path, loaded.text, loaded.data, w, fields)
        reread = _reread_with(loaded, new_text, others) if fields else w
        if _misread(loaded, reread, fields):
            raise GoblinError(f"{loaded.path}: the patched file does not read back as intended; please report this")
    edits = [Edit(field=f, old=getattr(w, f), new=v, rule_id=chosen[f][1], source=w.sources.get(f)) for f, v in fields.items()]
    # One key can carry two fields (Axolotl's `gradient_checkpointing: offload`): report what the
    # patched file really says, and credit the side effect to the rule that edited that key.
    # sorted: a set of names iterates in an order that changes with PYTHONHASHSEED, and these edits are reported in this order
    for f in sorted(WORKLOAD_FIELDS - set(fields) - _TOPOLOGY - _KEPT):  # topology is kept as the audit saw it (below)
        if reread is not None and getattr(reread, f) != getattr(w, f):
            key = (w.sources.get(f) or FieldSource(file="")).key
            owner = next((chosen[g][1] for g in fields if (w.sources.get(g) or FieldSource(file="")).key == key), "side effect")
            edits.append(Edit(field=f, old=getattr(w, f), new=getattr(reread, f), rule_id=owner, source=w.sources.get(f)))
            if f in chosen and chosen[f][0] == getattr(reread, f):
                skipped.pop(chosen[f][1], None)
    new_workload = as_audited(w, reread, env)
    applied = sorted({e.rule_id for e in edits if e.rule_id != "side effect"} | {r.id for r in rules if r.transform.env and r.id not in skipped})
    diff = unified_diff(loaded.path.name, loaded.text, new_text)
    editing = sorted({chosen[f][1] for f in fields})
    rule_diffs = {}
    for rid in editing:
        own = {f: v for f, v in fields.items() if chosen[f][1] == rid}
        if len(editing) == 1:
            rule_diffs[rid] = diff  # one rule's edits are the whole patch
            continue
        text, _ = loaded.adapter.apply(loaded.path, loaded.text, loaded.data, w, own)
        rule_diffs[rid] = unified_diff(loaded.path.name, loaded.text, text)
    for other, _text in others:  # the rule's edit of the file the config names is part of that rule's edits
        rule_diffs[other.rule_id] = rule_diffs.get(other.rule_id, "") + other.diff
    # rules planned but left out when written: the others were planned beside them, so they are planned again
    dropped = {rid: why for rid, why in skipped.items() if rid not in planned and rid in {r for _, r in chosen.values()} and rid not in applied}
    if dropped and fields:
        return Patch(patch_id=patch_id, rule_ids=[], edits=[], new_workload=w, diff=""), dropped
    return Patch(
        other_files=[o for o, _ in others],
        patch_id=patch_id,
        rule_diffs=rule_diffs,
        rule_ids=applied,
        edits=edits,
        env=env,
        conflicts=conflicts,
        skipped=skipped,
        new_workload=new_workload,
        diff=diff,
    ), {}


# the word a launch line passes, as a reader quotes it in a skip reason: "`--flag value` is passed by run.sh line 9: ..."
_PASSED = re.compile(r"`(-{1,2}[A-Za-z0-9_.-]+)(?: ([^`\n]*))?` is passed by ")
# a LLaMA-Factory flags run's change of flags the line does not pass with one value (lf_flags.LlamaFactoryFlagsAdapter._reason)
_FLAGS_SET = re.compile(r"set `--")
# a boolean passed as a word: HfArgumentParser reads it with string_to_bool (transformers 5.25.0 hf_argparser.py:36-46,
# :209-217, type=string_to_bool with nargs="?"), fire as a Python literal (pycommand._fire_parse): the same word with the
# other value, in the case it was written, is read back the same way
_BOOL_WORDS = {"True": "False", "False": "True", "true": "false", "false": "true"}


# one reason per key, joined by "; " (formats/python.py apply): a part that quotes a launch word starts with its backtick
_PARTS = re.compile(r"; (?=`|\w+ comes from the command line)")
# a field the launch line leaves at its argument class's default (formats/pycommand.py), and the advice said there
_DEFAULTED = re.compile(r"`([A-Za-z_][A-Za-z0-9_]*)` takes its default `[^`\n]*` at ")
_PASS_IT = "pass it where the script is launched"
# HfArgumentParser (TrlParser subclasses it) gives a bool field type=string_to_bool, nargs="?", const=True (transformers
# 4.47.1 hf_argparser.py:204-213, string_to_bool :35-45; 5.25.0 :36-46, :209-217): `--fp16 False` turns a bare `--fp16` off
_HF_PARSERS = ("HfArgumentParser", "TrlParser")


def launch_change(loaded: LoadedConfig, field: str, fields: dict[str, Any], chosen: dict[str, tuple[Any, str]], why: str) -> str:
    """A skip reason that sends an edit to the launch line, with the exact change: the word the line passes with the
    value goblin would write, and the rule's other edits (review10a #18: "change it in the launch line" without the
    value). A reason of several keys (`precision` writes bf16 and fp16) gets each key's own word: `--bf16 false` to
    `--bf16 true` and `--fp16 true` to `--fp16 false`, never the field's value (review15b #24 printed `--bf16 bf16`,
    which string_to_bool refuses). Another reason, or a value that is not one word, is returned as it is."""
    value = fields.get(field)
    if why.endswith(IN_LAUNCH_LINE) and _PASSED.match(why) is None and _FLAGS_SET.match(why):
        return why + _same_rule(loaded, field, fields, chosen)  # a LLaMA-Factory flags run's whole change (formats/lf_flags.py)
    if not isinstance(value, (bool, int, float, str)):
        return why
    written = loaded.adapter.writes(field, value, loaded.workload, loaded.data) or {}
    parts = _PARTS.split(why)
    changed = [_part_change(loaded, part, value, written) for part in parts]
    if changed == parts:
        return why
    return "; ".join(changed) + _same_rule(loaded, field, fields, chosen)


def _part_change(loaded: LoadedConfig, part: str, value: Any, written: dict[str, Any]) -> str:
    """One key's reason with the word to write: the value `written` gives that flag's key, else the one value written;
    a key the launch line leaves at the argument class's default (pycommand: "`torch_dtype` takes its default
    `float16` at ...") gets the word to pass (review15b #29: vigogne loads its weights in float16 by its own default)."""
    defaulted = _DEFAULTED.match(part)
    if defaulted is not None and defaulted.group(1) in written and part.count(_PASS_IT) == 1:
        new = written[defaulted.group(1)]
        if isinstance(new, (int, float, str)) and not isinstance(new, bool):
            return part.replace(_PASS_IT, f"pass `--{defaulted.group(1)} {new}` where the script is launched")
    found = _PASSED.match(part)
    if found is None or not part.endswith(IN_LAUNCH_LINE):
        return part
    key = found.group(1).lstrip("-").replace("-", "_")
    new = written[key] if key in written else next(iter(written.values())) if len(written) == 1 else value
    old = found.group(2)
    if isinstance(new, bool):
        if old in _BOOL_WORDS:
            return part if (old.lower() == "true") == new else f"{part} to `{found.group(1)} {_BOOL_WORDS[old]}`"
        parser = getattr(loaded.data, "parser_call", None)
        if parser is None or not call_name(parser.func).endswith(_HF_PARSERS) or (old is None and new):
            return part  # a word goblin does not know the parser reads as a bool, or a bare flag that already says True
        return f"{part} to `{found.group(1)} {new}`"  # `True`/`False`: string_to_bool takes both
    if isinstance(new, (int, float, str)) and not isinstance(value, bool):
        return f"{part} to `{found.group(1)} {_said(new)}`"
    return part


def _same_rule(loaded: LoadedConfig, field: str, fields: dict[str, Any], chosen: dict[str, tuple[Any, str]]) -> str:
    """ ", with `key` value (line N) (the same rule's edits)": the other edits of the rule that edits `field`."""
    w = loaded.workload
    rid = chosen[field][1]
    rest = []
    for other in fields:
        if other == field or chosen[other][1] != rid:
            continue
        src = w.sources.get(other)
        keys = loaded.adapter.writes(other, fields[other], w, loaded.data) or {}
        key, shown = next(iter(keys.items())) if len(keys) == 1 else (src.key if src is not None else other, fields[other])
        at = "" if src is None or src.line is None else f" ({'line ' if src.file in (w.path, '', str(loaded.path)) else src.file + ' line '}{src.line})"
        rest.append(f"`{key}` {_said(shown)}{at}")
    return f", with {', '.join(rest)} (the same rule's edits)" if rest else ""


def invalid_fields(loaded: LoadedConfig, fields: dict[str, Any]) -> dict[str, str]:
    """field -> why its edit fails the framework's own validation (unknown key, rejected value, recipe constraint)."""
    from .frameworks import check_writes

    data = loaded.data
    declared = getattr(data, "config_class", None)
    inner = loaded.adapter.framework_data(data)  # a wrapper file's block: the framework's keys, not the wrapper's
    keys_of = getattr(data, "values", None) if not isinstance(data, dict) else inner
    out: dict[str, str] = {}
    from .formats.base import IN_CODE, set_elsewhere

    recipe = None
    if loaded.adapter.name == "torchtune":
        from .formats.torchtune import run_recipe

        recipe = run_recipe(str(loaded.path), loaded.text)
    for f, v in fields.items():
        if (why := set_elsewhere(loaded.workload, f)) is not None and IN_CODE in why:
            out[f] = why  # the script's code sets it over the file after parsing it: an edit here would change nothing
            continue
        if f == "attention" and (why := attention_support.unsupported_reason(loaded.workload.model.family, v, loaded.workload.attention_release)):
            out[f] = why  # transformers would raise at load: never propose an implementation the model type lacks
            continue
        writes = loaded.adapter.writes(f, v, loaded.workload, data)
        if not writes:
            continue
        writes = {loaded.adapter.framework_key(k): w for k, w in writes.items()}
        if (foreign := _own_loop_foreign(loaded, writes)) is not None:
            out[f] = foreign
            continue
        bad = check_writes(loaded.adapter.name, str(loaded.path), loaded.text, keys_of if isinstance(keys_of, dict) else data, writes, declared, recipe)
        if bad:
            out[f] = "; ".join(bad.values())
    return out


def _drop_rules(fields: dict[str, Any], chosen: dict[str, tuple[Any, str]], bad: dict[str, str], skipped: dict[str, str]) -> dict[str, Any]:
    """Fields left after removing every edit of the rules behind `bad` (field -> why); records why in `skipped`."""
    for f, why in bad.items():
        skipped[chosen[f][1]] = why
    failed = {chosen[f][1] for f in bad}
    return {f: v for f, v in fields.items() if chosen[f][1] not in failed}


_TOPOLOGY = frozenset({"world_size", "nodes", "gpus_per_node", "strategy", "zero_stage"})
# Read by load_config from the repository, not the file (the read-back does not repeat it): kept as the audit saw it.
_KEPT = frozenset({"eager_for_training", "attention_release", "stated_gpu", "length_bound"})


def _reread_with(loaded: LoadedConfig, new_text: str, others: list[tuple[FileDiff, str]]) -> WorkloadConfig | None:
    """`_reread`, with the patch's edits of the files the config names in place when it has any."""
    return _reread(loaded, new_text, others) if others else _reread(loaded, new_text)


def _reread(loaded: LoadedConfig, new_text: str, others: list[tuple[FileDiff, str]] | None = None) -> WorkloadConfig | None:
    """The patched text read again in the same format, with the patch's edits of the files it names in
    place (in memory); None if it no longer reads as one."""
    from .formats.deepspeed import files_in_place

    try:
        with files_in_place({o.real_path: text for o, text in others or []}):
            data, adapter = parse_text(loaded.path, new_text)
            if adapter.name != loaded.adapter.name:
                return None
            return adapter.parse(loaded.path, data, new_text)
    except GoblinError:
        return None


# The note record_offload gives where a referenced DeepSpeed/FSDP file (named by the config itself)
# switches offload on, and the start of the one semantics._strategy_from_launcher gives for an accelerate
# config (or the DeepSpeed file its deepspeed_config_file names) that a repository launcher passes.
_REFERENCED = "host offload switched on in a referenced file"
_ACCELERATE_REFERENCED = "host offload switched on in accelerate config "


def referenced_phrase(w: WorkloadConfig) -> str:
    """How a finding names the file its offload edit is in: the file the config names, or the
    accelerate config (or the DeepSpeed file it names) a repository launcher passes."""
    from .formats.base import OFFLOAD_AT

    note = next((s.note or "" for k, s in w.sources.items() if k.startswith(OFFLOAD_AT + ".")), "")
    if note.startswith(_ACCELERATE_REFERENCED):
        return "the file the run reads it from (" + note.removeprefix("host offload switched on in ") + ")"
    return "the file this config names"


def _referenced(note: str | None, file: str) -> bool:
    return note == _REFERENCED or ((note or "").startswith(_ACCELERATE_REFERENCED) and Path(file).suffix.lower() in (".yaml", ".yml", ".json"))


def offload_in_referenced_file(loaded: LoadedConfig, rule_id: str) -> tuple[FileDiff, str] | None:
    """Host offload turned off in the DeepSpeed/FSDP file the config names, as a FileDiff and the
    file's new text: each offload device set to "none" (or `fsdp_offload_params` to false) on its own
    line. None when the switch is not in such a file, the file is outside the config's tree (it was
    then not read either), or the edit cannot be made in place."""
    import hashlib
    import os

    from .formats.base import OFFLOAD_AT
    from .formats.deepspeed import MAX_BYTES, configs_naming, offload_off_text
    from .safepath import read_text, repository_root, tree_of

    at = [s for k, s in loaded.workload.sources.items() if k.startswith(OFFLOAD_AT + ".")]
    if not at or any(not _referenced(s.note, s.file) or not s.key for s in at) or len({os.path.realpath(s.file) for s in at}) != 1:
        return None
    path = Path(at[0].file)
    try:
        text = read_text(path, roots=tree_of(loaded.path), limit=MAX_BYTES).replace("\r\n", "\n").replace("\r", "\n")
    except Exception:
        return None
    made = offload_off_text(path, text, [s.key or "" for s in at])
    if made is None:
        return None
    new, writes = made
    real = os.path.realpath(path)
    folder = os.path.realpath(loaded.path.parent)
    repo = repository_root(Path(os.path.abspath(loaded.path)).parent)
    shown, from_root = os.path.relpath(real, folder), False
    if shown.startswith("..") and repo is not None:
        shown, from_root = os.path.relpath(real, os.path.realpath(repo)), True
    # not the config itself, nor the accelerate config through which the run reaches the file
    route = {os.path.realpath(s.file) for k, s in loaded.workload.sources.items() if k in ("strategy", "zero_stage") and s.file}
    others = [p for p in configs_naming(loaded.path, path) if os.path.realpath(p) not in {os.path.realpath(loaded.path), *route}]
    note = ""
    if others:
        base = os.path.realpath(repo) if repo is not None else folder
        names = ", ".join(os.path.relpath(os.path.realpath(p), base) for p in others[:8]) + (f" and {len(others) - 8} more" if len(others) > 8 else "")
        note = f"{shown} is also named by {len(others)} other config{'s' if len(others) > 1 else ''} ({names}): editing it turns offload off for them too"
    diff = FileDiff(
        path=shown,
        real_path=real,
        from_root=from_root,
        diff=unified_diff(shown, text, new),
        edits=writes,
        rule_id=rule_id,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        note=note,
    )
    return diff, new


def _misread(loaded: LoadedConfig, reread: WorkloadConfig | None, fields: dict[str, Any]) -> list[str]:
    """The fields whose edit the re-read file does not carry (all, if it no longer reads)."""
    if reread is None:
        return list(fields)
    return [f for f, v in fields.items() if getattr(reread, f) != v]


def patched_text(loaded: LoadedConfig, patch: Patch | None, writes: dict[str, Any] | None = None) -> str:
    """The config's text with the patch's edits applied, then the blockers' key writes
    (`blocker_writes`, positions read again from the edited text): what `--goblin-fix` writes."""
    fields = {e.field: e.new for e in patch.edits if e.rule_id != "side effect"} if patch else {}
    text, _ = loaded.adapter.apply(loaded.path, loaded.text, loaded.data, loaded.workload, fields) if fields else (loaded.text, {})
    if writes:
        data = loaded.data if text == loaded.text else parse_text(loaded.path, text)[0]
        text, _missed = loaded.adapter.apply_keys(text, data, writes)
    return text


def blocker_writes(report: Report) -> dict[str, Any]:
    """Config key -> value: the one-edit fixes of the report's blockers, each checked by frameworks.check_writes."""
    return {k: v for f in report.findings if f.blocker and f.fix for k, v in f.fix.items()}


def unfixed_blockers(report: Report) -> list[str]:
    """The rule ids of the report's blockers on a key of the file itself that have no one-edit fix goblin
    writes: the file still does not start after --goblin-fix. A blocker outside the file (a launcher line, a
    pin, an import) leaves the file's own edits worth writing."""
    return sorted({f.rule_id for f in report.findings if f.blocker and f.key is not None and not f.fix})


def fix_allowed(report: Report) -> bool:
    """`--goblin-fix` writes only a patch that won: the item failed or warned on it, the verdict
    was decided (not inconclusive) and the speedup is above 1. Never for a pass, and never into a
    file that still would not start (a blocker without a one-edit fix, e.g. a key the framework's
    parser rejects: review2 #13, a patch that added keys to a file LLaMA-Factory refuses to read)."""
    return (
        not unfixed_blockers(report)
        and report.patch is not None
        and bool(report.patch.edits)
        and report.verdict in ("fail", "warn")
        and report.inconclusive is None
        and report.speedup is not None
        and report.speedup.point > 1.0
    )


class FixRefused(GoblinError):
    """--goblin-fix will not write this file; the message says why."""


BOM = b"\xef\xbb\xbf"


def _newline_style(raw: str) -> str:
    """The file's own line ending: CRLF, CR-only (old Mac) or LF."""
    crlf = raw.count("\r\n")
    lone_cr = raw.count("\r") - crlf
    lf = raw.count("\n") - crlf
    if crlf and crlf >= lf and crlf >= lone_cr:
        return "\r\n"
    if lone_cr and lone_cr > lf:
        return "\r"
    return "\n"


def _fixable(target: Path, shown: str, roots: list[Path], limit: int = DEFAULT_LIMIT) -> tuple[Any, bool, str]:
    """(lstat, BOM, text) of a file --goblin-fix may rewrite: a regular, writable, non-symlink file whose real
    path lies in `roots`, valid UTF-8; FixRefused naming `shown` otherwise. The config and a file it names alike."""
    import os
    import stat

    from .safepath import UnsafePath, read_bytes

    try:
        st = os.lstat(target)
    except OSError as exc:
        raise FixRefused(f"{shown}: cannot be fixed: {exc.strerror}") from None
    if stat.S_ISLNK(st.st_mode):
        raise FixRefused(f"{shown}: a symlink; --goblin-fix does not replace links (fix the file it points to)")
    if not stat.S_ISREG(st.st_mode):
        raise FixRefused(f"{shown}: not a regular file")
    if not st.st_mode & 0o222 or not os.access(target, os.W_OK):
        raise FixRefused(f"{shown}: read-only; --goblin-fix leaves read-only files alone")
    try:
        raw = read_bytes(target, roots=roots, limit=limit)
    except UnsafePath as exc:
        raise FixRefused(f"{shown}: not written: {exc.reason}") from None
    try:
        return st, raw.startswith(BOM), raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FixRefused(f"{shown}: not valid UTF-8") from None


def write_fix(path: Path, patch: Patch | None, audited: LoadedConfig | None = None, writes: dict[str, Any] | None = None) -> bool:
    """Apply a patch to the file in place (atomically); False when there is nothing to write.

    The file is respected: a symlink, a read-only file or one whose real path is outside its
    repository (or, with none, the audited tree) is refused
    (FixRefused); a file changed since the audit is refused rather than overwritten; mode, owner,
    line endings (LF, CRLF or CR) and a UTF-8 BOM are kept. `audited` is the parse the audit
    ran on; without it the file is read now. `writes` are blockers' key writes (blocker_writes),
    written whether or not the patch is.
    """
    from .fileio import write_atomic
    from .formats import load_config
    from .safepath import repository_tree

    if not (patch and patch.edits) and not writes:
        return False
    # the real path must lie in the repository found from the path as written (N1)
    st, bom, current = _fixable(path, str(path), repository_tree(path))
    newline = _newline_style(current)
    loaded = audited or load_config(path)
    if current.replace("\r\n", "\n").replace("\r", "\n") != loaded.text:
        raise FixRefused(f"{path}: changed since it was audited; audit it again before fixing")
    text = patched_text(loaded, patch, writes)
    others = _other_writes(path, patch)  # every file checked before any is written
    if text == loaded.text and not others:
        return False
    out = (BOM if bom else b"") + text.replace("\n", newline).encode("utf-8")
    try:
        for other, data, other_st in others:
            write_atomic(other, data, like=other_st)
        if text != loaded.text:
            write_atomic(path, out, like=st)
    except OSError as exc:
        raise FixRefused(f"{path}: could not be written: {exc.strerror}") from None
    return True


def _other_writes(path: Path, patch: Patch | None) -> list[tuple[Path, bytes, Any]]:
    """The patch's edits of the files the config names, made again on their current text: each
    must be a regular, writable, non-symlink file inside the config's repository (or tree) and
    unchanged since the audit (its sha256); FixRefused naming the file otherwise."""
    import hashlib

    from .formats.deepspeed import MAX_BYTES, offload_off_text
    from .safepath import repository_tree

    out: list[tuple[Path, bytes, Any]] = []
    for other in patch.other_files if patch and patch.edits else []:
        target = Path(other.real_path)
        st, bom, current = _fixable(target, other.path, repository_tree(path), MAX_BYTES)
        newline = _newline_style(current)
        current = current.replace("\r\n", "\n").replace("\r", "\n")
        if hashlib.sha256(current.encode("utf-8")).hexdigest() != other.sha256:
            raise FixRefused(f"{other.path}: changed since it was audited; audit it again before fixing")
        made = offload_off_text(target, current, list(other.edits))
        if made is None or made[1] != other.edits:
            raise FixRefused(f"{other.path}: the edit no longer applies; audit it again before fixing")
        out.append((target, (BOM if bom else b"") + made[0].replace("\n", newline).encode("utf-8"), st))
    return out


def fix_note(path: Path, patch: Patch | None, audited: LoadedConfig | None = None, writes: dict[str, Any] | None = None) -> str | None:
    """What --goblin-fix did to `path`, as a report note: the edits written, or why not."""
    try:
        if not write_fix(path, patch, audited, writes):
            return None
    except FixRefused as exc:
        return f"--goblin-fix did not write: {exc}"
    parts = [f"{len(patch.edits)} edits"] if patch and patch.edits else []
    if writes:
        shown = ", ".join(
            f"`{k}` renamed `{v['rename_to']}`" if isinstance(v, dict) and set(v) == {"rename_to"} else f"`{k}: {str(v).lower() if isinstance(v, bool) else v}`"
            for k, v in writes.items()
        )
        parts.append(f"the blocker fix {shown}")
    fixed = f"--goblin-fix wrote {' and '.join(parts)} into {path.name}"
    if patch and patch.edits and patch.other_files:  # and into the files the config names, with what changed there
        fixed += "".join(f", and into {o.path} " + ", ".join(f"`{k}: {_said(v)}`" for k, v in o.edits.items()) for o in patch.other_files)
    env = " ".join(f"{k}={v}" for k, v in sorted(patch.env.items())) if patch else ""
    return fixed + (f"; set in the job environment by hand: {env}" if env else "")


def _own_loop_foreign(loaded: LoadedConfig, writes: dict[str, Any]) -> str | None:
    """Why an edit of a recipe whose script trains in its own loop on its own dataclasses (formats/launched.py
    `Launched.own_loop`: open-instruct finetune.py's FlatArguments, review15a #15) writes a key none of them declares:
    the script's HfArgumentParser parse refuses it (parse_yaml_file -> parse_dict with allow_extra_keys=False raises
    ValueError, transformers 4.36.2 hf_argparser.py:351,375-376 .. 5.25.0 :358,382-383), and its loop would never read
    a TrainingArguments key anyway. None for any other recipe, or where every key written is a field of its classes."""
    if loaded.adapter.name != "hf-trainer" or not str(loaded.path).endswith((".yaml", ".yml", ".json")):
        return None
    from .formats.launched import launched_script

    launched = launched_script(str(loaded.path))
    if launched is None or not launched.own_loop:
        return None
    foreign = sorted(k for k in writes if k.split(".", 1)[0] not in launched.own_fields)
    if not foreign:
        return None
    return (
        f"{', '.join(f'`{k}`' for k in foreign)} is a field of none of {', '.join(launched.parser_classes)}, which {launched.script} parses this file into"
        f" and trains on in its own loop (`backward` at {launched.own_loop}): its parser refuses a key it does not declare"
        " (transformers hf_argparser.py:382-383@5.25.0, parse_dict with allow_extra_keys=False)"
    )
