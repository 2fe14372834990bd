"""A finding whose line is another file's (issue 24, review10b #35: stanford_alpaca's `--tf32 True` on README.md
line 153 was printed as `train.py:153` and said "(line 153)"): the finding carries the file its line is in
(`Finding.file`, relative to the repository root), every output names that file there (terminal, Markdown summary
and PR comment, JSON, JUnit, GitHub annotations, SARIF), and the message says "(README.md line N)". A value the
config itself sets keeps its own line and no file. Nothing is executed."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from pytest_goblin import blockers, hardware
from pytest_goblin.baseline import read_report
from pytest_goblin.formats import load_config
from pytest_goblin.github_comment import body_for
from pytest_goblin.outcome import ItemOutcome, SessionReport
from pytest_goblin.reporting.github import workflow_commands
from pytest_goblin.reporting.junit import junit_xml
from pytest_goblin.reporting.markdown import render
from pytest_goblin.reporting.outputs import write_outputs
from pytest_goblin.reporting.sarif import sarif
from pytest_goblin.reporting.text import failure_text, findings_lines
from pytest_goblin.schemas import Finding, Report

from .test_topology import repo

HW = hardware.get_hardware("mi300x")

# The shape of stanford_alpaca train.py@761dc5b: the repository's TrainingArguments subclass parsed from the command line
SCRIPT = """\
from dataclasses import dataclass, field
from typing import Optional

import transformers
from transformers import Trainer


@dataclass
class ModelArguments:
    model_name_or_path: Optional[str] = field(default="facebook/opt-125m")


@dataclass
class TrainingArguments(transformers.TrainingArguments):
    model_max_length: int = field(default=512)


def train():
    parser = transformers.HfArgumentParser((ModelArguments, TrainingArguments))
    model_args, training_args = parser.parse_args_into_dataclasses()
    model = transformers.AutoModelForCausalLM.from_pretrained(model_args.model_name_or_path)
    trainer = Trainer(model=model, args=training_args)
    trainer.train()


if __name__ == "__main__":
    train()
"""
# ... and its README's launch line, `--tf32 True` on line 11
README = """\
# Fine-tune

Train with:

```bash
torchrun --nproc_per_node=4 train.py \\
    --model_name_or_path meta-llama/Meta-Llama-3-8B \\
    --bf16 True \\
    --output_dir out \\
    --per_device_train_batch_size 4 \\
    --tf32 True
```
"""


@pytest.fixture(autouse=True)
def _in_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def _tf32(root: Path, config: str) -> Finding:
    found = [f for f in blockers.findings(load_config(root / config), HW) if f.rule_id == "blocker.tf32_on_rocm"]
    assert len(found) == 1, found
    return found[0]


def test_a_launch_lines_value_is_placed_in_the_readme(tmp_path: Path) -> None:
    root = repo(tmp_path, {"train.py": SCRIPT, "README.md": README, "requirements.txt": "transformers==4.46.3\n"})
    f = _tf32(root, "train.py")
    assert (f.file, f.line) == ("README.md", 11)
    assert f.message.startswith("`--tf32 True` (README.md line 11): ")
    assert "(line 11)" not in f.message and "None" not in f.message
    # the Lookup the online-RL messages read: the place as a phrase where the line is another file's
    assert blockers.placed_key(load_config(root / "train.py"), "tf32") == (True, "True", "README.md line 11")


def test_a_value_the_config_sets_itself_keeps_its_own_line(tmp_path: Path) -> None:
    script = "from transformers import TrainingArguments\nargs = TrainingArguments(output_dir='o', bf16=True, tf32=True)\n"
    yaml = "model_name_or_path: meta-llama/Meta-Llama-3-8B\nper_device_train_batch_size: 4\nlearning_rate: 2.0e-5\nbf16: true\ntf32: true\n"
    root = repo(tmp_path, {"train.py": script, "sft.yaml": yaml})
    in_code = _tf32(root, "train.py")
    assert in_code.file is None and in_code.line == 2 and "`tf32=True` (line 2)" in in_code.message
    in_yaml = _tf32(root, "sft.yaml")
    assert in_yaml.file is None and in_yaml.line == 5 and "`tf32: true` (line 5)" in in_yaml.message
    assert blockers.placed_key(load_config(root / "sft.yaml"), "tf32") == (True, True, 5)


def _session() -> SessionReport:
    elsewhere = Finding(
        rule_id="blocker.tf32_on_rocm",
        title="`tf32: true` raises in TrainingArguments on ROCm",
        category="blocker",
        line=153,
        file="README.md",
        key="tf32",
        message="`--tf32 True` (README.md line 153): raises",
        citation="https://x.example",
        blocker=True,
    )
    own = Finding(
        rule_id="optimizer.fused_adamw",
        title="Use the fused AdamW kernel",
        category="optimizer",
        line=58,
        key="optim",
        message="m",
        citation="https://x.example",
    )
    report = Report(
        path="train.py",
        format="python",
        target="mi300x",
        backend="planner",
        verdict="fail",
        reason="will not start",
        evidence="projected",
        findings=[elsewhere, own],
    )
    return SessionReport(
        version="0", target="mi300x", items=[ItemOutcome(nodeid="train.py::audit", path="train.py", verdict="fail", message="will not start", report=report)]
    )


def test_the_terminal_and_junit_name_the_file_the_line_is_in() -> None:
    session = _session()
    r = session.items[0].report
    assert r is not None
    text = failure_text(r)
    assert "  README.md:153: [blocker.tf32_on_rocm]" in text and "  train.py:58: [optimizer.fused_adamw]" in text
    assert "train.py:153" not in text
    lines = findings_lines(r)
    assert any("README.md:153: [blocker.tf32_on_rocm]" in line for line in lines)
    assert any("train.py:58: [optimizer.fused_adamw]" in line for line in lines)
    case = next(ET.fromstring(junit_xml(session)).iter("testcase"))
    failure = case.find("failure")
    assert failure is not None and "README.md:153: [blocker.tf32_on_rocm]" in (failure.text or "")


def test_markdown_json_and_the_pr_comment_name_the_file(tmp_path: Path) -> None:
    session = _session()
    md = render(session).replace("\\", "")
    assert "(README.md line 153, " in md and "(line 58, " in md
    write_outputs(session, json=str(tmp_path / "r.json"), step_summary=False)
    item = json.loads((tmp_path / "r.json").read_text())["items"][0]
    by_rule = {f["rule_id"]: f for f in item["report"]["findings"]}
    assert (by_rule["blocker.tf32_on_rocm"]["file"], by_rule["blocker.tf32_on_rocm"]["line"]) == ("README.md", 153)
    assert by_rule["optimizer.fused_adamw"]["file"] is None
    comment = body_for(render(read_report(str(tmp_path / "r.json")))).replace("\\", "")  # read back from the JSON
    assert "(README.md line 153, " in comment and "(line 58, " in comment


def test_github_annotations_and_sarif_point_at_the_file_the_line_is_in() -> None:
    session = _session()
    commands = workflow_commands(session)
    tf32 = next(c for c in commands if "title=blocker.tf32_on_rocm" in c)
    fused = next(c for c in commands if "title=optimizer.fused_adamw" in c)
    assert tf32.startswith("::error file=README.md,line=153,") and fused.startswith("::error file=train.py,line=58,")
    results = json.loads(sarif(session))["runs"][0]["results"]
    where = {r["ruleId"]: r["locations"][0]["physicalLocation"] for r in results}
    assert where["blocker.tf32_on_rocm"] == {"artifactLocation": {"uri": "README.md"}, "region": {"startLine": 153}}
    assert where["optimizer.fused_adamw"] == {"artifactLocation": {"uri": "train.py"}, "region": {"startLine": 58}}


def test_a_grpo_length_a_launch_line_passes_is_said_at_its_file(tmp_path: Path) -> None:
    """TrlParser sets `--max_prompt_length 256` beside `--config` over the recipe: the seq_len note names the
    launcher's file and line, not "the config"; the recipe's own max_completion_length keeps its line."""
    script = (
        "from trl import GRPOConfig, GRPOTrainer, TrlParser, ModelConfig, ScriptArguments\n"
        "parser = TrlParser((ScriptArguments, GRPOConfig, ModelConfig))\n"
        "script_args, training_args, model_args = parser.parse_args_and_config()\n"
        "GRPOTrainer(args=training_args).train()\n"
    )
    recipe = (
        "model_name_or_path: Qwen/Qwen2.5-0.5B-Instruct\nbf16: true\nuse_vllm: true\nnum_generations: 6\n"
        "per_device_train_batch_size: 6\ngradient_accumulation_steps: 4\nlearning_rate: 1.0e-6\nmax_completion_length: 1024\n"
    )
    launch = "#!/bin/bash\naccelerate launch --num_processes 2 train.py --config grpo.yaml --max_prompt_length 256\n"
    root = repo(tmp_path, {"chat/train.py": script, "chat/grpo.yaml": recipe, "chat/train.sh": launch})
    w = load_config(root / "chat" / "grpo.yaml").workload
    note = w.sources["seq_len"].note or ""
    assert w.seq_len == 256 + 1024, note
    assert "max_prompt_length 256 (chat/train.sh line 2)" in note and "max_completion_length 1024 (line 8)" in note
    assert "(the config)" not in note
