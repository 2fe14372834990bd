"""Regression tests for the red-team report (../shared/research/redteam-2026-11-25.md), D1-D29.

Each test names its defect. A pull request controls every file in its checkout: these check that
such a file costs one item at most, reads nothing outside the tree, writes nothing outside it,
and puts no secret or injected command into any output.
"""

from __future__ import annotations

import ast
import importlib
import os
import pkgutil
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import pytest_goblin
from pytest_goblin.cli import main
from pytest_goblin.errors import ConfigError
from pytest_goblin.formats import load_config
from pytest_goblin.yamlio import load_yaml

from .conftest import EXAMPLES

BASE = EXAMPLES / "axolotl-llama3-8b-lora.yml"
PACKAGE = Path(pytest_goblin.__file__).parent
ENV = {**os.environ, "PYTHONPATH": str(PACKAGE.parent)}


def _tree(tmp_path: Path) -> Path:
    """A repository with one good config, like a pull request's checkout."""
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "configs").mkdir()
    shutil.copy(BASE, repo / "configs" / "base.yml")
    return repo


def _pytest(cwd: Path, *args: str, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "pytest", "--goblin", *args, "--goblin-runner", "projection", "--goblin-target", "mi300x", "-p", "no:cacheprovider"]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=ENV)


# ---- D1: every loader error is one item's error ------------------------------------------------

HOSTILE_SCALARS = {
    "bool_maybe": "x: !!bool maybe\n",
    "int_abc": "x: !!int abc\n",
    "float_abc": "x: !!float abc\n",
    "int_0x": "x: !!int 0x\n",
    "timestamp": "x: !!timestamp 2001-13-45\n",
    "int_4301_digits": "n: " + "1" * 4301 + "\n",
    "seq_alias_key": "x: &x [[1]]\n? *x\n: 1\n",
    "omap_scalar": "x: !!omap [1]\n",
}


@pytest.mark.parametrize("name", sorted(HOSTILE_SCALARS))
def test_d1_every_loader_error_is_a_config_error_with_a_line(tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.yaml"
    path.write_text(HOSTILE_SCALARS[name])
    with pytest.raises(ConfigError) as info:
        load_yaml(path)
    assert info.value.path == str(path) and info.value.line is not None and info.value.line >= 1


def test_d1_one_bad_file_costs_one_item_not_the_session(tmp_path: Path) -> None:
    repo = _tree(tmp_path)
    for name, text in HOSTILE_SCALARS.items():
        (repo / "configs" / f"{name}.yaml").write_text(text)
    proc = _pytest(repo, "configs", "--goblin-json", "r.json")
    assert "Interrupted" not in proc.stdout and "INTERNALERROR" not in proc.stdout + proc.stderr, proc.stdout[-3000:]
    import json

    items = {Path(i["path"]).name: i for i in json.loads((repo / "r.json").read_text())["items"]}
    assert items["base.yml"]["verdict"] == "fail"  # the good config is still audited
    for name in HOSTILE_SCALARS:
        item = items[f"{name}.yaml"]
        assert item["verdict"] == "error" and f"{name}.yaml:" in item["message"], item


# ---- D2: linear-time regexes -------------------------------------------------------------------

RUNS = ["a", "a_", "1_", "x_token", " ", "\t", "-", ":", "A", "/", ".", "=", "#", "a:", "://a", "hf_", "api_key:", "é", "\\", '"']
MEGABYTE = 1_000_000
BUDGET_S = 5.0  # generous: a linear regex takes well under a second on 1 MB; a quadratic one takes hours


def _package_regexes() -> list[tuple[str, re.Pattern[str]]]:
    """Every compiled pattern in the package: module globals, lists of patterns in globals, and
    every literal pattern passed to re.* inside a function (found through the AST)."""
    found: dict[tuple[str, int], tuple[str, re.Pattern[str]]] = {}
    for mod in pkgutil.walk_packages([str(PACKAGE)], "pytest_goblin."):
        if mod.name.endswith(("claude", "llm", "torch_runner", "worker")):
            continue  # optional dependencies; their literal patterns are still found below
        module = importlib.import_module(mod.name)
        for name, value in vars(module).items():
            values = value if isinstance(value, (list, tuple)) else [value]
            for v in values:
                if isinstance(v, re.Pattern) and isinstance(v.pattern, str):
                    found[(v.pattern, v.flags)] = (f"{mod.name}.{name}", v)
    calls = {"compile", "search", "match", "fullmatch", "findall", "finditer", "sub", "subn", "split"}
    for file in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(file.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in calls
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "re"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                pattern = re.compile(node.args[0].value)
                found.setdefault((pattern.pattern, pattern.flags), (f"{file.relative_to(PACKAGE)}:{node.lineno}", pattern))
    return sorted(found.values(), key=lambda t: t[0])


def test_d2_the_regex_census_finds_the_known_patterns() -> None:
    names = {name for name, _ in _package_regexes()}
    assert "pytest_goblin.redact._ASSIGNMENT" in names and "pytest_goblin.formats.textedit._KEY_HEAD" in names
    assert any(name.startswith("formats/deepspeed.py:") for name in names)  # a literal inside a function
    assert len(names) > 20


def test_d2_every_regex_is_linear_on_megabyte_runs() -> None:
    slow = []
    for name, pattern in _package_regexes():
        for unit in RUNS:
            text = unit * (MEGABYTE // len(unit))
            start = time.perf_counter()
            for _ in pattern.finditer(text):
                pass
            pattern.match(text)
            elapsed = time.perf_counter() - start
            if elapsed > BUDGET_S:
                slow.append((name, unit, round(elapsed, 1)))
    assert not slow, slow


def test_d2_redacting_the_red_team_inputs_is_fast() -> None:
    from pytest_goblin.redact import redact

    for text in ("x_token" * 8000, "a_" * 8000, "1_" * 8000, "chat_template_b64: " + "Ab_-" * 15000 + "\nmicro_batch_size: 1"):
        start = time.perf_counter()
        redact(text)
        assert time.perf_counter() - start < BUDGET_S


def test_d2_flow_line_with_a_long_space_run_edits_quickly() -> None:
    from pytest_goblin.formats.textedit import _replace_value

    line = "micro_batch_size: 1" + " " * 30000 + "# c"
    start = time.perf_counter()
    assert _replace_value(line, "4") == "micro_batch_size: 4" + " " * 30000 + "# c"
    assert time.perf_counter() - start < BUDGET_S


# ---- D3 / D4 / D13 / D17 / D28: reading stays inside the tree -----------------------------------

OUTSIDE_SECRET = "customer_pii: Jane Doe 555-0100 [unclosed"


def _with_ref(repo: Path, key: str, ref: str, name: str) -> Path:
    text = BASE.read_text().replace("dataloader_num_workers: 0\n", f"dataloader_num_workers: 0\n{key}: {ref}\n")
    path = repo / "configs" / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("ref", ["../../outside_secret.txt", "{outside}", "/proc/self/status", "/etc/passwd", "/etc/does-not-exist", "/proc/kmsg"])
@pytest.mark.parametrize("key", ["deepspeed", "fsdp_config"])
def test_d3_referenced_files_outside_the_tree_are_refused_by_name(tmp_path: Path, ref: str, key: str) -> None:
    repo = _tree(tmp_path)
    outside = tmp_path / "outside_secret.txt"
    outside.write_text(f"db_host: x\n  {OUTSIDE_SECRET}\n")
    ref = ref.format(outside=outside)
    start = time.perf_counter()
    w = load_config(_with_ref(repo, key, ref, f"c-{key}.yml")).workload
    assert time.perf_counter() - start < 10  # /proc/kmsg never blocks
    notes = " ".join(w.notes)
    assert "outside the audited tree" in notes and ref in notes
    assert "customer_pii" not in notes and "Name:" not in notes and "root:" not in notes


def test_d3_in_tree_fifo_and_oversized_files_are_refused(tmp_path: Path) -> None:
    repo = _tree(tmp_path)
    os.mkfifo(repo / "configs" / "ds_fifo.json")
    (repo / "configs" / "ds_big.json").write_text("{" + " " * 2_000_000 + "}")
    for ref, reason in (("ds_fifo.json", "not a regular file"), ("ds_big.json", "byte limit")):
        start = time.perf_counter()
        notes = " ".join(load_config(_with_ref(repo, "deepspeed", ref, f"c-{ref}.yml")).workload.notes)
        assert reason in notes and time.perf_counter() - start < 10


def test_d3_in_tree_references_still_read(tmp_path: Path) -> None:
    repo = _tree(tmp_path)
    (repo / "ds").mkdir()
    (repo / "ds" / "z3.json").write_text('{"zero_optimization": {"stage": 3}}')
    w = load_config(_with_ref(repo, "deepspeed", "ds/z3.json", "z.yml")).workload
    assert w.zero_stage == 3 and any("DeepSpeed settings read from ds/z3.json" in n for n in w.notes)


def test_d4_d17_directory_symlinks_are_not_followed(tmp_path: Path) -> None:
    repo = _tree(tmp_path)
    outside = tmp_path / "outside_dir"
    outside.mkdir()
    private = outside / "private.yml"
    private.write_text(BASE.read_text() + "# OUTSIDE-COMMENT-LINE\n")
    before = private.read_bytes()
    (repo / "configs" / "ext").symlink_to(outside)
    (repo / "configs" / "up1").symlink_to("..")
    (repo / "configs" / "up2").symlink_to("..")
    proc = _pytest(repo, "configs", "--goblin-md", "r.md", "--goblin-json", "r.json", "--goblin-fix", "-v", timeout=60)
    assert "OUTSIDE-COMMENT-LINE" not in proc.stdout + (repo / "r.md").read_text()
    assert private.read_bytes() == before and oct(private.stat().st_mode & 0o777) == oct(0o644 & ~_umask())
    import json

    report = json.loads((repo / "r.json").read_text())
    assert [i["path"] for i in report["items"]] == ["configs/base.yml"]  # one item, not one per loop
    assert {"configs/ext", "configs/up1", "configs/up2"} <= set(report["not_collected"])


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_d28_cli_does_not_follow_file_symlinks_out_of_the_tree(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = _tree(tmp_path)
    outside = tmp_path / "outside_cfg.yml"
    outside.write_text(BASE.read_text())
    (repo / "configs" / "o.yml").symlink_to(outside)
    (repo / "configs" / "k.yml").symlink_to("/proc/kmsg")
    (repo / "configs" / "loop.yml").symlink_to(repo / "configs" / "loop.yml")
    start = time.perf_counter()
    main(["audit", str(repo / "configs"), "--runner", "projection", "--target", "mi300x", "--fix"])
    assert time.perf_counter() - start < 30
    out = capsys.readouterr()
    assert "o.yml: a symlink" in out.err and "k.yml: a symlink" in out.err and "loop.yml" in out.err
    assert "o.yml" not in out.out and (repo / "configs" / "o.yml").is_symlink() and outside.read_text() == BASE.read_text()


def test_d13_rule_files_are_regular_files_under_a_limit(tmp_path: Path) -> None:
    from pytest_goblin.errors import KBError
    from pytest_goblin.hardware import load_yaml_list

    rules = tmp_path / "team-rules"
    rules.mkdir()
    (rules / "zz.yaml").symlink_to("/dev/zero")
    os.mkfifo(rules / "fifo.yaml")
    (rules / "secret.yaml").write_text(f"- id: x\n\t{OUTSIDE_SECRET}\n")
    for name, reason in (("zz.yaml", "not a regular file"), ("fifo.yaml", "not a regular file"), ("secret.yaml", "invalid YAML at line")):
        start = time.perf_counter()
        with pytest.raises(KBError) as info:
            load_yaml_list(rules / name)
        assert reason in str(info.value) and "customer_pii" not in str(info.value) and time.perf_counter() - start < 5


def test_d13_kb_path_to_dev_zero_is_a_usage_error(tmp_path: Path) -> None:
    repo = _tree(tmp_path)
    (repo / "team-rules").mkdir()
    (repo / "team-rules" / "zz.yaml").symlink_to("/dev/zero")
    proc = _pytest(repo, "configs", "-o", "goblin_kb_paths=team-rules", timeout=60)
    assert proc.returncode == 4 and "not a regular file" in proc.stderr and "INTERNALERROR" not in proc.stdout + proc.stderr
