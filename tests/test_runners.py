"""Runners: the projection's physics, and measured steps on the CPU device."""

from __future__ import annotations

import pytest

from pytest_goblin.costmodel import memory_gb, sensitivity, step
from pytest_goblin.errors import BenchmarkFailed
from pytest_goblin.formats import load_config
from pytest_goblin.hardware import get_hardware
from pytest_goblin.runners import make_runner
from pytest_goblin.runners.torch_runner import TorchRunner
from pytest_goblin.stats import bootstrap_speedup, decide

from .conftest import EXAMPLES

HW = get_hardware("mi300x")


@pytest.fixture
def workload():  # type: ignore[no-untyped-def]
    return load_config(EXAMPLES / "axolotl-llama3-8b-lora.yml").workload


@pytest.mark.parametrize(
    ("change", "faster"),
    [
        ({"gradient_checkpointing": False}, True),
        ({"attention": "sdpa"}, True),
        ({"precision": "fp32"}, False),
        ({"micro_batch_size": 8, "gradient_accumulation": 2}, True),
    ],
)
def test_projection_moves_the_right_way(workload, change, faster) -> None:  # type: ignore[no-untyped-def]
    base = step(workload, HW).step_s
    changed = step(workload.model_copy(update=change), HW).step_s
    assert (changed < base) == faster


def test_projection_memory_counts_checkpointing_and_quantization(workload) -> None:  # type: ignore[no-untyped-def]
    assert memory_gb(workload.model_copy(update={"gradient_checkpointing": False})) > memory_gb(workload)
    assert memory_gb(workload.model_copy(update={"quantization": "4bit"})) < memory_gb(workload)


def test_sensitivity_interval_brackets_the_point(workload) -> None:  # type: ignore[no-untyped-def]
    point, low, high = sensitivity(workload, workload.model_copy(update={"gradient_checkpointing": False}), HW)
    assert low <= point <= high and low > 1.0


def test_bootstrap_and_verdict() -> None:
    s = bootstrap_speedup([1.0, 1.02, 0.98, 1.01, 0.99], [0.5, 0.51, 0.49, 0.5, 0.52])
    assert 1.8 < s.low <= s.point <= s.high < 2.2
    assert decide(s, fail_at=1.1, warn_at=1.03)[0] == "fail"
    same = bootstrap_speedup([1.0, 1.1, 0.9, 1.05], [1.0, 1.1, 0.9, 1.05])
    assert decide(same, fail_at=1.1, warn_at=1.03)[0] == "pass"


def test_auto_runner_is_projection_without_a_gpu() -> None:
    assert make_runner("auto").name == "projection"


def test_torch_runner_measures_real_steps_in_a_child_process(workload) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("torch")
    small = workload.model_copy(update={"micro_batch_size": 1, "gradient_accumulation": 1})
    m = TorchRunner(timeout_s=900).run(small, HW, run_id="r1", variant="baseline", steps=2)
    assert m.evidence == "measured" and m.runner == "torch" and m.device == "cpu"
    assert len(m.step_time_s) == 2 and all(t > 0 for t in m.step_time_s)
    assert m.tokens_per_s is not None and m.tokens_per_s > 0 and "torch" in m.versions


def test_torch_runner_timeout_is_a_named_error(workload) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("torch")
    with pytest.raises(BenchmarkFailed, match="hung"):
        TorchRunner(timeout_s=0.05).run(workload, HW, run_id="r1", variant="baseline", steps=2)


def test_measured_audit_end_to_end(tmp_path) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("torch")
    from pytest_goblin.backends import Planner
    from pytest_goblin.loop import audit_sync, final_report
    from pytest_goblin.settings import Settings

    cfg = tmp_path / "small.yml"
    cfg.write_text(
        "base_model: HuggingFaceTB/SmolLM2-1.7B\ndatasets: []\nsequence_len: 128\nmicro_batch_size: 1\ngradient_accumulation_steps: 2\neager_attention: true\nbf16: true\n"
    )
    events = audit_sync(cfg, backend=Planner(), settings=Settings(runner="torch", bench_steps=3))
    report = final_report(events)
    assert report is not None and report.evidence == "measured", [e.data for e in events if e.type == "error"]
    assert report.before.evidence == report.after.evidence == "measured"
    assert report.speedup.low <= report.speedup.point <= report.speedup.high
    assert "bootstrap" in report.speedup.method


def test_every_registered_runner_declares_the_whole_protocol() -> None:
    """Capabilities are declared, not probed: each runner has run, profile, run_pair and bind."""
    from pytest_goblin.runners import RUNNERS, Runner
    from pytest_goblin.settings import Settings

    assert set(RUNNERS) == {"projection", "torch", "command"}
    for name, factory in RUNNERS.items():
        runner = factory(Settings(runner=name, command="python t.py --config {config}"))  # type: ignore[arg-type]
        assert isinstance(runner, Runner), name
        assert runner.measured is (name != "projection"), name
        assert runner.bind(lambda variant: None) is not None  # type: ignore[arg-type, return-value]
