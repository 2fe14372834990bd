"""review7b #24/#36: a README install line under a data-generation / evaluation section is not the run's environment,
and Markdown fences pair as CommonMark pairs them (a `` ```shell `` line inside an unclosed block does not close it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin import blockers
from pytest_goblin.formats import load_config
from pytest_goblin.frameworks import pins
from pytest_goblin.hardware import get_hardware

from .repo_files import write_tree

HF = "model_name_or_path: meta-llama/Meta-Llama-3-8B\nper_device_train_batch_size: 4\ngradient_accumulation_steps: 4\nbf16: true\n"
CUDA = "pip install vllm-dev.whl --extra-index-url https://download.pytorch.org/whl/cu121\n"


def _readme(cuda_section: str, unclosed: bool) -> str:
    # an example block the author never closes (review7b #24 README.md:291), then blocks fenced with an info string
    example = '## Dataset\n\n```python\n{"a": 1}\n\nstart the server:\n\n```shell\nserve x\n```\n\n' if unclosed else ""
    return (
        "# Project\n\n## Installation\n\n```shell\npip install vllm==0.8.5.post1\n```\n\n"
        + example
        + f"## {cuda_section}\n\n### Step one\n\n```shell\n{CUDA}```\n\n## Training\n\n```shell\naccelerate launch train.py\n```\n"
    )


def _cuda_index(tmp_path: Path, readme: str) -> list[str]:
    path = write_tree(tmp_path, {"README.md": readme, "sft.yaml": HF}) / "sft.yaml"
    return [f.message for f in blockers.findings(load_config(path), get_hardware("mi300x")) if f.rule_id == "blocker.torch_from_cuda_index"]


@pytest.mark.parametrize("section", ["Data generation", "Evaluating models", "Generate data from DeepSeek-R1"])
@pytest.mark.parametrize("unclosed", [False, True])
def test_a_cuda_index_under_a_data_generation_or_evaluation_section_is_not_the_run_s(tmp_path: Path, section: str, unclosed: bool) -> None:
    assert _cuda_index(tmp_path, _readme(section, unclosed)) == []
    rows = _readme(section, unclosed).splitlines()
    at = next(i for i, r in enumerate(rows, 1) if "cu121" in r)
    assert any(first <= at <= last and "not about training" in why for first, last, why in pins._set_aside("\n".join(rows)))


@pytest.mark.parametrize("unclosed", [False, True])
def test_a_cuda_index_under_the_training_install_section_still_fires(tmp_path: Path, unclosed: bool) -> None:
    (msg,) = _cuda_index(tmp_path, _readme("Training setup", unclosed))
    assert "cu121" in msg and "README.md" in msg and "None" not in msg


def test_fences_pair_as_commonmark_does() -> None:
    rows = ["```python", "x", "```shell", "y", "```", "# Heading", "````", "```", "````", "~~~", "```", "~~~ tail", "~~~"]
    assert pins._fence_lines(rows) == [True, False, False, False, True, False, True, False, True, True, False, False, True]
    assert pins._sections(rows)[5] == "Heading"  # outside every block once the fences pair
    assert pins._sections(["```python", "```sh", "# not a heading", "```"])[2] == ""


# review7b #24: a GRPO recipe in server mode (TRL 0.18.0's default, grpo_config.py:95) whose launch line passes
# `--vllm_mode colocate` on a backslash continuation: TrlParser parses the flags over the file (trl 0.18.0
# trl/scripts/utils.py:186-208), so the run colocates
GRPO = (
    "model_name_or_path: Qwen/Qwen2.5-1.5B-Instruct\nper_device_train_batch_size: 2\ngradient_accumulation_steps: 2\n"
    "bf16: true\nnum_generations: 4\nmax_completion_length: 256\nuse_vllm: true\nvllm_mode: server\n"
)


def _launch(tmp_path: Path, command: str) -> Path:
    files = {"recipes/grpo.yaml": "# GRPOTrainer\n" + GRPO, "run.sh": "#!/bin/bash\nexport CUDA_VISIBLE_DEVICES=0,1\n" + command}
    return write_tree(tmp_path / "repo", files, git=True) / "recipes" / "grpo.yaml"


CONTINUED = (
    "ACCELERATE_LOG_LEVEL=info \\\n"
    "accelerate launch --num_processes 2 \\\n"
    "    src/grpo.py --config recipes/grpo.yaml \\\n"
    "    --vllm_mode colocate --vllm-gpu-memory-utilization=0.4 --log_completions\n"
)


def test_a_continued_launch_lines_flags_reach_the_recipes_values(tmp_path: Path) -> None:
    from pytest_goblin.blockers import launch_config_flags
    from pytest_goblin.options import build_settings
    from pytest_goblin.service import audit_file

    path = _launch(tmp_path, CONTINUED)
    got = launch_config_flags(load_config(path))
    assert got["vllm_mode"] == ("colocate", "run.sh:6, the launch line's `--vllm_mode colocate`")
    assert got["vllm_gpu_memory_utilization"][0] == 0.4 and got["log_completions"][0] is True
    assert "num_processes" not in got  # the launcher's own flag, before the script
    result = audit_file(path, build_settings({"target": "mi300x"}), shown_as="recipes/grpo.yaml")
    s = result.report.rollout if result.report is not None else None
    assert s is not None and s.vllm_mode == "colocate" and s.vllm_reserved_gb is not None, s
    assert s.values["vllm_mode"] == "colocate (run.sh:6, the launch line's `--vllm_mode colocate`)"
    assert s.values["vllm_gpu_memory_utilization"].startswith("0.4 (run.sh:6")
    assert "None" not in (result.report.reason if result.report else "")


@pytest.mark.parametrize(
    "command",
    [
        # the line ends without a backslash: the next line is another command
        "accelerate launch --num_processes 2 src/grpo.py --config recipes/grpo.yaml\necho --vllm_mode colocate\n",
        # a value set at run time: no line sets $MODE before the launch (one that does is read: test_script_flags)
        'accelerate launch --num_processes 2 src/grpo.py --config recipes/grpo.yaml --vllm_mode "$MODE"\n',
        # the launcher's own word, before the script
        "accelerate launch --num_processes 2 --vllm_mode colocate src/grpo.py --config recipes/grpo.yaml\n",
        # another config passed with --config: these flags are that run's
        "accelerate launch --num_processes 2 src/grpo.py --config recipes/other.yaml --vllm_mode colocate # recipes/grpo.yaml\n",
    ],
)
def test_flags_that_are_not_this_recipes_leave_its_value(tmp_path: Path, command: str) -> None:
    from pytest_goblin.blockers import launch_config_flags

    path = _launch(tmp_path, command)
    assert "vllm_mode" not in launch_config_flags(load_config(path))
