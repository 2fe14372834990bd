"""Regression tests for the second red team (../shared/research/redteam-2026-12-06.md): N3, N6, N7, N10.

Every string from a config, a file name or an artifact is escaped in every output; rule text comes
from the installed knowledge base by rule id; secrets are masked by their name and by their shape.
Each test names its defect and uses the red team's inputs (make.sh), rebuilt here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import pytest_goblin
from pytest_goblin.cli import main

from .conftest import EXAMPLES

BASE = EXAMPLES / "axolotl-llama3-8b-lora.yml"
ENV = {**os.environ, "PYTHONPATH": str(Path(pytest_goblin.__file__).parent.parent), "GITHUB_ACTIONS": "true"}
ENV.pop("GITHUB_STEP_SUMMARY", None)
# What GitHub's runner trims before it looks for `::` (.NET Char.IsWhiteSpace; Python's isspace is a
# superset), plus invisible characters a reader would not see.
TRIMMED = "".join(chr(c) for c in range(0x110000) if chr(c).isspace()) + "\u180e\u200b\ufeff"


OWN = ("::error file=", "::warning file=", "::notice title=pytest-goblin::")  # goblin's annotations


def _commands(text: str) -> list[str]:
    """The lines GitHub's runner would read as workflow commands (TryParseV2 and legacy TryParse),
    other than goblin's own annotations."""
    return [line for line in text.splitlines() if (line.lstrip(TRIMMED).startswith("::") and not line.startswith(OWN)) or "##[" in line]


def _config(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _base() -> str:
    return BASE.read_text()


def _pytest(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "pytest", "--goblin", *args, "--goblin-runner", "projection", "--goblin-target", "mi300x", "-p", "no:cacheprovider"]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=180, env=ENV)


# ---- N7: workflow commands in terminal and log lines ---------------------------------------------

WARN_YML = "notes: |\n  ::stop-commands::goblinoff\n  ##[error]Security scan FAILED\nmicro_batch_size: 1\n"
CTX_YML = "notes: |\n  \u3000::warning::IDEOGRAPHIC-INJECTED\n  \u2003::add-mask::x\nmicro_batch_size: 1\n"


@pytest.mark.parametrize("space", ["\u3000", "\u2003", "\u2000", "\u200a", "\u00a0", "\u1680", "\u202f", "\u205f", "\u180e", "\ufeff", " \t"])
def test_n7b_no_unicode_space_lets_a_line_start_a_command(space: str) -> None:
    from pytest_goblin.reporting.escape import one_line, terminal

    text = f"context\n  {space}::warning::INJECTED\n{space}{space}::add-mask::x\nok ##[error]y"
    assert _commands(terminal(text)) == []
    assert _commands(one_line(f"{space}::error::name.yml")) == []
    assert "INJECTED" in terminal(text)  # escaped, not dropped


def test_n7a_the_pytest_warn_summary_is_escaped(tmp_path: Path) -> None:
    _config(tmp_path / "warn.yml", _base().replace("micro_batch_size: 1\n", WARN_YML))
    proc = _pytest(tmp_path, "warn.yml", "-q", "--goblin-diff", "-o", "goblin_fail_at=100", "-o", "goblin_warn_at=1.01")
    assert "stop-commands" in proc.stdout and "Security scan FAILED" in proc.stdout, proc.stdout[-2000:]  # the diff is shown
    assert _commands(proc.stdout) == [], _commands(proc.stdout)


def test_n7b_unicode_spaces_in_diff_context_both_front_ends(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = _config(tmp_path / "ctx.yml", _base().replace("micro_batch_size: 1\n", CTX_YML))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    assert main(["audit", str(cfg), "--diff", "--runner", "projection", "--target", "mi300x"]) == 1
    out = capsys.readouterr().out
    assert "IDEOGRAPHIC-INJECTED" in out
    assert [line for line in _commands(out) if "INJECTED" in line or "add-mask" in line] == []
    proc = _pytest(tmp_path, "ctx.yml")  # the FAILURES section
    assert "IDEOGRAPHIC-INJECTED" in proc.stdout and [line for line in _commands(proc.stdout) if "INJECTED" in line or "add-mask" in line] == []


@pytest.mark.parametrize("name", ["\u3000::error title=Security review::APPROVED by security team.yml", "::error::direct.yml", "x##[error]y.yml"])
def test_n7c_names_that_would_start_a_command_are_not_collected(tmp_path: Path, name: str) -> None:
    repo = tmp_path / "n7b"
    (repo / ".git").mkdir(parents=True)
    shutil.copy(BASE, repo / name)
    shutil.copy(BASE, repo / "good.yml")
    proc = _pytest(repo, ".", "-v", "--goblin-json", "r.json")
    assert _commands(proc.stdout) == [], _commands(proc.stdout)
    report = json.loads((repo / "r.json").read_text())
    assert [i["path"] for i in report["items"]] == ["good.yml"]
    assert [why for why in report["not_collected"].values() if "workflow command" in why]
    cli = subprocess.run([sys.executable, "-m", "pytest_goblin.cli", "audit", ".", "--diff", "--runner", "projection"], cwd=repo, capture_output=True, text=True, env=ENV, timeout=120)
    assert "good.yml" in cli.stdout and _commands(cli.stdout + cli.stderr) == [], cli.stdout + cli.stderr


def test_n7_goblin_parse_prints_config_values_on_one_inert_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _config(tmp_path / "a.yml", _base().replace("base_model: meta-llama/Llama-3.1-8B-Instruct", 'base_model: "meta-llama/x\\n::error::INJ-MODEL"'))
    main(["parse", str(cfg)])
    out = capsys.readouterr().out
    assert "INJ-MODEL" in out and _commands(out) == []
