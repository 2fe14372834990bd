"""More of the environment a launcher gives the process it launches (session 11, envnb20; issue 23/24 leftovers): every
assignment made while `set -a` / `set -o allexport` holds is exported, a sourced file's too (`set -a; source .env;
set +a`), until `set +a`; `declare -x NAME=V` / `typeset -x` export, `declare +x` takes the mark off; and a Jupyter
notebook's kernel environment (`%env NAME=V`, `%env NAME V`, `os.environ["NAME"] = "V"` in a cell above the `!`
launch line) reaches the command it runs. An assignment with no export and no `-a` in effect, one after `set +a`, or a
kernel setting below the launch line is not the run's. Nothing is executed."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.formats import load_config
from pytest_goblin.formats.launcher_text import allexport_change
from pytest_goblin.formats.nb_env import kernel_settings
from pytest_goblin.notebook import notebook_lines
from pytest_goblin.schemas import WorkloadConfig

from .repo_files import repo
from .test_launch_env import TUNE, _finding, _workload
from .test_launch_forms import TORCHTUNE_DIST
from .test_launch_search import notebook


@pytest.fixture(autouse=True)
def _in_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


DOTENV = {"scripts/.env": "# run settings\nAMD_LOG_LEVEL=3\nHF_HOME=/data/hf\n"}


@pytest.mark.parametrize(
    ("script", "extra", "where"),
    [
        ("set -a; source .env; set +a\n" + TUNE, DOTENV, "scripts/.env line 2"),
        ("set -a\n. ./.env\nset +a\n" + TUNE, DOTENV, "scripts/.env line 2"),
        ("set -o allexport\nsource .env\nset +o allexport\n" + TUNE, DOTENV, "scripts/.env line 2"),
        ("source .env\n" + TUNE, {"scripts/.env": "set -a\nAMD_LOG_LEVEL=3\n"}, "scripts/.env line 2"),  # -a in the file
        ("set -ea\nAMD_LOG_LEVEL=3\n" + TUNE, {}, "scripts/run.sh line 2"),  # a plain assignment under -a
        ("declare -x AMD_LOG_LEVEL=3\n" + TUNE, {}, "scripts/run.sh line 1"),
        ("typeset -x AMD_LOG_LEVEL=3\n" + TUNE, {}, "scripts/run.sh line 1"),
        ("declare -ix AMD_LOG_LEVEL=3\n" + TUNE, {}, "scripts/run.sh line 1"),
    ],
    ids=["set-a-source", "set-a-dot", "allexport", "set-a-in-file", "set-a-assign", "declare-x", "typeset-x", "declare-ix"],
)
def test_an_allexport_or_declare_x_value_fires_and_names_its_line(tmp_path: Path, script: str, extra: dict[str, str], where: str) -> None:
    w = _workload(tmp_path, script, extra)
    assert w.env["AMD_LOG_LEVEL"] == "3"
    msg = _finding(w)
    assert msg is not None and f"AMD_LOG_LEVEL=3 ({where})" in msg


@pytest.mark.parametrize(
    ("script", "extra"),
    [
        ("source .env\n" + TUNE, DOTENV),  # sourced without -a: shell variables only
        ("set -a\nset +a\nsource .env\n" + TUNE, DOTENV),  # `set +a` before it
        ("set +a\nAMD_LOG_LEVEL=3\n" + TUNE, {}),
        ("set -a; source .env; set +a\nAMD_LOG_LEVEL=3\n" + TUNE, {"scripts/.env": "HF_HOME=/data/hf\n"}),  # assigned after +a
        ("set -e\nAMD_LOG_LEVEL=3\n" + TUNE, {}),  # another option
        ("set -- -a\nAMD_LOG_LEVEL=3\n" + TUNE, {}),  # `-a` as a positional parameter
        ("declare AMD_LOG_LEVEL=3\n" + TUNE, {}),  # declared, not exported
        ("declare -x AMD_LOG_LEVEL=3\ndeclare +x AMD_LOG_LEVEL\n" + TUNE, {}),  # the export mark taken off
        (TUNE + "set -a\nAMD_LOG_LEVEL=3\n", {}),  # after the launch line
    ],
    ids=["no-a", "plus-a-before", "plus-a", "after-plus-a", "set-e", "positional", "declare", "declare-plus-x", "after-launch"],
)
def test_an_assignment_without_export_or_a_does_not_fire(tmp_path: Path, script: str, extra: dict[str, str]) -> None:
    w = _workload(tmp_path, script, extra)
    assert "AMD_LOG_LEVEL" not in w.env and "env.AMD_LOG_LEVEL" not in w.sources
    assert _finding(w) is None


def test_set_a_under_a_branch_leaves_the_value_unknown(tmp_path: Path) -> None:
    w = _workload(tmp_path, 'if [ -n "$EXPORT" ]; then\n  set -a\nfi\nAMD_LOG_LEVEL=3\n' + TUNE)
    assert "AMD_LOG_LEVEL" not in w.env and w.sources["env.AMD_LOG_LEVEL"].unread and _finding(w) is None


def test_the_exported_sourced_values_keep_their_values(tmp_path: Path) -> None:
    w = _workload(tmp_path, "set -a; source .env; set +a\n" + TUNE, DOTENV)
    assert w.env["HF_HOME"] == "/data/hf" and w.sources["env.HF_HOME"].line == 3


def test_allexport_change_reads_set_words() -> None:
    assert allexport_change("set -a") is True and allexport_change("set -euxa") is True
    assert allexport_change("set -o allexport") is True and allexport_change("set +o allexport") is False
    assert allexport_change("set +a") is False and allexport_change("set -o pipefail") is None
    assert allexport_change("set -e") is None and allexport_change("set -- -a") is None and allexport_change("echo -a") is None


# ------------------------------------------------------------------ a notebook's kernel environment
def _notebook(tmp_path: Path, *cells: tuple[str, str]) -> WorkloadConfig:
    root = repo(tmp_path, {"configs/c.yaml": TORCHTUNE_DIST, "train.ipynb": notebook(*cells)})
    return load_config(root / "configs/c.yaml").workload


LAUNCH = ("code", "!" + TUNE.replace("../configs", "configs").strip())


@pytest.mark.parametrize(
    "cell",
    ["%env AMD_LOG_LEVEL=3", "%env AMD_LOG_LEVEL 3", "import os\nos.environ['AMD_LOG_LEVEL'] = '3'", 'import os\nos.environ["AMD_LOG_LEVEL"] = "3"  # debug'],
    ids=["env-equals", "env-space", "os-environ", "os-environ-comment"],
)
def test_a_kernel_setting_above_the_launch_line_fires(tmp_path: Path, cell: str) -> None:
    w = _notebook(tmp_path, ("code", cell), LAUNCH)
    assert w.env["AMD_LOG_LEVEL"] == "3" and w.sources["env.AMD_LOG_LEVEL"].file.endswith("train.ipynb")
    msg = _finding(w)
    assert msg is not None and "AMD_LOG_LEVEL=3 (train.ipynb line" in msg


@pytest.mark.parametrize(
    "cells",
    [
        (LAUNCH, ("code", "%env AMD_LOG_LEVEL=3")),  # below the launch line
        (("code", "!export AMD_LOG_LEVEL=3"), LAUNCH),  # a `!` line's own shell
        (("code", "%env AMD_LOG_LEVEL"), LAUNCH),  # reads it
        (("code", "%env AMD_LOG_LEVEL=3\nimport os\ndel os.environ['AMD_LOG_LEVEL']"), LAUNCH),  # removed again
        (("code", "%env AMD_LOG_LEVEL=3\nimport os\nos.environ.pop('AMD_LOG_LEVEL', None)"), LAUNCH),
        (("markdown", "```\n%env AMD_LOG_LEVEL=3\n```"), LAUNCH),  # prose
        (("code", "%%bash\nAMD_LOG_LEVEL=3"), LAUNCH),  # a shell cell's own variable
        (("code", "settings = {}\nsettings['AMD_LOG_LEVEL'] = '3'"), LAUNCH),  # not os.environ
    ],
    ids=["below", "bang-export", "get", "del", "pop", "markdown", "bash-cell", "other-dict"],
)
def test_a_kernel_setting_the_launch_does_not_get_does_not_fire(tmp_path: Path, cells: tuple[tuple[str, str], ...]) -> None:
    w = _notebook(tmp_path, *cells)
    assert "AMD_LOG_LEVEL" not in w.env and "env.AMD_LOG_LEVEL" not in w.sources
    assert _finding(w) is None


@pytest.mark.parametrize(
    "cell",
    [
        "%env AMD_LOG_LEVEL=$level",  # IPython expands it from the namespace
        "%env AMD_LOG_LEVEL={level}",
        '%env AMD_LOG_LEVEL="3"',  # the quotes stay in the value
        "import os\nos.environ['AMD_LOG_LEVEL'] = level",
        "import os\nif debug:\n    os.environ['AMD_LOG_LEVEL'] = '3'",  # may not run
    ],
    ids=["dollar", "brace", "quoted", "variable", "under-if"],
)
def test_an_unknown_kernel_value_is_not_guessed(tmp_path: Path, cell: str) -> None:
    w = _notebook(tmp_path, ("code", cell), LAUNCH)
    assert "AMD_LOG_LEVEL" not in w.env and w.sources["env.AMD_LOG_LEVEL"].unread and _finding(w) is None


def test_kernel_settings_keep_order_and_file_lines() -> None:
    text = notebook(("code", "%env A=1\n%set_env B 2"), ("code", "import os\nos.environ['A'] = 'x y'"), ("code", "%env C"))
    got = kernel_settings(notebook_lines(text))
    assert [(name, value, known) for _, name, value, known in got] == [("A", "1", True), ("B", "2", True), ("A", "x y", True)]
    assert [n for n, *_ in got] == sorted(n for n, *_ in got) and text.splitlines()[got[0][0] - 1].strip().startswith('"%env A=1')
