"""Framework versions a repository states where goblin did not look before (review4 class 5, issue 23): a Dockerfile's
`git checkout <tag>` after the clone, a pip spec in a Python launch script (Modal `.pip_install`, `subprocess` pip
lines), the packaging file of the sub-folder an install line installs, a README pin in prose beside the script, and
a range another pin of the repository narrows."""

from __future__ import annotations

import json
from pathlib import Path

from pytest_goblin.formats.record import parse_record
from pytest_goblin.frameworks import pins as P

from .repo_files import fresh_root, write_tree

AXO = "base_model: meta-llama/Meta-Llama-3-8B\nsequence_len: 2048\nmicro_batch_size: 2\ngradient_accumulation_steps: 4\nbf16: true\nlearning_rate: 0.0002\n"
TUNE = "model:\n  _component_: torchtune.models.llama3.lora_llama3_8b\nbatch_size: 2\noptimizer:\n  _component_: torch.optim.AdamW\n  lr: 3e-4\ndevice: cuda\n"


def repo(tmp_path: Path, files: dict[str, str], config: str, text: str) -> Path:
    return write_tree(fresh_root(tmp_path), {**files, config: text}, git=True) / config  # a root per call: pins are cached per folder


DOCKER_TAG = (
    "ARG BASE=2.1.0\nFROM intelanalytics/ipex-llm-xpu:$BASE\nWORKDIR /workspace\n"
    "RUN git clone https://github.com/OpenAccess-AI-Collective/axolotl.git\nWORKDIR /workspace/axolotl\n"
    "RUN git checkout v0.4.0 && \\\n    rm requirements.txt\nRUN pip install -e . && \\\n    pip install transformers==4.36.0\n"
)


def test_a_dockerfile_clone_then_checkout_of_a_tag_pins_that_release(tmp_path: Path) -> None:
    # review4 #3, moeru-ai/Moeru-Llama-3-8B Dockerfile: clone Axolotl, `RUN git checkout v0.4.0`
    cfg = repo(tmp_path, {"Dockerfile": DOCKER_TAG}, "lora.yml", AXO)
    pin = P.pins(str(cfg))["axolotl"]
    assert (pin.version, pin.constraint, pin.where, pin.line) == ("0.4.0", "==0.4.0", "Dockerfile:6", 6)
    assert "git checkout of the tag" in pin.spec
    assert P.pins(str(cfg))["transformers"].where == "Dockerfile:9"
    record, ok = parse_record(cfg)
    fv = record["framework_version"]
    assert ok and isinstance(fv, dict)
    assert (fv["version"], fv["source"], fv["assumed"]) == ("0.4.0", "Dockerfile:6", False)
    assert "None" not in json.dumps(fv)


def test_a_tag_checkout_of_another_clone_or_far_below_is_not_the_frameworks(tmp_path: Path) -> None:
    other = (
        "RUN git clone https://github.com/OpenAccess-AI-Collective/axolotl.git\nRUN git clone https://github.com/lm-sys/FastChat\nRUN git checkout v0.2.36\n"
    )
    far = "RUN git clone https://github.com/OpenAccess-AI-Collective/axolotl.git\n" + "RUN echo\n" * 8 + "RUN git checkout v0.4.0\n"
    branch = "RUN git clone https://github.com/OpenAccess-AI-Collective/axolotl.git\nRUN git checkout main\n"
    for body in (other, far, branch):
        cfg = repo(tmp_path, {"Dockerfile": body}, "lora.yml", AXO)
        assert "axolotl" not in P.pins(str(cfg)), body


MODAL = (
    '"""Train with torchtune.\n\n```\nmodal run train_torchtune_full.py --config /path/to/config.yaml\n```\n"""\n'
    "import modal\n\n"
    "image = modal.Image\\\n    .debian_slim(python_version='3.12')\\\n    .apt_install('git')\\\n"
    '    .pip_install(["torch", "torchao",\n        "torchtune@git+https://github.com/pytorch/torchtune.git@c2c6f4a5236ba69a8c87dcb1f23ad65daf6e75de"])\n'
)


def test_a_modal_launch_scripts_pip_install_pins_the_framework(tmp_path: Path) -> None:
    # review4 #4, SWE-Gym scripts/training/openhands/train_torchtune_full.py:17; the config two folders below it
    cfg = repo(tmp_path, {"scripts/train_torchtune_full.py": MODAL}, "scripts/configs/policy/full.yaml", TUNE)
    pin = P.pins(str(cfg))["torchtune"]
    assert (pin.kind, pin.version, pin.before, pin.line) == ("commit", "0.5.0", "0.6.0", 13)
    assert pin.where.startswith("scripts/train_torchtune_full.py:13; placed by https://github.com/pytorch/torchtune history")
    assert "commit c2c6f4a (4 commits after v0.5.0, before v0.6.0)" in pin.spec
    fv = parse_record(cfg)[0]["framework_version"]
    assert isinstance(fv, dict) and str(fv["source"]).startswith("scripts/train_torchtune_full.py:13") and fv["version"] == "0.5.0"


def test_a_subprocess_pip_line_pins_but_other_python_text_does_not(tmp_path: Path) -> None:
    run = 'import subprocess\nsubprocess.run(["pip", "install", "torchtune==0.2.1"], check=True)\n'
    cfg = repo(tmp_path, {"launch.py": run}, "full.yaml", TUNE)
    assert (P.pins(str(cfg))["torchtune"].version, P.pins(str(cfg))["torchtune"].where) == ("0.2.1", "launch.py:2")
    for name, body, line in (
        ("colab_train.py", "# %%\n!pip install -q torchtune==0.3.1\n", 2),
        ("run.py", 'import os\n\nos.system("pip install torchtune==0.4.0 torchao")\n', 3),
        ("setup_env.sh", "#!/bin/bash\nset -e\npip install torchtune==0.5.0\n", 3),
    ):
        cfg = repo(tmp_path, {name: body}, "full.yaml", TUNE)
        assert P.pins(str(cfg))["torchtune"].where == f"{name}:{line}", name
    # must not: a version check, a commented-out install, a serving script's image, a string that is no install
    quiet = {
        "train.py": 'import torchtune\nassert torchtune.__version__ >= "0.2.1"\n# pip install torchtune==0.2.1\nNOTE = "torchtune==0.2.1 was used"\n',
        "serve_modal.py": 'import modal\nimage = modal.Image.debian_slim().pip_install("torchtune==0.3.1")\n',
        "eval_env.sh": "pip install torchtune==0.3.1\n",
        "notes.sh": "# pip install torchtune==0.3.1\necho torchtune==0.3.1\n",
        # a test module quotes install lines as data (tests/test_attn_default.py's docstring once re-pinned goblin's own corpus)
        "test_install.py": 'import os\n\nos.system("pip install torchtune==0.3.1")\n',
        "conftest.py": 'import os\n\nos.system("pip install torchtune==0.3.1")\n',
    }
    cfg = repo(tmp_path, quiet, "full.yaml", TUNE)
    assert "torchtune" not in P.pins(str(cfg))


SCRIPT = (
    "from dataclasses import dataclass, field\nfrom transformers import Trainer, TrainingArguments\n\n"
    "@dataclass\nclass ModelArguments:\n    model_name_or_path: str = field(default='THUDM/glm-4-9b')\n\n"
    "args = TrainingArguments(output_dir='o', per_device_train_batch_size=1, bf16=True)\n"
    "trainer = Trainer(model=None, args=args)\ntrainer.train()\n"
)
README = (
    "# Training\n\n### Model training\n\nWe provide scripts under `scripts/`.\n\n"
    "**Environment**: `transformers==4.33.0` for `GLM-4-9B` and `transformers==4.43.0` for `Llama-3.1-8B`.\n"
)


def test_a_readme_environment_line_beside_the_script_pins_the_release_for_its_model(tmp_path: Path) -> None:
    # review4 #31, THUDM/LongWriter train/README.md:25 beside train/main.py (GLM-4-9B by default); requirements.txt: a range
    cfg = repo(tmp_path, {"requirements.txt": "transformers>=4.43.0\n", "train/README.md": README}, "train/main.py", SCRIPT)
    pin = P.pins(str(cfg))["transformers"]
    assert (pin.version, pin.where, pin.line, pin.constraint) == ("4.33.0", "train/README.md:7", 7, "==4.33.0")
    assert pin.spec == "transformers==4.33.0 (README prose, for GLM-4-9B)"
    fv = parse_record(cfg)[0]["framework_version"]
    assert isinstance(fv, dict) and (fv["version"], fv["source"], fv["assumed"]) == ("4.33.0", "train/README.md:7", False)
    # the Llama script of the same folder: the other release of the line
    llama = cfg.parent / "llama.py"
    llama.write_text(SCRIPT.replace("THUDM/glm-4-9b", "meta-llama/Meta-Llama-3.1-8B"))
    assert P.pins(str(llama))["transformers"].version == "4.43.0"


def test_readme_prose_that_is_not_the_scripts_environment_pins_nothing(tmp_path: Path) -> None:
    cases = {
        # a section about evaluation
        "train/README.md": "# Eval\n\n## Evaluation\n\nThe evaluation environment requires transformers==4.40.0.\n",
    }
    cfg = repo(tmp_path, cases, "train/main.py", SCRIPT)
    assert "transformers" not in P.pins(str(cfg))
    # prose with no word about the environment; a README of a parent folder; a model the script does not train
    for files in (
        {"train/README.md": "# T\n\nOur numbers differ from transformers==4.30.0 by a point.\n"},
        {"README.md": "# T\n\n**Environment**: transformers==4.33.0.\n"},
        {"train/README.md": README.replace("GLM-4-9B", "Qwen2-7B")},
    ):
        cfg = repo(tmp_path, files, "train/main.py", SCRIPT)
        assert "transformers" not in P.pins(str(cfg)), files


HF = "model_name_or_path: Qwen/Qwen2.5-VL-3B-Instruct\nper_device_train_batch_size: 1\ngradient_accumulation_steps: 2\nbf16: true\nnum_generations: 8\n"
SUB_SETUP = (
    'from setuptools import setup\n\nsetup(\n    name="open-r1",\n    install_requires=[\n        "transformers==4.49.0",\n        "trl==0.17.0",\n    ],\n)\n'
)


def test_the_package_an_install_script_installs_from_a_subfolder_pins_the_framework(tmp_path: Path) -> None:
    # review4 #18, om-ai-lab/VLM-R1: setup.sh `cd src/open-r1-multimodal` + `pip install -e ".[dev]"`; its setup.py pins trl
    setup_sh = '# conda activate vlm-r1\n\ncd src/open-r1-multimodal # our edited copy\npip install -e ".[dev]"\npip install wandb==0.18.3\n'
    files = {"setup.sh": setup_sh, "src/open-r1-multimodal/setup.py": SUB_SETUP, "requirements.txt": "trl>=0.14.0\n"}
    cfg = repo(tmp_path, files, "run_scripts/args.yaml", HF)
    pin = P.pins(str(cfg))["trl"]
    assert (pin.version, pin.constraint, pin.line) == ("0.17.0", "==0.17.0", 7)
    assert pin.where == "src/open-r1-multimodal/setup.py:7, installed by setup.sh:3"
    # must not: the same sub-folder package that no install line installs
    cfg = repo(tmp_path, {"src/open-r1-multimodal/setup.py": SUB_SETUP, "requirements.txt": "trl>=0.14.0\n"}, "run_scripts/args.yaml", HF)
    assert P.pins(str(cfg))["trl"].constraint == ">=0.14.0"


def test_the_nearest_package_above_the_launched_script_wins_over_the_repository_root(tmp_path: Path) -> None:
    launcher = "#!/bin/bash\ntorchrun --nproc_per_node 8 \\\n    src/open-r1-multimodal/src/open_r1/grpo.py --config run_scripts/args.yaml\n"
    files = {
        "run_scripts/run_grpo.sh": launcher,
        "src/open-r1-multimodal/setup.py": SUB_SETUP,
        "src/open-r1-multimodal/src/open_r1/grpo.py": "from trl import GRPOTrainer\n",
        "requirements.txt": "trl==0.14.0\n",
    }
    cfg = repo(tmp_path, files, "run_scripts/args.yaml", HF)
    pin = P.pins(str(cfg))["trl"]
    assert pin.version == "0.17.0"
    assert pin.where == "src/open-r1-multimodal/setup.py:7, the package of the script run by run_scripts/run_grpo.sh line 2"
    # must not: a script with no package of its own below the root keeps the root's pin
    plain = {**files, "run_scripts/run_grpo.sh": launcher.replace("src/open-r1-multimodal/src/open_r1/grpo.py", "train/grpo.py"), "train/grpo.py": "x = 1\n"}
    cfg = repo(tmp_path, plain, "run_scripts/args.yaml", HF)
    assert P.pins(str(cfg))["trl"].where == "requirements.txt:1"


def test_a_torch_pin_narrows_a_transformers_torch_range_to_the_releases_that_admit_it(tmp_path: Path) -> None:
    from pytest_goblin.frameworks.history import reading

    # review4 #27, databrickslabs/dolly requirements.txt:5 and :7
    reqs = "accelerate>=0.16.0,<1\ntransformers[torch]>=4.28.1,<5\ntorch>=1.13.1,<2\n"
    cfg = repo(tmp_path, {"requirements.txt": reqs}, "training/trainer.yaml", "model_name_or_path: EleutherAI/pythia-2.8b\nbf16: true\n")
    got = reading("transformers 5.25.0", str(cfg))
    assert got is not None and (got.version, got.assumed, got.spec) == ("4.47.1", False, "transformers>=4.28.1,<5")
    assert got.source.startswith("requirements.txt:2; the torch pin torch>=1.13.1,<2 (requirements.txt:3) excludes each transformers release")
    assert 'transformers 4.48.0 wheel METADATA: Requires-Dist: torch>=2.0; extra == "torch"' in got.source and "None" not in got.source
    exact = repo(tmp_path, {"requirements.txt": reqs.replace("torch>=1.13.1,<2", "torch==1.13.1+cu117")}, "t.yaml", "bf16: true\n")
    assert P.pins(str(exact))["transformers"].cap == "<=4.47.1"
    # must not: without the [torch] extra pip does not weigh transformers' torch requirement; a torch pin the newest admits
    for body in (reqs.replace("[torch]", ""), reqs.replace("torch>=1.13.1,<2", "torch>=2.2,<2.5")):
        cfg = repo(tmp_path, {"requirements.txt": body}, "t.yaml", "bf16: true\n")
        pin = P.pins(str(cfg))["transformers"]
        assert pin.cap == "" and pin.capped_by == ""
        got = reading("transformers 5.25.0", str(cfg))
        assert got is not None and got.version == "4.57.6" and got.source == "requirements.txt:2"


def test_the_torch_requirement_table_records_the_wheels_own_metadata() -> None:
    from pytest_goblin.frameworks.torchreq import _table

    rows = _table()["transformers"]["releases"]
    assert rows["4.47.1"]["spec"] == "" and rows["4.48.0"]["spec"] == ">=2.0" and rows["4.37.2"]["spec"] == "!=1.12.0,>=1.11"
    assert all(len(r["sha256"]) == 64 and r["wheel"].startswith("transformers-") for r in rows.values())


def test_a_tokenizers_pin_narrows_an_open_transformers_range_to_the_releases_that_admit_it(tmp_path: Path) -> None:
    from pytest_goblin.frameworks.history import reading

    # review7b #35, sahil280114/codealpaca requirements.txt:5 and :8: transformers 4.34 on requires tokenizers>=0.14
    reqs = "numpy\nfire\nopenai\nwandb\ntransformers>=4.26.1\ntorch\nsentencepiece\ntokenizers==0.12.1\n"
    cfg = repo(tmp_path, {"requirements.txt": reqs}, "train.yaml", "model_name_or_path: huggyllama/llama-7b\nbf16: true\n")
    pin = P.pins(str(cfg))["transformers"]
    assert (pin.cap, pin.constraint) == ("<=4.33.3", ">=4.26.1")
    got = reading("transformers 5.25.0", str(cfg))
    assert got is not None and (got.version, got.assumed, got.spec) == ("4.33.3", False, "transformers>=4.26.1")
    assert got.source.startswith("requirements.txt:5; the tokenizers pin tokenizers==0.12.1 (requirements.txt:8) excludes each transformers release")
    assert "transformers 4.34.1 wheel METADATA: Requires-Dist: tokenizers<0.15,>=0.14" in got.source and "None" not in got.source
    # the same pair in a pyproject's dependencies
    toml = '[project]\nname = "x"\ndependencies = [\n  "transformers>=4.26.1",\n  "tokenizers==0.12.1",\n]\n'
    assert P.pins(str(repo(tmp_path, {"pyproject.toml": toml}, "t.yaml", "bf16: true\n")))["transformers"].cap == "<=4.33.3"
    # ... and on one README install line; not a README's tokenizers pin of another section further down
    line = "## Setup\n\n```bash\npip install 'transformers>=4.26.1' tokenizers==0.12.1\n```\n"
    assert P.pins(str(repo(tmp_path, {"README.md": line}, "t.yaml", "bf16: true\n")))["transformers"].cap == "<=4.33.3"
    apart = "## Setup\n\n```bash\npip install 'transformers>=4.26.1'\n```\n\n## Data generation\n\nUses the old tokenizer.\n\n```bash\npip install tokenizers==0.12.1\n```\n"
    assert P.pins(str(repo(tmp_path, {"README.md": apart}, "t.yaml", "bf16: true\n")))["transformers"].cap == ""
    # an upper bound alone narrows as well; a bounded range the newest 4.3x admits
    for body, cap in (("transformers>=4.30\ntokenizers<0.19\n", "<=4.39.3"), ("transformers>=4.30,<4.50\ntokenizers>=0.13,<0.14\n", "<=4.33.3")):
        assert P.pins(str(repo(tmp_path, {"requirements.txt": body}, "t.yaml", "bf16: true\n")))["transformers"].cap == cap
    # must not: a tokenizers pin the newest release admits keeps today's reading; a tokenizers pin of another
    # requirements file (a data-generation environment) or of docs/ is not the run's install
    for files in (
        {"requirements.txt": "tokenizers>=0.14\ntransformers>=4.40\n"},
        {"requirements.txt": "transformers>=4.26.1\n", "requirements-datagen.txt": "tokenizers==0.12.1\n"},
        {"requirements.txt": "transformers>=4.26.1\n", "docs/requirements.txt": "tokenizers==0.12.1\ntransformers>=4.26.1\n"},
    ):
        cfg = repo(tmp_path, files, "t.yaml", "bf16: true\n")
        pin = P.pins(str(cfg))["transformers"]
        assert pin.cap == "" and pin.capped_by == ""
        got = reading("transformers 5.25.0", str(cfg))
        assert (
            got is not None
            and got.version == "5.25.0"
            and got.source == "requirements.txt:" + ("2" if "tokenizers>=0.14" in files["requirements.txt"] else "1")
        )


def test_the_co_pin_table_records_the_wheels_own_metadata() -> None:
    from pytest_goblin.frameworks.copins import _table

    entry = _table()["transformers"]
    rows = entry["releases"]
    assert entry["dep"] == "tokenizers"
    assert rows["4.33.3"]["spec"] == "!=0.11.3,<0.14,>=0.11.1" and rows["4.34.1"]["spec"] == "<0.15,>=0.14" and rows["4.40.2"]["spec"] == "<0.20,>=0.19"
    assert all(len(r["sha256"]) == 64 and r["wheel"].startswith("transformers-") for r in rows.values())


def test_a_transformers_pin_narrows_an_open_trl_range_to_the_releases_that_admit_it(tmp_path: Path) -> None:
    from pytest_goblin.frameworks.history import reading

    # trl 0.20.0's wheel METADATA requires transformers>=4.53.2, 0.19.1's >=4.51.0: pip pairs trl 0.19.1 with 4.52.4
    reqs = "transformers==4.52.4\ntrl>=0.8.6\n"
    cfg = repo(tmp_path, {"requirements.txt": reqs}, "dpo.yaml", "model_name_or_path: Qwen/Qwen2.5-0.5B\nbeta: 0.1\n")
    pin = P.pins(str(cfg))["trl"]
    assert (pin.cap, pin.constraint) == ("<=0.19.1", ">=0.8.6")
    got = reading("trl 1.16.0 (DPOConfig)", str(cfg))
    assert got is not None and (got.version, got.assumed) == ("0.19.1", False)
    assert "the transformers pin transformers==4.52.4 (requirements.txt:1) excludes each trl release from 0.20.0 on" in got.source
    assert "Requires-Dist: transformers>=4.53.2" in got.source and "None" not in got.source
    # a transformers range narrowed by tokenizers (to 4.33.3) narrows TRL in turn: 0.12.2 requires only transformers<4.47.0
    chain = "transformers>=4.26.1\ntokenizers==0.12.1\ntrl>=0.7.11,<0.12\n"
    assert P.pins(str(repo(tmp_path, {"requirements.txt": chain}, "t.yaml", "beta: 0.1\n")))["trl"].cap == "<=0.10.1"
    # must not: a transformers range the newest TRL admits; an exact trl pin; a transformers pin of another file
    for files in (
        {"requirements.txt": "transformers>=4.40\ntrl>=0.8.6\n"},
        {"requirements.txt": "transformers==4.52.4\ntrl==0.8.6\n"},
        {"requirements.txt": "trl>=0.8.6\n", "requirements-eval.txt": "transformers==4.52.4\n"},
    ):
        pin = P.pins(str(repo(tmp_path, files, "t.yaml", "beta: 0.1\n")))["trl"]
        assert pin.cap == "" and pin.capped_by == ""


def test_an_unpinned_trl_is_read_at_the_newest_release_the_transformers_pin_admits(tmp_path: Path) -> None:
    """review13b #21 (fe1ixxu/ALMA install_alma.sh: `pip install transformers==4.51.1` ... `pip install trl`): trl 1.16.0
    cannot be installed beside 4.51.1 (its METADATA: transformers>=4.56.2); 0.19.1's transformers>=4.51.0 admits it."""
    from pytest_goblin.frameworks.history import reading

    cfg = repo(tmp_path, {"requirements.txt": "transformers==4.51.1\ntrl\npeft\n"}, "dpo.yaml", "model_name_or_path: Qwen/Qwen2.5-0.5B\nbeta: 0.1\n")
    pin = P.pins(str(cfg))["trl"]
    assert (pin.unpinned, pin.version, pin.cap, pin.line) == (True, "0.19.1", "<=0.19.1", 2)
    got = reading("trl 1.16.0 (DPOConfig)", str(cfg))
    assert got is not None and (got.version, got.assumed, got.spec) == ("0.19.1", True, "")
    assert "requirements.txt:2 asks for trl with no version" in got.source and "excludes each trl release from 0.20.0 on" in got.source
    assert "None" not in got.note() and got.note().startswith("trl 0.19.1 assumed: ")
    # an install script's separate commands: said to hold for one resolve only
    script = "pip install transformers==4.51.1\npip install peft==0.13.0\npip install datasets\npip install trl\n"
    pin = P.pins(str(repo(tmp_path, {"install.sh": script}, "t.yaml", "beta: 0.1\n")))["trl"]
    assert pin.version == "0.19.1" and "a separate later `pip install trl` takes the newest trl" in pin.capped_by
    # must not: the file never asks for trl; a transformers pin the newest trl admits; trl in prose, not an install line;
    # trl in another requirements file
    for files in (
        {"requirements.txt": "transformers==4.51.1\npeft\n"},
        {"requirements.txt": "transformers==4.57.1\ntrl\n"},
        {"install.sh": "pip install transformers==4.51.1\necho trl is next\n"},
        {"requirements.txt": "transformers==4.51.1\n", "requirements-rl.txt": "trl\n"},
    ):
        assert "trl" not in P.pins(str(repo(tmp_path, files, "t.yaml", "beta: 0.1\n")))


def test_a_readme_version_table_row_pins_the_framework(tmp_path: Path) -> None:
    # review15b #27, choucaicai/drpo-align README.md:15-19: `pip list`'s layout in the install block, no `==`
    listing = "## Installation\n\n2. Install request environment\n```\ntransformers                      4.44.0\naccelerate                        0.33.0\nbitsandbytes                      0.41.0\n```\n"
    cfg = repo(tmp_path, {"README.md": listing}, "dpo.yaml", "model_name_or_path: x/y\nbeta: 0.1\n")
    pin = P.pins(str(cfg))["transformers"]
    assert (pin.version, pin.constraint, pin.where, pin.line) == ("4.44.0", "==4.44.0", "the README's table row, README.md:5", 5)
    assert P.exact_pins(str(cfg), "beta: 0.1\n")["bitsandbytes"].constraint == "==0.41.0"
    # a Markdown table whose header names a version column
    table = "## Environment\n\n| package | version |\n|---|---|\n| `transformers` | 4.44.0 |\n| torch | 2.4.0 |\n"
    pin = P.pins(str(repo(tmp_path, {"README.md": table}, "t.yaml", "bf16: true\n")))["transformers"]
    assert (pin.version, pin.where) == ("4.44.0", "the README's table row, README.md:5")


def test_readme_tables_that_are_no_version_table_pin_nothing(tmp_path: Path) -> None:
    for readme in (
        # benchmark results: no version column, more cells
        "## Results\n\n| model | score |\n|---|---|\n| transformers | 4.44 |\n",
        "| package | version | note |\n|---|---|---|\n| transformers | 4.44.0 | tested |\n",
        # a range, not one release
        "| package | version |\n|---|---|\n| transformers | >=4.40 |\n",
        # a code block holding other text beside the rows (a log)
        "```\nEpoch 1 done\ntransformers   4.44.0\n```\n",
        # a row in prose, outside a block or table
        "transformers                      4.44.0\n",
    ):
        assert "transformers" not in P.pins(str(repo(tmp_path, {"README.md": readme}, "t.yaml", "bf16: true\n"))), readme
