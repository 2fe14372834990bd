"""Local stand-ins for the Anthropic Messages API and the OpenAI chat-completions API (the wire
format huggingface_hub's InferenceClient speaks), on 127.0.0.1, for the real SDK clients.

The fake "model" is a pure function of the request's message history: it counts the tool
results it has been given and answers with the next step of a script, reading ids out of the
last tool result the way a model would. Being stateless, one server serves any number of
audits, also from a pytest subprocess.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# A step: given the last tool result (parsed JSON, or the error text), the call to make next.
Step = tuple[str, Callable[[Any], Any]]


def _rules(result: Any) -> list[str]:
    return [r["id"] for r in (result or {}).get("rules", []) if not r.get("footgun")] if isinstance(result, dict) else []


CANONICAL: list[Step] = [
    ("parse_config", lambda r: {}),
    ("profile_run", lambda r: {}),
    ("query_rocm_kb", lambda r: {"symptom": "micro-batch of 1, eager attention, GPU waits for data"}),
    ("propose_patch", lambda r: {"rule_ids": _rules(r)}),
    ("benchmark", lambda r: {"variant": "baseline"}),
    ("benchmark", lambda r: {"variant": "p1"}),
    ("compare_runs", lambda r: {"before": "r1", "after": "r2"}),
]


@dataclass
class Reply:
    """What the fake model says at one step: tool calls (name, args), text, or an HTTP failure."""

    calls: list[tuple[str, Any]] = field(default_factory=list)
    text: str = ""
    status: int = 200
    raw_body: bytes | None = None  # sent as is (malformed JSON)
    headers: dict[str, str] = field(default_factory=dict)


Policy = Callable[[int, Any, dict[str, Any]], Reply]  # (tool results so far, last result, request) -> reply


def canonical(steps: list[Step] = CANONICAL) -> Policy:
    def policy(n: int, last: Any, request: dict[str, Any]) -> Reply:
        if n < len(steps):
            name, args = steps[n]
            return Reply(calls=[(name, args(last))], text=f"Step {n + 1}: {name}.")
        return Reply(text="The audit is complete.")

    return policy


class FakeServer:
    def __init__(self, policy: Policy, api: str):
        self.policy = policy
        self.api = api
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.failures: dict[int, int] = {}  # request index -> times failed
        self.lock = threading.Lock()
        self.url = ""

    # -- reading a request's history ---------------------------------------------------------
    def history(self, body: dict[str, Any]) -> tuple[int, Any]:
        """(tool results so far, the last result parsed as JSON where it is JSON)."""
        results: list[str] = []
        for m in body.get("messages", []):
            if self.api == "anthropic" and m["role"] == "user" and isinstance(m["content"], list):
                results += [
                    b["content"] if b["type"] == "tool_result" else b["text"].split(": ", 1)[-1] for b in m["content"] if b["type"] in ("tool_result", "text")
                ]
            elif self.api == "openai" and m["role"] == "tool":
                results.append(m["content"])
            elif self.api == "openai" and m["role"] == "user" and str(m.get("content", "")).startswith("Result of "):
                results.append(str(m["content"]).split(": ", 1)[-1])
        if not results:
            return 0, None
        try:
            return len(results), json.loads(results[-1])
        except json.JSONDecodeError:
            return len(results), results[-1]

    # -- writing a response in each wire format -----------------------------------------------
    def anthropic_body(self, reply: Reply, index: int) -> dict[str, Any]:
        content: list[dict[str, Any]] = [{"type": "text", "text": reply.text}] if reply.text else []
        for i, (name, args) in enumerate(reply.calls):
            content.append({"type": "tool_use", "id": f"toolu_{index}_{i}", "name": name, "input": args})
        return {
            "id": f"msg_{index}",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-5-5",
            "content": content,
            "stop_reason": "tool_use" if reply.calls else "end_turn",
            "stop_sequence": None,
            "usage": {
                "input_tokens": 1200,
                "output_tokens": 60,
                "cache_creation_input_tokens": 2000 if index == 0 else 0,
                "cache_read_input_tokens": 0 if index == 0 else 2000,
            },
        }

    def openai_body(self, reply: Reply, index: int) -> dict[str, Any]:
        calls = [
            {"id": f"call_{index}_{i}", "type": "function", "function": {"name": name, "arguments": args if isinstance(args, str) else json.dumps(args)}}
            for i, (name, args) in enumerate(reply.calls)
        ]
        message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
        if calls:
            message["tool_calls"] = calls
        return {
            "id": f"chatcmpl-{index}",
            "object": "chat.completion",
            "created": 1764000000,
            "model": "Qwen/Qwen3-235B-A22B-Instruct-2507",
            "system_fingerprint": "fake",
            "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop", "logprobs": None}],
            "usage": {"prompt_tokens": 1500, "completion_tokens": 70, "total_tokens": 1570},
        }


@contextmanager
def serve(policy: Policy, api: str) -> Iterator[FakeServer]:
    state = FakeServer(policy, api)
    path = "/v1/messages" if api == "anthropic" else "/v1/chat/completions"

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            if not self.path.endswith(path):
                self._send(404, json.dumps({"error": {"message": f"no route {self.path}"}}).encode(), {})
                return
            with state.lock:
                index = len(state.requests)
                state.requests.append(body)
                state.headers.append(dict(self.headers))
            n, last = state.history(body)
            reply = state.policy(n, last, body)
            if reply.status != 200 or reply.raw_body is not None:
                raw = (
                    reply.raw_body
                    if reply.raw_body is not None
                    else json.dumps(
                        {
                            "type": "error",
                            "error": {"type": "overloaded_error" if reply.status == 529 else "api_error", "message": reply.text or "fake failure"},
                        }
                    ).encode()
                )
                self._send(reply.status, raw, reply.headers)
                return
            out = state.anthropic_body(reply, index) if api == "anthropic" else state.openai_body(reply, index)
            self._send(200, json.dumps(out).encode(), {})

        def _send(self, status: int, raw: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(raw)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
