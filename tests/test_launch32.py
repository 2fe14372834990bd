"""Launcher reading leftovers of blind review 12 (launch32): a bare launcher line of a multi-node batch script
runs on the batch host only (review12b #34), a launched script named by an absolute path from the author's
machine (review12b #35)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin import blockers
from pytest_goblin.formats import load_config
from pytest_goblin.frameworks import pins
from pytest_goblin.hardware import get_hardware

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


SCRIPT = (
    "from dataclasses import dataclass, field\nfrom transformers import AutoModelForCausalLM, HfArgumentParser, TrainingArguments\n"
    "@dataclass\nclass ScriptArguments:\n    model_name: str = field(default='meta-llama/Meta-Llama-3-70B-Instruct')\n"
    "    config: str = field(default='')\n"
    "parser = HfArgumentParser((ScriptArguments, TrainingArguments))\nscript_args, training_args = parser.parse_yaml_file('x.yaml')\n"
    "model = AutoModelForCausalLM.from_pretrained(script_args.model_name)\n"
)
HF = "per_device_train_batch_size: 1\ngradient_accumulation_steps: 1\nbf16: true\noutput_dir: out\n"


def test_launched_script_named_by_the_authors_checkout_path_is_read(tmp_path: Path) -> None:
    # review12b #35 llm_decisions shell_scripts/train_all_agents.sh:33-35,70: script and config under /playpen-ssd/...
    job = "accelerate launch --num_processes 8 /playpen-ssd/me/proj/train_agent.py --config /playpen-ssd/me/proj/configs/big.yaml\n"
    root = repo(tmp_path, {"configs/big.yaml": HF, "train_agent.py": SCRIPT, "shell_scripts/train.sh": job})
    w = load_config(root / "configs/big.yaml").workload
    assert w.model.name == "meta-llama/Meta-Llama-3-70B-Instruct"
    assert "(a path on another machine) is read as train_agent.py" in " ".join(w.notes)


def test_launched_script_outside_the_authors_checkout_is_not_read(tmp_path: Path) -> None:
    # the premise does not hold: the script's path is not under the checkout the config's path gives
    job = "accelerate launch --num_processes 8 /opt/other/train_agent.py --config /playpen-ssd/me/proj/configs/big.yaml\n"
    root = repo(tmp_path, {"configs/big.yaml": HF, "train_agent.py": SCRIPT, "shell_scripts/train.sh": job})
    w = load_config(root / "configs/big.yaml").workload
    assert w.model.name != "meta-llama/Meta-Llama-3-70B-Instruct"
    assert "a path on another machine" not in " ".join(w.notes)


TRAIN_PY = (
    "from transformers import AutoModelForCausalLM, Trainer, TrainingArguments\n"
    "model = AutoModelForCausalLM.from_pretrained('meta-llama/Meta-Llama-3-8B')\n"
    "args = TrainingArguments(output_dir='out', per_device_train_batch_size=2, bf16=True)\n"
    "Trainer(model=model, args=args).train()\n"
)


@pytest.mark.parametrize(("script_word", "world"), [("/home/me/proj/train.py", 4), ("/opt/elsewhere/train.py", None)])
def test_python_script_run_under_the_authors_checkout_path_takes_the_line(tmp_path: Path, script_word: str, world: int | None) -> None:
    # a root-level training script named by an absolute path: the config word of the same line gives the checkout
    job = f"torchrun --nproc_per_node 4 {script_word} --deepspeed /home/me/proj/configs/ds.json\n"
    root = repo(tmp_path, {"train.py": TRAIN_PY, "configs/ds.json": '{"zero_optimization": {"stage": 2}}\n', "run.sh": job})
    w = load_config(root / "train.py").workload
    if world is None:
        assert "run.sh" not in str(w.sources.get("world_size"))
    else:
        assert w.world_size == world and "run.sh" in str(w.sources["world_size"].file)


LF_YAML = (
    "model_name_or_path: Qwen/Qwen2.5-7B-Instruct\nstage: sft\ndo_train: true\nfinetuning_type: lora\n"
    "dataset: alpaca_en_demo\ntemplate: qwen\ncutoff_len: 2048\noutput_dir: saves/x\n"
    "per_device_train_batch_size: 1\ngradient_accumulation_steps: 8\nlearning_rate: 1.0e-4\nbf16: true\n"
)
LF_README = "# LLaMA Factory\n\n## Installation\n\n```bash\npip install torch==2.6.0 --index-url https://download.pytorch.org/whl/cu126\n```\n"


def _cuda_index(config: Path) -> list[str]:
    found = blockers.findings(load_config(config), get_hardware("mi300x"))
    return [f.message for f in found if f.rule_id == "blocker.torch_from_cuda_index"]


def test_vendored_framework_readme_install_line_is_not_the_repositorys(tmp_path: Path) -> None:
    # review12a #12 InternSVG: LLaMA-Factory/README.md:555's CUDA index is LLaMA-Factory's install text
    root = repo(
        tmp_path,
        {
            "LLaMA-Factory/src/llamafactory/extras/env.py": 'VERSION = "0.9.4.dev0"\n',
            "LLaMA-Factory/README.md": LF_README,
            "LLaMA-Factory/requirements.txt": "torch==2.6.0\n",
            "LLaMA-Factory/examples/train_full/stage_1.yaml": LF_YAML,
        },
    )
    config = root / "LLaMA-Factory" / "examples" / "train_full" / "stage_1.yaml"
    assert _cuda_index(config) == []
    # the copy's package requirements still count: installing it installs them
    torch = pins.exact_pins(str(config), LF_YAML)["torch"]
    assert torch.version == "2.6.0" and "LLaMA-Factory/requirements.txt" in torch.where


def test_must_not_fire_install_line_outside_a_vendored_copy(tmp_path: Path) -> None:
    # the repository's own README (no framework copy around it) is the repository's install line
    root = repo(tmp_path, {"README.md": LF_README, "examples/train_full/stage_1.yaml": LF_YAML})
    (msg,) = _cuda_index(root / "examples" / "train_full" / "stage_1.yaml")
    assert "cu126" in msg and "README.md" in msg
    # a README of the repository above the vendored copy is the repository's too
    outer = repo(
        tmp_path / "outer",
        {
            "README.md": LF_README,
            "LLaMA-Factory/src/llamafactory/extras/env.py": 'VERSION = "0.9.4.dev0"\n',
            "LLaMA-Factory/examples/train_full/stage_1.yaml": LF_YAML,
        },
    )
    (msg,) = _cuda_index(outer / "LLaMA-Factory" / "examples" / "train_full" / "stage_1.yaml")
    assert "cu126" in msg


TUNE = "output_dir: /tmp/out\nbatch_size: 2\ngradient_accumulation_steps: 1\noptimizer:\n  _component_: torch.optim.AdamW\n  lr: 2.0e-5\nmodel:\n  _component_: torchtune.models.llama3_1.llama3_1_8b\n"


def test_a_cuda_variant_dropped_for_the_rocm_one_is_said(tmp_path: Path) -> None:
    # review12a #8/#9 milabench benchmarks/llm: requirements.cuda.txt and .hpu.txt beside requirements.rocm.txt
    root = repo(
        tmp_path,
        {
            "bench/configs/sft.yaml": TUNE,
            "bench/requirements.rocm.txt": "torchtune==0.5.0\n",
            "bench/requirements.cuda.txt": "torchtune==0.4.0\n",
            "bench/requirements.hpu.txt": "torchtune==0.4.0\n",
        },
    )
    w = load_config(root / "bench" / "configs" / "sft.yaml").workload
    (note,) = [n for n in w.notes if "variant" in n]
    assert "requirements.cuda.txt, requirements.hpu.txt (bench) not read" in note and "(requirements.rocm.txt)" in note
    assert w.sources["framework"].key == "torchtune==0.5.0" and (w.sources["framework"].file or "").endswith("requirements.rocm.txt")


def test_must_not_say_a_variant_dropped_without_a_rocm_one(tmp_path: Path) -> None:
    # the premise does not hold: no ROCm variant, so the CUDA file is what the repository runs, and it is read
    root = repo(tmp_path, {"bench/configs/sft.yaml": TUNE, "bench/requirements.cuda.txt": "torchtune==0.4.0\n"})
    w = load_config(root / "bench" / "configs" / "sft.yaml").workload
    assert not [n for n in w.notes if "variant" in n]
    assert w.sources["framework"].key == "torchtune==0.4.0" and (w.sources["framework"].file or "").endswith("requirements.cuda.txt")


def test_deepspeed_with_a_hostfile_starts_its_hosts_itself(tmp_path: Path) -> None:
    # the premise does not hold: deepspeed's runner reaches the hostfile's other hosts over pdsh, no srun needed
    job = SBATCH + "deepspeed --hostfile $HOSTFILE --num_gpus 8 train.py --config sft.yaml\n"
    root = repo(tmp_path, {"sft.yaml": TRL, "train.py": "print(1)\n", "job.sh": job})
    w = load_config(root / "sft.yaml").workload
    assert w.nodes == 2 and "not started by srun" not in " ".join(w.notes)


def test_script_run_reads_a_root_level_script_under_the_authors_checkout(tmp_path: Path) -> None:
    from pytest_goblin.formats.launch_forms import script_run
    from pytest_goblin.formats.launcher_text import Line

    root = repo(tmp_path, {"configs/big.yaml": HF, "train_agent.py": SCRIPT})
    words = ("accelerate", "launch", "/playpen-ssd/me/proj/train_agent.py", "--config", "/playpen-ssd/me/proj/configs/big.yaml")
    assert script_run(Line(line=1, tokens=words, env=()), root, root) == str(root / "train_agent.py")
    # no other word gives the checkout: the name alone reads nothing
    assert script_run(Line(line=1, tokens=words[:3], env=()), root, root) == ""
