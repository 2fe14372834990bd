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


LF_DPO = (
    "model_name_or_path: meta-llama/Meta-Llama-3-8B-Instruct\nstage: dpo\npref_loss: simpo\ndo_train: true\nfinetuning_type: full\n"
    "dataset: dpo_en_demo\ntemplate: llama3\ncutoff_len: 2048\nper_device_train_batch_size: 1\ngradient_accumulation_steps: 8\nbf16: true\n"
    "deepspeed: ds_z3_config.json\n"
)
TRL_DPO = (
    "# DPOTrainer\nmodel_name_or_path: meta-llama/Meta-Llama-3-8B-Instruct\nper_device_train_batch_size: 2\n"
    "gradient_accumulation_steps: 8\nlearning_rate: 5.0e-7\nbeta: 0.1\nmax_length: 1024\nbf16: true\ngradient_checkpointing: true\n"
)
TT_LORA = (
    "model:\n  _component_: torchtune.models.llama3.lora_llama3_8b\n  lora_attn_modules: ['q_proj', 'v_proj']\n"
    "tokenizer:\n  _component_: torchtune.models.llama3.llama3_tokenizer\n  path: /tmp/tokenizer.model\n"
    "dataset:\n  _component_: torchtune.datasets.alpaca_dataset\noptimizer:\n  _component_: torch.optim.AdamW\n  lr: 3e-4\n"
    "batch_size: 2\nepochs: 1\ndtype: bf16\ncompile: false\nenable_activation_checkpointing: true\n"
    "# tune run lora_finetune_single_device --config this.yaml\n"
)


@pytest.mark.parametrize(
    ("dist", "name", "text", "pin", "run"),
    [
        ("llamafactory", "dpo.yaml", LF_DPO, "llamafactory==0.9.2\n", "0.9.2"),  # review2 #12: notes said 0.9.5 beside 0.9.2.dev0
        ("torchtune", "lora.yaml", TT_LORA, "torchtune==0.2.1\n", "0.2.1"),  # review2 #30: torchtune 0.6.1 beside 0.2.1
        ("trl", "dpo.yaml", TRL_DPO, "trl==0.12.2\ntransformers==4.46.3\n", "0.12.2"),
        # the transformers release of a TRL recipe too (review2 #7: a recipe pinned to transformers 4.35.0)
        ("transformers", "dpo.yaml", TRL_DPO, "trl==0.12.2\ntransformers==4.46.3\n", "4.46.3"),
    ],
)
def test_every_message_names_the_framework_at_the_release_the_repository_runs(dist: str, name: str, text: str, pin: str, run: str, tmp_path: Path) -> None:
    from pytest_goblin.frameworks.tables import table

    tables = str(table(dist)["version"])
    assert tables != run
    (tmp_path / ".git").mkdir()
    (tmp_path / "requirements.txt").write_text(pin)
    path = tmp_path / name
    path.write_text(text)
    checked = check_config(path)
    assert checked.loaded is not None
    report = final_report(audit_sync(path, backend=Planner(), settings=SETTINGS, loaded=checked.loaded))
    assert report is not None
    texts = _texts(report) + [(f"source {k}", s.note) for k, s in checked.loaded.workload.sources.items() if s.note]
    texts += [("workload note", n) for n in checked.loaded.workload.notes]
    said = re.compile(rf"(?i)\b{dist} v?{re.escape(tables)}(?![\w.])")
    other = [f"{kind}: {t[max(0, m.start() - 60) : m.end() + 30]}" for kind, t in texts for m in said.finditer(t)]
    assert not other, "\n".join(other[:5])
    assert dist == "transformers" or any(f"{dist} {run}" in t for _k, t in texts)  # a TRL recipe's own notes name TRL
    cited = re.compile(rf"(?i)\b{dist} v?[0-9][\w.]* (?:[\w.-]+/)*[\w.-]+\.py:")  # a citation of another release: file:line@version
    assert not [t for _k, t in texts for m in cited.finditer(t) if not m.group(0).lower().startswith(f"{dist} {run} ")]
    # must not: without the pin the release is goblin's own and is said as such
    alone = tmp_path / "unpinned"
    (alone / ".git").mkdir(parents=True)
    (alone / name).write_text(text)
    unpinned = check_config(alone / name)
    assert unpinned.loaded is not None and unpinned.loaded.workload.framework is not None
    assert dist == "transformers" or f"{dist} {tables}" in unpinned.loaded.workload.framework


def test_a_citation_keeps_the_release_it_was_read_at() -> None:
    from pytest_goblin.frameworks.history import Reading, in_run_terms

    got = Reading("llamafactory", "0.9.2.dev0", "a vendored copy", "0.9.5", False, "llamafactory==0.9.2.dev0")
    said = in_run_terms("ZeRO-3 (llamafactory 0.9.5 model/adapter.py:313-325); read as llamafactory 0.9.5 stage dpo", got)
    assert said == "ZeRO-3 (llamafactory model/adapter.py:313-325@0.9.5); read as llamafactory 0.9.2.dev0 (goblin read 0.9.5) stage dpo"
    assumed = Reading("llamafactory", "0.9.5", "not pinned", "0.9.5", True)
    assert in_run_terms("llamafactory 0.9.5 stage dpo", assumed) == "llamafactory 0.9.5 stage dpo"
