"""review5 topology misses (issue 23): a commented-out `llamafactory-cli train x.yaml` line (no flag) is the
repository's hint; a recipe's own top-level `num_processes:` is its stated process count; a README's count
written as a word ("Four NVIDIA A100 ... GPUs")."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.formats import load_config

from .repo_files import repo
from .test_topology import AXOLOTL_FSDP, LLAMAFACTORY

# review5 #16 Wyyyb/leakage_influence llama_factory/experiments/0629/0.sh:4,8-10, cut down
LF_SCRIPT = (
    "#!/bin/bash\nexport CUDA_VISIBLE_DEVICES=0,1\n\n"
    "# FORCE_TORCHRUN=1 llamafactory-cli train configs/b.yaml\n"
    "FORCE_TORCHRUN=1 llamafactory-cli train configs/a.yaml\n"
)


def test_a_commented_subcommand_launch_line_without_flags_is_a_hint(tmp_path: Path) -> None:
    root = repo(tmp_path, {"configs/a.yaml": LLAMAFACTORY, "configs/b.yaml": LLAMAFACTORY, "run.sh": LF_SCRIPT})
    w = load_config(root / "configs/b.yaml").workload
    assert w.world_size == 2
    assert not w.sources["world_size"].explicit
    assert "run.sh line 4 does, commented out" in (w.sources["world_size"].note or "")


@pytest.mark.parametrize(
    "comment",
    [
        "# llamafactory-cli train is what we use for configs/b.yaml\n",  # prose: no subcommand form
        "# llamafactory-cli export configs/b.yaml\n",  # not a training subcommand
    ],
)
def test_commented_lines_that_are_no_training_command_give_no_count(tmp_path: Path, comment: str) -> None:
    root = repo(tmp_path, {"configs/b.yaml": AXOLOTL_FSDP, "run.sh": "export CUDA_VISIBLE_DEVICES=0,1\n" + comment})
    w = load_config(root / "configs/b.yaml").workload
    assert w.world_size == 8 and "commented out" not in (w.sources["world_size"].note or "")


# review5 #19 QingyangZhang/EMPO trl/recipes/Qwen2.5/rl/config_GRPO_NM_COT_20K_1.5B.yaml:12-13, cut down
GRPO = (
    "model_name_or_path: Qwen/Qwen2.5-Math-1.5B\ntorch_dtype: bfloat16\n"
    "# Num processes is less by 1 as vLLM is using 1 GPU\nnum_processes: 7\n"
    "bf16: true\nuse_vllm: true\ngradient_accumulation_steps: 16\ngradient_checkpointing: true\nlearning_rate: 5e-7\n"
    "max_prompt_length: 512\nmax_completion_length: 2048\nnum_generations: 7\nnum_train_epochs: 1\n"
    "output_dir: out\nper_device_train_batch_size: 1\nreward_funcs:\n- accuracy\n"
)


def test_a_recipes_own_top_level_num_processes_is_its_process_count(tmp_path: Path) -> None:
    root = repo(tmp_path, {"recipes/grpo.yaml": GRPO})
    w = load_config(root / "recipes/grpo.yaml").workload
    assert w.world_size == 7
    assert "line 4" in (w.sources["world_size"].note or "") and "num_processes: 7" in (w.sources["world_size"].note or "")
    # the accelerate config that run passes is not named: DDP is a guess, said so
    from pytest_goblin.formats.semantics import strategy_unread

    assert w.strategy == "ddp" and strategy_unread(w) is not None


def test_a_nested_num_processes_or_a_launcher_that_names_the_recipe_is_not_overridden(tmp_path: Path) -> None:
    nested = GRPO.replace("num_processes: 7\n", "accelerate:\n  num_processes: 7\n")
    root = repo(tmp_path, {"recipes/grpo.yaml": nested})
    w = load_config(root / "recipes/grpo.yaml").workload
    assert w.world_size != 7 and not w.sources["world_size"].explicit
    # a launch line that names the recipe wins over the recipe's own key
    launch = "accelerate launch --num_processes=3 src/grpo.py --config recipes/grpo.yaml\n"
    root = repo(tmp_path / "b", {"recipes/grpo.yaml": GRPO, "src/grpo.py": "print(1)\n", "run.sh": launch})
    w = load_config(root / "recipes/grpo.yaml").workload
    assert w.world_size == 3


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("* Four NVIDIA A100 SXM4 80GB GPUs", [(4, "Four NVIDIA A100")]),  # review5 #14 FoVer README.md:59
        ("We train on eight GPUs.", [(8, "on eight GPUs")]),
        ("a dual A6000 workstation", [(2, "dual A6000")]),
    ],
)
def test_a_gpu_count_written_as_a_word_is_read(line: str, expected: list[tuple[int, str]]) -> None:
    from pytest_goblin.formats import prose

    assert [(h.gpus, h.phrase) for h in prose.hits_of(line, 1)] == expected


@pytest.mark.parametrize(
    "line",
    [
        "Two A100 nodes were used.",  # a count of machines
        "We use eight of the GPUs for evaluation only",  # no GPU count phrase
        "the someone A100 owner",  # a word inside another word
        "Step two: install the A100 drivers",  # a number word not before the GPU name
    ],
)
def test_number_words_that_count_no_gpus_are_not_read(line: str) -> None:
    from pytest_goblin.formats import prose

    assert prose.hits_of(line, 1) == []


def test_a_readme_section_naming_the_config_with_a_word_count_sets_it(tmp_path: Path) -> None:
    readme = "# Recipe\n\nWe fine-tune `configs/b.yaml` on Four NVIDIA A100 80GB GPUs.\n"
    root = repo(tmp_path, {"configs/b.yaml": AXOLOTL_FSDP, "README.md": readme})
    w = load_config(root / "configs/b.yaml").workload
    assert w.world_size == 4
    assert "README.md:3" in (w.sources["world_size"].note or "")


# review5 #5 AbeerMostafa/Novelty-Reviewer llm_training/acc_config.yaml, cut down
ACC = "compute_environment: LOCAL_MACHINE\ndistributed_type: DEEPSPEED\nnum_machines: 8\nnum_processes: 32\n"


def test_the_folders_one_accelerate_config_is_read_as_the_assumed_topology(tmp_path: Path) -> None:
    # launch7 (issue 23): read as the topology, said as assumed (it replaced topo6's hint that left 8 assumed)
    root = repo(tmp_path, {"llm/a.yaml": AXOLOTL_FSDP, "llm/acc_config.yaml": ACC, "llm/other.yaml": AXOLOTL_FSDP})
    w = load_config(root / "llm/a.yaml").workload
    assert (w.world_size, w.nodes, w.gpus_per_node) == (32, 8, 4) and not w.sources["world_size"].explicit
    assert "beside the config; no launcher passes it, assumed it is the one used" in (w.sources["world_size"].note or "")


@pytest.mark.parametrize(
    "files",
    [
        {"llm/acc_a.yaml": ACC, "llm/acc_b.yaml": ACC.replace("32", "16")},  # several: which one is unknown
        {"llm/acc_config.yaml": "distributed_type: DEEPSPEED\n"},  # no process count
        {"acc_config.yaml": ACC},  # not in the config's own folder
    ],
)
def test_no_accelerate_config_beside_without_exactly_one_in_the_folder(tmp_path: Path, files: dict[str, str]) -> None:
    from pytest_goblin.formats.launchers import beside_accelerate

    root = repo(tmp_path, {"llm/a.yaml": AXOLOTL_FSDP, **files})
    assert beside_accelerate(str(root / "llm/a.yaml")) is None
    w = load_config(root / "llm/a.yaml").workload
    assert w.world_size == 8 and not w.sources["world_size"].explicit


# review5 #14 psunlpgroup/FoVer README.md:48-59, cut down: an environment list under a section that names only a setup script
FOVER_README = (
    "# FoVer\n\n## Setup\n\nPlease refer to [setup/setup.sh](setup/setup.sh) for details.\n\n"
    "We run our experiments on the following environment.\n\n* Four NVIDIA A100 SXM4 80GB GPUs\n* CUDA Version: 12.2\n"
)
SETUP_SH = "conda create -n lf python=3.10\npip install -e .\n"


def test_a_readme_environment_list_count_beside_a_setup_script_is_the_configs(tmp_path: Path) -> None:
    root = repo(tmp_path, {"cfg/b.yaml": LLAMAFACTORY, "README.md": FOVER_README, "setup/setup.sh": SETUP_SH})
    w = load_config(root / "cfg/b.yaml").workload
    assert w.world_size == 4
    assert "README.md:9" in (w.sources["world_size"].note or "")


def test_a_readme_count_beside_a_script_that_trains_something_else_is_not_the_configs(tmp_path: Path) -> None:
    train = "torchrun --nproc_per_node 4 train.py --config cfg/other.yaml\n"
    root = repo(tmp_path, {"cfg/b.yaml": LLAMAFACTORY, "README.md": FOVER_README, "setup/setup.sh": train})
    w = load_config(root / "cfg/b.yaml").workload
    assert w.world_size != 4
