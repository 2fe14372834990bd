"""Where a framework's version is read from in a config's repository (frameworks/pins.py): each
place with its file and line, the precedence between them, and hostile trees that cost nothing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pytest_goblin.formats import load_config
from pytest_goblin.formats.record import parse_record
from pytest_goblin.frameworks import history as h
from pytest_goblin.frameworks import pins as P
from pytest_goblin.frameworks.history import reading

from .repo_files import fresh_root, write_tree

HF = "model_name_or_path: meta-llama/Meta-Llama-3-8B\nper_device_train_batch_size: 4\ngradient_accumulation_steps: 4\nbf16: true\nlearning_rate: 1.0e-5\n"
AXO = "base_model: meta-llama/Meta-Llama-3-8B\nsequence_len: 2048\nmicro_batch_size: 2\ngradient_accumulation_steps: 4\nbf16: true\nlearning_rate: 0.0002\n"


def repo(tmp_path: Path, files: dict[str, str | bytes], config: str = "recipes/sft/config.yaml", text: str = HF) -> Path:
    """A repository (a `.git` folder at its root) with `files` and a config; returns the config's path."""
    return write_tree(fresh_root(tmp_path), {**files, config: text}, git=True) / config  # a root per call: pins are cached per folder


def one(path: Path, dist: str, text: str | None = None) -> P.Pin:
    return P.pins(str(path), text)[dist]


@pytest.mark.parametrize(
    ("files", "dist", "version", "where", "constraint"),
    [
        ({"environment.yml": "name: x\ndependencies:\n  - python=3.10\n  - pip:\n    - peft==0.11.1\n"}, "peft", "0.11.1", "environment.yml:5", "==0.11.1"),
        ({"environment.yaml": "dependencies:\n  - conda-forge::transformers=4.45\n"}, "transformers", "4.45", "environment.yaml:2", "==4.45.*"),
        ({"environment.yml": "dependencies:\n  - deepspeed=0.14.4\n"}, "deepspeed", "0.14.4", "environment.yml:2", "==0.14.4"),
        ({"requirements/train.txt": "# train\naccelerate==0.34.2\n"}, "accelerate", "0.34.2", "requirements/train.txt:2", "==0.34.2"),
        ({"requirements-gpu.txt": "torch\ntorchtune==0.2.1\n"}, "torchtune", "0.2.1", "requirements-gpu.txt:2", "==0.2.1"),
        ({"requirements.txt": "llmtuner==0.7.1\n"}, "llamafactory", "0.7.1", "requirements.txt:1", "==0.7.1"),
        ({"requirements.txt": "axolotl[flash-attn,deepspeed]==0.4.1\n"}, "axolotl", "0.4.1", "requirements.txt:1", "==0.4.1"),
        ({"requirements.txt": "git+https://github.com/huggingface/trl.git@v0.8.6\n"}, "trl", "0.8.6", "requirements.txt:1", "==0.8.6"),
        ({"Pipfile": '[packages]\ntorch = "*"\ntransformers = "==4.36.2"\n'}, "transformers", "4.36.2", "Pipfile:3", "==4.36.2"),
        ({"Pipfile": '[packages]\npeft = {version = ">=0.10", extras = ["x"]}\n'}, "peft", "0.10", "Pipfile:2", ">=0.10"),
        ({"pyproject.toml": '[tool.poetry.dependencies]\ntransformers = "^4.40.1"\n'}, "transformers", "4.40.1", "pyproject.toml:2", ">=4.40.1,<5.0"),
        ({"pyproject.toml": '[tool.poetry.dependencies]\ntrl = "~0.9.4"\n'}, "trl", "0.9.4", "pyproject.toml:2", ">=0.9.4,<0.10"),
        (
            {"Dockerfile": "FROM rocm/pytorch:latest\nRUN pip install --no-cache-dir \\\n    transformers==4.44.2 \\\n    peft\n"},
            "transformers",
            "4.44.2",
            "Dockerfile:3",
            "==4.44.2",
        ),
        (
            {
                "Dockerfile.rocm": "ARG AXOLOTL_VERSION=0.9.2\nARG TF=4.46.3\nFROM axolotlai/axolotl:${AXOLOTL_VERSION}-py3.11-cu124-2.5.1\nRUN pip install transformers==$TF\n"
            },
            "axolotl",
            "0.9.2",
            "Dockerfile.rocm:3",
            "==0.9.2",
        ),
        ({"Dockerfile": "ENV TF_VERSION 4.46.3\nRUN pip install transformers==${TF_VERSION}\n"}, "transformers", "4.46.3", "Dockerfile:2", "==4.46.3"),
        ({"Dockerfile": "FROM docker.io/winglian/axolotl-cloud:0.6.0-py3.11-cu124-2.4.1 AS base\n"}, "axolotl", "0.6.0", "Dockerfile:1", "==0.6.0"),
        ({"docker/train.Dockerfile": "FROM axolotlai/axolotl:0.12.2-py3.11-cu128-2.8.0\n"}, "axolotl", "0.12.2", "docker/train.Dockerfile:1", "==0.12.2"),
        (
            {"README.md": "# Recipe\n\nTested with transformers 4.30 in prose.\n\n```bash\npip install transformers==4.45.2 trl==0.11.4\n```\n"},
            "transformers",
            "4.45.2",
            "README.md:6",
            "==4.45.2",
        ),
        (
            {"uv.lock": '[[package]]\nname = "trl"\nversion = "0.12.2"\nsource = { registry = "https://pypi.org/simple" }\n'},
            "trl",
            "0.12.2",
            "uv.lock:3",
            "==0.12.2",
        ),
        ({"poetry.lock": '[[package]]\nname = "peft"\nversion = "0.13.2"\n'}, "peft", "0.13.2", "poetry.lock:3", "==0.13.2"),
        (
            {"Pipfile.lock": '{\n "default": {\n  "accelerate": {\n   "hashes": [\n    "sha256:ab"\n   ],\n   "version": "==0.34.2"\n  }\n }\n}\n'},
            "accelerate",
            "0.34.2",
            "Pipfile.lock:7",
            "==0.34.2",
        ),
        (
            {"README.md": "Set up:\n\n    $ git clone -b v0.8.3 https://github.com/hiyouga/LLaMA-Factory.git\n"},
            "llamafactory",
            "0.8.3",
            "README.md:3",
            "==0.8.3",
        ),
    ],
)
def test_each_place_gives_its_file_and_line(tmp_path: Path, files: dict[str, str | bytes], dist: str, version: str, where: str, constraint: str) -> None:
    pin = one(repo(tmp_path, files), dist)
    assert (pin.version, pin.where, pin.constraint) == (version, where, constraint)
    assert pin.dist == dist and pin.kind == "pin" and pin.file.endswith(where.rsplit(":", 1)[0]) and pin.line == int(where.rsplit(":", 1)[1])


@pytest.mark.parametrize(
    ("files", "dist", "version", "where"),
    [
        (
            {"LLaMA-Factory/src/llamafactory/extras/env.py": 'import os\n\nVERSION = "0.9.2"\n'},
            "llamafactory",
            "0.9.2",
            "LLaMA-Factory/src/llamafactory/extras/env.py:3",
        ),
        (
            {"third_party/llama_factory/src/llmtuner/__init__.py": '__version__ = "0.7.1"\n'},
            "llamafactory",
            "0.7.1",
            "third_party/llama_factory/src/llmtuner/__init__.py:1",
        ),
        ({"axolotl/VERSION": "0.6.0\n", "axolotl/src/axolotl/cli/__init__.py": ""}, "axolotl", "0.6.0", "axolotl/VERSION:1"),
        (
            {"torchtune/version.txt": "0.2.1\n", "torchtune/torchtune/modules/__init__.py": "", "torchtune/torchtune/__init__.py": '__version__ = ""\n'},
            "torchtune",
            "0.2.1",
            "torchtune/version.txt:1",
        ),
        (
            {"transformers/src/transformers/__init__.py": '"""x"""\n__version__ = "4.45.2"\n', "transformers/src/transformers/training_args.py": ""},
            "transformers",
            "4.45.2",
            "transformers/src/transformers/__init__.py:2",
        ),
        ({"vendor/trl/VERSION": "0.12.2\n", "vendor/trl/trl/trainer/__init__.py": ""}, "trl", "0.12.2", "vendor/trl/VERSION:1"),
        ({"DeepSpeed/version.txt": "0.14.4\n", "DeepSpeed/deepspeed/runtime/engine.py": ""}, "deepspeed", "0.14.4", "DeepSpeed/version.txt:1"),
    ],
)
def test_a_vendored_copy_gives_its_own_version(tmp_path: Path, files: dict[str, str | bytes], dist: str, version: str, where: str) -> None:
    pin = one(repo(tmp_path, files), dist)
    assert pin.kind == "vendored" and pin.version == version and pin.where == f"a vendored copy, {where}" and pin.exact


def test_a_submodule_not_checked_out_is_vendored_at_an_unknown_version(tmp_path: Path) -> None:
    gm = '[submodule "LLaMA-Factory"]\n\tpath = LLaMA-Factory\n\turl = https://github.com/hiyouga/LLaMA-Factory.git\n'
    path = repo(tmp_path, {".gitmodules": gm, "LLaMA-Factory/.keep": "", "requirements.txt": "llamafactory>=0.9\n"})
    pin = one(path, "llamafactory")
    assert pin.kind == "submodule" and pin.version == "" and pin.where == "vendored as a git submodule, .gitmodules:3"
    got = reading("llamafactory 0.9.5 (stage sft)", str(path))
    assert got is not None and got.assumed and "version unknown" in got.note() and "None" not in got.note()
    # checked out: its own version
    path = repo(tmp_path, {".gitmodules": gm, "LLaMA-Factory/src/llamafactory/extras/env.py": 'VERSION = "0.9.1"\n'})
    assert one(path, "llamafactory").version == "0.9.1"


def test_a_base_image_that_does_not_name_the_release_is_not_a_pin(tmp_path: Path) -> None:
    path = repo(tmp_path, {"Dockerfile": "FROM axolotlai/axolotl:main-py3.11-cu124-2.5.1\nFROM huggingface/transformers-pytorch-gpu:4.41.2\n"})
    assert P.pins(str(path)) == {}  # a branch build; an image whose tag scheme goblin has not read


def test_a_version_in_prose_or_a_similar_name_is_not_a_pin(tmp_path: Path) -> None:
    files = {
        "README.md": "We used transformers==4.30.0 back then.\n",
        "requirements.txt": "sentence-transformers==2.2.2\ntransformers-stream-generator==0.0.4\npeft_utils==1.0\n",
    }
    assert P.pins(str(repo(tmp_path, files))) == {}


def test_the_configs_own_line_beats_the_repository(tmp_path: Path) -> None:
    path = repo(tmp_path, {"recipes/sft/requirements.txt": "transformers==4.44.2\n"}, text="# pip install transformers>=4.40\n" + HF)
    pin = one(path, "transformers", path.read_text())
    assert pin.where == "the config's own line 1" and pin.constraint == ">=4.40"


def test_the_nearest_folder_beats_its_parents(tmp_path: Path) -> None:
    path = repo(tmp_path, {"requirements.txt": "transformers==4.36.2\n", "recipes/sft/requirements.txt": "transformers==4.44.2\n"})
    assert one(path, "transformers").where == "recipes/sft/requirements.txt:1"


def test_an_exact_pin_beats_a_range(tmp_path: Path) -> None:
    # a lock file's resolved release over the range its project file states
    path = repo(
        tmp_path,
        {"pyproject.toml": '[project]\ndependencies = ["transformers>=4.40"]\n', "uv.lock": '[[package]]\nname = "transformers"\nversion = "4.46.3"\n'},
    )
    assert one(path, "transformers").where == "uv.lock:3"
    path = repo(tmp_path, {"recipes/sft/requirements.txt": "transformers>=4.40\n", "setup.py": 'install_requires=["transformers==4.45.2"]\n'})
    assert one(path, "transformers").where == "setup.py:1"
    # in one file too
    path = repo(tmp_path, {"requirements.txt": "trl>=0.9\n# tested:\ntrl==0.11.4\n"})
    assert one(path, "trl").where == "requirements.txt:3"


def test_a_vendored_copy_beats_a_requirement(tmp_path: Path) -> None:
    path = repo(
        tmp_path,
        {"recipes/sft/requirements.txt": "llamafactory==0.9.3\n", "LLaMA-Factory/src/llamafactory/extras/env.py": 'VERSION = "0.9.2"\n'},
        text="model_name_or_path: Qwen/Qwen2-7B\nstage: sft\ndo_train: true\nfinetuning_type: lora\n",
    )
    assert one(path, "llamafactory").kind == "vendored"


def test_parents_stop_at_the_repository_root_and_max_up(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("transformers==4.36.2\n")  # above the repository: not read
    path = repo(tmp_path, {})
    assert "transformers" not in P.pins(str(path))
    deep = repo(tmp_path, {"requirements.txt": "transformers==4.36.2\n"}, config="/".join(["d"] * (P.MAX_UP + 1)) + "/c.yaml")
    assert "transformers" not in P.pins(str(deep))


def test_parse_json_says_the_version_and_where_it_came_from(tmp_path: Path) -> None:
    path = repo(tmp_path, {"requirements.txt": "torch\ntransformers==4.45.2\ntrl==0.11.4\n"})
    record, ok = parse_record(path)
    assert ok
    fv = record["framework_version"]
    name = record["framework"].split()[0]
    want = {"transformers": ("4.45.2", 2), "trl": ("0.11.4", 3)}[name]
    assert fv["name"] == name and fv["version"] == want[0] and fv["source"] == f"requirements.txt:{want[1]}" and fv["assumed"] is False
    src = record["sources"]["framework"]
    assert src["file"].endswith("requirements.txt") and src["line"] == want[1] and src["explicit"] and f"{name} {want[0]}" in src["note"]
    assert f"goblin's {name} tables were read at" in src["note"]


def test_a_pinned_release_is_the_one_the_config_is_read_as(tmp_path: Path) -> None:
    """The readers follow the pinned release (frameworks/releases.py), so the config is read as axolotl 0.8.1,
    with the pin as the source; unpinned, goblin's tables' release, said to be assumed."""
    w = load_config(repo(tmp_path, {"requirements.txt": "axolotl==0.8.1\n"}, text=AXO)).workload
    assert w.framework is not None and w.framework.startswith("axolotl 0.8.1")
    src = w.sources["framework"]
    assert src.explicit and src.line == 1 and src.key == "axolotl==0.8.1"
    w = load_config(repo(tmp_path, {}, text=AXO)).workload
    assert w.framework is not None and not w.framework.startswith("axolotl 0.8.1") and not w.sources["framework"].explicit


def test_an_unpinned_config_says_assumed(tmp_path: Path) -> None:
    path = repo(tmp_path, {}, text=AXO)
    record, _ = parse_record(path)
    fv = record["framework_version"]
    assert fv["name"] == "axolotl" and fv["assumed"] is True and fv["source"].startswith("not pinned in the repository; goblin's tables (axolotl ")
    src = load_config(path).workload.sources["framework"]
    assert not src.explicit and src.line is None and "assumed" in (src.note or "") and "None" not in (src.note or "")


def test_a_pinned_axolotl_config_reads_its_pin(tmp_path: Path) -> None:
    path = repo(tmp_path, {"docker/Dockerfile": "FROM axolotlai/axolotl:0.8.1-py3.11-cu124-2.5.1\n"}, text=AXO)
    fv = parse_record(path)[0]["framework_version"]
    assert fv == {**fv, "name": "axolotl", "version": "0.8.1", "source": "docker/Dockerfile:1", "assumed": False}


def test_hostile_trees_cost_nothing(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "requirements.txt").write_text("transformers==4.36.2\n")
    (outside / "env.py").write_text('VERSION = "0.1.0"\n')
    files: dict[str, str | bytes] = {
        "requirements-big.txt": "x" * (P.LIMIT + 10) + "\ntransformers==4.36.2\n",  # above the limit: skipped
        "Dockerfile": b"\x00\xff\xfe FROM axolotlai/axolotl:0.4.0\n\x00" * 1000,  # binary: skipped
        "README.md": "```\n" + "pip install " * 50_000 + "\n```\n",
    }
    path = repo(tmp_path, files)
    root = path.parents[2]
    os.symlink(outside / "requirements.txt", root / "requirements.txt")  # a link out of the tree: refused
    (root / "LLaMA-Factory" / "src" / "llamafactory" / "extras").mkdir(parents=True)
    os.symlink(outside / "env.py", root / "LLaMA-Factory" / "src" / "llamafactory" / "extras" / "env.py")
    os.symlink(outside, root / "vendor")  # a folder link is not descended into
    os.mkfifo(root / "requirements-fifo.txt")  # would block a plain open
    assert P.pins(str(path)) == {}


def test_the_report_says_the_release_and_that_it_was_assumed(tmp_path: Path) -> None:
    from pytest_goblin.cli import main

    unpinned = repo(tmp_path, {}, text=AXO + "adapter: lora\nlora_r: 16\n")
    pinned = repo(tmp_path, {"requirements.txt": "axolotl==0.8.1\n"}, text=AXO + "adapter: lora\nlora_r: 16\n")
    for path, want in ((unpinned, "axolotl 0.18.0 assumed: not pinned in the repository"), (pinned, "axolotl 0.8.1 (axolotl==0.8.1, requirements.txt:1)")):
        md = tmp_path / f"{path.parents[2].name}.md"
        main(["audit", str(path), "--runner", "projection", "--md", str(md)])
        footer = next(line for line in md.read_text().splitlines() if "evidence:" in line)
        assert want in footer.replace("\\", "") and "None" not in footer  # Markdown escapes ( ) =


def test_a_readme_that_installs_a_folder_of_the_tree_reads_that_copy(tmp_path: Path) -> None:
    readme = '## Install\n\n```bash\ncd deps/lf_fork\npip install -e ".[torch,metrics]"\n```\n'
    path = repo(
        tmp_path, {"README.md": readme.replace('".[torch,metrics]"', ".[torch,metrics]"), "deps/lf_fork/src/llamafactory/extras/env.py": 'VERSION = "0.9.1"\n'}
    )
    pin = one(path, "llamafactory")
    assert pin.version == "0.9.1" and pin.where == "a vendored copy, deps/lf_fork/src/llamafactory/extras/env.py:1, installed by README.md:4"


def test_a_vendored_copys_requirements_count(tmp_path: Path) -> None:
    files = {
        "LLaMA-Factory/src/llamafactory/extras/env.py": 'VERSION = "0.9.2"\n',
        "LLaMA-Factory/requirements.txt": "transformers>=4.41.2,<=4.49.0\ntrl>=0.8.6,<=0.9.6\nllamafactory==0.9.9\n",
        "LLaMA-Factory/README.md": "```\npip install accelerate==1.0.0\n```\n",
    }
    got = P.pins(str(repo(tmp_path, files)))
    assert got["transformers"].where == "LLaMA-Factory/requirements.txt:1" and got["transformers"].constraint == ">=4.41.2,<=4.49.0"
    assert got["llamafactory"].kind == "vendored" and "accelerate" not in got  # its README is not what installing it pulls in


def test_the_vendored_copy_the_launch_line_runs_is_the_release(tmp_path: Path) -> None:
    """review3 #16-18 (STaR-Judge): scripts/train_sft.sh runs train/LLaMA-Factory/src/train.py on the config; that copy
    (0.9.1.dev0) is beside the configs, not above them, and is the release the run uses."""
    lf = "stage: sft\ndo_train: true\nmodel_name_or_path: meta-llama/Meta-Llama-3-8B\nfinetuning_type: full\ncutoff_len: 2048\n"
    launcher = "#!/bin/bash\nCUDA_VISIBLE_DEVICES=0,1,2,3 accelerate launch --num_processes 4 \\\n    train/LLaMA-Factory/src/train.py configs/train/sft.yaml\n"
    files = {
        "scripts/train_sft.sh": launcher,
        "train/LLaMA-Factory/src/train.py": "from llamafactory.train.tuner import run_exp\n",
        "train/LLaMA-Factory/src/llamafactory/extras/env.py": 'VERSION = "0.9.1.dev0"\n',
        "requirements.txt": "llamafactory==0.9.3\n",
    }
    path = repo(tmp_path, files, "configs/train/sft.yaml", lf)
    load_config(path)  # registers the launch-line reader (formats/launchers.launched_script)
    pin = one(path, "llamafactory")
    assert pin.kind == "vendored" and pin.version == "0.9.1.dev0"
    assert pin.where == "a vendored copy, train/LLaMA-Factory/src/llamafactory/extras/env.py:1, run by scripts/train_sft.sh line 2"
    # must not: a launch line for another config, or a script of the repository's own, says nothing of this one
    other = repo(tmp_path, {**files, "scripts/train_sft.sh": launcher.replace("sft.yaml", "dpo.yaml")}, "configs/train/sft.yaml", lf)
    assert one(other, "llamafactory").where == "requirements.txt:1"
    own = repo(
        tmp_path,
        {**files, "scripts/train_sft.sh": launcher.replace("train/LLaMA-Factory/src/train.py", "src/train.py"), "src/train.py": "x = 1\n"},
        "configs/train/sft.yaml",
        lf,
    )
    assert one(own, "llamafactory").where == "requirements.txt:1"
    # a config no launch line names, beside configs whose launch lines all run that copy (review3 #17)
    sibling = repo(tmp_path, files, "configs/train/qwen_dpo.yaml", lf)
    (sibling.parent / "sft.yaml").write_text(lf)
    pin = one(sibling, "llamafactory")
    assert pin.version == "0.9.1.dev0" and pin.where.endswith("run by scripts/train_sft.sh line 2 (for sft.yaml, a config of the same folder)")
    # must not: siblings launched through two different copies say nothing
    two = {**files, "scripts/train_dpo.sh": launcher.replace("train/LLaMA-Factory", "train/LF2").replace("sft.yaml", "dpo.yaml")}
    two |= {"train/LF2/src/train.py": "x = 1\n", "train/LF2/src/llamafactory/extras/env.py": 'VERSION = "0.9.3"\n'}
    split = repo(tmp_path, two, "configs/train/qwen_dpo.yaml", lf)
    (split.parent / "sft.yaml").write_text(lf)
    (split.parent / "dpo.yaml").write_text(lf)
    assert one(split, "llamafactory").where == "requirements.txt:1"


SETUP_DEPS = """from setuptools import setup
_deps = [
    "vllm==0.3.0",
    "torch==2.1.0",
    "trl==0.7.4",
    "pytest",
]
deps = {b: a for a, b in (re.findall(r"^(([^!=<>~ ]+)(?:[!=<>~ ].*)?$)", x)[0] for x in _deps)}


def deps_list(*pkgs):
    return [deps[pkg] for pkg in pkgs]


extras = {}
extras["torch"] = deps_list("torch")
extras["dev"] = extras["torch"] + deps_list("pytest")
install_requires = [deps["vllm"], deps["trl"]]
setup(name="x", install_requires=install_requires, extras_require=extras)
"""


def test_a_pin_only_an_extra_lists_is_not_installed(tmp_path: Path) -> None:
    """review3 #19/#20 (uclaml/SPIN): torch==2.1.0 is only in extras["torch"]; `pip install .` installs install_requires,
    whose vllm==0.3.0 requires torch==2.1.2 (its wheel's METADATA): the blocker cites what is installed."""
    path = repo(tmp_path, {"setup.py": SETUP_DEPS, "README.md": "```\npython -m pip install .\n```\n"})
    got = P.exact_pins(str(path), HF)
    assert got["torch"].version == "2.1.2" and got["torch"].spec == "torch==2.1.2 (required by vllm==0.3.0)" and got["torch"].where.startswith("setup.py:3;")
    assert one(path, "trl").where == "setup.py:5"  # install_requires still counts
    # must not: an install line that asks for the extra installs it; a plain requirement counts as before
    asked = repo(tmp_path, {"setup.py": SETUP_DEPS, "README.md": '```\npip install -e ".[torch]"\n```\n'})
    assert P.exact_pins(str(asked), HF)["torch"].where == "setup.py:4"
    pyproject = '[project]\nname = "x"\ndependencies = ["trl==0.8.6"]\n[project.optional-dependencies]\ntorch = ["torch==2.1.0", "transformers==4.36.2"]\n'
    py = repo(tmp_path, {"pyproject.toml": pyproject})
    assert "torch" not in P.exact_pins(str(py), HF) and "transformers" not in P.pins(str(py)) and one(py, "trl").version == "0.8.6"
    base = repo(tmp_path, {"pyproject.toml": pyproject.replace('["trl==0.8.6"]', '["trl==0.8.6", "torch==2.1.0"]')})
    assert P.exact_pins(str(base), HF)["torch"].version == "2.1.0"
    # a vllm release whose torch goblin has not read implies nothing
    assert "torch" not in P.exact_pins(str(repo(tmp_path, {"requirements.txt": "vllm==0.4.0\n"})), HF)


def _notebook(cells: list[tuple[str, str]]) -> str:
    return json.dumps({"cells": [{"cell_type": kind, "source": src.splitlines(keepends=True)} for kind, src in cells], "nbformat": 4})


def test_the_notebook_that_launches_the_config_pins_its_release(tmp_path: Path) -> None:
    """review1 #18/#19 (philschmid's notebooks): `%pip install --upgrade \\` continued over lines with
    "trl==0.13.0", in the notebook whose cell launches `--config recipes/sft/config.yaml`."""
    install = '%pip install "torch==2.5.1" vllm\n%pip install  --upgrade \\\n  "transformers==4.48.1" \\\n  "trl==0.13.0"\n'
    launch = "```bash\naccelerate launch --num_processes 4 scripts/run_sft.py --config recipes/sft/config.yaml\n```\n"
    other = _notebook([("code", '%pip install "trl==0.8.6"\n'), ("markdown", "another recipe: recipes/other.yaml\n")])
    files = {"a-other.ipynb": other, "z-sft.ipynb": _notebook([("code", install), ("markdown", launch)])}
    got = P.pins(str(repo(tmp_path, files)))
    assert got["trl"].version == "0.13.0" and got["trl"].where == "z-sft.ipynb cell 1 line 4"
    assert got["transformers"].version == "4.48.1" and got["trl"].file.endswith("z-sft.ipynb") and got["trl"].line > 0
    # a notebook that does not name the config is not its recipe
    got = P.pins(str(repo(tmp_path, {"a-other.ipynb": other})))
    assert "trl" not in got


def test_a_torchtune_0_2_component_path_implies_the_release(tmp_path: Path) -> None:
    """review1 #26 (FIRST-impl): `torchtune.utils.FullModelHFCheckpointer` exists only before torchtune 0.3
    (0.2.1 torchtune/utils/__init__.py:7-12; 0.3.1 moved it to torchtune.training)."""
    tune = (
        "model:\n  _component_: torchtune.models.llama3_1.lora_llama3_1_8b\ncheckpointer:\n  _component_: torchtune.utils.FullModelHFCheckpointer\n"
        "batch_size: 2\noptimizer:\n  _component_: torch.optim.AdamW\n"
    )
    got = P.pins(str(repo(tmp_path, {}, config="configs/8B_lora.yaml", text=tune)))
    assert got["torchtune"].constraint == "<0.3" and "line 4" in got["torchtune"].where
    new = tune.replace("torchtune.utils.FullModelHFCheckpointer", "torchtune.training.FullModelHFCheckpointer")
    assert "torchtune" not in P.pins(str(repo(tmp_path, {}, config="configs/8B_lora.yaml", text=new)))


def test_a_tree_without_git_reads_pins_up_to_the_root_the_launchers_use(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """review2: in a ZIP download (no .git) the launcher search found the root, the pins reader stopped at the
    config's own folder and lost `trl==0.13.0` two folders up."""
    root = tmp_path / "download"
    (root / "training" / "recipes").mkdir(parents=True)
    (root / "requirements.txt").write_text("trl==0.13.0\ntransformers==4.48.1\n")
    config = root / "training" / "recipes" / "dpo.yaml"
    config.write_text(HF)
    monkeypatch.chdir(root)  # audited from its root, as a user runs `goblin audit training/`
    got = P.pins(str(config))
    assert got["trl"].version == "0.13.0" and got["trl"].where == "requirements.txt:1"
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    monkeypatch.chdir(outside)  # neither a checkout nor the working directory: only markers up to MAX_UP
    other = tmp_path / "download2" / "a" / "b"
    other.mkdir(parents=True)
    (other / "dpo.yaml").write_text(HF)
    assert "trl" not in P.pins(str(other / "dpo.yaml"))


CONDA_EXPORT = "name: lumi-tools\nchannels:\n  - defaults\ndependencies:\n  - python=3.10\n  - pip:\n      - transformers==4.41.0\n"


def test_a_conda_environment_file_of_another_name_is_read_by_its_content(tmp_path: Path) -> None:
    """review6b #39 (jnkyto/lumiopen-tools): lumi-tools.yml at the root, a conda export, pins transformers==4.41.0 (line 139);
    goblin read only environment.yml / conda.yml by name, and judged the script at the newest transformers."""
    path = repo(tmp_path, {"lumi-tools.yml": CONDA_EXPORT}, config="translation_finetune/hf_trainer/main_hf.py", text="import transformers\n")
    assert one(path, "transformers").where == "lumi-tools.yml:7" and one(path, "transformers").version == "4.41.0"
    # a conda export of another name outside the config's folders is read as an environment snapshot (`prefix:`)
    path = repo(tmp_path, {"envs/train-env.yml": CONDA_EXPORT + "prefix: /home/u/anaconda3/envs/x\n"})
    assert one(path, "transformers").where == "envs/train-env.yml:7 (an environment snapshot)"
    # must not: a training YAML with a `dependencies:` key but no `channels:` / `prefix:` is not an environment file,
    # nor is a hand-written environment file of another name outside the config's folders a snapshot
    fake = "model_name_or_path: x/y\ndependencies:\n  - transformers==4.41.0\n"
    assert "transformers" not in P.pins(str(repo(tmp_path, {"deps.yaml": fake})), None)
    assert "transformers" not in P.pins(str(repo(tmp_path, {"envs/train-env.yml": CONDA_EXPORT})), None)


def test_a_git_install_of_the_default_branch_is_a_build_of_unknown_release_and_the_nearest_wins(tmp_path: Path) -> None:
    """review6b #38 (MeetKai/functionary): the root pyproject.toml pins transformers==4.48.3, the training package the
    script is in (functionary/train/pyproject.toml:22) installs `transformers @ git+https://github.com/huggingface/transformers.git`."""
    train = '[project]\nname = "t"\ndependencies = [\n    "transformers @ git+https://github.com/huggingface/transformers.git",\n]\n'
    files = {"pyproject.toml": '[project]\nname = "f"\ndependencies = [\n    "transformers==4.48.3",\n]\n', "pkg/train/pyproject.toml": train}
    path = repo(tmp_path, files, config="pkg/train/train.py", text="import transformers\n")
    pin = one(path, "transformers")
    assert pin.kind == "branch" and pin.version == "" and pin.where == "pkg/train/pyproject.toml:4" and "default branch" in pin.spec
    got = reading("transformers", str(path))
    assert got is not None and got.assumed and got.source.startswith("pkg/train/pyproject.toml:4") and got.version == h.newest("transformers")
    # its keys are judged at the newest release, assumed (the branch is at least that new): a requirement, not a blocker
    run = h.run_version("transformers", pin)
    assert run is not None and run.assumed and "the default branch" in run.how and not h.unplaced(pin)
    # must not: the root's default-branch install against the nearer package's exact pin (the nearest wins), and a
    # git install with a tag stays that release
    swapped = {"pyproject.toml": train, "pkg/train/pyproject.toml": files["pyproject.toml"]}
    assert one(repo(tmp_path, swapped, config="pkg/train/train.py", text="import transformers\n"), "transformers").version == "4.48.3"
    tagged = {"requirements.txt": "transformers @ git+https://github.com/huggingface/transformers.git@v4.45.2\n"}
    assert one(repo(tmp_path, tagged), "transformers").version == "4.45.2"


def test_a_bare_git_url_installs_the_default_branch(tmp_path: Path) -> None:
    """review10b #36: tloen/alpaca-lora requirements.txt:9 `git+https://github.com/huggingface/peft.git` (no `peft @`, no
    ref): pip installs peft's default branch, read as the `peft @ git+...` form is."""
    for line in ("git+https://github.com/huggingface/peft.git\n", "pip install git+https://github.com/huggingface/peft\n"):
        pin = one(repo(tmp_path, {"requirements.txt": line}), "peft")
        assert pin.kind == "branch" and pin.version == "" and pin.where == "requirements.txt:1" and "default branch" in pin.spec
    # must not: a ref is a release or a commit, the `name @ git+` form is read once, another repository is not peft
    assert one(repo(tmp_path, {"requirements.txt": "git+https://github.com/huggingface/peft.git@v0.9.0\n"}), "peft").version == "0.9.0"
    both = P.pins(str(repo(tmp_path, {"requirements.txt": "peft @ git+https://github.com/huggingface/peft.git\n"})), None)
    assert both["peft"].spec.startswith("peft @ git+")
    assert "peft" not in P.pins(str(repo(tmp_path, {"requirements.txt": "git+https://github.com/someone/peft-tools.git\n"})), None)


MODAL_IMAGE = 'import modal\n\nimage = modal.Image.from_registry("{tag}").pip_install("wandb")\n'


def test_a_modal_image_of_a_nightly_main_build_is_the_release_before_its_day(tmp_path: Path) -> None:
    path = repo(tmp_path, {"recipes/main.py": MODAL_IMAGE.format(tag="axolotlai/axolotl:main-20250812-py3.11-cu126-2.7.1")})
    pin = one(path, "axolotl")
    # nightlies.yml tags main-YYYYMMDD at 00:00 UTC; main's stretch after v0.12.0 (first commit 2025-08-08) runs to v0.12.2
    assert (pin.kind, pin.version, pin.before, pin.where) == ("commit", "0.12.0", "0.12.2", "recipes/main.py:3")
    assert "axolotl main of 2025-08-12 (Modal image axolotlai/axolotl:main-20250812" in pin.spec and "assumed" in pin.spec
    # a release tag in a Modal image is that release; a Dockerfile's nightly tag is read the same way
    assert one(repo(tmp_path, {"recipes/main.py": MODAL_IMAGE.format(tag="axolotlai/axolotl:0.12.2-py3.11-cu128-2.8.0")}), "axolotl").version == "0.12.2"
    assert one(repo(tmp_path, {"Dockerfile": "FROM axolotlai/axolotl:main-20260101-py3.11-cu128-2.8.0\n"}), "axolotl").before == "0.13.1"


def test_a_modal_image_that_names_no_release_or_day_is_not_a_pin(tmp_path: Path) -> None:
    for tag in ("axolotlai/axolotl:main-py3.11-cu126-2.7.1", "nvidia/cuda:12.4.1-devel-ubuntu22.04", "axolotlai/axolotl:main-20230101"):
        assert P.pins(str(repo(tmp_path, {"recipes/main.py": MODAL_IMAGE.format(tag=tag)}))) == {}
    commented = "import modal\n# image = modal.Image.from_registry('axolotlai/axolotl:main-20250812')\n"
    assert P.pins(str(repo(tmp_path, {"recipes/main.py": commented}))) == {}


def test_a_requirements_file_of_another_name_is_read(tmp_path: Path) -> None:
    """review8b #26/#38: `requirement.txt` (NJUNLP/MAPO requirement.txt:187,190 transformers==4.36.2, trl==0.7.10;
    MAOJIASONG/TinyZero-TRL requirement.txt:17 `trl @ git+...@e751a16`) was not read: the recipe was judged unpinned."""
    path = repo(tmp_path, {"requirement.txt": "torch==2.1.0\ntransformers==4.36.2\ntrl==0.7.10\n"}, config="Alignment/dpo.py", text="import trl\n")
    assert one(path, "trl").where == "requirement.txt:3" and one(path, "transformers").constraint == "==4.36.2"
    path = repo(tmp_path, {"reqs.txt": "trl==0.8.6\n"})
    assert one(path, "trl").where == "reqs.txt:1"
    # by content: a `.txt` of another name whose lines are all requirements, one of them versioned
    path = repo(tmp_path, {"deps.txt": "# deps\ntorch\ntransformers==4.44.2  # tested\n-e .\n"})
    assert one(path, "transformers").where == "deps.txt:3"
    assert P.requirements_file("numpy\ntrl>=0.9\n") and not P.requirements_file("hello\nworld\n")


def test_a_requirements_file_elsewhere_or_of_prose_is_not_read(tmp_path: Path) -> None:
    # must not: docs/ and another sub-project's requirements, a prose `.txt` that names a pin, a snapshot's name
    # read as a requirements file outside the snapshot rule
    files = {
        "docs/requirement.txt": "transformers==4.30.0\n",
        "other/requirements.txt": "transformers==4.31.0\n",
        "notes.txt": "We trained with transformers==4.32.0 and it worked.\n",
        "prompt.txt": "Answer briefly:\ntransformers==4.33.0\n",
    }
    assert "transformers" not in P.pins(str(repo(tmp_path, files)))


def test_a_conda_environment_file_of_the_repository_says_which_release_of_a_range_runs(tmp_path: Path) -> None:
    """review8b #28 (sriksmachi/text2sql-slm-finetuning-grpo): azure/environments/conda_env.yml pins transformers==4.56.2
    and trl==0.22.2 (:29,:33), the environment its Azure ML job runs in; pyproject.toml states only `>=` ranges."""
    conda = "name: e\nchannels:\n  - conda-forge\ndependencies:\n  - pip:\n    - transformers==4.56.2\n    - trl==0.22.2\n"
    toml = '[project]\nname = "t"\ndependencies = [\n    "transformers>=4.40.0",\n    "trl>=0.8.6",\n]\n'
    path = repo(tmp_path, {"pyproject.toml": toml, "azure/environments/conda_env.yml": conda}, config="configs/training_args.yaml")
    trl = one(path, "trl")
    assert trl.constraint == "==0.22.2" and trl.where == (
        "azure/environments/conda_env.yml:7 (a conda environment file of the repository); within trl>=0.8.6 (pyproject.toml:5)"
    )
    # must not: where nothing pins the framework, a range it does not fit, another sub-project's (its own package)
    assert "trl" not in P.pins(str(repo(tmp_path, {"azure/environments/conda_env.yml": conda}, config="configs/training_args.yaml")))
    narrow = toml.replace("trl>=0.8.6", "trl>=0.23")
    assert one(repo(tmp_path, {"pyproject.toml": narrow, "env/conda.yml": conda}), "trl").constraint == ">=0.23"
    sub = {"pyproject.toml": toml, "serving/pyproject.toml": '[project]\nname = "s"\n', "serving/env/conda.yml": conda}
    assert one(repo(tmp_path, sub), "trl").constraint == ">=0.8.6"
