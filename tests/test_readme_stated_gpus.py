"""README-stated hardware beside a launch line that leaves the GPU count to every visible GPU (review10b #30/#31,
yangjianxin1/LongQLoRA README.MD:9 "On a single 32GB V100 GPU" beside `deepspeed train.py --train_args_file
./train_args/vicuna-13b-sft.yaml` at :68, no --num_gpus: DeepSpeed 0.16.5 deepspeed/launcher/runner.py:441-451 uses
every local GPU). The one count the README whose code block is that launch line states is the run's, as a README count
tied to the config is (review 8a #1: the repository's stated topology wins over a launcher that states none), said in
the world size's source (and so in `goblin parse --json`). A README that states no count, or two, leaves every
visible GPU assumed, said."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.formats import load_config, prose

from .repo_files import repo
from .test_launched_yaml import RECIPE, TRAIN

README = """# LongQLoRA

## Introduction
LongQLoRA extends the context length of LLaMA2 with less training GPUs.
**On a single 32GB V100 GPU**, LongQLoRA can extend the context length of LLaMA2 7B and 13B.

## Training
Extend the context length of Vicuna-13B:
```bash
deepspeed train.py --train_args_file ./train_args/vicuna-13b-sft.yaml
```
"""


def _workload(tmp_path: Path, readme: str):  # type: ignore[no-untyped-def]
    files = {"train.py": TRAIN, "train_args/vicuna-13b-sft.yaml": RECIPE, "README.MD": readme}
    return load_config(repo(tmp_path, files) / "train_args/vicuna-13b-sft.yaml").workload


def test_a_readme_single_v100_is_the_runs_count(tmp_path: Path) -> None:
    w = _workload(tmp_path, README)
    # on 70d0ce0: 8, every visible GPU assumed, the README's "a single 32GB V100" unread
    assert (w.world_size, w.nodes, w.gpus_per_node) == (1, 1, 1)
    src = w.sources["world_size"]
    assert src.file.endswith("README.MD") and src.line == 5
    assert "`a single 32GB V100`" in (src.note or "") and "line 10 launches this config" in (src.note or "")
    assert "None" not in (src.note or "")


def test_a_readme_that_states_no_count_says_none(tmp_path: Path) -> None:
    """Must not fire: the README states no GPU count; the world size says only that every visible GPU was assumed."""
    w = _workload(tmp_path, README.replace("**On a single 32GB V100 GPU**, LongQLoRA", "LongQLoRA"))
    assert w.world_size == 8
    assert "every visible GPU per node, assumed 8" in (w.sources["world_size"].note or "")


def test_a_readme_with_two_counts_or_a_section_on_another_script_states_none(tmp_path: Path) -> None:
    """Must not fire: two different counts, or a section about another script of the repository, tie none."""
    two = README.replace("7B and 13B.", "7B and 13B; the 70B run took 8 A100 GPUs.")
    assert _workload(tmp_path / "a", two).world_size == 8
    other = README + "\n## Merge\nOn a single A100, run `merge.py`.\n"
    root = repo(
        tmp_path / "b", {"train.py": TRAIN, "merge.py": "from transformers import AutoModel\n", "train_args/vicuna-13b-sft.yaml": RECIPE, "README.MD": other}
    )
    assert load_config(root / "train_args/vicuna-13b-sft.yaml").workload.world_size == 8


def test_a_count_the_launch_line_states_is_not_overridden_or_annotated(tmp_path: Path) -> None:
    """Must not fire: `--num_gpus 2` states the count, which wins over the README's single V100 (said in a note)."""
    w = _workload(tmp_path, README.replace("deepspeed train.py", "deepspeed --num_gpus 2 train.py"))
    assert w.world_size == 2


def test_a_single_gpu_with_its_memory_before_it_is_a_count() -> None:
    (hit,) = prose.hits_of("**On a single 32GB V100 GPU**, it extends", 9)
    assert (hit.gpus, hit.phrase, hit.gpu) == (1, "a single 32GB V100", "V100 32GB")
    assert prose.hits_of("a single 80GB A100 node", 1) == []  # a machine, not a GPU
