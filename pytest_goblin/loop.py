"""run_audit(): the backend-agnostic tool-use loop, an async generator of Events.

Any Backend drives at most MAX_STEPS tool calls. The final report is the last successful
compare_runs result; when a backend never gets there, `_auto_compare` builds the report from
the tool log (tier 1: two benchmarks; tier 2: one benchmark, the other side projected) or
ends with an error event saying what was missing (tier 3). Nothing a backend or a tool
raises escapes: it becomes an event.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from pytest_goblin.runners.command import CommandRunner
from pytest_goblin.runners.protocol import Runner, make_runner

from . import tools
from .backends.base import Backend
from .backends.planner import Planner
from .errors import GoblinError
from .hardware import get_hardware
from .redact import redact
from .rules import cached_rules
from .schemas import Event, Report, Usage
from .settings import Settings
from .tools.audit_tools import build_report
from .tools.context import AuditContext

MAX_STEPS = 10


def make_context(path: Path, settings: Settings, runner: Runner | None = None, backend: str = "planner") -> AuditContext:
    hw = get_hardware(settings.target)
    rules = cached_rules(settings.kb_paths)
    if runner is None:
        runner = make_runner(
            settings.runner_name,
            timeout_s=settings.budget_s,
            warmup=settings.warmup_steps,
            command=settings.command,
            command_steps=settings.command_steps,
            command_metric=settings.command_metric,
            command_metric_unit=settings.command_metric_unit,
        )
    ctx = AuditContext(path=path, settings=settings, hw=hw, runner=runner, rules=rules, backend=backend)
    if isinstance(runner, CommandRunner):
        ctx.runner = runner.bind(ctx.variant_files)
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
) -> AsyncIterator[Event]:
    settings = settings or Settings()
    path = Path(path)
    try:
        ctx = context or make_context(path, settings, runner, backend=getattr(backend, "name", "custom"))
    except Exception as exc:
        yield Event(type="error", data={"message": redact(f"cannot start the audit: {exc}")})
        return
    ctx.notes.extend(notes or [])
    log: list[tuple[str, str, bool]] = []  # (tool, content, is_error): what a fallback planner replays
    first_backend = backend
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
            yield Event(type="error", data={"message": stopped, "recoverable": True})
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
                yield Event(type="thought", data={"text": redact(text)})
        if not turn.tool_calls:
            break
        for call in turn.tool_calls:
            if steps >= max_steps:
                backend.add_tool_result(call.id, call.name, f"not run: MAX_STEPS={max_steps} reached", True)
                continue
            steps += 1
            yield Event(type="tool_call", data={"id": call.id, "name": call.name, "arguments": _jsonable(call.arguments), "step": steps})
            # Tools run inline: one audit per event loop, so there is nothing to keep responsive,
            # and a thread hop per call cost more than a whole projected audit.
            result = tools.call(ctx, call.name, call.arguments)
            yield Event(type="tool_result", data={"id": call.id, "name": call.name, **result.model_dump(mode="json")})
            content = json.dumps(tools.for_model(call.name, result.result), default=str) if result.ok else (result.error or "error")
            if not result.ok:
                last_error = f"{call.name}: {result.error}"
            backend.add_tool_result(call.id, call.name, content, not result.ok)
            log.append((call.name, content, not result.ok))
            if ctx.fatal:
                yield Event(type="error", data={"message": redact(ctx.fatal)})
                return
    usage = getattr(first_backend, "usage", None)
    if ctx.reports:
        yield Event(type="final_report", data=_with_usage(ctx.reports[-1], ctx, usage).model_dump(mode="json"))
        return
    report, missing = _auto_compare(ctx, stopped)
    if report is not None:
        yield Event(type="final_report", data=_with_usage(report, ctx, usage).model_dump(mode="json"))
    else:
        detail = f"; last tool error: {last_error}" if last_error else ""
        yield Event(type="error", data={"message": f"no report: {missing} ({stopped}){detail}"})


def _with_usage(report: Report, ctx: AuditContext, usage: Usage | None) -> Report:
    """The report with the LLM's token accounting and every note the loop added since."""
    missing = [n for n in ctx.notes if n not in report.notes]
    return report.model_copy(update={"usage": usage.model_copy() if usage is not None else None, "notes": [*missing, *report.notes]})


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


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return str(value)


async def collect(path: str | Path, *, on_event: Callable[[Event], None] | None = None, **kwargs: Any) -> list[Event]:
    events = []
    async for event in run_audit(path, **kwargs):
        events.append(event)
        if on_event is not None:
            on_event(event)
    return events


def audit_sync(path: str | Path, *, on_event: Callable[[Event], None] | None = None, **kwargs: Any) -> list[Event]:
    """Run one audit to completion from synchronous code (pytest items, the CLI); `on_event`
    sees each event as it happens, for progress displays."""
    return asyncio.run(collect(path, on_event=on_event, **kwargs))


def progress_text(event: Event) -> str | None:
    """A short line for a progress display, or None for events not worth showing."""
    if event.type == "tool_call":
        args = event.data.get("arguments") or {}
        detail = f" {args.get('variant', '')}".rstrip() if event.data.get("name") == "benchmark" else ""
        return f"step {event.data.get('step')}: {event.data.get('name')}{detail}"
    if event.type == "error":
        return f"error: {str(event.data.get('message', ''))[:80]}"
    return None


def final_report(events: list[Event]) -> Report | None:
    for event in reversed(events):
        if event.type == "final_report":
            return Report.model_validate(event.data)
    return None


__all__ = ["MAX_STEPS", "GoblinError", "audit_sync", "collect", "final_report", "make_context", "progress_text", "run_audit"]
