"""Measured benchmarks that crash, hang, run out of memory or produce NaN end the item with an
error naming the cause; interleaved before/after measurement."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from pytest_goblin.backends import Planner
from pytest_goblin.errors import BenchmarkFailed
from pytest_goblin.loop import audit_sync, final_report
from pytest_goblin.runners.torch_runner import TorchRunner
from pytest_goblin.settings import Settings

from .conftest import EXAMPLES

CONFIG = EXAMPLES / "axolotl-llama3-8b-lora.yml"


def _fake_worker(tmp_path: Path, body: str) -> list[str]:
    script = tmp_path / "fake_worker.py"
    script.write_text("import json, os, signal, sys, time\nsys.stdin.read()\n" + body + "\n")
    return [sys.executable, str(script)]


FAULTS = {
    "crash": ("os.abort()", "killed by signal 6"),
    "exit": ("sys.exit(3)", "exited with status 3 and no result"),
    "hang": ("time.sleep(30)", "hung: no result within 1 s"),
    "oom-killed": ("os.kill(os.getpid(), signal.SIGKILL)", "out-of-memory killer"),
    "torch-oom": ('print(json.dumps({"ok": False, "error": "out of memory: HIP out of memory. Tried to allocate 2.00 GiB"})); sys.exit(1)', "out of memory"),
    "nan": ('print(json.dumps({"ok": False, "error": "NaN loss: loss is NaN or infinite"})); sys.exit(1)', "NaN loss"),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_worker_fault_becomes_an_audit_error_naming_the_cause(fault: str, tmp_path: Path) -> None:
    body, cause = FAULTS[fault]
    runner = TorchRunner(device="cpu", timeout_s=1.0, command=_fake_worker(tmp_path, body))
    events = audit_sync(CONFIG, backend=Planner(), settings=Settings(runner="torch", target="mi300x"), runner=runner)
    assert final_report(events) is None  # no report from a broken measurement
    errors = [e.data.message for e in events if e.type == "error"]
    assert errors and cause in errors[-1], errors
    assert "benchmark of baseline" in errors[-1]


def test_worker_fault_in_pytest_is_one_item_error_and_the_session_goes_on(pytester: pytest.Pytester, tmp_path: Path) -> None:
    script = _fake_worker(tmp_path, "os.abort()")
    # audit items take no fixtures: the conftest swaps the worker command when it is imported
    pytester.makeconftest(
        f"""
from pytest_goblin.runners import torch_runner as protocol

_real = protocol.TorchRunner.__init__

def _init(self, **kw):
    _real(self, **kw)
    self.command = {script!r}

protocol.TorchRunner.__init__ = _init
"""
    )
    for f in ("axolotl-llama3-8b-lora.yml", "trl-smollm3-3b-sft-tuned.yaml"):
        (pytester.path / f).write_text((EXAMPLES / f).read_text())
    result = pytester.runpytest_subprocess("--goblin", ".", "--goblin-runner", "torch", "--goblin-json", "r.json", "-p", "no:cacheprovider")
    report = json.loads((pytester.path / "r.json").read_text())
    assert [i["verdict"] for i in report["items"]] == ["error", "error"]
    assert all("killed by signal 6" in i["message"] for i in report["items"])
    assert "INTERNALERROR" not in result.stdout.str()


def test_worker_reports_nan_and_oom_as_data(monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_goblin.runners import torch_runner, worker

    w = json.loads(json.dumps({"workload": {"path": "x", "format": "goblin", "model": {"name": "x"}}, "run_id": "r1", "variant": "baseline"}))

    def nan(*a: object, **k: object) -> None:
        raise FloatingPointError("loss is NaN or infinite")

    def oom(*a: object, **k: object) -> None:
        raise RuntimeError("HIP out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(torch_runner, "measure", nan)
    assert worker.run(w) == {"ok": False, "error": "NaN loss: loss is NaN or infinite"}
    monkeypatch.setattr(torch_runner, "measure", oom)
    assert worker.run(w)["error"].startswith("out of memory:")


def test_interleaved_pair_in_process_on_the_cpu() -> None:
    pytest.importorskip("torch")
    from pytest_goblin.modelzoo import lookup_model
    from pytest_goblin.runners.torch_runner import Scale, measure_pair
    from pytest_goblin.schemas import WorkloadConfig

    tiny = Scale(layers=1, hidden=64, seq_len=32, vocab=128, max_micro_batch=2)
    base = WorkloadConfig(path="x", format="goblin", model=lookup_model("meta-llama/Meta-Llama-3-8B"), micro_batch_size=2, seq_len=32)
    after = base.model_copy(update={"optimizer": "adamw_torch_fused"})
    a, b = measure_pair(base, after, device="cpu", rounds=3, steps=2, warmup=1, run_ids=("r1", "r2"), variants=("baseline", "p1"), scale=tiny)
    assert len(a.step_time_s) == len(b.step_time_s) == 6
    assert all(t > 0 for t in a.step_time_s + b.step_time_s)
    assert (a.run_id, a.variant, b.run_id, b.variant) == ("r1", "baseline", "r2", "p1")
    assert any("interleaved with p1: 3 rounds of 2 steps" in n for n in a.notes)
    assert a.evidence == b.evidence == "measured"


def test_run_pair_through_the_real_worker() -> None:
    pytest.importorskip("torch")
    from pytest_goblin.hardware import get_hardware
    from pytest_goblin.modelzoo import lookup_model
    from pytest_goblin.schemas import WorkloadConfig

    base = WorkloadConfig(path="x", format="goblin", model=lookup_model("meta-llama/Meta-Llama-3-8B"), micro_batch_size=2, seq_len=64)
    after = base.model_copy(update={"optimizer": "adamw_torch_fused"})
    runner = TorchRunner(device="cpu", timeout_s=240)
    a, b = runner.run_pair(base, after, get_hardware("mi300x"), run_ids=("r1", "r2"), variants=("baseline", "p1"), rounds=2, steps=2)
    assert len(a.step_time_s) == len(b.step_time_s) == 4 and a.device == "cpu"
    with pytest.raises(BenchmarkFailed, match="hung"):
        TorchRunner(device="cpu", timeout_s=0.5, command=[sys.executable, "-c", "import time; time.sleep(10)"]).run_pair(
            base, after, get_hardware("mi300x"), run_ids=("r1", "r2"), variants=("baseline", "p1"), rounds=1, steps=1
        )


def test_worker_stops_at_the_minimum_when_narrow_or_out_of_time() -> None:
    pytest.importorskip("torch")
    from pytest_goblin.modelzoo import lookup_model
    from pytest_goblin.runners.torch_runner import Scale, measure_pair
    from pytest_goblin.schemas import WorkloadConfig

    tiny = Scale(layers=1, hidden=64, seq_len=32, vocab=128, max_micro_batch=2)
    w = WorkloadConfig(path="x", format="goblin", model=lookup_model("meta-llama/Meta-Llama-3-8B"), micro_batch_size=2, seq_len=32)
    kw = {"device": "cpu", "steps": 2, "warmup": 1, "run_ids": ("r1", "r2"), "variants": ("baseline", "p1"), "scale": tiny}
    easy, _ = measure_pair(w, w, rounds=2, target_half_width=1e9, max_seconds=60, **kw)  # type: ignore[arg-type]
    assert len(easy.step_time_s) == 4  # already narrow enough after the minimum rounds
    # an interval that can never be narrow enough, and no time for another round: the minimum only
    # (adding rounds until time runs out is tested with a fake clock in test_interleave.py)
    hard, _ = measure_pair(w, w, rounds=2, target_half_width=0.0, max_seconds=0.0, **kw)  # type: ignore[arg-type]
    assert len(hard.step_time_s) == 4
    assert any("2 rounds of 2 steps" in n for n in hard.notes)


def test_waste_budget_from_a_real_profiler_trace_on_the_cpu() -> None:
    pytest.importorskip("torch")
    from pytest_goblin.modelzoo import lookup_model
    from pytest_goblin.runners.torch_runner import Scale, measure
    from pytest_goblin.schemas import WorkloadConfig

    tiny = Scale(layers=1, hidden=64, seq_len=32, vocab=128, max_micro_batch=2)
    w = WorkloadConfig(path="x", format="goblin", model=lookup_model("meta-llama/Meta-Llama-3-8B"), micro_batch_size=2, seq_len=32, attention="eager")
    m = measure(w, device="cpu", steps=2, warmup=1, run_id="p", variant="baseline", scale=tiny, profile=True)
    assert m.waste is not None
    shares = m.waste.model_dump()
    assert abs(sum(shares.values()) - 1.0) < 1e-6 or sum(shares.values()) <= 1.0 + 1e-6
    assert m.waste.compute > 0 and m.waste.optimizer > 0 and m.waste.attention > 0  # matmuls, AdamW, the softmax
    assert any("torch.profiler trace" in n for n in m.notes)
