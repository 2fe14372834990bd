"""Launch lines inside notebooks (issue 23): Databricks notebooks exported as `.py` (`# MAGIC %sh` cells, `!` lines),
`!` commands continued with `\\`, `{name}` from the notebook's literal Python values, and `--module pkg.mod` naming
the script it runs. Read as text: nothing in a notebook is run."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.formats import launchers, load_config
from pytest_goblin.notebook import databricks_lines, python_literals

from .repo_files import repo
from .test_launch_search import SCRIPT, TRL, notebook
from .test_topology import topo

# databrickslabs/dolly e2d664dd train_dolly.py (review4 #27), cut down: a widget-chosen flag, a computed path, literals
DOLLY = """# Databricks notebook source
# MAGIC %md
# MAGIC ## Train Dolly
# MAGIC ```
# MAGIC deepspeed --num_gpus 2 --module training.trainer --epochs 9
# MAGIC ```

# COMMAND ----------

import os
num_gpus_flag = ""
if os.environ.get("N"):
    num_gpus_flag = "--num_gpus=4"
epochs = 2
deepspeed_config = os.path.join(os.getcwd(), "config", "a100_config.json")

# COMMAND ----------

!deepspeed {num_gpus_flag} \\
    --module training.trainer \\
    --deepspeed {deepspeed_config} \\
    --epochs {epochs} \\
    --per_device_train_batch_size 6

# COMMAND ----------

from training.generate import generate_response
"""


def test_databricks_notebook_lines_keep_cells_and_file_lines() -> None:
    lines = databricks_lines(DOLLY)
    assert (5, "cell 1 line 4", "deepspeed --num_gpus 2 --module training.trainer --epochs 9", "markdown") in lines
    bang = next(x for x in lines if x[2].startswith("!deepspeed"))
    assert bang[:2] == (19, "cell 3 line 1") and bang[3] == "code"
    assert databricks_lines("import os\n!deepspeed train.py\n") == []  # no Databricks header: an ordinary script


def test_only_names_bound_once_to_a_literal_are_known() -> None:
    code = [line for _, _, line, kind in databricks_lines(DOLLY) if kind == "code"]
    got = python_literals(["\n".join(code)])
    assert got == {"epochs": "2"}  # num_gpus_flag is bound twice, deepspeed_config computed
    assert python_literals(["x = 3\ndef f():\n    x = 4\n", "y = 'a b'"]) == {"y": "a b"}
    assert python_literals(["z = 1\n", "z = (\n"]) == {}  # a cell that does not parse hides what it assigns


def test_a_databricks_bang_line_runs_the_module_with_its_flags(tmp_path: Path) -> None:
    root = repo(tmp_path, {"train_dolly.py": DOLLY, "training/__init__.py": "", "training/trainer.py": SCRIPT})
    launch = launchers.find_script_launch(root / "training/trainer.py")
    assert launch is not None and launch.shown == "train_dolly.py" and launch.where() == "train_dolly.py cell 3 line 1"
    assert launch.line == 19
    flags = {f: (v, n) for f, v, n in launch.flags}
    assert flags["--epochs"] == ("2", 22)  # {epochs}: the notebook's literal
    assert flags["--per_device_train_batch_size"] == ("6", 23)
    assert flags["--deepspeed"][0] is not None and "$" in flags["--deepspeed"][0]  # computed: never a file name guessed
    w = load_config(root / "training/trainer.py").workload
    assert w.micro_batch_size == 6
    assert w.sources["micro_batch_size"].file.endswith("train_dolly.py")


def test_a_databricks_sh_cell_launches_the_config(tmp_path: Path) -> None:
    text = "# Databricks notebook source\nimport os\n\n# COMMAND ----------\n\n# MAGIC %sh\n# MAGIC torchrun --nproc_per_node 4 scripts/run.py --config receipes/sft.yaml\n"
    root = repo(tmp_path, {"training/receipes/sft.yaml": TRL, "training/train_nb.py": text})
    w = load_config(root / "training/receipes/sft.yaml").workload
    assert topo(w) == (4, 1, 4)
    launch = launchers.find_launch(root / "training/receipes/sft.yaml")
    assert launch is not None and launch.where() == "training/train_nb.py cell 2 line 2"


def test_an_ipynb_bang_line_continues_and_takes_literal_values(tmp_path: Path) -> None:
    cell = "!torchrun --nproc_per_node {gpus} \\\n    scripts/run.py --config {cfg}"
    text = notebook(("code", "gpus = 2\ncfg = 'receipes/sft.yaml'"), ("code", cell))
    root = repo(tmp_path, {"training/receipes/sft.yaml": TRL, "training/train.ipynb": text})
    assert topo(load_config(root / "training/receipes/sft.yaml").workload) == (2, 1, 2)


def test_inference_cells_markdown_and_unknown_values_do_not_launch(tmp_path: Path) -> None:
    # a Databricks notebook whose `!` line runs inference, whose Markdown shows a command as text, and a Python string
    text = (
        "# Databricks notebook source\n# MAGIC %md\n# MAGIC run: torchrun --nproc_per_node 8 scripts/run.py --config receipes/sft.yaml\n\n"
        "# COMMAND ----------\n\ncmd = 'torchrun --nproc_per_node 8 scripts/run.py --config receipes/sft.yaml'\n"
        "!python scripts/generate.py --config receipes/sft.yaml\n"
    )
    root = repo(tmp_path, {"training/receipes/sft.yaml": TRL, "training/eval_nb.py": text})
    assert launchers.find_launch(root / "training/receipes/sft.yaml") is None
    # a `!` line's `{gpus}` bound twice is unknown: never read as a count
    ipynb = notebook(("code", "gpus = 2\nif True:\n    gpus = 8"), ("code", "!torchrun --nproc_per_node {gpus} scripts/run.py --config receipes/sft.yaml"))
    root2 = repo(tmp_path / "b", {"training/receipes/sft.yaml": TRL, "training/train.ipynb": ipynb})
    w = load_config(root2 / "training/receipes/sft.yaml").workload
    assert not w.sources["gpus_per_node"].explicit and "`${gpus}` not resolved" in w.sources["gpus_per_node"].note


def test_an_ordinary_python_file_is_still_read_for_the_commands_it_builds(tmp_path: Path) -> None:
    # no Databricks header: a `!`-looking string is Python, not a shell line
    text = "import subprocess\nX = '''\n!torchrun --nproc_per_node 4 scripts/run.py --config receipes/sft.yaml\n'''\n"
    root = repo(tmp_path, {"training/receipes/sft.yaml": TRL, "training/nb.py": text})
    assert launchers.find_launch(root / "training/receipes/sft.yaml") is None


def test_a_module_launch_gives_the_script_its_launcher_and_an_unread_deepspeed_file_is_said(tmp_path: Path) -> None:
    # dolly: `deepspeed {num_gpus_flag} --module training.trainer --deepspeed {deepspeed_config}`, README count aside
    root = repo(tmp_path, {"train_dolly.py": DOLLY, "training/__init__.py": "", "training/trainer.py": SCRIPT})
    launch = launchers.find_launch(root / "training/trainer.py")
    assert launch is not None and launch.where() == "train_dolly.py cell 3 line 1"
    assert "'${deepspeed_config}', is set at run time" in launch.strategy_unread
    w = load_config(root / "training/trainer.py").workload
    assert w.strategy == "ddp" and "DDP assumed, not read" in (w.sources["strategy"].note or "")
    # the same module run by an ordinary shell line with a literal count
    root2 = repo(tmp_path / "b", {"run.sh": "deepspeed --num_gpus 4 --module training.trainer --epochs 1\n", "training/trainer.py": SCRIPT})
    assert topo(load_config(root2 / "training/trainer.py").workload) == (4, 1, 4)
    # a module of another name is not this script
    root3 = repo(tmp_path / "c", {"run.sh": "deepspeed --num_gpus 4 --module training.other\n", "training/trainer.py": SCRIPT})
    assert launchers.find_launch(root3 / "training/trainer.py") is None


def test_a_databricks_sh_cell_continued_over_magic_lines_passes_the_script_flags(tmp_path: Path) -> None:
    # databricks-ml-examples style: `# MAGIC %sh` then `# MAGIC deepspeed --num_gpus=4 \\` over several MAGIC lines
    text = (
        "# Databricks notebook source\n# MAGIC %md\n# MAGIC Fine tune\n\n# COMMAND ----------\n\n"
        "# MAGIC %sh\n# MAGIC deepspeed --num_gpus=4 \\\n# MAGIC     scripts/ft.py \\\n# MAGIC     --per_device_train_batch_size=3\n"
    )
    root = repo(tmp_path, {"nb/ft_nb.py": text, "nb/scripts/ft.py": SCRIPT})
    launch = launchers.find_script_launch(root / "nb/scripts/ft.py")
    assert launch is not None and launch.where() == "nb/ft_nb.py cell 2 line 2"
    assert ("--per_device_train_batch_size", "3", 10) in launch.flags
    w = load_config(root / "nb/scripts/ft.py").workload
    assert topo(w) == (4, 1, 4) and w.micro_batch_size == 3


def test_an_evaluation_cell_that_names_the_config_is_not_its_launch(tmp_path: Path) -> None:
    cells = (
        ("code", "!torchrun --nproc_per_node 2 scripts/evaluate.py --config receipes/sft.yaml"),
        ("code", "!accelerate launch -m axolotl.cli.merge_lora receipes/sft.yaml"),
        ("code", "!torchrun --nproc_per_node 4 scripts/run_sft.py --config receipes/sft.yaml"),
    )
    root = repo(tmp_path, {"training/receipes/sft.yaml": TRL, "training/train.ipynb": notebook(*cells)})
    launch = launchers.find_launch(root / "training/receipes/sft.yaml")
    assert launch is not None and launch.where() == "training/train.ipynb cell 3 line 1" and launch.per_node == 4
    # only an inference cell: no launch at all (its count is not the training's)
    only = notebook(("code", "!torchrun --nproc_per_node 2 scripts/run_inference.py --config receipes/sft.yaml"))
    root2 = repo(tmp_path / "b", {"training/receipes/sft.yaml": TRL, "training/infer.ipynb": only})
    assert launchers.find_launch(root2 / "training/receipes/sft.yaml") is None
    # a training script whose name also says eval, or a script in a folder called eval, is still a launch
    both = notebook(("code", "!torchrun --nproc_per_node 2 eval/train_and_eval.py --config receipes/sft.yaml"))
    root3 = repo(tmp_path / "c", {"training/receipes/sft.yaml": TRL, "training/t.ipynb": both})
    found = launchers.find_launch(root3 / "training/receipes/sft.yaml")
    assert found is not None and found.per_node == 2


def test_a_bang_line_takes_dollar_names_and_keeps_braces_and_quoted_dollars() -> None:
    from pytest_goblin.formats.launcher_text import _bang_expand

    known = {"gpus": "4", "cfg": "a.yaml"}
    assert _bang_expand("torchrun --nproc_per_node $gpus run.py --config {cfg}", known) == "torchrun --nproc_per_node 4 run.py --config a.yaml"
    assert _bang_expand("echo $$gpus '$gpus' {{x}} $HOME {n+1}", known) == "echo $gpus '$gpus' {x} $HOME ${_notebook_expression}"
    assert _bang_expand("run.py --n {unknown}", known) == "run.py --n ${unknown}"
