"""Framework pins in two places real repositories keep them (frameworks/pins.py): a conda export kept as a sub-project's
requirements.txt (`trl=0.16.0=pypi_0`), and an install script the README or a launch script runs (`bash
requirements_MI300.sh`, `./install.sh`, `bash ../tools/install.sh`)."""

from __future__ import annotations

import json
from pathlib import Path

from pytest_goblin.formats.record import parse_record
from pytest_goblin.frameworks import pins as P

from .test_pins_sources import HF, repo

EXPORT = (
    "# This file may be used to create an environment using:\n# $ conda create --name <env> --file <this file>\n# platform: linux-64\n"
    "_libgcc_mutex=0.1=main\nopenssl=1.1.1w=h7f8727e_0\npython=3.10.16=he870216_1\ntorch=2.6.0=pypi_0\n"
    "transformers=4.50.3=pypi_0\ntrl=0.16.0=pypi_0\n"
)
SETUP = "from setuptools import setup\n\nsetup(name='x', install_requires=['trl==0.12.0', 'transformers>=4.40'])\n"


def test_a_conda_export_in_the_config_s_sub_project_pins_exactly_over_the_root_s_setup_py(tmp_path: Path) -> None:
    cfg = repo(tmp_path, {"setup.py": SETUP, "grpo/requirements.txt": EXPORT}, "grpo/configs/grpo.yaml")
    got = P.pins(str(cfg))
    assert (got["trl"].version, got["trl"].constraint, got["trl"].where) == ("0.16.0", "==0.16.0", "grpo/requirements.txt:9")
    assert got["trl"].spec == "trl=0.16.0=pypi_0 (conda export)" and got["trl"].exact
    assert (got["transformers"].version, got["transformers"].where) == ("4.50.3", "grpo/requirements.txt:8")
    torch = P.exact_pins(str(cfg), HF)["torch"]
    assert (torch.version, torch.constraint, torch.line) == ("2.6.0", "==2.6.0", 7)
    record, ok = parse_record(cfg)
    assert ok and "None" not in json.dumps(record["framework_version"])
    # a conda export of another name is one by its content
    other = repo(tmp_path, {"grpo/conda_packages.txt": EXPORT}, "grpo/grpo.yaml")
    assert P.pins(str(other))["trl"].where == "grpo/conda_packages.txt:9"


def test_a_conda_export_of_another_sub_project_or_a_line_of_another_form_is_not_read(tmp_path: Path) -> None:
    # must not: the export sits in a sibling sub-project's folder, not on the config's path: the root's setup.py pins
    cfg = repo(tmp_path, {"setup.py": SETUP, "inference/requirements.txt": EXPORT}, "grpo/configs/grpo.yaml")
    got = P.pins(str(cfg))
    assert (got["trl"].version, got["trl"].where) == ("0.12.0", "setup.py:3") and got["transformers"].constraint == ">=4.40"
    assert "torch" not in P.exact_pins(str(cfg), HF)
    # a `.txt` of another name mixing prose with such lines is no export; a conda match spec `trl=0.16` is no exact build
    prose = repo(tmp_path, {"grpo/notes.txt": "we used trl=0.16.0=pypi_0 here\nand more\n"}, "grpo/grpo.yaml")
    assert "trl" not in P.pins(str(prose))
    assert P._conda_export("trl=0.16\ntrl==0.16.0\n", "r.txt", "r.txt") == []


INSTALL = 'pip install transformers==4.55.0\npip install "trl==0.21.0" peft==0.17.0\n'


def test_an_install_script_the_readme_or_the_launch_script_runs_pins(tmp_path: Path) -> None:
    readme = "# Fine-tuning on MI300X\n\n```bash\nbash requirements_MI300.sh\n```\n"
    cfg = repo(tmp_path, {"README.md": readme, "requirements_MI300.sh": INSTALL}, "recipes/sft.yaml")
    got = P.pins(str(cfg))
    assert (got["transformers"].version, got["transformers"].where) == ("4.55.0", "requirements_MI300.sh:1")
    assert (got["trl"].version, got["trl"].where) == ("0.21.0", "requirements_MI300.sh:2")
    # a launch script beside the config runs an install script in another folder of the repository
    launch = "#!/bin/bash\nbash ../tools/install.sh\naccelerate launch train.py --config sft.yaml\n"
    cfg = repo(tmp_path, {"recipes/train.sh": launch, "tools/install.sh": INSTALL}, "recipes/sft.yaml")
    pin = P.pins(str(cfg))["trl"]
    assert (pin.version, pin.where, pin.line) == ("0.21.0", "tools/install.sh:2, named by recipes/train.sh:2", 2)
    # ... run as `./setup_env.sh`, and a sub-folder README naming `../scripts/setup_env.sh`
    cfg = repo(tmp_path, {"recipes/train.sh": "./setup_env.sh\n", "recipes/setup_env.sh": INSTALL}, "recipes/sft.yaml")
    assert P.pins(str(cfg))["trl"].where == "recipes/setup_env.sh:2"
    sub = "# SFT\n\n```\nbash ../scripts/setup_env.sh\n```\n"
    cfg = repo(tmp_path, {"recipes/README.md": sub, "scripts/setup_env.sh": INSTALL}, "recipes/sft.yaml")
    assert P.pins(str(cfg))["transformers"].where == "scripts/setup_env.sh:1, named by recipes/README.md:4"


def test_an_install_script_for_an_inference_server_or_outside_the_repository_is_not_read(tmp_path: Path) -> None:
    readme = "# Serve it\n\n```bash\nbash install_vllm_server.sh\n```\n"
    cfg = repo(tmp_path, {"README.md": readme, "install_vllm_server.sh": INSTALL}, "recipes/sft.yaml")
    assert P.pins(str(cfg)) == {}
    # a path leaving the repository, and a script in another folder nothing runs
    (tmp_path / "outside.sh").write_text(INSTALL)
    launch = "bash ../../outside.sh\n"
    cfg = repo(tmp_path, {"recipes/train.sh": launch, "env/setup_env.sh": INSTALL}, "recipes/sft.yaml")
    assert P.pins(str(cfg)) == {}
