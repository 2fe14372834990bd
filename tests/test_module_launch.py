"""`-m pkg.mod` launches of the repository's own scripts (issue 23): python -m, torchrun -m/--module, accelerate
launch -m and deepspeed --module run `pkg/mod.py`, a package's `pkg/mod/__main__.py`, or either under `src/` (the
src layout an editable install puts on the path). A module the repository does not hold is no launch of its files."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.formats import launchers, load_config

from .repo_files import repo
from .test_launch_search import AXOLOTL_FSDP, SCRIPT
from .test_topology import topo

# ise-uiuc/magicoder 3ef43f0 README-DEV.md:64-83 (review6b row 33), cut down: src/magicoder/train.py run as a module
README = (
    "# Dev\n\n```bash\naccelerate launch --num_processes 4 -m magicoder.train \\\n  --bf16 True \\\n"
    "  --per_device_train_batch_size 2 \\\n  --gradient_accumulation_steps 128\n```\n"
)


def test_a_src_layout_module_launch_passes_its_flags_to_the_script(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {"README-DEV.md": README, "pyproject.toml": "[project]\nname='magicoder'\n", "src/magicoder/__init__.py": "", "src/magicoder/train.py": SCRIPT},
    )
    script = root / "src/magicoder/train.py"
    launch = launchers.find_script_launch(script)
    assert launch is not None and launch.where() == "README-DEV.md line 4"
    w = load_config(script).workload
    assert (w.micro_batch_size, w.gradient_accumulation, w.precision) == (2, 128, "bf16")
    assert topo(w) == (4, 1, 4)


def test_a_package_main_module_is_the_file_python_m_runs(tmp_path: Path) -> None:
    files = {"run.sh": "torchrun --nproc_per_node 2 -m trainer --per_device_train_batch_size 3\n", "trainer/__init__.py": "", "trainer/__main__.py": SCRIPT}
    root = repo(tmp_path, files)
    w = load_config(root / "trainer/__main__.py").workload
    assert topo(w) == (2, 1, 2) and w.micro_batch_size == 3


def test_a_module_the_repository_does_not_hold_names_none_of_its_files(tmp_path: Path) -> None:
    # `-m magicoder.train` beside a src/other/train.py: not this file; a framework module stays the config's launch
    files = {
        "README.md": README,
        "src/other/train.py": SCRIPT,
        "lib/magicoder/train.py": SCRIPT,
        "configs/sft.yaml": AXOLOTL_FSDP,
        "run.sh": "accelerate launch --num_processes 8 -m axolotl.cli.train configs/sft.yaml\n",
    }
    root = repo(tmp_path, files)
    assert launchers.find_script_launch(root / "src/other/train.py") is None
    assert launchers.find_script_launch(root / "lib/magicoder/train.py") is None
    launch = launchers.find_launch(root / "configs/sft.yaml")
    assert launch is not None and launch.where() == "run.sh line 1"
    assert topo(load_config(root / "configs/sft.yaml").workload) == (8, 1, 8)


def test_a_hyphenated_module_name_runs_the_file_of_that_name(tmp_path: Path) -> None:
    # Scicom small-ablation a664148 malaysian-sft/ds3-llama3.1-70b-lora-256.sh:4-5 (review12b row 26), cut down:
    # `torchrun -m lora-llama3` run from the script's folder runs lora-llama3.py (Python 3.11.7 `python -m lora-llama3`)
    files = {
        "sft/run.sh": "torchrun --nproc_per_node 8 \\\n-m lora-llama3 \\\n--per_device_train_batch_size 1 \\\n--gradient_accumulation_steps 4\n",
        "sft/lora-llama3.py": SCRIPT,
    }
    root = repo(tmp_path, files)
    launch = launchers.find_script_launch(root / "sft/lora-llama3.py")
    assert launch is not None and launch.where() == "sft/run.sh line 1"
    w = load_config(root / "sft/lora-llama3.py").workload
    assert (w.micro_batch_size, w.gradient_accumulation) == (1, 4)
    assert topo(w) == (8, 1, 8)


def test_a_hyphenated_module_does_not_run_a_file_of_another_name(tmp_path: Path) -> None:
    # `-m lora-llama3` names lora-llama3.py only: neither lora_llama3.py nor a hyphenated word that is no module
    files = {
        "sft/run.sh": "torchrun --nproc_per_node 8 -m lora-llama3 --per_device_train_batch_size 1\npython -m -lora --x 1\n",
        "sft/lora_llama3.py": SCRIPT,
        "sft/-lora.py": SCRIPT,
    }
    root = repo(tmp_path, files)
    assert launchers.find_script_launch(root / "sft/lora_llama3.py") is None
    assert launchers.find_script_launch(root / "sft/-lora.py") is None
