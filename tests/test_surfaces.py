"""pytest and `goblin audit` are one product: the same options, the same audits, the same JSON;
and the installed package is one importable name that a checkout cannot shadow."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import pytest_goblin
from pytest_goblin.cli import build_parser
from pytest_goblin.options import OPTIONS

from .conftest import EXAMPLES, ROOT

pytest_plugins = ["pytester"]


def _cli_flags() -> set[str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    audit = sub.choices["audit"]  # type: ignore[index]
    return {flag for action in audit._actions for flag in action.option_strings}


def test_every_option_is_on_both_surfaces_or_says_why(pytestconfig: pytest.Config) -> None:
    """The pytest flags and ini keys and the CLI flags all come from options.OPTIONS."""
    cli = _cli_flags()
    ini_keys = set(pytestconfig._parser._inidict)  # the inis this pytest run registered
    for option in OPTIONS:
        if "pytest" in option.surfaces:
            assert pytestconfig._parser._groups and any(f"--goblin-{option.flag}" in opt.names() for g in pytestconfig._parser._groups for opt in g.options), (
                option.name
            )
            assert not option.ini or option.ini_name in ini_keys, option.name
        if "cli" in option.surfaces:
            assert f"--{option.flag}" in cli, option.name
        if option.surfaces != frozenset({"pytest", "cli"}):
            assert option.only_because, f"{option.name} is on one surface only; say why in only_because"
    for setting_option in (o for o in OPTIONS if o.setting):
        assert setting_option.surfaces == frozenset({"pytest", "cli"}), setting_option.name


def test_pytest_and_goblin_audit_write_identical_json(pytester: pytest.Pytester) -> None:
    shutil.copytree(EXAMPLES, pytester.path / "configs")
    broken = pytester.path / "configs" / "broken.yml"
    broken.write_text("base_model: x\nsequence_len: [1, 2\n")  # one config error among the verdicts
    common = ["--goblin-runner", "projection", "--goblin-target", "mi300x", "--goblin-fail-at", "1.2"]
    pytester.runpytest("--goblin", "configs", *common, "--goblin-json", "pytest.json", "-p", "no:cacheprovider")
    code = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest_goblin.cli",
            "audit",
            "configs",
            "--runner",
            "projection",
            "--target",
            "mi300x",
            "--fail-at",
            "1.2",
            "--json",
            "cli.json",
        ],
        cwd=pytester.path,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(pytest_goblin.__file__).parent.parent)},  # the checkout under test, as in-process
    )
    assert code.returncode == 1, code.stderr
    from_pytest = json.loads((pytester.path / "pytest.json").read_text())
    from_cli = json.loads((pytester.path / "cli.json").read_text())
    assert len(from_pytest["items"]) == 5 and from_pytest["not_collected"]
    assert any(i["verdict"] == "error" for i in from_pytest["items"])
    assert from_cli == from_pytest


def test_a_checkout_with_its_own_runner_and_kb_packages_gets_a_normal_verdict(pytester: pytest.Pytester) -> None:
    """`python -m pytest` puts the working directory first on sys.path: a project's own `runner/`
    or `kb/` must not replace any part of goblin (every module lives under pytest_goblin)."""
    for name in ("runner", "kb", "rules", "formats", "tools"):
        pkg = pytester.path / name
        pkg.mkdir()
        (pkg / "__init__.py").write_text("raise SystemExit('a checkout package was imported')\n")
    (pytester.path / "kb" / "hardware.yaml").write_text("[]\n")
    shutil.copy(EXAMPLES / "axolotl-llama3-8b-lora.yml", pytester.path / "train.yml")
    result = pytester.run(
        sys.executable, "-m", "pytest", "--goblin", "train.yml", "--goblin-runner", "projection", "--goblin-target", "mi300x", "-p", "no:cacheprovider"
    )
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    result.stdout.fnmatch_lines(["*FAIL*train.yml*projected*"])
    assert result.ret == 1


@pytest.mark.skipif(importlib.util.find_spec("hatchling") is None, reason="hatchling (the build backend) is not installed")
def test_the_wheel_installs_one_importable_name(tmp_path: Path) -> None:
    """A non-editable install puts only pytest_goblin (with its rule data) into site-packages."""
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(".git", ".venv", "tests", "benchmarks", "__pycache__", "*.egg-info"))
    out = subprocess.run(
        [sys.executable, "-c", "from hatchling.builders.wheel import WheelBuilder; print(*WheelBuilder('.').build(directory='dist', versions=['standard']))"],
        cwd=src,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    wheel = Path(src, out.stdout.split()[-1])
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names}
    assert {t for t in top if not t.endswith(".dist-info")} == {"pytest_goblin"}
    assert "pytest_goblin/kb/hardware.yaml" in names and "pytest_goblin/runners/worker.py" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "goblin = pytest_goblin.plugin" in text and "goblin = pytest_goblin.cli:main" in text


def test_the_readme_lists_every_option_as_the_table_says() -> None:
    from pytest_goblin.options import markdown_table

    assert markdown_table() in (ROOT / "README.md").read_text(encoding="utf-8")


def test_an_option_reaches_the_settings_from_either_surface(pytestconfig: pytest.Config) -> None:
    from pytest_goblin.options import build_settings, from_argparse, from_pytest

    args = build_parser().parse_args(["audit", "x.yml", "--world-size", "8", "--fail-at", "1.5", "--kb-path", "a", "--kb-path", "b"])
    cli = build_settings(from_argparse(args))
    flags = {"goblin_world_size": "8", "goblin_fail_at": "1.5", "goblin_kb_paths": ["a", "b"]}
    ini = build_settings(from_pytest(lambda dest: flags.get(dest), lambda name: None, "pytest.ini"))
    assert (cli.world_size, cli.fail_at, cli.kb_paths) == (ini.world_size, ini.fail_at, ini.kb_paths) == (8, 1.5, ("a", "b"))


def test_both_help_texts_render(capsys: pytest.CaptureFixture[str]) -> None:
    """`goblin audit --help` formats every option's help (a bare % would crash argparse)."""
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args(["audit", "--help"])
    assert info.value.code == 0 and "--attribution" in capsys.readouterr().out


# What the test extra installs and `pip install .` does not: the run below cannot import them.
TEST_EXTRA_ONLY = ("numpy", "bm25s", "torch", "transformers", "trl", "anthropic", "huggingface_hub", "hypothesis", "xdist")
WITHOUT_TEST_EXTRA = f"""
import sys
class Absent:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {TEST_EXTRA_ONLY!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
sys.meta_path.insert(0, Absent())
import pytest
sys.exit(pytest.main(sys.argv[1:]))
"""


def test_the_readme_main_command_needs_no_test_extra() -> None:
    """`pip install . && pytest --goblin examples/` installs none of the test extra: neither the
    repository's ini (`-n` in addopts broke it once) nor the tests' conftest, which that command
    loads too (numpy imported there broke it once), may need a package only the extra brings."""
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            WITHOUT_TEST_EXTRA,
            "-p",
            "no:xdist",
            "-p",
            "no:hypothesispytest",
            "-p",
            "no:cacheprovider",
            "--goblin",
            "examples",
            "--goblin-runner",
            "projection",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]  # configs failed: a verdict, not a usage error
    assert "FAIL  examples/axolotl-llama3-8b-lora.yml" in proc.stdout


def test_ci_runs_exactly_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = next(line for line in readme.splitlines() if line.startswith("pip install -e '.[test]'"))
    assert (ROOT / ".ci" / "run").read_text(encoding="utf-8").rstrip().splitlines()[-1] == command
