"""The exact pins the blockers read (torch, bitsandbytes, vllm) come from the same places as the framework's version,
the package of the script the launch line runs on the config included (pins._launched_pins(exact=True); review6b
class 8: a torch blocker reading other pin files than the version it names)."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin import blockers
from pytest_goblin.formats import load_config
from pytest_goblin.frameworks.pins import exact_pins, pins
from pytest_goblin.hardware import get_hardware

from .repo_files import write_tree
from .test_launched_yaml import RECIPE, TRAIN

PACKAGE = '[project]\nname = "trainer"\nversion = "0.1"\ndependencies = [\n  "transformers==4.38.2",\n  "torch==2.0.1",\n]\n'


def _tree(tmp_path: Path, launched: bool) -> Path:
    other = "elsewhere/other.yaml"  # a folder of its own: not a sibling whose script llama.yaml would be read through
    files = {
        "src/trainer/train.py": TRAIN,
        "src/trainer/pyproject.toml": PACKAGE,
        "configs/llama.yaml": RECIPE,
        other: RECIPE,
        "run.sh": f"torchrun --nproc_per_node=4 src/trainer/train.py --train_args_file {'configs/llama.yaml' if launched else other}\n",
    }
    return write_tree(tmp_path, files, git=True) / "configs" / "llama.yaml"


def test_the_launched_scripts_package_pins_torch_for_the_blocker(tmp_path: Path) -> None:
    config = _tree(tmp_path, launched=True)
    text = config.read_text()
    assert pins(str(config), text)["transformers"].where.startswith("src/trainer/pyproject.toml:5")
    torch = exact_pins(str(config), text)["torch"]
    assert torch.spec == "torch==2.0.1" and torch.where.startswith("src/trainer/pyproject.toml:6") and "run.sh" in torch.where
    got = [f for f in blockers.findings(load_config(config), get_hardware("mi300x")) if f.rule_id == "blocker.torch_without_rocm_build"]
    assert len(got) == 1 and "src/trainer/pyproject.toml:6" in got[0].message and "None" not in got[0].message


def test_a_package_no_launch_line_runs_on_the_config_pins_nothing(tmp_path: Path) -> None:
    config = _tree(tmp_path, launched=False)
    text = config.read_text()
    assert "torch" not in exact_pins(str(config), text) and "transformers" not in pins(str(config), text)
    assert not [f for f in blockers.findings(load_config(config), get_hardware("mi300x")) if f.rule_id == "blocker.torch_without_rocm_build"]
