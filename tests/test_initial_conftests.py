"""`pytest --goblin PATH` anchors pytest's initial conftest.py search at PATH (plugin.pytest_load_initial_conftests):
the option takes PATH as its value, and pytest, with no positional path, loaded the invocation folder's `test*`
folders' conftest.py instead (review12a #8/#9 milabench: tests/conftest.py imports milabench, ImportError, no audit)."""

from __future__ import annotations

from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _repo(pytester: pytest.Pytester) -> None:
    (pytester.path / "tests").mkdir()
    (pytester.path / "tests" / "conftest.py").write_text("import a_package_this_environment_lacks  # noqa: F401\n")
    (pytester.path / "configs").mkdir()
    (pytester.path / "configs" / "c.yml").write_text((EXAMPLES / "axolotl-llama3-8b-lora.yml").read_text())


def test_a_test_folders_conftest_is_not_loaded_for_an_audit(pytester: pytest.Pytester) -> None:
    _repo(pytester)
    result = pytester.runpytest_subprocess("--goblin", "configs/c.yml", "-p", "no:cacheprovider", "--goblin-runner", "projection")
    text = result.stdout.str() + result.stderr.str()
    assert "ImportError while loading conftest" not in text
    assert "c.yml" in text and result.ret in (0, 1)  # the audit ran: its verdict decides the exit code


def test_conftest_beside_and_above_the_audited_paths_still_loads(pytester: pytest.Pytester) -> None:
    _repo(pytester)
    for where in ("conftest.py", "configs/conftest.py"):
        marker = pytester.path / f"{where.replace('/', '_')}.loaded"
        (pytester.path / where).write_text(f"from pathlib import Path\nPath({str(marker)!r}).write_text('yes')\n")
    pytester.runpytest_subprocess("--goblin", "configs/c.yml", "-p", "no:cacheprovider", "--goblin-runner", "projection")
    assert (pytester.path / "conftest.py.loaded").exists() and (pytester.path / "configs_conftest.py.loaded").exists()


def test_positional_paths_are_left_as_pytest_reads_them(pytester: pytest.Pytester) -> None:
    # `pytest --goblin -- PATH`-style runs give pytest its own positional path: nothing to change, and the test
    # folder's broken conftest.py under that path loads as pytest always loads it
    _repo(pytester)
    result = pytester.runpytest_subprocess("tests", "--goblin", "-p", "no:cacheprovider")
    assert "ImportError while loading conftest" in result.stdout.str() + result.stderr.str()
