"""Qwen (or any tool-capable chat model) through huggingface_hub's InferenceClient.

`chat_completion` with tools against Hugging Face Inference Providers (`HF_TOKEN`), or against
any OpenAI-compatible server such as vLLM when `GOBLIN_HF_BASE_URL` is set. Open models often
write tool calls as text (`<tool_call>{...}</tool_call>`, or inside `<think>`); those are
recovered. Token prices differ by provider, so a cost is estimated only when
GOBLIN_PRICE_INPUT_PER_MTOK and GOBLIN_PRICE_OUTPUT_PER_MTOK are set.
"""

from __future__ import annotations

import json
import os
from typing import Any

from ..prompts import SYSTEM_PROMPT
from ..schemas import Usage
from .base import ToolCall, Turn
from .llm import BackendUnavailable, Price, RetryPolicy, estimate_cost, recover_tool_calls, retry_after, with_retries

DEFAULT_MODEL = "Qwen/Qwen3-235B-A22B-Instruct-2507"


def _retryable(exc: BaseException) -> float | None:
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if status is not None:
        if status == 429 or status >= 500:
            return retry_after(exc.response.headers)  # type: ignore[attr-defined]
        return None
    name = type(exc).__name__
    if name in {"InferenceTimeoutError", "ConnectError", "ReadTimeout", "ConnectTimeout", "RemoteProtocolError", "ReadError", "TimeoutException"}:
        return 0.0
    if isinstance(exc, (ValueError, KeyError)):  # a body that is not the expected JSON
        return 0.0
    return None


def _price() -> Price | None:
    try:
        inp, out = float(os.environ["GOBLIN_PRICE_INPUT_PER_MTOK"]), float(os.environ["GOBLIN_PRICE_OUTPUT_PER_MTOK"])
    except (KeyError, ValueError):
        return None
    return Price(inp, out, inp, inp, "GOBLIN_PRICE_INPUT_PER_MTOK / GOBLIN_PRICE_OUTPUT_PER_MTOK")


class QwenBackend:
    name = "qwen"

    def __init__(
        self, *, model: str | None = None, token: str | None = None, base_url: str | None = None, max_tokens: int = 2048, policy: RetryPolicy | None = None
    ):
        try:
            from huggingface_hub import AsyncInferenceClient
        except ImportError:
            raise BackendUnavailable("the qwen backend needs huggingface_hub: pip install 'pytest-goblin[llm]'") from None
        self.model = model or os.environ.get("GOBLIN_HF_MODEL") or DEFAULT_MODEL
        url = base_url or os.environ.get("GOBLIN_HF_BASE_URL")
        key = token or os.environ.get("HF_TOKEN")
        if not url and not key:
            raise BackendUnavailable("the qwen backend needs HF_TOKEN for Inference Providers, or GOBLIN_HF_BASE_URL of an OpenAI-compatible server")
        self.client = AsyncInferenceClient(base_url=url, api_key=key, timeout=60) if url else AsyncInferenceClient(provider="auto", api_key=key, timeout=60)
        self.max_tokens = max_tokens
        self.policy = policy or RetryPolicy.from_env()
        self.messages: list[dict[str, Any]] = [{"role": "system", "content": SYSTEM_PROMPT}]
        self._text_calls = False
        self.usage = Usage(backend=self.name, model=self.model)

    def add_user_message(self, text: str) -> None:
        self.messages.append({"role": "user", "content": text})

    def add_tool_result(self, tool_call_id: str, name: str, content: str, is_error: bool) -> None:
        if self._text_calls:
            self.messages.append({"role": "user", "content": f"Result of {name}{' (error)' if is_error else ''}: {content}"})
        else:
            self.messages.append({"role": "tool", "tool_call_id": tool_call_id, "name": name, "content": content})

    async def next_turn(self, tool_schemas: list[dict[str, Any]]) -> Turn:
        tools = [{"type": "function", "function": {"name": t["name"], "description": t["description"], "parameters": t["input_schema"]}} for t in tool_schemas]
        output = await with_retries(
            lambda: self.client.chat_completion(self.messages, model=self.model, tools=tools, tool_choice="auto", max_tokens=self.max_tokens),  # type: ignore[call-overload]
            retryable=_retryable,
            policy=self.policy,
            usage=self.usage,
            what="chat completions API",
        )
        self._account(output)
        choice = output.choices[0]
        message = choice.message
        text = message.content or ""
        calls: list[ToolCall] = []
        raw_calls = []
        for i, tc in enumerate(message.tool_calls or []):
            fn = tc.function
            call_id = tc.id or f"call-{self.usage.calls}-{i}"
            calls.append(ToolCall(id=call_id, name=fn.name, arguments=fn.arguments))
            args = fn.arguments if isinstance(fn.arguments, str) else json.dumps(fn.arguments)
            raw_calls.append({"id": call_id, "type": "function", "function": {"name": fn.name, "arguments": args}})
        assistant: dict[str, Any] = {"role": "assistant", "content": text}
        if raw_calls:
            assistant["tool_calls"] = raw_calls
        self.messages.append(assistant)
        self._text_calls = False
        if not calls and text:
            text, calls = recover_tool_calls(text, {t["name"] for t in tool_schemas})
            self._text_calls = bool(calls)
        stop = "max_tokens" if choice.finish_reason == "length" else "end_turn"
        return Turn(text_blocks=[text] if text else [], tool_calls=calls, stop_reason="tool_use" if calls else stop)  # type: ignore[arg-type]

    def _account(self, output: Any) -> None:
        u = getattr(output, "usage", None)
        self.usage.calls += 1
        if u is not None:
            self.usage.input_tokens += int(getattr(u, "prompt_tokens", 0) or 0)
            self.usage.output_tokens += int(getattr(u, "completion_tokens", 0) or 0)
        estimate_cost(self.usage, _price())
