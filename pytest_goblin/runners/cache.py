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

from ..schemas import Hardware, Rule, RunMetrics, WorkloadConfig
from .base import Runner, VariantFiles

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

    def __init__(self, inner: Runner, store: Store, device_id: str):
        self.inner = inner
        self.store = store
        self.device_id = device_id
        self.name = inner.name
        self.measured = inner.measured
        self.attribution = inner.attribution
        self.sample_unit = getattr(inner, "sample_unit", "step")
        self.hits = 0

    def _through(self, key: str, ids: list[tuple[str, str]], measure: Any) -> list[RunMetrics]:
        """The cached runs under `key`, renamed to this audit's (run id, variant); else `measure()`,
        stored. A cached entry that does not validate is measured again."""
        raw = self.store.get(key, None)
        if isinstance(raw, list) and len(raw) == len(ids):
            try:
                runs = [RunMetrics.model_validate(r) for r in raw]
            except ValueError:
                runs = []
            if runs:
                self.hits += 1
                note = "reused from the goblin cache (--goblin-cache-clear to re-measure)"
                return [r.model_copy(update={"run_id": rid, "variant": var, "notes": [*r.notes, note]}) for r, (rid, var) in zip(runs, ids, strict=True)]
        fresh = list(measure())
        self.store.set(key, [m.model_dump(mode="json") for m in fresh])
        return fresh

    def _key(self, kind: str, workloads: list[WorkloadConfig], **settings: Any) -> str:
        return cache_key(kind, workloads, device=self.device_id, warmup=getattr(self.inner, "warmup", None), **settings)

    def run(self, w: WorkloadConfig, hw: Hardware, *, run_id: str, variant: str, steps: int = 6) -> RunMetrics:
        key = self._key("run", [w], steps=steps)
        return self._through(key, [(run_id, variant)], lambda: [self.inner.run(w, hw, run_id=run_id, variant=variant, steps=steps)])[0]

    def profile(self, w: WorkloadConfig, hw: Hardware, *, run_id: str, variant: str) -> RunMetrics:
        key = self._key("profile", [w])
        return self._through(key, [(run_id, variant)], lambda: [self.inner.profile(w, hw, run_id=run_id, variant=variant)])[0]

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
        key = self._key("pair", [before, after], rounds=rounds, steps=steps, **decides)
        a, b = self._through(
            key,
            list(zip(run_ids, variants, strict=True)),
            lambda: self.inner.run_pair(before, after, hw, run_ids=run_ids, variants=variants, rounds=rounds, steps=steps, **adaptive),
        )
        return a, b

    def bind(self, files: VariantFiles) -> CachedRunner:
        return self

    def unavailable(self, rules: list[Rule]) -> dict[str, str]:
        return self.inner.unavailable(rules)

    @property
    def problems(self) -> list[str]:
        return self.inner.problems


_STORE: Store | None = None


def set_store(store: Store | None) -> None:
    """Set by the pytest plugin at configure time (pytest's cache), or None for no caching."""
    global _STORE
    _STORE = store


def get_store() -> Store | None:
    return _STORE
