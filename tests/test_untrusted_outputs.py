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

import pytest

import pytest_goblin
from pytest_goblin.cli import main

from .conftest import EXAMPLES
from .test_ci import FakeGitHub
from .test_ci import github as github  # the loopback GitHub API fixture, reused

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
    cli = subprocess.run(
        [sys.executable, "-m", "pytest_goblin.cli", "audit", ".", "--diff", "--runner", "projection"],
        cwd=repo,
        capture_output=True,
        text=True,
        env=ENV,
        timeout=120,
    )
    assert "good.yml" in cli.stdout and _commands(cli.stdout + cli.stderr) == [], cli.stdout + cli.stderr


def test_n7_goblin_parse_prints_config_values_on_one_inert_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _config(tmp_path / "a.yml", _base().replace("base_model: meta-llama/Llama-3.1-8B-Instruct", 'base_model: "meta-llama/x\\n::error::INJ-MODEL"'))
    main(["parse", str(cfg)])
    out = capsys.readouterr().out
    assert "INJ-MODEL" in out and _commands(out) == []


# ---- N3 / N6: Markdown from configs and artifacts ------------------------------------------------


ENVMD = 'env:\n  AMD_LOG_LEVEL: "3 ![pixel](https://evil.example/p.png) @acme/security-team **Approved by security** [details](https://evil.example/phish)"\n'
FORGED_TARGET = (
    'mi300x**\n\n## \u2705 Approved by @acme/security-team\n\n<img src="https://evil.example/p.png">\n\n[Merge now](https://evil.example/phish)\n\n<!--'
)
FORGED_MESSAGE = "![x](https://evil.example/q.png) @acme/admins please approve [here](https://evil.example)"


def _html(markdown: str) -> str:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable("table").render(markdown)


def _outside_code(html: str) -> str:
    import re

    return re.sub(r"<pre><code[^>]*>.*?</code></pre>|<code>.*?</code>", "", html, flags=re.S)


def _assert_inert(html: str) -> None:
    """No image, no link, no emphasis or heading from report text, no mention, no bare URL GitHub
    would link, no comment but goblin's marker."""
    import re

    text = _outside_code(html)
    assert "<img" not in html and "<strong>Approved" not in html, text
    assert all(href.startswith("https://github.com/acme/train/actions/runs/") for href in re.findall(r'<a href="([^"]*)"', html)), text
    assert "@acme" not in text and "https://evil" not in text and "www.evil" not in text
    assert html.count("<h2>") == 1 and "<h2>pytest-goblin</h2>" in html
    assert html.count("<!--") <= 1


def _envmd_report(tmp_path: Path) -> Path:
    cfg = _config(tmp_path / "n6" / "envmd.yml", _base() + ENVMD)
    report = tmp_path / "good.json"
    assert main(["audit", str(cfg), "--runner", "projection", "--target", "mi300x", "--json", str(report)]) == 1
    return report


def _comment(url: str, report: Path, *extra: str) -> int:
    return main(["comment", "--report", str(report), "--repo", "acme/train", "--pr", "7", "--api-url", url, *extra])


def test_n3_a_forged_target_is_a_named_error_and_nothing_is_posted(
    github: tuple[FakeGitHub, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    state, url = github
    data = json.loads(_envmd_report(tmp_path).read_text())
    data["target"] = FORGED_TARGET  # as research/redteam-2026-12-06/hostile_report.py forges it
    (tmp_path / "bad.json").write_text(json.dumps(data))
    capsys.readouterr()
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_testtoken")
    assert _comment(url, tmp_path / "bad.json") == 2
    err = capsys.readouterr().err
    assert "is not a GPU in goblin's hardware table" in err and "\n" not in err.rstrip("\n")
    assert state.comments == [] and not [m for m, _p, _a in state.requests if m != "GET"]


def test_n3_a_forged_report_posts_no_markup_and_no_forged_text(
    github: tuple[FakeGitHub, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from pytest_goblin.reporting.markdown import installed_rules

    state, url = github
    data = json.loads(_envmd_report(tmp_path).read_text())
    item = data["items"][0]
    findings = item["report"]["findings"]
    real = findings[1]
    findings[0].update(message=FORGED_MESSAGE, title="<h2>Approved</h2>", citation="https://evil.example/src")
    findings.append({**real, "rule_id": "evil.approve", "title": "[Merge now](https://evil.example/phish) @acme/admins", "message": FORGED_MESSAGE})
    item["message"] = item["report"]["reason"] = "## Approved by @acme/security-team <!--"
    item["report"]["notes"] = ["<img src=https://evil.example/n.png> www.evil.example/x"]
    (tmp_path / "bad.json").write_text(json.dumps(data))
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_testtoken")
    extra = ["--run-id", "123456", "--head-sha", "a" * 40, "--head-repo", "fork/train"]
    assert _comment(url, tmp_path / "bad.json", *extra) == 0
    body = state.comments[-1]["body"]
    html = _html(body)
    _assert_inert(html)
    assert "please approve" not in body  # a finding whose text is not the KB's is not shown
    kb = installed_rules()
    assert kb[findings[0]["rule_id"]].title in html  # its title and source come from the KB
    assert "evil.example/src" not in body and kb[findings[0]["rule_id"]].citation in body
    assert "not a rule of the installed knowledge base" in html and "evil.approve" in html  # the unknown rule: its id, as text
    assert "Advisory" in html and "workflow run 123456" in html and "aaaaaaaaaaaa" in html and "fork/train" in html
    for bad in ("abc/../x", "not-a-sha"):  # provenance values are validated, not rendered
        flag = "--head-repo" if "/" in bad else "--head-sha"
        assert _comment(url, tmp_path / "bad.json", flag, bad) == 2


def test_n3_the_same_repository_is_not_advisory(github: tuple[FakeGitHub, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state, url = github
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_testtoken")
    assert _comment(url, _envmd_report(tmp_path), "--run-id", "9", "--head-sha", "b" * 40, "--head-repo", "acme/train") == 0
    body = state.comments[-1]["body"]
    assert "Advisory" not in body and "workflow run 9" in body
    _assert_inert(_html(body))  # N6 through the normal, unforged artifact too


def test_n6_config_values_in_finding_messages_are_escaped_in_every_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = _config(tmp_path / "n6" / "envmd.yml", _base() + ENVMD)
    step = tmp_path / "step.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    out = [f"--{k}={tmp_path / ('r.' + k)}" for k in ("md", "sarif", "junit", "json")]
    assert main(["audit", str(cfg), "--diff", "--runner", "projection", "--target", "mi300x", *out]) == 1
    terminal = capsys.readouterr().out
    assert "AMD_LOG_LEVEL=3 ![pixel]" in terminal and _commands(terminal) == []  # plain text there, as written
    for md in ((tmp_path / "r.md").read_text(), step.read_text()):
        html = _html(md)
        _assert_inert(html)
        assert "AMD_LOG_LEVEL" in html and "unset AMD_LOG_LEVEL" in html  # the finding is there, as text
    sarif = json.loads((tmp_path / "r.sarif").read_text())
    texts = [r["message"]["text"] for r in sarif["runs"][0]["results"]]
    assert any("AMD_LOG_LEVEL" in t for t in texts) and not any("](https://evil" in t.replace("\\]", "") for t in texts)
    assert all(r.get("helpUri", "https://").startswith("https://") and "evil" not in r.get("helpUri", "") for r in sarif["runs"][0]["tool"]["driver"]["rules"])


def test_n6_a_team_rule_outside_the_kb_is_escaped_locally_without_a_note() -> None:
    from pytest_goblin.outcome import ItemOutcome, SessionReport
    from pytest_goblin.reporting.markdown import render
    from pytest_goblin.schemas import Finding

    from .test_security import main_report

    report = main_report()
    team = Finding(rule_id="team.rule", title="**Team** rule", category="batch", line=1, message=FORGED_MESSAGE, citation="https://wiki.example/x")
    report = report.model_copy(update={"findings": [team]})
    md = render(SessionReport(version="0", target=FORGED_TARGET, items=[ItemOutcome(nodeid="a", path="a.yml", verdict="fail", message="m", report=report)]))
    html = _html(md)
    _assert_inert(html)
    assert "please approve" in html and "not a rule of the installed" not in html


# ---- N10: secrets by name and by shape, in every output -------------------------------------------

N10_ENV = (
    "micro_batch_size: 1\n"
    'hub_private_key_pem: "-----BEGIN PRIVATE KEY-----MIIEvQIBADANBgkqhkiG9w0B"\n'
    "env:\n"
    "  DB_PASS: dbpass-plain-777777\n"
    "  SMTP_PASS: smtppass-plain-888888\n"
    "  SAS_URL: https://acct.blob.core.windows.net/c?sv=2022-11-02&sig=SASSIGVALUEabcdef1234567890%3D\n"
    "  STORAGE: DefaultEndpointsProtocol=https;AccountName=a;AccountKey=ACCOUNTKEYVALUE0123456789==;EndpointSuffix=core.windows.net\n"
    "  NPM_AUTH: npm_abcdefghijklmnopqrstuvwxyz0123456789\n"
    "  CF_API_TOKEN_x: cfvalue-555555555555\n"
)
N10_SECRETS = ("dbpass-plain", "smtppass-plain", "SASSIGVALUE", "ACCOUNTKEYVALUE", "npm_abcdef", "cfvalue-5", "MIIEvQ")


def _leaks(text: str) -> list[str]:
    return [s for s in N10_SECRETS if s in text]


def test_n10_secret_values_reach_no_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _config(tmp_path / "n10" / "env.yml", _base().replace("micro_batch_size: 1\n", N10_ENV))
    assert "AccountKey=ACCOUNTKEYVALUE" in cfg.read_text()
    step = tmp_path / "step.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    files = {k: tmp_path / f"r.{k}" for k in ("md", "sarif", "junit", "json")}
    assert main(["audit", str(cfg), "--diff", "--runner", "projection", "--target", "mi300x", *(f"--{k}={v}" for k, v in files.items())]) == 1
    outputs = {"terminal": capsys.readouterr().out, "step summary": step.read_text(), **{k: v.read_text() for k, v in files.items()}}
    assert "DB_PASS: ***" in outputs["terminal"] and "DB_PASS: ***" in outputs["md"]  # masked in the diff context, by its name
    assert "sig=***" in outputs["json"] and "AccountKey=***" in outputs["json"]  # and by its shape
    main(["audit", str(cfg), "--events", "--runner", "projection", "--target", "mi300x"])
    outputs["events"] = capsys.readouterr().out
    events = [line for line in outputs["events"].splitlines() if not line.startswith(OWN)]
    assert events and all(json.loads(line) for line in events)  # masking keeps JSON Lines valid
    main(["parse", "--json", str(cfg)])
    main(["parse", str(cfg)])
    outputs["parse"] = capsys.readouterr().out
    proc = _pytest(tmp_path, "n10", "-v", "--junitxml", "p.xml", "--goblin-json", "p.json")
    outputs |= {"pytest": proc.stdout + proc.stderr, "pytest junit": (tmp_path / "p.xml").read_text(), "pytest json": (tmp_path / "p.json").read_text()}
    assert "env.yml" in outputs["pytest"]
    assert {name: _leaks(text) for name, text in outputs.items() if _leaks(text)} == {}


def test_n10_one_name_rule_and_text_token_names_stay_readable() -> None:
    from pytest_goblin.redact import redact, redact_env, redact_obj

    env = {"DB_PASS": "dbpass-plain-7", "NPM_AUTH": "npm_x", "CF_API_TOKEN_x": "cfvalue-5", "BYPASS_PROXY": "1", "PAD": "x"}
    assert redact_env(env) == {**env, "DB_PASS": "***", "NPM_AUTH": "***", "CF_API_TOKEN_x": "***"}
    assert redact_obj({"env": env})["env"] == redact_env(env)
    for line in ('  pad_token: "<|end_of_text|>"', "tokenizer_type: AutoTokenizer", "max_new_tokens: 2048", "tokens_per_s: 123456", "compass: northwest"):
        assert redact(line) == line
    assert redact("+  DB_PASS: dbpass-plain-7") == "+  DB_PASS: ***" and redact('{"NPM_AUTH": "npm_abcdefgh"}') == '{"NPM_AUTH": "***"}'
    pem = "+key: |\n+  -----BEGIN RSA PRIVATE KEY-----\n+  " + "MIIEvQIBADANBgkq" * 3 + "\n+  -----END RSA PRIVATE KEY-----\n+other_key: x"
    assert redact(pem) == "+key: |\n+  -----BEGIN RSA PRIVATE KEY-----\n+  ***\n+  -----END RSA PRIVATE KEY-----\n+other_key: x"


N10_FRAGMENTS = [
    "DB_PASS: ",
    "NPM_AUTH=",
    "CF_API_TOKEN_x: ",
    "pad_token: ",
    "?sig=",
    "&sig=",
    "AccountKey=",
    "-----BEGIN PRIVATE KEY-----",
    "\n+  ",
    "MIIEvQIBADANBgkq",
    "\\n",
    '"',
    "x" * 8,
    " ",
]


@pytest.mark.parametrize("seed", range(40))
def test_n10_the_fast_path_still_equals_every_pattern(seed: int) -> None:
    import random

    from pytest_goblin import redact as r

    rng = random.Random(seed)
    text = "".join(rng.choice(N10_FRAGMENTS) for _ in range(rng.randint(1, 14)))
    assert r.redact(text) == r._patterns(text)


def test_n7_n10_new_patterns_are_linear_on_megabyte_runs() -> None:
    """The census (tests/test_security.py) with units aimed at the new patterns."""
    import time

    from .test_security import BUDGET_S, MEGABYTE, _package_regexes

    units = ["-----BEGIN A KEY-----", "\nAAAAAAAAAAAAAAAA", "?sig=", "&sig=a", "max_", "pad_token", "a:", "\u3000", "`a", "https://", "www.", "DB_PASS="]
    slow = []
    for name, pattern in _package_regexes():
        if not name.startswith(("pytest_goblin.redact", "pytest_goblin.reporting")):
            continue
        for unit in units:
            text = unit * (MEGABYTE // len(unit))
            start = time.perf_counter()
            for _ in pattern.finditer(text):
                pass
            if time.perf_counter() - start > BUDGET_S:
                slow.append((name, unit))
    assert not slow, slow
    from pytest_goblin.redact import _PEM

    text = "-----BEGIN A KEY-----" + "\n+  AAAAAAAAAAAAAAAA" * 60000
    start = time.perf_counter()
    _PEM.sub("x", text)
    assert time.perf_counter() - start < BUDGET_S


def test_a_forged_measured_on_is_refused_like_a_forged_target(
    github: tuple[FakeGitHub, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`measured_on` names a device; a sentence there (round 6) makes the artifact invalid, not a comment."""
    from pytest_goblin.schemas import device_label

    state, url = github
    data = json.loads(_envmd_report(tmp_path).read_text())
    data["items"][0]["report"]["measured_on"] = "MI300X. **Approved by the ROCm team** <img src=x>"
    (tmp_path / "bad.json").write_text(json.dumps(data))
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_testtoken")
    assert _comment(url, tmp_path / "bad.json") == 2
    assert state.comments == [] and "measured_on" in capsys.readouterr().err
    assert device_label("AMD Instinct MI300X") == "AMD Instinct MI300X" and device_label("this machine: CPU only") == "this machine: CPU only"
    assert device_label("x**<b>") == "x???b?" and len(device_label("a" * 500)) == 120


def test_guidance_placeholders_are_not_kb_words() -> None:
    """A guidance's `{name}` placeholders (rules.render_finding fills them with the config's own text) split the KB's
    words as `{collectives}` does: the words of distributed.hierarchical_sharding_across_nodes ("{hierarchical}. goblin
    projects ...") and distributed.lower_stage_when_state_fits were never found in a message, so Markdown showed the
    raw placeholder before the whole message as escaped text."""
    from pytest_goblin.reporting.markdown import KBEntry
    from pytest_goblin.rules import cached_rules

    by_id = {r.id: r for r in cached_rules()}
    for rid in ("distributed.hierarchical_sharding_across_nodes", "distributed.lower_stage_when_state_fits", "debug.mode_left_on"):
        words = KBEntry.of_rule(by_id[rid]).words
        assert words and not any("{" in part or "}" in part for part in words), rid
