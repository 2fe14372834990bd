"""The plugin's own cost and robustness: nothing heavy imported when idle or projecting, and an
interrupted session still writes the reports of what finished."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from .conftest import EXAMPLES

PROBE = """
import sys, json, pathlib
def pytest_unconfigure(config):
    heavy = [m for m in ("torch", "anthropic", "huggingface_hub", "pydantic", "bm25s") if m in sys.modules]
    pathlib.Path("modules.json").write_text(json.dumps(heavy))
"""


def test_idle_plugin_imports_nothing_heavy(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(PROBE)
    pytester.makepyfile(test_ok="def test_ok():\n    assert True\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:pytester")
    assert result.ret == 0
    assert json.loads((pytester.path / "modules.json").read_text()) == []


def test_projection_audit_never_imports_torch_or_sdks(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(PROBE)
    shutil.copytree(EXAMPLES, pytester.path / "configs")
    result = pytester.runpytest_subprocess("--goblin", "configs", "--goblin-runner", "projection", "-p", "no:cacheprovider", "-p", "no:pytester")
    assert result.ret == 1  # the bad examples fail
    heavy = json.loads((pytester.path / "modules.json").read_text())
    assert "torch" not in heavy and "anthropic" not in heavy and "huggingface_hub" not in heavy
    assert "pydantic" in heavy  # the probe can see imports: a --goblin run does load pydantic


def test_plugin_is_registered_through_its_entry_point() -> None:
    out = subprocess.run([sys.executable, "-m", "pytest", "--help"], capture_output=True, text=True, check=True).stdout
    assert "--goblin-shard" in out and "--goblin-baseline" in out


def test_interrupted_session_still_writes_what_finished(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
seen = []
def pytest_runtest_setup(item):
    seen.append(item.nodeid)
    if len(seen) == 3:
        raise KeyboardInterrupt
"""
    )
    shutil.copytree(EXAMPLES, pytester.path / "configs")
    result = pytester.runpytest_subprocess(
        "--goblin", "configs", "--goblin-runner", "projection", "--goblin-json", "r.json", "--goblin-md", "r.md", "-p", "no:cacheprovider"
    )
    assert result.ret == 2  # interrupted
    report = json.loads((pytester.path / "r.json").read_text())
    assert len(report["items"]) == 2
    assert all(item["verdict"] in ("pass", "warn", "fail") for item in report["items"])
    assert "2 configs audited" in (pytester.path / "r.md").read_text()
    assert not list(pytester.path.glob(".r.json.*"))  # no temporary file left behind
