from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from pytest_goblin.cli import main

from .conftest import EXAMPLES


def test_audit_writes_junit_with_one_case_per_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junit = tmp_path / "r.xml"
    code = main(["audit", str(EXAMPLES), "--runner", "projection", "--junit", str(junit), "--md", str(tmp_path / "r.md")])
    assert code == 1  # the bad examples fail
    cases = ET.parse(junit).getroot().findall(".//testcase")
    assert len(cases) == 4
    assert sum(1 for c in cases if c.find("failure") is not None) == 3
    out = capsys.readouterr().out
    assert "PASS" in out and "FAIL" in out
    assert "```diff" in (tmp_path / "r.md").read_text()


def test_audit_events_are_json_lines(capsys: pytest.CaptureFixture[str]) -> None:
    main(["audit", str(EXAMPLES / "trl-smollm3-3b-sft-tuned.yaml"), "--runner", "projection", "--events"])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[0]["type"] == "thought" and lines[-1]["type"] == "final_report"
    assert lines[-1]["data"]["verdict"] == "pass"


def test_parse_explains_fields_and_skips(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse", str(EXAMPLES / "llamafactory-qwen3-4b-qlora.yaml"), str(EXAMPLES / "accelerate-fsdp.yaml")]) == 0
    out = capsys.readouterr().out
    assert "llamafactory" in out and "line 3: quantization_bit" in out
    assert "accelerate-fsdp.yaml: not collected: an accelerate launch config" in out


def test_kb_lint_and_list(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["kb", "lint"]) == 0
    assert main(["kb", "list", "--json"]) == 0
    rules = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert len(rules) >= 12 and all(r["citation"].startswith("https://") for r in rules)
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "- id: precision.x\n  category: precision\n  title: t\n  symptom: s\n  applies_when: [{fact: precisionn, op: eq, value: fp16}]\n"
        "  transform: {set: {precision: bf16}}\n  impact: {low: 1.0, high: 1.1}\n  risk: r\n  citation: https://example.org\n"
    )
    assert main(["kb", "lint", "--kb-path", str(bad)]) == 1
    assert "unknown workload field 'precisionn'" in capsys.readouterr().err


def test_parse_lists_no_python_none(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`goblin parse` prints a source that is no workload field (a DeepSpeed file's offload key, the file itself) without
    a value, an unset field as unset and an export without a value with none: never `None` (review10b #30 LongQLoRA
    `cpu_offload_in.0 = None`, `deepspeed_file = None`, `compile_mode = None`)."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "ds.json").write_text('{"zero_optimization": {"stage": 2, "offload_optimizer": {"device": "cpu"}}}\n')
    (tmp_path / "run.sh").write_text("export OUT_DIR=$(pwd)/out\ndeepspeed --num_gpus 2 train.py --config cfg.yaml\n")
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(
        "model_name_or_path: meta-llama/Llama-2-7b-hf\noutput_dir: out\nbf16: true\ndeepspeed: ds.json\nper_device_train_batch_size: 4\n"
        "gradient_accumulation_steps: 2\nlearning_rate: 2.0e-5\nnum_train_epochs: 1\nlr_scheduler_type: cosine\n"
    )
    assert main(["parse", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "zero_stage = 2" in out and "deepspeed_file  (" in out
    assert "compile_mode unset" in out
    assert "None" not in out
