"""What an audit emits as it runs: typed events, one model per kind.

A backend's tool call can carry anything (an LLM may send a JSON string, a list, or arguments
that do not validate); `ToolCallData.arguments` keeps an object as an object and anything else
as its text, so a display or a log never has to guess the type, and a malformed call can only
become a tool error, never an item error.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .schemas import Report

EventType = Literal["thought", "tool_call", "tool_result", "final_report", "error"]


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ThoughtData(_Data):
    text: str


class ToolCallData(_Data):
    id: str
    name: str
    arguments: dict[str, Any] | str  # an object as sent, or the text of anything else
    step: int

    @model_validator(mode="before")
    @classmethod
    def _arguments_as_sent(cls, data: Any) -> Any:
        if isinstance(data, dict) and not isinstance(data.get("arguments"), dict | str):
            raw = data.get("arguments")
            data = {**data, "arguments": {} if raw is None else _text(raw)}
        return data

    @property
    def variant(self) -> str | None:
        """The benchmarked variant, when the call names one as a string."""
        value = self.arguments.get("variant") if isinstance(self.arguments, dict) else None
        return value if isinstance(value, str) else None


class ToolResultData(_Data):
    id: str
    name: str
    ok: bool
    result: Any = None
    error: str | None = None


class ErrorData(_Data):
    message: str
    recoverable: bool = False


EventData = ThoughtData | ToolCallData | ToolResultData | ErrorData | Report
_DATA: dict[str, type[BaseModel]] = {
    "thought": ThoughtData,
    "tool_call": ToolCallData,
    "tool_result": ToolResultData,
    "error": ErrorData,
    "final_report": Report,
}


class Event(BaseModel):
    """`{"type": ..., "data": {...}}`, the shape `goblin audit --events` prints one per line."""

    model_config = ConfigDict(extra="forbid")

    type: EventType
    data: EventData = Field(union_mode="left_to_right")

    @model_validator(mode="before")
    @classmethod
    def _typed_data(cls, value: Any) -> Any:
        if isinstance(value, dict) and isinstance(value.get("data"), dict) and value.get("type") in _DATA:
            value = {**value, "data": _DATA[value["type"]].model_validate(value["data"])}
        return value

    @model_validator(mode="after")
    def _data_matches_type(self) -> Event:
        if not isinstance(self.data, _DATA[self.type]):
            raise ValueError(f"a {self.type} event carries {type(self.data).__name__}")
        return self


def _text(value: Any) -> str:
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return str(value)


def thought(text: str) -> Event:
    return Event(type="thought", data=ThoughtData(text=text))


def error(message: str, *, recoverable: bool = False) -> Event:
    return Event(type="error", data=ErrorData(message=message, recoverable=recoverable))


def tool_call(call_id: str, name: str, arguments: Any, step: int) -> Event:
    return Event(type="tool_call", data=ToolCallData(id=call_id, name=name, arguments=arguments, step=step))


def final(report: Report) -> Event:
    return Event(type="final_report", data=report)
