"""An inconclusive measurement is shown as such, with why and what to change, by every output:
the Markdown summary, the sticky PR comment, the GitHub job summary and annotations, SARIF,
JUnit and the terminal line. Never as a plain pass, warn or fail."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from pytest_goblin.baseline import read_report
from pytest_goblin.formats import load_config
from pytest_goblin.github_comment import MARKER, body_for
from pytest_goblin.outcome import ItemOutcome, SessionReport
from pytest_goblin.reporting.github import workflow_commands
from pytest_goblin.reporting.junit import junit_xml
from pytest_goblin.reporting.markdown import render
from pytest_goblin.reporting.outputs import write_outputs
from pytest_goblin.reporting.sarif import sarif
from pytest_goblin.reporting.text import failure_text, summary_line
from pytest_goblin.schemas import Edit, Finding, Patch, Report, Speedup

from .conftest import EXAMPLES

WHY = "the interval [0.16-11.40] spans both no gain and goblin_fail_at=1.10; measure longer (goblin_command_steps, goblin_budget_s) or on a quieter runner"


def _report(path: str, *, verdict: str, point: float, low: float, high: float, why: str | None) -> Report:
    finding = Finding(
        rule_id="compile.torch_compile",
        title="torch.compile is off",
        category="compile",
        line=3,
        key="torch_compile",
        message="m",
        citation="https://x.example",
    )
    patch = Patch(
        patch_id="p1",
        rule_ids=["compile.torch_compile"],
        edits=[Edit(field="torch_compile", old=False, new=True, rule_id="compile.torch_compile")],
        new_workload=load_config(EXAMPLES / "axolotl-llama3-8b-lora.yml").workload,
        diff="--- a/c.yml\n+++ b/c.yml\n@@ -3 +3 @@\n-torch_compile: false\n+torch_compile: true\n",
    )
    reason = f"inconclusive ({point:.2f}x [{low:.2f}-{high:.2f}] measured, not decided): {why}" if why else "the patch recovers at least 1.30x"
    return Report(
        path=path,
        format="hf_trainer",
        target="mi300x",
        backend="planner",
        verdict=verdict,  # type: ignore[arg-type]
        reason=reason,
        inconclusive=why,
        evidence="measured",
        speedup=Speedup(point=point, low=low, high=high, method="bootstrap"),
        patch=patch,
        findings=[finding],
    )


@pytest.fixture
def session() -> SessionReport:
    undecided = _report("configs/slow.yaml", verdict="warn", point=1.4, low=0.16, high=11.4, why=WHY)
    decided = _report("configs/fast.yaml", verdict="fail", point=1.5, low=1.3, high=1.7, why=None)
    items = [ItemOutcome(nodeid=f"{r.path}::audit", path=r.path, verdict=r.verdict, message=r.reason, report=r) for r in (decided, undecided)]
    return SessionReport(version="0", target="mi300x", items=items)


def _shows_inconclusive_markdown(md: str) -> None:
    md = md.replace("\\", "")  # the reason is escaped for Markdown; read it as it renders
    row = next(line for line in md.splitlines() if line.startswith("| `configs/slow.yaml`"))
    assert "❔ inconclusive" in row and "not decided" in row and "warn" not in row and "pass" not in row
    assert "1 fail, 0 warn, 1 inconclusive, 0 pass, 0 error" in md
    assert "### `configs/slow.yaml`: inconclusive" in md
    assert "**Inconclusive**" in md and f"Why, and what to change: {WHY}" in md
    assert "1 inconclusive result(s) not charted" in md
    bars = next(line for line in md.splitlines() if line.strip().startswith("bar ["))
    assert bars.strip() == "bar [1.50]"  # only the decided config has a bar


def test_markdown_summary_shows_an_inconclusive_item_with_why(session: SessionReport) -> None:
    _shows_inconclusive_markdown(render(session))


def test_sticky_comment_from_the_json_report_shows_it(session: SessionReport, tmp_path: Path) -> None:
    """`goblin comment` renders the JSON report (written by the session) into the comment body."""
    write_outputs(session, json=str(tmp_path / "r.json"), step_summary=False)
    body = body_for(render(read_report(str(tmp_path / "r.json"))))
    assert body.startswith(MARKER)
    _shows_inconclusive_markdown(body)


def test_github_job_summary_and_annotations_show_it(session: SessionReport, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    written = write_outputs(session)
    assert any("GITHUB_STEP_SUMMARY" in line for line in written)
    _shows_inconclusive_markdown(summary.read_text())
    notes = [line for line in workflow_commands(session) if "inconclusive" in line]
    assert len(notes) == 1 and notes[0].startswith("::warning file=configs/slow.yaml,title=goblin%3A inconclusive::")
    assert "not decided" in notes[0] and "measure longer" in notes[0]


def test_sarif_says_inconclusive_not_recovers(session: SessionReport) -> None:
    results = json.loads(sarif(session))["runs"][0]["results"]
    by_verdict = {r["properties"]["verdict"]: r for r in results}
    undecided = by_verdict["inconclusive"]
    assert "Inconclusive" in undecided["message"]["text"] and "measure longer" in undecided["message"]["text"]
    assert "recovers" not in undecided["message"]["text"] and undecided["properties"]["inconclusive"] == WHY
    assert "recovers 1.50x" in by_verdict["fail"]["message"]["text"]


def test_junit_marks_it_skipped_with_the_reason(session: SessionReport, tmp_path: Path) -> None:
    cases = {c.get("file"): c for c in ET.fromstring(junit_xml(session)).iter("testcase")}
    undecided = cases["configs/slow.yaml"]
    skipped = undecided.find("skipped")
    assert skipped is not None and undecided.find("failure") is None
    assert skipped.get("message", "").startswith("inconclusive: the interval") and "measure longer" in skipped.get("message", "")
    assert cases["configs/fast.yaml"].find("failure") is not None


def test_terminal_lines_say_inconclusive(session: SessionReport) -> None:
    undecided = session.items[1]
    assert summary_line(undecided).startswith("INCONCLUSIVE configs/slow.yaml") and "not decided" in summary_line(undecided)
    assert summary_line(session.items[0]).startswith("FAIL  configs/fast.yaml")
    text = failure_text(undecided.report)  # type: ignore[arg-type]
    assert "INCONCLUSIVE for mi300x" in text and f"why and what to change: {WHY}" in text and "WARN" not in text


def test_the_json_report_says_inconclusive_as_junit_does(session: SessionReport, tmp_path: Path) -> None:
    """Issue 27: the JSON item said only "warn" where JUnit, Markdown and the terminal said
    inconclusive; it now carries the shown verdict too, and still reads back (merge, baseline)."""
    write_outputs(session, json=str(tmp_path / "r.json"), step_summary=False)
    items = {i["path"]: i for i in json.loads((tmp_path / "r.json").read_text())["items"]}
    assert items["configs/slow.yaml"]["shown_verdict"] == "inconclusive" and items["configs/slow.yaml"]["verdict"] == "warn"
    assert items["configs/fast.yaml"]["shown_verdict"] == "fail"
    assert read_report(str(tmp_path / "r.json")).counts() == session.counts()


@pytest.mark.parametrize(
    ("model", "unknown"),
    [("/root/models/MiniCPM4/", True), ("meta-llama/Meta-Llama-3-8B-Instruct", False)],
)
def test_a_model_of_unknown_size_is_never_a_clean_pass(tmp_path: Path, model: str, unknown: bool) -> None:
    """review1 #3/#4 (OpenBMB/MiniCPM): a LLaMA-Factory DPO config on a local model folder goblin cannot read
    PASSed 1.00x with every memory-dependent setting priced on a 7B guess, while its SFT sibling was inconclusive."""
    from pytest_goblin.options import build_settings
    from pytest_goblin.service import audit_file

    path = tmp_path / "dpo.yaml"
    path.write_text(
        f"model_name_or_path: {model}\nstage: dpo\ndo_train: true\nfinetuning_type: lora\npref_beta: 0.1\n"
        "per_device_train_batch_size: 8\ngradient_accumulation_steps: 1\ncutoff_len: 1024\nbf16: true\n"
        "disable_gradient_checkpointing: true\nflash_attn: sdpa\n"
    )
    report = audit_file(path, build_settings({"target": "mi300x"}), shown_as=path.name).report
    assert report is not None
    said = "size unknown" in (report.inconclusive or "")
    assert said is unknown
    if unknown:
        assert report.verdict == "warn" and "cannot judge this config until it knows the model" in (report.reason or "")
