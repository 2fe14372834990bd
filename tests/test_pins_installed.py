"""Framework versions a repository's install steps state (review5, issue 23): a release branch named in an install line
(`torchtune # release/0.5.0`, `@release/0.5.0`), and the install scripts a README or another install script names
(`setup/setup.sh` -> `bash setup/setup_llama_factory.sh`: a clone, then `git checkout <commit>`)."""

from __future__ import annotations

import json
from pathlib import Path

from pytest_goblin.formats.record import parse_record
from pytest_goblin.frameworks import pins as P

from .test_pins_stated import TUNE, repo

ONE_PASS = "# ONE-PASS\n\nRequired\n```python\ntorchtune # release/0.5.0 !!!\n```\nThen train.\n"


def test_a_release_branch_named_in_an_install_line_pins_that_release(tmp_path: Path) -> None:
    # review5 #11, kk97111/ONE-PASS README.md:55 `torchtune # release/0.5.0 !!!` in the install block
    cfg = repo(tmp_path, {"README.md": ONE_PASS}, "3B_full.yaml", TUNE)
    pin = P.pins(str(cfg))["torchtune"]
    assert (pin.version, pin.constraint, pin.where) == ("0.5.0", "==0.5.0", "README.md:5")
    assert "release branch release/0.5.0" in pin.spec
    for line in ("pip install git+https://github.com/pytorch/torchtune.git@release/0.5.0", "git clone -b release/0.5.0 https://github.com/pytorch/torchtune"):
        cfg = repo(tmp_path, {"README.md": f"```\n{line}\n```\n"}, "3B_full.yaml", TUNE)
        assert P.pins(str(cfg))["torchtune"].version == "0.5.0", line
    record, ok = parse_record(repo(tmp_path, {"README.md": ONE_PASS}, "3B_full.yaml", TUNE))
    fv = record["framework_version"]
    assert ok and isinstance(fv, dict)
    assert (fv["version"], fv["source"], fv["assumed"]) == ("0.5.0", "README.md:5", False)
    assert "None" not in json.dumps(fv)


def test_a_release_branch_in_prose_or_of_another_package_is_not_a_pin(tmp_path: Path) -> None:
    bodies = (
        "torchtune's release/0.5.0 branch is old; we use main.\n",  # prose, not an install line
        "```\nvllm # release/0.5.0\n```\n",  # another package's branch
        "```\npip install git+https://github.com/pytorch/torchtune.git@release-notes\n```\n",
        "```\ntorchtune # see release/0.5.0 notes below\n```\n",  # words between the comment mark and the branch
    )
    for body in bodies:
        cfg = repo(tmp_path, {"README.md": body}, "3B_full.yaml", TUNE)
        assert "torchtune" not in P.pins(str(cfg)), body


LF = "model_name_or_path: meta-llama/Llama-3.1-8B-Instruct\nstage: sft\nfinetuning_type: full\nper_device_train_batch_size: 1\nbf16: true\n"
FOVER_README = "# FoVer\n\n## Setup\n\nPlease refer to [setup/setup.sh](https://github.com/psunlpgroup/FoVer/setup/setup.sh) for details.\n"
FOVER_SETUP = "source $CONDA_SH\n\n# LLM training\nbash setup/setup_llama_factory.sh\n\npip install vllm==0.6.4\n"
FOVER_LF = (
    "conda env create -f setup/environment_llama_factory.yml\nconda activate lf\n\n# install LLaMA-Factory\n"
    "git clone https://github.com/hiyouga/LLaMA-Factory.git ../LLaMA-Factory-FoVer\ncd ../LLaMA-Factory-FoVer\n\n"
    'git checkout 4a5d0f0\npip install -e ".[torch,metrics]"\n'
)


def test_an_install_script_the_readme_names_and_the_script_it_runs_pin_the_framework(tmp_path: Path) -> None:
    # review5 #14/#15, psunlpgroup/FoVer: README.md:5 links setup/setup.sh; its line 4 runs setup/setup_llama_factory.sh,
    # which clones LLaMA-Factory (line 5) and checks out 4a5d0f0 (line 8); the config is in a sibling folder
    files = {"README.md": FOVER_README, "setup/setup.sh": FOVER_SETUP, "setup/setup_llama_factory.sh": FOVER_LF}
    cfg = repo(tmp_path, files, "llama_factory_config/llama_sft.yaml", LF)
    pin = P.pins(str(cfg))["llamafactory"]
    assert (pin.kind, pin.line) == ("commit", 8)
    # 4a5d0f0 is a commit of LLaMA-Factory's history before its rewrite: today's main line holds it as 63752fc
    # (`git describe --tags 63752fc` at ff6d4d1: v0.9.2-15), so it is placed (commit_releases.json `rewritten`)
    assert pin.where.startswith("setup/setup_llama_factory.sh:8; placed by https://github.com/hiyouga/LLaMA-Factory history at ff6d4d1, where it is 63752fc")
    assert pin.where.endswith(", named by setup/setup.sh:4, named by README.md:5")
    assert "commit 4a5d0f0 (15 commits after v0.9.2, before v0.9.3)" in pin.spec
    record, ok = parse_record(cfg)
    fv = record["framework_version"]
    assert ok and isinstance(fv, dict)
    assert str(fv["source"]).startswith("setup/setup_llama_factory.sh:8; placed by")
    assert "None" not in json.dumps(fv)
    # a tag checkout in the script it runs is that release
    files["setup/setup_llama_factory.sh"] = FOVER_LF.replace("git checkout 4a5d0f0", "git checkout v0.9.2")
    pin = P.pins(str(repo(tmp_path, files, "llama_factory_config/llama_sft.yaml", LF)))["llamafactory"]
    assert (pin.version, pin.constraint) == ("0.9.2", "==0.9.2")


def test_a_script_no_readme_names_or_named_for_evaluation_or_outside_the_tree_is_not_read(tmp_path: Path) -> None:
    cases = (
        {"setup/setup_llama_factory.sh": FOVER_LF},  # nothing names it
        {"README.md": "Run [scripts/eval_setup.sh](scripts/eval_setup.sh) to evaluate.\n", "scripts/eval_setup.sh": FOVER_LF},  # an evaluation script
        {"README.md": "See ../setup/setup_llama_factory.sh\n", "setup/setup_llama_factory.sh": FOVER_LF},  # a path leaving the README's folder
        {
            "README.md": FOVER_README,
            "setup/setup.sh": "# bash setup/setup_llama_factory.sh\npip install vllm==0.6.4\n",
            "setup/setup_llama_factory.sh": FOVER_LF,
        },  # commented out
        {"README.md": FOVER_README, "setup/setup.sh": FOVER_SETUP, "setup/setup_llama_factory.sh": FOVER_LF.replace("git checkout 4a5d0f0", "echo done")},
    )
    for files in cases:
        cfg = repo(tmp_path, files, "llama_factory_config/llama_sft.yaml", LF)
        assert "llamafactory" not in P.pins(str(cfg)), files


SCRIPT = (
    "from transformers import Trainer, TrainingArguments\n\n"
    "args = TrainingArguments(output_dir='o', per_device_train_batch_size=1, fp16=True)\n"
    "trainer = Trainer(model=None, args=args)\ntrainer.train()\n"
)
WIZARD = (
    "# WizardCoder\n\nTo reproduce our fine-tuning, please follow the following steps:\n"
    "1. According to the instructions of [Llama-X](https://github.com/AetherCortex/Llama-X), install the environment. "
    "(Note: `deepspeed==0.9.2` and `transformers==4.29.2`)\n"
    "2. Replace the `train.py` with the `train_wizardcoder.py` in our repo (`src/train_wizardcoder.py`)\n"
)


def test_a_readme_above_the_script_that_names_it_pins_by_its_environment_prose(tmp_path: Path) -> None:
    # review5 #30, nlpxucan/WizardLM WizardCoder/README.md:129-130 above WizardCoder/src/train_wizardcoder.py
    cfg = repo(tmp_path, {"WizardCoder/README.md": WIZARD}, "WizardCoder/src/train_wizardcoder.py", SCRIPT)
    got = P.pins(str(cfg))
    assert (got["transformers"].version, got["transformers"].where) == ("4.29.2", "WizardCoder/README.md:4")
    assert (got["deepspeed"].version, got["deepspeed"].constraint) == ("0.9.2", "==0.9.2")
    fv = parse_record(cfg)[0]["framework_version"]
    assert isinstance(fv, dict) and (fv["version"], fv["source"], fv["assumed"]) == ("4.29.2", "WizardCoder/README.md:4", False)


def test_a_readme_above_that_names_another_script_pins_nothing(tmp_path: Path) -> None:
    for readme in (WIZARD.replace("train_wizardcoder.py", "train_other.py"), WIZARD.replace("train_wizardcoder.py", "my_train_wizardcoder.py")):
        cfg = repo(tmp_path, {"WizardCoder/README.md": readme}, "WizardCoder/src/train_wizardcoder.py", SCRIPT)
        assert "transformers" not in P.pins(str(cfg)), readme
    # a README that names the script in one section and quotes an install line in another (goblin's own README: an
    # example `trl==0.8.6` in its "framework version" section, examples/ files listed in another) pins nothing
    split = (
        "# Tool\n\n## Pins\n\nWe read an environment line such as `transformers==4.29.2` from a README.\n\n"
        "## Examples\n\n| `src/train_wizardcoder.py` | passes |\n"
    )
    cfg = repo(tmp_path, {"WizardCoder/README.md": split}, "WizardCoder/src/train_wizardcoder.py", SCRIPT)
    assert "transformers" not in P.pins(str(cfg))


GRPO = (
    "# trl grpo --config grpo.yaml\nmodel_name_or_path: Qwen/Qwen3-8B\noptim: adamw_torch\nlearning_rate: 1.0e-6\nwarmup_ratio: 0.1\n"
    "per_device_train_batch_size: 8\ngradient_accumulation_steps: 8\nnum_generations: 24\nmax_prompt_length: 1024\n"
    "max_completion_length: 1024\noutput_dir: ./outputs\nbf16: true\nuse_vllm: true\n"
)


def _keys(path: Path) -> dict[str, str]:
    from pytest_goblin import blockers
    from pytest_goblin.formats import load_config
    from pytest_goblin.hardware import get_hardware

    found = blockers.findings(load_config(path), get_hardware("mi300x"))
    return {str(f.key): f.message for f in found if f.rule_id.startswith("blocker.keys_")}


def test_an_unpinned_trl_recipe_s_keys_are_judged_at_the_release_its_record_is_read_at(tmp_path: Path) -> None:
    # review5 #22, jonathanlu31/final_project recipes/qwen3_8b/grpo.yaml: the record (and the split) read trl at the newest
    # release with the file's keys, below the newest goblin knows, while its keys were judged at the newest
    from pytest_goblin.frameworks.history import newest, reading

    cfg = repo(tmp_path, {}, "recipes/grpo.yaml", GRPO)
    read = reading("trl", str(cfg))
    assert read is not None and read.assumed and read.version != newest("trl")
    got = _keys(cfg)
    for message in got.values():
        assert f"assumed trl {read.version}," in message and f"trl {newest('trl')}" not in message and "None" not in message
    assert "warmup_ratio" not in got  # a TrainingArguments key: the transformers paired with that TRL is not known
    fv = parse_record(cfg)[0]["framework_version"]
    assert isinstance(fv, dict) and fv["version"] == read.version


def test_a_pinned_trl_recipe_s_keys_are_judged_at_its_pin(tmp_path: Path) -> None:
    from pytest_goblin.frameworks.history import newest

    top = newest("trl")
    cfg = repo(tmp_path, {"requirements.txt": f"trl=={top}\ntransformers==4.57.1\n"}, "recipes/grpo.yaml", GRPO)
    got = _keys(cfg)
    assert "max_prompt_length" in got and f"trl=={top}" in got["max_prompt_length"]
