"""Measured runs are cached by workload, settings, device and torch build, and can be cleared."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from pytest_goblin.hardware import get_hardware
from pytest_goblin.modelzoo import lookup_model
from pytest_goblin.runners.cache import CachedRunner, cache_key
from pytest_goblin.schemas import RunMetrics, WorkloadConfig

HW = get_hardware("mi300x")


class CountingRunner:
    name = "torch"
    measured = True
    attribution = True
    warmup = 1

    def __init__(self) -> None:
        self.calls = 0

    def _m(self, run_id: str, variant: str) -> RunMetrics:
        return RunMetrics(
            run_id=run_id,
            variant=variant,
            evidence="measured",
            runner="torch",
            device="cpu",
            step_time_s=[0.1, 0.1],
            tokens_per_step=1,
            tokens_per_s=10,
            samples_per_s=10,
        )

    def run(self, w: WorkloadConfig, hw: Any, *, run_id: str, variant: str, steps: int = 6) -> RunMetrics:
        self.calls += 1
        return self._m(run_id, variant)

    def run_pair(
        self, before: Any, after: Any, hw: Any, *, run_ids: tuple[str, str], variants: tuple[str, str], rounds: int, steps: int
    ) -> tuple[RunMetrics, RunMetrics]:
        self.calls += 1
        return self._m(run_ids[0], variants[0]), self._m(run_ids[1], variants[1])


class DictStore(dict):  # type: ignore[type-arg]
    def set(self, key: str, value: Any) -> None:
        self[key] = json.loads(json.dumps(value))


def _w(**kw: Any) -> WorkloadConfig:
    return WorkloadConfig(path=kw.pop("path", "a.yaml"), format="goblin", model=lookup_model("meta-llama/Meta-Llama-3-8B"), **kw)


def test_hit_when_nothing_that_matters_changed() -> None:
    inner, store = CountingRunner(), DictStore()
    cached = CachedRunner(inner, store, "cpu:-:no-amd-gpu")
    first = cached.run(_w(), HW, run_id="r1", variant="baseline")
    again = cached.run(_w(path="moved/elsewhere.yaml"), HW, run_id="r7", variant="baseline")  # the file's place does not matter
    assert inner.calls == 1 and cached.hits == 1
    assert again.run_id == "r7" and any("reused from the goblin cache" in n for n in again.notes)
    assert first.step_time_s == again.step_time_s
    cached.run(_w(micro_batch_size=2), HW, run_id="r1", variant="baseline")  # the workload changed
    CachedRunner(inner, store, "cuda:0:mi300x").run(_w(), HW, run_id="r1", variant="baseline")  # the device changed
    assert inner.calls == 3
    cached.run_pair(_w(), _w(torch_compile=True), HW, run_ids=("r1", "r2"), variants=("baseline", "p1"), rounds=3, steps=2)
    a2, b2 = cached.run_pair(_w(), _w(torch_compile=True), HW, run_ids=("r3", "r4"), variants=("baseline", "p2"), rounds=3, steps=2)
    assert inner.calls == 4 and (a2.run_id, b2.variant) == ("r3", "p2")


def test_key_depends_on_settings_and_torch_build(monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_goblin.runners import cache

    base = cache_key("run", [_w()], steps=6, device="cpu")
    assert cache_key("run", [_w()], steps=8, device="cpu") != base
    monkeypatch.setattr(cache, "_torch_version", lambda: "9.9.9+rocm")
    assert cache_key("run", [_w()], steps=6, device="cpu") != base


def test_plugin_uses_pytest_cache_and_clears_it(pytester: pytest.Pytester, tmp_path: Path) -> None:
    from .conftest import EXAMPLES

    counter = tmp_path / "calls"
    worker = tmp_path / "worker.py"
    worker.write_text(
        "import json, sys\n"
        f"open({str(counter)!r}, 'a').write('x')\n"
        "req = json.loads(sys.stdin.read())\n"
        "def m(rid, var):\n"
        "    return {'run_id': rid, 'variant': var, 'evidence': 'measured', 'runner': 'torch', 'device': 'cpu', 'step_time_s': [0.2, 0.2, 0.2],"
        " 'tokens_per_step': 1, 'tokens_per_s': 5, 'samples_per_s': 5}\n"
        "if 'pair' in req:\n"
        "    p = req['pair']\n"
        "    print(json.dumps({'ok': True, 'before': m(p['run_ids'][0], 'baseline'), 'after': {**m(p['run_ids'][1], p['variants'][1]), 'step_time_s': [0.1, 0.1, 0.1]}}))\n"
        "else:\n"
        "    print(json.dumps({'ok': True, 'metrics': m(req['run_id'], req['variant'])}))\n"
    )
    pytester.makeconftest(
        f"from pytest_goblin.runners import torch_runner as protocol\n_real = protocol.TorchRunner.__init__\n"
        f"def _init(self, **kw):\n    _real(self, **kw)\n    self.command = [{sys.executable!r}, {str(worker)!r}]\n"
        "protocol.TorchRunner.__init__ = _init\n"
    )
    (pytester.path / "c.yml").write_text((EXAMPLES / "axolotl-llama3-8b-lora.yml").read_text())
    args = ("--goblin", "c.yml", "--goblin-runner", "torch", "--goblin-json", "r.json")
    pytester.runpytest_subprocess(*args)
    first = len(counter.read_text())
    assert first >= 2  # a baseline run and at least one interleaved pair
    pytester.runpytest_subprocess(*args)
    assert len(counter.read_text()) == first  # everything came from the cache
    report = json.loads((pytester.path / "r.json").read_text())
    assert any("reused from the goblin cache" in n for n in report["items"][0]["report"]["after"]["notes"])
    pytester.runpytest_subprocess(*args, "--goblin-cache-clear")
    assert len(counter.read_text()) == 2 * first  # measured again
