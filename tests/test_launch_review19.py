"""Which launch line runs a config, from an expert review of real repositories (topo19b): an absolute path of the
author's machine matched by its tail, an NPU block set aside for the GPU one, an online-RL split within a stated total."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.formats import load_config

from .test_topology import TRL, repo, topo

ZERO3 = "distributed_type: DEEPSPEED\nnum_processes: 8\ndeepspeed_config:\n  zero_stage: 3\n"


def _abs_repo(tmp_path: Path, word: str, extra: dict[str, str] | None = None) -> Path:
    files = {
        "projects/litecot/config/config7b.yaml": TRL,
        "sft.py": "from trl import TrlParser\n",
        "recipes/accelerate_configs/zero3.yaml": ZERO3,
        "scripts/run.sh": f"accelerate launch --config_file recipes/accelerate_configs/zero3.yaml sft.py --config {word}\n",
    }
    return repo(tmp_path, {**files, **(extra or {})})


def test_an_absolute_path_of_another_layout_names_the_config_by_its_unique_tail(tmp_path: Path) -> None:
    root = _abs_repo(tmp_path, "/data/user/proj/litecot/config/config7b.yaml")
    w = load_config(root / "projects/litecot/config/config7b.yaml").workload
    assert topo(w) == (8, 1, 8) and w.sources["world_size"].file.endswith("scripts/run.sh")
    assert any("by its tail `litecot/config/config7b.yaml`" in n for n in w.notes)


def test_an_absolute_path_ending_in_the_whole_inside_path_needs_no_tail_note(tmp_path: Path) -> None:
    root = _abs_repo(tmp_path, "/data/user/proj/projects/litecot/config/config7b.yaml")
    w = load_config(root / "projects/litecot/config/config7b.yaml").workload
    assert topo(w) == (8, 1, 8) and not any("by its tail" in n for n in w.notes)


def test_an_absolute_path_whose_tail_two_files_share_names_neither(tmp_path: Path) -> None:
    root = _abs_repo(tmp_path, "/data/user/proj/litecot/config/config7b.yaml", {"old/litecot/config/config7b.yaml": TRL})
    w = load_config(root / "projects/litecot/config/config7b.yaml").workload
    assert not w.sources["world_size"].explicit


def test_an_absolute_path_sharing_only_a_common_file_name_is_not_the_config(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {
            "projects/litecot/config.yaml": TRL,
            "sft.py": "from trl import TrlParser\n",
            "recipes/accelerate_configs/zero3.yaml": ZERO3,
            "scripts/run.sh": "accelerate launch --config_file recipes/accelerate_configs/zero3.yaml sft.py --config /data/user/other/config.yaml\n",
        },
    )
    w = load_config(root / "projects/litecot/config.yaml").workload
    assert not w.sources["world_size"].explicit
