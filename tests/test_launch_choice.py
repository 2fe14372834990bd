"""Which launch line of a repository sets a config's topology (topo13, blind review 8): a bash array written one
word a line and read by index (8a #13 LLaMA-Factory_forked bash_script/auto_run/run1.sh:4-12). Nothing is executed."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.formats import load_config
from pytest_goblin.formats.launcher_text import parse_launcher

from .repo_files import repo
from .test_frameworks import LF_SFT
from .test_launch_forms import TORCHTUNE_DIST


@pytest.fixture(autouse=True)
def _in_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


ARRAY_RUN = """#!/bin/bash
yaml_files=(

    # "configs/old.yaml"
    "configs/c.yaml"
)

YAML_FILE="${yaml_files[0]}"
FORCE_TORCHRUN=1 NNODES=2 NODE_RANK=0 llamafactory-cli train "$YAML_FILE"
"""


def test_an_array_word_read_by_index_names_the_config(tmp_path: Path) -> None:
    root = repo(tmp_path, {"configs/c.yaml": LF_SFT, "run.sh": ARRAY_RUN})
    lines = parse_launcher(root / "run.sh", ARRAY_RUN).lines
    assert [line.tokens[-1] for line in lines] == ["configs/c.yaml"]  # the commented-out word is not the array's
    w = load_config(root / "configs/c.yaml").workload
    assert (w.nodes, w.world_size) == (2, 16)
    assert w.sources["nodes"].file.endswith("run.sh") and w.sources["nodes"].line == 9


def test_an_array_loop_launches_each_word(tmp_path: Path) -> None:
    text = 'CFGS=(\n  a.yaml\n  b.yaml\n)\nfor c in "${CFGS[@]}"; do\n  torchrun --nproc_per_node 4 train.py --config "$c"\ndone\n'
    lines = parse_launcher(tmp_path / "run.sh", text).lines
    assert [line.tokens[-1] for line in lines] == ["a.yaml", "b.yaml"]


@pytest.mark.parametrize(
    "use",
    [
        'llamafactory-cli train "${yaml_files[3]}"\n',  # an index past its end
        'llamafactory-cli train "$YAML_FILE"\n',  # never indexed: YAML_FILE is set nowhere
        'for f in "${other[@]}"; do\n  llamafactory-cli train "$f"\ndone\n',  # another array
    ],
)
def test_an_array_not_read_by_the_launch_line_names_nothing(tmp_path: Path, use: str) -> None:
    text = 'yaml_files=(\n  "configs/c.yaml"\n)\n' + use
    root = repo(tmp_path, {"configs/c.yaml": LF_SFT, "run.sh": text})
    assert not any("configs/c.yaml" in tok for line in parse_launcher(root / "run.sh", text).lines for tok in line.tokens)
    assert load_config(root / "configs/c.yaml").workload.nodes != 2


COUNT = "accelerate launch --num_processes 2 scripts/count_values.py configs/c.yaml lr=1e-4\n"
TRAIN = "accelerate launch --num_processes 4 scripts/run_copo.py configs/c.yaml\n"
EVAL = "accelerate launch --num_processes 1 scripts/evaluate.py configs/c.yaml\n"


def _trl_tree(tmp_path: Path, script: str) -> Path:
    files = {"configs/c.yaml": LF_SFT, "run.sh": "#!/bin/bash\n" + script}
    files |= {f"scripts/{n}.py": "print(1)\n" for n in ("count_values", "run_copo", "evaluate")}
    return repo(tmp_path, files)


def test_the_line_whose_script_trains_wins_over_a_counter_named_first(tmp_path: Path) -> None:
    w = load_config(_trl_tree(tmp_path, COUNT + TRAIN) / "configs/c.yaml").workload
    assert w.world_size == 4 and w.sources["world_size"].line == 3
    note = " ".join(w.notes) + (w.sources["world_size"].note or "")
    assert "line 2 (count_values.py) of run.sh also names it but runs a script not named as a training run" in note


@pytest.mark.parametrize("script", [TRAIN + COUNT, COUNT + EVAL, COUNT])
def test_a_counter_line_alone_or_after_the_training_line_is_read_as_before(tmp_path: Path, script: str) -> None:
    w = load_config(_trl_tree(tmp_path, script) / "configs/c.yaml").workload
    first = script.splitlines()[0]
    assert w.world_size == int(first.split()[3]) and w.sources["world_size"].line == 2  # an eval line never wins
    assert "not named as a training run" not in " ".join(w.notes) + (w.sources["world_size"].note or "")


ARRAY_JOB = """#!/bin/bash
#SBATCH --nodes=1
#SBATCH --gres=gpu:2
#SBATCH --array=0
BETAS=(0.1)
BETA=${BETAS[$SLURM_ARRAY_TASK_ID]}
llamafactory-cli train configs/c_beta=${BETA}.yaml
"""


def test_a_one_task_array_job_indexes_the_array(tmp_path: Path) -> None:
    # 8a #12 EriChen0615/LLaMA-Factory my_scripts/evqa/train_7B_rag5_answer_dpo_qwen2vl_lora.sh:6,9,16-21
    root = repo(tmp_path, {"configs/c_beta=0.1.yaml": LF_SFT, "run.sh": ARRAY_JOB})
    w = load_config(root / "configs/c_beta=0.1.yaml").workload
    assert (w.nodes, w.gpus_per_node, w.world_size) == (1, 2, 2) and w.sources["world_size"].file.endswith("run.sh")


def test_an_array_job_of_several_tasks_names_no_one_config(tmp_path: Path) -> None:
    text = ARRAY_JOB.replace("--array=0", "--array=0-2").replace("(0.1)", "(0.1 0.3 0.5)")
    lines = parse_launcher(tmp_path / "run.sh", text).lines
    assert "$" in lines[0].tokens[-1] and "0.1" not in lines[0].tokens[-1]  # the task's index is not known


REGISTRY = 'Recipe(name="my_sft", file_path="my_sft.py", configs=[\n    Config(\n        name="my_sft_cfg",\n        file_path="my_sft_cfg.yaml",\n    ),\n])\n'
NOTES = "# My SFT\n\n```bash\ntune run --nnodes 1 --nproc_per_node 2 my_sft --config my_sft_cfg\n```\n"


def test_a_torchtune_fork_runs_its_registered_config_by_name(tmp_path: Path) -> None:
    # 8a #6 ShiZhengyan/torchtune-0.6.1 AGENT_SFT_FEATURES.md:84 over torchtune/_recipe_registry.py:145-151
    root = repo(tmp_path, {"recipes/configs/my_sft_cfg.yaml": TORCHTUNE_DIST, "torchtune/_recipe_registry.py": REGISTRY, "FEATURES.md": NOTES})
    w = load_config(root / "recipes/configs/my_sft_cfg.yaml").workload
    assert w.world_size == 2 and w.sources["world_size"].file.endswith("FEATURES.md") and w.sources["world_size"].line == 4


@pytest.mark.parametrize("registry", ["", REGISTRY.replace('name="my_sft_cfg"', 'name="other_cfg"')])
def test_a_stock_config_name_without_the_repositorys_registry_names_nothing(tmp_path: Path, registry: str) -> None:
    files = {"recipes/configs/my_sft_cfg.yaml": TORCHTUNE_DIST, "FEATURES.md": NOTES}
    root = repo(tmp_path, files | ({"torchtune/_recipe_registry.py": registry} if registry else {}))
    w = load_config(root / "recipes/configs/my_sft_cfg.yaml").workload
    assert not (w.sources["world_size"].file or "").endswith("FEATURES.md")  # the installed torchtune's file, not this one


TXT_RUN = (
    "# GRPO runs\n\nCUDA_VISIBLE_DEVICES=6 trl vllm-serve --model m\n"
    "VERSION=v1 CUDA_VISIBLE_DEVICES=0,1,2,3,4,5 envsubst < configs/c.yaml > temp_config.yaml && "
    "accelerate launch --num_processes=6 train.py --config temp_config.yaml\n"
)


def test_a_txt_file_of_launch_commands_is_read_through_envsubst(tmp_path: Path) -> None:
    # 8b #27 Neelectric/open-r1_olmo training_commands/training_commands_OLMo-2-1124-7B-Instruct.txt:25
    root = repo(tmp_path, {"configs/c.yaml": LF_SFT, "training_commands/commands_olmo.txt": TXT_RUN, "train.py": "print(1)\n"})
    w = load_config(root / "configs/c.yaml").workload
    assert w.world_size == 6 and w.sources["world_size"].file.endswith("commands_olmo.txt") and w.sources["world_size"].line == 4
    assert "line 4 writes (envsubst) configs/c.yaml to temp_config.yaml" in " ".join(w.notes) + (w.sources["world_size"].note or "")


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("training_commands/notes.txt", TXT_RUN),  # not named as a file of commands
        ("training_commands/commands.txt", "Run accelerate launch with configs/c.yaml on 6 GPUs.\n"),  # prose
        ("training_commands/commands.txt", TXT_RUN.replace("envsubst < configs/c.yaml", "envsubst < configs/other.yaml")),
    ],
)
def test_a_txt_file_that_is_no_launch_of_the_config_is_not_read(tmp_path: Path, name: str, text: str) -> None:
    root = repo(tmp_path, {"configs/c.yaml": LF_SFT, name: text, "train.py": "print(1)\n"})
    w = load_config(root / "configs/c.yaml").workload
    assert not (w.sources["world_size"].file or "").endswith(".txt")


HYDRA_MAIN = '@hydra.main(version_base="1.1", config_path="../../recipes", config_name="hydra_default")\ndef main(cfg):\n    pass\n'
HYDRA_RUN = "accelerate launch --num_processes=3 src/pkg/grpo.py +countdown=grpo-3b\n"


def test_a_hydra_group_override_names_the_groups_option_file(tmp_path: Path) -> None:
    # 8b #26 MAOJIASONG/TinyZero-TRL scripts/countdown.sh:3-9 over src/tinyzero_trl/grpo.py:92
    root = repo(tmp_path, {"recipes/countdown/grpo-3b.yaml": LF_SFT, "src/pkg/grpo.py": HYDRA_MAIN, "scripts/run.sh": HYDRA_RUN})
    w = load_config(root / "recipes/countdown/grpo-3b.yaml").workload
    assert w.world_size == 3 and w.sources["world_size"].file.endswith("run.sh")


@pytest.mark.parametrize(
    ("script", "run"),
    [
        ("def main(cfg):\n    pass\n", HYDRA_RUN),  # no @hydra.main: `countdown=...` is the script's own argument
        (HYDRA_MAIN.replace("../../recipes", "../../conf"), HYDRA_RUN),  # its configs live elsewhere
        (HYDRA_MAIN, HYDRA_RUN.replace("+countdown=", "+math=")),  # another group's option of that name
    ],
)
def test_a_hydra_override_that_selects_another_file_names_nothing(tmp_path: Path, script: str, run: str) -> None:
    root = repo(tmp_path, {"recipes/countdown/grpo-3b.yaml": LF_SFT, "src/pkg/grpo.py": script, "scripts/run.sh": run})
    w = load_config(root / "recipes/countdown/grpo-3b.yaml").workload
    assert not (w.sources["world_size"].file or "").endswith("run.sh")


HW_README = "# Fine-tune\n\n**GPU-Used:**\n\n- 1 x A40 (48GB VRAM)\n\n## Run\n\n```\nllamafactory-cli train c.yaml\n```\n"


def test_a_hardware_list_item_in_the_configs_readme_gives_the_count_a_launch_line_leaves_out(tmp_path: Path) -> None:
    # 8a #1 yuvrajsagar17/axolotl-finetune qlora/README.md:13 ("- 1 x A40") over README.md:50 (no count)
    root = repo(tmp_path, {"ft/c.yaml": LF_SFT, "ft/README.md": HW_README})
    w = load_config(root / "ft/c.yaml").workload
    assert w.world_size == 1 and w.sources["world_size"].line == 5 and "1 x A40" in (w.sources["world_size"].key or "")


def test_a_hardware_list_item_does_not_outrank_a_stated_count_and_an_assumed_count_is_said_assumed(tmp_path: Path) -> None:
    from pytest_goblin.formats.semantics import world_size_note

    stated = HW_README.replace("llamafactory-cli train", "NPROC_PER_NODE=2 llamafactory-cli train")
    w = load_config(repo(tmp_path / "a", {"ft/c.yaml": LF_SFT, "ft/README.md": stated}) / "ft/c.yaml").workload
    assert w.world_size == 2 and w.sources["world_size"].line == 10
    bare = HW_README.replace("- 1 x A40 (48GB VRAM)", "We used an A40 for this.")  # no count: the launch line's every visible GPU
    w = load_config(repo(tmp_path / "b", {"ft/c.yaml": LF_SFT, "ft/README.md": bare}) / "ft/c.yaml").workload
    note = world_size_note(w)
    assert note.startswith(f"on {w.world_size} GPUs (assumed: {w.gpus_per_node} GPUs per node, every visible GPU; ")
    assert "README.md line 10 states no GPU count" in note
