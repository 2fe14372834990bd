"""Topology the repository states but goblin read as assumed (topo19a): a slurm job of one GPU running a plain
`python` / `srun -n 1` line, `python -m axolotl.cli.train` in a README code block."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.formats import load_config
from pytest_goblin.formats.launcher_text import sbatch_per_node
from pytest_goblin.formats.semantics import world_size_note
from pytest_goblin.schemas import WorkloadConfig

from .repo_files import repo

AXOLOTL = "base_model: meta-llama/Meta-Llama-3-8B\nmicro_batch_size: 2\ngradient_accumulation_steps: 4\nsequence_len: 2048\nbf16: true\n"


def topo(w: WorkloadConfig) -> tuple[int, int | None, int | None]:
    return w.world_size, w.nodes, w.gpus_per_node


# ---- 1. a slurm job that asks for one GPU, running the config with a plain process


def test_sbatch_gres_one_gpu_and_plain_python_line_is_one_gpu_from_that_line(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {
            "configs/x.yaml": AXOLOTL,
            "train.py": "import sys\n",
            "run.slurm": "#!/bin/bash\n#SBATCH --job-name=ft\n#SBATCH --gres=gpu:1\npython train.py --config configs/x.yaml\n",
        },
    )
    w = load_config(root / "configs/x.yaml").workload
    assert topo(w) == (1, 1, 1)
    src = w.sources["world_size"]
    assert src.explicit and src.line == 4 and Path(src.file).name == "run.slurm"
    assert world_size_note(w) == "on 1 GPU (run.slurm line 4)"
    assert "the #SBATCH line 3 asks for 1 GPU: the one process runs on that GPU" in w.notes


def test_sbatch_gpus_total_one_is_one_gpu_per_node(tmp_path: Path) -> None:
    root = repo(tmp_path, {"x.yaml": AXOLOTL, "train.py": "", "job.sbatch": "#!/bin/bash\n#SBATCH --gpus=1\npython3 train.py x.yaml\n"})
    w = load_config(root / "x.yaml").workload
    assert topo(w) == (1, 1, 1) and w.sources["world_size"].explicit


def test_srun_one_task_with_one_gpu_per_task_is_one_process(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {
            "configs/x.yaml": AXOLOTL,
            "sft.py": "",
            "run.slurm": "#!/bin/bash\n#SBATCH --ntasks=1\n#SBATCH --gpus-per-task=1\nsrun -n 1 --gpus-per-task=1 python sft.py --config configs/x.yaml\n",
        },
    )
    w = load_config(root / "configs/x.yaml").workload
    assert topo(w) == (1, 1, 1)
    assert w.sources["world_size"].explicit and w.sources["gpus_per_node"].explicit
    assert world_size_note(w) == "on 1 GPU (run.slurm line 4)"


def test_sbatch_per_node_from_gpus_per_task_and_ntasks() -> None:
    assert sbatch_per_node([("ntasks", 1, 2), ("gpus_per_task", 1, 3)]) == (1, 3)
    assert sbatch_per_node([("nodes", 1, 2), ("ntasks", 4, 3), ("gpus_per_task", 1, 4)]) == (4, 4)
    assert sbatch_per_node([("gpus", 1, 2)]) == (1, 2)


def test_must_not_fire_sbatch_totals_that_may_span_nodes_give_no_per_node_count() -> None:
    assert sbatch_per_node([("ntasks", 8, 2), ("gpus_per_task", 1, 3)]) is None  # 8 tasks may land on several nodes
    assert sbatch_per_node([("gpus", 4, 2)]) is None
    assert sbatch_per_node([("gpus_per_node", 2, 2), ("gpus", 1, 3)]) is None  # --gres / --gpus-per-node already say it


def test_must_not_fire_plain_python_where_several_gpus_may_be_visible(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {
            "configs/x.yaml": AXOLOTL,
            "train.py": "",
            "run.slurm": "#!/bin/bash\n#SBATCH --gres=gpu:4\npython train.py --config configs/x.yaml\n",
            "run2.sh": "python train.py --config configs/x.yaml\n",
        },
    )
    w = load_config(root / "configs/x.yaml").workload
    assert not w.sources["world_size"].explicit  # a script may spread over the GPUs it sees: left as before, assumed


def test_must_not_fire_srun_many_tasks_without_a_node_count(tmp_path: Path) -> None:
    root = repo(tmp_path, {"x.yaml": AXOLOTL, "sft.py": "", "run.slurm": "#!/bin/bash\nsrun -n 8 python sft.py x.yaml\n"})
    w = load_config(root / "x.yaml").workload
    assert w.world_size != 8 or not w.sources["gpus_per_node"].explicit  # 8 tasks may span nodes: not read as 1 x 8


# ---- 4. a README code block running Axolotl's module with plain python


def test_readme_python_m_axolotl_cli_train_is_one_process_from_the_readme_line(tmp_path: Path) -> None:
    root = repo(tmp_path, {"qlora.yml": AXOLOTL, "README.md": "# Train\n\n```bash\npython -m axolotl.cli.train qlora.yml\n```\n"})
    w = load_config(root / "qlora.yml").workload
    assert topo(w) == (1, 1, 1)
    src = w.sources["world_size"]
    assert src.explicit and src.line == 4 and Path(src.file).name == "README.md"
    assert "`python -m axolotl.cli.train` trains in that one process (axolotl v0.18.0 src/axolotl/cli/train.py:117, :139, :206)" in w.notes


def test_must_not_fire_accelerate_launch_module_keeps_accelerates_default(tmp_path: Path) -> None:
    root = repo(tmp_path, {"qlora.yml": AXOLOTL, "README.md": "# Train\n\n```bash\naccelerate launch -m axolotl.cli.train qlora.yml\n```\n"})
    w = load_config(root / "qlora.yml").workload
    assert w.world_size == 8 and not w.sources["gpus_per_node"].explicit  # every visible GPU, assumed 8
