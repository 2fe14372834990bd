"""Claude through the anthropic SDK's Messages API with tools.

The system prompt and the tool definitions are marked for prompt caching (they are identical on
every call of every audit). `ANTHROPIC_API_KEY` and `ANTHROPIC_BASE_URL` are honoured; the SDK's
own retries are off so that ours (429, 5xx, 529 overloaded, under one deadline) are the only ones.
"""

from __future__ import annotations

import os
from typing import Any

from ..prompts import SYSTEM_PROMPT
from ..schemas import Usage
from .base import ToolCall, Turn
from .llm import BackendUnavailable, Price, RetryPolicy, estimate_cost, recover_tool_calls, retry_after, with_retries

DEFAULT_MODEL = "claude-sonnet-5-5"
PRICING = "https://platform.claude.com/docs/en/about-claude/pricing"
# USD per million tokens: input, output, 5-minute cache write, cache read.
PRICES = {
    "claude-sonnet-5-5": Price(2.0, 10.0, 2.50, 0.20, PRICING),
    "claude-sonnet-5": Price(2.0, 10.0, 2.50, 0.20, PRICING),
    "claude-sonnet-4-6": Price(3.0, 15.0, 3.75, 0.30, PRICING),
    "claude-sonnet-4-5": Price(3.0, 15.0, 3.75, 0.30, PRICING),
    "claude-haiku-4-5": Price(1.0, 5.0, 1.25, 0.10, PRICING),
}


def _retryable(exc: BaseException) -> float | None:
    import anthropic

    if isinstance(exc, anthropic.APIStatusError):
        status = exc.status_code
        if status == 429 or status >= 500:  # 529 is "overloaded"
            return retry_after(exc.response.headers if exc.response is not None else None)
        return None  # 400, 401, 403, 404: retrying cannot help
    if isinstance(exc, (anthropic.APIConnectionError, anthropic.APIResponseValidationError)):
        return 0.0
    if isinstance(exc, ValueError):  # a body that is not JSON
        return 0.0
    return None


class ClaudeBackend:
    name = "claude"

    def __init__(
        self, *, model: str | None = None, api_key: str | None = None, base_url: str | None = None, max_tokens: int = 2048, policy: RetryPolicy | None = None
    ):
        try:
            import anthropic
        except ImportError:
            raise BackendUnavailable("the claude backend needs the anthropic package: pip install 'pytest-goblin[llm]'") from None
        key = api_key or os.environ.get("ANTHROPIC_API_KEY")
        if not key:
            raise BackendUnavailable("the claude backend needs ANTHROPIC_API_KEY (or ANTHROPIC_BASE_URL of a compatible server and a key it accepts)")
        self.model = model or os.environ.get("GOBLIN_CLAUDE_MODEL") or DEFAULT_MODEL
        self.max_tokens = max_tokens
        self.policy = policy or RetryPolicy.from_env()
        self.client = anthropic.AsyncAnthropic(api_key=key, base_url=base_url or os.environ.get("ANTHROPIC_BASE_URL") or None, max_retries=0, timeout=60.0)
        self.messages: list[dict[str, Any]] = []
        self._pending: list[dict[str, Any]] = []  # tool results for the next user message
        self._text_calls = False  # the last tool calls were recovered from text: answer in text
        self.usage = Usage(backend=self.name, model=self.model)

    def add_user_message(self, text: str) -> None:
        self.messages.append({"role": "user", "content": text})

    def add_tool_result(self, tool_call_id: str, name: str, content: str, is_error: bool) -> None:
        if self._text_calls:
            self._pending.append({"type": "text", "text": f"Result of {name}{' (error)' if is_error else ''}: {content}"})
        else:
            self._pending.append({"type": "tool_result", "tool_use_id": tool_call_id, "content": content, "is_error": is_error})

    def _flush(self) -> None:
        if self._pending:
            self.messages.append({"role": "user", "content": self._pending})
            self._pending = []

    async def next_turn(self, tool_schemas: list[dict[str, Any]]) -> Turn:
        self._flush()
        tools = [dict(t) for t in tool_schemas]
        if tools:
            tools[-1]["cache_control"] = {"type": "ephemeral"}
        system = [{"type": "text", "text": SYSTEM_PROMPT, "cache_control": {"type": "ephemeral"}}]
        response = await with_retries(
            lambda: self.client.messages.create(model=self.model, max_tokens=self.max_tokens, system=system, tools=tools, messages=self.messages),  # type: ignore[arg-type]
            retryable=_retryable,
            policy=self.policy,
            usage=self.usage,
            what="Claude Messages API",
        )
        self._account(response)
        # Thinking blocks and all are replayed as they came: later turns must carry them.
        self.messages.append({"role": "assistant", "content": [block.model_dump(exclude_none=True) for block in response.content]})
        texts = [b.text for b in response.content if b.type == "text"]
        calls = [ToolCall(id=b.id, name=b.name, arguments=b.input) for b in response.content if b.type == "tool_use"]
        self._text_calls = False
        if not calls:
            known = {t["name"] for t in tool_schemas}
            cleaned = []
            for text in texts:
                rest, found = recover_tool_calls(text, known)
                cleaned.append(rest)
                calls.extend(found)
            texts = cleaned
            self._text_calls = bool(calls)
        stop = {"tool_use": "tool_use", "end_turn": "end_turn", "max_tokens": "max_tokens"}.get(response.stop_reason or "", "end_turn")
        return Turn(text_blocks=texts, tool_calls=calls, stop_reason="tool_use" if calls else stop)  # type: ignore[arg-type]

    def _account(self, response: Any) -> None:
        u = response.usage
        self.usage.calls += 1
        self.usage.input_tokens += int(getattr(u, "input_tokens", 0) or 0)
        self.usage.output_tokens += int(getattr(u, "output_tokens", 0) or 0)
        self.usage.cache_read_tokens += int(getattr(u, "cache_read_input_tokens", 0) or 0)
        self.usage.cache_write_tokens += int(getattr(u, "cache_creation_input_tokens", 0) or 0)
        estimate_cost(self.usage, PRICES.get(self.model))
