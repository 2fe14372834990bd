"""The projection against published throughput: docs/projection.md shows what the model computes now."""

from __future__ import annotations

import re

from calibration_rows import MEASUREMENTS, calibrate, table

from .conftest import ROOT

DOC = ROOT / "docs" / "projection.md"


def test_docs_carry_the_current_calibration_table() -> None:
    text = DOC.read_text(encoding="utf-8")
    found = re.search(r"<!-- calibration-table:start -->\n(.*?)\n<!-- calibration-table:end -->", text, re.S)
    assert found, "docs/projection.md lost its calibration-table markers"
    assert found.group(1) == table(), "the projection changed: run `python benchmarks/calibration.py` and update docs/projection.md"


def test_at_least_five_sourced_measurements_each_projected_within_its_range() -> None:
    assert len(MEASUREMENTS) >= 5
    for m in MEASUREMENTS:
        assert m.source.startswith("https://")
        assert f"{m.published_tokens_per_s:.0f}" in m.row  # the figure is the one quoted
        c = calibrate(m)
        assert c.low < c.projected < c.high
        assert c.within_range, f"{m.name}: published {m.published_tokens_per_s} outside {c.low:.0f}-{c.high:.0f}"
        moe = bool(m.workload_config().model.n_experts)
        bound = 0.40 if moe else 0.35  # docs/projection.md: MoE routing and expert parallelism are modelled coarsely
        assert abs(c.error) < bound, f"{m.name}: projection off by {c.error:+.1%}"


def test_workloads_read_as_written() -> None:
    for m in MEASUREMENTS:
        w = m.workload_config()
        assert w.model.known, m.name
        assert w.precision == m.workload["precision"]
        wl = m.workload
        assert (w.world_size, w.context_parallel) == (wl["world_size"], wl.get("context_parallel", 1))
        # global batch = micro-batch x accumulation x data-parallel ranks (GPUs / CP), as published
        assert w.micro_batch_size * w.gradient_accumulation * w.world_size // w.context_parallel == int(re.search(r"GBS (\d+)", m.row).group(1))  # type: ignore[union-attr]
        assert w.seq_len == int(re.search(r"seq (\d+)", m.row).group(1))  # type: ignore[union-attr]


def test_moe_experts_run_at_the_efficiency_of_their_routed_tokens() -> None:
    from pytest_goblin.costmodel import step
    from pytest_goblin.hardware import get_hardware
    from pytest_goblin.modelzoo import lookup_model
    from pytest_goblin.schemas import WorkloadConfig

    hw = get_hardware("mi300x")
    moe = lookup_model("openai/gpt-oss-20b")
    assert (moe.n_experts, moe.experts_per_token) == (32, 4)
    dense_twin = moe.model_copy(update={"n_experts": None, "experts_per_token": None})

    def step_s(shape: object, mbs: int) -> float:
        w = WorkloadConfig(path="x", format="goblin", model=shape, precision="bf16", micro_batch_size=mbs, gradient_accumulation=8 // mbs, seq_len=1024)
        return step(w, hw).step_s

    assert step_s(moe, 1) > step_s(dense_twin, 1)  # routed tokens make smaller, slower expert GEMMs
    # a larger micro-batch feeds every expert more tokens, so it pays more for MoE than for a dense model
    assert step_s(moe, 1) / step_s(moe, 8) > step_s(dense_twin, 1) / step_s(dense_twin, 8)
