"""benchmarks/offload_ablations.py: published CPU offload runs against the projection's host offload terms (offload36),
and `Impact.measured.priced` (a record goblin prices, no bar for audit_tools._measured_beyond)."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from offload_ablations import RUNS, added_s, inside, projected_ratio, table

from pytest_goblin.hardware import get_hardware
from pytest_goblin.rules import load_rules
from pytest_goblin.tools.audit_tools import _measured_beyond

DOC = Path(__file__).resolve().parent.parent / "docs" / "projection.md"
BY_NAME = {r.name: r for r in RUNS}


def test_the_rows_are_the_sources_figures() -> None:
    zen = BY_NAME["zenflow-llama2-7b-zero-offload"]
    assert (zen.off_s, zen.on_s, zen.published_ratio, zen.over) == (0.5, 7.0, 14.0, True)
    assert BY_NAME["pr7474-qwen2.5-3b-zero-offload"].on_s == pytest.approx(2.383)
    assert BY_NAME["hf-fsdp-gpt2-large"].published_ratio == pytest.approx(24 / 13)
    assert BY_NAME["hf-fsdp-gpt2-xl"].published_ratio == pytest.approx(1.16 / 0.6)
    assert BY_NAME["issue6695-llama2-1.2b"].published_ratio == pytest.approx(490 / 31)
    assert inside(BY_NAME["issue6695-llama2-0.3b"]) is None
    assert all(r.workload is None or r.workload["cpu_offload"] for r in RUNS)


def test_the_recorded_agreement_and_disagreement() -> None:
    # docs/projection.md "Host offload against published runs": ZenFlow's over-14x lies above goblin's interval, the
    # PR #7474 step bounds goblin's added time. A change to the host terms that moves either needs that section reread.
    zen = BY_NAME["zenflow-llama2-7b-zero-offload"]
    got = projected_ratio(zen)
    assert got is not None and got[1] < got[0] < got[2] < 14.0 and inside(zen) is False
    pr = BY_NAME["pr7474-qwen2.5-3b-zero-offload"]
    assert projected_ratio(pr) is None and inside(pr) is True and 0 < added_s(pr) < 2.383
    assert inside(BY_NAME["hf-fsdp-gpt2-xl"]) is None


def test_docs_carry_the_current_offload_table() -> None:
    text = DOC.read_text(encoding="utf-8")
    found = re.search(r"<!-- offload-table:start -->\n(.*?)\n<!-- offload-table:end -->", text, re.S)
    assert found, "docs/projection.md lost its offload-table markers"
    assert found.group(1).strip() == table().strip(), "rerun `python benchmarks/offload_ablations.py` and paste its table"


def _ctx(rule_id: str) -> SimpleNamespace:
    return SimpleNamespace(settings=SimpleNamespace(fail_at=1.15), small_gains={rule_id: 1.02}, hw=get_hardware("mi300x"))


def test_unpriced_measured_runs_bar_a_small_gain() -> None:
    """fires: torch.compile's published pairs are no term of goblin's: a small projected gain cannot clear them."""
    rule = next(r for r in load_rules() if r.id == "compile.torch_compile")
    assert rule.impact.measured is not None and not rule.impact.measured.priced
    why = _measured_beyond(_ctx(rule.id), [rule])  # type: ignore[arg-type]
    assert why is not None and "compile.torch_compile" in why and "None" not in why


def test_priced_measured_offload_runs_are_a_record_not_a_bar() -> None:
    """must-not: the offload runs measure terms goblin prices (host AdamW, host link): they clear nothing and bar nothing."""
    rule = next(r for r in load_rules() if r.id == "memory.cpu_offload_when_it_fits")
    m = rule.impact.measured
    assert m is not None and m.priced and m.pairs == 5 and m.low == pytest.approx(1.85) and m.high == pytest.approx(490 / 31, abs=0.05)
    assert _measured_beyond(_ctx(rule.id), [rule]) is None  # type: ignore[arg-type]
