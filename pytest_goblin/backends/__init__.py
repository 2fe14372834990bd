"""Backends: the deterministic planner (default) and LLM backends, chosen by name."""

from __future__ import annotations

from collections.abc import Callable

from ..errors import GoblinError
from .base import Backend, ToolCall, Turn
from .planner import Planner

__all__ = ["BACKENDS", "Backend", "Planner", "ToolCall", "Turn", "make_backend"]

# name -> factory; LLM backends register here when their modules land (issue: Claude and Qwen backends).
BACKENDS: dict[str, Callable[[], Backend]] = {"planner": Planner}


def make_backend(name: str | None = None) -> Backend:
    """The backend called `name` (default: GOBLIN_AGENT_BACKEND, else planner)."""
    from ..settings import backend_from_env

    key = backend_from_env(name)
    if key not in BACKENDS:
        raise GoblinError(f"unknown backend {key!r} (from --goblin-backend or GOBLIN_AGENT_BACKEND); valid backends: {', '.join(sorted(BACKENDS))}")
    return BACKENDS[key]()
