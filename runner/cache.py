"""Measured runs cached across sessions, keyed by everything that decides their result: the
workload, the runner and its settings, the device, and the torch build.

The store is pytest's own cache (`.pytest_cache`, shared by xdist workers) when the plugin runs;
`--goblin-cache-clear` empties it. Projected runs are not cached: they cost microseconds.
"""

from __future__ import annotations

import hashlib
import json
from importlib import metadata
from typing import Any, Protocol

from pytest_goblin.schemas import Hardware, RunMetrics, WorkloadConfig

PREFIX = "goblin/runs"
_SKIP = {"path", "sources", "notes", "ignored_rules"}  # where a config lives does not change its speed


class Store(Protocol):
    def get(self, key: str, default: Any) -> Any: ...

    def set(self, key: str, value: Any) -> None: ...


def _torch_version() -> str:
    try:
        return metadata.version("torch")
    except metadata.PackageNotFoundError:
        return "none"


def cache_key(kind: str, workloads: list[WorkloadConfig], **settings: Any) -> str:
    payload = {
        "kind": kind,
        "workloads": [w.model_dump(mode="json", exclude=_SKIP) for w in workloads],
        "torch": _torch_version(),
        **settings,
    }
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:32]
    return f"{PREFIX}/{digest}"


class CachedRunner:
    """A measured runner whose results are reused when nothing that decides them changed."""

    def __init__(self, inner: Any, store: Store, device_id: str):
        self.inner = inner
        self.store = store
        self.device_id = device_id
        self.name = inner.name
        self.hits = 0

    def _recall(self, key: str) -> list[RunMetrics] | None:
        raw = self.store.get(key, None)
        if not isinstance(raw, list):
            return None
        try:
            runs = [RunMetrics.model_validate(r) for r in raw]
        except ValueError:
            return None
        self.hits += 1
        return [r.model_copy(update={"notes": [*r.notes, "reused from the goblin cache (--goblin-cache-clear to re-measure)"]}) for r in runs]

    def run(self, w: WorkloadConfig, hw: Hardware, *, run_id: str, variant: str, steps: int = 6) -> RunMetrics:
        key = cache_key("run", [w], steps=steps, device=self.device_id, warmup=getattr(self.inner, "warmup", None))
        hit = self._recall(key)
        if hit:
            return hit[0].model_copy(update={"run_id": run_id, "variant": variant})
        m = self.inner.run(w, hw, run_id=run_id, variant=variant, steps=steps)
        self.store.set(key, [m.model_dump(mode="json")])
        return m

    def profile(self, w: WorkloadConfig, hw: Hardware, *, run_id: str, variant: str) -> RunMetrics:
        key = cache_key("profile", [w], device=self.device_id, warmup=getattr(self.inner, "warmup", None))
        hit = self._recall(key)
        if hit:
            return hit[0].model_copy(update={"run_id": run_id, "variant": variant})
        m: RunMetrics = self.inner.profile(w, hw, run_id=run_id, variant=variant)
        self.store.set(key, [m.model_dump(mode="json")])
        return m

    def run_pair(
        self,
        before: WorkloadConfig,
        after: WorkloadConfig,
        hw: Hardware,
        *,
        run_ids: tuple[str, str],
        variants: tuple[str, str],
        rounds: int,
        steps: int,
        **adaptive: Any,
    ) -> tuple[RunMetrics, RunMetrics]:
        # the time left for extra rounds varies from run to run; the interval it aims for does not
        decides = {k: v for k, v in adaptive.items() if k != "max_seconds"}
        key = cache_key("pair", [before, after], rounds=rounds, steps=steps, device=self.device_id, warmup=getattr(self.inner, "warmup", None), **decides)
        hit = self._recall(key)
        if hit and len(hit) == 2:
            a, b = hit
            return a.model_copy(update={"run_id": run_ids[0], "variant": variants[0]}), b.model_copy(update={"run_id": run_ids[1], "variant": variants[1]})
        a, b = self.inner.run_pair(before, after, hw, run_ids=run_ids, variants=variants, rounds=rounds, steps=steps, **adaptive)
        self.store.set(key, [a.model_dump(mode="json"), b.model_dump(mode="json")])
        return a, b


_STORE: Store | None = None


def set_store(store: Store | None) -> None:
    """Set by the pytest plugin at configure time (pytest's cache), or None for no caching."""
    global _STORE
    _STORE = store


def get_store() -> Store | None:
    return _STORE
