"""Which launch line runs a config, from an expert review of real repositories (topo19b): an absolute path of the
author's machine matched by its tail, an NPU block set aside for the GPU one, an online-RL split within a stated total."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.formats import load_config

from .repo_files import repo
from .test_rollout import BIG
from .test_topology import TRL, topo

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


# ------------------------------------------------------------------ an online-RL README's total holds the vLLM server
GRPO_SERVER = "# GRPOTrainer\n" + BIG.replace("vllm_mode: colocate", "vllm_mode: server")


def _rl_repo(tmp_path: Path, readme: str, config: str = GRPO_SERVER) -> Path:
    return repo(tmp_path, {"grpo.yaml": config, "train_grpo.py": "from trl import GRPOTrainer\n", "README.md": readme})


TOTAL_2 = (
    "# GRPO\n\n## Hardware\n\nWe train on 2 x A800.\n\n## Training\n\n```bash\n"
    "CUDA_VISIBLE_DEVICES=1 trl vllm-serve --model Qwen/Qwen2.5-7B-Instruct &\naccelerate launch train_grpo.py --config grpo.yaml\n```\n"
)


def test_a_readme_total_with_the_server_on_one_of_its_gpus_leaves_the_rest_to_training(tmp_path: Path) -> None:
    w = load_config(_rl_repo(tmp_path, TOTAL_2) / "grpo.yaml").workload
    assert topo(w) == (1, 1, 1)
    assert "starts the vLLM server on GPU 1 of the 2" in w.sources["world_size"].note


def test_a_readme_that_splits_its_total_is_read_at_its_training_share(tmp_path: Path) -> None:
    readme = (
        "# GRPO\n\nHardware: 4 x A40: 3 for training, 1 for vLLM.\n\n```bash\n"
        "trl vllm-serve --model Qwen/Qwen2.5-7B-Instruct &\naccelerate launch train_grpo.py --config grpo.yaml\n```\n"
    )
    w = load_config(_rl_repo(tmp_path, readme) / "grpo.yaml").workload
    assert topo(w) == (3, 1, 3) and "`3 for training` of the 4" in w.sources["world_size"].note


def test_a_readme_total_is_kept_when_vllm_is_colocated_or_the_server_is_outside_it(tmp_path: Path) -> None:
    colocated = GRPO_SERVER.replace("vllm_mode: server", "vllm_mode: colocate")
    assert topo(load_config(_rl_repo(tmp_path / "a", TOTAL_2, colocated) / "grpo.yaml").workload)[0] == 2
    outside = TOTAL_2.replace("CUDA_VISIBLE_DEVICES=1 trl", "CUDA_VISIBLE_DEVICES=2 trl")
    assert topo(load_config(_rl_repo(tmp_path / "b", outside) / "grpo.yaml").workload)[0] == 2


# ------------------------------------------------------------------ a README block for Ascend NPUs is not the GPU launch
NPU_BLOCK = "## Ascend NPU\n\n```bash\nASCEND_RT_VISIBLE_DEVICES=0,1,2,3 torchrun --nproc_per_node 4 sft.py --config cfg.yaml --tf32 False\n```\n\n"
GPU_BLOCK = "## GPU\n\n```bash\nCUDA_VISIBLE_DEVICES=0,1 torchrun --nproc_per_node 2 sft.py --config cfg.yaml --tf32 True\n```\n"


def _npu_repo(tmp_path: Path, readme: str) -> Path:
    return repo(tmp_path, {"cfg.yaml": TRL, "sft.py": "from trl import TrlParser\n", "README.md": "# Train\n\n" + readme})


def test_the_gpu_block_wins_over_an_npu_block_before_it_and_its_flags_are_read(tmp_path: Path) -> None:
    from pytest_goblin.blockers import launch_config_flags

    root = _npu_repo(tmp_path, NPU_BLOCK + GPU_BLOCK)
    loaded = load_config(root / "cfg.yaml")
    w = loaded.workload
    assert topo(w) == (2, 1, 2) and w.sources["world_size"].line == 12
    assert any("a README block for Ascend NPUs also names cfg.yaml" in n for n in w.notes)
    assert launch_config_flags(loaded)["tf32"][0] is True


def test_an_npu_block_is_told_by_its_heading_torch_npu_or_device_npu(tmp_path: Path) -> None:
    for i, block in enumerate(
        (
            "## 昇腾 NPU 训练\n\n```bash\ntorchrun --nproc_per_node 8 sft.py --config cfg.yaml\n```\n\n",
            "## Run\n\n```bash\npython -c 'import torch_npu'\ntorchrun --nproc_per_node 8 sft.py --config cfg.yaml\n```\n\n",
            "## Run\n\n```bash\ntorchrun --nproc_per_node 8 sft.py --config cfg.yaml --device npu\n```\n\n",
        )
    ):
        w = load_config(_npu_repo(tmp_path / str(i), block + GPU_BLOCK) / "cfg.yaml").workload
        assert topo(w) == (2, 1, 2), block


def test_only_an_npu_block_is_said_an_npu_recipe_with_its_topology_assumed(tmp_path: Path) -> None:
    w = load_config(_npu_repo(tmp_path, NPU_BLOCK) / "cfg.yaml").workload
    assert not w.sources["world_size"].explicit and w.world_size == 1
    assert any("an Ascend NPU recipe" in n and "README.md line 6" in n for n in w.notes)


def test_a_gpu_block_alone_is_read_as_before_and_says_nothing_of_npus(tmp_path: Path) -> None:
    w = load_config(_npu_repo(tmp_path, "## Training on GPUs (not NPU)\n\n" + GPU_BLOCK) / "cfg.yaml").workload
    assert topo(w) == (2, 1, 2) and not any("NPU" in n for n in w.notes)


def test_a_launch_line_that_states_its_training_count_keeps_it_beside_the_server(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {
            "grpo.yaml": GRPO_SERVER,
            "train_grpo.py": "from trl import GRPOTrainer\n",
            "README.md": "Runs on 4 x A40.\n",
            "run.sh": "CUDA_VISIBLE_DEVICES=3 trl vllm-serve --model Qwen/Qwen2.5-7B-Instruct &\n"
            "CUDA_VISIBLE_DEVICES=0,1,2 accelerate launch --num_processes 3 train_grpo.py --config grpo.yaml\n",
        },
    )
    w = load_config(root / "grpo.yaml").workload
    assert topo(w) == (3, 1, 3) and w.sources["world_size"].file.endswith("run.sh")
    assert "the rest serve vLLM" not in w.sources["world_size"].note
