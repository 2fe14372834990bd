"""No rendered message shows Python's None or an empty value: every finding, note, skip reason and
reason of a projected audit of every config under tests/data (the reference corpus, vendored from
../shared/corpus, among them) and examples/, and every rule that applies to each, rendered.

A workload field a rule reads as "absent" (packing_blocked, prequantized, zero_stage, compile_mode)
used to be shown as `packing blocked None`; framework-default notes as `(default None)`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pytest_goblin import rules as kb
from pytest_goblin.backends import Planner
from pytest_goblin.formats.semantics import with_world_size
from pytest_goblin.hardware import get_hardware
from pytest_goblin.loop import audit_sync, final_report
from pytest_goblin.redact import redact
from pytest_goblin.rules import render_finding
from pytest_goblin.schemas import Report
from pytest_goblin.service import check_config, config_files
from pytest_goblin.settings import Settings

from .conftest import DATA, EXAMPLES, SHARED_CORPUS

# `None` as a word; `KEY=` or `label:` followed by nothing (end, `;`, `,`, `)` or `]`)
LEAK = re.compile(r"\bNone\b|=\s*(?:$|[;,)\]])|:\s*(?:$|[;,)\]])|\*\*\*")
SETTINGS = Settings(runner="projection", target="mi300x")


def _texts(report: Report) -> list[tuple[str, str]]:
    texts = [(f"finding {f.rule_id}", f.message) for f in report.findings]
    texts += [("note", n) for n in report.notes] + [("reason", report.reason)]
    if report.patch is not None:
        texts += [(f"skipped {rid}", why) for rid, why in report.patch.skipped.items()]
    return texts


def leaks(texts: list[tuple[str, str]]) -> list[str]:
    return [f"{kind}: ...{text[max(0, m.start() - 60) : m.end() + 20]}..." for kind, text in texts for m in LEAK.finditer(text)]


def test_the_leak_pattern_catches_what_it_is_for() -> None:
    assert leaks([("f", "quantization 4bit; prequantized None: use bf16")])
    assert leaks([("f", "no dataloader_* key: ***, the world size")])
    assert leaks([("f", "HSA_CU_MASK=; x")]) and leaks([("f", "compile mode: ")]) and leaks([("f", "(default None)")])
    assert not leaks([("f", 'HSA_CU_MASK=""; see https://rocm.docs.amd.com/x (line 3)')])


def test_no_rendered_message_over_the_corpus_shows_none_or_an_empty_value() -> None:
    files = [f for root in (DATA, EXAMPLES) for f in config_files([root])]
    assert any(f.is_relative_to(SHARED_CORPUS) for f in files) and any(f.suffix == ".py" for f in files)
    hw, rules = get_hardware("mi300x"), kb.cached_rules()
    found: dict[str, list[str]] = {}
    audited = 0
    for path in files:
        checked = check_config(path)
        if checked.loaded is None:
            continue
        audited += 1
        report = final_report(audit_sync(path, backend=Planner(), settings=SETTINGS, loaded=checked.loaded))
        texts = _texts(report) if report is not None else []
        # goblin's own notes on where each value came from: a note that reads like `key: value` to the
        # secret masker loses its figures (`no dataloader_* key: ***`)
        texts += [(f"source {k}", s.note) for k, s in checked.loaded.workload.sources.items() if s.note]
        # every rule that applies, as the audit would word it, on the GPUs read and on 8 stated ones
        for w in (checked.loaded.workload, with_world_size(checked.loaded.workload, 8)):
            texts += [(f"rule {r.id}", render_finding(r, w, hw)) for r in kb.applicable(w, hw, rules, host={})]
        bad = leaks([(kind, redact(text)) for kind, text in texts])  # as every output shows it: masked
        if bad:
            found[str(path.relative_to(DATA.parent.parent))] = bad
    assert audited >= 300
    assert not found, "\n".join(f"{p}: {m}" for p, ms in sorted(found.items())[:20] for m in ms[:3])


@pytest.mark.parametrize(
    ("fact", "unset"),
    [("packing_blocked", "packing blocked"), ("prequantized", "prequantized"), ("zero_stage", "zero stage"), ("compile_mode", "compile mode")],
)
def test_an_unset_field_is_left_out_or_said_not_set(fact: str, unset: str, tmp_path: Path) -> None:
    from pytest_goblin.rules import _fact_phrase
    from pytest_goblin.schemas import FieldSource, ModelShape, WorkloadConfig

    w = WorkloadConfig(path="c.yaml", format="hf", model=ModelShape(name="m"))
    assert getattr(w, fact) is None and _fact_phrase(fact, w) == ""
    noted = w.model_copy(update={"sources": {fact: FieldSource(file="c.yaml", explicit=False, note="the framework's default")}})
    assert _fact_phrase(fact, noted) == f"{unset} not set (the framework's default)"
    written = w.model_copy(update={"sources": {fact: FieldSource(file="c.yaml", explicit=True, key="k", line=4)}})
    assert _fact_phrase(fact, written) == f"{unset} not set (`k`, line 4)"
