"""Launcher reading leftovers of blind review 12 (launch32): a bare launcher line of a multi-node batch script
runs on the batch host only (review12b #34), a launched script named by an absolute path from the author's
machine (review12b #35)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.formats import load_config

from .repo_files import repo

TRL = "model_name_or_path: Qwen/Qwen2.5-7B\nper_device_train_batch_size: 4\nmax_length: 2048\ngradient_checkpointing: true\n"
SBATCH = "#!/bin/bash\n#SBATCH --nodes=2\n#SBATCH --gres=gpu:8\n"


def topo(path: Path) -> tuple[int, int, int]:
    w = load_config(path).workload
    return w.world_size, w.nodes, w.gpus_per_node


@pytest.mark.parametrize(
    "line",
    [
        "torchrun --nproc_per_node=8 train.py --config sft.yaml",
        "python -m torch.distributed.run --nproc_per_node=8 train.py --config sft.yaml",
        "accelerate launch --num_processes 8 train.py --config sft.yaml",
        "deepspeed --num_gpus 8 train.py --config sft.yaml",
    ],
)
def test_bare_launcher_line_of_a_multi_node_batch_script_runs_on_one_node(tmp_path: Path, line: str) -> None:
    # review12b #34 llama3-8b-medical submit_job.sh: `#SBATCH --nodes=2` and a launcher line no srun starts
    root = repo(tmp_path, {"sft.yaml": TRL, "train.py": "print(1)\n", "job.sh": SBATCH + line + "\n"})
    w = load_config(root / "sft.yaml").workload
    assert (w.world_size, w.nodes, w.gpus_per_node) == (8, 1, 8)
    said = " ".join(w.notes)
    assert "#SBATCH --nodes=2 (line 2)" in said and "not started by srun" in said and "sbatch.1:36-39" in said


def test_commented_launcher_line_of_a_multi_node_batch_script_runs_on_one_node(tmp_path: Path) -> None:
    job = SBATCH + "# python -m torch.distributed.run --nproc_per_node=2 train.py --config sft.yaml\npython run.py\n"
    root = repo(tmp_path, {"sft.yaml": TRL, "train.py": "print(1)\n", "run.py": "print(1)\n", "job.sh": job})
    assert topo(root / "sft.yaml") == (2, 1, 2)


@pytest.mark.parametrize(
    "line",
    [
        "srun torchrun --nproc_per_node=8 train.py --config sft.yaml",
        "srun --ntasks-per-node=1 bash -c 'accelerate launch --num_processes 8 train.py --config sft.yaml'",
        "mpirun -np 2 torchrun --nproc_per_node=8 train.py --config sft.yaml",
    ],
)
def test_launcher_line_srun_starts_keeps_the_batch_nodes(tmp_path: Path, line: str) -> None:
    # the premise does not hold: srun (mpirun) starts the line on every node of the allocation
    root = repo(tmp_path, {"sft.yaml": TRL, "train.py": "print(1)\n", "job.sh": SBATCH + line + "\n"})
    w = load_config(root / "sft.yaml").workload
    assert w.nodes == 2
    assert "not started by srun" not in " ".join(w.notes)


def test_bare_launcher_line_of_a_one_node_batch_script_says_nothing(tmp_path: Path) -> None:
    job = "#!/bin/bash\n#SBATCH --nodes=1\ntorchrun --nproc_per_node=8 train.py --config sft.yaml\n"
    root = repo(tmp_path, {"sft.yaml": TRL, "train.py": "print(1)\n", "job.sh": job})
    w = load_config(root / "sft.yaml").workload
    assert (w.world_size, w.nodes) == (8, 1)
    assert "not started by srun" not in " ".join(w.notes)
