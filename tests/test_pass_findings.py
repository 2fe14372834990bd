"""A PASS (or WARN) item shows its footguns and guidance in every output, collapsed, one line each:
`-v` in the terminal (pytest and goblin audit), the Markdown summary and the PR comment built from
it. A PASS used to show "top rules: none" while its JSON held findings such as a ROCm build need."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pytest_goblin.cli import main
from pytest_goblin.github_comment import body_for
from pytest_goblin.outcome import SessionReport
from pytest_goblin.reporting.escape import md_text
from pytest_goblin.reporting.markdown import render

from .conftest import EXAMPLES

# passes; on 4 stated GPUs it carries a footgun (not comm.partial_node_collectives: a 3B SFT's collectives are under
# 5% of its projected step, review8b #23/#34)
TUNED = "trl-smollm3-3b-sft-tuned.yaml"
FOOTGUNS = ("gemm.tunableop_tune_once_for_data_parallel",)


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copy(EXAMPLES / TUNED, tmp_path / TUNED)
    monkeypatch.chdir(tmp_path)
    return tmp_path / TUNED


def _session(config: Path, capsys: pytest.CaptureFixture[str], *flags: str) -> tuple[SessionReport, str]:
    assert main(["audit", "--world-size", "4", "--json", "r.json", *flags, config.name]) == 0
    out = capsys.readouterr().out
    return SessionReport.model_validate(json.loads(Path("r.json").read_text())), out


def test_goblin_audit_verbose_lists_a_pass_items_footguns(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    session, quiet = _session(config, capsys)
    item = session.items[0]
    assert item.verdict == "pass" and {f.rule_id for f in item.report.findings} >= set(FOOTGUNS)  # type: ignore[union-attr]
    assert not any(rid in quiet for rid in FOOTGUNS)  # one line per item without -v
    _, verbose = _session(config, capsys, "-v")
    lines = [line for line in verbose.splitlines() if line.startswith("    footgun: ")]
    assert [rid for rid in FOOTGUNS if any(f"[{rid}]" in line for line in lines)] == list(FOOTGUNS)


def test_pytest_verbose_lists_a_pass_items_footguns(pytester: pytest.Pytester) -> None:
    shutil.copy(EXAMPLES / TUNED, pytester.path / TUNED)
    quiet = pytester.runpytest_inprocess("--goblin", TUNED, "--goblin-world-size", "4", "-p", "no:cacheprovider")
    assert not any(rid in quiet.stdout.str() for rid in FOOTGUNS)
    verbose = pytester.runpytest_inprocess("--goblin", TUNED, "--goblin-world-size", "4", "-p", "no:cacheprovider", "-v")
    verbose.stdout.fnmatch_lines([f"*PASS*{TUNED}*", *(f"    footgun: {TUNED}*[[]{rid}]*" for rid in FOOTGUNS)])


def test_markdown_and_pr_comment_show_a_pass_items_findings_collapsed(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    session, _ = _session(config, capsys)
    for text in (render(session), body_for(render(session))):
        row = next(line for line in text.splitlines() if line.startswith(f"| `{TUNED}`"))
        assert row.endswith("| none; 1 finding below |")
        block = text[text.index("<details><summary><b>") :]
        block = block[: block.index("</details>")]
        assert f"<b>{md_text(TUNED)}</b>: pass, 1 finding(s) to read" in block
        bullets = [line for line in block.splitlines() if line.startswith("- ")]
        assert len(bullets) == 1 and all("footgun, guidance only" in b for b in bullets)
        assert "gemm.tunableop\\_tune\\_once\\_for\\_data\\_parallel" in bullets[0]


def test_a_priced_rule_that_gains_nothing_is_not_offered_in_a_patch_that_pays() -> None:
    """review2 (open-thoughts): `dataloader_num_workers: 4` at a projected 1.000x rode along a 1.33x patch. A rule
    whose whole worth is a projection term (`priced: true`) under 0.5% on its own is left out; a rule whose worth
    is partly outside the model (bf16 over fp16: loss scaling, numerics) stays at any projected gain."""
    from pytest_goblin.options import build_settings
    from pytest_goblin.service import audit_file

    from .conftest import EXAMPLES

    path = EXAMPLES / "axolotl-llama3-8b-lora.yml"
    report = audit_file(path, build_settings({"target": "mi300x"}), shown_as=path.name).report
    assert report is not None and report.verdict == "fail" and report.patch is not None
    # workers 0 -> 4 no longer fires here at all (collation under 5% of the step, issue 24); fused AdamW is the
    # priced rule that projects nothing on this LoRA run
    assert "data.dataloader_workers" not in report.patch.rule_ids and "data.dataloader_workers" not in report.patch.skipped
    assert "optimizer.fused_adamw" not in report.patch.rule_ids
    assert report.patch.skipped["optimizer.fused_adamw"].startswith("not worth patching")
    assert "precision.bf16_over_fp16" in report.patch.rule_ids
