"""The audit's tools: pydantic inputs, JSON schemas for backends, and a forgiving dispatcher."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ValidationError

from ..errors import GoblinError
from ..schemas import ToolResult
from .context import AuditContext


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    input_model: type[BaseModel]
    fn: Callable[[AuditContext, Any], Any]

    def schema(self) -> dict[str, Any]:
        schema = self.input_model.model_json_schema()
        schema.pop("title", None)
        return {"name": self.name, "description": self.description, "input_schema": schema}


def _registry() -> dict[str, Tool]:
    from . import audit_tools as t

    tools = [
        Tool("parse_config", t.PARSE_DOC, t.ParseConfigInput, t.parse_config),
        Tool("profile_run", t.PROFILE_DOC, t.ProfileRunInput, t.profile_run),
        Tool("query_rocm_kb", t.QUERY_DOC, t.QueryKBInput, t.query_rocm_kb),
        Tool("propose_patch", t.PATCH_DOC, t.ProposePatchInput, t.propose_patch),
        Tool("benchmark", t.BENCH_DOC, t.BenchmarkInput, t.benchmark),
        Tool("compare_runs", t.COMPARE_DOC, t.CompareRunsInput, t.compare_runs),
    ]
    return {tool.name: tool for tool in tools}


TOOLS = _registry()


@lru_cache(maxsize=1)
def _schemas() -> tuple[dict[str, Any], ...]:
    return tuple(tool.schema() for tool in TOOLS.values())


def tool_schemas() -> list[dict[str, Any]]:
    """JSON schemas of the tools, shared by every audit: a backend that annotates one (Claude
    marks the last for prompt caching) copies it first."""
    return list(_schemas())


def _repair(args: Any, fields: set[str]) -> Any:
    """Accept a JSON string (even encoded twice), arguments nested one level too deep
    ({"input": {...}}), and list or object fields sent as JSON strings."""
    for _ in range(2):
        if not isinstance(args, str):
            break
        try:
            args = json.loads(args) if args.strip() else {}
        except json.JSONDecodeError as exc:
            raise ValueError(f"arguments are not valid JSON: {exc.msg} at position {exc.pos}") from None
    if isinstance(args, dict):
        for key, value in list(args.items()):
            if key in fields and isinstance(value, str) and value.strip()[:1] in ("[", "{"):
                try:
                    args[key] = json.loads(value)
                except json.JSONDecodeError:
                    pass
    if isinstance(args, dict) and len(args) == 1:
        ((key, inner),) = args.items()
        if key not in fields:
            if isinstance(inner, str):
                try:
                    inner = json.loads(inner)
                except json.JSONDecodeError:
                    return args
            if isinstance(inner, dict):
                return inner
    return args


def call(ctx: AuditContext, name: str, args: Any = None) -> ToolResult:
    """Run one tool; every failure comes back as ok=False with a message a model can act on."""
    tool = TOOLS.get(name)
    if tool is None:
        return ToolResult(ok=False, error=f"unknown tool {name!r}; available tools: {', '.join(TOOLS)}")
    fields = set(tool.input_model.model_fields)
    try:
        data = _repair(args if args is not None else {}, fields)
        parsed = tool.input_model.model_validate(data)
    except ValueError as exc:
        if isinstance(exc, ValidationError):
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}" for e in exc.errors())
            return ToolResult(ok=False, error=f"invalid arguments for {name}: {problems}. Expected fields: {', '.join(sorted(fields))}")
        return ToolResult(ok=False, error=f"invalid arguments for {name}: {exc}")
    try:
        result = tool.fn(ctx, parsed)
    except GoblinError as exc:
        if getattr(exc, "fatal", False):  # a measured run crashed, hung, ran out of memory or gave NaN
            ctx.fatal = str(exc)
        return ToolResult(ok=False, error=str(exc))
    except Exception as exc:  # a tool bug must become an event, never escape the loop
        return ToolResult(ok=False, error=f"{name} failed: {type(exc).__name__}: {exc}")
    if isinstance(result, BaseModel):
        result = result.model_dump(mode="json")
    return ToolResult(ok=True, result=result)


def for_model(name: str, result: Any) -> Any:
    """What a backend is told of a tool result: the full result minus what only the report needs,
    so that each LLM call stays small (the final report alone is ~14 KB of JSON)."""
    if not isinstance(result, dict):
        return result
    if name == "propose_patch":
        return {k: v for k, v in result.items() if k not in ("rule_diffs", "new_workload")}
    if name == "compare_runs":
        speedup = result.get("speedup") or {}
        patch = result.get("patch") or {}
        return {
            "verdict": result.get("verdict"),
            "reason": result.get("reason"),
            "evidence": result.get("evidence"),
            "speedup": {k: speedup.get(k) for k in ("point", "low", "high")},
            "patch_id": patch.get("patch_id"),
            "rule_ids": patch.get("rule_ids"),
            "findings": [f.get("rule_id") for f in result.get("findings", [])],
            "done": "the report is complete; stop here",
        }
    return result
