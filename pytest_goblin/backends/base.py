"""The Backend protocol: what the loop needs from the planner and from an LLM alike."""

from __future__ import annotations

from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field


class ToolCall(BaseModel):
    id: str
    name: str
    arguments: Any = Field(default_factory=dict)  # a mapping, or whatever the model sent (repaired by the registry)


class Turn(BaseModel):
    text_blocks: list[str] = Field(default_factory=list)
    tool_calls: list[ToolCall] = Field(default_factory=list)
    stop_reason: Literal["tool_use", "end_turn", "max_tokens", "error"] = "end_turn"


class Backend(Protocol):
    name: str

    async def next_turn(self, tool_schemas: list[dict[str, Any]]) -> Turn: ...

    def add_user_message(self, text: str) -> None: ...

    def add_tool_result(self, tool_call_id: str, name: str, content: str, is_error: bool) -> None: ...
