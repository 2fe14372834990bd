"""Launch commands a repository's Python launcher builds as list literals (review13b #29 luchris429/DiscoPOP
scripts/launch_evo.py:217-236): a config path an f-string builds over a value goblin does not read matched as a
pattern (assumed), and the two arms of an `if` goblin does not decide, of different topologies, left ambiguous.
Small synthetic trees; nothing run."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.formats import load_config

from .repo_files import write_file

RECIPE = """\
model_name_or_path: Qwen/Qwen2.5-7B
bf16: true
per_device_train_batch_size: 2
gradient_accumulation_steps: 8
output_dir: out
"""

ACCEL = """\
compute_environment: LOCAL_MACHINE
distributed_type: MULTI_GPU
mixed_precision: bf16
num_machines: 1
num_processes: 8
"""

RUN = """\
from transformers import AutoModelForCausalLM, HfArgumentParser, Trainer, TrainingArguments

(args,) = HfArgumentParser((TrainingArguments,)).parse_yaml_file("x.yaml")
Trainer(model=AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-7B"), args=args).train()
"""

LAUNCH = """\
import subprocess


def train(config):
    if config["NUM_GPUS"] == 4:
        command = [
            "accelerate",
            "launch",
            "--config_file",
            "recipes/accelerate_configs/multi_gpu.yaml",
            "--num_processes=4",
            "scripts/run.py",
            f"recipes/zephyr-{config['B_PARAMS']}b/sft/config_full.yaml",
        ]
    else:
        command = [
            "accelerate",
            "launch",
            "--config_file",
            "recipes/accelerate_configs/multi_gpu.yaml",
            "scripts/run.py",
            f"recipes/zephyr-{config['B_PARAMS']}b/sft/config_full.yaml",
        ]
    subprocess.run(command)
"""


def _tree(tmp_path: Path, launch: str, *others: str) -> Path:
    (tmp_path / ".git").mkdir()
    config = write_file(tmp_path, "recipes/zephyr-7b/sft/config_full.yaml", RECIPE)
    write_file(tmp_path, "recipes/accelerate_configs/multi_gpu.yaml", ACCEL)
    write_file(tmp_path, "scripts/run.py", RUN)
    write_file(tmp_path, "scripts/launch_evo.py", launch)
    for other in others:
        write_file(tmp_path, other, RECIPE)
    return config


ONE_ARM = (
    LAUNCH.split("    if config")[0]
    + """\
    command = [
        "accelerate",
        "launch",
        "--config_file",
        "recipes/accelerate_configs/multi_gpu.yaml",
        "scripts/run.py",
        f"recipes/zephyr-{config['B_PARAMS']}b/sft/config_full.yaml",
    ]
    subprocess.run(command)
"""
)


def test_an_fstring_config_path_over_an_unread_value_names_the_one_file_it_matches(tmp_path: Path) -> None:
    w = load_config(_tree(tmp_path, ONE_ARM)).workload
    assert (w.nodes, w.gpus_per_node) == (1, 8)
    src = w.sources["gpus_per_node"]
    assert src.file.endswith("scripts/launch_evo.py") and src.line == 5
    said = " ".join(w.notes) + " ".join(s.note or "" for s in w.sources.values())
    assert "read as the pattern `recipes/zephyr-*b/sft/config_full.yaml`" in said and "(assumed)" in said


def test_an_fstring_config_path_matching_two_files_names_none(tmp_path: Path) -> None:
    w = load_config(_tree(tmp_path, ONE_ARM, "recipes/zephyr-2b/sft/config_full.yaml")).workload
    assert not w.sources["gpus_per_node"].file.endswith("scripts/launch_evo.py")
    assert w.world_size == 1


def test_the_arms_of_an_unread_if_with_different_topologies_are_ambiguous(tmp_path: Path) -> None:
    w = load_config(_tree(tmp_path, LAUNCH)).workload
    note = w.sources["gpus_per_node"].note or ""
    assert "topology ambiguous" in note
    assert "the other arm of `if config['NUM_GPUS'] == 4:` (line 5)" in note
    assert not w.sources["gpus_per_node"].explicit
    from pytest_goblin.formats.semantics import world_size_note

    said = world_size_note(w)
    assert "commented-out" not in said and "the first of launch lines of different topologies" in said


def test_the_arms_of_an_if_with_one_topology_are_not_ambiguous(tmp_path: Path) -> None:
    same = LAUNCH.replace('"--num_processes=4",\n', '"--num_processes=8",\n')
    w = load_config(_tree(tmp_path, same)).workload
    assert (w.nodes, w.gpus_per_node) == (1, 8)
    assert "topology ambiguous" not in (w.sources["gpus_per_node"].note or "")
    assert w.sources["gpus_per_node"].explicit
