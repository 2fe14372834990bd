"""Where goblin finds a config's launcher (formats/launchers.py) beyond its own folder: DeepSpeed's
--include/--exclude resource filters, sibling folders and the rest of the repository (bounded),
Jupyter notebook cells, and trees without a `.git` folder (safepath.repository_root)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.formats import launch_walk, launcher_text, launchers, load_config

from .repo_files import repo
from .test_topology import topo

TRL = "model_name_or_path: Qwen/Qwen2.5-7B\nper_device_train_batch_size: 4\nmax_length: 2048\ngradient_checkpointing: true\n"
AXOLOTL_FSDP = "base_model: meta-llama/Meta-Llama-3-8B\nmicro_batch_size: 2\nsequence_len: 4096\nbf16: true\nfsdp_config:\n  fsdp_version: 2\n"


# ------------------------------------------------------------------ 1. deepspeed --include / --exclude
@pytest.mark.parametrize(
    ("command", "hostfile", "expected", "said"),
    [
        # MiniCPM finetune/lora_finetune.sh:5: one process on GPU 1 (review #5: read as 1 node x 8 before)
        ("deepspeed --include localhost:1 train.py --config configs/sft.yaml", None, (1, 1, 1), True),
        ("deepspeed --include=localhost:0,1,2,3 train.py --config configs/sft.yaml", None, (4, 1, 4), True),
        ("deepspeed -i localhost:2,3 train.py --config configs/sft.yaml", None, (2, 1, 2), True),
        # a bare host is every GPU it has: unknown without a hostfile, assumed and said so
        ("deepspeed --include localhost train.py --config configs/sft.yaml", None, (8, 1, 8), False),
        ("deepspeed --exclude localhost:0 train.py --config configs/sft.yaml", None, (7, 1, 7), False),
        # with a hostfile: the listed hosts and slots, or what is left after the exclusion
        ("deepspeed -H hostfile --include node-a@node-b:0,1 train.py --config configs/sft.yaml", "node-a slots=2\nnode-b slots=8\n", (4, 2, 2), True),
        ("deepspeed -H hostfile --include node-b:0,1,2,3 train.py --config configs/sft.yaml", "node-a slots=8\nnode-b slots=8\n", (4, 1, 4), True),
        ("deepspeed -H hostfile --exclude node-a train.py --config configs/sft.yaml", "node-a slots=8\nnode-b slots=8\nnode-c slots=8\n", (16, 2, 8), True),
        ("deepspeed -H hostfile -e node-a:0,1 train.py --config configs/sft.yaml", "node-a slots=8\nnode-b slots=8\n", (12, 2, 6), False),
        # the script's own `-e`/`-i` after train.py is not deepspeed's
        ("deepspeed --num_gpus 2 train.py -e 3 --config configs/sft.yaml", None, (2, 1, 2), True),
        # without a filter deepspeed turns the visible devices into `--include localhost:...` (runner.py:448-460) ...
        ("CUDA_VISIBLE_DEVICES=0,1 deepspeed train.py --config configs/sft.yaml", None, (2, 1, 2), True),
        # ... and ignores them when a filter is given (:452-456)
        ("CUDA_VISIBLE_DEVICES=0,1,2,3 deepspeed --include localhost:0 train.py --config configs/sft.yaml", None, (1, 1, 1), True),
        # an unresolved variable: assumed, never read as a count
        ("deepspeed --include $HOSTS train.py --config configs/sft.yaml", None, (8, 1, 8), False),
    ],
)
def test_deepspeed_include_and_exclude_give_the_gpus_kept(
    tmp_path: Path, command: str, hostfile: str | None, expected: tuple[int, int, int], said: bool
) -> None:
    """DeepSpeed 0.19.6 deepspeed/launcher/runner.py:310-357 (parse_resource_filter), :391-398."""
    files = {"configs/sft.yaml": AXOLOTL_FSDP, "launch.sh": command + "\n"}
    if hostfile is not None:
        files["hostfile"] = hostfile
    w = load_config(repo(tmp_path, files) / "configs/sft.yaml").workload
    assert topo(w) == expected
    assert w.sources["world_size"].file.endswith("launch.sh")
    assert (w.sources["nodes"].explicit and w.sources["gpus_per_node"].explicit) is said


def test_deepspeed_filter_that_cannot_start_is_said(tmp_path: Path) -> None:
    """runner.py:462-464: --num_gpus/--num_nodes with --include stops the launcher; a host the pool
    lacks stops parse_resource_filter (:343-348)."""
    root = repo(tmp_path, {"configs/sft.yaml": AXOLOTL_FSDP, "launch.sh": "deepspeed --num_gpus 4 --include worker-1:0,1 train.py --config configs/sft.yaml\n"})
    launch = launchers.find_launch(root / "configs/sft.yaml")
    assert launch is not None and launch.world == 2
    text = " ".join(launch.notes)
    assert "cannot be combined with --include" in text and "'worker-1', not in the pool" in text
    # the clean line says nothing of the kind
    (root / "launch.sh").write_text("deepspeed --include localhost:0,1 train.py --config configs/sft.yaml\n")
    launch = launchers.find_launch(root / "configs/sft.yaml")
    assert launch is not None and launch.world == 2 and "stops" not in " ".join(launch.notes)


# ------------------------------------------------------------------ 2. the rest of the repository
SCRIPT = (
    "from dataclasses import dataclass, field\n"
    "from transformers import HfArgumentParser, TrainingArguments, Trainer\n"
    "parser = HfArgumentParser((TrainingArguments,))\n"
    "(args,) = parser.parse_args_into_dataclasses()\n"
    "trainer = Trainer(model='meta-llama/Meta-Llama-3-8B', args=args)\n"
)


def test_a_script_at_the_root_run_by_a_launcher_in_a_sibling_folder(tmp_path: Path) -> None:
    """Qwen finetune/finetune_ds.sh:67 `torchrun $DISTRIBUTED_ARGS finetune.py` (README: run from the
    root), the arguments in a quoted value over several lines; unpaired_rlhf jobs_local/*.sh."""
    launcher = 'GPUS=4\nDISTRIBUTED_ARGS="\n    --nproc_per_node $GPUS \\\n    --nnodes 1\n"\n\ntorchrun $DISTRIBUTED_ARGS finetune.py \\\n  --per_device_train_batch_size 2\n'
    root = repo(tmp_path, {"finetune.py": SCRIPT, "finetune/finetune_ds.sh": launcher})
    launch = launchers.find_script_launch(root / "finetune.py")
    assert launch is not None and launch.shown == "finetune/finetune_ds.sh" and launch.line == 7
    assert ("--per_device_train_batch_size", "2", 8) in launch.flags
    w = load_config(root / "finetune.py").workload
    assert topo(w) == (4, 1, 4) and w.micro_batch_size == 2


def test_a_bare_name_from_a_sibling_folder_that_holds_that_file_names_that_file(tmp_path: Path) -> None:
    root = repo(tmp_path, {"finetune.py": SCRIPT, "finetune/finetune.py": SCRIPT, "finetune/run.sh": "torchrun --nproc_per_node 4 finetune.py\n"})
    assert launchers.find_script_launch(root / "finetune.py") is None
    found = launchers.find_script_launch(root / "finetune" / "finetune.py")
    assert found is not None and found.shown == "finetune/run.sh"
    # a bare name never names a config below the root from another folder
    root2 = repo(tmp_path / "b", {"configs/sft.yaml": AXOLOTL_FSDP, "jobs/run.sh": "torchrun --nproc_per_node 4 -m axolotl.cli.train sft.yaml\n"})
    assert launchers.find_launch(root2 / "configs/sft.yaml") is None


def test_nearest_folder_first_then_the_rest_of_the_repository_and_docs_markdown(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {
            "recipes/sft/config.yaml": AXOLOTL_FSDP,
            "docs/training.md": "```bash\ntorchrun --nnodes 2 --nproc_per_node 8 -m axolotl.cli.train recipes/sft/config.yaml\n```\n",
        },
    )
    w = load_config(root / "recipes/sft/config.yaml").workload
    assert topo(w) == (16, 2, 8) and w.sources["world_size"].file.endswith("docs/training.md")
    # a launcher in the config's own folder comes first
    (root / "recipes/sft/run.sh").write_text("torchrun --nproc_per_node 2 -m axolotl.cli.train config.yaml\n")
    assert topo(load_config(root / "recipes/sft/config.yaml").workload) == (2, 1, 2)


def test_the_repository_walk_skips_vendored_hidden_and_nested_checkouts_and_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    line = "torchrun --nproc_per_node 4 -m axolotl.cli.train configs/sft.yaml\n"
    root = repo(
        tmp_path,
        {
            "configs/sft.yaml": AXOLOTL_FSDP,
            "node_modules/x/run.sh": line,
            ".github/run.sh": line,
            "third_party/lib/run.sh": line,
            "sub/.git/HEAD": "ref\n",
            "sub/run.sh": line,
        },
    )
    assert launchers.find_launch(root / "configs/sft.yaml") is None
    (root / "tools").mkdir()
    for i in range(5):
        (root / "tools" / f"a{i}.sh").write_text("echo\n")
    (root / "tools" / "z.sh").write_text(line)
    monkeypatch.setattr(launch_walk, "_REPOS", {})
    monkeypatch.setattr(launch_walk, "MAX_REPO_FILES", 3)
    assert launchers.find_launch(root / "configs/sft.yaml") is None  # past the budget: not read
    assert "stopped early: the budget of 3 files" in launch_walk.searched(root / "configs/sft.yaml")
    monkeypatch.setattr(launch_walk, "_REPOS", {})
    monkeypatch.setattr(launch_walk, "MAX_REPO_FILES", 300)
    launch = launchers.find_launch(root / "configs/sft.yaml")
    assert launch is not None and launch.shown == "tools/z.sh"


def test_a_script_not_collected_says_which_folders_were_searched(tmp_path: Path) -> None:
    from pytest_goblin.errors import NotATrainingConfig

    root = repo(tmp_path, {"train/sft.py": SCRIPT, "train/README.md": "no launch here\n"})
    with pytest.raises(NotATrainingConfig) as err:
        load_config(root / "train/sft.py")
    reason = err.value.reason
    assert (
        "searched shell/slurm scripts, cloud launcher YAML (dstack, SkyPilot, PyTorchJob), Dockerfiles and compose files, notebooks and Markdown code blocks in train/, the root"
        in reason
    )
    assert "then the rest of the repository" in reason and "such file(s) in" in reason and "None" not in reason


# ------------------------------------------------------------------ 3. notebooks
def notebook(*cells: tuple[str, str]) -> str:
    import json

    return json.dumps(
        {
            "cells": [{"cell_type": kind, "metadata": {}, "source": [line + "\n" for line in src.split("\n")]} for kind, src in cells],
            "metadata": {},
            "nbformat": 4,
            "nbformat_minor": 5,
        },
        indent=1,
    )


def test_notebook_code_gives_each_code_cell_with_its_place() -> None:
    from pytest_goblin.notebook import notebook_code, notebook_lines

    text = notebook(("markdown", "# Title"), ("code", "%pip install trl==0.13.0\nimport os"), ("code", "print(1)"))
    assert notebook_code(text) == [("cell 2", "%pip install trl==0.13.0\nimport os\n"), ("cell 3", "print(1)\n")]
    lines = notebook_lines(text)
    pip = next(x for x in lines if x[2].startswith("%pip"))
    assert pip[1] == "cell 2 line 1" and '"%pip install trl==0.13.0' in text.splitlines()[pip[0] - 1]
    assert notebook_code("not json") == [] and notebook_code('{"cells": 3}') == [] and notebook_code("[" * 100_000) == []


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (("code", "!accelerate launch --num_processes 4 scripts/run.py --config receipes/sft.yaml"), (4, 1, 4)),
        (("code", "%%bash\nNPROC=2\ntorchrun --nproc_per_node $NPROC scripts/run.py --config receipes/sft.yaml"), (2, 1, 2)),
        (("markdown", "## Distributed\n```bash\naccelerate launch --num_processes 8 scripts/run.py --config receipes/sft.yaml\n```"), (8, 1, 8)),
    ],
)
def test_a_notebook_cell_launches_the_config(tmp_path: Path, cell: tuple[str, str], expected: tuple[int, int, int]) -> None:
    """philschmid training/rl-with-llms-in-2025-dpo.ipynb (review #18): `accelerate launch --num_processes 4 ...`."""
    text = notebook(("markdown", "# Train"), ("code", "import torch"), cell)
    root = repo(tmp_path, {"training/receipes/sft.yaml": TRL, "training/train.ipynb": text})
    w = load_config(root / "training/receipes/sft.yaml").workload
    assert topo(w) == expected
    launch = launchers.find_launch(root / "training/receipes/sft.yaml")
    assert launch is not None and launch.where().startswith("training/train.ipynb cell 3 line ")
    assert "launch" in text.splitlines()[launch.line - 1] or "torchrun" in text.splitlines()[launch.line - 1]


def test_a_notebook_python_line_or_output_is_not_a_launcher(tmp_path: Path) -> None:
    text = notebook(("code", "cmd = 'accelerate launch --num_processes 4 scripts/run.py --config receipes/sft.yaml'\nprint(cmd)"))
    root = repo(tmp_path, {"training/receipes/sft.yaml": TRL, "training/train.ipynb": text})
    assert launchers.find_launch(root / "training/receipes/sft.yaml") is None


# ------------------------------------------------------------------ 4. a tree without .git
def test_without_git_the_working_directory_that_holds_the_config_is_the_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = repo(
        tmp_path, {"configs/sft.yaml": AXOLOTL_FSDP, "scripts/train.sh": "torchrun --nproc_per_node 4 -m axolotl.cli.train configs/sft.yaml\n"}, git=False
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("PWD", str(elsewhere))
    # not under the working directory and no project file: the config's folder alone (as before)
    assert launchers.find_launch(root / "configs/sft.yaml") is None
    monkeypatch.chdir(root)
    monkeypatch.setenv("PWD", str(root))
    launch = launchers.find_launch(root / "configs/sft.yaml")
    assert launch is not None and launch.world == 4
    assert f"repository root: {root.resolve()} (no .git; the working directory)" in launch.notes


def test_without_git_an_audited_folder_or_a_project_file_gives_the_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_goblin import safepath

    root = repo(
        tmp_path, {"configs/sft.yaml": AXOLOTL_FSDP, "scripts/train.sh": "torchrun --nproc_per_node 4 -m axolotl.cli.train configs/sft.yaml\n"}, git=False
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("PWD", str(elsewhere))
    monkeypatch.setattr(safepath, "_ROOTS", [root.resolve()])
    launch = launchers.find_launch(root / "configs/sft.yaml")
    assert launch is not None and any("(no .git; the audited folder)" in n for n in launch.notes)
    monkeypatch.setattr(safepath, "_ROOTS", [])
    (root / "requirements.txt").write_text("trl\n")
    launch = launchers.find_launch(root / "configs/sft.yaml")
    assert launch is not None and any("project file" in n for n in launch.notes)
    # a checkout is found as before, with no note
    (root / ".git").mkdir()
    monkeypatch.setattr(launch_walk, "_TREES", {})  # kept per folder for the process; a .git does not appear mid-run
    launch = launchers.find_launch(root / "configs/sft.yaml")
    assert launch is not None and not any("repository root" in n for n in launch.notes)


def test_without_git_the_marker_search_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_goblin import safepath

    deep = tmp_path / "p" / "a" / "b" / "c" / "d" / "e"
    deep.mkdir(parents=True)
    (tmp_path / "p" / "setup.py").write_text("")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PWD", "/")
    monkeypatch.chdir("/")
    assert safepath.project_root(deep / "x.yaml") is None  # six folders up: past MAX_UP
    found = safepath.project_root(tmp_path / "p" / "a" / "x.yaml")
    assert found is not None and found[0] == tmp_path / "p"


def test_a_quoted_value_over_several_lines_is_one_value_and_a_stray_quote_joins_nothing() -> None:
    text = 'ARGS="\n  --nproc_per_node 2 \\\n  --nnodes 3\n"\ntorchrun $ARGS x.py c.yaml\n'
    lines = launcher_text.parse_launcher(Path("x.sh"), text).lines
    assert [(ln.line, ln.tokens[:5]) for ln in lines] == [(5, ("torchrun", "--nproc_per_node", "2", "--nnodes", "3"))]
    stray = "python -c 'print(1)\ntorchrun --nproc_per_node 4 x.py c.yaml\n# it's a comment\ntorchrun --nproc_per_node 2 y.py c.yaml\n"
    lines = launcher_text.parse_launcher(Path("x.sh"), stray).lines
    assert [ln.line for ln in lines if ln.tokens[0] == "torchrun"] == [2, 4]


def test_a_python_script_without_git_names_its_root_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = repo(tmp_path, {"finetune.py": SCRIPT, "finetune/run.sh": "torchrun --nproc_per_node 4 finetune.py --per_device_train_batch_size 2\n"}, git=False)
    monkeypatch.chdir(root)
    monkeypatch.setenv("PWD", str(root))
    w = load_config(root / "finetune.py").workload
    assert topo(w) == (4, 1, 4) and w.micro_batch_size == 2
    assert [n for n in w.notes if n.startswith("repository root:")] == [f"repository root: {root.resolve()} (no .git; the working directory)"]


def test_without_git_nothing_above_an_audited_folder_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/trust-model.md: the audited folder bounds the tree even when the working directory is wider."""
    from pytest_goblin import safepath

    files = {"configs/sft.yaml": AXOLOTL_FSDP, "scripts/train.sh": "torchrun --nproc_per_node 4 -m axolotl.cli.train configs/sft.yaml\n", "README.md": "x\n"}
    root = repo(tmp_path, files, git=False)
    monkeypatch.chdir(root)
    monkeypatch.setenv("PWD", str(root))
    monkeypatch.setattr(safepath, "_ROOTS", [(root / "configs").resolve()])
    assert launchers.find_launch(root / "configs/sft.yaml") is None
    assert safepath.tree_of(root / "configs/sft.yaml")[0] == (root / "configs").resolve()


def test_a_session_finds_a_configs_launch_once_and_hands_out_copies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Inside a session (repoindex) find_launch walks the tree once per config (a patch's read-back asks again);
    each answer is a copy, so a caller that edits its notes changes nobody else's. Outside a session, every call
    reads the tree as it is (a changed launcher is seen)."""
    from pytest_goblin import repoindex

    root = repo(tmp_path, {"configs/sft.yaml": AXOLOTL_FSDP, "launch.sh": "deepspeed --num_gpus 4 train.py --config configs/sft.yaml\n"})
    walks = [0]
    real = launchers._find_launch

    def counted(path: str) -> object:
        walks[0] += 1
        return real(path)

    monkeypatch.setattr(launchers, "_find_launch", counted)
    with repoindex.session():
        first = launchers.find_launch(root / "configs/sft.yaml")
        assert first is not None and first.world == 4
        first.notes.append("a caller's own note")
        second = launchers.find_launch(root / "configs/sft.yaml")
    assert walks[0] == 1 and second is not None and second.world == 4 and "a caller's own note" not in second.notes
    # must not: outside a session nothing is kept
    (root / "launch.sh").write_text("deepspeed --num_gpus 2 train.py --config configs/sft.yaml\n")
    again = launchers.find_launch(root / "configs/sft.yaml")
    assert again is not None and again.world == 2 and walks[0] == 2
