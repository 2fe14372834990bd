"""The deterministic planner: walks the canonical trajectory by reading the tool results.

It keeps no plan of its own beyond the tool log, so it can also finish an audit that an
LLM backend started and abandoned.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .base import ToolCall, Turn


@dataclass
class LoggedResult:
    name: str
    content: str
    is_error: bool
    _parsed: Any = field(default=None, repr=False)
    _done: bool = field(default=False, repr=False)

    def data(self) -> Any:
        """The result as JSON, decoded once: the planner reads the log at every turn."""
        if not self._done:
            self._done = True
            if not self.is_error:
                try:
                    self._parsed = json.loads(self.content)
                except json.JSONDecodeError:
                    self._parsed = None
        return self._parsed


@dataclass
class Planner:
    name: str = "planner"
    log: list[LoggedResult] = field(default_factory=list)
    _calls: int = 0

    def add_user_message(self, text: str) -> None:
        """The planner needs no instructions; the tool log is its whole state."""

    def add_tool_result(self, tool_call_id: str, name: str, content: str, is_error: bool) -> None:
        self.log.append(LoggedResult(name, content, is_error))

    def _last_ok(self, name: str) -> Any:
        for entry in reversed(self.log):
            if entry.name == name and not entry.is_error:
                return entry.data()
        return None

    def _failures(self, name: str) -> list[LoggedResult]:
        return [e for e in self.log if e.name == name and e.is_error]

    def _call(self, name: str, args: dict[str, Any], thought: str) -> Turn:
        self._calls += 1
        return Turn(text_blocks=[thought], tool_calls=[ToolCall(id=f"planner-{self._calls}", name=name, arguments=args)], stop_reason="tool_use")

    def _stop(self, why: str) -> Turn:
        return Turn(text_blocks=[why], stop_reason="end_turn")

    async def next_turn(self, tool_schemas: list[dict[str, Any]]) -> Turn:
        return self.decide()

    def decide(self) -> Turn:
        if self.log and self.log[-1].is_error and len(self._failures(self.log[-1].name)) >= 2:
            return self._stop(f"stopping: {self.log[-1].name} failed twice: {self.log[-1].content}")
        if self._last_ok("parse_config") is None:
            if self._failures("parse_config"):
                return self._stop(f"cannot read the config: {self._failures('parse_config')[-1].content}")
            return self._call("parse_config", {}, "Reading the config into a normalized workload.")
        profile = self._last_ok("profile_run")
        if profile is None:
            return self._call(
                "profile_run",
                {"variant": "baseline"},
                "Looking at where the baseline's step time goes (a profile where the runner traces one, else the projection).",
            )
        kb = self._last_ok("query_rocm_kb")
        if kb is None:
            return self._call("query_rocm_kb", {"symptom": _symptom(profile), "top_k": 50}, "Looking up the rules that apply to this workload on the target.")
        patch = self._last_ok("propose_patch")
        if patch is None:
            ids = [r["id"] for r in kb.get("rules", []) if not r.get("footgun")]
            thought = f"Combining {len(ids)} applicable rules into one patch." if ids else "No rule with a patch applies; recording an empty patch."
            return self._call("propose_patch", {"rule_ids": ids}, thought)
        runs = [e.data() for e in self.log if e.name == "benchmark" and not e.is_error]
        before = next((r for r in runs if r and r.get("variant") == "baseline"), None)
        after = next((r for r in runs if r and r.get("variant") == patch["patch_id"]), None)
        if before is None:
            return self._call("benchmark", {"variant": "baseline"}, "Benchmarking the baseline.")
        if after is None:
            return self._call("benchmark", {"variant": patch["patch_id"]}, f"Benchmarking patch {patch['patch_id']}.")
        if self._last_ok("compare_runs") is None:
            return self._call("compare_runs", {"before": before["run_id"], "after": after["run_id"]}, "Comparing before and after.")
        return self._stop("Audit complete.")


def _symptom(profile: dict[str, Any]) -> str:
    waste = profile.get("waste") or {}
    top = sorted(waste.items(), key=lambda kv: -kv[1])[:3]
    return " ".join(k.replace("_", " ") for k, _ in top)
