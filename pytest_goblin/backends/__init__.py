"""Backends: the deterministic planner (default) and LLM backends, chosen by name."""

from __future__ import annotations

from collections.abc import Callable

from ..errors import GoblinError
from .base import Backend, ToolCall, Turn
from .planner import Planner

__all__ = ["BACKENDS", "Backend", "Planner", "ToolCall", "Turn", "make_backend", "make_backend_or_planner"]


def _claude() -> Backend:
    from .claude import ClaudeBackend  # the anthropic SDK is imported only when chosen

    return ClaudeBackend()


def _qwen() -> Backend:
    from .hf import QwenBackend  # huggingface_hub is imported only when chosen

    return QwenBackend()


# name -> factory
BACKENDS: dict[str, Callable[[], Backend]] = {"planner": Planner, "claude": _claude, "qwen": _qwen}


def make_backend(name: str | None = None) -> Backend:
    """The backend called `name` (default: GOBLIN_AGENT_BACKEND, else planner)."""
    from ..settings import backend_from_env

    key = backend_from_env(name)
    if key not in BACKENDS:
        raise GoblinError(f"unknown backend {key!r} (from --goblin-backend or GOBLIN_AGENT_BACKEND); valid backends: {', '.join(sorted(BACKENDS))}")
    return BACKENDS[key]()


def make_backend_or_planner(name: str | None = None) -> tuple[Backend, list[str]]:
    """The named backend, or the planner with a note when an LLM backend cannot start (no API
    key on a fork's CI run, SDK not installed): the audit still ends with an honest report.
    An unknown name is still an error."""
    from .llm import BackendUnavailable

    try:
        return make_backend(name), []
    except BackendUnavailable as exc:
        return Planner(), [f"{exc}; the deterministic planner ran this audit instead"]
