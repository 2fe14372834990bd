"""Every option that changes an audit changes it through both front ends: `pytest --goblin-<flag>`
and `goblin audit --<flag>` (options.OPTIONS declares both; the README's table is generated from it).

Each case runs the same configs through pytest (pytester, in process) and `goblin audit`, with the
option and without it, and checks the JSON report changes as the option's help says. A new option
needs a case here, or a line in NOT_AN_AUDIT_CHANGE saying why it changes no audit.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pytest_goblin.cli import main
from pytest_goblin.options import OPTIONS

from .conftest import EXAMPLES

TORCHTUNE = "torchtune-qwen2_5-7b-full.yaml"  # FSDP on 8 assumed GPUs; fails with a large projected gain
AXOLOTL = "axolotl-llama3-8b-lora.yml"  # fp16: the fake trainer is faster on the patched (bf16) copy

# A stand-in for the user's training command: faster on a bf16 config; records {steps}; prints the
# rate in torchtune's per-step form, or as `rate=<n>` when RATE_ONLY is set (a metric only a regex finds).
TRAINER = """
import os, sys, time
config, steps = sys.argv[1], int(sys.argv[2])
with open(os.environ["SEEN"], "a") as seen:
    seen.write(f"{steps}\\n")
time.sleep(float(os.environ.get("SLEEP", "0")))
rate = 3000.0 if "bf16: true" in open(config).read() else 1000.0
for step in range(steps):
    print(f"rate={rate}" if os.environ.get("RATE_ONLY") else f"step {step} | tokens_per_second_per_gpu: {rate}")
"""

# Options that are outputs or session switches: they write, print or cache, but no audit's report
# differs with them (each is covered where its output is: test_plugin, test_cli, test_ci, test_cache).
NOT_AN_AUDIT_CHANGE = {
    "md": "an output file (tests/test_plugin.py)",
    "json": "an output file; every case here reads it",
    "sarif": "an output file (tests/test_ci.py)",
    "junit": "an output file (tests/test_cli.py)",
    "diff": "what the terminal prints of warned items (tests/test_plugin.py)",
    "events": "streams the events on stdout (tests/test_cli.py)",
    "cache_clear": "forgets cached measured runs (tests/test_cache.py)",
}


@dataclass
class Run:
    """One front end's session: its JSON report by config file name, and what the trainer saw."""

    items: dict[str, dict[str, Any]]
    seen: list[str] = field(default_factory=list)

    def report(self, name: str) -> dict[str, Any]:
        report = self.items[name]["report"]
        assert report is not None, self.items[name]
        return report  # type: ignore[no-any-return]

    def messages(self, name: str) -> list[str]:
        return [f["message"] for f in self.report(name)["findings"]]


@pytest.fixture
def session(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Run]:
    """run(surface, {option name: value}) -> Run, over copies of TORCHTUNE and AXOLOTL in pytester.path."""
    for name in (TORCHTUNE, AXOLOTL):
        shutil.copy(EXAMPLES / name, pytester.path / name)
    (pytester.path / "train.py").write_text(TRAINER)
    monkeypatch.chdir(pytester.path)  # `goblin audit` shows paths relative to it, pytest to its rootdir: the same
    monkeypatch.delenv("GOBLIN_AGENT_BACKEND", raising=False)
    counter = iter(range(1000))

    def run(surface: str, values: dict[str, Any], files: tuple[str, ...] = (TORCHTUNE, AXOLOTL)) -> Run:
        n = next(counter)
        out, seen = pytester.path / f"r{n}.json", pytester.path / f"seen{n}.txt"
        monkeypatch.setenv("SEEN", str(seen))
        by_name = {o.name: o for o in OPTIONS}
        args: list[str] = []
        for name, value in values.items():
            flag = f"--goblin-{by_name[name].flag}" if surface == "pytest" else f"--{by_name[name].flag}"
            args += [flag] if value is True else [flag, str(value)]
        if surface == "pytest":
            result = pytester.runpytest_inprocess("--goblin", *files, "-p", "no:cacheprovider", "-p", "no:randomly", "--goblin-json", str(out), *args)
            assert out.exists(), result.stdout.str() + result.stderr.str()
        else:
            main(["audit", *args, "--json", str(out), *files])
        data = json.loads(out.read_text())
        return Run({Path(i["path"]).name: i for i in data["items"]}, seen.read_text().split() if seen.exists() else [])

    return run


def _command(*env: str) -> str:
    prefix = f"env {' '.join(env)} " if env else ""
    return f"{prefix}{shlex.quote(sys.executable)} train.py {{config}} {{steps}}"


SURFACES = ("pytest", "cli")


def test_every_option_is_tested_here_or_changes_no_audit() -> None:
    tested = {name for case in CASES for name in case[1]}
    names = {o.name for o in OPTIONS}
    assert tested | set(NOT_AN_AUDIT_CHANGE) == names, names - tested - set(NOT_AN_AUDIT_CHANGE)
    assert not tested & set(NOT_AN_AUDIT_CHANGE)


_DEFAULTS: dict[str, Run] = {}  # the unchanged audit of TORCHTUNE, by surface: run once per session


@dataclass
class Case:
    session: Callable[..., Run]
    surface: str
    tmp: Path
    monkeypatch: pytest.MonkeyPatch

    def run(self, values: dict[str, Any], files: tuple[str, ...] = (TORCHTUNE, AXOLOTL)) -> Run:
        return self.session(self.surface, values, files)

    def default(self) -> Run:
        if self.surface not in _DEFAULTS:
            _DEFAULTS[self.surface] = self.run({}, (TORCHTUNE,))
        return _DEFAULTS[self.surface]


def check_world_size(c: Case) -> None:
    before = c.default().messages(TORCHTUNE)
    assert any("on 8 GPUs (assumed; set goblin_world_size" in m for m in before)
    after = c.run({"world_size": 4}, (TORCHTUNE,)).messages(TORCHTUNE)
    assert not any("assumed; set goblin_world_size" in m for m in after), after
    assert sum("on 4 GPUs (stated by goblin_world_size=4)" in m for m in after) >= 2, after


def check_target(c: Case) -> None:
    before = c.default().report(TORCHTUNE)
    after = c.run({"target": "mi250x"}, (TORCHTUNE,)).report(TORCHTUNE)
    assert (before["target"], after["target"]) == ("mi300x", "mi250x")
    assert any("of 206 GB (MI300X's 192 GiB label)" in f["message"] for f in before["findings"])
    # one MI250X GCD holds 64 GB: the 75 GB that checkpointing off projects fits an MI300X, not a GCD
    assert any("Turn off activation checkpointing" in f["message"] for f in before["findings"])
    assert not any("of 206 GB" in f["message"] or "Turn off activation checkpointing" in f["message"] for f in after["findings"])


def check_fail_at(c: Case) -> None:
    assert c.default().report(TORCHTUNE)["verdict"] == "fail"
    assert c.run({"fail_at": 50}, (TORCHTUNE,)).report(TORCHTUNE)["verdict"] == "warn"


def check_warn_at(c: Case) -> None:
    # above the projected gain, both thresholds: nothing is worth patching, nothing is flagged
    report = c.run({"fail_at": 50, "warn_at": 50}, (TORCHTUNE,)).report(TORCHTUNE)
    assert report["verdict"] == "pass", report["reason"]


def check_kb_paths(c: Case) -> None:
    rule = {
        "id": "team.long_context",
        "category": "batch",
        "title": "team check",
        "symptom": "our team's check",
        "applies_when": [{"fact": "seq_len", "op": "ge", "value": 1}],
        "transform": {},
        "footgun": True,
        "guidance": "our team wants to know",
        "impact": {"low": 1.0, "high": 1.0},
        "risk": "none",
        "citation": "https://example.org/team",
    }
    (c.tmp / "team.yaml").write_text(json.dumps([rule]))
    ids = {f["rule_id"] for f in c.run({"kb_paths": "team.yaml"}, (TORCHTUNE,)).report(TORCHTUNE)["findings"]}
    assert "team.long_context" in ids
    assert "team.long_context" not in {f["rule_id"] for f in c.default().report(TORCHTUNE)["findings"]}


def check_baseline(c: Case) -> None:
    c.run({}, (TORCHTUNE,))
    base = sorted(c.tmp.glob("r*.json"), key=lambda p: p.stat().st_mtime)[-1]
    report = c.run({"baseline": base.name}, (TORCHTUNE,)).report(TORCHTUNE)
    assert report["verdict"] == "warn" and "known on the base branch" in report["reason"]


def check_backend(c: Case) -> None:
    c.monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)  # offline: the claude backend cannot start
    c.monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    assert not any("planner ran this audit" in n for n in c.default().report(TORCHTUNE)["notes"])
    notes = c.run({"backend": "claude"}, (TORCHTUNE,)).report(TORCHTUNE)["notes"]
    assert any("claude backend needs ANTHROPIC_API_KEY" in n and "planner ran this audit instead" in n for n in notes), notes


def check_attribution(c: Case) -> None:
    notes = c.run({"attribution": True}, (TORCHTUNE,)).report(TORCHTUNE)["notes"]
    assert any("--goblin-attribution needs a runner that times single rules" in n for n in notes), notes


def check_hub(c: Case) -> None:
    from pytest_goblin import hubconfig

    config = c.tmp / "config.json"
    shape = {"num_hidden_layers": 4, "hidden_size": 256, "num_attention_heads": 4, "vocab_size": 1000, "intermediate_size": 512}
    config.write_text(json.dumps(shape))
    fake = types.ModuleType("huggingface_hub")
    fake.hf_hub_download = lambda repo, name: str(config)  # type: ignore[attr-defined]  # no network: the Hub's answer
    c.monkeypatch.setitem(sys.modules, "huggingface_hub", fake)
    c.monkeypatch.setenv("HF_HUB_CACHE", str(c.tmp / "no-cache"))
    c.monkeypatch.setenv("GOBLIN_HUB", "0")  # restored (unset) after the test, whatever the audit sets
    (c.tmp / "hubmodel.yml").write_text((EXAMPLES / AXOLOTL).read_text().replace("meta-llama/Llama-3.1-8B-Instruct", "acme/tiny-lab"))
    assert "acme/tiny-lab" in (c.tmp / "hubmodel.yml").read_text()
    hubconfig.shape_from_hub.cache_clear()
    before = c.run({}, ("hubmodel.yml",)).report("hubmodel.yml")["notes"]
    assert any("acme/tiny-lab: size unknown" in n for n in before), before
    hubconfig.shape_from_hub.cache_clear()
    after = c.run({"hub": True}, ("hubmodel.yml",)).report("hubmodel.yml")["notes"]
    hubconfig.shape_from_hub.cache_clear()
    assert not any("size unknown" in n for n in after), after


def check_command(c: Case) -> None:
    run = c.run({"command": _command(), "command_steps": 3}, (AXOLOTL,))
    report = run.report(AXOLOTL)
    assert report["evidence"] == "measured" and report["before"]["runner"] == "command"
    assert report["speedup"]["low"] > 2.5  # 3000 vs 1000 tokens/s
    assert run.seen and set(run.seen) == {"3"}  # {steps} is command_steps
    projected = c.run({"command": _command(), "runner": "projection"}, (AXOLOTL,))
    assert projected.report(AXOLOTL)["evidence"] == "projected" and not projected.seen  # runner wins over the command


def check_command_metric(c: Case) -> None:
    command = _command("RATE_ONLY=1")
    unread = c.run({"command": command}, (AXOLOTL,)).items[AXOLOTL]
    assert unread["verdict"] == "error" and "goblin_command_metric" in unread["message"]
    values = {"command": command, "command_metric": r"rate=([\d.]+)", "command_metric_unit": "tokens/s"}
    report = c.run(values, (AXOLOTL,)).report(AXOLOTL)
    assert report["evidence"] == "measured" and report["speedup"]["low"] > 2.5
    assert report["before"]["tokens_per_s"] == pytest.approx(1000.0)  # the unit says what the number is


def check_budget_s(c: Case) -> None:
    item = c.run({"command": _command("SLEEP=5"), "budget_s": 1}, (AXOLOTL,)).items[AXOLOTL]
    assert item["verdict"] == "error" and "goblin_budget_s=1 s" in item["message"], item["message"]


def check_fix(c: Case) -> None:
    original = (c.tmp / TORCHTUNE).read_text()
    notes = c.run({"fix": True}, (TORCHTUNE,)).report(TORCHTUNE)["notes"]
    assert any(n.startswith("--goblin-fix wrote") for n in notes) and (c.tmp / TORCHTUNE).read_text() != original
    (c.tmp / TORCHTUNE).write_text(original)


def check_shard(c: Case) -> None:
    one, two = (set(c.run({"shard": f"{k}/2"}).items) for k in (1, 2))
    assert one | two == {TORCHTUNE, AXOLOTL} and not one & two


# (test id, option names it covers, check)
CASES: list[tuple[str, tuple[str, ...], Callable[[Case], None]]] = [
    ("world_size", ("world_size",), check_world_size),
    ("target", ("target",), check_target),
    ("fail_at", ("fail_at",), check_fail_at),
    ("warn_at", ("warn_at",), check_warn_at),
    ("kb_paths", ("kb_paths",), check_kb_paths),
    ("baseline", ("baseline",), check_baseline),
    ("backend", ("backend",), check_backend),
    ("attribution", ("attribution",), check_attribution),
    ("hub", ("hub",), check_hub),
    ("command", ("command", "command_steps", "runner"), check_command),
    ("command_metric", ("command_metric", "command_metric_unit"), check_command_metric),
    ("budget_s", ("budget_s",), check_budget_s),
    ("fix", ("fix",), check_fix),
    ("shard", ("shard",), check_shard),
]


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize(("name", "covers", "check"), CASES, ids=[c[0] for c in CASES])
def test_option_changes_the_audit(
    name: str,
    covers: tuple[str, ...],
    check: Callable[[Case], None],
    surface: str,
    session: Callable[..., Run],
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    check(Case(session, surface, pytester.path, monkeypatch))


def test_world_size_from_the_ini_file_reaches_the_audit(pytester: pytest.Pytester) -> None:
    """The key the findings tell users to set: `goblin_world_size` in the ini file."""
    shutil.copy(EXAMPLES / TORCHTUNE, pytester.path / TORCHTUNE)
    pytester.makeini("[pytest]\ngoblin_world_size = 2\n")
    pytester.runpytest_inprocess("--goblin", TORCHTUNE, "-p", "no:cacheprovider", "--goblin-json", "r.json")
    report = json.loads((pytester.path / "r.json").read_text())["items"][0]["report"]
    messages = [f["message"] for f in report["findings"]]
    assert any("on 2 GPUs (stated by goblin_world_size=2)" in m for m in messages) and not any(re.search(r"GPUs? \(assumed", m) for m in messages)
