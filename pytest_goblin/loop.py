"""run_audit(): the backend-agnostic tool-use loop, an async generator of Events.

Any Backend drives at most MAX_STEPS tool calls. The final report is the last successful
compare_runs result; when a backend never gets there, `_auto_compare` builds the report from
the tool log (tier 1: two benchmarks; tier 2: one benchmark, the other side projected) or
ends with an error event saying what was missing (tier 3). Nothing a backend or a tool
raises escapes: it becomes an event.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

from . import events, tools
from .backends.base import Backend
from .backends.planner import Planner
from .errors import GoblinError
from .events import ErrorData, Event, ToolResultData
from .formats import LoadedConfig
from .hardware import get_hardware
from .redact import redact, redactor
from .rules import cached_rules
from .runners import Runner, runner_for
from .schemas import Report, ToolResult, Usage
from .settings import Settings
from .tools.audit_tools import build_report, findings
from .tools.context import AuditContext

MAX_STEPS = 10


def make_context(path: Path, settings: Settings, runner: Runner | None = None, backend: str = "planner") -> AuditContext:
    hw = get_hardware(settings.target)
    rules = cached_rules(settings.kb_paths)
    ctx = AuditContext(path=path, settings=settings, hw=hw, runner=runner or runner_for(settings), rules=rules, backend=backend)
    ctx.runner = ctx.runner.bind(ctx.variant_files)
    return ctx


def _brief(ctx: AuditContext) -> str:
    from .prompts import brief

    return brief(ctx.path.name, ctx.hw.name)


async def run_audit(
    path: str | Path,
    *,
    backend: Backend,
    runner: Runner | None = None,
    settings: Settings | None = None,
    max_steps: int = MAX_STEPS,
    context: AuditContext | None = None,
    notes: list[str] | None = None,
    loaded: LoadedConfig | None = None,
) -> AsyncIterator[Event]:
    settings = settings or Settings()
    path = Path(path)
    try:
        ctx = context or make_context(path, settings, runner, backend=getattr(backend, "name", "custom"))
    except Exception as exc:
        yield events.error(redact(f"cannot start the audit: {exc}"))
        return
    ctx.notes.extend(notes or [])
    if loaded is not None and ctx.loaded is None:
        ctx.loaded = loaded  # parsed at collection: parse_config reads no file
    log: list[tuple[str, str, bool]] = []  # (tool, content, is_error): what a fallback planner replays
    first_backend = backend
    mask = redactor()
    schemas = tools.tool_schemas()
    backend.add_user_message(_brief(ctx))
    steps = 0
    last_error: str | None = None
    stopped = "the backend ended its turn"
    while True:
        if steps >= max_steps:
            stopped = f"MAX_STEPS={max_steps} tool calls reached"
            break
        try:
            turn = await backend.next_turn(schemas)
        except Exception as exc:
            stopped = redact(f"the {getattr(backend, 'name', 'backend')} backend failed: {type(exc).__name__}: {exc}")
            yield events.error(stopped, recoverable=True)
            if isinstance(backend, Planner):
                break
            # The planner reads nothing but the tool log, so it can finish what the LLM began.
            ctx.notes.append(f"{stopped} at step {steps}; the deterministic planner finished the audit from the tool log")
            backend = Planner()
            for name, content, is_error in log:
                backend.add_tool_result(f"replay-{len(backend.log)}", name, content, is_error)
            continue
        for text in turn.text_blocks:
            if text.strip():
                yield events.thought(mask(text))
        if not turn.tool_calls:
            break
        for call in turn.tool_calls:
            if steps >= max_steps:
                backend.add_tool_result(call.id, call.name, f"not run: MAX_STEPS={max_steps} reached", True)
                continue
            steps += 1
            yield events.tool_call(call.id, call.name, call.arguments, steps)
            # Tools run inline: one audit per event loop, so there is nothing to keep responsive,
            # and a thread hop per call cost more than a whole projected audit.
            result = tools.call(ctx, call.name, call.arguments)
            # The result is already plain data (tools.call dumps models); it is shared, not copied.
            yield Event(type="tool_result", data=ToolResultData(id=call.id, name=call.name, ok=result.ok, result=result.result, error=result.error))
            untrusted = tools.config_texts(ctx.loaded.workload) if ctx.loaded is not None else None
            if result.ok:
                content = json.dumps(tools.for_model(call.name, result.result, untrusted), default=str)
            else:
                content = tools.for_model(call.name, result.error or "error", untrusted)
            if not result.ok:
                last_error = f"{call.name}: {result.error}"
            backend.add_tool_result(call.id, call.name, content, not result.ok)
            log.append((call.name, content, not result.ok))
            if ctx.fatal:
                yield events.error(redact(ctx.fatal))
                return
    usage = getattr(first_backend, "usage", None)
    missing = ""
    report = ctx.reports[-1] if ctx.reports else None
    if report is None:
        report, missing = _auto_compare(ctx, stopped)
    if report is None:
        detail = f"; last tool error: {last_error}" if last_error else ""
        yield events.error(f"no report: {missing} ({stopped}){detail}")
        return
    if not isinstance(first_backend, Planner):
        floor = _PlannerFloor(ctx, report, getattr(first_backend, "name", "custom"), steps)
        for event in floor.run():
            yield event
        if floor.report is None:
            yield events.error(redact(floor.failure or "the planner's floor could not be computed"))
            return
        report = floor.report
    yield events.final(_with_usage(report, ctx, usage))


def _with_usage(report: Report, ctx: AuditContext, usage: Usage | None) -> Report:
    """The report with the LLM's token accounting and every note the loop added since."""
    missing = [n for n in ctx.notes if n not in report.notes]
    return report.model_copy(update={"usage": usage.model_copy() if usage is not None else None, "notes": [*missing, *report.notes]})


_SEVERITY = {"pass": 0, "warn": 1, "fail": 2, "error": 3}


def _rank(report: Report) -> tuple[int, float]:
    return _SEVERITY[report.verdict], report.speedup.point if report.speedup is not None else 1.0


class _PlannerFloor:
    """An LLM (any non-planner) backend cannot make a verdict better than the deterministic
    planner's evidence allows. When the backend's patch leaves out applicable non-footgun rules
    the planner would apply, the planner's patch (every such rule, through the same propose_patch)
    is benchmarked too, against the same baseline run, and the report with the more severe verdict
    (then the larger speedup) is the audit's; either way the report names the rules left out and
    what the planner's patch gave. Any failure on the way fails closed: an error, never the
    backend's verdict unchecked."""

    def __init__(self, ctx: AuditContext, report: Report, who: str, steps: int):
        self.ctx, self.who, self.steps = ctx, who, steps
        self.backend_report = report
        self.report: Report | None = None
        self.failure: str | None = None
        self.result = ToolResult(ok=False)

    def _tool(self, name: str, args: dict[str, Any]) -> Iterator[Event]:
        self.steps += 1
        call_id = f"floor-{self.steps}"
        yield events.tool_call(call_id, name, args, self.steps)
        result = tools.call(self.ctx, name, args)
        yield Event(type="tool_result", data=ToolResultData(id=call_id, name=name, ok=result.ok, result=result.result, error=result.error))
        self.result = result
        if not result.ok:
            self.failure = f"the planner's check of the {self.who} backend's patch failed: {name}: {result.error}"
        elif self.ctx.fatal:
            self.failure = self.ctx.fatal

    def run(self) -> Iterator[Event]:
        ctx, report = self.ctx, self.backend_report
        chosen = report.patch
        if ctx.loaded is None or chosen is None or report.before is None:
            self.failure = f"the {self.who} backend's report has no patch or baseline to check against the planner's"
            return
        w = ctx.loaded.workload
        expected = [r.id for r in ctx.applicable(w) if not r.footgun and r.id not in w.ignored_rules]
        omitted = [rid for rid in expected if rid not in chosen.rule_ids and rid not in chosen.skipped]
        if not omitted:
            self.report = report
            return
        yield events.thought(
            f"The {self.who} backend's patch {chosen.patch_id} leaves out applicable rules {', '.join(omitted)}; checking the planner's patch with them."
        )
        yield from self._tool("propose_patch", {"rule_ids": expected})
        if self.failure:
            return
        planned = ctx.patches[self.result.result["patch_id"]]
        extra = [rid for rid in planned.rule_ids if rid not in chosen.rule_ids]
        left_out = f"the {self.who} backend's patch {chosen.patch_id} left out applicable rules {', '.join(omitted)}"
        if not extra:
            why = "; ".join(f"{rid}: {planned.skipped.get(rid, 'not applied')}" for rid in omitted)
            self.report = self._marked(report, omitted, f"{left_out}; the deterministic planner's patch applies none of them either ({why})")
            return
        yield from self._tool("benchmark", {"variant": planned.patch_id})
        if self.failure:
            return
        after = ctx.runs[self.result.result["run_id"]]
        before = ctx.runs.get(report.before.run_id, report.before)
        if after.evidence == "measured":  # paired with the baseline the benchmark interleaved it with
            before = next((m for m in reversed(ctx.runs.values()) if m.variant == "baseline" and m.evidence == "measured"), before)
        theirs = build_report(ctx, before, after, planned)
        ours, mine = _speedup(theirs), _speedup(report)
        if _rank(theirs) > _rank(report):
            note = (
                f"{left_out}: the deterministic planner's patch {planned.patch_id} with them gives {ours} ({theirs.verdict}), "
                f"more than the backend's {mine} ({report.verdict}), so this is the planner's report: "
                "an LLM backend cannot make a verdict better than the planner's evidence allows"
            )
            self.report = theirs.model_copy(update={"notes": [note, *dict.fromkeys([*report.notes, *theirs.notes])]})
        else:
            note = (
                f"{left_out}: the deterministic planner's patch {planned.patch_id} with them gives {ours} ({theirs.verdict}), no more than this patch's {mine}"
            )
            self.report = self._marked(report, omitted, note)

    def _marked(self, report: Report, omitted: list[str], note: str) -> Report:
        """The backend's report, its findings saying which rules its patch left out."""
        assert report.patch is not None
        skipped = {**{rid: f"left out by the {self.who} backend's patch" for rid in omitted}, **report.patch.skipped}
        patch = report.patch.model_copy(update={"skipped": skipped})
        return report.model_copy(update={"patch": patch, "findings": findings(self.ctx, patch), "notes": [note, *report.notes]})


def _speedup(report: Report) -> str:
    s = report.speedup
    return f"{s.point:.2f}x [{s.low:.2f}-{s.high:.2f}] {report.evidence or ''}".rstrip() if s is not None else "no speedup"


def _auto_compare(ctx: AuditContext, stopped: str) -> tuple[Report | None, str]:
    """Build the report the backend did not ask for, from what the tool log holds."""
    if not ctx.patches:
        return None, "no patch was proposed"
    runs = list(ctx.runs.values())
    baseline = next((r for r in runs if r.variant == "baseline"), None)
    patched = next((r for r in reversed(runs) if r.variant in ctx.patches), None)
    if baseline is not None and patched is not None:
        note = f"compare_runs was not called ({stopped}): the first and last benchmarks were compared"
        return build_report(ctx, baseline, patched, ctx.patches[patched.variant], notes=[note]), ""
    if baseline is None and patched is None:
        return None, "a patch was proposed but no benchmark was run"
    patch_id = patched.variant if patched is not None else list(ctx.patches)[-1]
    patch = ctx.patches[patch_id]
    if baseline is None:
        baseline = ctx.projection.run(ctx.loaded.workload if ctx.loaded else patch.new_workload, ctx.hw, run_id="projected-baseline", variant="baseline")
        side = "before"
    else:
        patched = ctx.projection.run(patch.new_workload, ctx.hw, run_id="projected-after", variant=patch_id)
        side = "after"
    assert patched is not None
    note = f"only one benchmark was run ({stopped}): the {side} side comes from the projection runner"
    return build_report(ctx, baseline, patched, patch, notes=[note]), ""


async def collect(path: str | Path, *, on_event: Callable[[Event], None] | None = None, **kwargs: Any) -> list[Event]:
    out = []
    async for event in run_audit(path, **kwargs):
        out.append(event)
        if on_event is not None:
            on_event(event)
    return out


_LOOPS = threading.local()


def audit_sync(path: str | Path, *, on_event: Callable[[Event], None] | None = None, **kwargs: Any) -> list[Event]:
    """Run one audit to completion from synchronous code (pytest items, the CLI); `on_event`
    sees each event as it happens, for progress displays.

    One event loop per thread serves every audit: a new loop per item cost as much as the rest
    of a projected audit's bookkeeping. It is driven with run_until_complete rather than
    asyncio.run: that one swaps the SIGINT handler per call (formatting the finished task's repr
    on the way out) and defers the first Ctrl-C until a blocking tool returns, where the default
    handler stops a measured run at once."""
    loop = getattr(_LOOPS, "loop", None)
    if loop is None or loop.is_closed():
        loop = _LOOPS.loop = asyncio.new_event_loop()
        atexit.register(_close, loop)
    return loop.run_until_complete(collect(path, on_event=on_event, **kwargs))


def _close(loop: asyncio.AbstractEventLoop) -> None:
    if not loop.is_closed() and not loop.is_running():
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


def progress_text(event: Event) -> str | None:
    """A short line for a progress display, or None for events not worth showing."""
    data = event.data
    if isinstance(data, events.ToolCallData):
        detail = f" {data.variant or ''}".rstrip() if data.name == "benchmark" else ""
        return f"step {data.step}: {data.name}{detail}"
    if isinstance(data, ErrorData):
        return f"error: {data.message[:80]}"
    return None


def last_error(trajectory: list[Event], default: str = "the audit ended without a report") -> str:
    """The message of the audit's last error event: why there is no report."""
    for event in reversed(trajectory):
        if isinstance(event.data, ErrorData):
            return event.data.message
    return default


def final_report(trajectory: list[Event]) -> Report | None:
    for event in reversed(trajectory):
        if isinstance(event.data, Report):
            return event.data
    return None


__all__ = ["MAX_STEPS", "GoblinError", "audit_sync", "collect", "final_report", "last_error", "make_context", "progress_text", "run_audit"]
