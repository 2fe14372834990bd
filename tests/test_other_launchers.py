"""Every launcher of a config (review10a #9, odissei-benchmarks/torchtune-gpu-benchmark: 14 slurm scripts run
configs/1B_lora_distributed.yaml on 2, 4 or 8 GPUs): the topology's source names the launch line goblin read (the
first found, closest folder first) and says how many other launch lines name the config and which of them run it on
another topology, bounded. Must not fire: a config only one line launches; other lines that launch another config."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.formats import load_config
from pytest_goblin.formats.launchers import OTHERS_SHOWN

from .repo_files import repo
from .test_launch_forms import TORCHTUNE_DIST


@pytest.fixture(autouse=True)
def _in_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def _run(n: int, config: str = "c.yaml") -> str:
    return f"#!/bin/bash\n#SBATCH --nodes=1\ntune run --nproc_per_node={n} full_finetune_distributed --config ../configs/{config}\n"


def test_other_launchers_of_the_config_are_counted_and_named(tmp_path: Path) -> None:
    files = {"configs/c.yaml": TORCHTUNE_DIST, "a-scripts/two.slurm": _run(2), "b-scripts/four.slurm": _run(4), "b-scripts/two.slurm": _run(2)}
    files |= {f"c-scripts/eight_{i}.slurm": _run(8) for i in range(4)}
    w = load_config(repo(tmp_path, files) / "configs/c.yaml").workload
    assert w.world_size == 2 and w.sources["world_size"].file.endswith("a-scripts/two.slurm")
    note = w.sources["world_size"].note or ""
    assert "6 other launch lines name this config, 5 with another topology (b-scripts/four.slurm line 3: 1 x 4; " in note
    assert note.count(" x 8") == OTHERS_SHOWN - 1 and ", 2 more)" in note and "this one, the first found" in note
    assert "None" not in note


def test_one_other_launcher_with_the_same_topology(tmp_path: Path) -> None:
    files = {"configs/c.yaml": TORCHTUNE_DIST, "a-scripts/two.slurm": _run(2), "b-scripts/two.slurm": _run(2)}
    note = load_config(repo(tmp_path, files) / "configs/c.yaml").workload.sources["world_size"].note or ""
    assert "1 other launch line names this config, all with this topology" in note


def test_a_config_one_line_launches_names_no_others(tmp_path: Path) -> None:
    """Must not fire: the other scripts launch another config."""
    files = {"configs/c.yaml": TORCHTUNE_DIST, "configs/d.yaml": TORCHTUNE_DIST, "a-scripts/two.slurm": _run(2), "b-scripts/four.slurm": _run(4, "d.yaml")}
    w = load_config(repo(tmp_path, files) / "configs/c.yaml").workload
    assert w.world_size == 2 and "other launch line" not in (w.sources["world_size"].note or "")
