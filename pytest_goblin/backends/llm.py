"""What the LLM backends share: retries under a deadline, tool calls recovered from text, and
token accounting. The SDK-specific halves live in claude.py and hf.py."""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from ..errors import GoblinError
from ..schemas import Usage
from .base import ToolCall

T = TypeVar("T")


class BackendUnavailable(GoblinError):
    """The LLM API kept failing until the deadline, or refused for good (auth, bad request)."""


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter on 429 / 5xx / overloaded, within one total deadline."""

    deadline_s: float = 180.0
    base_delay_s: float = 1.0
    max_delay_s: float = 20.0

    @classmethod
    def from_env(cls) -> RetryPolicy:
        return cls(
            deadline_s=float(os.environ.get("GOBLIN_LLM_DEADLINE_S", cls.deadline_s)),
            base_delay_s=float(os.environ.get("GOBLIN_LLM_RETRY_BASE_S", cls.base_delay_s)),
        )


async def with_retries(
    call: Callable[[], Awaitable[T]], *, retryable: Callable[[BaseException], float | None], policy: RetryPolicy, usage: Usage, what: str
) -> T:
    """Run `call`; `retryable(exc)` gives a server-suggested wait (0 for none) or None for a
    permanent failure. Raises BackendUnavailable when the deadline would pass."""
    start = time.monotonic()
    attempt = 0
    while True:
        try:
            return await call()
        except Exception as exc:
            wait_hint = retryable(exc)
            if wait_hint is None:
                raise BackendUnavailable(f"{what}: {_describe(exc)}") from None
            delay = max(wait_hint, min(policy.max_delay_s, policy.base_delay_s * 2**attempt) * (0.5 + random.random() / 2))
            if time.monotonic() - start + delay > policy.deadline_s:
                raise BackendUnavailable(f"{what}: still failing after {attempt + 1} attempts within {policy.deadline_s:g} s: {_describe(exc)}") from None
            attempt += 1
            usage.retries += 1
            await asyncio.sleep(delay)


def retry_after(headers: Any) -> float:
    """The server's `retry-after` in seconds (capped at 30), or 0 when it sent none."""
    value = headers.get("retry-after") if headers is not None else None
    try:
        return min(float(value), 30.0) if value else 0.0
    except ValueError:
        return 0.0


def _describe(exc: BaseException) -> str:
    status = getattr(exc, "status_code", None) or getattr(getattr(exc, "response", None), "status_code", None)
    text = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
    return f"HTTP {status}: {text}" if status else f"{type(exc).__name__}: {text}"


# A 2048-token reply is about 8,000 characters; a longer text block comes from a hostile or
# broken endpoint, and only its head is searched for calls (and shown).
RECOVER_LIMIT = 64_000
_OPEN, _CLOSE = "<tool_call>", "</tool_call>"
_THINK_OPEN, _THINK_CLOSE = "<think>", "</think>"


def _as_call(obj: Any, index: int) -> ToolCall | None:
    if not isinstance(obj, dict):
        return None
    if isinstance(obj.get("function"), dict):  # {"type": "function", "function": {...}}
        obj = obj["function"]
    name = obj.get("name")
    if not isinstance(name, str):
        return None
    args = obj.get("arguments", obj.get("parameters", obj.get("input", {})))
    return ToolCall(id=f"text-call-{index}", name=name, arguments=args)


def _tool_call_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, JSON body) of each `<tool_call>{...}</tool_call>`. A scan with str.find, not a
    lazy regex: each closing tag pairs with the last opening tag before it, so every character is
    looked at a bounded number of times (a lazy `.*?` rescanned to the end for every unclosed tag)."""
    spans = []
    pos = 0
    while (close := text.find(_CLOSE, pos)) >= 0:
        start = text.rfind(_OPEN, pos, close)
        if start >= 0:
            body = text[start + len(_OPEN) : close].strip()
            if body.startswith("{") and body.endswith("}"):
                spans.append((start, close + len(_CLOSE), body))
        pos = close + len(_CLOSE)
    return spans


def _think_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, body) of each `<think>` block, up to its `</think>` or the end of the text."""
    spans = []
    pos = 0
    while (start := text.find(_THINK_OPEN, pos)) >= 0:
        close = text.find(_THINK_CLOSE, start + len(_THINK_OPEN))
        end = close + len(_THINK_CLOSE) if close >= 0 else len(text)
        spans.append((start, end, text[start + len(_THINK_OPEN) : close if close >= 0 else len(text)]))
        pos = end
    return spans


def _without(text: str, spans: list[tuple[int, int, str]]) -> str:
    out, pos = [], 0
    for start, end, _ in spans:
        out.append(text[pos:start])
        pos = end
    out.append(text[pos:])
    return "".join(out)


def recover_tool_calls(text: str, known: set[str]) -> tuple[str, list[ToolCall]]:
    """Tool calls a model wrote as text: `<tool_call>{...}</tool_call>` anywhere, or a JSON call
    inside `<think>`. Returns the text without them and the calls naming a known tool. Linear in
    the text, which is cut at RECOVER_LIMIT characters first."""
    if len(text) > RECOVER_LIMIT:
        text = text[:RECOVER_LIMIT] + f" [... {len(text) - RECOVER_LIMIT} more characters not read]"
    calls: list[ToolCall] = []

    def take(raw: str) -> None:
        try:
            call = _as_call(json.loads(raw), len(calls))
        except (json.JSONDecodeError, RecursionError):
            return
        if call and call.name in known:
            calls.append(call)

    tool_spans = _tool_call_spans(text)
    for _, _, body in tool_spans:
        take(body)
    if not calls:
        for _, _, body in _think_spans(text):
            first, last = body.find("{"), body.rfind("}")
            if 0 <= first < last:
                take(body[first : last + 1])
    rest = _without(text, tool_spans)
    return _without(rest, _think_spans(rest)).strip(), calls


@dataclass(frozen=True)
class Price:
    input: float  # USD per million tokens
    output: float
    cache_write: float
    cache_read: float
    source: str


def estimate_cost(usage: Usage, price: Price | None) -> None:
    if price is None:
        return
    usage.estimated_cost_usd = round(
        (
            usage.input_tokens * price.input
            + usage.output_tokens * price.output
            + usage.cache_write_tokens * price.cache_write
            + usage.cache_read_tokens * price.cache_read
        )
        / 1e6,
        6,
    )
    usage.price_source = price.source
