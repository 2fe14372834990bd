"""The one-screen failure text and the `-v` trajectory."""

from __future__ import annotations

from ..events import ErrorData, Event, ThoughtData, ToolCallData, ToolResultData
from ..outcome import ItemOutcome
from ..redact import redact, redact_model
from ..schemas import Report, RunMetrics
from ..stats import HAND_COUNTED


def _run(m: RunMetrics | None) -> str:
    if m is None:
        return "n/a"
    mem = f", peak {m.peak_memory_gb:.1f} GB" if m.peak_memory_gb is not None else ""
    if m.throughput is not None:  # a training command's own figure, in the unit it was read in
        return f"{m.throughput} ({m.evidence}, {m.runner} on {m.device}{mem})"
    if m.tokens_per_s is None:
        return f"{m.samples_per_s or 0:,.1f} samples/s ({m.evidence}, {m.runner} on {m.device}{mem})"
    if m.tokens_per_s_interval is not None:
        return f"{interval_text(m)} tokens/s/GPU ({m.evidence}, {m.runner} on {m.device}{mem})"
    return f"{m.tokens_per_s:,.0f} tokens/s ({m.evidence}, {m.runner} on {m.device}{mem})"


def interval_text(m: RunMetrics) -> str:
    """A projected throughput with its interval, `4,129 [2,836-6,502]`; the plain figure without one."""
    i = m.tokens_per_s_interval
    if i is None:
        return f"{m.tokens_per_s or 0:,.0f}"
    return f"{i.nominal:,.0f} [{i.low:,.0f}-{i.high:,.0f}]"


def throughput_text(r: Report) -> str:
    """Before and after as projected tokens/s per GPU with their intervals; empty unless both have one."""
    if r.before is None or r.after is None or r.before.tokens_per_s_interval is None or r.after.tokens_per_s_interval is None:
        return ""
    return f"{interval_text(r.before)} -> {interval_text(r.after)} tokens/s/GPU projected"


def widened_lines(r: Report) -> list[str]:
    """Why each side's projected throughput interval is wider than the grid's, once per reason."""
    seen: list[str] = []
    for m in (r.before, r.after):
        for why in m.tokens_per_s_interval.widened if m is not None and m.tokens_per_s_interval is not None else []:
            if why not in seen:
                seen.append(why)
    return [f"  throughput interval widened: {why}" for why in seen]


def speedup_text(r: Report) -> str:
    if r.speedup is None:
        return "n/a"
    s = r.speedup
    where = f" on {r.measured_on}" if r.measured_on else ""  # the numbers' device; the advice is for r.target
    if r.hand_speedup is not None:
        # the verdict rests on edits made by hand (the launch line, the script's code): their projection leads, not the
        # config patch's 1.00x (blind review 14b #31: "the table shows 1.00x" on a FAIL)
        h = r.hand_speedup
        return f"{h.point:.2f}x [{h.low:.2f}-{h.high:.2f}] {r.evidence} with the edits made by hand (the config's own patch: {s.point:.2f}x)"
    return f"{s.point:.2f}x [{s.low:.2f}-{s.high:.2f}] {r.evidence}{where}"


def undecided_text(r: Report) -> str:
    """An inconclusive result in one line: what was measured, that it decided nothing, why and
    what to change (the reason names the setting)."""
    return f"{speedup_text(r)}, not decided: {r.inconclusive}"


def summary_line(item: ItemOutcome) -> str:
    """One config's line in the terminal summary (pytest and goblin audit). Each piece from the
    report is masked before the line is put together, never the line: a learned secret could
    otherwise hide the verdict word (red team round 8)."""
    r = item.report
    path = redact(item.path)
    if r is not None and r.inconclusive:
        return f"INCONCLUSIVE {path}  {redact(undecided_text(r))}"
    speed = speedup_text(r) if r is not None and r.speedup else item.message[:600]  # an error keeps the exception's own line
    blocked = [f.rule_id for f in r.findings if f.blocker] if r is not None else []
    if blocked:  # a run that does not start: what stops it, before any speedup
        from ..blockers import counted

        speed = f"will not start on {r.target if r else '?'}: {counted(blocked)}"
    undecided = f" ({r.straddles})" if r is not None and r.straddles and not blocked else ""  # the level noise could still change
    if r is not None and not blocked and r.verdict in ("warn", "fail") and r.patch is not None and not (r.patch.edits or r.patch.env):
        # a WARN with nothing patched: a footgun the projection prices at goblin_warn_at (audit_tools._unpatched_footguns); a
        # FAIL with nothing patched: an edit projected over the lengths the config fits at (audit_tools._over_fitting_span)
        undecided = f" ({r.reason})"
    if r is not None and not blocked and r.verdict in ("warn", "fail") and not undecided and HAND_COUNTED in r.reason:
        # the verdict counts edits the user makes by hand (the launch line, the script's code): its speedup is not the
        # patch's, so the line says what decided it
        undecided = f" ({r.reason})"
    rate = throughput_text(r) if r is not None and r.speedup else ""
    rate = f"; {rate}" if rate else ""
    return f"{item.verdict.upper():5} {path}  {redact(speed)}{redact(undecided)}{redact(rate)}"


def rollout_lines(r: Report) -> list[str]:
    """An online RL item's projected split (schemas.RolloutSplit), for `-v` and the failure text."""
    s = r.rollout
    if s is None:
        return []
    gen = f"generation {s.generation_ms:,.0f} ms" if s.generation_ms is not None else "generation not projected"
    total = f" | total {s.total_ms:,.0f} ms" if s.total_ms is not None else ""
    mem = f"training state {s.training_memory_gb:.1f} GB"
    if s.vllm_reserved_gb is not None:
        mem += f" + colocated vLLM {s.vllm_reserved_gb:.1f} GB = {s.training_memory_gb + s.vllm_reserved_gb:.1f} GB"
    return [
        f"    online RL split ({s.method}, {s.trainer}; projected, per GPU and optimizer step): {gen} | reference {s.reference_ms:,.0f} ms"
        f" | log-prob forward {s.logprob_ms:,.0f} ms | training {s.training_ms:,.0f} ms{total}",
        f"      {s.completions_per_step:g} completions of {s.prompt_tokens} prompt + {s.completion_tokens} completion tokens; generation on {s.generation_on}",
        f"      memory: {mem} of {s.hbm_phrase or f'{s.hbm_gb:.0f} GB'}",
        *(f"      not modelled: {n}" for n in s.not_modelled),
    ]


def findings_lines(r: Report) -> list[str]:
    """A passing or warned item's findings, one line each (footguns and guidance first), for `-v`:
    a PASS can still carry a ROCm build requirement or advice it did not patch; then an online RL split."""
    lines = rollout_lines(r)
    for f in sorted(r.findings, key=lambda f: not f.footgun):
        where = f"{f.file or r.path}:{f.line}" if f.line else f"{r.path} (not set in the file)"  # README.md:153: a launch line's value
        kind = "footgun" if f.footgun else "patched" if r.patch and f.rule_id in r.patch.rule_ids else "not patched"
        lines.append(f"    {kind}: {redact(where)}: [{redact(f.rule_id)}] {redact(f.title)}")
    return lines


def masked_failure_text(r: Report) -> str:
    """failure_text of the report with its strings masked first (redact_model: a rendered block is never masked,
    red team round 8). Only what failure_text renders is masked: the patched workload's sources and notes,
    most of a report's strings, are not shown there."""
    shown = r
    if r.patch is not None:
        bare = r.patch.new_workload.model_copy(update={"sources": {}, "notes": []})
        shown = r.model_copy(update={"patch": r.patch.model_copy(update={"new_workload": bare})})
    return failure_text(redact_model(shown))


def failure_text(r: Report) -> str:
    if r.inconclusive:
        head = [f"{r.path}: INCONCLUSIVE for {r.target}: {speedup_text(r)}, not decided", f"  why and what to change: {r.inconclusive}", ""]
    elif any(f.blocker for f in r.findings):
        head = [f"{r.path}: FAIL for {r.target}: will not start ({speedup_text(r)} to recover once it does)", f"  {r.reason}", ""]
    else:
        head = [f"{r.path}: {r.verdict.upper()} for {r.target}: {speedup_text(r)}", f"  {r.reason}", ""]
    lines = head
    for f in r.findings:
        where = f"{f.file or r.path}:{f.line}" if f.line else f"{r.path} (not set in the file)"  # README.md:153: a launch line's value
        tag = "BLOCKER" if f.blocker else "footgun" if f.footgun else "finding"
        lines.append(f"  {where}: [{f.rule_id}] {f.title} ({tag})")
        lines.append(f"      {f.message}")
        if f.fix:
            lines.append("      --goblin-fix writes: " + ", ".join(_fix_shown(k, v) for k, v in f.fix.items()))
        lines.append(f"      see {f.citation}")
    lines += ["", f"  before: {_run(r.before)}", f"  after:  {_run(r.after)}", *widened_lines(r), *rollout_lines(r)]
    if r.patch and r.patch.env:
        lines.append("  environment: " + " ".join(f"{k}={v}" for k, v in sorted(r.patch.env.items())))
    if r.patch and r.patch.diff:
        lines += ["", r.patch.diff.rstrip()]
    for other in r.patch.other_files if r.patch else []:
        lines += ["", f"  and in {other.path}, the file the config names:", other.diff.rstrip()]
        if other.note:
            lines.append(f"  {other.note}")
    for note in r.notes:
        lines.append(f"  note: {note}")
    return "\n".join(lines)


def trajectory_text(events: list[Event]) -> str:
    out = []
    for e in events:
        d = e.data
        if isinstance(d, ThoughtData):
            out.append(f"  thought: {d.text}")
        elif isinstance(d, ToolCallData):
            out.append(f"  call {d.step}: {d.name}({d.arguments})")
        elif isinstance(d, ToolResultData):
            status = "ok" if d.ok else f"error: {d.error}"
            out.append(f"    -> {d.name}: {status}")
        elif isinstance(d, ErrorData):
            out.append(f"  error: {d.message}")
        elif isinstance(d, Report):
            out.append(f"  final report: {d.verdict}")
    return "\n".join(out)


def _fix_shown(key: str, value: object) -> str:
    """`key: value`, or `old` -> `new` for a rename (blockers' {key: {"rename_to": new}})."""
    if isinstance(value, dict) and set(value) == {"rename_to"}:
        return f"`{key}` -> `{value['rename_to']}`"
    return f"`{key}: {str(value).lower() if isinstance(value, bool) else value}`"
